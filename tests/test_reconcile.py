"""`chainorg reconcile` on ledgers built here with planted duplicates, conflicts and zombies:
every count checked exactly, the probable matches against the planted ones."""

from __future__ import annotations

import csv
import subprocess
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from graph.company_names import normalised_name
from graph.durable import audit_log
from graph.errors import ConfigInvalid
from graph.reconciliation_rules import Settings
from graph.stores.networkx.state import snapshot
from loaders.ledger import load_ledger
from loaders.reconcile import STEPS, Source, reconcile_ledgers
from tests.conftest import CHAINORG, credit_code

C = {n: credit_code(100 + n) for n in range(1, 12)}
FOUND_ON = date(2026, 12, 1)


def write_rows(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def ledgers(tmp_path: Path) -> list[Source]:
    economy = write_rows(tmp_path / "economy.csv", ["统一社会信用代码", "企业名称", "园区", "从业人数", "经营状态"], [
        [C[1], "麓谷信息科技（集团）有限公司", "麓谷", "120", "存续"],
        [C[2], "星沙数据服务有限公司", "星沙", "45", "ACTIVE"],
        [C[3], "岳麓智能制造有限公司", "麓谷", "80", "ACTIVE"],
        [C[4], "湘江软件有限公司", "麓谷", "60", "ACTIVE"],
        [C[5], "星辰科技有限公司", "麓谷", "30", "ACTIVE"],
        [C[6], "星辰科技（台州）有限公司", "麓谷", "12", "ACTIVE"],
        [C[9], "空壳网络有限公司", "麓谷", "0", "ACTIVE"],
        [C[10], "无址传媒有限公司", "麓谷", "8", "ACTIVE"],
    ])  # fmt: skip
    cyberspace = write_rows(tmp_path / "cyberspace.csv", ["credit_code", "name", "park", "employees", "office"], [
        [C[1], "麓谷信息科技(集团)有限公司", "麓谷", "120", ""],  # the same code: the same enterprise
        [C[2], "星沙数据服务有限公司", "星沙", "50", ""],  # another head count: a conflict
        [C[9], "空壳网络有限公司", "麓谷", "0", ""],
        [C[10], "无址传媒有限公司", "麓谷", "", "无"],  # no office: a zombie
    ], encoding="gbk")  # fmt: skip
    commerce = Workbook()
    sheet = commerce.active
    assert sheet is not None
    for row in (
        ["统一社会信用代码", "企业名称", "园区", "地址"],
        ["91430100BROKEN0001", "长沙市岳麓智能制造股份有限公司", "麓谷", ""],  # broken code, same company: probable
        ["", "湘江软件有限公司长沙分公司", "麓谷", ""],  # a branch: another enterprise, never merged
        ["", "星辰科技公司", "星沙", ""],  # like 星辰科技, but in another park: not merged
        ["", "无名之辈有限公司", "麓谷", ""],  # like nobody: rejected
    ):
        sheet.append(row)
    commerce.save(tmp_path / "commerce.xlsx")
    survey = write_rows(tmp_path / "survey.csv", ["统一社会信用代码", "企业名称", "园区", "从业人数", "经营状态"], [
        [C[2], "星沙数据服务有限公司", "星沙", "48", "在业"],  # the survey's head count wins
        [C[7], "走访新发现科技有限公司", "星沙", "15", "在业"],  # only the survey found it
        [C[8], "已注销贸易有限公司", "麓谷", "3", "注销"],  # deregistered: a zombie
    ])  # fmt: skip
    return [
        Source.of(f"经信局={economy}"), Source.of(f"网信办={cyberspace}"),
        Source.of(str(tmp_path / "commerce.xlsx")), Source.of(f"走访={survey}", survey=True),
    ]  # fmt: skip


def test_the_four_rounds_count_exactly(ledgers: list[Source], tmp_path: Path) -> None:
    outcome = reconcile_ledgers(ledgers, tmp_path / "clean", Settings(), FOUND_ON, tmp_path / "report.xlsx")
    assert outcome.rows_by_round == {1: 16, 2: 3}
    assert outcome.summary() == "from 19 rows in 4 ledgers, 10 enterprises after deduplication, 3 zombies"
    assert (outcome.duplicates, outcome.probable_merged, outcome.from_survey_only) == (5, 1, 2)
    codes = outcome.ledger["credit_code"].to_list()
    assert codes == sorted(C[n] for n in range(1, 11))  # 星辰科技 and 星辰科技（台州）both stay
    merged = {(p.source, p.row, p.credit_code) for p in outcome.probable if p.merged}
    assert merged == {("commerce.xlsx", 2, C[3])}
    assert {(r.source, r.row) for r in outcome.rejected} == {
        ("commerce.xlsx", 3),
        ("commerce.xlsx", 4),
        ("commerce.xlsx", 5),
    }
    not_merged = {(p.row, p.credit_code) for p in outcome.probable if not p.merged}
    assert (4, C[5]) in not_merged and all(p.credit_code != C[4] for p in outcome.probable)  # the branch: no candidate
    [conflict] = [c for c in outcome.conflicts if c.field == "employees"]
    assert conflict.credit_code == C[2] and conflict.winner == "48" and conflict.winner_source == "走访"
    assert set(conflict.values) == {("经信局", "45"), ("网信办", "50"), ("走访", "48")}
    zombies = {z.credit_code: z.reasons for z in outcome.zombies}
    assert set(zombies) == {C[8], C[9], C[10]}
    assert zombies[C[8]] == ("登记状态为注销",) and zombies[C[10]] == ("无实际办公场所",)


def test_the_clean_ledger_loads_and_keeps_zombies_with_their_day(ledgers: list[Source], tmp_path: Path) -> None:
    reconcile_ledgers(ledgers, tmp_path / "clean", Settings(), FOUND_ON)
    table = load_ledger(tmp_path / "clean").dataset.enterprises
    records = {e.credit_code: e for e in table.records(range(len(table)))}
    assert len(records) == 10 and records[C[8]].status.value == "ZOMBIE" and records[C[8]].status_since == FOUND_ON
    assert records[C[2]].employees == 48 and records[C[1]].name == "麓谷信息科技（集团）有限公司"


def test_the_same_inputs_give_the_same_ledger_byte_for_byte(ledgers: list[Source], tmp_path: Path) -> None:
    for out in ("one", "two"):
        reconcile_ledgers(ledgers, tmp_path / out, Settings(), FOUND_ON)
    assert (tmp_path / "one" / "enterprises.csv").read_bytes() == (tmp_path / "two" / "enterprises.csv").read_bytes()


def test_the_report_has_a_sheet_for_each_list(ledgers: list[Source], tmp_path: Path) -> None:
    outcome = reconcile_ledgers(ledgers, tmp_path / "clean", Settings(), FOUND_ON, tmp_path / "report.xlsx")
    book = load_workbook(tmp_path / "report.xlsx")
    assert book.sheetnames == ["合并结果", "疑似重复", "字段冲突", "僵尸企业", "拒收行"]
    sizes = [book[name].max_row - 1 for name in book.sheetnames]
    assert sizes == [5, len(outcome.probable), len(outcome.conflicts), 3, 3]  # 合并结果: made of 2 rows or more
    assert book["拒收行"]["A1"].value == "来源" and book["字段冲突"]["B1"].value == "字段"


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ("麓谷信息科技（集团）有限公司", "麓谷信息科技(集团)有限公司", True),  # full-width brackets
        ("麓谷信息科技股份有限公司", "麓谷信息科技有限公司", True),  # another legal form
        ("长沙市麓谷信息科技有限公司", "麓谷信息科技有限公司", True),  # a leading city
        ("湖南省长沙市麓谷信息科技有限公司", "麓谷信息科技有限公司", False),  # two places: only the first goes
        ("麓谷信息科技有限公司长沙分公司", "麓谷信息科技有限公司", False),  # a branch
        ("星辰科技（台州）有限公司", "星辰科技有限公司", False),  # a bracketed place
        ("长沙市有限公司", "有限公司", False),  # nothing of its own would remain
    ],
)
def test_names_are_normalised_as_the_rules_say(one: str, other: str, same: bool) -> None:
    assert (normalised_name(one) == normalised_name(other)) is same


def test_a_merge_never_joins_two_valid_codes(tmp_path: Path) -> None:
    ledger = write_rows(tmp_path / "a.csv", ["统一社会信用代码", "企业名称", "园区"], [
        [C[1], "同名科技有限公司", "麓谷"], [C[2], "同名科技有限公司", "麓谷"], ["", "同名科技股份有限公司", "麓谷"],
    ])  # fmt: skip
    outcome = reconcile_ledgers([Source.of(str(ledger))], tmp_path / "clean", Settings(), FOUND_ON)
    assert outcome.ledger.height == 2 and outcome.probable_merged == 0
    assert "同时像2家信用代码不同的企业" in outcome.rejected[0].reason


def test_settings_are_checked() -> None:
    assert Settings.from_mapping({"inactive_since": date(2024, 1, 1)}).inactive_since == date(2024, 1, 1)
    for table, says in (({"merge_at": 101}, "from 0 to 100"), ({"survey_wins": ["salary"]}, "not a column"),
                        ({"report_at": 95}, "not be above merge_at"), ({"colour": 1}, "no such setting")):  # fmt: skip
        with pytest.raises(ConfigInvalid, match=says):
            Settings.from_mapping(table)


def test_the_command_prints_the_rounds_and_the_summary(ledgers: list[Source], tmp_path: Path) -> None:
    names = [f"{s.name}={s.path}" for s in ledgers if not s.survey]
    survey = next(s for s in ledgers if s.survey)
    done = subprocess.run(
        [CHAINORG, "reconcile", *names, "--survey", f"{survey.name}={survey.path}", "--out", str(tmp_path / "clean"),
         "--report", str(tmp_path / "report.xlsx"), "--as-of", "2026-12-01"],
        capture_output=True, text=True, timeout=120, check=False, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "from 19 rows in 4 ledgers, 10 enterprises after deduplication, 3 zombies" in done.stdout
    assert "4 实地核查" in done.stdout and (tmp_path / "report.xlsx").is_file()
    again = subprocess.run([CHAINORG, "reconcile", *names, "--out", str(tmp_path / "clean")],
                           capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert again.returncode == 1 and "is not empty" in again.stderr


def test_a_reconciled_ledger_is_proposed_to_a_state_then_applied_as_one_change_set(
    folder: Path, tmp_path: Path
) -> None:
    ledger = write_rows(tmp_path / "survey.csv", ["统一社会信用代码", "企业名称", "园区", "从业人数", "经营状态"], [
        [credit_code(1), "企业1", "A", "50", "在业"],  # employees: a changed fact
        [credit_code(5), "企业5", "A", "", "注销"],  # deregistered: a new zombie
        [credit_code(40), "新登记企业", "B", "9", "在业"],  # not in the state: a new enterprise
        [credit_code(2), "企业2", "A", "", ""],  # as the state has it: no change
    ])  # fmt: skip
    words = [CHAINORG, "reconcile", str(ledger), "--state", str(folder), "--as-of", "2026-12-01"]
    shown = subprocess.run([*words, "--out", str(tmp_path / "one")], capture_output=True, text=True, timeout=120,
                           check=False)  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "1 new, 2 changed (1 becoming zombies): 3 changes; nothing written" in shown.stdout
    assert read_state_audit(folder) == 0
    applied = subprocess.run([*words, "--out", str(tmp_path / "two"), "--apply"], capture_output=True, text=True,
                             timeout=120, check=False)  # fmt: skip
    assert applied.returncode == 0 and "applied as change set 1" in applied.stdout, applied.stderr
    assert read_state_audit(folder) == 3
    table = snapshot(folder).table
    records = {e.credit_code: e for e in table.records(range(len(table)))}
    assert records[credit_code(1)].employees == 50 and records[credit_code(5)].status.value == "ZOMBIE"
    assert records[credit_code(40)].name == "新登记企业" and records[credit_code(2)].category.value == "GAMES"


def read_state_audit(folder: Path) -> int:
    return audit_log(folder, None, None, 0, 1).total


def test_progress_is_told_each_step(ledgers: list[Source], tmp_path: Path) -> None:
    steps: list[str] = []
    reconcile_ledgers(ledgers, tmp_path / "clean", Settings(), FOUND_ON, tmp_path / "r.xlsx", steps.append)
    assert len(steps) == len(ledgers) + STEPS
    assert steps[0] == "read 经信局: 8 rows" and steps[-3:] == [
        "reconciled: 10 enterprises",
        f"clean ledger written and checked: {tmp_path / 'clean'}",
        "report written",
    ]


def test_apply_needs_a_state_and_a_missing_state_is_refused_before_work(ledgers: list[Source], tmp_path: Path) -> None:
    ledger = str(ledgers[0].path)
    done = subprocess.run([CHAINORG, "reconcile", ledger, "--out", str(tmp_path / "a"), "--apply"],
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 2 and "give it with --state" in done.stderr
    missing = subprocess.run([CHAINORG, "reconcile", ledger, "--out", str(tmp_path / "b"), "--state", str(tmp_path)],
                             capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert missing.returncode == 1 and "holds no state" in missing.stderr and not (tmp_path / "b").exists()

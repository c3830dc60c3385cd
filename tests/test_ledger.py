from collections.abc import Callable
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from graph.model import Category, OrgKind, Status
from loaders.errors import LedgerInvalid, LedgerIssue
from loaders.ledger import load_ledger
from tests.conftest import contents, credit_code

ENTERPRISE_HEADER = [
    "credit_code",
    "name",
    "park",
    "building",
    "category",
    "formal_members",
    "status",
    "registered_on",
    "cluster",
]


def good_tables() -> dict[str, list[list[str]]]:
    return {
        "enterprises": [
            ENTERPRISE_HEADER,
            [credit_code(1), "甲公司", "长沙高新区", "麓谷企业广场", "网游", "5", "在营", "2019-03-01", ""],
            [credit_code(2), "乙公司", "长沙高新区", "麓谷企业广场", "GAMES", "1", "ACTIVE", "2019/03/02", "C1"],
            [credit_code(3), "丙公司", "长沙高新区", "", "", "", "", "", ""],
        ],
        "organizations": [
            ["id", "name", "kind", "parent_id", "established_on"],
            ["P", "党工委", "党工委", "", ""],
            ["C1", "联组", "CLUSTER", "P", ""],
            ["B1", "甲公司党支部", "党支部", "C1", "2020年1月1日"],
        ],
        "coverage": [["org_id", "credit_code"], ["B1", credit_code(1)]],
        "links": [["source_id", "target_id", "kind", "since"], ["D1", "B1", "结对", "2020-02-02"]],
        "departments": [["id", "name"], ["D1", "党群工作局"]],
        "instructors": [["id", "name", "credit_code", "since"], ["I1", "张三", credit_code(3), ""]],
    }


def rejected(write_ledger: Callable[..., Path], tables: dict) -> list[LedgerIssue]:
    with pytest.raises(LedgerInvalid) as caught:
        load_ledger(write_ledger(tables))
    return caught.value.issues


def test_a_reference_to_a_bad_code_is_reported_too(write_ledger: Callable[..., Path]) -> None:
    issues = rejected(write_ledger, edit("enterprises", 1, "credit_code", credit_code(1)[:-1] + "0"))
    assert [(i.source, i.row, i.column) for i in issues] == [
        ("coverage.csv", 2, "credit_code"),
        ("enterprises.csv", 2, "credit_code"),
    ]


def test_a_good_ledger_loads_every_table(write_ledger: Callable[..., Path]) -> None:
    loaded = load_ledger(write_ledger(good_tables()))
    dataset = loaded.dataset
    assert loaded.warnings == []
    enterprises = dataset.enterprises.records(range(3))
    assert [e.credit_code for e in enterprises] == [credit_code(n) for n in (1, 2, 3)]
    first, second, third = enterprises
    assert (first.category, first.formal_members, first.status, first.registered_on) == (
        Category.GAMES,
        5,
        Status.ACTIVE,
        date(2019, 3, 1),
    )
    assert (second.cluster_id, second.registered_on) == ("C1", date(2019, 3, 2))
    assert (third.category, third.status, third.building, third.registered_on) == (
        Category.OTHER,
        Status.ACTIVE,
        None,
        None,
    )
    assert [o.kind for o in dataset.organizations] == [OrgKind.PARK_COMMITTEE, OrgKind.CLUSTER, OrgKind.BRANCH]
    assert dataset.organizations[2].established_on == date(2020, 1, 1)
    assert len(dataset.covers) == len(dataset.links) == len(dataset.assignments) == 1


def test_chinese_headers_and_gbk_load_the_same(write_ledger: Callable[..., Path]) -> None:
    chinese = {"credit_code": "统一社会信用代码", "name": "企业名称", "park": "园区", "building": "楼宇",
               "category": "行业类别", "formal_members": "正式党员数", "status": "经营状态",
               "registered_on": "注册日期", "cluster": "党群联组"}  # fmt: skip
    tables = good_tables()
    tables["enterprises"][0] = [chinese[column] for column in ENTERPRISE_HEADER]
    assert contents(load_ledger(write_ledger(tables, "gbk")).dataset) == contents(
        load_ledger(write_ledger(good_tables())).dataset
    )


def test_a_workbook_loads_like_the_csv_folder(write_ledger: Callable[..., Path], tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in good_tables().items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(tmp_path / "ledger.xlsx")
    assert contents(load_ledger(tmp_path / "ledger.xlsx").dataset) == contents(
        load_ledger(write_ledger(good_tables())).dataset
    )


def test_unknown_columns_are_warnings_not_errors(write_ledger: Callable[..., Path]) -> None:
    tables = good_tables()
    tables["departments"] = [["id", "name", "备注"], ["D1", "党群工作局", "随便"]]
    assert load_ledger(write_ledger(tables)).warnings == [
        LedgerIssue("departments.csv", 1, "备注", None, "unknown column, ignored")
    ]


def edit(table: str, row: int, column: str, value: str) -> dict:
    tables = good_tables()
    tables[table][row][tables[table][0].index(column)] = value
    return tables


def extra(table: str, row: list[str]) -> dict:
    tables = good_tables()
    tables[table].append(row)
    return tables


@pytest.mark.parametrize(
    ("tables", "issue"),
    [
        (edit("enterprises", 2, "credit_code", credit_code(2)[:-1] + "0"),
         ("enterprises.csv", 3, "credit_code", "check character")),
        (edit("enterprises", 2, "category", "农业"), ("enterprises.csv", 3, "category", "unknown Category")),
        (edit("enterprises", 1, "formal_members", "-2"), ("enterprises.csv", 2, "formal_members", "whole number")),
        (edit("enterprises", 3, "registered_on", "2021-13-01"), ("enterprises.csv", 4, "registered_on", "not a real date")),
        (edit("enterprises", 1, "name", ""), ("enterprises.csv", 2, "name", "required, but empty")),
        (edit("enterprises", 2, "credit_code", credit_code(1)), ("enterprises.csv", 3, "credit_code", "duplicate credit code, first at row 2")),
        (edit("enterprises", 2, "cluster", "NOPE"), ("enterprises.csv", 3, "cluster", "no organization has this id")),
        (edit("enterprises", 2, "cluster", "B1"), ("enterprises.csv", 3, "cluster", "not a CLUSTER")),
        (edit("organizations", 3, "parent_id", "NOPE"), ("organizations.csv", 4, "parent_id", "no organization has this id")),
        (edit("organizations", 2, "parent_id", "B1"), ("organizations.csv", 3, "parent_id", "a CLUSTER cannot be part of a BRANCH")),
        (extra("organizations", ["B1", "又一个", "党支部", "C1", ""]),
         ("organizations.csv", 5, "id", "duplicate organization id, first at row 4")),
        (edit("organizations", 3, "kind", "小组"), ("organizations.csv", 4, "kind", "unknown OrgKind")),
        (edit("coverage", 1, "org_id", "NOPE"), ("coverage.csv", 2, "org_id", "no organization has this id")),
        (edit("coverage", 1, "org_id", "C1"), ("coverage.csv", 2, "org_id", "does not cover enterprises directly")),
        (edit("coverage", 1, "credit_code", credit_code(9)), ("coverage.csv", 2, "credit_code", "no enterprise has this credit code")),
        (edit("links", 1, "source_id", "NOPE"), ("links.csv", 2, "source_id", "no organization, department or enterprise")),
        (edit("links", 1, "target_id", "D1"), ("links.csv", 2, "target_id", "two different ends")),
        (edit("links", 1, "kind", "friends"), ("links.csv", 2, "kind", "unknown LinkKind")),
        (extra("departments", ["B1", "同名部门"]), ("departments.csv", 3, "id", "an organization has the id")),
        (edit("instructors", 1, "credit_code", credit_code(9)), ("instructors.csv", 2, "credit_code", "no enterprise")),
        (extra("organizations", [credit_code(3), "同码支部", "党支部", "C1", ""]),
         ("organizations.csv", 5, "id", "an enterprise has the id")),
        (edit("instructors", 1, "id", "B1"), ("instructors.csv", 2, "id", "an organization has the id")),
        (edit("enterprises", 1, "name", "\u200b\u200b"), ("enterprises.csv", 2, "name", "required, but empty")),
        (edit("enterprises", 1, "name", "甲\x00"), ("enterprises.csv", 2, "name", "control characters")),
        (edit("organizations", 3, "established_on", "9999-12-31"), ("organizations.csv", 4, "established_on", "between 1900-01-01 and 2100-12-31")),
    ],
)  # fmt: skip
def test_each_bad_input_is_named_and_nothing_loads(
    write_ledger: Callable[..., Path], tables: dict, issue: tuple
) -> None:
    issues = rejected(write_ledger, tables)
    source, row, column, reason = issue
    assert [(i.source, i.row, i.column) for i in issues] == [(source, row, column)]
    assert reason in issues[0].reason


def test_every_error_is_reported_at_once_in_file_and_row_order(write_ledger: Callable[..., Path]) -> None:
    tables = edit("enterprises", 1, "formal_members", "x")
    tables["enterprises"][3][ENTERPRISE_HEADER.index("status")] = "歇业"
    tables["coverage"][1][0] = "NOPE"
    issues = rejected(write_ledger, tables)
    assert [(i.source, i.row) for i in issues] == [("coverage.csv", 2), ("enterprises.csv", 2), ("enterprises.csv", 4)]
    assert issues[1].value == "x"


def test_a_missing_required_column_is_one_clear_error(write_ledger: Callable[..., Path]) -> None:
    tables = good_tables()
    tables["enterprises"] = [row[1:] for row in tables["enterprises"]]
    issues = rejected(write_ledger, tables)
    assert [(i.source, i.row, i.reason) for i in issues if i.source == "enterprises.csv"] == [
        ("enterprises.csv", 1, "missing required column(s): credit_code")
    ]


def test_extra_cells_beyond_the_header_are_an_error(write_ledger: Callable[..., Path]) -> None:
    tables = good_tables()
    tables["departments"][1].append("stray")
    assert [(i.row, i.reason) for i in rejected(write_ledger, tables)] == [(2, "3 cells, the header has 2")]


def test_no_enterprises_table_is_an_error(write_ledger: Callable[..., Path]) -> None:
    tables = good_tables()
    del tables["enterprises"]
    assert "no enterprises table" in rejected(write_ledger, tables)[0].reason


def test_errors_read_as_sentences() -> None:
    issue = LedgerIssue("enterprises.csv", 7, "正式党员数", "-1", "must be a whole number ≥ 0")
    assert str(issue) == "enterprises.csv, row 7, column 正式党员数 = '-1': must be a whole number ≥ 0"


@pytest.mark.parametrize(
    ("value", "reason"),
    [("甲\x00公司", "control characters"), ("名" * 50_000, "a cell over 128 KB")],
)
def test_control_characters_and_huge_cells_are_row_errors(
    write_ledger: Callable[..., Path], value: str, reason: str
) -> None:
    issues = rejected(write_ledger, edit("enterprises", 1, "name", value))
    assert [(i.source, i.row, i.column) for i in issues] == [("enterprises.csv", 2, "name")]
    assert reason in issues[0].reason and len(issues[0].value) < 300


def test_a_joint_branch_of_fewer_than_two_enterprises_is_a_warning(write_ledger: Callable[..., Path]) -> None:
    tables = extra("organizations", ["J1", "联合党支部", "联合党支部", "C1", ""])
    tables["coverage"].append(["J1", credit_code(2)])
    warnings = load_ledger(write_ledger(tables)).warnings
    assert [w.reason for w in warnings] == ["joint branch J1 covers 1 enterprise(s); a joint branch joins 2 or more"]

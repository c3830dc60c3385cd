"""`chainorg reconcile` at province size: 1,000,000 rows across five ledgers.

Generates (once, under data/bench/reconcile/) five ledgers of 400,000 enterprises: the
economy bureau's, four other departments' and a survey, with rows that repeat a credit
code, planted probable matches (the code missing or broken, the name re-spelt: full-width
brackets, another legal form, a leading city; the same park) and distractors (no code, a
name like another company's but in another park, or a bracketed place that makes it
another company; companies with near names and codes of their own). Runs the command
as a user would and prints its seconds and peak memory (goals: ≤ 60 s, ≤ 4 GB), and the
precision (goal ≥ 0.99) and recall (goal ≥ 0.95) of the merged probable matches against
the planted ones.

    .venv/bin/python bench/reconcile.py [--enterprises 400000]
"""

from __future__ import annotations

import argparse
import csv
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from openpyxl import load_workbook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scale import credit_codes

CHARACTERS = "麓谷星沙岳麓湘江梅溪洋湖金霞望城高新创智云图数智汇联科信恒达华宇博远中天鼎盛凯瑞泰和嘉禾"
INDUSTRIES = ("科技", "信息", "网络", "数据", "传媒", "软件", "智能", "电子")
FORMS = ("有限公司", "股份有限公司", "有限责任公司")
PARKS = tuple(f"园区{n}" for n in range(10))
SOURCES = ("经信局", "网信办", "商务局", "金融局")
HEADER = ["统一社会信用代码", "企业名称", "园区", "从业人数", "经营状态"]


def write_ledgers(folder: Path, enterprises: int, seed: int = 24) -> list[tuple[str, int, str]]:
    """The five ledgers; returns the planted probable matches (source, row, true credit code)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    codes = credit_codes(enterprises, rng).astype(str)
    letters = np.array(list(CHARACTERS))
    stems = ["".join(row) for row in letters[rng.integers(0, len(letters), (enterprises, 4))]]
    names = [f"{stem}{INDUSTRIES[i % 8]}{n}{FORMS[i % 3]}" for n, (stem, i) in
             enumerate(zip(stems, rng.integers(0, 24, enterprises).tolist(), strict=True))]  # fmt: skip
    parks = rng.integers(0, len(PARKS), enterprises)
    employees = rng.integers(0, 300, enterprises)
    planted: list[tuple[str, int, str]] = []

    def row(n: int) -> list[str]:
        return [codes[n], names[n], PARKS[parks[n]], str(employees[n]), "存续"]

    with (folder / "经信局.csv").open("w", encoding="utf-8", newline="") as file:  # every enterprise, with its code
        writer = csv.writer(file)
        writer.writerow(HEADER)
        writer.writerows(row(n) for n in range(enterprises))
    per_source = (1_000_000 - enterprises) // 4
    for source in (*SOURCES[1:], "走访"):
        picked = rng.choice(enterprises, per_source, replace=False)
        kinds = rng.random(per_source)
        with (folder / f"{source}.csv").open("w", encoding="utf-8", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(HEADER)
            for number, (n, kind) in enumerate(zip(picked.tolist(), kinds.tolist(), strict=True), start=2):
                cells = row(n)
                if kind < 0.01:  # planted: no code, the name re-spelt, the same park
                    cells[0] = "" if kind < 0.005 else codes[n][:17] + "?"
                    cells[1] = _respelt(names[n], number)
                    planted.append((source, number, codes[n]))
                elif kind < 0.015:  # a distractor: no code, the same name, another park
                    cells[0] = ""
                    cells[2] = PARKS[(parks[n] + 1) % len(PARKS)]
                elif kind < 0.02:  # a distractor: a bracketed place makes it another company
                    cells[0] = ""
                    cells[1] = (
                        names[n]
                        .replace(INDUSTRIES[0], INDUSTRIES[0] + "（台州）", 1)
                        .replace("有限", "（台州）有限", 1)
                    )
                writer.writerow(cells)
    return planted


def _respelt(name: str, number: int) -> str:
    variant = number % 3
    if variant == 0:
        return "长沙市" + name
    if variant == 1:  # another legal form
        for form, other in (
            ("股份有限公司", "有限公司"),
            ("有限责任公司", "股份有限公司"),
            ("有限公司", "股份有限公司"),
        ):
            if name.endswith(form):
                return name[: -len(form)] + other
    return name.translate(str.maketrans("()0123456789", "（）０１２３４５６７８９"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=400_000)
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "bench" / "reconcile")
    args = parser.parse_args()
    folder = args.data / str(args.enterprises)
    marker = folder / "planted.csv"
    if not marker.exists():
        print(f"generating five ledgers in {folder} ...", flush=True)
        planted = write_ledgers(folder, args.enterprises)
        with marker.open("w", encoding="utf-8", newline="") as file:
            csv.writer(file).writerows(planted)
    planted_set = {(s, int(r), c) for s, r, c in csv.reader(marker.open(encoding="utf-8"))}
    ledgers = [f"{s}={folder / (s + '.csv')}" for s in SOURCES]
    out, report = folder / "clean", folder / "report.xlsx"
    started = time.perf_counter()
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "chainorg"), "reconcile", *ledgers, "--survey", f"走访={folder / '走访.csv'}",
         "--out", str(out), "--report", str(report), "--as-of", "2026-12-01", "--force"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    if done.returncode != 0:
        print(done.stderr)
        return 1
    print(done.stdout.strip().splitlines()[-2])
    rows = sum(1 for ledger in folder.glob("*.csv") if ledger.name != "planted.csv" for _ in ledger.open()) - 5
    print(f"{rows:,} rows: {seconds:.1f} s (goal ≤ 60 s), peak memory {peak:.2f} GB (goal ≤ 4 GB)")
    sheet = load_workbook(report, read_only=True)["疑似重复"]
    merged = {(s, int(r), c) for s, r, _, c, _, _, _, m in sheet.iter_rows(min_row=2, values_only=True) if m == "是"}
    right = len(merged & planted_set)
    precision = right / len(merged) if merged else 0.0
    recall = right / len(planted_set) if planted_set else 0.0
    print(f"probable matches: {len(planted_set):,} planted, {len(merged):,} merged, {right:,} right: "
          f"precision {precision:.4f} (goal ≥ 0.99), recall {recall:.4f} (goal ≥ 0.95)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

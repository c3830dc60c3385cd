"""Writing a ledger as a folder of CSV files (UTF-8 with BOM, which Excel opens as such)."""

from __future__ import annotations

import csv
from pathlib import Path

from loaders.cells import neutralised
from loaders.tables import columns_of


def write_csv_ledger(tables: dict[str, list[dict[str, str]]], folder: Path) -> list[Path]:
    """One `<table>.csv` per table; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, records in tables.items():
        header = columns_of(records)
        path = folder / f"{name}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=header, restval="")
            writer.writeheader()
            writer.writerows({k: neutralised(v) if isinstance(v, str) else v for k, v in r.items()} for r in records)
        written.append(path)
    return written

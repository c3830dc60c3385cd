import codecs
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from loaders.errors import LedgerInvalid
from loaders.tables import decode, read_tables, table_name
from tests.conftest import credit_code, write_csv

CHINESE = [["统一社会信用代码", "企业名称", "园区"], [credit_code(1), "长沙星辰网络科技有限公司", "长沙高新区"]]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_encodings_are_detected(tmp_path: Path, encoding: str) -> None:
    write_csv(tmp_path / "企业.csv", CHINESE, encoding)
    table = read_tables(tmp_path)["enterprises"]
    assert table.header == CHINESE[0]
    assert table.records() == [(2, CHINESE[1])]


def test_bom_is_not_part_of_the_first_header() -> None:
    assert decode(codecs.BOM_UTF8 + "园区\n".encode(), "x.csv") == ("园区\n", [])


@pytest.mark.parametrize(("stem", "name"), [("enterprises", "enterprises"), ("党组织", "organizations"), ("Coverage", "coverage"), ("readme", None)])
def test_table_names(stem: str, name: str | None) -> None:
    assert table_name(stem) == name


def test_blank_rows_are_skipped_but_row_numbers_stay_true(tmp_path: Path) -> None:
    write_csv(tmp_path / "enterprises.csv", [["credit_code"], [], ["a"], ["", ""], ["b"]])
    assert read_tables(tmp_path)["enterprises"].records() == [(3, ["a"]), (5, ["b"])]


def test_unknown_files_are_ignored(tmp_path: Path) -> None:
    write_csv(tmp_path / "enterprises.csv", CHINESE)
    write_csv(tmp_path / "notes.csv", [["anything"]])
    assert set(read_tables(tmp_path)) == {"enterprises"}


def test_two_files_for_one_table_are_an_error(tmp_path: Path) -> None:
    write_csv(tmp_path / "enterprises.csv", CHINESE)
    write_csv(tmp_path / "企业.csv", CHINESE)
    with pytest.raises(LedgerInvalid, match="a second enterprises table"):
        read_tables(tmp_path)


def test_workbook_cells_become_text_with_sheet_row_numbers(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "enterprises"
    sheet.append(["credit_code", "employees", "registered_on", "key"])
    sheet.append([])
    sheet.append([credit_code(1), 12.0, datetime(2020, 5, 4), True])
    book.create_sheet("说明").append(["ignored"])
    path = tmp_path / "ledger.xlsx"
    book.save(path)
    table = read_tables(path)["enterprises"]
    assert table.source == "ledger.xlsx[enterprises]"
    assert table.records() == [(3, [credit_code(1), "12", "2020-05-04", "true"])]


@pytest.mark.parametrize(
    ("name", "reason"),
    [("ledger.txt", "not a folder of CSV files or an .xlsx workbook"), ("missing-folder", "no such file or folder"),
     ("missing.xlsx", "no such file or folder")],
)  # fmt: skip
def test_other_paths_are_rejected(tmp_path: Path, name: str, reason: str) -> None:
    path = tmp_path / name
    if name.endswith(".txt"):
        path.write_text("x")
    with pytest.raises(LedgerInvalid, match=reason):
        read_tables(path)


def test_a_damaged_workbook_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(LedgerInvalid, match="cannot open the workbook"):
        read_tables(path)

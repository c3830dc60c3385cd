import codecs
import os
import re
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from loaders.errors import LedgerInvalid
from loaders.tables import decode, read_tables, table_name
from tests.conftest import credit_code, records, write_csv

CHINESE = [["统一社会信用代码", "企业名称", "园区"], [credit_code(1), "长沙星辰网络科技有限公司", "长沙高新区"]]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_encodings_are_detected(tmp_path: Path, encoding: str) -> None:
    write_csv(tmp_path / "企业.csv", CHINESE, encoding)
    table = read_tables(tmp_path)["enterprises"]
    assert table.header == CHINESE[0]
    assert records(table) == [(2, CHINESE[1])]


def test_bom_is_not_part_of_the_first_header() -> None:
    assert decode(codecs.BOM_UTF8 + "园区\n".encode(), "x.csv") == ("园区\n", [])


@pytest.mark.parametrize(
    ("stem", "name"),
    [("enterprises", "enterprises"), ("党组织", "organizations"), ("Coverage", "coverage"), ("readme", None)],
)
def test_table_names(stem: str, name: str | None) -> None:
    assert table_name(stem) == name


def test_blank_rows_are_skipped_but_row_numbers_stay_true(tmp_path: Path) -> None:
    write_csv(tmp_path / "enterprises.csv", [["credit_code"], [], ["a"], ["", ""], ["b"]])
    assert records(read_tables(tmp_path)["enterprises"]) == [(3, ["a"]), (5, ["b"])]


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
    assert records(table) == [(3, [credit_code(1), "12", "2020-05-04", "true"])]


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


FOREIGN = {
    "big5": "臺北市資訊軟體股份有限公司,臺北園區\n高雄數據資訊股份有限公司,高雄園區\n",
    "shift_jis": "株式会社テストシステムズ,東京都港区\nソフトウェア開発株式会社,大阪府\n",
    "cp1252": "Société Générale Café,Zürich Straße\nÉtablissements Müller,Genève\n",
}


@pytest.mark.parametrize("encoding", FOREIGN)
def test_foreign_encodings_are_refused_not_read_as_mojibake(tmp_path: Path, encoding: str) -> None:
    (tmp_path / "enterprises.csv").write_bytes(("name,park\n" + FOREIGN[encoding] * 20).encode(encoding))
    with pytest.raises(LedgerInvalid, match="not UTF-8, UTF-16 or GBK") as refused:
        read_tables(tmp_path)
    assert "--encoding" in refused.value.issues[0].reason


def test_a_forced_encoding_reads_what_detection_refuses(tmp_path: Path) -> None:
    (tmp_path / "enterprises.csv").write_bytes(("name,park\n" + FOREIGN["big5"]).encode("big5"))
    assert records(read_tables(tmp_path, encoding="big5")["enterprises"])[0] == (
        2,
        ["臺北市資訊軟體股份有限公司", "臺北園區"],
    )


def test_an_unterminated_quote_names_the_row_where_it_opens(tmp_path: Path) -> None:
    (tmp_path / "enterprises.csv").write_text('name,park\n甲,A\n"乙,B\n丙,C\n丁,D\n', encoding="utf-8")
    with pytest.raises(LedgerInvalid) as refused:
        read_tables(tmp_path)
    assert [(i.row, i.reason) for i in refused.value.issues] == [
        (3, "a quoted cell opens in this row and is never closed")
    ]


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("folder", "is a folder, not a file"), ("fifo", "not a regular file (a FIFO, socket or device)"),
     ("dangling", "a symbolic link to nothing (dangling)"), ("loop", "cannot be read: Too many levels of symbolic links")],
)  # fmt: skip
def test_a_table_that_is_not_a_regular_file_is_a_clear_error(tmp_path: Path, kind: str, reason: str) -> None:
    table = tmp_path / "enterprises.csv"
    if kind == "folder":
        table.mkdir()
    elif kind == "fifo":
        os.mkfifo(table)
    elif kind == "dangling":
        table.symlink_to(tmp_path / "gone.csv")
    else:
        table.symlink_to(tmp_path / "enterprises.csv")
    with pytest.raises(LedgerInvalid) as refused:
        read_tables(tmp_path)
    assert [(i.source, i.reason) for i in refused.value.issues] == [("enterprises.csv", reason)]


def workbook(tmp_path: Path, fill: Callable[[openpyxl.Workbook], None]) -> Path:
    book = openpyxl.Workbook()
    fill(book)
    path = tmp_path / "ledger.xlsx"
    book.save(path)
    return path


def test_a_formula_without_a_saved_value_is_an_error_naming_the_cell(tmp_path: Path) -> None:
    def fill(book: openpyxl.Workbook) -> None:
        sheet = book.active
        sheet.title = "enterprises"
        sheet.append(["credit_code", "employees"])
        sheet.append([credit_code(1), "=1+1"])

    with pytest.raises(LedgerInvalid) as refused:
        read_tables(workbook(tmp_path, fill))
    issue = refused.value.issues[0]
    assert (issue.source, issue.row, issue.column) == ("ledger.xlsx[enterprises]", 2, "B2")
    assert "formula" in issue.reason


def test_merged_cells_hidden_sheets_and_a_table_below_row_one(tmp_path: Path) -> None:
    def fill(book: openpyxl.Workbook) -> None:
        sheet = book.active
        sheet.title = "enterprises"
        sheet["B3"], sheet["C3"] = "name", "park"
        sheet["B4"], sheet["C4"] = "甲", "长沙高新区"
        sheet["B5"] = "乙"
        sheet.merge_cells("C4:C5")
        sheet["E3"] = None
        sheet.sheet_state = "hidden"
        book.create_sheet("说明")

    table = read_tables(workbook(tmp_path, fill))["enterprises"]
    assert table.header == ["name", "park"]
    assert records(table) == [(4, ["甲", "长沙高新区"]), (5, ["乙", "长沙高新区"])]
    reasons = [w.reason for w in table.warnings]
    assert any("merged cells C4:C5" in r for r in reasons) and any("hidden sheet" in r for r in reasons)


@pytest.mark.timeout(60)  # refused from its declared size, not after reading a million rows
def test_a_sheet_declaring_a_huge_size_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "huge.xlsx"
    small = workbook(tmp_path, lambda book: setattr(book.active, "title", "enterprises"))
    with zipfile.ZipFile(small) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.startswith("xl/worksheets/"):
                data = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048577"', data)
            target.writestr(item, data)
    with pytest.raises(LedgerInvalid, match="the limit is 1,048,576 rows"):
        read_tables(path)

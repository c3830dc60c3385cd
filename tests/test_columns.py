"""Whole-column parsers: values where cells are good, a reason where they are not."""

from datetime import date

import polars as pl
import pytest

from graph.model import Category, OrgKind, Status
from loaders import columns
from tests.conftest import credit_code


def one(parser: columns.Parser, cell: str) -> tuple[object, str | None]:
    parsed = columns.parse_series(parser, pl.Series([cell], dtype=pl.String))
    return parsed["value"][0], parsed["reason"][0]


@pytest.mark.parametrize("text", ["2021-07-01", "2021/07/01", "2021/7/1", "2021年7月1日"])
def test_dates_in_three_spellings(text: str) -> None:
    assert one(columns.day, text) == (date(2021, 7, 1), None)


@pytest.mark.parametrize(
    ("text", "reason"),
    [("2021-02-30", "not a real date"), ("01/07/2021", "YYYY-MM-DD"), ("昨天", "YYYY"), ("2021-7/1", "YYYY"),
     ("1800-01-01", "between 1900-01-01 and 2100-12-31")],
)  # fmt: skip
def test_bad_dates(text: str, reason: str) -> None:
    value, why = one(columns.day, text)
    assert value is None and reason in why


@pytest.mark.parametrize(
    ("text", "number"), [("0", 0), ("12", 12), ("12.0", 12), ("1,200", 1200), ("1,000,000", 1_000_000), ("007", 7)]
)
def test_counts(text: str, number: int) -> None:
    assert one(columns.count(10_000_000), text) == (number, None)


@pytest.mark.parametrize("text", ["-1", "1.5", "三", "1e3", ",,1,2,,", "1,20", "12,0000"])
def test_counts_reject_negatives_fractions_words_and_stray_commas(text: str) -> None:
    assert one(columns.count(100), text) == (None, "must be a whole number ≥ 0")


@pytest.mark.parametrize("text", ["101", "9" * 5000, "99999999999999999999999"])
def test_counts_have_a_ceiling_and_never_overflow(text: str) -> None:
    assert one(columns.count(100), text) == (None, "must be at most 100")


@pytest.mark.parametrize(("text", "value"), [("是", True), ("否", False), ("TRUE", True), ("0", False), ("Y", True)])
def test_flags(text: str, value: bool) -> None:
    assert one(columns.flag, text) == (value, None)


@pytest.mark.parametrize(
    ("enum", "text", "member"),
    [
        (OrgKind, "联合党支部", OrgKind.JOINT_BRANCH),
        (OrgKind, "行业（产业链）党委", OrgKind.CHAIN_COMMITTEE),
        (OrgKind, "general_branch", OrgKind.GENERAL_BRANCH),
        (Category, "网游", Category.GAMES),
        (Status, "僵尸企业", Status.ZOMBIE),
    ],
)
def test_choices_by_english_or_chinese_name(enum: type, text: str, member: object) -> None:
    assert one(columns.choice(enum), text) == (member.name, None)


def test_unknown_choice_lists_the_allowed_ones() -> None:
    assert "expected one of ACTIVE, ZOMBIE, CLOSED" in one(columns.choice(Status), "歇业")[1]


@pytest.mark.parametrize(
    ("text", "reason"),
    [(credit_code(1)[:-1] + "0", "check character"), ("123", "must be 18 characters, got 3"),
     ("91430100MA4L0000IO", "characters not allowed in a credit code: IO")],
)  # fmt: skip
def test_credit_codes_give_the_reason(text: str, reason: str) -> None:
    value, why = one(columns.credit_code, text)
    assert value is None and reason in why


def test_a_column_mixes_good_bad_and_empty_cells() -> None:
    cells = pl.Series([credit_code(1).lower(), None, "X", credit_code(2)], dtype=pl.String)
    parsed = columns.parse_series(columns.credit_code, cells)
    assert parsed["value"].to_list() == [credit_code(1), None, None, credit_code(2)]
    assert [reason is None for reason in parsed["reason"]] == [True, True, False, True]

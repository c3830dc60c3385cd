from datetime import date

import pytest

from graph.model import Category, OrgKind, Status
from loaders import fields


@pytest.mark.parametrize("text", ["2021-07-01", "2021/07/01", "2021/7/1", "2021年7月1日", " 2021-7-1 "])
def test_dates_in_three_spellings(text: str) -> None:
    assert fields.day(text) == date(2021, 7, 1)


@pytest.mark.parametrize(("text", "reason"), [("2021-02-30", "not a real date"), ("01/07/2021", "YYYY-MM-DD"), ("昨天", "YYYY")])
def test_bad_dates(text: str, reason: str) -> None:
    with pytest.raises(fields.FieldError, match=reason):
        fields.day(text)


@pytest.mark.parametrize(("text", "number"), [("0", 0), ("12", 12), ("12.0", 12), ("1,200", 1200)])
def test_counts(text: str, number: int) -> None:
    assert fields.count(text) == number


@pytest.mark.parametrize("text", ["-1", "1.5", "三", "1e3"])
def test_counts_reject_negatives_fractions_and_words(text: str) -> None:
    with pytest.raises(fields.FieldError, match="whole number"):
        fields.count(text)


def test_stars_run_to_five() -> None:
    assert fields.stars("5") == 5
    with pytest.raises(fields.FieldError, match="0 to 5"):
        fields.stars("6")


@pytest.mark.parametrize(("text", "value"), [("是", True), ("否", False), ("TRUE", True), ("0", False), ("Y", True)])
def test_flags(text: str, value: bool) -> None:
    assert fields.flag(text) is value


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
    assert fields.choice(enum)(text) is member


def test_unknown_choice_lists_the_allowed_ones() -> None:
    with pytest.raises(fields.FieldError, match="expected one of ACTIVE, ZOMBIE, CLOSED"):
        fields.choice(Status)("歇业")

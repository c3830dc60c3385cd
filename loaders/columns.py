"""Parsers for whole ledger columns: each turns a column of text cells into typed values
and, for every bad cell, the reason shown to the user. No Python call per cell on a
valid column: a column is checked with a few vectorised passes, and only the rows that
fail are looked at one by one, to word their reasons.

Cells arrive stripped, with empty cells as nulls; an empty cell is never an error here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import numpy as np
import polars as pl

from graph.credit_code import InvalidCreditCode, check_characters_hold, validate_credit_code
from graph.enterprises import fixed_width
from loaders.vocabulary import ENUM_NAMES, FALSE_WORDS, TRUE_WORDS, normalise

FIRST_DAY, LAST_DAY = "1900-01-01", "2100-12-31"
_DATE = r"^(\d{4})(?:-(\d{1,2})-(\d{1,2})|/(\d{1,2})/(\d{1,2})|年(\d{1,2})月(\d{1,2})日)$"
_CODE = r"^[0-9A-HJ-NP-RTUW-Y]{18}$"


@dataclass(frozen=True)
class Parsed:
    values: pl.Series  # typed values, null where the cell is empty or bad
    reasons: pl.Series  # text, null where the cell is fine


Parser = Callable[[pl.Series], Parsed]


def nulls(length: int) -> pl.Series:
    """A text column of `length` empty cells, without a Python object per cell."""
    return pl.repeat(None, length, dtype=pl.String, eager=True)


def _result(values: pl.Series, bad: pl.Series, reason: str | pl.Series) -> Parsed:
    """Values with nulls where `bad`, and `reason` for those rows."""
    frame = pl.DataFrame({"value": values, "bad": bad.fill_null(False)})
    out = frame.select(
        pl.when(pl.col("bad")).then(None).otherwise(pl.col("value")).alias("value"),
        pl.when(pl.col("bad")).then(pl.lit(reason)).otherwise(None).cast(pl.String).alias("reason"),
    )
    return Parsed(out["value"], out["reason"])


def _folded(cells: pl.Series) -> pl.Series:
    """Cells folded as `vocabulary.normalise` folds a word (case, bracket width, separators)."""
    return (
        cells.str.to_lowercase()
        .str.replace_all("（", "(", literal=True)
        .str.replace_all("）", ")", literal=True)
        .str.replace_all(r"[ \t_\-\u3000]", "")
    )


def text(cells: pl.Series) -> Parsed:
    return Parsed(cells, nulls(len(cells)))


def credit_code(cells: pl.Series) -> Parsed:
    """Unified social credit codes, trimmed and upper-cased; the check character verified."""
    codes = cells.str.to_uppercase()
    shaped = codes.str.contains(_CODE).fill_null(False)
    valid = shaped.to_numpy().copy()
    if valid.any():
        valid[valid] = check_characters_hold(fixed_width(codes.filter(shaped), 18))
    bad = pl.Series(~valid) & cells.is_not_null()
    reasons = nulls(len(cells))
    if bad.any():
        failing = np.flatnonzero(bad.to_numpy())
        reasons = reasons.scatter(failing, [_why_not_a_code(cells[int(i)]) for i in failing])
    return _result(codes, bad, reasons)


def _why_not_a_code(cell: str) -> str:
    try:
        validate_credit_code(cell)
    except InvalidCreditCode as error:
        return str(error)
    return "not a credit code"


def count(most: int) -> Parser:
    """Whole numbers from 0 to `most`: `1200`, `1,200` and a spreadsheet's `12.0` are fine;
    `1.5`, `-1`, `1e3` and `,,1,2,,` are not."""

    def parse(cells: pl.Series) -> Parsed:
        shaped = cells.str.contains(r"^(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.0+)?$")
        digits = cells.str.replace_all(",", "", literal=True).str.replace(r"\.0+$", "").str.strip_chars_start("0")
        fits = digits.str.len_chars() <= len(str(most))
        number = pl.select(
            pl.when(shaped & fits).then(digits.replace("", "0")).cast(pl.Int64, strict=False)
        ).to_series()
        too_big = (shaped & ~fits) | (number > most)
        reasons = pl.select(
            pl.when(~shaped).then(pl.lit("must be a whole number ≥ 0"))
            .when(too_big).then(pl.lit(f"must be at most {most:,}"))
        ).to_series()  # fmt: skip
        return _result(number.cast(pl.Int32), reasons.is_not_null(), reasons)

    return parse


def day(cells: pl.Series) -> Parsed:
    """Dates spelled YYYY-MM-DD, YYYY/MM/DD or YYYY年M月D日, from 1900 to 2100."""
    parts = cells.str.extract_groups(_DATE).struct.unnest()
    month = parts.select(pl.coalesce("2", "4", "6").str.zfill(2)).to_series()
    dom = parts.select(pl.coalesce("3", "5", "7").str.zfill(2)).to_series()
    iso = pl.select(pl.concat_str([parts["1"], month, dom], separator="-")).to_series()
    dates = iso.str.to_date("%Y-%m-%d", strict=False)
    first, last = pl.lit(FIRST_DAY).str.to_date(), pl.lit(LAST_DAY).str.to_date()
    reasons = pl.select(
        pl.when(cells.is_not_null() & iso.is_null()).then(pl.lit("must be a date: YYYY-MM-DD, YYYY/MM/DD or YYYY年M月D日"))
        .when(iso.is_not_null() & dates.is_null()).then(pl.lit("not a real date"))
        .when((dates < first) | (dates > last)).then(pl.lit(f"must be between {FIRST_DAY} and {LAST_DAY}"))
    ).to_series()  # fmt: skip
    return _result(dates, reasons.is_not_null(), reasons)


def _mapped(cells: pl.Series, names: dict[str, object], dtype: pl.DataType, reason: str) -> Parsed:
    values = _folded(cells).replace_strict(names, default=None, return_dtype=dtype)
    return _result(values, cells.is_not_null() & values.is_null(), reason)


def flag(cells: pl.Series) -> Parsed:
    names: dict[str, object] = {**{w: True for w in TRUE_WORDS}, **{w: False for w in FALSE_WORDS}}
    return _mapped(cells, names, pl.Boolean, "must be yes or no (是/否, true/false, 1/0)")


def choice(enum: type[Enum]) -> Parser:
    """One of the enum's members by English or Chinese name; values are the member names."""
    names: dict[str, object] = {}
    for member in enum:
        names[normalise(member.name)] = member.name
        for chinese in ENUM_NAMES.get(enum, {}).get(member.name, ()):
            names[normalise(chinese)] = member.name
    allowed = ", ".join(member.name for member in enum)

    def parse(cells: pl.Series) -> Parsed:
        return _mapped(cells, names, pl.String, f"unknown {enum.__name__}; expected one of {allowed}")

    return parse

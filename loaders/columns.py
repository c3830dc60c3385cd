"""Parsers for whole ledger columns. A parser takes a lazy frame whose `cells` column
holds a column's text and returns one with `value` (typed, null where the cell is empty
or bad) and `reason` (why a cell is bad, null where it is fine). Each step is a named
column computed once, so polars evaluates no sub-expression twice; a table's columns are
collected together (`polars.collect_all`), in parallel and without a Python call per
cell. Only failing rows are looked at one by one, to word their reasons.

Cells arrive stripped, with empty cells as nulls; an empty cell is never an error here.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

import numpy as np
import polars as pl

from graph import rules
from graph.credit_code import why_not_a_code
from graph.enterprises import valid_codes
from loaders.vocabulary import ENUM_NAMES, FALSE_WORDS, TRUE_WORDS, normalise

_DATE = r"^(\d{4})(?:-(\d{1,2})-(\d{1,2})|/(\d{1,2})/(\d{1,2})|年(\d{1,2})月(\d{1,2})日)$"


CELLS, VALUE, REASON = "cells", "value", "reason"
Parser = Callable[[pl.LazyFrame], pl.LazyFrame]
_cells, _value, _reason = pl.col(CELLS), pl.col(VALUE), pl.col(REASON)


def parse_series(parser: Parser, cells: pl.Series) -> pl.DataFrame:
    """Run `parser` over one column: a frame of `value` and `reason`."""
    return parser(pl.LazyFrame({CELLS: cells})).collect()


def by_distinct(parser: Parser) -> Parser:
    """`parser` run once per distinct cell and joined back onto the rows: a column of few
    distinct values (a status, a count, a date) costs a hash join, not a parse per row."""

    def parse(frame: pl.LazyFrame) -> pl.LazyFrame:
        distinct = frame.select(_cells.unique()).collect().lazy()
        parsed = pl.concat([distinct, parser(distinct)], how="horizontal")
        return frame.join(parsed, on=CELLS, how="left", maintain_order="left").select(_value, _reason)

    return parse


def _checked(frame: pl.LazyFrame) -> pl.LazyFrame:
    """`value` nulled where there is a `reason`."""
    return frame.select(pl.when(_reason.is_null()).then(_value).alias(VALUE), _reason)


def text(frame: pl.LazyFrame) -> pl.LazyFrame:
    return frame.select(_cells.alias(VALUE), pl.lit(None, dtype=pl.String).alias(REASON))


def credit_code(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Unified social credit codes, trimmed and upper-cased; the check character verified."""
    codes = frame.select(_cells.str.to_uppercase().alias(VALUE))
    return _checked(codes.with_columns(_value.map_batches(_credit_code_reasons, return_dtype=pl.String).alias(REASON)))


def _credit_code_reasons(codes: pl.Series) -> pl.Series:
    """Why each code is not valid (null where it is): the check character over the whole
    column in numpy, and a Python call only for the failing rows, to word the reason."""
    failing = np.flatnonzero(~valid_codes(codes) & codes.is_not_null().to_numpy())
    reasons = pl.repeat(None, len(codes), dtype=pl.String, eager=True)
    if len(failing):
        reasons = reasons.scatter(failing, [why_not_a_code(codes[int(i)]) for i in failing])
    return reasons


def count(most: int) -> Parser:
    """Whole numbers from 0 to `most`: `1200`, `1,200` and a spreadsheet's `12.0` are fine;
    `1.5`, `-1`, `1e3` and `,,1,2,,` are not."""

    @by_distinct
    def parse(frame: pl.LazyFrame) -> pl.LazyFrame:
        shaped, digits = pl.col("shaped"), pl.col("digits")
        fits = digits.str.len_chars() <= len(str(most))
        number = pl.when(shaped & fits).then(digits.replace("", "0")).cast(pl.Int64, strict=False)
        return _checked(
            frame.select(
                _cells.str.contains(r"^(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.0+)?$").alias("shaped"),
                _cells.str.replace_all(",", "", literal=True).str.replace(r"\.0+$", "").str.strip_chars_start("0").alias("digits"),
            )
            .with_columns(fits.alias("fits"), number.alias("number"))
            .select(
                pl.col("number").cast(pl.Int32).alias(VALUE),
                pl.when(~shaped).then(pl.lit("must be a whole number ≥ 0"))
                .when(~pl.col("fits") | (pl.col("number") > most)).then(pl.lit(f"must be at most {most:,}"))
                .alias(REASON),
            )
        )  # fmt: skip

    return parse


@by_distinct
def day(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Dates spelled YYYY-MM-DD, YYYY/MM/DD or YYYY年M月D日, from 1900 to 2100."""
    parts = pl.col("parts").struct
    month = pl.coalesce(parts.field("2"), parts.field("4"), parts.field("6")).str.zfill(2)
    dom = pl.coalesce(parts.field("3"), parts.field("5"), parts.field("7")).str.zfill(2)
    iso, dates = pl.col("iso"), pl.col(VALUE)
    first, last = pl.lit(rules.FIRST_DAY), pl.lit(rules.LAST_DAY)
    return _checked(
        frame.with_columns(_cells.str.extract_groups(_DATE).alias("parts"))
        .with_columns(pl.concat_str([parts.field("1"), month, dom], separator="-").alias("iso"))
        .with_columns(iso.str.to_date("%Y-%m-%d", strict=False).alias(VALUE))
        .with_columns(
            pl.when(_cells.is_not_null() & iso.is_null()).then(pl.lit("must be a date: YYYY-MM-DD, YYYY/MM/DD or YYYY年M月D日"))
            .when(iso.is_not_null() & dates.is_null()).then(pl.lit("not a real date"))
            .when((dates < first) | (dates > last)).then(pl.lit(rules.DAY_PROBLEM))
            .alias(REASON)
        )
    )  # fmt: skip


def _mapped(frame: pl.LazyFrame, names: dict[str, object], dtype: pl.DataType, reason: str) -> pl.LazyFrame:
    folded = (
        _cells.str.to_lowercase()
        .str.replace_all("（", "(", literal=True)
        .str.replace_all("）", ")", literal=True)
        .str.replace_all(r"[ \t_\-\u3000]", "")
    )  # as `vocabulary.normalise` folds a word: case, bracket width, separators
    return frame.with_columns(folded.replace_strict(names, default=None, return_dtype=dtype).alias(VALUE)).select(
        _value, pl.when(_cells.is_not_null() & _value.is_null()).then(pl.lit(reason)).alias(REASON)
    )


@by_distinct
def flag(frame: pl.LazyFrame) -> pl.LazyFrame:
    names: dict[str, object] = {**{w: True for w in TRUE_WORDS}, **{w: False for w in FALSE_WORDS}}
    return _mapped(frame, names, pl.Boolean(), "must be yes or no (是/否, true/false, 1/0)")


def choice(enum: type[Enum]) -> Parser:
    """One of the enum's members by English or Chinese name; values are the member names."""
    names: dict[str, object] = {}
    for member in enum:
        names[normalise(member.name)] = member.name
        for chinese in ENUM_NAMES.get(enum, {}).get(member.name, ()):
            names[normalise(chinese)] = member.name
    allowed = ", ".join(member.name for member in enum)

    @by_distinct
    def parse(frame: pl.LazyFrame) -> pl.LazyFrame:
        return _mapped(frame, names, pl.String(), f"unknown {enum.__name__}; expected one of {allowed}")

    return parse

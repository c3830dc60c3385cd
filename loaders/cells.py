"""Text cells that go into spreadsheets, made safe from formula injection, and read back.

A cell beginning `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel
and LibreOffice (a name like `=HYPERLINK(…)` would run). Every export prefixes such a
cell with an apostrophe (OWASP's CSV-injection rule), and a cell that already begins
with an apostrophe before one of them gets a second, so `restored` gives back exactly
the text written: the loader reads what the exporter wrote.

>>> [neutralised(text) for text in ("=1+2", "-3", "'=x", "甲公司", "a=b")]
["'=1+2", "'-3", "''=x", '甲公司', 'a=b']
>>> all(restored(neutralised(text)) == text for text in ("=1+2", "'=x", "''@", "@", "'a"))
True
"""

from __future__ import annotations

import re

import polars as pl

_RISKY = r"^('*[=+\-@\t\r])"  # a formula start, behind any apostrophes
_RESTORE = r"^'('*[=+\-@\t\r])"
_risky, _restore = re.compile(_RISKY), re.compile(_RESTORE)


def neutralised(text: str) -> str:
    """`text` as a spreadsheet cell that no program runs as a formula."""
    return "'" + text if _risky.match(text) else text


def restored(text: str) -> str:
    """The text `neutralised` was given."""
    return _restore.sub(r"\1", text, count=1)


def neutralised_column(column: pl.Expr) -> pl.Expr:
    """`neutralised` over a text column."""
    return column.str.replace(_RISKY, "'$1")


def restored_column(column: pl.Expr) -> pl.Expr:
    """`restored` over a text column."""
    return column.str.replace(_RESTORE, "$1")

"""Ledger errors: every problem found, each pointing at a file, row and column."""

from __future__ import annotations

from dataclasses import dataclass

from graph.errors import ChainorgError


@dataclass(frozen=True, slots=True)
class LedgerIssue:
    """One problem in a ledger; `row` is the row number a spreadsheet shows (header = 1)."""

    source: str
    row: int | None
    column: str | None
    value: str | None
    reason: str

    def __str__(self) -> str:
        where = self.source + (f", row {self.row}" if self.row is not None else "")
        what = f", column {self.column}" if self.column else ""
        shown = f" = {self.value!r}" if self.value not in (None, "") else ""
        return f"{where}{what}{shown}: {self.reason}"


class LedgerInvalid(ChainorgError):
    """A ledger with at least one problem; it is rejected whole and nothing is loaded."""

    code = "LEDGER_INVALID"

    def __init__(self, issues: list[LedgerIssue]):
        self.issues = issues
        noun = "error" if len(issues) == 1 else "errors"
        super().__init__(f"ledger rejected, {len(issues)} {noun}:\n" + "\n".join(f"  {i}" for i in issues))

    def first_line(self) -> str:
        """The first problem, and how many more there are: for a log that has one line to give."""
        more = len(self.issues) - 1
        return f"{self.issues[0]}" + (f" (and {more} more; `chainorg load` lists them all)" if more else "")

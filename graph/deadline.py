"""The time a request has left, carried with it wherever its work goes.

The server sets `DEADLINE` (a `time.monotonic()` instant) when a request arrives, so
time spent queueing counts in its budget. Work that waits its turn (the writer, a
solver) checks `past()` before it starts and refuses what is already too late, rather
than doing work whose answer nobody will read.
"""

from __future__ import annotations

import time
from contextvars import ContextVar

from graph.errors import ChainorgError

DEADLINE: ContextVar[float | None] = ContextVar("chainorg_deadline", default=None)


class TimedOut(ChainorgError):
    """A request's time budget ran out before its work began; nothing of it was done."""

    code = "TIMEOUT"


def remaining(deadline: float | None = None) -> float | None:
    """Seconds left until `deadline` (the request's when None); None when there is no deadline."""
    deadline = DEADLINE.get() if deadline is None else deadline
    return None if deadline is None else deadline - time.monotonic()


def past(deadline: float | None) -> bool:
    """Whether `deadline` has passed (never, without one)."""
    return deadline is not None and time.monotonic() >= deadline

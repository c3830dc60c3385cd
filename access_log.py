"""The access log: one JSON line per GraphQL request, for the people who run the server.

Each line says when the request arrived (UTC), who made it, the operation's kind and
name, its cost, how many milliseconds it took from arrival to answer, and how it ended
(`ok`, or the first error's code). It never holds a token, the query's text or the value of
a variable: the log can be read by those who may not read the data.

>>> print(AccessEntry(datetime.fromisoformat("2026-12-02T08:00:00+00:00"), "张三", "mutation", "Cover", 12, 3.25, "ok").line())
{"at": "2026-12-02T08:00:00+00:00", "who": "张三", "kind": "mutation", "operation": "Cover", "cost": 12, "ms": 3.25, "outcome": "ok"}
"""

from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from graph.errors import ConfigInvalid

log = logging.getLogger("chainorg.access")
_OPERATION = re.compile(r"^\s*(query|mutation|subscription)\b\s*([_A-Za-z][_0-9A-Za-z]*)?")


@dataclass(frozen=True, slots=True)
class AccessEntry:
    at: datetime
    who: str
    kind: str
    operation: str | None
    cost: int | None
    milliseconds: float
    outcome: str

    def line(self) -> str:
        return json.dumps({
            "at": self.at.isoformat(), "who": self.who, "kind": self.kind, "operation": self.operation,
            "cost": self.cost, "ms": round(self.milliseconds, 2), "outcome": self.outcome,
        }, ensure_ascii=False)  # fmt: skip


def operation_of(query: str, name: str | None) -> tuple[str, str | None]:
    """The kind and name of the operation a request runs, read from its text without parsing it.

    >>> operation_of("mutation Cover { applyChanges(changes: []) { changeSet } }", None)
    ('mutation', 'Cover')
    >>> operation_of("{ coverage { enterprises } }", None)
    ('query', None)
    """
    found = _OPERATION.match(query)
    if found is None:
        return "query", name
    return found.group(1), name or found.group(2)


class AccessLog:
    """JSON lines appended to a file; one writer at a time, each line whole."""

    def __init__(self, path: Path):
        if path.is_dir():
            raise ConfigInvalid(f"--access-log {path}: is a folder; give a file to append to")
        try:
            self._file: IO[str] = path.open("a", encoding="utf-8")
        except OSError as error:
            raise ConfigInvalid(f"--access-log {path}: cannot be written: {error.strerror}") from None
        self._lock = threading.Lock()
        self._failing = False

    def write(self, entry: AccessEntry) -> None:
        """Append `entry`; a log that cannot be written (a full disk) is reported to the server's
        log once and never fails the request it describes."""
        with self._lock:
            try:
                self._file.write(entry.line() + "\n")
                self._file.flush()
            except OSError as error:
                if not self._failing:
                    log.error("the access log cannot be written: %s", error.strerror)
                self._failing = True
            else:
                self._failing = False

    def close(self) -> None:
        with self._lock:
            try:
                self._file.close()
            except OSError:  # what could not be written was reported when it was not
                pass

"""Answers of the graph database's read statements, kept for the version of the graph they
were read from (graph.stores.cypher.store.Generation.version: its generation and the change
sets written into it).

A dashboard asks the same questions again and again; between two change sets the database
would answer them the same, so a server answers them from here and the database's cores go
to what is new. A version changes with every change set: through the server that wrote it
at once, through every other within GRAPH_SECONDS (when it next reads the graph's counter),
so a kept answer is never older than a fresh read would be allowed to be. Answers too large
to be worth keeping (a whole graph read for an export) are not kept, and the oldest go
first once the values kept reach their bound.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from typing import Any

ANSWER_VALUES = 20_000  # values in one answer beyond which it is not kept
KEPT_VALUES = 500_000  # values in all the answers kept, at most (some tens of megabytes)


def answer_key(version: Hashable, text: str, parameters: Mapping[str, Any]) -> tuple[Hashable, bytes]:
    """The key of a statement's answer: the graph's version and a digest of the statement and its parameters.

    >>> answer_key((1, 0), "RETURN $a", {"a": [1, 2]}) == answer_key((1, 0), "RETURN $a", {"a": [1, 2]})
    True
    >>> answer_key((1, 0), "RETURN $a", {"a": 1}) == answer_key((1, 1), "RETURN $a", {"a": 1})
    False
    """
    asked = repr((text, sorted(parameters.items()))).encode()
    return version, hashlib.blake2b(asked, digest_size=16).digest()


def weight(value: Any, limit: int) -> int:
    """How many values `value` holds, nested ones counted, up to just past `limit`.

    >>> weight([{"a": 1, "b": [2, 3]}], 100)
    6
    """
    counted, waiting = 0, [value]
    while waiting and counted <= limit:
        item = waiting.pop()
        counted += 1
        if isinstance(item, Mapping):
            waiting.extend(item.values())
        elif isinstance(item, list | tuple):
            waiting.extend(item)
    return counted


class ReadCache:
    """The answers kept, oldest first, bounded by the values they hold; safe across threads
    (a heavy request runs on a loop of its own).

    >>> cache = ReadCache(answer_values=10, kept_values=12)
    >>> cache.put("small", [1, 2, 3]); cache.put("large", list(range(20)))
    >>> cache.get("small"), cache.get("large")
    ([1, 2, 3], None)
    >>> cache.put("newer", [4] * 8)  # 4 + 9 values: the oldest goes
    >>> cache.get("small"), cache.get("newer") == [4] * 8
    (None, True)
    """

    def __init__(self, answer_values: int = ANSWER_VALUES, kept_values: int = KEPT_VALUES):
        self.answer_values, self.kept_values = answer_values, kept_values
        self._kept: OrderedDict[Hashable, tuple[list[Any], int]] = OrderedDict()
        self._values = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> list[Any] | None:
        """The answer kept under `key` (a list of its own: the caller may change the list, never its records)."""
        with self._lock:
            found = self._kept.get(key)
            if found is None:
                return None
            self._kept.move_to_end(key)
            return list(found[0])

    def put(self, key: Hashable, answer: list[Any]) -> None:
        values = weight(answer, self.answer_values)
        if values > self.answer_values:
            return
        with self._lock:
            if key in self._kept:
                return
            self._kept[key] = (list(answer), values)
            self._values += values
            while self._values > self.kept_values:
                _, (_, dropped) = self._kept.popitem(last=False)
                self._values -= dropped

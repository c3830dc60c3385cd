"""Bounds on connections: no client holds one open without sending a whole request in time.

uvicorn closes a kept-alive connection that stays idle (`keep_alive`) and answers 503
past `max_connections`, but it waits for ever on a connection that sends nothing, or
sends its headers or body a byte at a time. `bounded_protocol` gives its httptools
protocol a deadline for each request: from the connection (or the end of the last
response) until the whole request has arrived. Past it the connection is closed.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from graph.errors import ConfigInvalid, refuse_unknown


@dataclass(frozen=True)
class ConnectionLimits:
    """`[server]` in chainorg.toml: seconds a request may take to arrive, seconds an idle
    kept-alive connection stays open, and the most connections served at once."""

    request_seconds: float = 10.0
    keep_alive_seconds: float = 5.0
    max_connections: int = 1_000

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any], where: str = "server") -> ConnectionLimits:
        refuse_unknown(table, [f.name for f in fields(cls)], where)
        for name, value in table.items():
            number = int if name == "max_connections" else (int, float)
            if isinstance(value, bool) or not isinstance(value, number) or not math.isfinite(value) or value <= 0:
                raise ConfigInvalid(f"{where}.{name}: must be a positive number, got {value!r}")
        return replace(cls(), **dict(table))

    def uvicorn(self) -> dict[str, Any]:
        """These limits as `uvicorn.run`'s settings."""
        return {
            "http": bounded_protocol(self.request_seconds),
            "timeout_keep_alive": self.keep_alive_seconds,
            "limit_concurrency": self.max_connections,
        }


def bounded_protocol(seconds: float) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol, closing a connection whose request has not wholly arrived
    within `seconds` of the connection or of the previous response."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol  # only a server needs uvicorn

    class BoundedHttpTools(HttpToolsProtocol):
        _cut_off: asyncio.TimerHandle | None = None

        def _arm(self) -> None:
            self._disarm()
            self._cut_off = self.loop.call_later(seconds, self._too_slow)

        def _disarm(self) -> None:
            if self._cut_off is not None:
                self._cut_off.cancel()
                self._cut_off = None

        def _too_slow(self) -> None:
            if not self.transport.is_closing():
                self.transport.close()

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self._cut_off is None:  # a new request on a kept-alive connection
                self._arm()

        def on_message_complete(self) -> None:
            self._disarm()
            super().on_message_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return BoundedHttpTools


DEFAULT_CONNECTION_LIMITS = ConnectionLimits()

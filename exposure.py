"""What a server shows, and to which pages it answers: `[http]` in chainorg.toml.

- `explorer`: the GraphiQL page and schema introspection. A production server can turn
  both off, so that it hands out no map of its API (`--no-explorer`).
- `cors_origins`: the web origins whose pages may call the API from a browser. None by
  default: a page served from another host cannot read an answer (`--cors-origin`).

>>> Exposure.from_mapping({"cors_origins": ["https://dash.park.cn"]}).cors_origins
('https://dash.park.cn',)
>>> Exposure.from_mapping({"cors_origins": ["*"]})
Traceback (most recent call last):
...
graph.errors.ConfigInvalid: http.cors_origins: '*' is not an origin like https://dash.park.cn (scheme and host, no path)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from graph.errors import ConfigInvalid, refuse_unknown

ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")


@dataclass(frozen=True)
class Exposure:
    explorer: bool = True
    cors_origins: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any], where: str = "http") -> Exposure:
        refuse_unknown(table, [f.name for f in fields(cls)], where)
        explorer = table.get("explorer", True)
        if not isinstance(explorer, bool):
            raise ConfigInvalid(f"{where}.explorer: must be true or false, got {explorer!r}")
        origins = table.get("cors_origins", [])
        if not isinstance(origins, list):
            raise ConfigInvalid(f"{where}.cors_origins: must be a list of origins, got {origins!r}")
        return cls(explorer, checked_origins(origins, f"{where}.cors_origins"))


def origin_problem(origin: object) -> str | None:
    """Why `origin` is not an origin as a browser sends it (`https://host[:port]`): a wildcard
    is not one either, so every origin allowed is named."""
    if isinstance(origin, str) and ORIGIN.fullmatch(origin):
        return None
    return f"{origin!r} is not an origin like https://dash.park.cn (scheme and host, no path)"


def checked_origins(origins: Sequence[object], where: str) -> tuple[str, ...]:
    """`origins`, each checked; ConfigInvalid naming `where` for the first that is not one."""
    for origin in origins:
        if problem := origin_problem(origin):
            raise ConfigInvalid(f"{where}: {problem}")
    return tuple(str(origin) for origin in origins)


DEFAULT_EXPOSURE = Exposure()

"""Per-token rate limits: `[rate]` in chainorg.toml.

```toml
[rate]
requests_per_minute = 600     # per token; 0: no limit
cost_per_minute = 200000      # the query costs of schema.limits, summed per token; 0: no limit
```

Each token has two buckets that fill at their per-minute rate and hold a minute's worth;
a request takes one request and its cost (reckoned before it runs). A request that would
overdraw either is refused, with the seconds until it would be taken. The one admin
that anonymous requests act as on a loopback server with no tokens is not limited.

>>> meter = RateMeter(RateLimits(requests_per_minute=2, cost_per_minute=0))
>>> meter.take("park-a", 10, now=0.0), meter.take("park-a", 10, now=0.0), meter.take("park-a", 10, now=0.0)
(None, None, 30.0)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from graph.errors import ConfigInvalid, refuse_unknown

RATE_LIMITED = "RATE_LIMITED"


@dataclass(frozen=True)
class RateLimits:
    requests_per_minute: int = 1_200
    cost_per_minute: int = 1_000_000

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any], where: str = "rate") -> RateLimits:
        refuse_unknown(table, [f.name for f in fields(cls)], where)
        for name, value in table.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigInvalid(f"{where}.{name}: must be a whole number, 0 for no limit, got {value!r}")
        return cls(**table)


DEFAULT_RATES = RateLimits()


@dataclass
class _Bucket:
    level: float
    at: float


class RateMeter:
    """The buckets of every token seen, by name."""

    def __init__(self, limits: RateLimits = DEFAULT_RATES):
        self.limits = limits
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, name: str, cost: int, now: float | None = None) -> float | None:
        """Take a request of `cost` for the token `name`: None when taken, else the seconds to wait."""
        now = time.monotonic() if now is None else now
        asked = [("requests", self.limits.requests_per_minute, 1), ("cost", self.limits.cost_per_minute, cost)]
        with self._lock:
            levels = []
            for what, per_minute, amount in asked:
                if not per_minute:
                    continue
                bucket = self._buckets.setdefault((name, what), _Bucket(float(per_minute), now))
                level = min(float(per_minute), bucket.level + (now - bucket.at) * per_minute / 60)
                if amount > level:
                    return round((min(amount, per_minute) - level) * 60 / per_minute, 1)
                levels.append((bucket, level - amount))
            for bucket, level in levels:
                bucket.level, bucket.at = level, now
        return None

"""`chainorg.toml`: a park's compliance rules and the server's query limits.

```toml
[rules.MUST_BUILD]
min_employees = 30          # Xiamen's hard indicator, as this park sets it
[rules.ORPHAN]
enabled = false
[limits]
max_cost = 5000
[server]
request_seconds = 10        # a request must arrive whole within this (slow clients are cut off)
[http]
explorer = false            # no GraphiQL page and no introspection, for production
cors_origins = ["https://dash.park.cn"]   # pages that may call the API from a browser
[rate]
requests_per_minute = 600   # per token (0: no limit)
cost_per_minute = 200000    # query cost per token (0: no limit)
[reconcile]
merge_at = 90               # a probable match (no valid credit code) scoring this or more is merged
inactive_since = 2024-01-01 # no activity since then: a zombie
```

Everything absent keeps its default; anything unknown, of the wrong type or negative is
refused with its key and the reason, before the server starts.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from connections import DEFAULT_CONNECTION_LIMITS, ConnectionLimits
from exposure import DEFAULT_EXPOSURE, Exposure
from graph.compliance import DEFAULT_RULES, ConfigInvalid, RuleConfig
from graph.reconciliation_rules import DEFAULT_SETTINGS, Settings
from rate import DEFAULT_RATES, RateLimits
from schema.settings import DEFAULT_LIMITS, Limits

CONFIG_FILE = "chainorg.toml"
SECTIONS = ("rules", "limits", "server", "http", "rate", "reconcile")


@dataclass(frozen=True)
class Config:
    rules: RuleConfig = DEFAULT_RULES
    limits: Limits = DEFAULT_LIMITS
    server: ConnectionLimits = DEFAULT_CONNECTION_LIMITS
    http: Exposure = DEFAULT_EXPOSURE
    rate: RateLimits = DEFAULT_RATES
    reconcile: Settings = DEFAULT_SETTINGS


def read_config(path: Path) -> Config:
    """The configuration in `path`; ConfigInvalid names the file, the key and why."""
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigInvalid(f"{path}: does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigInvalid(f"{path}: cannot be read: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigInvalid(f"{path}: not valid TOML: {error}") from None
    unknown = sorted(set(table) - set(SECTIONS))
    if unknown:
        raise ConfigInvalid(f"{path}: [{unknown[0]}]: no such section; chainorg.toml has {', '.join(SECTIONS)}")
    for section in SECTIONS:
        if not isinstance(table.get(section, {}), dict):
            raise ConfigInvalid(f"{path}: {section}: must be a table ([{section}])")
    try:
        return Config(
            RuleConfig.from_mapping(table.get("rules", {})),
            Limits.from_mapping(table.get("limits", {})),
            ConnectionLimits.from_mapping(table.get("server", {})),
            Exposure.from_mapping(table.get("http", {})),
            RateLimits.from_mapping(table.get("rate", {})),
            Settings.from_mapping(table.get("reconcile", {})),
        )
    except ConfigInvalid as invalid:
        raise ConfigInvalid(f"{path}: {invalid}") from None

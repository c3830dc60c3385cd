"""The query limits as settings: numbers a config file or a flag gives, checked.

Kept apart from `schema.limits` (which measures queries with graphql-core) so that
reading a configuration, or `chainorg --help`, does not load the GraphQL machinery.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any

from graph.errors import ConfigInvalid

if TYPE_CHECKING:
    from graphql import ASTValidationRule


MAX_TIMEOUT = 3_600.0  # seconds: a request that may run longer is no request a person waits for


@dataclass(frozen=True)
class Limits:
    """The most a query may ask for; `timeout` is the seconds one request may run, and an
    operation costing over `heavy_cost` waits for its turn in the server's heavy lane."""

    max_depth: int = 12
    max_aliases: int = 50
    max_cost: int = 20_000
    max_tokens: int = 5_000
    timeout: float = 30.0
    heavy_cost: int = 1_000

    def rule(self) -> type[ASTValidationRule]:
        """A validation rule enforcing these limits (one class per Limits, so caches hit)."""
        from schema.limits import rule_for

        return rule_for(self)

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any], where: str = "limits") -> Limits:
        """Limits from a `[limits]` table; what is absent keeps its default. Raises ConfigInvalid naming the key."""
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(table) - set(names))
        if unknown:
            raise ConfigInvalid(f"{where}.{unknown[0]}: no such limit; the limits are {', '.join(names)}")
        try:
            checked: dict[str, Any] = {name: cls.checked(name, value) for name, value in table.items()}
            return replace(cls(), **checked)
        except ConfigInvalid as invalid:
            raise ConfigInvalid(f"{where}.{invalid}") from None

    @staticmethod
    def checked(name: str, value: object) -> int | float:
        """`value` for the limit `name`: a positive whole number, or for `timeout` a finite number
        of seconds up to MAX_TIMEOUT. ConfigInvalid (naming the limit) otherwise."""
        seconds = name == "timeout"
        number = (int, float) if seconds else int
        kind = f"number of seconds up to {MAX_TIMEOUT:g}" if seconds else "whole number"
        if isinstance(value, bool) or not isinstance(value, number) or not math.isfinite(value) or value <= 0:
            raise ConfigInvalid(f"{name}: must be a positive {kind}, got {value!r}")
        if seconds and value > MAX_TIMEOUT:
            raise ConfigInvalid(f"{name}: must be a positive {kind}, got {value!r}")
        return value


DEFAULT_LIMITS = Limits()

"""What `chainorg reconcile` is set to do: `[reconcile]` in chainorg.toml (graph.reconciliation).

Kept apart from the algorithm so that reading a configuration loads no dataframe library.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any

from graph.errors import ConfigInvalid, refuse_unknown

COLUMNS = (
    "credit_code", "name", "park", "building", "chain", "category", "employees", "formal_members",
    "probationary_members", "above_scale", "key", "status", "status_since", "registered_on",
)  # fmt: skip  # the clean ledger's, in order; a cluster (行业归口) names an organization: it comes with those
EVIDENCE = ("address", "office", "last_active_on")  # read for matching and zombies, not written


@dataclass(frozen=True)
class Settings:
    """`[reconcile]` in chainorg.toml."""

    merge_at: float = 90.0  # a probable match scoring this or more is merged
    report_at: float = 70.0  # and one scoring this or more is reported
    survey_wins: tuple[str, ...] = ("employees", "status")
    precedence: tuple[str, ...] = ()  # sources, strongest first; the others after, in the order given
    zombie_no_employees: bool = True
    zombie_deregistered: bool = True
    zombie_no_office: bool = True
    inactive_since: date | None = None  # no activity since this day makes a zombie; None: the rule is off

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any], where: str = "reconcile") -> Settings:
        """Settings from a `[reconcile]` table; ConfigInvalid names the key and why.

        >>> Settings.from_mapping({"merge_at": 95, "precedence": ["经信局"]}).precedence
        ('经信局',)
        """
        refuse_unknown(table, [f.name for f in fields(cls)], where)
        given: dict[str, Any] = {}
        for name, value in table.items():
            if name in ("merge_at", "report_at"):
                if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
                    raise ConfigInvalid(f"{where}.{name}: must be a score from 0 to 100, got {value!r}")
                given[name] = float(value)
            elif name in ("survey_wins", "precedence"):
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ConfigInvalid(f"{where}.{name}: must be a list of names, got {value!r}")
                given[name] = tuple(value)
            elif name == "inactive_since":
                if not isinstance(value, date):
                    raise ConfigInvalid(f"{where}.{name}: must be a date like 2024-01-01, got {value!r}")
                given[name] = value
            else:
                if not isinstance(value, bool):
                    raise ConfigInvalid(f"{where}.{name}: must be true or false, got {value!r}")
                given[name] = value
        settings = replace(cls(), **given)
        if settings.report_at > settings.merge_at:
            raise ConfigInvalid(f"{where}.report_at: must not be above merge_at ({settings.merge_at:g})")
        unknown = sorted(set(settings.survey_wins) - set(COLUMNS) - set(EVIDENCE))
        if unknown:
            raise ConfigInvalid(f"{where}.survey_wins: {unknown[0]!r} is not a column")
        return settings


DEFAULT_SETTINGS = Settings()

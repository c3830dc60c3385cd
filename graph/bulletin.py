"""The ten-day bulletin (每旬情况通报): coverage and findings per park, chain and cluster at two dates.

Xiamen circulated every district's state every ten days (seed 001); this is that table,
built from whole-scope store questions, so every figure equals what `coverage` and
`compliance` answer for the same group and date.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, timedelta

from graph.compliance import RuleConfig, RuleCount
from graph.query import Coverage, GroupBy, Scope
from graph.stores.protocol import OrgStore

GROUPINGS = (GroupBy.PARK, GroupBy.CHAIN, GroupBy.CLUSTER)
TEN_DAYS = timedelta(days=10)


@dataclass(frozen=True, slots=True)
class BulletinRow:
    by: GroupBy | None  # None: the whole scope
    key: str
    label: str
    current: Coverage
    previous: Coverage
    current_counts: list[RuleCount]
    previous_counts: list[RuleCount]

    @property
    def organization_rate_change(self) -> float:
        return self.current.organization_rate - self.previous.organization_rate

    @property
    def work_rate_change(self) -> float:
        return self.current.work_rate - self.previous.work_rate

    @property
    def changes(self) -> list[RuleCount]:
        """Findings per rule, now minus then."""
        return [
            RuleCount(now.rule, now.severity, now.count - then.count)
            for now, then in zip(self.current_counts, self.previous_counts, strict=True)
        ]


@dataclass(frozen=True, slots=True)
class Bulletin:
    as_of: date
    previous: date
    rows: list[BulletinRow]


async def bulletin(
    store: OrgStore, scope: Scope, as_of: date | None, previous: date | None, rules: RuleConfig
) -> Bulletin:
    """The bulletin of `scope` as of `as_of` (default: today), compared with `previous`
    (default: ten days before).

    Rows: the whole scope, then each park, chain and cluster with enterprises in the scope
    at either date; a group absent at one date shows zeros there.
    """
    as_of = as_of if as_of is not None else store.today()
    before = previous if previous is not None else as_of - TEN_DAYS
    now, then = await asyncio.gather(store.coverage(scope, as_of), store.coverage(scope, before))
    counts_now, counts_then = await asyncio.gather(
        store.compliance(scope, as_of, rules), store.compliance(scope, before, rules)
    )
    rows = [BulletinRow(None, "", "(all)", now, then, counts_now, counts_then)]
    zero = [RuleCount(c.rule, c.severity, 0) for c in counts_now]
    for by in GROUPINGS:
        groups_now, groups_then = await asyncio.gather(
            store.coverage_by(by, scope, as_of), store.coverage_by(by, scope, before)
        )
        tallies_now, tallies_then = await asyncio.gather(
            store.compliance_by(by, scope, as_of, rules), store.compliance_by(by, scope, before, rules)
        )
        labels = {g.key: g.label for g in [*groups_now, *groups_then]} | {
            g.key: g.label for g in [*tallies_now, *tallies_then]
        }
        covered_now, covered_then = ({g.key: g.coverage for g in at} for at in (groups_now, groups_then))
        counted_now, counted_then = ({g.key: g.counts for g in at} for at in (tallies_now, tallies_then))
        rows += [
            BulletinRow(
                by, key, labels[key],
                covered_now.get(key, Coverage()), covered_then.get(key, Coverage()),
                counted_now.get(key, zero), counted_then.get(key, zero),
            )
            for key in sorted(labels)
        ]  # fmt: skip
    return Bulletin(as_of, before, rows)

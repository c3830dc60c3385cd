"""Coverage recounted by brute force over the records, on random dated ledgers: every
question (one date, a trend, per group) at every day something happens, the day before
and after, for several scopes asked in turn. The dates are few, so starts and ends fall
on one day, and a cover may end on the day another one begins."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta

import pytest

from graph.dataset import Dataset
from graph.model import Status
from graph.query import Coverage, GroupBy, Scope
from graph.stores.networkx import NetworkxStore
from loaders.ledger import load_ledger
from tests.conftest import Tables, credit_code

pytestmark = pytest.mark.anyio

DAYS = [date(2020, 1, 1) + timedelta(days=30 * n) for n in range(8)]
PARKS, CHAINS = ["甲园", "乙园"], ["互联网", "软件"]


def random_tables(rng: random.Random, size: int = 40) -> Tables:
    def day() -> str:
        return rng.choice(["", *(d.isoformat() for d in DAYS)])

    enterprises = [["credit_code", "name", "park", "chain", "formal_members", "status", "status_since",
                    "registered_on"]]  # fmt: skip
    for n in range(size):
        status = rng.choice(["ACTIVE", "ACTIVE", "ZOMBIE", "CLOSED"])
        since = rng.choice(DAYS[3:]).isoformat() if status != "ACTIVE" and rng.random() < 0.8 else ""
        registered = rng.choice(["", *(d.isoformat() for d in DAYS[:4])])
        enterprises.append([credit_code(n), f"企业{n}", rng.choice(PARKS), rng.choice(CHAINS),
                            str(rng.randint(0, 6)), status, since, registered])  # fmt: skip
    organizations = [["id", "name", "kind"]] + [[f"O{n}", f"支部{n}", "JOINT_BRANCH"] for n in range(6)]
    coverage, instructors = [["org_id", "credit_code", "since", "until"]], [["id", "name", "credit_code", "since",
                                                                             "until"]]  # fmt: skip
    for n in range(size):
        if rng.random() < 0.6:
            org, first, second = f"O{rng.randrange(6)}", *sorted(rng.sample(range(len(DAYS)), 2))
            coverage.append([org, credit_code(n), rng.choice(["", DAYS[first].isoformat()]), DAYS[second].isoformat()])
            if rng.random() < 0.5:  # covered again from the very day the first cover ended
                coverage.append([org, credit_code(n), DAYS[second].isoformat(), ""])
        if rng.random() < 0.3:
            since, until = day(), ""
            if since and rng.random() < 0.5:
                later = [d for d in DAYS if d.isoformat() > since]
                until = rng.choice(later).isoformat() if later else ""
            instructors.append([f"I{n % 3}", f"指导员{n % 3}", credit_code(n), since, until])
    return {"enterprises": enterprises, "organizations": organizations, "coverage": coverage,
            "instructors": instructors}  # fmt: skip


def holds(since: date | None, until: date | None, day: date) -> bool:
    return (since is None or since <= day) and (until is None or day < until)


def recount(dataset: Dataset, scope: Scope, day: date) -> Coverage:
    """Coverage counted the slow way: one enterprise, one edge at a time."""
    counted = {}
    for e in dataset.enterprises.records(range(len(dataset.enterprises))):
        in_scope = scope.park in (None, e.park) and scope.chain in (None, e.chain)
        registered = e.registered_on is None or e.registered_on <= day
        active = e.status is Status.ACTIVE or (e.status_since is not None and day < e.status_since)
        if in_scope and registered and active:
            counted[e.credit_code] = e
    covering = {c.credit_code: set() for c in dataset.covers}
    for c in dataset.covers:
        if c.credit_code in counted and holds(c.since, c.until, day):
            covering[c.credit_code].add(c.org_id)
    organized = {code for code, orgs in covering.items() if orgs}
    reached = {a.credit_code for a in dataset.assignments if a.credit_code in counted and holds(a.since, a.until, day)}
    return Coverage(
        enterprises=len(counted),
        organization_covered=len(organized),
        work_covered=len(reached - organized),
        formal_members=sum(e.formal_members for e in counted.values()),
        organizations=len(set().union(*covering.values())),
    )


SCOPES = [Scope(), Scope(park="甲园"), Scope(chain="软件"), Scope(park="乙园", chain="互联网")]


@pytest.mark.parametrize("seed", range(6))
async def test_coverage_is_what_a_recount_finds(write_ledger: Callable[..., object], seed: int) -> None:
    dataset = load_ledger(write_ledger(random_tables(random.Random(seed)))).dataset  # type: ignore[arg-type]
    store = NetworkxStore(dataset)
    days = sorted({d + timedelta(days=shift) for d in DAYS for shift in (-1, 0, 1)})
    for scope in [*SCOPES, *reversed(SCOPES)]:  # each scope after every other: no answer kept for the wrong one
        expected = [recount(dataset, scope, day) for day in days]
        assert await store.coverage_trend(scope, days) == expected
        assert [await store.coverage(scope, day) for day in days[::5]] == expected[::5]
    for day in days[::3]:
        by_park = {g.key: g.coverage for g in await store.coverage_by(GroupBy.PARK, Scope(), day)}
        assert by_park == {p: c for p in PARKS if (c := recount(dataset, Scope(park=p), day)).enterprises}

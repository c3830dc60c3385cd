"""The ten-day bulletin against the questions it is made of."""

from datetime import date, timedelta

import pytest

from graph.bulletin import bulletin
from graph.compliance import DEFAULT_RULES
from graph.query import Scope
from graph.stores.networkx import NetworkxStore

pytestmark = pytest.mark.anyio
NOW, THEN = date(2021, 7, 31), date(2020, 7, 31)


async def test_every_change_is_the_difference_of_two_audits(demo_store: NetworkxStore) -> None:
    report = await bulletin(demo_store, Scope(), NOW, THEN, DEFAULT_RULES)
    assert (report.as_of, report.previous) == (NOW, THEN)
    assert [row.by for row in report.rows[:2]] == [None, "PARK"]
    assert len([row for row in report.rows if row.by == "CLUSTER"]) == 11
    for row in report.rows:
        scope = Scope() if row.by is None else Scope(**{row.by.lower(): row.key})
        now = {c.rule: c.count for c in await demo_store.compliance(scope, NOW, DEFAULT_RULES)}
        then = {c.rule: c.count for c in await demo_store.compliance(scope, THEN, DEFAULT_RULES)}
        assert {c.rule: c.count for c in row.changes} == {rule: now[rule] - then[rule] for rule in now}
        assert row.current == await demo_store.coverage(scope, NOW)
        assert row.organization_rate_change == pytest.approx(
            (await demo_store.coverage(scope, NOW)).organization_rate
            - (await demo_store.coverage(scope, THEN)).organization_rate
        )


async def test_previous_defaults_to_ten_days_before(hand_store: NetworkxStore) -> None:
    report = await bulletin(hand_store, Scope(park="A"), NOW, None, DEFAULT_RULES)
    assert report.previous == date(2021, 7, 21)
    today = await bulletin(hand_store, Scope(), None, None, DEFAULT_RULES)
    assert (today.as_of, today.as_of - today.previous) == (date.today(), timedelta(days=10))
    assert [(row.by, row.key) for row in report.rows] == [
        (None, ""),
        ("PARK", "A"),
        ("CHAIN", "互联网"),
        ("CHAIN", "软件"),
        ("CLUSTER", "C1"),
        ("CLUSTER", "C2"),
    ]

"""Simulation as an overlay: its answers equal those of a store rebuilt with the changes
applied, and the store it runs over is left exactly as it was."""

from __future__ import annotations

import random
from datetime import date

import numpy as np
import pytest

from graph.changes import (
    AssignInstructor,
    Change,
    ChangeRejected,
    CoverEnterprises,
    CreateOrganization,
    DissolveOrganization,
    MoveOrganization,
    SetOrganizationDetails,
    UncoverEnterprises,
    UpdateEnterprise,
    UpgradeOrganization,
    apply_changes,
)
from graph.compliance import DEFAULT_RULES
from graph.model import Organization, OrgKind, Status
from graph.query import EnterpriseFilter, GroupBy, Scope
from graph.stores.networkx import NetworkxStore
from loaders.demo import demo_dataset

TODAY = date(2024, 6, 1)

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def store() -> NetworkxStore:
    return NetworkxStore(demo_dataset(), today=lambda: TODAY)


def applied(store: NetworkxStore, changes: list[Change]) -> NetworkxStore:
    """The oracle: a store rebuilt from the records with the changes really applied."""
    records = type(store.records()).of(store.dataset)
    apply_changes(records.draft(TODAY), changes).merge()
    return NetworkxStore(records.dataset(), today=lambda: TODAY)


async def all_findings(store: NetworkxStore) -> set[tuple[str, str, str]]:
    page = await store.findings(Scope(), TODAY, DEFAULT_RULES, 0, 1_000_000)
    return {(f.rule, f.subject_id, f.message) for f in page.items}


async def uncovered(store: NetworkxStore, count: int) -> list[str]:
    where = EnterpriseFilter(status=Status.ACTIVE)
    page = await store.find_enterprises(where, 0, 5_000)
    states = await store.coverage_states([e.credit_code for e in page.items], TODAY)
    return [e.credit_code for e, s in zip(page.items, states, strict=True) if s != "ORGANIZATION"][:count]


def change_sets(store: NetworkxStore, free: list[str]) -> dict[str, list[Change]]:
    orgs = store.dataset.organizations
    branch = next(o for o in orgs if o.kind is OrgKind.BRANCH and o.dissolved_on is None)
    joint = next(o for o in orgs if o.kind is OrgKind.JOINT_BRANCH)
    clusters = [o for o in orgs if o.kind is OrgKind.CLUSTER]
    other_cluster = next(c for c in clusters if c.id != branch.parent_id)
    covered = next(c.credit_code for c in store.dataset.covers if c.org_id == joint.id and c.until is None)
    new = Organization("SIM-J1", "模拟联合党支部", OrgKind.JOINT_BRANCH, parent_id=clusters[0].id)
    return {
        "new joint branch": [CreateOrganization(new), CoverEnterprises("SIM-J1", tuple(free[:4]))],
        "uncover": [UncoverEnterprises(joint.id, (covered,))],
        "dissolve": [DissolveOrganization(joint.id)],
        "move": [MoveOrganization(branch.id, other_cluster.id)],
        "upgrade and details": [
            UpgradeOrganization(branch.id, OrgKind.GENERAL_BRANCH),
            SetOrganizationDetails(joint.id, term_ends_on=date(2024, 7, 1)),
        ],
        "enterprise closes": [UpdateEnterprise(covered, status=Status.CLOSED, status_on=TODAY)],
        "members grow": [UpdateEnterprise(free[4], formal_members=40, employees=80)],
        "instructor": [AssignInstructor("SIM-I", free[5], name="王五")],
        "joins a joint branch": [CoverEnterprises(joint.id, (free[6],))],
    }


CASES = ["new joint branch", "uncover", "dissolve", "move", "upgrade and details", "enterprise closes",
         "members grow", "instructor", "joins a joint branch"]  # fmt: skip


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("scope", [Scope(), "first cluster", "first park"])
async def test_a_simulation_equals_the_changes_applied(store: NetworkxStore, case: str, scope: Scope | str) -> None:
    free = await uncovered(store, 7)
    changes = change_sets(store, free)[case]
    if scope == "first cluster":
        scope = Scope(cluster=next(o.id for o in store.dataset.organizations if o.kind is OrgKind.CLUSTER))
    elif scope == "first park":
        scope = Scope(park=(await store.parks())[0].name)
    assert isinstance(scope, Scope)
    result = await store.simulate(changes, scope, None, DEFAULT_RULES)
    oracle = applied(store, changes)

    assert result.before == await store.coverage(scope, TODAY)
    assert result.after == await oracle.coverage(scope, TODAY)
    before = {g.key: g.coverage for g in await store.coverage_by(GroupBy.CLUSTER, scope, TODAY)}
    after = {g.key: g.coverage for g in await oracle.coverage_by(GroupBy.CLUSTER, scope, TODAY)}
    expected = {}
    for key in before.keys() | after.keys():
        fields = [getattr(after.get(key), f, 0) - getattr(before.get(key), f, 0) for f in
                  ("enterprises", "organization_covered", "work_covered", "formal_members", "organizations")]  # fmt: skip
        if any(fields):
            expected[key] = tuple(fields)
    got = {g.key: (g.coverage.enterprises, g.coverage.organization_covered, g.coverage.work_covered,
                   g.coverage.formal_members, g.coverage.organizations) for g in result.clusters}  # fmt: skip
    assert got == expected

    was, now = await all_findings(store), await all_findings(oracle)
    assert {(f.rule, f.subject_id, f.message) for f in result.created} == {
        f for f in now - was if (f[0], f[1]) not in {(w[0], w[1]) for w in was}
    }
    assert {(f.rule, f.subject_id, f.message) for f in result.resolved} == {
        f for f in was - now if (f[0], f[1]) not in {(n[0], n[1]) for n in now}
    }


async def test_the_new_joint_branch_covers_four_more(store: NetworkxStore) -> None:
    free = await uncovered(store, 7)
    result = await store.simulate(change_sets(store, free)["new joint branch"], Scope(), None, DEFAULT_RULES)
    assert result.after.organization_covered - result.before.organization_covered == 4
    assert result.after.organizations - result.before.organizations == 1
    assert result.changes == 2 and result.day == TODAY


def fingerprint(store: NetworkxStore) -> tuple:
    """Everything a simulation could spoil: the records, the enterprise columns, the edge arrays."""
    records = store.records()
    table = store.table
    return (
        dict(records.organizations), dict(records.covers), dict(records.assignments), dict(records.upgrades),
        dict(records.open_covers), dict(records.enterprise_changes),
        table.formal.tobytes(), table.status.tobytes(), table.registered.tobytes(),
        store.edge_row.tobytes(), store.edge_until.tobytes(), len(store.dataset.organizations),
    )  # fmt: skip


async def test_the_store_is_untouched_by_simulations_good_and_bad(store: NetworkxStore) -> None:
    free = await uncovered(store, 7)
    sets = change_sets(store, free)
    before = fingerprint(store)
    coverage = await store.coverage(Scope(), TODAY)
    rng = random.Random(7)
    for name in rng.sample(CASES, len(CASES)):
        await store.simulate(sets[name], Scope(), None, DEFAULT_RULES)
    with pytest.raises(ChangeRejected) as refused:
        await store.simulate([*sets["new joint branch"], CoverEnterprises("SIM-J1", (free[0],))], Scope(), None,
                             DEFAULT_RULES)  # fmt: skip
    assert refused.value.position == 3 and refused.value.code == "CONFLICT"
    assert fingerprint(store) == before
    assert await store.coverage(Scope(), TODAY) == coverage
    assert np.array_equal(store.table.formal, demo_dataset().enterprises.formal)


async def test_a_past_day_is_refused(store: NetworkxStore) -> None:
    with pytest.raises(Exception, match="today"):
        await store.simulate([SetOrganizationDetails("X", stars=1)], Scope(), date(2020, 1, 1), DEFAULT_RULES)

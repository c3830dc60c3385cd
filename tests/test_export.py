"""A state written as a ledger loads back with the same answer to every coverage question."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest

from graph.changes import (
    AssignInstructor,
    CoverEnterprises,
    CreateOrganization,
    DissolveOrganization,
    EndLink,
    UnassignInstructor,
    UncoverEnterprises,
    UpdateEnterprise,
    apply_changes,
)
from graph.dataset import Dataset
from graph.model import Organization, OrgKind, Status
from graph.query import CoverageState, EnterpriseFilter, GroupBy, Scope
from graph.records import Records
from graph.stores.networkx import NetworkxStore
from loaders.demo import demo_dataset
from loaders.export import WORKBOOK, write_ledger
from loaders.ledger import load_ledger

TODAY = date(2024, 1, 1)
DATES = [date(2019, 1, 1), date(2021, 7, 31), date(2022, 12, 31), date(2023, 1, 1), date(2023, 6, 1), TODAY]

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def changed() -> Dataset:
    """The demo after a year of changes: every kind of dated edge ends or begins somewhere."""
    demo = demo_dataset()
    store = NetworkxStore(demo, today=lambda: TODAY)
    joint = next(o for o in demo.organizations if o.kind is OrgKind.JOINT_BRANCH)
    cluster = next(o for o in demo.organizations if o.kind is OrgKind.CLUSTER)
    covered = next(c for c in demo.covers if c.org_id != joint.id)
    link = next(link for link in demo.links if joint.id not in (link.source_id, link.target_id))
    assignment = demo.assignments[0]
    bare = asyncio.run(store.find_enterprises(EnterpriseFilter(coverage=CoverageState.NONE), 0, 4)).items
    records = Records.of(demo)
    changes = [
        DissolveOrganization(joint.id, date(2023, 1, 1)),
        CreateOrganization(Organization("NEW-J", "新联合党支部", OrgKind.JOINT_BRANCH, cluster.id, established_on=date(2022, 5, 1))),
        CoverEnterprises("NEW-J", tuple(e.credit_code for e in bare[:3]), date(2022, 6, 1)),
        UncoverEnterprises(covered.org_id, (covered.credit_code,), date(2022, 12, 31)),
        UpdateEnterprise(bare[3].credit_code, status=Status.CLOSED, status_on=date(2023, 1, 1)),
        EndLink(link.source_id, link.target_id, link.kind, date(2023, 6, 1)),
        UnassignInstructor(assignment.instructor_id, assignment.credit_code, date(2022, 12, 31)),
        AssignInstructor("NEW-I", bare[3].credit_code, name="王五", since=date(2021, 1, 1)),
    ]  # fmt: skip
    apply_changes(records.draft(TODAY), changes).merge()
    return records.dataset()


async def answers(store: NetworkxStore) -> list[object]:
    """Coverage of everything, per grouping, and its trend, at every date."""
    found: list[object] = [await store.coverage_trend(Scope(), DATES)]
    for day in DATES:
        found.append(await store.coverage(Scope(), day))
        for by in GroupBy:
            found.append(await store.coverage_by(by, Scope(), day))
    return found


@pytest.mark.parametrize("xlsx", [False, True], ids=["csv", "xlsx"])
async def test_load_export_load_answers_alike(tmp_path: Path, changed: Dataset, xlsx: bool) -> None:
    written = write_ledger(changed, tmp_path / "ledger", xlsx)
    loaded = load_ledger(tmp_path / "ledger" / WORKBOOK if xlsx else tmp_path / "ledger").dataset
    original, again = NetworkxStore(changed, today=lambda: TODAY), NetworkxStore(loaded, today=lambda: TODAY)
    assert await answers(again) == await answers(original)
    assert await answers(original) != await answers(NetworkxStore(demo_dataset(), today=lambda: TODAY))
    assert [path.name for path in written] == (
        [WORKBOOK]
        if xlsx
        else [f"{t}.csv" for t in ("enterprises", "organizations", "coverage", "links", "instructors", "departments")]
    )
    assert sorted(o.dissolved_on for o in loaded.organizations if o.dissolved_on) == [date(2023, 1, 1)]

"""Retries are safe: a request id writes its change set once, a write the writer took is
answered with what became of it, and a scenario is applied once however many ask at once,
under ids of its own."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import date
from pathlib import Path

import pytest

from graph.changes import (
    Change,
    ChangeConflict,
    ChangeRejected,
    CoverEnterprises,
    CreateOrganization,
    SetOrganizationDetails,
    check_request_id,
)
from graph.deadline import DEADLINE, TimedOut
from graph.durable import audit_log
from graph.model import Organization, OrgKind
from graph.scenarios import ScenarioExists
from graph.stores.networkx.state import State
from tests.conftest import credit_code

TODAY = date(2024, 1, 1)
pytestmark = pytest.mark.anyio


def change_sets(folder: Path) -> list[int]:
    return sorted({entry.change_set for entry in audit_log(folder, None, None, 0, 10_000).items})


async def test_a_request_id_writes_once_even_after_a_restart(folder: Path, state: State) -> None:
    changes = [SetOrganizationDetails("B1", stars=4)]
    first = await state.apply(changes, "editor", "retry-1")
    again = await state.apply(changes, "editor", "retry-1")
    assert (first.repeated, again.repeated, again.change_set, again.at) == (False, True, first.change_set, first.at)
    state.close()
    reopened = State(folder, today=lambda: TODAY)
    try:
        assert (await reopened.apply(changes, "editor", "retry-1")).change_set == first.change_set
        with pytest.raises(ChangeConflict, match="used for other changes"):
            await reopened.apply([SetOrganizationDetails("B1", stars=2)], "editor", "retry-1")
        assert (await reopened.organization("B1")).stars == 4  # type: ignore[union-attr]
    finally:
        reopened.close()
    assert change_sets(folder) == [first.change_set]


async def test_concurrent_repeats_of_one_request_id_write_once(folder: Path, state: State) -> None:
    changes = [SetOrganizationDetails("B1", stars=5)]
    receipts = await asyncio.gather(*(state.apply(changes, "editor", "burst") for _ in range(8)))
    assert len({r.change_set for r in receipts}) == 1
    assert sorted(r.repeated for r in receipts) == [False] + [True] * 7
    assert len(change_sets(folder)) == 1


async def test_a_write_the_writer_took_is_answered_with_its_receipt(folder: Path, state: State) -> None:
    """The budget runs out while the change set is being committed: the answer is the receipt,
    never a TIMEOUT hiding a commit."""
    held = state._records_lock
    held.acquire()  # the writer commits, then waits here to merge
    threading.Timer(0.5, held.release).start()
    started = time.monotonic()
    async with asyncio.timeout(0.1):
        receipt = await state.apply([SetOrganizationDetails("B1", stars=1)], "editor")
    assert time.monotonic() - started >= 0.4
    assert change_sets(folder) == [receipt.change_set]


async def test_a_change_set_reached_past_its_deadline_is_refused_unwritten(folder: Path, state: State) -> None:
    token = DEADLINE.set(time.monotonic() - 1)
    try:
        with pytest.raises(TimedOut):
            await state.apply([SetOrganizationDetails("B1", stars=1)], "editor", "late")
    finally:
        DEADLINE.reset(token)
    assert change_sets(folder) == []
    assert (await state.apply([SetOrganizationDetails("B1", stars=1)], "editor", "late")).repeated is False


async def test_a_scenario_applied_by_eight_at_once_is_applied_once(folder: Path, state: State) -> None:
    await state.save_scenario("plan", [SetOrganizationDetails("B1", stars=3)], "planner", replace=False)
    outcomes = await asyncio.gather(*(state.apply_scenario("plan", "editor") for _ in range(8)), return_exceptions=True)
    applied = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(applied) == 1
    assert all(isinstance(o, ScenarioExists) for o in outcomes if o not in applied)
    assert change_sets(folder) == [applied[0][1].change_set]
    assert (await state.scenario("plan")).applied_change_set == applied[0][1].change_set


@pytest.mark.parametrize("request_id", ["", "\u200b", "a\x00b", "x" * 201, "scenario:plan"])
def test_a_request_id_is_visible_text_of_its_own(request_id: str) -> None:
    with pytest.raises(ChangeRejected) as refused:
        check_request_id(request_id)
    assert refused.value.field == "request_id"


def joint_branch_plan(org_id: str, code: int) -> list[Change]:
    return [
        CreateOrganization(Organization(org_id, f"{org_id}联合党支部", OrgKind.JOINT_BRANCH, parent_id="C2")),
        CoverEnterprises(org_id, (credit_code(code),)),
    ]


async def test_plans_proposing_one_id_each_apply_under_their_own(folder: Path, state: State) -> None:
    """Two plans made apart propose JB-1; the second is saved under JB-1-2, and a third whose
    JB-1 was taken by a write since still applies, renumbered, and says so."""
    first = await state.save_scenario("east", joint_branch_plan("JB-1", 5), "planner", replace=False)
    second = await state.save_scenario("west", joint_branch_plan("JB-1", 8), "planner", replace=False)
    assert (first.renumbered, second.renumbered) == ({}, {"JB-1": "JB-1-2"})
    await state.apply_scenario("east", "editor")
    await state.apply_scenario("west", "editor")
    assert [c.org_id for c in state.records.covers.values() if c.org_id.startswith("JB-")] == ["JB-1", "JB-1-2"]

    await state.save_scenario("later", joint_branch_plan("JB-9", 8), "planner", replace=False)
    await state.apply(joint_branch_plan("JB-9", 5), "editor")
    kept = await state.scenario("later")
    assert kept.renumbered == {"JB-9": "JB-9-2"}
    assert [type(c).__name__ for c in kept.changes] == ["CreateOrganization", "CoverEnterprises"]
    await state.apply_scenario("later", "editor")
    assert (await state.organization("JB-9-2")) is not None
    assert (await state.scenario("later")).applied_change_set is not None

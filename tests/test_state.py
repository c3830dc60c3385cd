"""A served state on a real SQLite file: writes kept across restarts, all or nothing, history asked about."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from graph.changes import (
    ChangeRejected,
    CoverEnterprises,
    CreateOrganization,
    DissolveOrganization,
    MoveOrganization,
    RegisterEnterprise,
    SetOrganizationDetails,
    UncoverEnterprises,
    UpdateEnterprise,
    UpgradeOrganization,
)
from graph.dataset import Dataset
from graph.durable import STATE_FILE, WriteFailed, audit_log, create_state
from graph.errors import NotFound
from graph.model import Enterprise, KindSpan, Organization, OrgKind, ParentSpan, Status
from graph.query import GroupBy, Scope
from graph.stores.networkx.state import State
from tests.conftest import contents, credit_code

TODAY = date(2024, 1, 1)
BEFORE, ON, AFTER = date(2022, 12, 31), date(2023, 1, 1), date(2023, 6, 1)

pytestmark = pytest.mark.anyio


def file_bytes(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


async def test_acknowledged_changes_survive_a_restart(folder: Path, state: State) -> None:
    joint = Organization("J2", "Y楼联合党支部", OrgKind.JOINT_BRANCH, parent_id="C2")
    await state.apply([CreateOrganization(joint), CoverEnterprises("J2", (credit_code(5),))], "anonymous")
    await state.apply([SetOrganizationDetails("B1", stars=3)], "admin")
    covered = (await state.pinned().coverage(Scope(), TODAY)).organization_covered
    state.close()

    again = State(folder, today=lambda: TODAY)
    try:
        assert (await again.organization("J2")).established_on == TODAY
        assert (await again.organization("B1")).stars == 3
        assert (await again.pinned().coverage(Scope(), TODAY)).organization_covered == covered == 4 + 1
        log = await again.audit_log(None, None, 0, 10)
        assert [(e.change_set, e.kind, e.who) for e in log.items] == [
            (1, "createOrganization", "anonymous"), (1, "coverEnterprises", "anonymous"),
            (2, "setOrganizationDetails", "admin"),
        ]  # fmt: skip
        assert log.items[2].before[0]["stars"] is None and log.items[2].after[0]["stars"] == 3
    finally:
        again.close()


async def test_a_rejected_set_leaves_the_state_byte_identical(folder: Path, state: State) -> None:
    await state.apply([SetOrganizationDetails("B1", stars=3)], "anonymous")
    before = file_bytes(folder)
    with pytest.raises(ChangeRejected) as refused:
        await state.apply([SetOrganizationDetails("B1", stars=4), CoverEnterprises("C1", (credit_code(5),))], "x")
    assert (refused.value.position, refused.value.field) == (2, "org_id")
    assert file_bytes(folder) == before
    assert (await state.organization("B1")).stars == 3


async def test_concurrent_sets_are_each_kept_or_refused_whole(folder: Path, state: State) -> None:
    def change_set(n: int) -> list:
        org = Organization(f"N{n}", f"新支部{n}", OrgKind.BRANCH, parent_id="C1" if n % 5 else "B1")  # every 5th: bad
        return [CreateOrganization(org), SetOrganizationDetails(f"N{n}", stars=n % 6)]

    answers = await asyncio.gather(
        *(state.apply(change_set(n), "anonymous") for n in range(40)), return_exceptions=True
    )
    refused = [n for n, answer in enumerate(answers) if isinstance(answer, ChangeRejected)]
    assert refused == list(range(0, 40, 5))
    state.close()
    again = State(folder, today=lambda: TODAY)
    try:
        kept = {o.id: o.stars for o in again.records.organizations.values() if o.id.startswith("N")}
        assert kept == {f"N{n}": n % 6 for n in range(40) if n % 5}
        assert (await again.audit_log(None, None, 0, 0)).total == 2 * len(kept)
    finally:
        again.close()


async def test_a_request_keeps_the_version_it_first_read(state: State) -> None:
    pinned = state.pinned()
    before = await pinned.coverage(Scope(), TODAY)
    await state.apply([CoverEnterprises("B2", (credit_code(5),))], "anonymous")
    assert await pinned.coverage(Scope(), TODAY) == before
    assert (await state.pinned().coverage(Scope(), TODAY)).organization_covered == before.organization_covered + 1


async def test_as_of_before_and_after_a_dissolution(state: State) -> None:
    await state.apply([DissolveOrganization("J1", ON)], "anonymous")
    store = state.pinned()
    before, after = await store.coverage(Scope(), BEFORE), await store.coverage(Scope(), ON)
    assert before.organization_covered - after.organization_covered == 2  # enterprises 2 and 3
    assert before.organizations - after.organizations == 1
    [dissolved] = await store.organizations(["J1"])
    assert dissolved is not None and dissolved.dissolved_on == ON
    tree_ids = [o.id for o in (await store.organization_tree("C1", 1, AFTER)).organizations]
    assert tree_ids == ["C1", "B1"]
    assert "J1" in [o.id for o in (await store.organization_tree("C1", 1, BEFORE)).organizations]
    with pytest.raises(NotFound, match="dissolved on 2023-01-01"):
        await store.organization_tree("J1", 0, AFTER)
    assert [o.id for o in (await store.children(["C1"]))[0]] == ["B1"]


async def test_as_of_before_and_after_an_upgrade(state: State) -> None:
    await state.apply([UpgradeOrganization("B1", OrgKind.GENERAL_BRANCH, ON)], "anonymous")
    store = state.pinned()

    async def kind_on(day: date) -> OrgKind:
        tree = await store.organization_tree("B1", 0, day)
        return tree.organizations[0].organization.kind

    assert (await kind_on(BEFORE), await kind_on(ON)) == (OrgKind.BRANCH, OrgKind.GENERAL_BRANCH)
    assert (await store.organizations(["B1"]))[0] == (await state.organization("B1"))


async def test_as_of_before_and_after_a_move(state: State) -> None:
    await state.apply([MoveOrganization("B1", "C2", ON)], "anonymous")
    store = state.pinned()

    async def under(cluster: str, day: date) -> list[str]:
        return [o.id for o in (await store.organization_tree(cluster, 1, day)).organizations[1:]]

    assert (await under("C1", BEFORE), await under("C2", BEFORE)) == (["B1", "J1"], ["B2"])
    assert (await under("C1", AFTER), await under("C2", AFTER)) == (["J1"], ["B1", "B2"])


async def test_a_new_enterprise_in_a_new_park_counts_and_can_be_covered(folder: Path, state: State) -> None:
    new = Enterprise(credit_code(9), "企业9", "C", building="W", registered_on=date(2023, 2, 1), formal_members=3)
    await state.apply([RegisterEnterprise(new), CoverEnterprises("B2", (credit_code(9),), date(2023, 3, 1))], "x")
    state.close()
    again = State(folder, today=lambda: TODAY)
    try:
        store = again.pinned()
        parks = {g.key: g.coverage for g in await store.coverage_by(GroupBy.PARK, Scope(), TODAY)}
        assert (parks["C"].enterprises, parks["C"].organization_covered, parks["C"].formal_members) == (1, 1, 3)
        assert (await store.coverage(Scope(park="C"), date(2023, 2, 15))).organization_covered == 0
        assert [e.name for e in (await store.covered(["B2"]))[0]] == ["企业6", "企业7", "企业9"]
    finally:
        again.close()


async def test_a_status_change_counts_from_its_day(state: State) -> None:
    await state.apply([UpdateEnterprise(credit_code(5), status=Status.ZOMBIE, status_on=ON)], "anonymous")
    store = state.pinned()
    assert (await store.coverage(Scope(), BEFORE)).enterprises - (await store.coverage(Scope(), ON)).enterprises == 1


async def test_the_state_holds_the_ledger_it_was_made_from(folder: Path, hand_dataset: Dataset) -> None:
    state = State(folder)
    try:
        assert contents(state.records.dataset()) == contents(hand_dataset)
    finally:
        state.close()


def test_a_state_is_made_once(folder: Path, hand_dataset: Dataset) -> None:
    from graph.errors import StateProblem

    with pytest.raises(StateProblem, match="holds a state already"):
        create_state(folder, hand_dataset)
    assert (folder / STATE_FILE).is_file()


def test_one_server_per_state(folder: Path, state: State) -> None:
    from graph.errors import StateProblem

    with pytest.raises(StateProblem, match=r"is served by process \d+; stop it first"):
        State(folder)


async def test_a_full_disk_refuses_the_set_and_keeps_nothing(folder: Path, state: State) -> None:
    pages = state.durable.connection.execute("PRAGMA page_count").fetchone()[0]
    state.durable.connection.execute(f"PRAGMA max_page_count = {pages}")  # as if the disk were full
    many = [CreateOrganization(Organization(f"F{n}", "支部" * 200, OrgKind.BRANCH, parent_id="C1")) for n in range(300)]
    with pytest.raises(WriteFailed) as refused:
        await state.apply(many, "anonymous")
    assert refused.value.code == "WRITE_FAILED"
    assert str(refused.value) == "not written, nothing of it kept: the disk is full"  # no SQL, no path
    assert "F0" not in state.records.organizations
    state.durable.connection.execute(f"PRAGMA max_page_count = {pages * 100}")
    await state.apply([SetOrganizationDetails("B1", stars=2)], "anonymous")
    assert (await state.audit_log(None, None, 0, 10)).total == 1


async def test_an_organization_history_keeps_what_changes_ended(state: State) -> None:
    later = date(2023, 6, 1)
    await state.apply(
        [UpgradeOrganization("B1", OrgKind.GENERAL_BRANCH, ON), MoveOrganization("B1", "C2", later),
         UncoverEnterprises("B1", (credit_code(1),), later), CoverEnterprises("B1", (credit_code(5),), later)],
        "anonymous",
    )  # fmt: skip
    [history, none] = await state.pinned().histories(["B1", "X"])
    assert none is None and history is not None
    established = date(2019, 6, 1)
    assert history.kinds == (KindSpan(OrgKind.BRANCH, established, ON), KindSpan(OrgKind.GENERAL_BRANCH, ON, None))
    assert history.parents == (ParentSpan("C1", established, later), ParentSpan("C2", later, None))
    assert [(c.credit_code, c.since, c.until) for c in history.covers] == [
        (credit_code(1), None, later), (credit_code(5), later, None),
    ]  # fmt: skip


async def test_the_audit_trail_takes_a_subject_literally_and_any_since(folder: Path, state: State) -> None:
    await state.apply([SetOrganizationDetails("B1", stars=4)], "editor")
    assert audit_log(folder, None, "%", 0, 10).total == 0
    assert audit_log(folder, None, "B_", 0, 10).total == 0
    assert audit_log(folder, None, "B1", 0, 10).total == 1
    earliest = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=8)))
    assert audit_log(folder, earliest, None, 0, 10).total == 1


async def test_a_chart_of_a_past_date_draws_the_parents_of_then(state: State) -> None:
    from graph.charts import ChartFormat, org_chart

    await state.apply([MoveOrganization("B1", "C2", ON)], "editor")

    async def drawn(root: str, day: date) -> str:
        chart = await org_chart(state.pinned(), root, ChartFormat.MERMAID, 3, False, day)
        return chart.content if isinstance(chart.content, str) else chart.content.decode()

    assert "企业1党支部" in await drawn("C1", BEFORE)
    assert "企业1党支部" not in await drawn("C2", BEFORE)
    assert "企业1党支部" not in await drawn("C1", AFTER)
    assert "企业1党支部" in await drawn("C2", AFTER)


@pytest.mark.parametrize("had_requests", [False, True])  # schema 1 gained the table late
async def test_a_state_of_schema_1_is_upgraded_once_when_opened(folder: Path, had_requests: bool) -> None:
    """States of schema 1 counted audit positions from 0; opened now they have the requests
    table and count from 1, as error messages do, and keep every change."""
    served = State(folder, today=lambda: date(2024, 1, 1))
    try:
        await served.apply([SetOrganizationDetails("B1", stars=1), SetOrganizationDetails("B1", stars=2)], "t")
    finally:
        served.close()
    with sqlite3.connect(folder / STATE_FILE) as old:  # back to how schema 1 left it
        if not had_requests:
            old.execute("DROP TABLE requests")
        old.execute("UPDATE audit SET position = position - 1")
        old.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    old.close()
    for _opening in range(2):  # upgraded the first time, unchanged the second
        served = State(folder, today=lambda: date(2024, 1, 1))
        try:
            await served.apply([SetOrganizationDetails("B1", stars=3)], "t", request_id="after-upgrade")
            assert (await served.organization("B1")).stars == 3  # type: ignore[union-attr]
        finally:
            served.close()
        log = audit_log(folder, None, "B1", 0, 10)
        assert [(e.change_set, e.position) for e in log.items] == [(1, 1), (1, 2), (2, 1)]


def test_a_commit_waits_for_the_disk(state: State) -> None:
    """Every connection that commits or checkpoints syncs in full (a commit that returned is on
    the platter, not in the page cache), and the log is folded in by the State, not by SQLite."""
    connection = state.durable.connection
    assert connection.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert connection.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)


def test_a_new_state_is_synced_before_it_is_named_and_its_folder_after(
    tmp_path: Path, hand_dataset: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is synced under its temporary name, renamed, then the folder is synced: after a
    power cut there is either no state or the whole one."""
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    folder = tmp_path / "new"
    create_state(folder, hand_dataset)
    assert synced[-2:] == [str(folder / f"{STATE_FILE}.importing"), str(folder)]

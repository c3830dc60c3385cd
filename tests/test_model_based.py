"""Random change sets of every kind on a ledger-made state: after a clean restart, after the
served state is killed with SIGKILL and served again on the same port, and after an export
loaded back as a ledger, every record and every answer is as it was.

The oracle is the state itself before it restarts: what the running server answers is
what the disk must hold. A fixed seed runs in `make test`; `CHAINORG_MODEL_ROUNDS` runs
longer (the `slow` marker runs 400 rounds).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from graph.changes import (
    CHANGES,
    AddLink,
    AssignInstructor,
    Change,
    ChangeRejected,
    CoverEnterprises,
    CreateOrganization,
    DissolveOrganization,
    EndLink,
    MoveOrganization,
    RegisterEnterprise,
    SetOrganizationDetails,
    UnassignInstructor,
    UncoverEnterprises,
    UpdateEnterprise,
    UpgradeOrganization,
)
from graph.dataset import Dataset
from graph.durable import audit_log, create_state, read_state
from graph.model import Category, Enterprise, LinkKind, Organization, OrgKind, Status
from graph.query import GroupBy, Scope
from graph.records import Records
from graph.stores.networkx import NetworkxStore
from graph.stores.networkx.state import State
from loaders.export import write_ledger
from loaders.ledger import load_ledger
from tests.conftest import contents, credit_code, free_port, serve_state

TODAY = date(2024, 6, 1)
PAST = [date(2020, 1, 1), date(2023, 1, 1), date(2024, 1, 1)]
pytestmark = pytest.mark.anyio


@dataclass
class Generator:
    """Changes drawn at random over what the records hold now, so most are accepted."""

    rng: random.Random
    records: Records
    serial: int = 100

    def day(self) -> date | None:
        return None if self.rng.random() < 0.3 else TODAY - timedelta(days=self.rng.randrange(0, 500))

    def fresh(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{self.serial}"

    def codes(self) -> list[str]:
        table = self.records.table
        return [*table.codes.astype(str).tolist(), *self.records.enterprise_changes]

    def orgs(self, *kinds: OrgKind) -> list[Organization]:
        return [
            o for o in self.records.organizations.values() if o.dissolved_on is None and (not kinds or o.kind in kinds)
        ]

    def change(self) -> Change:
        """A change of a kind drawn at random, among the kinds that have something to act on."""
        while True:
            try:
                return self.of_kind(self.rng.choice(sorted(CHANGES)))
            except (IndexError, ValueError):  # nothing of that kind to act on yet
                continue

    def of_kind(self, kind: str) -> Change:
        rng, pick = self.rng, self.rng.choice
        level = [OrgKind.BRANCH, OrgKind.JOINT_BRANCH, OrgKind.GENERAL_BRANCH]
        clusters = self.orgs(OrgKind.CLUSTER)
        match kind:
            case "registerEnterprise":
                self.serial += 1
                members = rng.randrange(0, 6)
                return RegisterEnterprise(Enterprise(credit_code(self.serial), f"随机企业{self.serial}", pick("AB"),
                                                     building=pick(["X", "Y", None]), formal_members=members,
                                                     category=pick(list(Category)), registered_on=self.day()))  # fmt: skip
            case "updateEnterprise":
                status = pick([None, None, Status.ZOMBIE, Status.ACTIVE, Status.CLOSED])
                return UpdateEnterprise(pick(self.codes()), name=pick([None, f"改名{self.serial}"]),
                                        employees=rng.randrange(0, 300), formal_members=rng.randrange(0, 8),
                                        building=pick([None, "X", "Z"]), status=status,
                                        status_on=self.day() if status else None)  # fmt: skip
            case "createOrganization":
                parent = pick(clusters)
                return CreateOrganization(Organization(self.fresh("R"), f"随机支部{self.serial}", pick(level),
                                                       parent_id=parent.id, established_on=self.day()))  # fmt: skip
            case "setOrganizationDetails":
                return SetOrganizationDetails(pick(self.orgs()).id, stars=rng.randrange(0, 6),
                                              secretary=pick([None, "王五", "赵六"]), points=rng.randrange(0, 100))  # fmt: skip
            case "moveOrganization":
                return MoveOrganization(pick(self.orgs(*level)).id, pick(clusters).id, self.day())
            case "upgradeOrganization":
                return UpgradeOrganization(
                    pick(self.orgs(*level)).id, pick([OrgKind.GENERAL_BRANCH, OrgKind.COMMITTEE]), self.day()
                )
            case "dissolveOrganization":
                return DissolveOrganization(pick(self.orgs(*level)).id, self.day())
            case "coverEnterprises":
                return CoverEnterprises(pick(self.orgs(*level)).id, tuple(rng.sample(self.codes(), 2)), self.day())
            case "uncoverEnterprises":
                covered = [ends for ends, key in self.records.open_covers.items() if key is not None]
                org_id, code = pick(covered)
                return UncoverEnterprises(org_id, (code,), self.day())
            case "addLink":
                ends = [o.id for o in self.orgs()] + list(self.records.departments) + self.codes()[:3]
                source, target = rng.sample(ends, 2)
                return AddLink(source, target, pick(list(LinkKind)), self.day())
            case "endLink":
                source, target, link_kind = pick([e for e, key in self.records.open_links.items() if key is not None])
                return EndLink(source, target, LinkKind(link_kind), self.day())
            case "assignInstructor":
                known = list(self.records.instructors)
                instructor = pick([*known, self.fresh("IR")])
                name = None if instructor in known else "钱七"
                return AssignInstructor(instructor, pick(self.codes()), name=name, since=self.day())
            case "unassignInstructor":
                instructor, code = pick([e for e, key in self.records.open_assignments.items() if key is not None])
                return UnassignInstructor(instructor, code, self.day())
        raise AssertionError(kind)


async def answers(store: NetworkxStore, dataset: Dataset) -> dict[str, object]:
    """Every enterprise, organization, history and coverage figure (today and past dates)."""
    codes = sorted(dataset.enterprises.codes.astype(str).tolist())
    ids = sorted(o.id for o in dataset.organizations)
    found: dict[str, object] = {
        "summary": await store.summary(),
        "enterprises": await store.enterprises(codes),
        "organizations": await store.organizations(ids),
        "histories": await store.histories(ids),
        "covering": await store.covering(codes),
        "instructors": await store.instructors(codes),
        "links": await store.links(ids),
        "trend": await store.coverage_trend(Scope(), PAST),
    }
    for day in [*PAST, TODAY]:
        found[f"coverage {day}"] = await store.coverage(Scope(), day)
        for by in GroupBy:
            found[f"coverage by {by} {day}"] = await store.coverage_by(by, Scope(), day)
    return found


def everything(dataset: Dataset) -> tuple[object, ...]:
    """`contents` with the enterprises in credit-code order (an update keeps its row in place)."""
    enterprises, *rest = contents(dataset)
    return (sorted(enterprises, key=lambda e: e.credit_code), *rest)


async def run_model(tmp_path: Path, hand_dataset: Dataset, seed: int, rounds: int) -> None:
    folder = tmp_path / "state"
    create_state(folder, hand_dataset, stands_on=TODAY)  # the served state's "today" too
    state = State(folder)
    generator = Generator(random.Random(seed), state.records)
    kinds_written: set[str] = set()
    try:
        for _ in range(rounds):
            changes = [generator.change() for _ in range(generator.rng.randrange(1, 4))]
            try:
                await state.apply(changes, "model")
            except ChangeRejected:
                continue
            kinds_written |= {change.kind for change in changes}
        store = state.store()
        dataset = state.records.dataset()
        before = await answers(store, dataset)
        audit = audit_log(folder, None, None, 0, 100_000)
    finally:
        state.close()
    assert kinds_written == set(CHANGES), f"kinds never accepted: {set(CHANGES) - kinds_written}"

    assert everything(read_state(folder)) == everything(dataset)  # the disk holds what was answered
    again = State(folder)
    try:
        assert await answers(again.store(), again.records.dataset()) == before
        assert audit_log(folder, None, None, 0, 100_000) == audit
        assert all(entry.before for entry in audit.items if entry.kind == "updateEnterprise")
    finally:
        again.close()

    await asyncio.to_thread(killed_and_served_again, folder, generator.rng)
    dataset = read_state(folder)
    again = State(folder)
    try:
        before = await answers(again.store(), again.records.dataset())
    finally:
        again.close()

    write_ledger(dataset, tmp_path / "exported")
    loaded = load_ledger(tmp_path / "exported").dataset
    exported = await answers(NetworkxStore(loaded, today=lambda: TODAY), loaded)
    assert {k: v for k, v in exported.items() if k != "histories"} == {
        k: v for k, v in before.items() if k != "histories"
    }


SERVED = """{
  organizations(first: 500) { totalCount nodes { id name kind mode establishedOn termEndsOn secretary stars points
                                                   dissolvedOn } }
  enterprises(first: 500) { totalCount nodes { creditCode name status coverageState organizations { id }
                                                 instructors { id } } }
  today: coverage { enterprises organizationCovered workCovered formalMembers organizations }
  past: coverage(asOf: "2023-01-01") { enterprises organizationCovered workCovered formalMembers organizations }
  byCluster: coverageBy(by: CLUSTER) { key coverage { enterprises organizationCovered organizations } }
  auditLog(first: 500) { totalCount nodes { changeSet at who position kind subject change before after } }
}"""
MORE = "mutation($id: String!, $changes: [ChangeInput!]!) { applyChanges(changes: $changes, requestId: $id) { changeSet repeated } }"


def killed_and_served_again(folder: Path, rng: random.Random) -> None:
    """Serve the state, write over HTTP, SIGKILL the server just after its last answer, serve it
    again on the same port at once: every answer as before the kill, and a retry writes nothing."""
    port = free_port()
    server = serve_state(folder, port)
    try:
        url = f"http://127.0.0.1:{port}/graphql"
        clusters = [o["id"] for o in httpx.post(url, json={"query": "{ organizations(filter: {kinds: [CLUSTER]}) "
                                                          "{ nodes { id } } }"}).json()["data"]["organizations"]["nodes"]]  # fmt: skip
        for n in range(3):
            branch = f"KILL-{n}"
            changes = [
                {"createOrganization": {"id": branch, "name": f"重启支部{n}", "kind": "BRANCH",
                                        "parentId": rng.choice(clusters)}},
                {"setOrganizationDetails": {"orgId": branch, "stars": rng.randrange(6), "secretary": f"书记{n}"}},
            ]  # fmt: skip
            done = httpx.post(url, json={"query": MORE, "variables": {"id": f"kill-{n}", "changes": changes}}).json()
            assert not done.get("errors"), done["errors"]
            assert done["data"]["applyChanges"]["repeated"] is False
        served = httpx.post(url, json={"query": SERVED}, timeout=60).json()
        assert "errors" not in served, served["errors"]
        ids = {o["id"] for o in served["data"]["organizations"]["nodes"]}
        assert {"KILL-0", "KILL-1", "KILL-2"} <= ids
        for listed in ("organizations", "enterprises"):  # on one page: the whole state is compared
            assert served["data"][listed]["totalCount"] == len(served["data"][listed]["nodes"])
    finally:
        os.kill(server.pid, signal.SIGKILL)
        server.wait()
    server = serve_state(folder, port)  # the same port, at once
    try:
        assert httpx.post(url, json={"query": SERVED}, timeout=60).json() == served
        retried = httpx.post(url, json={"query": MORE, "variables": {"id": "kill-2", "changes": changes}}).json()
        assert retried["data"]["applyChanges"] == {**done["data"]["applyChanges"], "repeated": True}
        assert httpx.post(url, json={"query": SERVED}, timeout=60).json() == served
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.parametrize("seed", [1, 2])
async def test_random_change_sets_survive_a_restart_and_an_export(
    tmp_path: Path, hand_dataset: Dataset, seed: int
) -> None:
    await run_model(tmp_path, hand_dataset, seed, int(os.environ.get("CHAINORG_MODEL_ROUNDS", "150")))


@pytest.mark.slow
async def test_random_change_sets_at_length(tmp_path: Path, hand_dataset: Dataset) -> None:
    await run_model(tmp_path, hand_dataset, 7, 400)

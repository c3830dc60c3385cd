"""The demo reproduces the Changsha seed's figures (seeds/002)."""

import subprocess
from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from graph.changes import CreateOrganization
from graph.compliance import DEFAULT_RULES
from graph.credit_code import validate_credit_code
from graph.durable import create_state
from graph.model import Organization, OrgKind, Status
from graph.query import GroupBy, Scope
from graph.stores.networkx import NetworkxStore
from graph.stores.networkx.state import State
from loaders import DEMO_DAY, demo
from loaders.ledger import load_ledger
from loaders.writer import write_csv_ledger
from server import load_store
from tests.conftest import CHAINORG, contents, free_port

pytestmark = pytest.mark.anyio


async def test_the_zone_has_13151_active_enterprises(demo_store: NetworkxStore) -> None:
    assert (await demo_store.coverage(Scope(park=demo.PARK))).enterprises == 13_151
    assert (await demo_store.summary())[
        "enterprises"
    ] > 13_151  # zombies and closed ones are in the ledger, not counted


async def test_the_chain_committee_has_11_clusters_and_168_organizations(demo_store: NetworkxStore) -> None:
    clusters = (await demo_store.children([demo.CHAIN_COMMITTEE_ID]))[0]
    assert sum(org.kind is OrgKind.CLUSTER for org in clusters) == 11
    enterprise_level = [org for cluster in clusters for org in (await demo_store.children([cluster.id]))[0]]
    assert len(enterprise_level) == 168
    assert all(org.kind.is_enterprise_level for org in enterprise_level)
    assert (await demo_store.coverage(Scope(chain=demo.CHAIN))).organizations == 168


async def test_its_enterprises_hold_3677_party_members(demo_store: NetworkxStore) -> None:
    assert (await demo_store.members([demo.CHAIN_COMMITTEE_ID]))[0].total == 3_677


async def test_coverage_by_cluster_has_eleven_groups_that_add_up(demo_store: NetworkxStore) -> None:
    groups = await demo_store.coverage_by(GroupBy.CLUSTER, Scope(park=demo.PARK))
    assert len(groups) == 11
    assert sum(g.coverage.enterprises for g in groups) == 13_151
    assert sum(g.coverage.organizations for g in groups) == 168


async def test_98_organizations_are_new_since_2019(demo_store: NetworkxStore) -> None:
    before = (await demo_store.coverage(Scope(chain=demo.CHAIN), date(2018, 12, 31))).organizations
    assert 168 - before == 98


async def test_six_categories_buildings_joint_branches_and_instructors(demo_store: NetworkxStore) -> None:
    assert len(await demo_store.coverage_by(GroupBy.CATEGORY, Scope())) == 6
    assert [len(found) for found in await demo_store.buildings([demo.PARK])] == [len(demo.BUILDINGS)]
    summary = await demo_store.summary()
    assert summary["organizations.JOINT_BRANCH"] == 14
    assert summary["instructors"] == 25 and summary["links"] > 0
    assert (await demo_store.coverage(Scope())).work_covered > 0


async def test_joint_branches_cover_two_to_five_enterprises_in_one_building(demo_store: NetworkxStore) -> None:
    joint = [o for o in (await demo_store.children(["YDHL-LZ01"]))[0] if o.kind is OrgKind.JOINT_BRANCH]
    for covered in await demo_store.covered([o.id for o in joint]):
        assert 2 <= len(covered) <= 5
        assert len({e.building for e in covered}) == 1


def test_named_companies_and_key_enterprises() -> None:
    table = demo.demo_dataset().enterprises
    enterprises = table.records(range(len(table)))
    names = {e.name for e in enterprises}
    assert {"映客互娱", "草花互动", "兴盛优选", "湖南创星科技股份有限公司", "永雄集团"} <= names
    assert sum(e.key for e in enterprises) == demo.KEY_ENTERPRISES
    assert Counter(e.status for e in enterprises) == {
        Status.ACTIVE: 13_151, Status.ZOMBIE: demo.ZOMBIE_ENTERPRISES, Status.CLOSED: demo.CLOSED_ENTERPRISES,
    }  # fmt: skip
    assert all(validate_credit_code(e.credit_code) == e.credit_code for e in enterprises)


async def test_it_is_deterministic_and_another_seed_keeps_the_figures() -> None:
    assert demo.demo_records(2021) == demo.demo_records(2021)
    other = NetworkxStore(demo.demo_dataset(seed=7))
    assert (await other.members([demo.CHAIN_COMMITTEE_ID]))[0].total == 3_677
    assert (await other.coverage(Scope())).enterprises == 13_151


def test_written_csvs_load_back_to_the_same_dataset(tmp_path: Path) -> None:
    write_csv_ledger(demo.demo_records(), tmp_path)
    assert contents(load_ledger(tmp_path).dataset) == contents(demo.demo_dataset())


@pytest.fixture
def demo_state_folder(tmp_path: Path) -> Path:
    """A demo state made as `make run` makes it."""
    folder = tmp_path / "demo"
    subprocess.run([CHAINORG, "load", "--demo", "--state", str(folder)], check=True, capture_output=True)
    return folder


async def test_the_demo_state_stands_on_its_day_whatever_the_calendar_says(demo_state_folder: Path) -> None:
    """The demo state's clock stands on 2021-07-31, also after a restart: a question without a
    date is asked on that day, and a change without a date happens on it."""
    folder = demo_state_folder
    for new_id in ("DEMO-NEW-1", "DEMO-NEW-2"):  # the second time after a restart
        state = State(folder)
        try:
            store = await state.current()
            undated = await store.compliance(Scope(), None, DEFAULT_RULES)
            assert undated == await store.compliance(Scope(), DEMO_DAY, DEFAULT_RULES)
            assert undated != await store.compliance(Scope(), date.today(), DEFAULT_RULES)  # terms expired since
            tree = await store.organization_tree(demo.CHAIN_COMMITTEE_ID, 1, None, False)
            assert tree.as_of == DEMO_DAY
            cluster = next(o.id for o in state.records.organizations.values() if o.kind is OrgKind.CLUSTER)
            branch = Organization(new_id, "新支部", OrgKind.BRANCH, parent_id=cluster)
            await state.apply([CreateOrganization(branch)], "test")
            assert (await state.organization(new_id)) == replace(branch, established_on=DEMO_DAY)
        finally:
            state.close()


async def test_a_ledger_state_follows_the_calendar(tmp_path: Path) -> None:
    create_state(tmp_path / "park", demo.demo_dataset())
    state = State(tmp_path / "park")
    try:
        assert state.today() == (await state.current()).today() == date.today()
    finally:
        state.close()


async def test_the_read_only_demo_stands_on_its_day_too() -> None:
    assert load_store(None).today() == DEMO_DAY


@pytest.mark.parametrize("day", ["9999-12-31", "1899-12-31", "2021-02-30"])
def test_a_clock_outside_the_calendar_is_refused(tmp_path: Path, day: str) -> None:
    done = subprocess.run([CHAINORG, "load", "--demo", "--state", str(tmp_path / "s"), "--stands-on", day],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 2 and day in done.stderr and not (tmp_path / "s").exists()


def test_serving_the_demo_state_says_which_day_it_stands_on(demo_state_folder: Path) -> None:
    server = subprocess.Popen([CHAINORG, "serve", "--state", str(demo_state_folder), "--port", str(free_port())],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert f"it stands on {DEMO_DAY}: questions without a date are asked on that day" in first

"""Scenarios on a real SQLite state file: kept with every kind of change, listed, refused twice, kept across a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph import scenarios
from graph.changes import Change, describe, restore
from graph.dataset import Dataset
from graph.durable import STATE_FILE, create_state
from graph.errors import InvalidArgument, NotFound
from graph.scenarios import ScenarioExists
from graph.stores.networkx.state import State
from tests.test_changes import CHANGES, TODAY

ALL: list[Change] = [change for change, _, _ in CHANGES]


@pytest.fixture
def path(tmp_path: Path, hand_dataset: Dataset) -> Path:
    create_state(tmp_path / "state", hand_dataset)
    return tmp_path / "state" / STATE_FILE


@pytest.mark.parametrize("change", ALL, ids=[type(c).__name__ for c in ALL])
def test_every_change_comes_back_as_it_was_kept(change: Change) -> None:
    assert restore(change.kind, describe(change)) == change


def test_a_scenario_is_kept_listed_and_marked_applied(path: Path) -> None:
    scenarios.save(path, "全部", ALL, "admin")
    scenarios.save(path, " 另一个 ", ALL[:2], "anonymous")
    assert [(s.name, len(s.changes), s.who) for s in scenarios.listed(path)] == [
        ("全部", len(ALL), "admin"), ("另一个", 2, "anonymous")
    ]  # fmt: skip
    assert scenarios.named(path, "全部").changes == ALL
    with pytest.raises(ScenarioExists):
        scenarios.save(path, "全部", ALL[:1], "admin")
    scenarios.save(path, "全部", ALL[:1], "admin", replace=True)
    assert scenarios.named(path, "全部").changes == ALL[:1]
    assert scenarios.mark_applied(path, "全部", 7).applied_change_set == 7


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_a_name_must_be_given_and_short(path: Path, name: str) -> None:
    with pytest.raises(InvalidArgument):
        scenarios.save(path, name, ALL, "admin")


def test_an_unknown_scenario_is_not_found(path: Path) -> None:
    with pytest.raises(NotFound):
        scenarios.named(path, "无此方案")


@pytest.mark.anyio
async def test_scenarios_survive_a_restart_and_apply_once(path: Path) -> None:
    folder = path.parent
    state = State(folder, today=lambda: TODAY)
    await state.save_scenario("新支部", ALL[2:3], "admin", False)
    state.close()
    again = State(folder, today=lambda: TODAY)
    try:
        kept, receipt = await again.apply_scenario("新支部", "admin")
        assert kept.applied_change_set == receipt.change_set == 1
        assert (await again.organization("B9")) is not None
        with pytest.raises(ScenarioExists, match="applied already"):
            await again.apply_scenario("新支部", "admin")
    finally:
        again.close()

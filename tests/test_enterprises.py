"""The enterprise columns: a changed table is a new one, the old left as it was."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from graph.dataset import Dataset
from graph.enterprises import EnterpriseTable
from graph.model import Category, Enterprise, Status
from tests.conftest import credit_code


def every_record(table: EnterpriseTable) -> list[Enterprise]:
    return table.records(range(table.size))


@pytest.fixture
def table(hand_dataset: Dataset) -> EnterpriseTable:
    return hand_dataset.enterprises


def test_an_updated_row_changes_in_the_new_table_only(table: EnterpriseTable) -> None:
    before = every_record(table)
    changed = replace(before[4], name="新名字", building="Q", status=Status.CLOSED, status_since=date(2023, 1, 1))
    updated = table.updated([changed])
    assert every_record(updated) == [*before[:4], changed, *before[5:]]
    assert every_record(table) == before
    assert updated.building.keys[-1] == "Q" and "Q" not in table.building.keys


@pytest.mark.parametrize("numbers", [[9], [12, 9, 10], [99, 11]])
def test_new_rows_are_appended_and_found_by_credit_code(table: EnterpriseTable, numbers: list[int]) -> None:
    fresh = [
        Enterprise(credit_code(n), f"企业{n}", "C", category=Category.DATA, employees=n, registered_on=date(2024, 1, n % 28 + 1))
        for n in numbers
    ]  # fmt: skip
    updated = table.updated(fresh)
    assert updated.size == table.size + len(numbers)
    assert every_record(updated)[table.size :] == fresh
    codes = [credit_code(n) for n in (1, 8, *numbers)]
    assert updated.rows_of(codes).tolist() == [0, 7, *range(table.size, table.size + len(numbers))]
    assert table.rows_of([credit_code(numbers[0])]).tolist() == [-1]
    assert updated.park.keys[-1] == "C" and "C" not in table.park.keys

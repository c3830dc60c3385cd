"""DataLoaders: a page of enterprises with their relations costs one store call per relation."""

from collections import Counter
from collections.abc import Iterator

import pytest

from graph.stores.networkx import NetworkxStore
from tests.conftest import LiveServer


class CountingStore:
    """Passes every call to the real store and counts calls per method."""

    def __init__(self, store: NetworkxStore):
        self.store = store
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str):
        method = getattr(self.store, name)

        def counted(*args, **kwargs):
            self.calls[name] += 1
            return method(*args, **kwargs)

        return counted


@pytest.fixture(scope="module")
def counting(demo_store: NetworkxStore) -> Iterator[tuple[CountingStore, LiveServer]]:
    store = CountingStore(demo_store)
    with LiveServer(store) as server:
        yield store, server


def test_a_page_of_500_enterprises_with_relations_is_one_call_each(counting: tuple[CountingStore, LiveServer]) -> None:
    store, server = counting
    store.calls.clear()
    data = server.query(
        """{ enterprises(first: 500) { nodes { creditCode coverageState then: coverageState(asOf: "2019-06-30")
            building { name } organizations { id parent { id } } cluster { name } instructors { id } } } }"""
    )["data"]
    assert len(data["enterprises"]["nodes"]) == 500
    assert store.calls == {
        "find_enterprises": 1, "coverage_states": 2, "covering": 1, "organizations": 1, "clusters": 1, "instructors": 1,
    }  # fmt: skip  # coverage_states: once for today, once for 2019-06-30


def test_every_park_with_buildings_and_coverage_is_one_call_each(counting: tuple[CountingStore, LiveServer]) -> None:
    store, server = counting
    store.calls.clear()
    parks = server.query("{ parks { name buildings { name } coverage { enterprises } } }")["data"]["parks"]
    assert parks and all(park["buildings"] and park["coverage"]["enterprises"] for park in parks)
    assert store.calls == {"parks": 1, "buildings": 1, "coverage_by": 1}


def test_loaders_do_not_leak_between_requests(counting: tuple[CountingStore, LiveServer]) -> None:
    store, server = counting
    store.calls.clear()
    for _ in range(2):
        server.query('{ organization(id: "GXQ") { children { id } } }')
    assert store.calls == {"organizations": 2, "children": 2}

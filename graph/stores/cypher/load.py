"""`chainorg load LEDGER --store URL`: a validated dataset written into a graph database.

The dataset is validated before anything is written (the ledger loader refuses a ledger
with any error). Constraints and indexes come first, then nodes and edges in UNWIND
batches, all under a new generation; the graph served switches to it in one small
transaction when every batch is in, and the previous generation is deleted after. A load
that fails or is killed part-way leaves the previous graph answering; its partial
generation is cleared by the next load.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from graph.dataset import Dataset
from graph.errors import ChainorgError
from graph.model import OrgKind
from graph.stores.cypher import queries
from graph.stores.cypher.connection import Connection
from graph.stores.cypher.rows import batches, edge_rows, enterprise_rows, node_rows, organization_rows, timeline_rows

BATCH_ROWS = 5_000
DELETE_ROWS = 10_000
Progress = Callable[[str, int, int], None]  # (what, rows written, rows in all)


class GraphExists(ChainorgError):
    """The database holds a chainorg graph already and the load was not asked to replace it."""

    code = "GRAPH_EXISTS"


@dataclass(frozen=True, slots=True)
class Loaded:
    generation: int
    rows: int
    replaced: int | None  # the generation it replaced


def graph_facts(dataset: Dataset, stands_on: date | None) -> dict[str, Any]:
    """The small facts kept on the graph node (graph.stores.cypher.store.Generation)."""
    table = dataset.enterprises
    summary = dataset.summary()
    buildings = table.buildings()
    clusters = [org for org in dataset.organizations if org.kind is OrgKind.CLUSTER]
    return {
        "stands_on": stands_on.isoformat() if stands_on else None,
        "summary_keys": list(summary), "summary_values": list(summary.values()),
        "parks": sorted(key for key in table.park.keys if key is not None),
        "chains": sorted(key for key in table.chain.keys if key is not None),
        "building_parks": [park for park, _ in buildings], "building_names": [name for _, name in buildings],
        "cluster_ids": [org.id for org in clusters], "cluster_names": [org.name for org in clusters],
    }  # fmt: skip


async def load_dataset(
    connection: Connection, dataset: Dataset, stands_on: date | None = None, replace: bool = False,
    progress: Progress | None = None, batch_rows: int = BATCH_ROWS,
) -> Loaded:  # fmt: skip
    """Write `dataset` as the database's graph; GraphExists when one is there and not `replace`."""
    for text in queries.SCHEMA:
        await connection.write(text)
    graph = await connection.read(queries.GRAPH)
    current = graph[0]["graph"].get("current") if graph else None
    if current is not None and not replace:
        raise GraphExists(
            f"{connection.address.shown} holds a chainorg graph already; add --replace to load this one in its place"
        )
    if not graph:
        await connection.write(queries.CREATE_GRAPH)
    await _delete_all_but(connection, current, progress)  # what a killed load left
    [taken] = await connection.write(queries.TAKE_GENERATION)
    g = int(taken["taken"])
    writes = _writes(dataset, g)
    total = sum(len(rows) for _, _, rows in writes)
    done = 0
    for name, text, rows in writes:
        for batch in batches(rows, batch_rows):
            await connection.write(text, rows=batch)
            done += len(batch)
            if progress is not None:
                progress(name, done, total)
    await connection.write(queries.SWITCH, graph={**graph_facts(dataset, stands_on), "next_row": total}, g=g)
    await _delete_all_but(connection, g, progress)
    return Loaded(g, total, current)


def _writes(dataset: Dataset, g: int) -> list[tuple[str, str, list[dict[str, Any]]]]:
    edges = edge_rows(dataset, g)
    nodes = {
        "enterprises": enterprise_rows(dataset, g),
        "organizations": organization_rows(dataset, g),
        "instructors": node_rows(dataset.instructors, g),
        "departments": node_rows(dataset.departments, g),
        "past_parents": node_rows(dataset.past_parents, g, key=None),
        "upgrades": node_rows(dataset.upgrades, g, key=None),
        "timelines": timeline_rows(dataset, g),
    }
    return [
        *((name, queries.CREATE_NODES[name], rows) for name, rows in nodes.items()),
        *((name, queries.CREATE_EDGES[name], rows) for name, rows in edges.items()),
    ]


async def _delete_all_but(connection: Connection, keep: int | None, progress: Progress | None) -> None:
    """Delete every node (and its edges) of a generation other than `keep`, a batch at a time."""
    deleted = 0
    while True:
        [found] = await connection.write(queries.DELETE_BATCH, keep=-1 if keep is None else keep, size=DELETE_ROWS)
        if not found["deleted"]:
            return
        deleted += found["deleted"]
        if progress is not None:
            progress("old generation deleted", deleted, deleted)

"""`chainorg load LEDGER --store URL`: a validated dataset written into a graph database.

The dataset is validated before anything is written (the ledger loader refuses a ledger
with any error). Constraints and indexes come first, then nodes and edges in UNWIND
batches, all under a new generation; the graph served switches to it in one small
transaction when every batch is in, and the previous generation is deleted after. A load
that fails or is killed part-way leaves the previous graph answering; its partial
generation is cleared by the next load.

A state moves into a database the same way (`load_state`): its records, history and all,
as a generation, and its journal (change sets, audit trail, request ids, scenarios) in
place of the database's in the transaction that switches to them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from graph.dataset import Dataset
from graph.durable import History, history, read_state
from graph.errors import ChainorgError
from graph.model import OrgKind
from graph.stores.cypher import queries
from graph.stores.cypher.connection import Connection, Run
from graph.stores.cypher.rows import batches, edge_rows, enterprise_rows, node_rows, organization_rows, timeline_rows

BATCH_ROWS = 5_000
DELETE_ROWS = 10_000
Progress = Callable[[str, int, int], None]  # (what, rows written, rows in all)


class GraphExists(ChainorgError):
    """The database holds a chainorg graph already and the load was not asked to replace it."""

    code = "GRAPH_EXISTS"


class StateChanged(ChainorgError):
    """A state took a change set or a scenario while it was read to be copied."""

    code = "CONFLICT"


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
    progress: Progress | None = None, batch_rows: int = BATCH_ROWS, journal: History | None = None,
) -> Loaded:  # fmt: skip
    """Write `dataset` as the database's graph; GraphExists when one is there and not `replace`.
    With a state's `journal`, it takes the place of the database's as the graph switches."""
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
    facts = {**graph_facts(dataset, stands_on), "next_row": total}

    async def switch(run: Run) -> None:
        await run(queries.SWITCH, graph=facts, g=g)
        if journal is not None:
            await _copy_journal(run, journal, batch_rows)

    await connection.transaction(switch)
    await _delete_all_but(connection, g, progress)
    return Loaded(g, total, current)


async def load_state(
    connection: Connection, folder: Path, replace: bool = False, progress: Progress | None = None
) -> Loaded:
    """Copy the state in `folder` into the database: its records with their history, its
    clock, and its journal; StateChanged when a server wrote to the state meanwhile. The
    journal is read after the records, from a state brought to this chainorg's schema."""
    before = history(folder)
    dataset = read_state(folder)
    kept = history(folder)
    if (before.last_change_set, before.scenarios) != (kept.last_change_set, kept.scenarios):
        raise StateChanged(f"{folder} changed while it was read; stop the servers writing to it and copy again")
    return await load_dataset(connection, dataset, kept.stands_on, replace, progress, journal=kept)


async def _copy_journal(run: Run, journal: History, batch_rows: int) -> None:
    """The database's journal replaced by `journal`, its change sets counted on from the last."""
    await run(queries.DELETE_JOURNAL)
    scenarios = [{key: value for key, value in row.items() if value is not None} for row in journal.scenarios]
    for label, rows in (
        ("ChainorgChangeSet", journal.change_sets), ("ChainorgAudit", journal.audit),
        ("ChainorgRequest", journal.requests), ("ChainorgScenario", scenarios),
    ):  # fmt: skip
        for batch in batches(rows, batch_rows):
            await run(queries.CREATE_JOURNAL[label], rows=batch)
    await run(queries.JOURNAL_COUNTER, change_sets=journal.last_change_set)


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

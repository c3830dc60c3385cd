"""What a change set writes into the graph database, worked out from the records it reached.

A store gathers the records a change set reaches (queries.reached_text, as for a
simulation), applies the changes to a draft over them (graph.changes: the rules the
SQLite state applies) and hands both here. `written` compares the rows the store keeps
(graph.stores.cypher.rows) before and after, over those records alone, and gives back
the statements that make the database say what the draft says:

- every node whose properties changed, those it derives included (an enterprise's spans
  and resolved cluster, an organization's day numbers and whether it is attached), and
  every new node, in ledger order after every record there is (`next_row`);
- every COVERS, ASSIGNED and LINK edge changed or new (an edge is known by its `row`),
  and the PART_OF edges of each organization whose parents changed, written anew;
- the coverage timelines of each group the set changed, by the difference it made
  (graph.coverage.summed), so whole-graph coverage stays read, not counted;
- the graph's small facts (counts, parks, chains, buildings, clusters).

Records the set did not reach are never read: a change costs what it touches, not what
the graph holds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from graph.coverage import GroupTimeline, coverage_index, summed
from graph.dataset import Dataset
from graph.dataset import summary as graph_summary
from graph.model import Instructor, OrgKind
from graph.records import Draft, key_of
from graph.rules import ALWAYS
from graph.stores.cypher import queries
from graph.stores.cypher.rows import (
    TIMELINE_FIELDS,
    TIMELINED,
    edge_rows,
    enterprise_rows,
    node_rows,
    organization_rows,
)

Statement = tuple[str, dict[str, Any]]
# Each ledger table: the Dataset field holding it.
TABLES = {
    "enterprises": "enterprises", "organizations": "organizations", "coverage": "covers", "links": "links",
    "instructors": "instructors", "assignments": "assignments", "departments": "departments",
    "part_of": "past_parents", "upgrades": "upgrades",
}  # fmt: skip


@dataclass(frozen=True)
class Gathered:
    """The records a change set reached, as they were, and the `row` each is kept under."""

    dataset: Dataset
    rows: dict[tuple[str, Hashable], int]  # (ledger table, record key): row


@dataclass(frozen=True)
class Written:
    """The statements of one change set, in order, and the graph's facts after it."""

    statements: list[Statement]
    timelines: list[dict[str, Any]]  # per changed group: by, key, its timeline before and after (`shifted`)
    graph: dict[str, Any]


def records_of(dataset: Dataset) -> dict[str, Sequence[Any]]:
    """Each ledger table's records in a dataset."""
    found: dict[str, Sequence[Any]] = {
        table: getattr(dataset, name) for table, name in TABLES.items() if table != "enterprises"
    }
    table = dataset.enterprises
    found["enterprises"] = table.records(range(len(table)))
    return found


def applied(draft: Draft) -> Dataset:
    """The records under `draft` with its writes, in ledger order (new ones last)."""
    records = draft.records
    draft.merge()
    return records.dataset()


def written(gathered: Gathered, draft: Draft, g: int, graph: Mapping[str, Any]) -> Written:
    """The statements that write `draft` (over `Records.of(gathered.dataset)`) into generation
    `g`, whose small facts are `graph` (the ChainorgGraph node's properties)."""
    before = gathered.dataset
    after = applied(draft)
    row_of = _row_numbers(gathered, draft, int(graph.get("next_row") or 0))
    statements: list[Statement] = []
    for name, rows_of, table in (
        ("enterprises", enterprise_rows, "enterprises"), ("organizations", organization_rows, "organizations"),
        ("instructors", lambda d, g: node_rows(d.instructors, g), "instructors"),
        ("departments", lambda d, g: node_rows(d.departments, g), "departments"),
    ):  # fmt: skip
        old = _keyed_rows(before, table, rows_of(before, g), row_of)
        new = _keyed_rows(after, table, rows_of(after, g), row_of)
        created = [row for key, row in new.items() if key not in old]
        changed = [row for key, row in new.items() if key in old and old[key] != row]
        statements += [(queries.CREATE_NODES[name], {"rows": created})] if created else []
        statements += [(queries.SET_NODE, {"rows": changed})] if changed else []
    for name, table in (("past_parents", "part_of"), ("upgrades", "upgrades")):
        known = {key_of(table, record) for record in getattr(before, name)}
        fresh = [record for record in getattr(after, name) if key_of(table, record) not in known]
        if fresh:
            rows = node_rows(fresh, g, key=None)
            for row, record in zip(rows, fresh, strict=True):
                row["row"] = row_of[table, key_of(table, record)]
            statements.append((queries.CREATE_NODES[name], {"rows": rows}))
    statements += _edge_statements(before, after, g, row_of)
    return Written(statements, _timeline_changes(before, after), _facts(before, after, graph, row_of))


def _row_numbers(gathered: Gathered, draft: Draft, next_row: int) -> dict[tuple[str, Hashable], int]:
    """The row of every record: as kept, or for a new one the next after every row there is."""
    rows = dict(gathered.rows)
    for write in draft.writes:
        key = (write.table, key_of(write.table, write.after))
        if key not in rows:
            rows[key] = next_row
            next_row += 1
    rows["next_row", None] = next_row
    return rows


def _keyed_rows(
    dataset: Dataset, table: str, rows: list[dict[str, Any]], row_of: Mapping[tuple[str, Hashable], int]
) -> dict[str, dict[str, Any]]:
    """A table's node rows by uid, each with the row its record is kept under."""
    for row, record in zip(rows, records_of(dataset)[table], strict=True):
        row["row"] = row_of[table, key_of(table, record)]
    return {row["uid"]: row for row in rows}


def _edge_statements(
    before: Dataset, after: Dataset, g: int, row_of: Mapping[tuple[str, Hashable], int]
) -> list[Statement]:
    """COVERS, ASSIGNED and LINK edges new or changed; PART_OF edges of organizations whose
    parents changed, deleted and written again."""
    statements: list[Statement] = []
    old_edges, new_edges = edge_rows(before, g), edge_rows(after, g)
    for name, table, field in (("covers", "coverage", "covers"), ("assignments", "assignments", "assignments"),
                               ("links", "links", "links")):  # fmt: skip
        old = _keyed_edges(old_edges[name], getattr(before, field), table, row_of)
        new = _keyed_edges(new_edges[name], getattr(after, field), table, row_of)
        created = [edge for row, edge in new.items() if row not in old]
        changed = [edge for row, edge in new.items() if row in old and old[row] != edge]
        statements += [(queries.CREATE_EDGES[name], {"rows": created})] if created else []
        statements += [(queries.SET_EDGE[name], {"rows": changed})] if changed else []

    def parents(edges: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        for edge in edges:
            found.setdefault(edge["a"], []).append(edge)
        return found

    old_parents, new_parents = parents(old_edges["part_of"]), parents(new_edges["part_of"])
    moved = sorted(org for org, edges in new_parents.items() if old_parents.get(org) != edges)
    if moved:
        statements.append((queries.DELETE_PARENTS, {"uids": moved}))
        statements.append((queries.CREATE_EDGES["part_of"], {"rows": [e for org in moved for e in new_parents[org]]}))
    return statements


def _keyed_edges(
    edges: list[dict[str, Any]], records: Sequence[Any], table: str, row_of: Mapping[tuple[str, Hashable], int]
) -> dict[int, dict[str, Any]]:
    """Edge rows by the row each is kept under."""
    found = {}
    for edge, record in zip(edges, records, strict=True):
        row = row_of[table, key_of(table, record)]
        found[row] = {**edge, "props": {**edge["props"], "row": row}}
    return found


def _timeline_changes(before: Dataset, after: Dataset) -> list[dict[str, Any]]:
    """Each group whose timeline the change set changed, with the timeline of the reached
    records before and after: the difference to add to the one kept (`shifted`)."""
    old, new = coverage_index(_counted(before)), coverage_index(_counted(after))
    changes = []
    for by in TIMELINED:
        was = {t.key: t for t in old.group_timelines(by)}
        now = {t.key: t for t in new.group_timelines(by)}
        for key in sorted(was.keys() | now.keys(), key=lambda k: (k is not None, k or "")):
            if was.get(key) != now.get(key):
                changes.append({"by": by.value if by is not None else "ALL", "key": key,
                                "before": _timeline_row(was.get(key)), "after": _timeline_row(now.get(key))})  # fmt: skip
    return changes


def shifted(kept: Mapping[str, Any] | None, change: Mapping[str, Any]) -> dict[str, Any]:
    """A kept timeline's columns with a change's difference added (`None`: a group new to it)."""

    def timeline(row: Mapping[str, Any] | None) -> GroupTimeline:
        if row is None:
            return GroupTimeline(change["key"], [ALWAYS], [[0] * len(TIMELINE_FIELDS)])
        return GroupTimeline(
            change["key"], list(row["days"]), [list(v) for v in zip(*(row[f] for f in TIMELINE_FIELDS))]
        )

    total = summed(
        change["key"], [(timeline(kept), 1), (timeline(change["after"]), 1), (timeline(change["before"]), -1)]
    )
    return _timeline_row(total) or {}


def _timeline_row(timeline: GroupTimeline | None) -> dict[str, Any] | None:
    if timeline is None:
        return None
    columns = list(zip(*timeline.values, strict=True))
    return {
        "days": timeline.days,
        **{name: list(column) for name, column in zip(TIMELINE_FIELDS, columns, strict=True)},
    }


def _counted(dataset: Dataset) -> Dataset:
    """The dataset with a stand-in for each instructor its assignments name but it lacks:
    coverage counts assignments by their instructor's position, never by name."""
    known = {i.id for i in dataset.instructors}
    missing = sorted({a.instructor_id for a in dataset.assignments} - known)
    return replace(dataset, instructors=(*dataset.instructors, *(Instructor(i, "") for i in missing)))


def _facts(
    before: Dataset, after: Dataset, graph: Mapping[str, Any], row_of: Mapping[tuple[str, Hashable], int]
) -> dict[str, Any]:
    """The graph's small facts after the change: counts moved by the difference, and the
    parks, chains, buildings and clusters it brought (none ever leaves: records stay)."""
    kept = dict(zip(graph["summary_keys"], graph["summary_values"], strict=True))
    was, now = before.summary(), after.summary()

    def count(name: str) -> int:
        return int(kept.get(name, 0)) + now.get(name, 0) - was.get(name, 0)

    table = after.enterprises
    parks = sorted(set(graph["parks"]) | {k for k in table.park.keys if k is not None})
    chains = sorted(set(graph["chains"]) | {k for k in table.chain.keys if k is not None})
    buildings = sorted(set(zip(graph["building_parks"], graph["building_names"], strict=True)) | set(table.buildings()))
    kinds = Counter({kind: count(f"organizations.{kind.value}") for kind in OrgKind})
    summary = graph_summary(
        len(parks), len(buildings), count("enterprises"), kinds.elements(), count("departments"),
        count("instructors"), count("covers"), count("links"), count("assignments"),
    )  # fmt: skip
    clusters = dict(zip(graph["cluster_ids"], graph["cluster_names"], strict=True))
    clusters |= {org.id: org.name for org in after.organizations if org.kind is OrgKind.CLUSTER}
    return {
        "summary_keys": list(summary), "summary_values": list(summary.values()), "parks": parks, "chains": chains,
        "building_parks": [park for park, _ in buildings], "building_names": [name for _, name in buildings],
        "cluster_ids": list(clusters), "cluster_names": list(clusters.values()), "next_row": row_of["next_row", None],
    }  # fmt: skip

"""A dataset as the rows the Cypher store writes, and stored properties back as records.

Each record is kept with its own fields (graph.records.record_values), so it reads back
as itself; the store adds what its questions compare, worked out here by the domain
rules: day numbers of when an enterprise counts (`registered`, `inactive`), when an
organization stands (`established`, `dissolved`), when a COVERS or ASSIGNED edge holds
(`from`, `to`; kept on the enterprise too as lists: `covered_…`, `owned_…` for the
organizations of its own, not joint branches, and `worked_…`), when a PART_OF edge
does (lists `from`, `to`: an organization that moved back is under one parent twice);
each enterprise's resolved cluster, and whether an organization is `attached`.
Every node and edge carries its generation `g`; a node's `uid` is "g/id", unique.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graph.coverage import coverage_index
from graph.dataset import Dataset, resolved_clusters
from graph.durable import enterprise_columns
from graph.model import OrgKind, PartOf
from graph.organizations import attached
from graph.query import GroupBy
from graph.records import record_values
from graph.rules import NEVER, cover_span, day_number, inactive_since, parent_spans


def uid(generation: int, some_id: str) -> str:
    """The unique key of a node of `generation`: ids are distinct across every kind an edge names."""
    return f"{generation}/{some_id}"


def enterprise_rows(dataset: Dataset, generation: int) -> list[dict[str, Any]]:
    """Each enterprise's fields, its day numbers and resolved cluster, and the spans of its edges."""
    table = dataset.enterprises
    columns = enterprise_columns(table)
    rows = columns.rename_columns(
        [name if name != "cluster" else "cluster_id" for name in columns.column_names]
    ).to_pylist()
    inactive = inactive_since(table.status, table.status_since).tolist()
    clusters = resolved_clusters(dataset)
    cluster_keys = clusters.keys
    for row, (values, registered, ends, cluster) in enumerate(
        zip(rows, table.registered.tolist(), inactive, clusters.codes.tolist(), strict=True)
    ):
        values["above_scale"], values["key"] = bool(values["above_scale"]), bool(values["key"])
        values.update(
            uid=uid(generation, values["credit_code"]), g=generation, row=row,
            registered=int(registered), inactive=int(ends), resolved_cluster=cluster_keys[cluster],
        )  # fmt: skip
    orgs = {org.id: org for org in dataset.organizations}
    covered = table.rows_of([c.credit_code for c in dataset.covers]).tolist()
    for cover, at in zip(dataset.covers, covered, strict=True):
        since, until = cover_span(cover, orgs[cover.org_id])
        rows[at].setdefault("covered_from", []).append(since)
        rows[at].setdefault("covered_to", []).append(until)
        if orgs[cover.org_id].kind is not OrgKind.JOINT_BRANCH:  # an organization of its own
            rows[at].setdefault("owned_from", []).append(since)
            rows[at].setdefault("owned_to", []).append(until)
    assigned = table.rows_of([a.credit_code for a in dataset.assignments]).tolist()
    for assignment, at in zip(dataset.assignments, assigned, strict=True):
        rows[at].setdefault("worked_from", []).append(day_number(assignment.since))
        rows[at].setdefault("worked_to", []).append(day_number(assignment.until, NEVER))
    return rows


def node_rows(records: Any, generation: int, key: str | None = "id") -> list[dict[str, Any]]:
    """Records as node properties, keyed by the field `key` (None: history rows, no key)."""
    rows = []
    for row, record in enumerate(records):
        values = record_values(record)
        values.update(g=generation, row=row)
        if key is not None:
            values["uid"] = uid(generation, values[key])
        rows.append(values)
    return rows


def organization_rows(dataset: Dataset, generation: int) -> list[dict[str, Any]]:
    """Each organization's fields, the day numbers it stands between, and whether it is attached."""
    rows = node_rows(dataset.organizations, generation)
    for values, org, above in zip(rows, dataset.organizations, attached(dataset.organizations), strict=True):
        values.update(
            established=day_number(org.established_on), dissolved=day_number(org.dissolved_on, NEVER), attached=above
        )
    return rows


def edge_rows(dataset: Dataset, generation: int) -> dict[str, list[dict[str, Any]]]:
    """COVERS, ASSIGNED, PART_OF and LINK edges: the uids of their ends and their properties."""
    orgs = {org.id: org for org in dataset.organizations}
    covers = []
    for row, cover in enumerate(dataset.covers):
        since, until = cover_span(cover, orgs[cover.org_id])
        props = {**record_values(cover), "g": generation, "row": row, "from": since, "to": until}
        covers.append({"a": uid(generation, cover.org_id), "b": uid(generation, cover.credit_code), "props": props})
    assigned = []
    for row, assignment in enumerate(dataset.assignments):
        props = {**record_values(assignment), "g": generation, "row": row,
                 "from": day_number(assignment.since), "to": day_number(assignment.until, NEVER)}  # fmt: skip
        assigned.append(
            {
                "a": uid(generation, assignment.instructor_id),
                "b": uid(generation, assignment.credit_code),
                "props": props,
            }
        )
    ended: dict[str, list[PartOf]] = {}
    for past in dataset.past_parents:
        ended.setdefault(past.org_id, []).append(past)
    part_of = [
        {"a": uid(generation, org.id), "b": uid(generation, parent),
         "props": {"g": generation, "from": [since for since, _ in spans], "to": [until for _, until in spans]}}
        for org in dataset.organizations
        for parent, spans in parent_spans(org, ended.get(org.id, ())).items()
    ]  # fmt: skip
    links = [
        {"a": uid(generation, link.source_id), "b": uid(generation, link.target_id),
         "props": {**record_values(link), "g": generation, "row": row}}
        for row, link in enumerate(dataset.links)
    ]  # fmt: skip
    return {"covers": covers, "assignments": assigned, "part_of": part_of, "links": links}


# Whole-graph coverage is kept as timelines, for no grouping and each of these (buildings
# are too many groups to be worth it: their coverage is counted).
TIMELINED = (None, GroupBy.PARK, GroupBy.CHAIN, GroupBy.CLUSTER, GroupBy.CATEGORY)
TIMELINE_FIELDS = ("enterprises", "organized", "worked", "formal", "organizations")


def timeline_rows(dataset: Dataset, generation: int) -> list[dict[str, Any]]:
    """The coverage of each group of each grouping at every date (graph.coverage.GroupTimeline):
    whole-graph coverage is then read, not counted, whatever the size of the graph."""
    index = coverage_index(dataset)
    rows = []
    for by in TIMELINED:
        for timeline in index.group_timelines(by):
            columns = list(zip(*timeline.values, strict=True))
            rows.append({
                "g": generation, "by": by.value if by is not None else "ALL", "key": timeline.key,
                "days": timeline.days, **{name: list(column) for name, column in zip(TIMELINE_FIELDS, columns, strict=True)},
            })  # fmt: skip
    return rows


def batches(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]

"""Coverage counts (两个覆盖) over the enterprise columns, at any date, for any scope.

Every dated event (a registration, a status change, a COVERS edge taking effect, an
instructor assigned) is placed on a day grid: the sorted distinct days of the data.
An enterprise then counts over a half-open interval of grid positions, and so does
each kind of coverage. A scope's `Timeline` holds the cumulative number of intervals
opening and closing at each position, so coverage on any date is two look-ups and a
trend of any length costs no more than one question; timelines are built once per
scope (a few vectorised passes) and kept in a small LRU cache.
"""

from __future__ import annotations

import threading
import weakref
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from graph.dataset import Dataset, resolved_clusters
from graph.enterprises import Dimension, EnterpriseTable
from graph.errors import InvalidArgument, NotFound
from graph.model import Category, OrgKind
from graph.query import Coverage, CoverageGroup, CoverageState, GroupBy, Scope
from graph.rules import ALWAYS, NEVER, counted_at, day_number, effective_since, inactive_since
from graph.vocabulary import term

TIMELINE_CACHE = 64


class DayGrid:
    """The distinct days of the data; a day's position is how many of them are on or before it.

    Events are stored as positions: 0 for ALWAYS, 1..n for the grid's days, n + 1 for
    NEVER, so an event has happened by `day` exactly when its position <= position(day).
    """

    def __init__(self, *columns: np.ndarray):
        self.days = np.unique(np.concatenate([column[(column != ALWAYS) & (column != NEVER)] for column in columns]))
        self.size = len(self.days) + 2
        self.dtype = np.int16 if self.size < np.iinfo(np.int16).max else np.int32

    def positions(self, days: np.ndarray) -> np.ndarray:
        placed = np.searchsorted(self.days, days) + 1
        placed[days == ALWAYS] = 0
        placed[days == NEVER] = self.size - 1
        return placed.astype(self.dtype)

    def position(self, day: int) -> int:
        return int(np.searchsorted(self.days, day, side="right"))


@dataclass(frozen=True, eq=False)
class Timeline:
    """Cumulative interval openings and closings per grid position, one row per Coverage field."""

    opened: np.ndarray  # shape (Coverage fields, grid size), rows in Coverage's field order
    closed: np.ndarray

    def at(self, positions: Sequence[int]) -> list[Coverage]:
        counts = (self.opened[:, positions] - self.closed[:, positions]).T.tolist()
        return [Coverage(*point) for point in counts]


def _cumulative(
    size: int, starts: np.ndarray, ends: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    keep = starts < ends
    picked = None if weights is None else weights[keep]

    def count(events: np.ndarray) -> np.ndarray:
        return np.cumsum(np.bincount(events[keep], weights=picked, minlength=size)).astype(np.int64)

    return count(starts), count(ends)


@dataclass(frozen=True)
class GroupTimeline:
    """One group's coverage at every date, as stretches over which it stays the same:
    `days[k]` is the first day of stretch k (ALWAYS for the first), `values[k]` its
    Coverage fields. Coverage on a day is the values of the last stretch begun by then."""

    key: str | None
    days: list[int]
    values: list[list[int]]

    def at(self, day: int) -> list[int]:
        """The values on `day`: those of the last stretch begun by then."""
        return self.values[bisect_right(self.days, day) - 1]


def summed(key: str | None, parts: Sequence[tuple[GroupTimeline, int]]) -> GroupTimeline:
    """The timeline of `key` that adds each part's values times its sign: a timeline kept
    whole, updated by what a change did (`[(kept, 1), (after, 1), (before, -1)]`).

    >>> kept = GroupTimeline("P", [ALWAYS, 10], [[0, 0], [5, 1]])
    >>> before, after = GroupTimeline("P", [ALWAYS, 10], [[0, 0], [1, 0]]), GroupTimeline("P", [ALWAYS, 12], [[0, 0], [1, 1]])
    >>> summed("P", [(kept, 1), (after, 1), (before, -1)])
    GroupTimeline(key='P', days=[-2147483648, 10, 12], values=[[0, 0], [4, 1], [5, 2]])
    """
    days: list[int] = []
    values: list[list[int]] = []
    for day in sorted({day for part, _ in parts for day in part.days}):
        total = [
            sum(column) for column in zip(*([sign * v for v in part.at(day)] for part, sign in parts), strict=True)
        ]
        if not values or total != values[-1]:
            days.append(day)
            values.append(total)
    return GroupTimeline(key, days, values)


@dataclass(frozen=True, eq=False)
class Spans:
    """Dated edges to enterprise rows as parallel arrays: each edge's owner (organization or
    instructor), its row, and the half-open span [since, until) it holds over, as day
    numbers (ALWAYS, NEVER for open ends) or, once `placed`, as grid positions."""

    owner: np.ndarray
    row: np.ndarray
    since: np.ndarray
    until: np.ndarray

    def placed(self, grid: DayGrid) -> Spans:
        return Spans(self.owner.astype(np.int32), self.row.astype(np.int32),
                     grid.positions(self.since), grid.positions(self.until))  # fmt: skip

    def holding(self, at: int) -> np.ndarray:
        """Which edges hold at `at`."""
        return (self.since <= at) & (at < self.until)

    def reached(self, size: int, at: int) -> np.ndarray:
        """A mask over `size` rows: those an edge holding at `at` reaches.

        >>> spans = Spans(np.array([0, 0]), np.array([1, 2]), np.array([0, 5]), np.array([3, 9]))
        >>> spans.reached(4, 2).tolist(), spans.reached(4, 3).tolist()
        ([False, True, False, False], [False, False, False, False])
        """
        found = np.zeros(size, dtype=bool)
        found[self.row[self.holding(at)]] = True
        return found

    def reaching(self, rows: np.ndarray, at: int) -> np.ndarray:
        """Of `rows`, which an edge holding at `at` reaches: for a few rows, without a mask over all.

        >>> spans = Spans(np.array([0, 0]), np.array([1, 2]), np.array([0, 5]), np.array([3, 9]))
        >>> spans.reaching(np.array([2, 1, 0]), 6).tolist()
        [True, False, False]
        """
        return np.isin(rows, self.row[self.holding(at) & np.isin(self.row, rows)])

    def within(self, mask: np.ndarray | None) -> Spans:
        """The edges to rows in `mask` (all of them for None)."""
        return self if mask is None else self.picked(mask[self.row])

    def picked(self, edges: np.ndarray) -> Spans:
        """The edges `edges` (a mask over them) picks."""
        return Spans(self.owner[edges], self.row[edges], self.since[edges], self.until[edges])

    def joined(self, other: Spans) -> Spans:
        return Spans(*(np.concatenate([mine, theirs]) for mine, theirs in zip(
            (self.owner, self.row, self.since, self.until), (other.owner, other.row, other.since, other.until),
            strict=True)))  # fmt: skip

    def merged(
        self, opens: np.ndarray, closes: np.ndarray, per: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The union of the spans per row (or per `per`), each cut to its row's [opens, closes)."""
        rows = self.row
        start = np.maximum(self.since, opens[rows])
        end = np.minimum(self.until, closes[rows])
        return merged_intervals(rows if per is None else per, start, end)


def merged_intervals(owner: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Union of each owner's intervals, as (starts, ends) of disjoint intervals; half-open
    intervals that touch join into one ([0, 3) and [3, 5) are [0, 5)).

    >>> merged_intervals(np.array([1, 1, 2]), np.array([0, 2, 5]), np.array([3, 4, 6]))
    (array([0, 5]), array([4, 6]))
    >>> merged_intervals(np.array([1, 1, 1]), np.array([3, 0, 7]), np.array([5, 3, 9]))
    (array([0, 7]), array([5, 9]))
    """
    _, merged_starts, merged_ends = merged_owned(owner, starts, ends)
    return merged_starts, merged_ends


def merged_owned(owner: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`merged_intervals` with the owner of each interval: (owners, starts, ends)."""
    keep = starts < ends
    owner, starts, ends = owner[keep].astype(np.int64), starts[keep].astype(np.int64), ends[keep].astype(np.int64)
    if not len(owner):
        return owner, starts, ends
    order = np.lexsort((starts, owner))
    owner, starts, ends = owner[order], starts[order], ends[order]
    span = int(ends.max()) + 1
    reach = np.maximum.accumulate(owner * span + ends) - owner * span  # running end within each owner
    new = np.ones(len(owner), dtype=bool)
    new[1:] = (owner[1:] != owner[:-1]) | (starts[1:] > reach[:-1])
    first = np.flatnonzero(new)
    return owner[first], starts[first], np.maximum.reduceat(ends, first)


class _Lifetimes:
    """When each enterprise of a table starts and stops counting, as days and placed on a grid.

    Kept per table (a table never changes), so a store built after a write that left the
    enterprises alone, on a grid with no new day, reuses the million positions."""

    _kept: ClassVar[weakref.WeakKeyDictionary[EnterpriseTable, _Lifetimes]] = weakref.WeakKeyDictionary()
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, table: EnterpriseTable):
        self.registered = table.registered
        self.inactive = inactive_since(table.status, table.status_since)
        self.days = DayGrid(self.registered, self.inactive).days
        self._placed: tuple[bytes, np.ndarray, np.ndarray] | None = None

    @classmethod
    def of(cls, table: EnterpriseTable) -> _Lifetimes:
        with cls._lock:
            found = cls._kept.get(table)
            if found is None:
                found = cls._kept[table] = cls(table)
            return found

    def placed(self, grid: DayGrid) -> tuple[np.ndarray, np.ndarray]:
        """(registered, inactive) as positions on `grid`."""
        key = grid.days.tobytes()
        kept = self._placed
        if kept is None or kept[0] != key:
            kept = self._placed = (key, grid.positions(self.registered), grid.positions(self.inactive))
        return kept[1], kept[2]


class CoverageIndex:
    """Coverage questions over an EnterpriseTable and its COVERS and ASSIGNED edges."""

    def __init__(
        self,
        table: EnterpriseTable,
        cluster: Dimension,
        cluster_names: Mapping[str, str],
        edges: Spans,
        assignments: Spans,
    ):
        """COVERS edges and instructor assignments come as spans over the table's rows; an
        edge's span is already when it takes effect and when it ends."""
        self.table = table
        self.dimensions: dict[GroupBy, tuple[Dimension, Mapping[str, str]]] = {
            GroupBy.PARK: (table.park, {}),
            GroupBy.CHAIN: (table.chain, {}),
            GroupBy.CLUSTER: (cluster, cluster_names),
            GroupBy.BUILDING: (table.building, {}),
            GroupBy.CATEGORY: (table.category, {c.value: term(c) or c.value for c in Category}),
        }
        self._cluster_named = _unique_names(cluster_names)
        lifetimes = _Lifetimes.of(table)
        self.grid = DayGrid(lifetimes.days, edges.since, edges.until, assignments.since, assignments.until)
        self.registered, self.inactive = lifetimes.placed(self.grid)
        self.edges = edges.placed(self.grid)
        self.assignments = assignments.placed(self.grid)
        self.edge_org = self.edges.owner
        self.edge_row = self.edges.row
        self._timelines: OrderedDict[Scope, Timeline] = OrderedDict()
        self._lock = threading.Lock()

    # -- masks -------------------------------------------------------------------

    def scope_mask(self, scope: Scope) -> np.ndarray | None:
        """Rows in the scope (None for every row); raises NotFound for an unknown value.

        A category no enterprise has is an empty scope, not an unknown one.
        """
        mask = None
        for by, value in (
            (GroupBy.PARK, scope.park),
            (GroupBy.CHAIN, scope.chain),
            (GroupBy.CLUSTER, scope.cluster),
            (GroupBy.BUILDING, scope.building),
            (GroupBy.CATEGORY, scope.category.value if scope.category else None),
        ):
            if value is None:
                continue
            dimension = self.dimensions[by][0]
            if by is GroupBy.CLUSTER:
                value = self.cluster_id(value)
            code = dimension.code(value) if by is GroupBy.CATEGORY else dimension.require(by.lower(), value)
            matches = dimension.codes == code
            mask = matches if mask is None else mask & matches
        return mask

    def cluster_id(self, given: str) -> str:
        """A cluster named by its id or by its exact name."""
        if self.dimensions[GroupBy.CLUSTER][0].code(given) is not None:
            return given
        ids = self._cluster_named.get(given)
        if ids is None:
            raise NotFound(f"unknown cluster {given!r}: give a cluster's id or its exact name")
        if len(ids) > 1:
            raise InvalidArgument(f"{len(ids)} clusters are named {given!r}; give one id of {', '.join(ids)}")
        return ids[0]

    def organized_at(self, position: int) -> np.ndarray:
        """Rows a COVERS edge reaches at a grid position, whatever their status."""
        return self.edges.reached(self.table.size, position)

    def _reach(self, position: int) -> tuple[np.ndarray, np.ndarray]:
        """(organized, worked) masks over every row at a grid position, whatever the status."""
        organized = self.organized_at(position)
        return organized, ~organized & self.assignments.reached(self.table.size, position)

    def state_mask(self, state: CoverageState, day: int) -> np.ndarray:
        """Rows in `state` at `day`. A state says how party work reaches an enterprise,
        whatever its status; only counts leave out zombie and closed ones."""
        organized, worked = self._reach(self.grid.position(day))
        if state is CoverageState.ORGANIZATION:
            return organized
        return worked if state is CoverageState.WORK else ~organized & ~worked

    def states(self, rows: np.ndarray, day: int) -> list[CoverageState]:
        position = self.grid.position(day)
        organized = self.edges.reaching(rows, position).tolist()
        worked = self.assignments.reaching(rows, position).tolist()
        return [
            CoverageState.ORGANIZATION if o else CoverageState.WORK if w else CoverageState.NONE
            for o, w in zip(organized, worked, strict=True)
        ]

    # -- questions ---------------------------------------------------------------

    def coverage(self, scope: Scope, day: int) -> Coverage:
        return self.trend(scope, [day])[0]

    def trend(self, scope: Scope, days: Sequence[int]) -> list[Coverage]:
        return self.timeline(scope).at([self.grid.position(day) for day in days])

    def timeline(self, scope: Scope) -> Timeline:
        with self._lock:
            found = self._timelines.get(scope)
            if found is not None:
                self._timelines.move_to_end(scope)
                return found
        built = self._build_timeline(scope)
        with self._lock:
            self._timelines[scope] = built
            while len(self._timelines) > TIMELINE_CACHE:
                self._timelines.popitem(last=False)
        return built

    def group_timelines(self, by: GroupBy | None) -> list[GroupTimeline]:
        """Every group's coverage of `by` at every date (one group, key None, without), in
        a few vectorised passes: what `coverage_by` answers on any day, worked out once."""
        size = self.grid.size
        keys: list[str | None] = [None]
        if by is None:
            codes = np.zeros(self.table.size, dtype=np.int64)
        else:
            dimension = self.dimensions[by][0]
            codes, keys = dimension.codes.astype(np.int64), dimension.keys
        groups = len(keys)

        def counts(
            group: np.ndarray, starts: np.ndarray, ends: np.ndarray, weights: np.ndarray | None = None
        ) -> np.ndarray:
            keep = starts < ends
            picked = None if weights is None else weights[keep]

            def events(at: np.ndarray) -> np.ndarray:
                placed = np.bincount(group[keep] * size + at[keep], weights=picked, minlength=groups * size)
                return np.cumsum(placed.reshape(groups, size), axis=1)

            return (events(starts) - events(ends)).astype(np.int64)

        opens, closes = self.registered, self.inactive
        edges = self.edges
        organized = merged_owned(
            edges.row, np.maximum(edges.since, opens[edges.row]), np.minimum(edges.until, closes[edges.row])
        )
        reaching = edges.joined(self.assignments)
        reached = merged_owned(reaching.row, np.maximum(reaching.since, opens[reaching.row]),
                               np.minimum(reaching.until, closes[reaching.row]))  # fmt: skip
        pairs = edges.owner.astype(np.int64) * groups + codes[edges.row]
        by_org = merged_owned(
            pairs, np.maximum(edges.since, opens[edges.row]), np.minimum(edges.until, closes[edges.row])
        )
        rows = np.arange(self.table.size)
        organized_counts = counts(codes[organized[0]], organized[1], organized[2])
        fields = np.stack([
            counts(codes[rows], opens.astype(np.int64), closes.astype(np.int64)),
            organized_counts,
            counts(codes[reached[0]], reached[1], reached[2]) - organized_counts,
            counts(codes[rows], opens.astype(np.int64), closes.astype(np.int64), self.table.formal),
            counts(by_org[0] % groups, by_org[1], by_org[2]),
        ], axis=2)[:, : size - 1]  # (group, position, field); the position of NEVER is never asked  # fmt: skip
        starts = [ALWAYS, *self.grid.days.tolist()]
        found = []
        for code, key in enumerate(keys):
            values = fields[code]
            changed = np.ones(len(values), dtype=bool)
            changed[1:] = (values[1:] != values[:-1]).any(axis=1)
            at = np.flatnonzero(changed)
            found.append(GroupTimeline(key, [starts[p] for p in at.tolist()], values[at].tolist()))
        return found

    def _build_timeline(self, scope: Scope) -> Timeline:
        mask = self.scope_mask(scope)
        rows = np.flatnonzero(mask) if mask is not None else slice(None)
        size = self.grid.size
        start, end = self.registered[rows], self.inactive[rows]
        edges, assignments = self.edges.within(mask), self.assignments.within(mask)
        organized = edges.merged(self.registered, self.inactive)
        reached = edges.joined(assignments).merged(self.registered, self.inactive)
        by_org = edges.merged(self.registered, self.inactive, per=edges.owner)
        reached_open, reached_closed = _cumulative(size, *reached)
        organized_open, organized_closed = _cumulative(size, *organized)
        fields = [
            _cumulative(size, start, end),
            (organized_open, organized_closed),
            (reached_open - organized_open, reached_closed - organized_closed),  # reached by work alone
            _cumulative(size, start, end, self.table.formal[rows]),
            _cumulative(size, *by_org),
        ]
        return Timeline(np.stack([f[0] for f in fields]), np.stack([f[1] for f in fields]))

    def group(self, by: GroupBy, code: int) -> tuple[str, str]:
        """The key and label of group `code` of `by`; the key is what a Scope takes."""
        dimension, labels = self.dimensions[by]
        key = dimension.keys[code]
        return (key or "", "(none)" if key is None else labels.get(key, key))

    def organizations_in(self, scope: Scope, day: int) -> np.ndarray:
        """The organizations (their edge owner numbers, ascending) with a COVERS edge in effect on
        `day` to an enterprise counted in the scope: the ones `Coverage.organizations` counts."""
        position = self.grid.position(day)
        counted = counted_at(self.registered, self.inactive, position)
        mask = self.scope_mask(scope)
        if mask is not None:
            counted &= mask
        live = counted[self.edge_row] & self.edges.holding(position)
        return np.unique(self.edge_org[live])

    def coverage_by(self, by: GroupBy, scope: Scope, day: int) -> list[CoverageGroup]:
        """Coverage per group of `by`, for the groups with enterprises counted in the scope."""
        dimension = self.dimensions[by][0]
        groups = len(dimension.keys)
        position = self.grid.position(day)
        counted = counted_at(self.registered, self.inactive, position)
        mask = self.scope_mask(scope)
        if mask is not None:
            counted &= mask
        organized, worked = (reached & counted for reached in self._reach(position))
        codes = dimension.codes

        def per_group(rows: np.ndarray, weights: np.ndarray | None = None) -> list[int]:
            picked = None if weights is None else weights[rows]
            return np.bincount(codes[rows], weights=picked, minlength=groups).astype(np.int64).tolist()

        enterprises = per_group(counted)
        organization_covered = per_group(organized)
        work_covered = per_group(worked)
        formal = per_group(counted, self.table.formal)
        live = counted[self.edge_row] & self.edges.holding(position)
        orgs = int(self.edge_org.max()) + 1 if len(self.edge_org) else 1
        pairs = np.unique(codes[self.edge_row[live]].astype(np.int64) * orgs + self.edge_org[live])
        organizations = np.bincount(pairs // orgs, minlength=groups).tolist()

        found = []
        for code in range(groups):
            if not enterprises[code]:
                continue
            key, label = self.group(by, code)
            found.append(
                CoverageGroup(
                    key=key,
                    label=label,
                    coverage=Coverage(
                        enterprises[code],
                        organization_covered[code],
                        work_covered[code],
                        formal[code],
                        organizations[code],
                    ),
                )
            )
        return sorted(found, key=lambda group: group.key)


def _unique_names(names: Mapping[str, str]) -> dict[str, list[str]]:
    """Ids by name (a name may be shared by several)."""
    found: dict[str, list[str]] = {}
    for some_id, name in names.items():
        found.setdefault(name, []).append(some_id)
    return found


def cover_spans(dataset: Dataset) -> Spans:
    """Every COVERS edge as a span over the enterprise rows, owned by its organization's
    position: from when it takes effect until it ends or its organization is dissolved."""
    orgs = dataset.organizations
    index = {org.id: n for n, org in enumerate(orgs)}
    established = np.array([day_number(o.established_on) for o in orgs], dtype=np.int64)
    dissolved = np.array([day_number(o.dissolved_on, NEVER) for o in orgs], dtype=np.int64)
    covers = dataset.covers
    owner = np.array([index[c.org_id] for c in covers], dtype=np.int64)
    since = effective_since(established[owner], np.array([day_number(c.since) for c in covers], np.int64))
    until = np.minimum(dissolved[owner], np.array([day_number(c.until, NEVER) for c in covers], np.int64))
    return Spans(owner, dataset.enterprises.rows_of([c.credit_code for c in covers]), since, until)


def assignment_spans(dataset: Dataset) -> Spans:
    """Every instructor's assignment as a span over the enterprise rows, owned by the instructor's position."""
    index = {i.id: n for n, i in enumerate(dataset.instructors)}
    assignments = dataset.assignments
    return Spans(
        np.array([index[a.instructor_id] for a in assignments], dtype=np.int64),
        dataset.enterprises.rows_of([a.credit_code for a in assignments]),
        np.array([day_number(a.since) for a in assignments], dtype=np.int64),
        np.array([day_number(a.until, NEVER) for a in assignments], dtype=np.int64),
    )


def coverage_index(dataset: Dataset, edges: Spans | None = None, assignments: Spans | None = None) -> CoverageIndex:
    """The coverage index of a dataset (its spans worked out when not given)."""
    edges = cover_spans(dataset) if edges is None else edges
    return CoverageIndex(
        dataset.enterprises,
        cluster=resolved_clusters(dataset, edges.owner, edges.row),
        cluster_names={o.id: o.name for o in dataset.organizations if o.kind is OrgKind.CLUSTER},
        edges=edges,
        assignments=assignment_spans(dataset) if assignments is None else assignments,
    )

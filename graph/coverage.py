"""Coverage counts over a columnar index of enterprises.

Every enterprise is one row of a few numpy columns (scope keys, status, dates as
ordinals, members); a scope is a boolean mask and a coverage question a handful of
vectorised sums, so a park of 13,000 enterprises answers in well under a millisecond
and the same index serves any scope, grouping or date.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from graph.errors import NotFound
from graph.model import Enterprise, Status
from graph.query import Coverage, CoverageGroup, CoverageState, GroupBy, Scope

ALWAYS = np.iinfo(np.int64).min  # an undated record counts at every date
NEVER = np.iinfo(np.int64).max  # an enterprise nothing ever covered


def ordinal(day: date | None, missing: int = ALWAYS) -> int:
    return day.toordinal() if day is not None else missing


def as_of_day(as_of: date | None) -> int:
    """The ordinal a question is asked at; no date means after everything dated."""
    return ordinal(as_of, NEVER - 1)


@dataclass(frozen=True, slots=True)
class CoverEdge:
    """An organization covering an enterprise from `since` on (an effective date)."""

    org_id: str
    credit_code: str
    since: date | None


class _Column:
    """Integer codes of one scope dimension; code 0 stands for "not given"."""

    def __init__(self, values: Iterable[str | None], labels: Mapping[str, str] | None = None):
        self.keys: list[str | None] = [None]
        self.code_of: dict[str, int] = {}
        codes = []
        for value in values:
            if value is None:
                codes.append(0)
                continue
            code = self.code_of.get(value)
            if code is None:
                code = self.code_of[value] = len(self.keys)
                self.keys.append(value)
            codes.append(code)
        self.codes = np.asarray(codes, dtype=np.int64)
        self.labels = labels or {}

    def code(self, dimension: str, value: str) -> int:
        try:
            return self.code_of[value]
        except KeyError:
            raise NotFound(f"unknown {dimension} {value!r}") from None

    def label(self, code: int) -> str:
        key = self.keys[code]
        return "(none)" if key is None else self.labels.get(key, key)


class CoverageIndex:
    """Columnar view of all enterprises and their covering edges."""

    def __init__(
        self,
        enterprises: Sequence[Enterprise],
        cluster_ids: Sequence[str | None],
        cluster_names: Mapping[str, str],
        covers: Iterable[CoverEdge],
        assignments: Sequence[tuple[str, date | None]],
    ):
        self.row_of = {e.credit_code: i for i, e in enumerate(enterprises)}
        self.columns = {
            GroupBy.PARK: _Column(e.park for e in enterprises),
            GroupBy.CHAIN: _Column(e.chain for e in enterprises),
            GroupBy.CLUSTER: _Column(cluster_ids, cluster_names),
            GroupBy.BUILDING: _Column(e.building for e in enterprises),
            GroupBy.CATEGORY: _Column(e.category.value for e in enterprises),
        }
        self.active = np.fromiter((e.status is Status.ACTIVE for e in enterprises), bool, len(enterprises))
        self.registered = np.fromiter((ordinal(e.registered_on) for e in enterprises), np.int64, len(enterprises))
        self.formal = np.fromiter((e.formal_members for e in enterprises), np.int64, len(enterprises))

        self.org_ids: list[str] = []
        org_code: dict[str, int] = {}
        edge_org, edge_row, edge_since = [], [], []
        for edge in covers:
            if edge.org_id not in org_code:
                org_code[edge.org_id] = len(self.org_ids)
                self.org_ids.append(edge.org_id)
            edge_org.append(org_code[edge.org_id])
            edge_row.append(self.row_of[edge.credit_code])
            edge_since.append(ordinal(edge.since))
        self.edge_org = np.asarray(edge_org, dtype=np.int64)
        self.edge_row = np.asarray(edge_row, dtype=np.int64)
        self.edge_since = np.asarray(edge_since, dtype=np.int64)

        size = len(enterprises)
        self.organized_since = np.full(size, NEVER, dtype=np.int64)
        np.minimum.at(self.organized_since, self.edge_row, self.edge_since)
        self.worked_since = np.full(size, NEVER, dtype=np.int64)
        rows = [self.row_of[code] for code, _ in assignments]
        days = [ordinal(since) for _, since in assignments]
        np.minimum.at(self.worked_since, np.asarray(rows, dtype=np.int64), np.asarray(days, dtype=np.int64))

    # -- masks -------------------------------------------------------------------

    def scope_mask(self, scope: Scope) -> np.ndarray:
        """Rows in the scope, of any status; raises NotFound for an unknown scope value."""
        mask = np.ones(len(self.active), dtype=bool)
        for dimension, value in (
            (GroupBy.PARK, scope.park),
            (GroupBy.CHAIN, scope.chain),
            (GroupBy.CLUSTER, scope.cluster),
            (GroupBy.BUILDING, scope.building),
            (GroupBy.CATEGORY, scope.category.value if scope.category else None),
        ):
            if value is None:
                continue
            column = self.columns[dimension]
            if dimension is GroupBy.CATEGORY:  # a category no enterprise has is empty, not unknown
                mask &= column.codes == column.code_of.get(value, -1)
            else:
                mask &= column.codes == column.code(dimension.lower(), value)
        return mask

    def _reached(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """(organized, worked) masks over all rows at `day`; work coverage excludes organized rows."""
        organized = self.organized_since <= day
        return organized, ~organized & (self.worked_since <= day)

    def _counted(self, scope: Scope, day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Masks of the counted rows (in scope, ACTIVE, registered), of those organized and
        worked, and of the covering edges alive at `day` that reach a counted row."""
        counted = self.scope_mask(scope) & self.active & (self.registered <= day)
        organized, worked = self._reached(day)
        live_edges = counted[self.edge_row] & (self.edge_since <= day)
        return counted, counted & organized, counted & worked, live_edges

    def state_mask(self, state: CoverageState, as_of: date | None) -> np.ndarray:
        """Rows in the given coverage state at `as_of`."""
        organized, worked = self._reached(as_of_day(as_of))
        return {
            CoverageState.ORGANIZATION: organized,
            CoverageState.WORK: worked,
            CoverageState.NONE: ~organized & ~worked,
        }[state]

    def states(self, rows: np.ndarray, as_of: date | None) -> list[CoverageState]:
        organized, worked = (mask[rows].tolist() for mask in self._reached(as_of_day(as_of)))
        return [
            CoverageState.ORGANIZATION if o else CoverageState.WORK if w else CoverageState.NONE
            for o, w in zip(organized, worked, strict=True)
        ]

    # -- questions ---------------------------------------------------------------

    def coverage(self, scope: Scope, as_of: date | None) -> Coverage:
        counted, organized, worked, live_edges = self._counted(scope, as_of_day(as_of))
        return Coverage(
            enterprises=int(counted.sum()),
            organization_covered=int(organized.sum()),
            work_covered=int(worked.sum()),
            formal_members=int(self.formal[counted].sum()),
            organizations=int(np.unique(self.edge_org[live_edges]).size),
        )

    def coverage_by(self, by: GroupBy, scope: Scope, as_of: date | None) -> list[CoverageGroup]:
        """Coverage per group of `by`, for the groups with enterprises in the scope."""
        column = self.columns[by]
        groups = len(column.keys)
        counted, organized, worked, live_edges = self._counted(scope, as_of_day(as_of))

        def per_group(mask: np.ndarray, weights: np.ndarray | None = None) -> list[int]:
            picked = None if weights is None else weights[mask]
            return np.bincount(column.codes[mask], weights=picked, minlength=groups).astype(np.int64).tolist()

        enterprises = per_group(counted)
        organization_covered = per_group(organized)
        work_covered = per_group(worked)
        formal = per_group(counted, self.formal)
        pairs = np.unique(column.codes[self.edge_row[live_edges]] * (len(self.org_ids) + 1) + self.edge_org[live_edges])
        organizations = np.bincount(pairs // (len(self.org_ids) + 1), minlength=groups).tolist()

        result = [
            CoverageGroup(
                key=column.keys[code] or "",
                label=column.label(code),
                coverage=Coverage(
                    enterprises=enterprises[code],
                    organization_covered=organization_covered[code],
                    work_covered=work_covered[code],
                    formal_members=formal[code],
                    organizations=organizations[code],
                ),
            )
            for code in range(groups)
            if enterprises[code]
        ]
        return sorted(result, key=lambda group: group.key)


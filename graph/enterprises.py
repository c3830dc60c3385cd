"""Enterprises as columns: the million leaves of the graph, about 120 bytes each.

A row is an enterprise in ledger order. Scope dimensions (park, building, chain,
cluster, category) and status are small integer codes, dates are int32 day numbers,
credit codes a fixed-width byte array with a sorted copy for look-ups, names one
Arrow string array. No Python object exists per enterprise: an `Enterprise` record
is built only for the rows a request returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from copy import copy
from datetime import date

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from graph.credit_code import check_characters_hold
from graph.errors import NotFound
from graph.model import Category, Enterprise
from graph.rules import ALWAYS, STATUSES, day_number

CODE_WIDTH = 18
EPOCH = day_number(date(1970, 1, 1))
CATEGORIES: list[Category] = list(Category)
CATEGORIES_BY_VALUE: dict[str | None, Category] = {category.value: category for category in Category}


class Dimension:
    """Integer codes of one text column; code 0 stands for "not given"."""

    def __init__(self, keys: list[str | None], codes: np.ndarray):
        self.keys = keys
        self.codes = codes
        self._code_of = {key: code for code, key in enumerate(keys) if key is not None}

    @classmethod
    def of(cls, column: pl.Series, keys: Sequence[str] = ()) -> Dimension:
        """Codes in order of first appearance, after any `keys` given up front."""
        known = list(dict.fromkeys([*keys, *column.drop_nulls().unique(maintain_order=True).to_list()]))
        dtype = pl.Int16 if len(known) < 32_000 else pl.Int32
        codes = column.replace_strict(known, range(1, len(known) + 1), default=0, return_dtype=dtype)
        return cls([None, *known], codes.to_numpy())

    def code(self, value: str) -> int | None:
        return self._code_of.get(value)

    def put(self, size: int, rows: np.ndarray, values: Sequence[str | None]) -> Dimension:
        """A copy `size` long with `values` at `rows`; new values get new codes."""
        keys = list(self.keys)
        known = dict(self._code_of)
        for value in values:
            if value is not None and value not in known:
                known[value] = len(keys)
                keys.append(value)
        dtype = np.int16 if len(keys) < 32_000 else np.int32
        codes = np.zeros(size, dtype=dtype)
        codes[: len(self.codes)] = self.codes
        codes[rows] = [0 if value is None else known[value] for value in values]
        return Dimension(keys, codes)

    def taken(self, rows: np.ndarray, compact: bool = True) -> Dimension:
        """The codes of `rows`; `compact` drops the keys no row of them has, so a part of a
        table lists only its own parks and chains."""
        codes = self.codes[rows]
        if not compact:
            return Dimension(self.keys, codes)
        used = np.union1d(np.unique(codes), [0])
        renumber = np.zeros(len(self.keys), dtype=codes.dtype)
        renumber[used] = np.arange(len(used))
        return Dimension([self.keys[code] for code in used.tolist()], renumber[codes])

    def require(self, dimension: str, value: str) -> int:
        code = self.code(value)
        if code is None:
            raise NotFound(f"unknown {dimension} {value!r}")
        return code


def day_numbers(column: pl.Series) -> np.ndarray:
    """A date column as int32 day numbers, ALWAYS where empty."""
    return (column.cast(pl.Int32) + EPOCH).fill_null(ALWAYS).to_numpy().astype(np.int32)


def fixed_width(column: pl.Series, width: int) -> np.ndarray:
    """ASCII strings all `width` long as a numpy `S{width}` array, without a Python object each."""
    array = column.to_arrow().cast(pa.large_string())
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64, count=len(array) + 1, offset=array.offset * 8)
    data = np.frombuffer(array.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return data.view(f"S{width}").copy()


CODE_SHAPE = r"^[0-9A-HJ-NP-RTUW-Y]{18}$"  # 18 characters of the GB 32100-2015 alphabet


def valid_codes(codes: pl.Series) -> np.ndarray:
    """Whether each cell is a valid credit code (trimmed and upper case already): the shape,
    then the check character over the whole column in numpy, no Python call per code."""
    shaped = codes.str.contains(CODE_SHAPE).fill_null(False)
    valid = shaped.to_numpy().copy()
    if valid.any():
        valid[valid] = check_characters_hold(fixed_width(codes.filter(shaped), CODE_WIDTH))
    return valid


class EnterpriseTable:
    """All enterprises of a ledger as columns; see the module docstring."""

    def __init__(self, frame: pl.DataFrame):
        """`frame` holds validated columns: the ledger's `enterprises` table after parsing."""
        self.size = frame.height
        self.codes = fixed_width(frame["credit_code"], CODE_WIDTH)
        self._order = np.argsort(self.codes, kind="stable").astype(np.int32)
        self._sorted_codes = self.codes[self._order]
        self.names = frame["name"].to_arrow().cast(pa.string())
        self.park = Dimension.of(frame["park"])
        self.building = Dimension.of(frame["building"])
        self.chain = Dimension.of(frame["chain"])
        self.category = Dimension.of(frame["category"], [c.value for c in CATEGORIES])
        self.declared_cluster = Dimension.of(frame["cluster"])
        statuses = [status.value for status in STATUSES]
        self.status = frame["status"].replace_strict(statuses, range(len(statuses)), return_dtype=pl.Int8).to_numpy()
        self.status_since = day_numbers(frame["status_since"])
        self.registered = day_numbers(frame["registered_on"])
        self.employees = frame["employees"].fill_null(-1).to_numpy().astype(np.int32)
        self.formal = frame["formal_members"].to_numpy().astype(np.int32)
        self.probationary = frame["probationary_members"].to_numpy().astype(np.int32)
        self.above_scale = frame["above_scale"].to_numpy().astype(bool)
        self.key = frame["key"].to_numpy().astype(bool)

    @classmethod
    def of_records(cls, records: Sequence[Enterprise]) -> EnterpriseTable:
        """A table of a few records, in their order (a store hands them over, a test writes them)."""
        frame = pl.DataFrame(
            {
                "credit_code": [r.credit_code for r in records], "name": [r.name for r in records],
                "park": [r.park for r in records], "building": [r.building for r in records],
                "chain": [r.chain for r in records], "category": [r.category.value for r in records],
                "employees": [r.employees for r in records], "formal_members": [r.formal_members for r in records],
                "probationary_members": [r.probationary_members for r in records],
                "above_scale": [r.above_scale for r in records], "key": [r.key for r in records],
                "status": [r.status.value for r in records], "status_since": [r.status_since for r in records],
                "registered_on": [r.registered_on for r in records], "cluster": [r.cluster_id for r in records],
            },
            schema={
                "credit_code": pl.String, "name": pl.String, "park": pl.String, "building": pl.String,
                "chain": pl.String, "category": pl.String, "employees": pl.Int64, "formal_members": pl.Int64,
                "probationary_members": pl.Int64, "above_scale": pl.Boolean, "key": pl.Boolean,
                "status": pl.String, "status_since": pl.Date, "registered_on": pl.Date, "cluster": pl.String,
            },
        )  # fmt: skip
        return cls(frame)

    def __len__(self) -> int:
        return self.size

    def rows_of(self, credit_codes: Sequence[str]) -> np.ndarray:
        """The row of each credit code, -1 where the table has none."""
        rows = np.full(len(credit_codes), -1, dtype=np.int64)
        if not self.size or not credit_codes:
            return rows
        needles = np.array(
            [code.encode("ascii", "replace") if len(code) == CODE_WIDTH else b"" for code in credit_codes],
            dtype=f"S{CODE_WIDTH}",
        )
        at = np.searchsorted(self._sorted_codes, needles).clip(max=self.size - 1)
        hit = self._sorted_codes[at] == needles
        rows[hit] = self._order[at[hit]]
        return rows

    def name_contains(self, needle: str) -> np.ndarray:
        """Rows whose name contains `needle`, ignoring case."""
        found = pc.match_substring(self.names, needle, ignore_case=True)
        return found.to_numpy(zero_copy_only=False)

    def names_of(self, rows: Sequence[int] | np.ndarray) -> list[str]:
        return self.names.take(pa.array(np.asarray(rows, dtype=np.int64))).to_pylist()

    def records(self, rows: Sequence[int] | np.ndarray) -> list[Enterprise]:
        """`Enterprise` records for the given rows, in that order: each column taken once."""
        rows = np.asarray(rows, dtype=np.int64)

        def keys(dimension: Dimension) -> list[str | None]:
            return [dimension.keys[code] for code in dimension.codes[rows].tolist()]

        def days(column: np.ndarray) -> list[date | None]:
            return [None if day == ALWAYS else date.fromordinal(day) for day in column[rows].tolist()]

        columns = zip(
            np.char.decode(self.codes[rows], "ascii").tolist(),
            self.names_of(rows),
            keys(self.park),
            keys(self.building),
            keys(self.chain),
            [CATEGORIES_BY_VALUE[key] for key in keys(self.category)],
            [None if employees < 0 else employees for employees in self.employees[rows].tolist()],
            self.formal[rows].tolist(),
            self.probationary[rows].tolist(),
            self.above_scale[rows].tolist(),
            self.key[rows].tolist(),
            [STATUSES[status] for status in self.status[rows].tolist()],
            days(self.status_since),
            days(self.registered),
            keys(self.declared_cluster),
            strict=True,
        )
        return [Enterprise(*values) for values in columns]

    def updated(self, records: Sequence[Enterprise]) -> EnterpriseTable:
        """A new table with `records` in place of the rows of their credit codes, and the
        records of new credit codes appended in order; this table is left as it was."""
        if not records:
            return self
        rows = self.rows_of([record.credit_code for record in records])
        fresh = np.flatnonzero(rows < 0)
        size = self.size + len(fresh)
        rows[fresh] = np.arange(self.size, size)
        table = copy(self)
        table.size = size

        def put(column: np.ndarray, values: list[object]) -> np.ndarray:
            out = np.empty(size, dtype=column.dtype)
            out[: self.size] = column
            out[rows] = values
            return out

        def days(values: list[date | None]) -> list[object]:
            return [day_number(day) for day in values]

        table.codes = put(self.codes, [r.credit_code.encode("ascii") for r in records])
        names = pl.concat([pl.Series(self.names), pl.Series([None] * len(fresh), dtype=pl.String)])
        table.names = names.scatter(rows, [r.name for r in records]).to_arrow().cast(pa.string())
        table.park = self.park.put(size, rows, [r.park for r in records])
        table.building = self.building.put(size, rows, [r.building for r in records])
        table.chain = self.chain.put(size, rows, [r.chain for r in records])
        table.category = self.category.put(size, rows, [r.category.value for r in records])
        table.declared_cluster = self.declared_cluster.put(size, rows, [r.cluster_id for r in records])
        table.status = put(self.status, [STATUSES.index(r.status) for r in records])
        table.status_since = put(self.status_since, days([r.status_since for r in records]))
        table.registered = put(self.registered, days([r.registered_on for r in records]))
        table.employees = put(self.employees, [-1 if r.employees is None else r.employees for r in records])
        table.formal = put(self.formal, [r.formal_members for r in records])
        table.probationary = put(self.probationary, [r.probationary_members for r in records])
        table.above_scale = put(self.above_scale, [r.above_scale for r in records])
        table.key = put(self.key, [r.key for r in records])
        if len(fresh):
            added = table.codes[rows[fresh]]
            by_code = np.argsort(added, kind="stable")
            at = np.searchsorted(self._sorted_codes, added[by_code])
            table._sorted_codes = np.insert(self._sorted_codes, at, added[by_code])
            table._order = np.insert(self._order, at, rows[fresh][by_code].astype(np.int32))
        return table

    def taken(self, rows: np.ndarray) -> EnterpriseTable:
        """A new table of `rows` only, in their order; this table is left as it was."""
        rows = np.asarray(rows, dtype=np.int64)
        table = copy(self)
        table.size = len(rows)
        table.codes = self.codes[rows]
        table._order = np.argsort(table.codes, kind="stable").astype(np.int32)
        table._sorted_codes = table.codes[table._order]
        table.names = self.names.take(pa.array(rows))
        for name in ("park", "building", "chain", "declared_cluster"):
            setattr(table, name, getattr(self, name).taken(rows))
        table.category = self.category.taken(rows, compact=False)
        for name in (
            "status",
            "status_since",
            "registered",
            "employees",
            "formal",
            "probationary",
            "above_scale",
            "key",
        ):
            setattr(table, name, getattr(self, name)[rows])
        return table

    def buildings(self) -> list[tuple[str, str]]:
        """Distinct (park, building) pairs, sorted."""
        width = len(self.building.keys)
        pairs = self.park.codes.astype(np.int64) * width + self.building.codes
        present = np.flatnonzero(np.bincount(pairs, minlength=len(self.park.keys) * width)).tolist()
        return sorted(
            (park, building)
            for pair in present
            if (park := self.park.keys[pair // width]) is not None
            and (building := self.building.keys[pair % width]) is not None
        )

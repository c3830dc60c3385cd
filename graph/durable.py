"""The durable state: every record, change set and audit entry in one SQLite file.

SQLite in WAL mode with `synchronous=FULL`: a change set is one transaction, and once
it commits it survives a crash or a power cut. The tables are the ledger's tables
with their history (`until`, `dissolved_on`, past PART_OF edges, upgrades), one row
per record, in the order records were first written; an edge that ends is updated,
never deleted. Enterprises are read back as Arrow columns (ADBC), so a million of
them load in about a second.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import typing
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import adbc_driver_sqlite.dbapi as adbc
import polars as pl
import pyarrow as pa

from graph.changes import Change, Receipt, describe
from graph.dataset import Dataset
from graph.enterprises import EPOCH, EnterpriseTable
from graph.errors import ChainorgError, StateProblem
from graph.model import Assignment, Covers, Department, Enterprise, Instructor, Link, Organization, PartOf, Upgrade
from graph.query import Page
from graph.records import KEYS, Draft, Record, Write, field_type, stored_value, value_reader
from graph.rules import ALWAYS, STATUSES

log = logging.getLogger("chainorg.state")
STATE_FILE = "chainorg.sqlite"
SCHEMA_VERSION = 2  # 2: request ids; audit positions count from 1, as error messages do
# A client's request id for each change set that named one: a repeat returns that change set's receipt.
REQUESTS = """CREATE TABLE IF NOT EXISTS requests (
    request_id TEXT PRIMARY KEY, change_set INTEGER NOT NULL REFERENCES change_sets(id), digest TEXT NOT NULL)"""


class WriteFailed(ChainorgError):
    """SQLite could not commit a change set (a full disk, say); nothing of it was written."""

    code = "WRITE_FAILED"


@dataclass(frozen=True, slots=True)
class Kept:
    """How one kind of record is kept: its class, its table and the fields that identify it."""

    record: type
    table: str

    @property
    def key(self) -> tuple[str, ...]:
        return KEYS[self.table]

    @property
    def columns(self) -> list[str]:
        return [_COLUMN.get(f.name, f.name) for f in fields(self.record)]


_COLUMN = {"cluster_id": "cluster"}  # an enterprise's cluster: the ledger's column name
KEPT = {
    table: Kept(record, table)
    for table, record in (
        ("enterprises", Enterprise), ("organizations", Organization), ("coverage", Covers), ("links", Link),
        ("instructors", Instructor), ("assignments", Assignment), ("departments", Department),
        ("part_of", PartOf), ("upgrades", Upgrade),
    )
}  # fmt: skip
_SQL_TYPE = {int: "INTEGER", bool: "INTEGER", str: "TEXT", date: "TEXT"}


def _base_type(hint: Any) -> type:
    """The Python type a field is stored as: enums as their text."""
    kind = field_type(hint)
    return str if isinstance(kind, type) and issubclass(kind, Enum) else kind


def _create_tables(connection: sqlite3.Connection) -> None:
    for kept in KEPT.values():
        hints = typing.get_type_hints(kept.record)
        declared = ", ".join(
            f'"{column}" {_SQL_TYPE[_base_type(hints[f.name])]}'
            for f, column in zip(fields(kept.record), kept.columns, strict=True)
        )
        connection.execute(f"CREATE TABLE {kept.table} ({declared})")
        keys = ", ".join(f'"{_COLUMN.get(k, k)}"' for k in kept.key)
        connection.execute(f"CREATE INDEX {kept.table}_key ON {kept.table} ({keys})")
    connection.executescript("""
        CREATE TABLE change_sets (id INTEGER PRIMARY KEY, at TEXT NOT NULL, who TEXT NOT NULL, changes INTEGER NOT NULL);
        CREATE TABLE audit (change_set INTEGER NOT NULL REFERENCES change_sets(id), position INTEGER NOT NULL,
                            kind TEXT NOT NULL, subject TEXT NOT NULL, change TEXT NOT NULL,
                            before TEXT NOT NULL, after TEXT NOT NULL);
        CREATE INDEX audit_subject ON audit (subject);
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """)
    connection.execute(REQUESTS)
    connection.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))


def _insert(connection: sqlite3.Connection, table: str, records: Iterable[Record]) -> None:
    kept = KEPT[table]
    names = [f.name for f in fields(kept.record)]
    marks = ", ".join("?" * len(names))
    connection.executemany(
        f"INSERT INTO {table} VALUES ({marks})", ([stored_value(getattr(r, n)) for n in names] for r in records)
    )


def enterprise_columns(table: EnterpriseTable) -> pa.Table:
    """The enterprise columns as the `enterprises` table stores them."""
    rows = range(table.size)

    def keys(dimension: Any) -> pa.Array:
        return pa.array(dimension.keys, pa.string()).take(pa.array(dimension.codes, pa.int32()))

    def days(column: Any) -> pa.Array:  # ISO text, the whole column at once
        return pa.array((column - EPOCH).astype("datetime64[D]"), mask=column == ALWAYS).cast(pa.string())

    employees = table.employees.astype("int64")
    return pa.table({
        "credit_code": pa.array(table.codes.astype(str), pa.string()),
        "name": table.names,
        "park": keys(table.park),
        "building": keys(table.building),
        "chain": keys(table.chain),
        "category": keys(table.category),
        "employees": pa.array(employees, mask=employees < 0),
        "formal_members": pa.array(table.formal.astype("int64")),
        "probationary_members": pa.array(table.probationary.astype("int64")),
        "above_scale": pa.array(table.above_scale.astype("int64")),
        "key": pa.array(table.key.astype("int64")),
        "status": pa.array([s.value for s in STATUSES]).take(pa.array(table.status.astype("int32"))),
        "status_since": days(table.status_since),
        "registered_on": days(table.registered),
        "cluster": keys(table.declared_cluster),
    }) if len(rows) else pa.table({c: pa.array([], pa.string()) for c in KEPT["enterprises"].columns})  # fmt: skip


def check_new_state(folder: Path) -> Path:
    """Where a new state in `folder` goes; StateProblem when `folder` holds one already (asked
    before a ledger is read, so a refusal comes at once)."""
    target = folder / STATE_FILE
    if target.exists():
        raise StateProblem(
            f"{folder} holds a state already; choose a new folder, or remove that folder whole "
            f"(its state file, write-ahead log and lock go together: rm -r {folder})"
        )
    return target


def create_state(folder: Path, dataset: Dataset, stands_on: date | None = None) -> Path:
    """A new state in `folder` holding `dataset`; all or nothing: the file appears only
    once complete. Refused when `folder` already holds a state. With `stands_on` the state's
    clock stands still on that day (graph.rules.clock); without, it follows the calendar."""
    target = check_new_state(folder)
    folder.mkdir(parents=True, exist_ok=True)
    building = folder / f"{STATE_FILE}.importing"
    for leftover in folder.glob(f"{STATE_FILE}.importing*"):
        leftover.unlink()
    connection = sqlite3.connect(building)
    try:
        _create_tables(connection)
        for table, records in (
            ("organizations", dataset.organizations), ("coverage", dataset.covers), ("links", dataset.links),
            ("instructors", dataset.instructors), ("assignments", dataset.assignments),
            ("departments", dataset.departments), ("part_of", dataset.past_parents), ("upgrades", dataset.upgrades),
        ):  # fmt: skip
            _insert(connection, table, records)
        if stands_on is not None:
            connection.execute("INSERT INTO meta VALUES ('stands_on', ?)", (stands_on.isoformat(),))
        connection.commit()
    finally:
        connection.close()
    with adbc.connect(str(building)) as bulk:
        with bulk.cursor() as cursor:
            cursor.adbc_ingest("enterprises", enterprise_columns(dataset.enterprises), mode="append")
        bulk.commit()
    with open(building, "rb+") as file:
        os.fsync(file.fileno())
    os.replace(building, target)
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return target


@dataclass(frozen=True, slots=True)
class Commit:
    """One change set to commit: its draft, its changes, who made it, and its (request id, digest)."""

    draft: Draft
    changes: Sequence[Change]
    who: str
    request: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One change of a change set: what it asked, and every record before and after it."""

    change_set: int
    at: datetime
    who: str
    position: int
    kind: str
    subject: str
    change: dict[str, Any]
    before: list[dict[str, Any]]
    after: list[dict[str, Any]]


def state_file(folder: Path) -> Path:
    """The state file in `folder`; StateProblem when there is none."""
    path = folder / STATE_FILE
    if not path.is_file():
        raise StateProblem(
            f"{folder} holds no state ({STATE_FILE}); make one with `chainorg load LEDGER --state {folder}`"
        )
    return path


def read_state(folder: Path) -> Dataset:
    """Every record of the state in `folder`, as it is now (also while a server writes to it)."""
    durable = DurableState(folder)
    try:
        return durable.read()
    finally:
        durable.close()


class DurableState:
    """One state file: read it whole, commit change sets to it, read its audit trail."""

    def __init__(self, folder: Path):
        """Open the state in `folder`. Its enterprises are read first, before this process
        opens the file with the standard library's SQLite: ADBC links a SQLite of its own,
        and two SQLite libraries must never hold one file open at once (POSIX locks are
        per process, so one closing its file would drop the other's locks)."""
        self.folder = folder
        self.path = state_file(folder)
        self.connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            found = self.connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.DatabaseError as error:
            self.connection.close()
            raise StateProblem(f"{self.path} is not a chainorg state: {error}") from None
        if found is None or int(found[0]) not in (1, SCHEMA_VERSION):
            self.connection.close()
            raise StateProblem(
                f"{self.path} has schema version {found and found[0]}; this chainorg reads {SCHEMA_VERSION}"
            )
        self.connection.close()
        self._enterprises: pl.DataFrame | None = self._enterprise_frame()
        self.connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=FULL")
        self.connection.execute("PRAGMA busy_timeout=10000")
        self.connection.execute("PRAGMA wal_autocheckpoint=0")  # the State checkpoints between commits
        if int(found[0]) == 1:
            self._upgrade_from_1()

    def _upgrade_from_1(self) -> None:
        """A state of schema 1, brought to 2 in one transaction: it gains the request ids'
        table, and its audit positions, which counted from 0, count from 1."""
        connection = self.connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.execute(REQUESTS)  # states made before request ids were kept have none
            connection.execute("UPDATE audit SET position = position + 1")
            connection.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.connection.close()

    @property
    def stands_on(self) -> date | None:
        """The day the state's clock stands on, if it was made to stand still."""
        found = self.connection.execute("SELECT value FROM meta WHERE key = 'stands_on'").fetchone()
        return date.fromisoformat(found[0]) if found is not None else None

    @contextmanager
    def checkpointer(self) -> Iterator[Callable[[], None]]:
        """A function that folds the write-ahead log into the file, on a connection of its own:
        committed data is safe either way, this keeps the log short without holding up commits."""
        connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        connection.execute("PRAGMA synchronous=FULL")
        try:
            yield lambda: connection.execute("PRAGMA wal_checkpoint(PASSIVE)").close()
        finally:
            connection.close()

    def read(self) -> Dataset:
        """Every record as a Dataset; once, as the state is opened."""
        if self._enterprises is None:
            raise StateProblem("a state is read once, when it is opened")
        tables = {table: self._records(table) for table in KEPT if table != "enterprises"}
        enterprises, self._enterprises = self._enterprises, None
        return Dataset(
            enterprises=EnterpriseTable(enterprises),
            organizations=tuple(tables["organizations"]),
            covers=tuple(tables["coverage"]),
            links=tuple(tables["links"]),
            instructors=tuple(tables["instructors"]),
            assignments=tuple(tables["assignments"]),
            departments=tuple(tables["departments"]),
            past_parents=tuple(tables["part_of"]),
            upgrades=tuple(tables["upgrades"]),
        )

    def _records(self, table: str) -> list[Any]:
        kept = KEPT[table]
        hints = typing.get_type_hints(kept.record)
        readers = [value_reader(hints[f.name]) for f in fields(kept.record)]
        cursor = self.connection.execute(f"SELECT * FROM {table} ORDER BY rowid")
        return [kept.record(*(read(value) for read, value in zip(readers, row, strict=True))) for row in cursor]

    def _enterprise_frame(self) -> pl.DataFrame:
        """The enterprises as the ledger's parsed columns. Every column is selected non-null
        (ADBC types a column by its first rows), then emptiness turned back into null."""
        hints = typing.get_type_hints(Enterprise)
        text: list[str] = []
        numbers: list[str] = []
        for f, column in zip(fields(Enterprise), KEPT["enterprises"].columns, strict=True):
            (text if _base_type(hints[f.name]) in (str, date) else numbers).append(column)
        selected = [f'COALESCE("{c}", \'\') AS "{c}"' for c in text] + [
            f'COALESCE("{c}", -1) AS "{c}"' for c in numbers
        ]
        with adbc.connect(str(self.path)) as bulk, bulk.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(selected)} FROM enterprises ORDER BY rowid")
            frame = pl.from_arrow(cursor.fetch_arrow_table())
        assert isinstance(frame, pl.DataFrame)
        return frame.select(
            *(pl.col(c).replace("", None).str.to_date() if c in ("status_since", "registered_on") else
              pl.col(c).replace("", None) for c in text),
            *(pl.col(c).replace(-1, None).cast(pl.Int64) if c == "employees" else pl.col(c) for c in numbers),
        )  # fmt: skip

    def earlier(self, request_id: str) -> tuple[Receipt, str] | None:
        """The receipt and digest of the change set committed under `request_id`, if one was."""
        found = self.connection.execute(
            "SELECT change_sets.id, at, who, changes, digest FROM requests "
            "JOIN change_sets ON change_sets.id = requests.change_set WHERE request_id = ?",
            (request_id,),
        ).fetchone()
        if found is None:
            return None
        change_set, at, who, changes, fingerprint = found
        return Receipt(change_set, datetime.fromisoformat(at), who, changes, repeated=True), fingerprint

    def commit(self, batch: Sequence[Commit]) -> list[Receipt]:
        """Write each change set of `batch`, all in one transaction."""
        connection, done = self.connection, []
        connection.execute("BEGIN IMMEDIATE")
        try:
            for entry in batch:
                draft, changes, who = entry.draft, entry.changes, entry.who
                at = datetime.now(UTC)
                cursor = connection.execute(
                    "INSERT INTO change_sets (at, who, changes) VALUES (?, ?, ?)", (at.isoformat(), who, len(changes))
                )
                change_set = cursor.lastrowid
                assert change_set is not None
                if entry.request is not None:
                    request_id, fingerprint = entry.request
                    connection.execute("INSERT INTO requests VALUES (?, ?, ?)", (request_id, change_set, fingerprint))
                for write in draft.writes:
                    self._write(write)
                connection.executemany(
                    "INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(change_set, *entry) for entry in audit_entries(draft, changes)],
                )
                done.append(Receipt(change_set, at, who, len(changes)))
            connection.execute("COMMIT")
        except BaseException as error:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            if isinstance(error, sqlite3.Error):  # the detail (SQL, paths) goes to the log, not the client
                log.error("a change set was not written to %s", self.path, exc_info=error)
                raise WriteFailed(f"not written, nothing of it kept: {_written_problem(error)}") from error
            raise
        return done

    def _write(self, write: Write) -> None:
        kept = KEPT[write.table]
        names = [f.name for f in fields(kept.record)]
        values = [stored_value(getattr(write.after, name)) for name in names]
        if write.before is None:
            self.connection.execute(f"INSERT INTO {kept.table} VALUES ({', '.join('?' * len(names))})", values)
            return
        assigned = ", ".join(f'"{column}" = ?' for column in kept.columns)
        matched = " AND ".join(f'"{_COLUMN.get(k, k)}" IS ?' for k in kept.key)
        keys = [stored_value(getattr(write.before, k)) for k in kept.key]
        self.connection.execute(f"UPDATE {kept.table} SET {assigned} WHERE {matched}", [*values, *keys])


def _written_problem(error: sqlite3.Error) -> str:
    """What a client is told of a failed commit: the cause in a few words, never SQL or paths.

    >>> _written_problem(sqlite3.OperationalError("database or disk is full"))
    'the disk is full'
    """
    code = getattr(error, "sqlite_errorcode", None)
    if code == sqlite3.SQLITE_FULL or "full" in str(error):
        return "the disk is full"
    if code == sqlite3.SQLITE_READONLY or "readonly" in str(error):
        return "the state cannot be written (read-only)"
    return "the state file could not be written (the server's log says why)"


def audit_log(folder: Path, since: datetime | None, subject: str | None, offset: int, limit: int) -> Page[AuditEntry]:
    """Audit entries, oldest first, from `since`, about `subject` (any id a change names)."""
    where, arguments = [], []
    if since is not None:
        where.append("change_sets.at >= ?")
        arguments.append(utc_text(since))
    if subject is not None:  # as a JSON string inside the change, its LIKE wildcards taken literally
        quoted = json.dumps(subject, ensure_ascii=False)
        where.append("(audit.subject = ? OR audit.change LIKE ? ESCAPE '\\')")
        arguments += [subject, "%" + re.sub(r"([\\%_])", r"\\\1", quoted) + "%"]
    condition = f"WHERE {' AND '.join(where)}" if where else ""
    joined = f"FROM audit JOIN change_sets ON change_sets.id = audit.change_set {condition}"
    reader = sqlite3.connect(state_file(folder))  # a reader of its own: WAL lets it read while a commit runs
    try:
        total = reader.execute(f"SELECT COUNT(*) {joined}", arguments).fetchone()[0]
        rows = reader.execute(
            f"SELECT change_set, at, who, position, kind, subject, change, before, after {joined} "
            "ORDER BY change_set, position LIMIT ? OFFSET ?",
            [*arguments, limit, offset],
        ).fetchall()
    finally:
        reader.close()
    entries = [
        AuditEntry(c, datetime.fromisoformat(at), who, p, kind, subj, json.loads(change), json.loads(b), json.loads(a))
        for c, at, who, p, kind, subj, change, b, a in rows
    ]
    return Page(entries, total, offset)


def utc_text(moment: datetime) -> str:
    """`moment` as the audit trail's UTC text; a moment before year 1 in UTC is the earliest there is."""
    try:
        return moment.astimezone(UTC).isoformat()
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC).isoformat()


def audit_entries(draft: Draft, changes: Sequence[Change]) -> list[tuple[int, str, str, str, str, str]]:
    """Each change of an applied set as the audit trail keeps it: its position (from 1), kind
    and subject, and as JSON what it asked and every record before and after it."""
    ends = [*draft.marks[1:], len(draft.writes)]
    entries = []
    for position, (change, start, end) in enumerate(zip(changes, draft.marks, ends, strict=True), 1):
        touched = draft.writes[start:end]
        entries.append((
            position, change.kind, change.subject(), json.dumps(describe(change), ensure_ascii=False),
            _json([(w.table, w.before) for w in touched if w.before is not None]), _json([(w.table, w.after) for w in touched]),
        ))  # fmt: skip
    return entries


def _json(records: list[tuple[str, Record | None]]) -> str:
    return json.dumps([{"table": table, **describe(record)} for table, record in records], ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class History:
    """What a state keeps besides its records, as its rows: change sets, audit entries,
    request ids and scenarios (for `chainorg load --state DIR --to-store URL`)."""

    stands_on: date | None
    change_sets: list[dict[str, Any]]
    audit: list[dict[str, Any]]
    requests: list[dict[str, Any]]
    scenarios: list[dict[str, Any]]

    @property
    def last_change_set(self) -> int:
        return max((row["change_set"] for row in self.change_sets), default=0)


AUDIT_ROWS = """SELECT position, kind, subject, change, before, after, change_set, at, who
FROM audit JOIN change_sets ON change_sets.id = audit.change_set ORDER BY change_set, position"""


def history(folder: Path) -> History:
    """The change sets, audit trail, request ids and scenarios of the state in `folder`, read
    in one transaction (a writer meanwhile changes nothing of what is read)."""
    reader = sqlite3.connect(state_file(folder), isolation_level=None)
    reader.row_factory = sqlite3.Row
    try:
        reader.execute("BEGIN")
        tables = {row[0] for row in reader.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

        def rows(text: str, table: str) -> list[dict[str, Any]]:
            return [dict(row) for row in reader.execute(text)] if table in tables else []

        stands_on = reader.execute("SELECT value FROM meta WHERE key = 'stands_on'").fetchone()
        return History(
            date.fromisoformat(stands_on[0]) if stands_on is not None else None,
            rows("SELECT id AS change_set, at, who, changes FROM change_sets ORDER BY id", "change_sets"),
            rows(AUDIT_ROWS, "audit"),
            rows("SELECT request_id, change_set, digest FROM requests ORDER BY change_set", "requests"),
            rows("SELECT name, saved_at, who, changes, applied_change_set FROM scenarios ORDER BY name", "scenarios"),
        )
    finally:
        reader.close()

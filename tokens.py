"""Bearer tokens: made, listed and revoked from the command line; checked on every request.

A token is shown once, when it is made; only its SHA-256 is kept, in a `tokens` table of
the state's SQLite file (or of a tokens file given with `--tokens FILE`, for a server
over a plain ledger), or as `:ChainorgToken` nodes of a graph database, which every server
on it reads (`--store URL`). Tokens are 256 random bits, so a fast hash is as safe as a slow one
and the check costs microseconds: `TokenCheck` holds the table in memory and re-reads it
every `REFRESH` seconds, so a token made, revoked or expired while the server runs takes
effect within two seconds without a restart. A token's last use is written back in the
same pass, never on the request's path.

>>> is_token_like("chainorg_" + "A" * 43)
True
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as day_start
from pathlib import Path
from typing import Any, Protocol

from graph.access import ADMIN_EVERYWHERE, EVERYWHERE, Boundary, Caller, Role, Unauthenticated
from graph.errors import ChainorgError
from graph.rules import text_problem
from graph.stores.cypher.address import StoreAddress

PREFIX = "chainorg_"
TOKEN = re.compile(rf"{PREFIX}[A-Za-z0-9_-]{{43}}")
REFRESH = 1.0  # seconds between two readings of the tokens table by a running server
TABLE = """CREATE TABLE IF NOT EXISTS tokens (
    name TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, role TEXT NOT NULL, parks TEXT NOT NULL, chains TEXT NOT NULL,
    created TEXT NOT NULL, expires TEXT, last_used TEXT, revoked TEXT)"""
MAX_NAME = 100


class TokenProblem(ChainorgError):
    """A token command cannot do what it was asked; the message says why."""

    code = "TOKEN_PROBLEM"


LOOPBACK = ("127.", "::1", "localhost")


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or name a server binds or a client comes from) is this machine only.

    >>> is_loopback("127.0.0.1"), is_loopback("0.0.0.0")
    (True, False)
    """
    return host.startswith(LOOPBACK)


def is_token_like(text: str) -> bool:
    return TOKEN.fullmatch(text) is not None


def fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def expiry(text: str) -> datetime:
    """When a token given `--expires TEXT` stops working: a date means its first moment (UTC).

    >>> expiry("2027-01-01")
    datetime.datetime(2027, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = datetime.combine(date.fromisoformat(text), day_start())
        except ValueError:
            raise TokenProblem(
                f"--expires {text!r}: give a date like 2027-01-01 or a time like 2027-01-01T08:00Z"
            ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class TokenRecord:
    """What is kept of a token: never the token itself."""

    name: str
    role: Role
    boundary: Boundary
    created: datetime
    expires: datetime | None = None
    last_used: datetime | None = None
    revoked: datetime | None = None

    def refusal(self, now: datetime) -> str | None:
        """Why the token no longer works at `now`, or None while it does."""
        if self.revoked is not None:
            return f"the token {self.name!r} was revoked"
        if self.expires is not None and now >= self.expires:
            return f"the token {self.name!r} expired at {self.expires.isoformat()}"
        return None

    def caller(self) -> Caller:
        return Caller(self.name, self.role, self.boundary)


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _record(row: tuple[str, str, str, str, str, str | None, str | None, str | None]) -> TokenRecord:
    name, role, parks, chains, created, expires, last_used, revoked = row
    return TokenRecord(
        name, Role.named(role), Boundary.of(json.loads(parks), json.loads(chains)), datetime.fromisoformat(created),
        _moment(expires), _moment(last_used), _moment(revoked),
    )  # fmt: skip


COLUMNS = "name, role, parks, chains, created, expires, last_used, revoked"


class Book(Protocol):
    """Where a server's tokens are kept: a SQLite file (`TokenBook`) or a graph database
    (`GraphTokenBook`), which every server on that database reads."""

    def create(
        self, name: str, role: Role, boundary: Boundary = EVERYWHERE, expires: datetime | None = None
    ) -> str: ...
    def listed(self) -> list[TokenRecord]: ...
    def revoke(self, name: str) -> TokenRecord: ...
    def by_fingerprint(self) -> dict[str, TokenRecord]: ...
    def mark_used(self, used: dict[str, datetime]) -> None: ...
    def close(self) -> None: ...


def _new_token(name: str, expires: datetime | None) -> tuple[str, str, datetime]:
    """A new token for `name` (checked, stripped): the name, the token, and now."""
    name = name.strip()
    if not name or len(name) > MAX_NAME or (problem := text_problem(name)):
        raise TokenProblem(f"--name {name!r}: {problem if name else 'a name is needed'}"[:200])
    now = datetime.now(UTC)
    if expires is not None and expires <= now:
        raise TokenProblem(f"--expires {expires.isoformat()} is past already")
    return name, PREFIX + secrets.token_urlsafe(32), now


def _taken(name: str) -> TokenProblem:
    return TokenProblem(f"a token named {name!r} exists (revoked ones too: a name in the audit trail means one token)")


class TokenBook:
    """The tokens table of one SQLite file (a state's, or a tokens file of its own)."""

    def __init__(self, path: Path):
        self.path = path

    @contextmanager
    def _connected(self, create: bool = False) -> Iterator[sqlite3.Connection]:
        if not create and not self.path.exists():
            raise TokenProblem(f"{self.path} does not exist")
        if self.path.exists() and not self.path.is_file():
            raise TokenProblem(f"{self.path} is not a file: a tokens file is one SQLite file")
        try:
            with closing(sqlite3.connect(self.path, timeout=10)) as connection, connection:
                connection.execute("PRAGMA busy_timeout = 10000")
                connection.execute(TABLE)
                yield connection
        except sqlite3.DatabaseError as error:
            raise TokenProblem(f"{self.path} cannot hold tokens: {error}") from None

    def create(self, name: str, role: Role, boundary: Boundary = EVERYWHERE, expires: datetime | None = None) -> str:
        """Make a token and keep its hash; the token is returned once, never kept."""
        name, token, now = _new_token(name, expires)
        with self._connected(create=True) as connection:
            try:
                connection.execute(
                    f"INSERT INTO tokens ({COLUMNS}, hash) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, ?)",
                    (name, role.label, json.dumps(sorted(boundary.parks), ensure_ascii=False),
                     json.dumps(sorted(boundary.chains), ensure_ascii=False), now.isoformat(),
                     expires.isoformat() if expires else None, fingerprint(token)),
                )  # fmt: skip
            except sqlite3.IntegrityError:
                raise _taken(name) from None
        return token

    def listed(self) -> list[TokenRecord]:
        with self._connected() as connection:
            rows = connection.execute(f"SELECT {COLUMNS} FROM tokens ORDER BY created, name").fetchall()
        return [_record(row) for row in rows]

    def revoke(self, name: str) -> TokenRecord:
        with self._connected() as connection:
            connection.execute(
                "UPDATE tokens SET revoked = ? WHERE name = ? AND revoked IS NULL",
                (datetime.now(UTC).isoformat(), name),
            )
            row = connection.execute(f"SELECT {COLUMNS} FROM tokens WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise TokenProblem(f"no token is named {name!r} (`chainorg token list` shows them)")
        return _record(row)

    def by_fingerprint(self) -> dict[str, TokenRecord]:
        """Every token, by the hash of its text; {} when the file holds no tokens yet."""
        if not self.path.exists():
            return {}
        with self._connected() as connection:
            rows = connection.execute(f"SELECT hash, {COLUMNS} FROM tokens").fetchall()
        return {row[0]: _record(row[1:]) for row in rows}

    def mark_used(self, used: dict[str, datetime]) -> None:
        """Write down when tokens (by name) were last used."""
        if used:
            with self._connected() as connection:
                connection.executemany(
                    "UPDATE tokens SET last_used = ? WHERE name = ?", [(t.isoformat(), n) for n, t in used.items()]
                )

    def close(self) -> None:
        """Nothing stays open between two uses of the file."""


# The tokens of a graph database: one node each, beside the graph and outside its generations.
TOKEN_SCHEMA = "CREATE CONSTRAINT chainorg_token_name IF NOT EXISTS FOR (t:ChainorgToken) REQUIRE t.name IS UNIQUE"
TOKEN_CREATE = """
OPTIONAL MATCH (old:ChainorgToken {name: $name})
WITH old WHERE old IS NULL
CREATE (t:ChainorgToken) SET t = $fields
RETURN count(t) AS made
"""
TOKENS_LISTED = "MATCH (t:ChainorgToken) RETURN properties(t) AS token ORDER BY t.created, t.name"
TOKEN_REVOKE = """
MATCH (t:ChainorgToken {name: $name})
SET t.revoked = coalesce(t.revoked, $now)
RETURN properties(t) AS token
"""
TOKENS_DROPPED = "UNWIND $names AS name MATCH (t:ChainorgToken {name: name}) DELETE t"
TOKENS_ADOPTED = "UNWIND $tokens AS fields CREATE (t:ChainorgToken) SET t = fields"
TOKENS_USED = "UNWIND $used AS u MATCH (t:ChainorgToken {name: u.name}) SET t.last_used = u.at"


class GraphTokenBook:
    """The tokens of a graph database: every server on it reads the same ones, so a token
    made or revoked through one reaches all of them within REFRESH."""

    def __init__(self, address: StoreAddress):
        self.address = address
        self._driver: Any = None
        self._schema = False

    def _run(self, text: str, **parameters: Any) -> list[dict[str, Any]]:
        return self._transaction([(text, parameters)])[-1]

    def _transaction(self, statements: list[tuple[str, dict[str, Any]]]) -> list[list[dict[str, Any]]]:
        """Each statement's rows, all run in one transaction: every one of them or none."""
        import neo4j

        from graph.stores.cypher.connection import CONNECTION_SECONDS, problem

        address = self.address
        try:
            if self._driver is None:
                self._driver = neo4j.GraphDatabase.driver(
                    address.uri, auth=(address.user, address.password), connection_timeout=CONNECTION_SECONDS,
                    max_transaction_retry_time=CONNECTION_SECONDS,
                )  # fmt: skip
            if not self._schema:
                self._driver.execute_query(TOKEN_SCHEMA, database_=address.database)
                self._schema = True
            with self._driver.session(database=address.database) as session:
                return session.execute_write(
                    lambda tx: [
                        [record.data() for record in tx.run(text, parameters)] for text, parameters in statements
                    ]
                )
        except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError, OSError) as error:
            raise TokenProblem(str(problem(address, error))) from None

    def create(self, name: str, role: Role, boundary: Boundary = EVERYWHERE, expires: datetime | None = None) -> str:
        name, token, now = _new_token(name, expires)
        fields = _node_fields(fingerprint(token), TokenRecord(name, role, boundary, now, expires))
        [found] = self._run(TOKEN_CREATE, name=name, fields=fields) or [{"made": 0}]
        if not found["made"]:
            raise _taken(name)
        return token

    def adopt(self, kept: dict[str, TokenRecord]) -> None:
        """Keep tokens of another book (by the hash of their text) in place of any of their names
        here, in one transaction."""
        self._transaction([
            (TOKENS_DROPPED, {"names": [record.name for record in kept.values()]}),
            (TOKENS_ADOPTED, {"tokens": [_node_fields(hashed, record) for hashed, record in kept.items()]}),
        ])  # fmt: skip

    def listed(self) -> list[TokenRecord]:
        return [_node_record(row["token"]) for row in self._run(TOKENS_LISTED)]

    def revoke(self, name: str) -> TokenRecord:
        found = self._run(TOKEN_REVOKE, name=name, now=datetime.now(UTC).isoformat())
        if not found:
            raise TokenProblem(f"no token is named {name!r} (`chainorg token list` shows them)")
        return _node_record(found[0]["token"])

    def by_fingerprint(self) -> dict[str, TokenRecord]:
        return {row["token"]["hash"]: _node_record(row["token"]) for row in self._run(TOKENS_LISTED)}

    def mark_used(self, used: dict[str, datetime]) -> None:
        if used:
            self._run(TOKENS_USED, used=[{"name": name, "at": at.isoformat()} for name, at in used.items()])

    def close(self) -> None:
        if self._driver is not None:
            self._driver.close()
            self._driver = None


def _node_fields(hashed: str, record: TokenRecord) -> dict[str, Any]:
    moments = {"created": record.created, "expires": record.expires, "last_used": record.last_used,
               "revoked": record.revoked}  # fmt: skip
    return {
        "name": record.name,
        "hash": hashed,
        "role": record.role.label,
        "parks": sorted(record.boundary.parks),
        "chains": sorted(record.boundary.chains),
        **{name: moment.isoformat() for name, moment in moments.items() if moment is not None},
    }


def _node_record(node: dict[str, Any]) -> TokenRecord:
    fields = ("created", "expires", "last_used", "revoked")
    return _record((node["name"], node["role"], json.dumps(node.get("parks") or []), json.dumps(node.get("chains") or []),
                    *(node.get(name) for name in fields)))  # fmt: skip


@dataclass(frozen=True)
class Anonymous:
    """What a request without a token may do: nothing (None), or act as this caller."""

    caller: Caller | None

    @classmethod
    def allowed(cls, role: Role, boundary: Boundary = EVERYWHERE) -> Anonymous:
        return cls(Caller("anonymous", role, boundary))


class TokenCheck:
    """The server's side: who a request's `Authorization` header makes it.

    With no book, or a book without any token, and `open_when_empty`, an anonymous
    request acts as admin (a server on loopback for one person, such as the demo);
    otherwise it acts as `anonymous` allows, or is refused."""

    def __init__(self, book: Book | None, anonymous: Anonymous | None = None, open_when_empty: bool = True):
        self.book = book
        self.anonymous = anonymous or Anonymous(None)
        self.open_when_empty = open_when_empty
        self._tokens: dict[str, TokenRecord] = {}
        self._used: dict[str, datetime] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self.refresh()

    def start(self) -> None:
        """Re-read the tokens every REFRESH seconds, in a thread, until `stop`."""
        if self.book is not None and self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, name="chainorg-tokens", daemon=True)
            self._watcher.start()

    def stop(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join()
            self._watcher = None
        self._flush()
        if self.book is not None:
            self.book.close()

    def _watch(self) -> None:
        while not self._stop.wait(REFRESH):
            try:
                self.refresh()
                self._flush()
            except TokenProblem:  # a file being replaced or locked: the last good reading stands
                continue

    def refresh(self) -> None:
        if self.book is not None:
            tokens = self.book.by_fingerprint()
            with self._lock:
                self._tokens = tokens

    def _flush(self) -> None:
        with self._lock:
            used, self._used = self._used, {}
        if self.book is not None and used:
            try:
                self.book.mark_used(used)
            except TokenProblem:
                with self._lock:
                    self._used = {**used, **self._used}

    @property
    def open(self) -> bool:
        """Whether anonymous requests act as admin: no token has been made."""
        return self.open_when_empty and not self._tokens

    def caller(self, authorization: str | None, from_loopback: bool = True) -> Caller:
        """The caller a request's Authorization header names; Unauthenticated when it names none.
        A request from another machine is never made admin for want of tokens."""
        if not authorization:
            if self.open and from_loopback:
                return ADMIN_EVERYWHERE
            if self.anonymous.caller is not None:
                return self.anonymous.caller
            raise Unauthenticated("this server needs a token: send the header `Authorization: Bearer TOKEN`")
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("the Authorization header must read `Bearer TOKEN`")
        record = self._tokens.get(fingerprint(token.strip()))
        if record is None:
            raise Unauthenticated("the token is not one this server knows")
        now = datetime.now(UTC)
        if (refused := record.refusal(now)) is not None:
            raise Unauthenticated(refused)
        self._used[record.name] = now
        return record.caller()

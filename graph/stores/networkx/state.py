"""A state that takes changes: its records, its durable file, and a store for its latest version.

Writes go through one writer thread. It takes every change set waiting, applies each
to a draft layered on the ones before it (a rejected set drops out alone), commits
the accepted ones to SQLite in one transaction, and only then merges them into the
records and answers their callers: an acknowledged change is on disk, and a group
of concurrent writers shares one fsync.

Readers ask for the store of the latest version. It is built when first asked for
after a write (0.2 s at a million enterprises), so a burst of writes
costs one build; a request keeps the store it first got, so it never sees half a
change set, nor one change set in one field and not in the next.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import queue
import threading
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from dataclasses import replace as dataclass_replace  # `replace` is save_scenario's flag
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, cast

from graph import access, journal, rules, scenarios
from graph.access import Boundary
from graph.changes import (
    SCENARIO_REQUESTS,
    Change,
    ChangeConflict,
    Receipt,
    apply_changes,
    digest,
)
from graph.deadline import DEADLINE, TimedOut, past
from graph.durable import STATE_FILE, AuditEntry, Commit, DurableState, audit_log, state_file
from graph.errors import InvalidArgument, NotFound, StateProblem
from graph.model import Enterprise, Organization
from graph.query import Page
from graph.records import Draft, Records, id_holders
from graph.rules import Today
from graph.scenarios import Scenario, ScenarioExists
from graph.stores.networkx import NetworkxStore
from graph.stores.protocol import OrgStore
from graph.threads import offload

LOCK_FILE = "chainorg.lock"
GROUP = 256  # change sets committed together at most
CHECKPOINT_EVERY = 500  # commits between two foldings of the write-ahead log into the file


@dataclass(eq=False)
class _Pending:
    changes: Sequence[Change]
    who: str
    request_id: str | None = None
    deadline: float | None = None  # graph.deadline: refused, unwritten, if the writer reaches it later
    within: NetworkxStore | None = None  # a bounded caller's world store (State.apply)
    done: Future[Receipt] = field(default_factory=Future)

    def request(self) -> tuple[str, str] | None:
        return None if self.request_id is None else (self.request_id, digest(self.changes))


def snapshot(folder: Path) -> NetworkxStore:
    """A read-only store of the state in `folder` as it is now (also while a server writes
    to it), on the state's clock."""
    durable = DurableState(folder)
    try:
        return NetworkxStore(durable.read(), rules.clock(durable.stands_on))
    finally:
        durable.close()


class State:
    """A state folder being served: see the module docstring."""

    def __init__(self, folder: Path, today: Today | None = None):
        """Serve the state in `folder`; "today" is `today()`, else the state's own clock."""
        self._lock_file = _lock(folder)
        self.durable = DurableState(folder)
        self.today = today = today or rules.clock(self.durable.stands_on)
        dataset = self.durable.read()
        self.records = Records.of(dataset)
        self.version = 0
        self._built: tuple[int, NetworkxStore] = (0, NetworkxStore(dataset, today))
        self._records_lock = threading.Lock()  # the writer's merges against snapshots
        self._build_lock = threading.Lock()  # one build at a time
        self._waiting: queue.Queue[_Pending | None] = queue.Queue()
        self._closing = False
        self._checkpoint_due = threading.Event()
        self._writer = threading.Thread(target=self._write_forever, name="chainorg-writer", daemon=True)
        self._checkpointer = threading.Thread(target=self._checkpoint_forever, name="chainorg-checkpoint", daemon=True)
        self._writer.start()
        self._checkpointer.start()

    def close(self) -> None:
        """Finish the change sets already handed over, then stop writing."""
        self._waiting.put(None)
        self._writer.join()
        self._closing = True
        self._checkpoint_due.set()
        self._checkpointer.join()
        self.durable.close()
        self._lock_file.close()

    # -- reading -----------------------------------------------------------------

    def store(self) -> NetworkxStore:
        """The store of the latest version, built now if it is not yet."""
        with self._build_lock:
            version, built = self._built
            if version == self.version:
                return built
            with self._records_lock:
                version, dataset = self.version, self.records.dataset()
            built = NetworkxStore(dataset, self.today)
            self._built = (version, built)
            return built

    async def current(self) -> NetworkxStore:
        version, built = self._built
        return built if version == self.version else await offload(self.store)

    async def organization(self, org_id: str) -> Organization | None:
        """An organization as the latest change set left it (no store is built for it)."""
        with self._records_lock:
            return self.records.organizations.get(org_id)

    async def enterprise(self, credit_code: str) -> Enterprise | None:
        """An enterprise as the latest change set left it."""
        with self._records_lock:
            return self.records.enterprise(credit_code)

    async def audit_log(
        self, since: datetime | None, subject: str | None, offset: int, limit: int, world: OrgStore | None = None
    ) -> Page[AuditEntry]:
        """A page of the audit trail (graph.journal.Journal.audit_log)."""

        async def read(since: datetime | None, subject: str | None, offset: int, limit: int) -> Page[AuditEntry]:
            return await offload(audit_log, self.durable.folder, since, subject, offset, limit)

        return await journal.audit_seen(read, world, since, subject, offset, limit)

    # -- scenarios ---------------------------------------------------------------

    async def save_scenario(self, name: str, changes: Sequence[Change], who: str, replace: bool) -> Scenario:
        """Keep a scenario; its changes are checked by the caller (a simulation) first. The
        organizations it creates take ids no other scenario proposes (`renumbered` says which moved)."""
        proposed = journal.proposed(await self.scenarios(), name)
        with self._records_lock:
            changes, moved = scenarios.renumbered(changes, lambda i: i in proposed or self._id_taken(i))
        kept = await offload(scenarios.save, self.durable.path, name, changes, who, replace)
        return dataclass_replace(kept, renumbered=moved)

    async def scenarios(self, world: OrgStore | None = None) -> list[Scenario]:
        """Every scenario; with the `world` store of a bounded caller, those naming nothing it leaves out."""
        kept = await offload(scenarios.listed, self.durable.path)
        return kept if world is None else [s for s in kept if await journal.seen(s, world)]

    async def scenario(self, name: str, world: OrgStore | None = None) -> Scenario:
        """The scenario `name`; one not yet applied with the ids it creates that were taken since
        renumbered. NotFound too when a bounded caller's `world` leaves out something it names."""
        found = await offload(scenarios.named, self.durable.path, name)
        if world is not None and not await journal.seen(found, world):
            raise NotFound(f"no scenario is named {name!r}")
        if found.applied_change_set is not None:
            return found
        with self._records_lock:
            changes, moved = scenarios.renumbered(found.changes, self._id_taken)
        return dataclass_replace(found, changes=changes, renumbered=moved) if moved else found

    def _id_taken(self, some_id: str) -> bool:
        """Whether a record of any kind an edge can name has `some_id` (rules.id_taken)."""
        return rules.id_taken(some_id, id_holders(self.records)) is not None

    async def apply_scenario(
        self, name: str, who: str, within: NetworkxStore | None = None
    ) -> tuple[Scenario, Receipt]:
        """Apply a scenario's changes as one change set, all or nothing, once: its request id is
        the scenario's, so of concurrent calls the writer commits one and the others see it done.
        `within`: a bounded caller's world store, as for `apply`."""
        found = await self.scenario(name, within)
        applied = found.applied_change_set
        if applied is None:
            receipt = await self.apply(found.changes, who, SCENARIO_REQUESTS + found.name, within)
            marked = await offload(scenarios.mark_applied, self.durable.path, found.name, receipt.change_set)
            if not receipt.repeated:
                return marked, receipt
            applied = receipt.change_set
        raise ScenarioExists(f"scenario {found.name!r} was applied already, as change set {applied}")

    def pinned(self) -> OrgStore:
        """A store for one request: the latest version when it first asks, that one throughout."""
        return _Pinned(self)  # type: ignore[return-value]

    # -- writing -----------------------------------------------------------------

    async def apply(
        self, changes: Sequence[Change], who: str, request_id: str | None = None, within: NetworkxStore | None = None
    ) -> Receipt:
        """Apply a change set, all or nothing; returns once it is on disk. Raises ChangeRejected
        (nothing written) when a change breaks a rule, TimedOut (nothing written) when the
        writer reaches it past the request's deadline.

        A change set the writer took is answered with what became of it, even when the
        request's budget runs out meanwhile: an answer never hides a commit. With a
        `request_id` committed before, it is that first receipt (`repeated`), written once.

        `within`: the world store of a bounded caller. The set is first applied over the
        world's records alone, so naming something outside is refused as naming something
        missing, and then checked by graph.access (Forbidden); an id taken outside the world
        is refused as taken, without saying by what."""
        bounded = within if within is not None and within.world is not None else None
        pending = _Pending(tuple(changes), who, request_id, DEADLINE.get(), bounded)
        self._waiting.put(pending)
        outcome = asyncio.wrap_future(pending.done)
        try:
            return await asyncio.shield(outcome)
        except asyncio.CancelledError:
            if outcome.cancelled():
                raise
            return await outcome  # the writer decides, quickly: it refuses what it reaches too late

    def _checkpoint_forever(self) -> None:
        """Fold the write-ahead log into the file on a connection of its own, so no commit waits for it."""
        with self.durable.checkpointer() as checkpoint:
            while self._checkpoint_due.wait() and not self._closing:
                self._checkpoint_due.clear()
                checkpoint()

    def _write_forever(self) -> None:
        commits = 0
        while True:
            if commits >= CHECKPOINT_EVERY:
                self._checkpoint_due.set()
                commits = 0
            first = self._waiting.get()
            if first is None:
                return
            commits += 1
            batch = [first]
            while len(batch) < GROUP:
                try:
                    more = self._waiting.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._waiting.put(None)  # stop after this group
                    break
                batch.append(more)
            try:
                self._write(batch)
            except BaseException as error:  # noqa: BLE001 - a fault here must not leave callers waiting forever
                for pending in batch:
                    if not pending.done.done():
                        pending.done.set_exception(error)

    def _write(self, batch: list[_Pending]) -> None:
        accepted: list[tuple[_Pending, Draft]] = []
        top: Draft | None = None
        today = self.today()
        repeats: list[tuple[_Pending, _Pending]] = []  # (a repeat, the first of its request id in this batch)
        firsts: dict[str, _Pending] = {}
        for pending in batch:
            if past(pending.deadline):
                pending.done.set_exception(
                    TimedOut("the request's time budget ran out before it was written; nothing was")
                )
                continue
            try:
                if self._repeated(pending, firsts, repeats):
                    continue
                draft = top.layered() if top is not None else self.records.draft(today)
                if pending.within is None:
                    apply_changes(draft, pending.changes)
                else:
                    _apply_within(pending.within, draft, pending.changes, today)
            except Exception as error:  # noqa: BLE001 - handed to the caller, who raises it
                pending.done.set_exception(error)
                continue
            accepted.append((pending, draft))
            top = draft
            if pending.request_id is not None:
                firsts[pending.request_id] = pending
        if top is not None:
            try:
                committed = self.durable.commit([Commit(d, p.changes, p.who, p.request()) for p, d in accepted])
            except Exception as error:  # noqa: BLE001 - nothing was committed; every caller learns why
                for pending, _ in accepted:
                    pending.done.set_exception(error)
            else:
                with self._records_lock:
                    top.merge()
                    self.version += 1
                for (pending, _), receipt in zip(accepted, committed, strict=True):
                    pending.done.set_result(receipt)
        for repeat, first in repeats:
            if (failed := first.done.exception()) is not None:
                repeat.done.set_exception(failed)
            else:
                repeat.done.set_result(dataclass_replace(first.done.result(), repeated=True))

    def _repeated(
        self, pending: _Pending, firsts: dict[str, _Pending], repeats: list[tuple[_Pending, _Pending]]
    ) -> bool:
        """Whether `pending` repeats a request id: answered with the first receipt (now, or once
        its batch commits); ChangeConflict when the id came with other changes."""
        request = pending.request()
        if request is None:
            return False
        request_id, fingerprint = request
        if (first := firsts.get(request_id)) is not None:
            if first.request() != request:
                raise ChangeConflict(f"request id {request_id!r} came with other changes just now", "request_id")
            repeats.append((pending, first))
            return True
        earlier = self.durable.earlier(request_id)
        if earlier is None:
            return False
        receipt, kept = earlier
        if kept != fingerprint:
            raise ChangeConflict(
                f"request id {request_id!r} was used for other changes (change set {receipt.change_set})", "request_id"
            )
        pending.done.set_result(receipt)
        return True


def _apply_within(world: NetworkxStore, draft: Draft, changes: Sequence[Change], today: date) -> None:
    """Apply a bounded caller's changes to `draft` (State.apply's `within`): graph.access.apply_within."""
    assert world.world is not None
    access.apply_within(world.world.boundary, world.world.shared, world.records().draft(today), draft, changes)


def _lock(folder: Path) -> IO[str]:
    """Hold the state for this process: two servers writing one state would each keep
    records the other does not see. The lock goes with the process, however it ends."""
    unwritable = [path for path in (folder, state_file(folder), *folder.glob(f"{STATE_FILE}-*"), folder / LOCK_FILE)
                  if path.exists() and not os.access(path, os.W_OK)]  # fmt: skip
    if unwritable:
        raise StateProblem(
            f"{unwritable[0]} cannot be written by this user; a served state keeps every change, so its "
            f"folder and files must be writable (or read it as it is: `chainorg export --state {folder} --out DIR`)"
        )
    held = (folder / LOCK_FILE).open("a+")
    try:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        held.seek(0)
        owner = held.read().strip() or "another process"
        held.close()
        raise StateProblem(f"{folder} is served by {owner}; stop it first (one server per state)") from None
    held.truncate(0)
    held.write(f"process {os.getpid()}")
    held.flush()
    return held


class _Pinned:
    """Every OrgStore read, answered by the store `State.current` gives on first use; writes
    go to the State."""

    def __init__(self, state: State):
        self._state = state
        self._store: NetworkxStore | None = None
        self.today = state.today

    async def apply(self, changes: Sequence[Change], who: str, request_id: str | None = None) -> Receipt:
        """Writes go to the state, not to the version this request reads."""
        return await self._state.apply(changes, who, request_id)

    async def within(self, boundary: Boundary) -> OrgStore:
        """The pinned version's world of `boundary`; writes through it are checked against that world."""
        if self._store is None:
            self._store = await self._state.current()
        if boundary.everywhere:
            return cast(OrgStore, self)
        return _PinnedWorld(self._state, await self._store.within(boundary))

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = getattr(NetworkxStore, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            if self._store is None:
                self._store = await self._state.current()
            return await method(self._store, *args, **kwargs)

        call.__doc__ = method.__doc__
        return call


class _PinnedWorld:
    """A bounded caller's store over a state: reads from its world, writes checked against it."""

    def __init__(self, state: State, world: NetworkxStore):
        self._state = state
        self.world_store = world

    async def apply(self, changes: Sequence[Change], who: str, request_id: str | None = None) -> Receipt:
        return await self._state.apply(changes, who, request_id, within=self.world_store)

    async def within(self, boundary: Boundary) -> OrgStore:
        raise InvalidArgument("a bounded store is not bounded again")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.world_store, name)

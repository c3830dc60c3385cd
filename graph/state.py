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
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from graph import scenarios
from graph.changes import Change, Receipt, apply_changes
from graph.durable import AuditEntry, DurableState, audit_log, state_file
from graph.errors import StateProblem
from graph.model import Enterprise, Organization
from graph.networkx_store import NetworkxStore
from graph.query import Page
from graph.records import Draft, Records
from graph.rules import Today
from graph.scenarios import Scenario, ScenarioExists
from graph.store import OrgStore
from graph.threads import offload

LOCK_FILE = "chainorg.lock"
GROUP = 256  # change sets committed together at most
CHECKPOINT_EVERY = 500  # commits between two foldings of the write-ahead log into the file


@dataclass(eq=False)
class _Pending:
    changes: Sequence[Change]
    who: str
    done: Future[Receipt] = field(default_factory=Future)


class State:
    """A state folder being served: see the module docstring."""

    def __init__(self, folder: Path, today: Today = date.today):
        self._lock_file = _lock(folder)
        self.durable = DurableState(folder)
        self.today = today
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

    def organization(self, org_id: str) -> Organization | None:
        """An organization as the latest change set left it (no store is built for it)."""
        with self._records_lock:
            return self.records.organizations.get(org_id)

    def enterprise(self, credit_code: str) -> Enterprise | None:
        """An enterprise as the latest change set left it."""
        with self._records_lock:
            return self.records.enterprise(credit_code)

    async def audit_log(self, since: datetime | None, subject: str | None, offset: int, limit: int) -> Page[AuditEntry]:
        return await offload(audit_log, self.durable.folder, since, subject, offset, limit)

    # -- scenarios ---------------------------------------------------------------

    async def save_scenario(self, name: str, changes: Sequence[Change], who: str, replace: bool) -> Scenario:
        """Keep a scenario; its changes are checked by the caller (a simulation) first."""
        return await offload(scenarios.save, self.durable.path, name, changes, who, replace)

    async def scenarios(self) -> list[Scenario]:
        return await offload(scenarios.listed, self.durable.path)

    async def scenario(self, name: str) -> Scenario:
        return await offload(scenarios.named, self.durable.path, name)

    async def apply_scenario(self, name: str, who: str) -> tuple[Scenario, Receipt]:
        """Apply a scenario's changes as one change set, all or nothing, once."""
        found = await self.scenario(name)
        if found.applied_change_set is not None:
            raise ScenarioExists(
                f"scenario {found.name!r} was applied already, as change set {found.applied_change_set}"
            )
        receipt = await self.apply(found.changes, who)
        return await offload(scenarios.mark_applied, self.durable.path, found.name, receipt.change_set), receipt

    def pinned(self) -> OrgStore:
        """A store for one request: the latest version when it first asks, that one throughout."""
        return _Pinned(self)  # type: ignore[return-value]

    # -- writing -----------------------------------------------------------------

    async def apply(self, changes: Sequence[Change], who: str) -> Receipt:
        """Apply a change set, all or nothing; returns once it is on disk.
        Raises ChangeRejected (nothing written) when a change breaks a rule."""
        pending = _Pending(tuple(changes), who)
        self._waiting.put(pending)
        return await asyncio.wrap_future(pending.done)

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
            self._write(batch)

    def _write(self, batch: list[_Pending]) -> None:
        accepted: list[tuple[_Pending, Draft]] = []
        top: Draft | None = None
        today = self.today()
        for pending in batch:
            draft = top.layered() if top is not None else self.records.draft(today)
            try:
                apply_changes(draft, pending.changes)
            except Exception as error:  # noqa: BLE001 - handed to the caller, who raises it
                pending.done.set_exception(error)
                continue
            accepted.append((pending, draft))
            top = draft
        if top is None:
            return
        try:
            committed = self.durable.commit([(draft, p.changes, p.who) for p, draft in accepted])
        except Exception as error:  # noqa: BLE001 - nothing was committed; every caller learns why
            for pending, _ in accepted:
                pending.done.set_exception(error)
            return
        with self._records_lock:
            top.merge()
            self.version += 1
        for (pending, _), receipt in zip(accepted, committed, strict=True):
            pending.done.set_result(receipt)


def _lock(folder: Path) -> IO[str]:
    """Hold the state for this process: two servers writing one state would each keep
    records the other does not see. The lock goes with the process, however it ends."""
    state_file(folder)
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

    async def apply(self, changes: Sequence[Change], who: str) -> Receipt:
        """Writes go to the state, not to the version this request reads."""
        return await self._state.apply(changes, who)

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = getattr(NetworkxStore, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            if self._store is None:
                self._store = await self._state.current()
            return await method(self._store, *args, **kwargs)

        call.__doc__ = method.__doc__
        return call

"""What a store that takes changes keeps besides its records: the audit trail and scenarios.

Two keep them: a state (graph.stores.networkx.state, in its SQLite file) and a graph
database (graph.stores.cypher.journal, as nodes beside the graph). The GraphQL layer
asks a `Journal`, never which of them it is; what a bounded caller may see of either is
decided here once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Protocol

from graph import access
from graph.changes import Change, CreateOrganization, Receipt, describe
from graph.durable import AuditEntry
from graph.model import Enterprise, Organization
from graph.query import Page
from graph.scenarios import Scenario
from graph.stores.protocol import OrgStore

AUDIT_CHUNK = 2_000  # audit entries a bounded caller's trail is read and sifted by at a time
AuditPage = Callable[[datetime | None, str | None, int, int], Awaitable[Page[AuditEntry]]]


class Journal(Protocol):
    async def organization(self, org_id: str) -> Organization | None:
        """The organization as the latest change set left it (a mutation answers with it)."""

    async def enterprise(self, credit_code: str) -> Enterprise | None:
        """The enterprise as the latest change set left it."""

    async def audit_log(
        self, since: datetime | None, subject: str | None, offset: int, limit: int, world: OrgStore | None = None
    ) -> Page[AuditEntry]:
        """A page of the audit trail, oldest first, from `since`, about `subject` (any id a
        change names); with a bounded caller's `world`, of the entries naming nothing it leaves out."""

    async def save_scenario(self, name: str, changes: Sequence[Change], who: str, replace: bool) -> Scenario:
        """Keep a scenario (its changes checked by the caller, a simulation, first); the
        organizations it creates take ids no other scenario proposes (`renumbered`)."""

    async def scenarios(self, world: OrgStore | None = None) -> list[Scenario]:
        """Every scenario by name; with a bounded caller's `world`, those naming nothing it leaves out."""

    async def scenario(self, name: str, world: OrgStore | None = None) -> Scenario:
        """The scenario `name`, one not yet applied with the ids it creates that were taken
        since renumbered; NotFound too when a bounded caller's `world` leaves out what it names."""

    async def apply_scenario(self, name: str, who: str, within: OrgStore | None = None) -> tuple[Scenario, Receipt]:
        """Apply a scenario's changes as one change set, once (its request id is the scenario's)."""


async def audit_seen(
    read: AuditPage, world: OrgStore | None, since: datetime | None, subject: str | None, offset: int, limit: int
) -> Page[AuditEntry]:
    """A page of the trail `read` gives, as a caller with `world` sees it: a bounded one is
    shown the entries naming nothing its world leaves out, counted over those alone."""
    if world is None:
        return await read(since, subject, offset, limit)
    shown: list[AuditEntry] = []
    start, total = 0, None
    while total is None or start < total:  # a chunk at a time: a request that ends stops between two
        chunk = await read(since, subject, start, AUDIT_CHUNK)
        named = [access.strings_in([e.subject, e.change, e.before, e.after]) for e in chunk.items]
        left_out = await world.outside(set().union(*named))
        shown += [entry for entry, ids in zip(chunk.items, named, strict=True) if not ids & left_out]
        start, total = start + AUDIT_CHUNK, chunk.total
    return Page(shown[offset : offset + limit], len(shown), offset)


async def seen(scenario: Scenario, world: OrgStore) -> bool:
    """Whether a bounded caller may see a scenario: it names nothing the caller's world leaves out."""
    return not await world.outside(access.strings_in([describe(c) for c in scenario.changes]))


def proposed(kept: Sequence[Scenario], name: str) -> set[str]:
    """The ids of organizations the scenarios not yet applied, other than `name`, create."""
    return {
        change.organization.id
        for scenario in kept if scenario.name != name.strip() and scenario.applied_change_set is None
        for change in scenario.changes if isinstance(change, CreateOrganization)
    }  # fmt: skip

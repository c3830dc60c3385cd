"""The audit trail and scenarios of a graph database (graph.journal.Journal), kept beside
its graph as nodes every server on the database reads.

Each change set's audit entries are written in its own transaction (graph.stores.cypher
.store.CypherStore.apply), so the trail holds each change once, committed or not at all.
Scenarios are `ChainorgScenario` nodes, unique by name; one is applied through the
store's write path under the request id of its name, so of two servers applying it at
once the database commits one and the other answers that it was applied already.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import replace as dataclass_replace
from datetime import UTC, datetime
from typing import Any

from graph import journal
from graph.changes import SCENARIO_REQUESTS, Change, CreateOrganization, Receipt
from graph.durable import AuditEntry, utc_text
from graph.errors import NotFound
from graph.model import Enterprise, Organization
from graph.query import Page
from graph.scenarios import Scenario, ScenarioExists, changes_text, checked_name, renumbered, scenario_of
from graph.stores.cypher import queries
from graph.stores.cypher.connection import Run
from graph.stores.cypher.rows import uid
from graph.stores.cypher.store import CypherStore
from graph.stores.protocol import OrgStore

RENUMBERINGS = 50  # the free ids `ID-2` … looked for, per organization a scenario creates


class CypherJournal:
    """The Journal of the graph database `store` serves."""

    def __init__(self, store: CypherStore):
        self.store = store

    async def organization(self, org_id: str) -> Organization | None:
        return (await self.store.organizations([org_id]))[0]

    async def enterprise(self, credit_code: str) -> Enterprise | None:
        return (await self.store.enterprises([credit_code]))[0]

    async def audit_log(
        self, since: datetime | None, subject: str | None, offset: int, limit: int, world: OrgStore | None = None
    ) -> Page[AuditEntry]:
        return await journal.audit_seen(self._audit_page, world, since, subject, offset, limit)

    async def _audit_page(
        self, since: datetime | None, subject: str | None, offset: int, limit: int
    ) -> Page[AuditEntry]:
        asked = {
            "since": utc_text(since) if since is not None else None, "subject": subject,
            "quoted": json.dumps(subject, ensure_ascii=False) if subject is not None else None,
        }  # fmt: skip
        read = self.store.connection.read
        [total], page = await asyncio.gather(
            read(queries.AUDIT_TOTAL, **asked), read(queries.AUDIT_PAGE, **asked, offset=offset, limit=limit)
        )
        return Page([_entry(row["entry"]) for row in page], int(total["total"]), offset)

    async def save_scenario(self, name: str, changes: Sequence[Change], who: str, replace: bool) -> Scenario:
        name = checked_name(name)
        changes, moved = renumbered(changes, await self._taken(changes, journal.proposed(await self.scenarios(), name)))
        at = datetime.now(UTC)
        kept = {"name": name, "saved_at": at.isoformat(), "who": who, "changes": changes_text(changes)}

        async def save(run: Run) -> None:
            if not replace and await run(queries.SCENARIO, name=name):
                raise ScenarioExists(f"a scenario named {name!r} is kept already; save with replace: true")
            await run(queries.SAVE_SCENARIO, scenario=kept)

        await self.store.connection.transaction(save)
        return Scenario(name, at, who, list(changes), None, moved)

    async def scenarios(self, world: OrgStore | None = None) -> list[Scenario]:
        kept = [_scenario(row["scenario"]) for row in await self.store.connection.read(queries.SCENARIOS)]
        return kept if world is None else [s for s in kept if await journal.seen(s, world)]

    async def scenario(self, name: str, world: OrgStore | None = None) -> Scenario:
        found = await self.store.connection.read(queries.SCENARIO, name=name.strip())
        scenario = _scenario(found[0]["scenario"]) if found else None
        if scenario is None or (world is not None and not await journal.seen(scenario, world)):
            raise NotFound(f"no scenario is named {name!r}")
        if scenario.applied_change_set is not None:
            return scenario
        changes, moved = renumbered(scenario.changes, await self._taken(scenario.changes, set()))
        return dataclass_replace(scenario, changes=changes, renumbered=moved) if moved else scenario

    async def apply_scenario(self, name: str, who: str, within: OrgStore | None = None) -> tuple[Scenario, Receipt]:
        found = await self.scenario(name, within)
        applied = found.applied_change_set
        if applied is None:
            receipt = await (within or self.store).apply(found.changes, who, SCENARIO_REQUESTS + found.name)
            [marked] = await self.store.connection.write(
                queries.MARK_APPLIED, name=found.name, change_set=receipt.change_set
            )
            if not receipt.repeated:
                return _scenario(marked["scenario"]), receipt
            applied = receipt.change_set
        raise ScenarioExists(f"scenario {found.name!r} was applied already, as change set {applied}")

    async def _taken(self, changes: Sequence[Change], proposed: set[str]) -> Any:
        """Which of the ids the organizations `changes` create (and `ID-2` … after them) are
        taken now in the graph, or proposed by another scenario: a test `renumbered` asks."""
        g = (await self.store.generation()).g
        created = [c.organization.id for c in changes if isinstance(c, CreateOrganization)]
        candidates = [
            some for org_id in created for some in [org_id, *(f"{org_id}-{n}" for n in range(2, RENUMBERINGS))]
        ]
        [found] = await self.store.connection.read(queries.TAKEN, uids=[uid(g, some) for some in candidates])
        taken = {key.split("/", 1)[1] for key in found["taken"]} | proposed
        return taken.__contains__


def _entry(row: dict[str, Any]) -> AuditEntry:
    return AuditEntry(
        int(row["change_set"]), datetime.fromisoformat(row["at"]), row["who"], int(row["position"]), row["kind"],
        row["subject"], json.loads(row["change"]), json.loads(row["before"]), json.loads(row["after"]),
    )  # fmt: skip


def _scenario(row: dict[str, Any]) -> Scenario:
    return scenario_of(row["name"], row["saved_at"], row["who"], row["changes"], row.get("applied_change_set"))

"""Per-request context: the store and one set of DataLoaders batching store calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any, TypeVar, cast

from strawberry.dataloader import DataLoader
from strawberry.types import Info

from graph.access import ADMIN_EVERYWHERE, Caller
from graph.compliance import DEFAULT_RULES, Finding, RuleCode, RuleConfig
from graph.errors import ReadOnly
from graph.journal import Journal
from graph.model import Building, Enterprise, Instructor, Link, Members, Organization, OrganizationHistory
from graph.query import Coverage, CoverageState, GroupBy, Scope
from graph.stores.protocol import OrgStore, Within, seen_by

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
Q = TypeVar("Q", bound=Hashable)
Asked = tuple[date | None, tuple[RuleCode, ...] | None]  # a findings question: as of, which rules (None: all)


def batched(store_call: Callable[[Sequence[K]], Awaitable[list[V]]]) -> DataLoader[K, V]:
    """A DataLoader that answers all keys of one tick with one store call."""

    async def load(keys: list[K]) -> list[V]:
        return await store_call(keys)

    return DataLoader(load_fn=load)


def batched_per_question(
    store_call: Callable[[Sequence[K], Q], Awaitable[list[V]]],
) -> DataLoader[tuple[K, Q], V]:
    """A DataLoader of (key, question) pairs, a question being what a field's arguments ask
    (an as-of date, say): one store call per distinct question in a tick."""

    async def load(pairs: list[tuple[K, Q]]) -> list[V]:
        by_question: dict[Q, list[K]] = {}
        for key, question in pairs:
            by_question.setdefault(question, []).append(key)
        answers: dict[tuple[K, Q], V] = {}
        for question, keys in by_question.items():
            answered = await store_call(keys, question)
            answers.update(((key, question), value) for key, value in zip(keys, answered, strict=True))
        return [answers[pair] for pair in pairs]

    return DataLoader(load_fn=load)


@dataclass
class Loaders:
    """One DataLoader per store call, made when a request first needs it."""

    store: OrgStore
    rules: RuleConfig

    @cached_property
    def enterprise(self) -> DataLoader[str, Enterprise | None]:
        return batched(self.store.enterprises)

    @cached_property
    def organization(self) -> DataLoader[str, Organization | None]:
        return batched(self.store.organizations)

    @cached_property
    def children(self) -> DataLoader[str, list[Organization]]:
        return batched(self.store.children)

    @cached_property
    def covered(self) -> DataLoader[str, list[Enterprise]]:
        return batched(self.store.covered)

    @cached_property
    def covering(self) -> DataLoader[str, list[Organization]]:
        return batched(self.store.covering)

    @cached_property
    def cluster(self) -> DataLoader[str, Organization | None]:
        return batched(self.store.clusters)

    @cached_property
    def instructors(self) -> DataLoader[str, list[Instructor]]:
        return batched(self.store.instructors)

    @cached_property
    def history(self) -> DataLoader[str, OrganizationHistory | None]:
        return batched(self.store.histories)

    @cached_property
    def links(self) -> DataLoader[str, list[Link]]:
        return batched(self.store.links)

    @cached_property
    def members(self) -> DataLoader[str, Members]:
        return batched(self.store.members)

    @cached_property
    def buildings(self) -> DataLoader[str, list[Building]]:
        return batched(self.store.buildings)

    @cached_property
    def coverage_state(self) -> DataLoader[tuple[str, date | None], CoverageState]:
        return batched_per_question(self.store.coverage_states)

    @cached_property
    def park_coverage(self) -> DataLoader[tuple[str, date | None], Coverage]:
        return batched_per_question(self._park_coverage)

    @cached_property
    def findings(self) -> DataLoader[tuple[str, Asked], list[Finding]]:
        return batched_per_question(self._findings)

    async def _park_coverage(self, parks: Sequence[str], as_of: date | None) -> list[Coverage]:
        """Coverage of each park: one grouping by park answers them all."""
        groups = await self.store.coverage_by(GroupBy.PARK, Scope(), as_of)
        found = {group.key: group.coverage for group in groups}
        return [found.get(park, Coverage()) for park in parks]

    async def _findings(self, ids: Sequence[str], asked: Asked) -> list[list[Finding]]:
        as_of, codes = asked
        return await self.store.findings_about(ids, as_of, self.rules.only(codes))


@dataclass
class Context:
    store: OrgStore
    loaders: Loaders
    request: Any = None
    lookahead: dict[tuple[str, ...], list[Any]] = field(default_factory=dict)  # see schema.lookahead
    journal: Journal | None = None  # None: the server serves a ledger read-only
    caller: Caller = ADMIN_EVERYWHERE
    hidden: list[str] = field(default_factory=list)  # paths of personal names nulled for a viewer

    @classmethod
    def for_store(
        cls,
        store: OrgStore,
        request: Any = None,
        rules: RuleConfig = DEFAULT_RULES,
        journal: Journal | None = None,
        caller: Caller = ADMIN_EVERYWHERE,
    ) -> Context:
        """A request's context over `store`, as `caller` sees it: a bounded caller's every
        question goes to the store of its world; with the `journal` of a store that takes changes."""
        seen = seen_by(store, caller.boundary)
        return cls(seen, Loaders(seen, rules), request, journal=journal, caller=caller)

    async def world(self) -> OrgStore | None:
        """A bounded caller's world store (what writes and the audit trail are checked
        against); None for a caller that sees everything."""
        if not isinstance(self.store, Within):
            return None
        world = await self.store.world()
        return cast(OrgStore, getattr(world, "world_store", world))

    def writable(self) -> Journal:
        """The journal of the store changes go to; READ_ONLY when the server serves a ledger."""
        if self.journal is None:
            raise ReadOnly
        return self.journal

    @property
    def who(self) -> str:
        """The identity a change is recorded under: the token's name."""
        return self.caller.name

    @property
    def rules(self) -> RuleConfig:
        """The compliance rules this server applies."""
        return self.loaders.rules


ChainorgInfo = Info[Context, None]

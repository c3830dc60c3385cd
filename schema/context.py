"""Per-request context: the store and one set of DataLoaders batching store calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader
from strawberry.types import Info

from graph.compliance import DEFAULT_RULES, Finding, RuleCode, RuleConfig
from graph.model import Building, Enterprise, Instructor, Link, Members, Organization
from graph.query import Coverage, CoverageState, GroupBy, Scope
from graph.state import State
from graph.store import OrgStore

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
    store: OrgStore
    rules: RuleConfig
    enterprise: DataLoader[str, Enterprise | None] = field(init=False)
    organization: DataLoader[str, Organization | None] = field(init=False)
    children: DataLoader[str, list[Organization]] = field(init=False)
    covered: DataLoader[str, list[Enterprise]] = field(init=False)
    covering: DataLoader[str, list[Organization]] = field(init=False)
    cluster: DataLoader[str, Organization | None] = field(init=False)
    instructors: DataLoader[str, list[Instructor]] = field(init=False)
    links: DataLoader[str, list[Link]] = field(init=False)
    members: DataLoader[str, Members] = field(init=False)
    buildings: DataLoader[str, list[Building]] = field(init=False)
    coverage_state: DataLoader[tuple[str, date | None], CoverageState] = field(init=False)
    park_coverage: DataLoader[tuple[str, date | None], Coverage] = field(init=False)
    findings: DataLoader[tuple[str, Asked], list[Finding]] = field(init=False)

    def __post_init__(self) -> None:
        store = self.store
        self.enterprise = batched(store.enterprises)
        self.organization = batched(store.organizations)
        self.children = batched(store.children)
        self.covered = batched(store.covered)
        self.covering = batched(store.covering)
        self.cluster = batched(store.clusters)
        self.instructors = batched(store.instructors)
        self.links = batched(store.links)
        self.members = batched(store.members)
        self.buildings = batched(store.buildings)
        self.coverage_state = batched_per_question(store.coverage_states)
        self.park_coverage = batched_per_question(self._park_coverage)
        self.findings = batched_per_question(self._findings)

    async def _park_coverage(self, parks: Sequence[str], as_of: date | None) -> list[Coverage]:
        """Coverage of each park: one grouping by park answers them all."""
        groups = await self.store.coverage_by(GroupBy.PARK, Scope(), as_of)
        found = {group.key: group.coverage for group in groups}
        return [found.get(park, Coverage()) for park in parks]

    async def _findings(self, ids: Sequence[str], asked: Asked) -> list[list[Finding]]:
        as_of, codes = asked
        return await self.store.findings_about(ids, as_of, self.rules.only(codes))


ANONYMOUS = "anonymous"


@dataclass
class Context:
    store: OrgStore
    loaders: Loaders
    request: Any = None
    lookahead: dict[tuple[str, ...], list[Any]] = field(default_factory=dict)  # see schema.lookahead
    state: State | None = None  # None: the server serves a ledger read-only

    @classmethod
    def for_store(cls, store: OrgStore, request: Any = None, rules: RuleConfig = DEFAULT_RULES) -> Context:
        return cls(store=store, loaders=Loaders(store, rules), request=request)

    @classmethod
    def for_state(cls, state: State, request: Any = None, rules: RuleConfig = DEFAULT_RULES) -> Context:
        """A request over a state: one version of the store throughout, and a way to write."""
        store = state.pinned()
        return cls(store=store, loaders=Loaders(store, rules), request=request, state=state)

    @property
    def who(self) -> str:
        """The identity a change is recorded under; anonymous until requests carry tokens."""
        return ANONYMOUS

    @property
    def rules(self) -> RuleConfig:
        """The compliance rules this server applies."""
        return self.loaders.rules


ChainorgInfo = Info[Context, None]

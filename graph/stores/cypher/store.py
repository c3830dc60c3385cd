"""The Cypher store: the OrgStore protocol over a Neo4j 5 (or ArcadeDB) database.

Each operation is one Cypher statement, one round trip, aggregated in the database: a
coverage brings back one row, a page of enterprises the page. What the rules need that
is not arithmetic over stored day numbers stays in graph/ and runs on the records the
statement returns. The graph's small facts (parks, chains, buildings, clusters, the
counts of `summary`, the day it stands on) are written with it at load time and read
once per generation.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from graph import access
from graph.access import EVERYWHERE, Boundary, world_organizations
from graph.changes import Change, ChangeConflict, Receipt, apply_changes, digest
from graph.charts.tree import NAMES_PER_BRANCH, OrganizationTree, TreeOrganization, standing_root
from graph.compliance import (
    ComplianceGroup,
    Finding,
    RuleCode,
    RuleConfig,
    RuleCount,
    windows,
)
from graph.dataset import Dataset
from graph.dataset import summary as graph_summary
from graph.deadline import DEADLINE, TimedOut, past
from graph.durable import audit_entries
from graph.enterprises import EnterpriseTable
from graph.errors import ChainorgError, InvalidArgument, NotFound
from graph.model import (
    Assignment,
    Building,
    Category,
    Covers,
    Department,
    Enterprise,
    Instructor,
    Link,
    LinkKind,
    Members,
    Organization,
    OrganizationHistory,
    OrgKind,
    Park,
    PartOf,
    Upgrade,
    as_on,
)
from graph.organizations import Alliance, listed, ordered, tallied
from graph.organizations import alliances as alliances_on
from graph.pairing import pair_departments
from graph.query import (
    Coverage,
    CoverageGroup,
    CoverageState,
    EnterpriseFilter,
    GroupBy,
    OrganizationCount,
    OrganizationFilter,
    OrganizationGrouping,
    OrganizationOrder,
    Page,
    Scope,
)
from graph.records import R, Records, key_of, restored
from graph.rules import ALLIANCE_LINKS, NEVER, Today, asked_on, clock, day_number
from graph.simulation import named, simulate, simulated_day
from graph.stores.answers import (
    NEIGHBOURS_PER_KIND,
    Candidates,
    JointBranchNearby,
    Matching,
    Near,
    Neighbour,
    Neighbourhood,
    Proximity,
    Simulation,
)
from graph.stores.cypher import queries, writes
from graph.stores.cypher.address import StoreAddress
from graph.stores.cypher.audit import (
    Audit,
    audit_of,
    enterprise_codes,
    enterprise_findings,
    findings_about_enterprises,
    organization_facts,
    thresholds,
)
from graph.stores.cypher.cache import ReadCache, answer_key
from graph.stores.cypher.connection import Connection, Run
from graph.stores.cypher.rows import uid
from graph.stores.reached import Figures, Reached
from graph.threads import offload
from graph.vocabulary import term

GRAPH_SECONDS = 0.5  # how long the generation read is trusted before it is read again: well within 1 s
AUDITS_KEPT = 8


class _Earlier(Exception):
    """A request id committed before: its receipt, and the transaction rolled back unwritten."""

    def __init__(self, receipt: Receipt):
        super().__init__(receipt)
        self.receipt = receipt


class NoGraph(ChainorgError):
    """The database holds no chainorg graph yet."""

    code = "UNAVAILABLE"


@dataclass(frozen=True, slots=True)
class Generation:
    """The graph served: its generation and the small facts written with it."""

    g: int
    stands_on: date | None
    summary: dict[str, int]
    parks: list[str]
    chains: list[str]
    buildings: list[Building]
    clusters: dict[str, str]  # cluster id: name
    written: int = 0  # change sets written into it so far: a cache of an older count is stale
    world: frozenset[str] | None = None  # the organizations a bounded token sees (graph.access); None: all
    shared: frozenset[str] = frozenset()  # of those, the ones that also reach enterprises outside

    @classmethod
    def of(cls, graph: dict[str, Any]) -> Generation:
        stands_on = graph.get("stands_on")
        return cls(
            g=int(graph["current"]),
            stands_on=date.fromisoformat(stands_on) if stands_on else None,
            summary=dict(zip(graph["summary_keys"], graph["summary_values"], strict=True)),
            parks=list(graph["parks"]),
            chains=list(graph["chains"]),
            buildings=[Building(p, n) for p, n in zip(graph["building_parks"], graph["building_names"], strict=True)],
            clusters=dict(zip(graph["cluster_ids"], graph["cluster_names"], strict=True)),
            written=int(graph.get("written") or 0),
        )

    @property
    def version(self) -> tuple[int, int]:
        """What a cache of this graph is good for: its generation and the change sets written into it."""
        return self.g, self.written

    def dimension(self, by: GroupBy) -> set[str] | None:
        """The keys a scope may name for `by`; None where any value is a scope (a category)."""
        return {
            GroupBy.PARK: set(self.parks), GroupBy.CHAIN: set(self.chains),
            GroupBy.BUILDING: {b.name for b in self.buildings}, GroupBy.CLUSTER: set(self.clusters),
        }.get(by)  # fmt: skip


class CypherStore:
    """An OrgStore over a graph database that `chainorg load --store` filled; `within` gives
    the same store limited to a token's world, which every text then enforces."""

    def __init__(
        self, connection: Connection, generation: Generation, boundary: Boundary = EVERYWHERE,
        whole: CypherStore | None = None,
    ):  # fmt: skip
        self.connection = connection
        self._generation = generation
        self._read_at = time.monotonic()
        self._committed = self._trusted = 0  # change sets this store committed; of those, the last its reading follows
        self.today: Today = clock(generation.stands_on)
        self._audits: dict[tuple[tuple[int, int], Scope, int, RuleConfig], Audit] = {}
        self._boundary, self._whole = boundary, whole
        self._views: dict[Boundary, CypherStore] = {}
        self._answers: ReadCache = whole._answers if whole is not None else ReadCache()  # one for every view
        self._bounds: tuple[frozenset[str] | None, dict[str, Any]] | None = None  # per world: its parameters
        # the names of the boundary's conditions, which every text of a bounded store writes
        names = {"inside_park": boundary.parks, "inside_chain": boundary.chains}
        self._bound = frozenset(name + ("s" if len(values) > 1 else "") for name, values in names.items() if values)
        self._bound |= {queries.WORLD} if self._bound else set()

    @classmethod
    async def open(cls, address: StoreAddress) -> CypherStore:
        """The store of the graph in the database at `address`; StoreUnavailable or NoGraph in one line."""
        connection = Connection(address)
        try:
            await connection.check()
            return cls(connection, await _generation(connection))
        except BaseException:
            await connection.close()
            raise

    async def close(self) -> None:
        await self.connection.close()

    async def dataset(self) -> Dataset:
        """The graph served, read back whole: what `chainorg export --store` writes as a
        ledger. Never for a question: it brings every record over the wire."""
        g = (await self.generation()).g
        texts = queries.EVERY_RECORD
        read = dict(
            zip(texts, await asyncio.gather(*(self.connection.read(t, g=g) for t in texts.values())), strict=True)
        )

        def every(kind: type[R], name: str) -> tuple[R, ...]:
            return tuple(restored(kind, row["record"]) for row in read[name])

        return Dataset(
            EnterpriseTable.of_records(every(Enterprise, "enterprises")), every(Organization, "organizations"),
            every(Covers, "covers"), every(Link, "links"), every(Instructor, "instructors"),
            every(Assignment, "assignments"), every(Department, "departments"), every(PartOf, "past_parents"),
            every(Upgrade, "upgrades"),
        )  # fmt: skip

    async def generation(self) -> Generation:
        """The generation served, asked again once GRAPH_SECONDS old (a load --replace switches
        it); its facts are read again only when it has changed. A bounded store's are its world's."""
        if self._whole is not None:
            whole = await self._whole.generation()
            if self._generation.version != whole.version or self._generation.world is None:
                self._generation = await self._world(whole)
            return self._generation
        if self._trusted != self._committed or time.monotonic() - self._read_at > GRAPH_SECONDS:
            committed = self._committed  # one this store commits meanwhile leaves the reading untrusted
            # read afresh, never a kept answer: it says whether the kept ones are current
            served = await self.connection.read(queries.SERVED)
            if not served or (served[0]["g"], served[0]["written"]) != self._generation.version:
                self._generation = await _generation(self.connection)
            self._read_at, self._trusted = time.monotonic(), committed
        return self._generation

    async def _world(self, whole: Generation) -> Generation:
        """The generation as the boundary's world has it (graph.access.world_of): two statements."""
        inside = self._bound - {queries.WORLD}
        [found] = await self.connection.read(queries.world_text(inside), g=whole.g, **self._parameters(None))
        organizations = [
            Organization(org_id, "", OrgKind(kind), parent) for org_id, parent, kind in found["organizations"]
        ]
        world, shared = world_organizations(
            organizations, [(org_id, parent) for org_id, parent in found["past"]],
            set(found["reaching_in"]) | {c for c in found["declared"] if c}, set(found["reaching_out"]),
        )  # fmt: skip
        [links] = await self.connection.read(
            queries.world_links_text(self._bound), g=whole.g, **self._parameters(frozenset(world))
        )
        buildings = sorted({(park, building) for park, building in found["buildings"] if building is not None})
        kinds = [org.kind for org in organizations if org.id in world]
        return replace(
            whole,
            summary=graph_summary(
                len(found["parks"]), len(buildings), int(found["enterprises"]), kinds, whole.summary["departments"],
                int(found["instructors"]), int(found["covers"]), int(links["links"]), int(found["assignments"]),
            ),
            parks=sorted(found["parks"]), chains=sorted(c for c in found["chains"] if c is not None),
            buildings=[Building(park, name) for park, name in buildings],
            clusters={key: name for key, name in whole.clusters.items() if key in world}, world=frozenset(world),
            shared=frozenset(shared),
        )  # fmt: skip

    def _parameters(self, world: frozenset[str] | None) -> dict[str, Any]:
        """The boundary's parameters: its parks and chains, and the map of its world's organizations."""
        parks, chains = sorted(self._boundary.parks), sorted(self._boundary.chains)
        return {
            "inside_parks": parks, "inside_park": next(iter(parks), None), "inside_chains": chains,
            "inside_chain": next(iter(chains), None), "world": dict.fromkeys(world or (), True),
        }  # fmt: skip

    async def _read(self, text: str, **parameters: Any) -> list[Any]:
        """Run a text, with the boundary's parameters it names; an answer read before from
        this version of the graph is answered again from graph.stores.cypher.cache."""
        parameters = await self._bounded(text, parameters)
        key = answer_key((await self.generation()).version, text, parameters)
        if (kept := self._answers.get(key)) is not None:
            return kept
        found = await self.connection.read(text, **parameters)
        self._answers.put(key, found)
        return found

    async def _bounded(self, text: str, parameters: dict[str, Any]) -> dict[str, Any]:
        """`parameters` with those of the boundary that `text` names."""
        if self._bound and ("$inside_" in text or "$world" in text):
            world = (await self.generation()).world
            if self._bounds is None or self._bounds[0] is not world:
                self._bounds = (world, self._parameters(world))
            bounds = self._bounds[1]
            parameters.update({name: value for name, value in bounds.items() if f"${name}" in text})
        return parameters

    async def _uids(self, ids: Sequence[str]) -> list[str]:
        g = (await self.generation()).g
        return [uid(g, some_id) for some_id in ids]

    def _day(self, as_of: date | None = None) -> int:
        return asked_on(as_of, self.today)

    def _on(self, as_of: date | None = None) -> dict[str, Any]:
        """The day asked (today by default) as the parameters a text compares with: `$day`
        (a day number) and `$on` (ISO)."""
        day = self._day(as_of)
        return {"day": day, "on": date.fromordinal(day).isoformat()}

    async def _scope(self, scope: Scope) -> tuple[frozenset[str], dict[str, Any]]:
        """The scope's fixed fields and their values as parameters (with `g`), each value
        checked against the graph's: NotFound as the embedded store says it."""
        generation = await self.generation()
        for by, value in ((GroupBy.PARK, scope.park), (GroupBy.CHAIN, scope.chain), (GroupBy.BUILDING, scope.building)):
            if value is not None and value not in (generation.dimension(by) or ()):
                raise NotFound(f"unknown {by.lower()} {value!r}")
        values = {
            "park": scope.park, "chain": scope.chain, "building": scope.building,
            "cluster": self._cluster_id(generation, scope.cluster) if scope.cluster else None,
            "category": scope.category.value if scope.category else None,
        }  # fmt: skip
        fixed = {name: value for name, value in values.items() if value is not None}
        return frozenset(fixed) | self._bound, {"g": generation.g, **fixed}

    @staticmethod
    def _cluster_id(generation: Generation, given: str) -> str:
        """A cluster named by its id or by its exact name (as graph.coverage.CoverageIndex.cluster_id)."""
        if given in generation.clusters:
            return given
        ids = [some_id for some_id, name in generation.clusters.items() if name == given]
        if not ids:
            raise NotFound(f"unknown cluster {given!r}: give a cluster's id or its exact name")
        if len(ids) > 1:
            raise InvalidArgument(f"{len(ids)} clusters are named {given!r}; give one id of {', '.join(ids)}")
        return ids[0]

    # -- OrgStore ----------------------------------------------------------------

    async def within(self, boundary: Boundary) -> CypherStore:
        """The store of the boundary's world, kept with this one; its world is gathered on
        first use and again when the generation served changes."""
        if boundary.everywhere:
            return self
        if (view := self._views.get(boundary)) is None:
            view = self._views[boundary] = CypherStore(self.connection, self._generation, boundary, whole=self)
            view.today = self.today
        await view.generation()
        return view

    async def outside(self, ids: Collection[str]) -> set[str]:
        if not self._bound or not ids:
            return set()
        [found] = await self._read(queries.outside_text(self._bound), uids=await self._uids(sorted(ids)))
        return {key.split("/", 1)[1] for key in found["outside"]}

    async def summary(self) -> dict[str, int]:
        return dict((await self.generation()).summary)

    async def parks(self) -> list[Park]:
        return [Park(name) for name in (await self.generation()).parks]

    async def buildings(self, parks: Sequence[str]) -> list[list[Building]]:
        buildings = (await self.generation()).buildings
        return [[b for b in buildings if b.park == park] for park in parks]

    async def chains(self) -> list[str]:
        return list((await self.generation()).chains)

    def _sees(self, org_id: str) -> bool:
        """Whether the token's world holds the organization."""
        return self._generation.world is None or org_id in self._generation.world

    def _seen(self, record: Enterprise | Organization) -> Any:
        """The record if the token's world holds it, else None (as a missing one)."""
        if isinstance(record, Enterprise):
            return record if self._boundary.holds(record) else None
        return record if self._sees(record.id) else None

    async def enterprises(self, credit_codes: Sequence[str]) -> list[Enterprise | None]:
        found = await self._read(queries.ENTERPRISES, uids=await self._uids(credit_codes))
        return [None if r["enterprise"] is None else self._seen(restored(Enterprise, r["enterprise"])) for r in found]

    async def organizations(self, ids: Sequence[str]) -> list[Organization | None]:
        found = await self._read(queries.ORGANIZATIONS, uids=await self._uids(ids))
        return [
            None if r["organization"] is None else self._seen(restored(Organization, r["organization"])) for r in found
        ]

    async def children(self, ids: Sequence[str]) -> list[list[Organization]]:
        found = await self._read(queries.CHILDREN, uids=await self._uids(ids), today=self.today().isoformat())
        return [[kid for child in r["children"] if (kid := self._seen(restored(Organization, child)))] for r in found]

    async def covered(self, ids: Sequence[str]) -> list[list[Enterprise]]:
        uids = await self._uids(ids)
        found = await self._read(queries.COVERED, uids=uids, day=self._day())
        return [
            [e for row in r["enterprises"] if (e := self._seen(restored(Enterprise, row)))]
            if self._sees(some_id)
            else []
            for some_id, r in zip(ids, found, strict=True)
        ]

    async def covering(self, credit_codes: Sequence[str]) -> list[list[Organization]]:
        uids = await self._uids(credit_codes)
        found = await self._read(queries.covering_text(self._bound), uids=uids, day=self._day())
        return [[restored(Organization, o) for o in r["organizations"]] for r in found]

    async def clusters(self, credit_codes: Sequence[str]) -> list[Organization | None]:
        g = (await self.generation()).g
        found = await self._read(
            queries.clusters_text(self._bound), uids=await self._uids(credit_codes), prefix=uid(g, "")
        )
        return [None if r["cluster"] is None else restored(Organization, r["cluster"]) for r in found]

    async def instructors(self, credit_codes: Sequence[str]) -> list[list[Instructor]]:
        uids = await self._uids(credit_codes)
        found = await self._read(queries.instructors_text(self._bound), uids=uids, day=self._day())
        return [[restored(Instructor, i) for i in r["instructors"]] for r in found]

    async def links(self, ids: Sequence[str]) -> list[list[Link]]:
        uids = await self._uids(ids)
        found = await self._read(queries.links_text(self._bound), uids=uids, today=self.today().isoformat())
        return [[restored(Link, link) for link in r["links"]] for r in found]

    async def histories(self, ids: Sequence[str]) -> list[OrganizationHistory | None]:
        uids, g = await self._uids(ids), (await self.generation()).g
        found = await self._read(queries.histories_text(self._bound), uids=uids, g=g)
        world = self._generation.world
        return [
            None
            if r["organization"] is None
            else OrganizationHistory.of(
                restored(Organization, r["organization"]), [restored(Upgrade, u) for u in r["upgrades"]],
                [restored(PartOf, p) for p in r["parents"] if world is None or p["parent_id"] in world],
                [restored(Covers, c) for c in r["covers"]],
            )
            for r in found
        ]  # fmt: skip

    async def departments(self, ids: Sequence[str]) -> list[Department | None]:
        found = await self._read(queries.DEPARTMENTS, uids=await self._uids(ids))
        return [None if r["department"] is None else restored(Department, r["department"]) for r in found]

    async def members(self, ids: Sequence[str]) -> list[Members]:
        found = await self._read(queries.members_text(self._bound), uids=await self._uids(ids), day=self._day())
        return [Members(int(r["formal"]), int(r["probationary"])) for r in found]

    async def coverage_states(self, credit_codes: Sequence[str], as_of: date | None = None) -> list[CoverageState]:
        uids = await self._uids(credit_codes)
        found = await self._read(queries.states_text(self._bound), uids=uids, day=self._day(as_of))
        return [
            CoverageState.ORGANIZATION if r["organized"] else CoverageState.WORK if r["worked"] else CoverageState.NONE
            for r in found
        ]

    async def find_enterprises(self, where: EnterpriseFilter, offset: int, limit: int) -> Page[Enterprise]:
        fixed, parameters = await self._scope(where.scope)
        conditions = {
            "status": where.status.value if where.status else None, "key": where.key,
            "above_scale": where.above_scale, "min_formal": where.min_formal_members,
            "needle": where.name_contains.lower() if where.name_contains else None,
        }  # fmt: skip
        given = {name: value for name, value in conditions.items() if value is not None}
        state = where.coverage.value if where.coverage else None
        [found] = await self._read(
            queries.find_enterprises_text(fixed, frozenset(given), state),
            **parameters,
            **given,
            day=self._day(),
            offset=offset,
            limit=limit,
        )
        return Page([restored(Enterprise, e) for e in found["page"]], found["total"], offset)

    async def find_organizations(
        self, where: OrganizationFilter, offset: int, limit: int, order: OrganizationOrder = OrganizationOrder.LEDGER
    ) -> Page[Organization]:
        """The database narrows by kind, parent and scope; graph.organizations.listed and
        ordered decide the rest, so the rule is the embedded store's."""
        today = self.today()
        narrowing = {
            "kinds": sorted(k.value for k in where.kinds) if where.kinds is not None else None,
            "parent": where.parent_id, "today": today.isoformat(),
        }  # fmt: skip
        if where.scope is not None:
            fixed, parameters = await self._scope(where.scope)
            text = queries.organizations_in_text(fixed)
            [found] = await self._read(text, **parameters, **narrowing, day=today.toordinal())
        else:
            [found] = await self._read(queries.ORGANIZATIONS_LISTED, g=(await self.generation()).g, **narrowing)
        among = [org for o in found["organizations"] if (org := self._seen(restored(Organization, o)))]
        matches = ordered([org for org in among if listed(org, where, today)], order)
        return Page(matches[offset : offset + limit], len(matches), offset)

    async def coverage(self, scope: Scope, as_of: date | None = None) -> Coverage:
        [found] = await self.coverage_trend(scope, [date.fromordinal(self._day(as_of))])
        return found

    async def coverage_trend(self, scope: Scope, dates: Sequence[date]) -> list[Coverage]:
        fixed, parameters = await self._scope(scope)
        found = await self._read(queries.coverage_text(fixed, None), **parameters, days=[d.toordinal() for d in dates])
        return [_groups(r["groups"], r["organizations"]).get(None, Coverage()) for r in found]

    async def coverage_by(self, by: GroupBy, scope: Scope, as_of: date | None = None) -> list[CoverageGroup]:
        generation = await self.generation()
        fixed, parameters = await self._scope(scope)
        [found] = await self._read(queries.coverage_text(fixed, by), **parameters, days=[self._day(as_of)])
        groups = _groups(found["groups"], found["organizations"])
        return sorted(
            (CoverageGroup(key or "", _label(generation, by, key), coverage) for key, coverage in groups.items()),
            key=lambda group: group.key,
        )

    async def organization_tree(
        self, root_id: str, depth: int, as_of: date | None = None, links: bool = False
    ) -> OrganizationTree:
        """One statement gathers the subtree and its figures; the levels are put in order here,
        as the embedded store orders them: parents before children, children in ledger order."""
        generation, day = await self.generation(), self._day(as_of)
        on = date.fromordinal(day)
        found = await self._read(
            queries.tree_text(depth, links, self._bound), root=uid(generation.g, root_id), day=day, on=on.isoformat(),
            g=generation.g, clusters=list(generation.clusters), prefix=uid(generation.g, ""), names=NAMES_PER_BRANCH,
        )  # fmt: skip
        standing_root(restored(Organization, found[0]["root"]) if found else None, root_id, on)
        [answer] = found
        coverage = _groups(answer["groups"], answer["cluster_organizations"])
        entries = {entry["organization"]["id"]: entry for entry in answer["organizations"]}
        kids: dict[str | None, list[dict[str, Any]]] = {}
        for entry in entries.values():
            parent = entry["parents"][0] if entry["parents"] and entry["organization"]["id"] != root_id else None
            kids.setdefault(parent, []).append(entry)
        levels = [[entries[root_id]]]
        while len(levels) <= depth and (
            below := [kid for entry in levels[-1] for kid in sorted(kids.get(entry["organization"]["id"], []),
                                                                   key=lambda kid: kid["organization"]["row"])]
        ):  # fmt: skip
            levels.append(below)
        tree = tuple(
            _tree_organization(entry, level, on, coverage)
            for level, entries_on in enumerate(levels)
            for entry in entries_on
        )
        if not links:
            return OrganizationTree(on, tree)
        ids = {member.id for member in tree}
        touching = {restored(Link, link): (end, name) for link, end, name in answer["links"]}
        names = {end: name for end, name in touching.values() if end not in ids and name is not None}
        ordered_links = tuple(sorted(touching, key=lambda link: (link.source_id, link.target_id, link.kind)))
        return OrganizationTree(on, tree, ordered_links, names)

    async def compliance(self, scope: Scope, as_of: date | None, rules: RuleConfig) -> list[RuleCount]:
        return (await self._audit(scope, self._day(as_of), rules)).counts()

    async def findings(
        self, scope: Scope, as_of: date | None, rules: RuleConfig, offset: int, limit: int
    ) -> Page[Finding]:
        """Organization findings from the audit; the page's enterprise findings in one statement."""
        day = self._day(as_of)
        audit = await self._audit(scope, day, rules)
        shown = windows(audit.order, audit.sizes, offset, limit)
        paged = [(code, skip, take) for code, skip, take in shown if code.value in enterprise_codes(rules)]
        rows: dict[RuleCode, list[list[Any]]] = {}
        if paged:
            fixed, parameters = await self._scope(scope)
            [found] = await self._read(
                queries.enterprise_findings_text(fixed, tuple(code.value for code, _, _ in paged)),
                **parameters, **thresholds(rules), day=day,
                skips=[skip for _, skip, _ in paged], takes=[take for _, _, take in paged],
            )  # fmt: skip
            rows = {code: found_rows for (code, _, _), found_rows in zip(paged, found["found"], strict=True)}
        page: list[Finding] = []
        for code, skip, take in shown:
            if code in rows:
                page += enterprise_findings(rules, code, rows[code])
            else:
                page += audit.by_rule.get(code, [])[skip : skip + take]
        return Page(page, audit.total(), offset)

    async def findings_about(self, ids: Sequence[str], as_of: date | None, rules: RuleConfig) -> list[list[Finding]]:
        """An organization's findings from the whole graph's audit; an enterprise's from the rules
        of graph.compliance run on its own facts."""
        day = self._day(as_of)
        audit = await self._audit(Scope(), day, rules)
        found = await self._read(queries.enterprise_facts_text(self._bound), uids=await self._uids(ids), day=day)
        about = findings_about_enterprises(rules, found)
        return [
            audit.by_subject.get(some_id, []) if mine is None else mine
            for some_id, mine in zip(ids, about, strict=True)
        ]

    async def compliance_by(
        self, by: GroupBy, scope: Scope, as_of: date | None, rules: RuleConfig
    ) -> list[ComplianceGroup]:
        """Enterprise rules counted per group in the database; an organization's findings count
        in every group its subtree covers an enterprise of in the scope."""
        generation, day = await self.generation(), self._day(as_of)
        audit = await self._audit(scope, day, rules)
        fixed, parameters = await self._scope(scope)
        codes = enterprise_codes(rules)
        flagged = sorted({f.subject_id for findings in audit.by_rule.values() for f in findings})
        [counted], [reached] = await asyncio.gather(
            self._read(
                queries.enterprise_rule_counts_text(fixed, codes, by), **parameters, **thresholds(rules), day=day
            ),
            self._read(
                queries.groups_reached_text(fixed, by), **parameters, uids=[uid(generation.g, i) for i in flagged],
                day=day,
            ),
        )  # fmt: skip
        keys_of = {org_id: {key for [key] in keys} for org_id, keys in reached["reached"]}
        severities = {s.code: s.severity for s in rules.enabled()}
        groups = []
        for key, _, counts in counted["groups"]:
            tally = dict(zip(map(RuleCode, codes), counts, strict=True))
            for code, findings in audit.by_rule.items():
                tally[code] = sum(key in keys_of.get(f.subject_id, ()) for f in findings)
            groups.append(
                ComplianceGroup(
                    key or "", _label(generation, by, key),
                    [RuleCount(code, severities[code], int(tally.get(code, 0))) for code in audit.order],
                )
            )  # fmt: skip
        return sorted(groups, key=lambda group: group.key)

    async def _audit(self, scope: Scope, day: int, rules: RuleConfig) -> Audit:
        """The audit of `rules` in the scope on `day`, kept for the last few asked of this
        generation (a report pages through one): two statements, run together."""
        fixed, parameters = await self._scope(scope)
        key = ((await self.generation()).version, scope, day, rules)
        if (kept := self._audits.get(key)) is not None:
            return kept
        codes = enterprise_codes(rules)
        [counted], [facts] = await asyncio.gather(
            self._read(
                queries.enterprise_rule_counts_text(fixed, codes, None), **parameters, **thresholds(rules), day=day
            ),
            self._read(queries.organization_facts_text(fixed, not fixed - self._bound), **parameters, day=day),
        )
        counts = counted["groups"][0][2] if counted["groups"] else [0] * len(codes)
        audit = audit_of(rules, date.fromordinal(day), counts, facts["organizations"])
        self._audits[key] = audit
        while len(self._audits) > AUDITS_KEPT:
            self._audits.pop(next(iter(self._audits)))
        return audit

    async def apply(self, changes: Sequence[Change], who: str, request_id: str | None = None) -> Receipt:
        """One transaction of the database (graph.stores.cypher.writes): it takes the graph's
        write counter, gathers what the set reaches, applies the changes to a draft over it
        with graph.changes' rules (a bounded store's first over its world alone, then
        graph.access's checks), and writes the draft, its timelines and its audit entries.
        Committed when it returns (the database flushes its log at commit); the next question
        of this server sees it at once, other servers within GRAPH_SECONDS. Once begun it is
        seen through, so an answer never hides a commit."""
        if past(DEADLINE.get()):
            raise TimedOut("the request's time budget ran out before it was written; nothing was")
        whole = self._whole or self
        changes = tuple(changes)
        request = None if request_id is None else (request_id, digest(changes))
        within = self if self._bound else None
        writing = asyncio.ensure_future(
            whole.connection.transaction(lambda run: whole._write(run, changes, who, request, within))
        )
        try:
            receipt = await asyncio.shield(writing)
        except asyncio.CancelledError:
            if writing.cancelled():
                raise
            receipt = await writing
        except _Earlier as earlier:
            return earlier.receipt
        whole._committed += 1  # this server's next question reads the graph as written
        return receipt

    async def _write(
        self, run: Run, changes: Sequence[Change], who: str, request: tuple[str, str] | None, within: CypherStore | None
    ) -> Receipt:
        """The work of `apply`'s transaction; run again afresh when it met another's."""
        [claimed] = await run(queries.CLAIM)
        graph = claimed["graph"]
        g = int(graph["current"])
        if request is not None and (earlier := await run(queries.EARLIER, request_id=request[0])):
            [row] = earlier
            kept = row["change_set"]
            if row["digest"] != request[1]:
                raise ChangeConflict(
                    f"request id {request[0]!r} was used for other changes (change set {kept['change_set']})",
                    "request_id",
                )
            raise _Earlier(
                Receipt(
                    int(kept["change_set"]), datetime.fromisoformat(kept["at"]), kept["who"], int(kept["changes"]), True
                )
            )
        today, ids = self.today(), named(changes)

        def uids(some: frozenset[str]) -> list[str]:
            return sorted(uid(g, some_id) for some_id in some)

        asked = {
            "g": g, "day": day_number(today), "never": NEVER, "prefix": uid(g, ""), "moved": uids(ids.moved),
            "organizations": uids(ids.organizations), "codes": uids(ids.credit_codes), "every": uids(ids.every),
        }  # fmt: skip
        [found] = await run(queries.reached_text(frozenset()), **asked)
        gathered = _gathered(found)
        draft = Records.of(gathered.dataset).draft(today)
        if within is None:
            apply_changes(draft, changes)
        else:  # what the caller's world holds of it first, as the state does
            text = queries.reached_text(within._bound)
            [seen] = await run(text, **await within._bounded(text, dict(asked)))
            world = await within.generation()
            access.apply_within(within._boundary, world.shared, Records.of(_gathered(seen).dataset).draft(today),
                                draft, changes)  # fmt: skip
        done = writes.written(gathered, draft, g, graph)
        for text, parameters in done.statements:
            await run(text, **parameters)
        if done.timelines:
            await self._shift_timelines(run, g, done.timelines)
        change_set, at = int(graph.get("change_sets") or 0) + 1, datetime.now(UTC)
        entries = [
            dict(zip(("position", "kind", "subject", "change", "before", "after"), entry, strict=True),
                 change_set=change_set, at=at.isoformat(), who=who)
            for entry in audit_entries(draft, changes)
        ]  # fmt: skip
        committed = {"change_set": change_set, "at": at.isoformat(), "who": who, "changes": len(changes)}
        await run(queries.COMMITTED, graph=done.graph, change_set=change_set, committed=committed, entries=entries)
        if request is not None:
            await run(queries.REQUEST, request_id=request[0], change_set=change_set, digest=request[1])
        return Receipt(change_set, at, who, len(changes))

    @staticmethod
    async def _shift_timelines(run: Run, g: int, changes: list[dict[str, Any]]) -> None:
        """Add to each kept timeline the difference the change set made to it; a group new to
        the graph gets a timeline of its own."""
        found = await run(queries.KEPT_TIMELINES, g=g, groups=[[c["by"], c["key"]] for c in changes])
        kept = {(row["by"], row["key"]): row["timeline"] for row in found}
        rows = [{"by": c["by"], "key": c["key"], "columns": writes.shifted(kept.get((c["by"], c["key"])), c)}
                for c in changes]  # fmt: skip
        fresh = [row for row in rows if (row["by"], row["key"]) not in kept]
        if fresh:
            await run(queries.CREATE_TIMELINES, g=g, rows=fresh)
        if len(fresh) < len(rows):
            await run(queries.SET_TIMELINES, g=g, rows=[row for row in rows if (row["by"], row["key"]) in kept])

    async def organization_counts(
        self, by: OrganizationGrouping, scope: Scope, as_of: date | None = None
    ) -> list[OrganizationCount]:
        """Counted in the database, by the kind each had then or by mode; graph.organizations.tallied orders them."""
        fixed, parameters = await self._scope(scope)
        found = await self._read(queries.organization_counts_text(fixed, by), **parameters, **self._on(as_of))
        return tallied({r["key"]: int(r["organizations"]) for r in found}, by)

    async def alliances(self, scope: Scope, as_of: date | None = None) -> list[Alliance]:
        """The database brings each alliance with its members and their links in effect;
        graph.organizations.alliances decides who is a member and who leads."""
        fixed, parameters = await self._scope(scope)
        on = date.fromordinal(self._day(as_of))
        [found] = await self._read(
            queries.alliances_text(fixed),
            **parameters,
            **self._on(on),
            kinds=sorted(kind.value for kind in ALLIANCE_LINKS),
        )
        rows: dict[str, tuple[int, Organization]] = {}
        links, inside = [], set()
        for alliance, members in found["alliances"]:
            rows[alliance["id"]] = (alliance["row"], restored(Organization, alliance))
            for member, link, among in members:
                rows[member["id"]] = (member["row"], restored(Organization, member))
                links.append(restored(Link, link))
                if among:
                    inside.add(member["id"])
        in_ledger_order = {org.id: org for _, org in sorted(rows.values(), key=lambda found: found[0])}
        standing = alliances_on(in_ledger_order, links, on)
        return [a for a in standing if any(m.id in inside for m in a.members)] if fixed - self._bound else standing

    async def pairings(self, scope: Scope, kinds: frozenset[LinkKind]) -> list[Link]:
        fixed, parameters = await self._scope(scope)
        [found] = await self._read(
            queries.pairings_text(fixed), **parameters, **self._on(), kinds=sorted(kind.value for kind in kinds)
        )
        return [restored(Link, link) for link in found["links"]]

    async def unpaired_key_enterprises(self, scope: Scope, offset: int, limit: int) -> Page[Enterprise]:
        fixed, parameters = await self._scope(scope)
        [found] = await self._read(
            queries.unpaired_key_text(fixed), **parameters, **self._on(), offset=offset, limit=limit
        )
        return Page([restored(Enterprise, e) for e in found["page"]], int(found["total"]), offset)

    async def pair_departments(self, scope: Scope, every_department: bool = False) -> Matching:
        """The database brings the key enterprises of the scope, the departments and whom each
        is paired with; graph.pairing.pair_departments weighs and matches them."""
        fixed, parameters = await self._scope(scope)
        [found] = await self._read(queries.department_pairing_text(fixed), **parameters, **self._on())
        enterprises = [restored(Enterprise, e) for e in found["enterprises"]]
        departments = [restored(Department, d) for d in found["departments"]]
        paired_with = {department: set(codes) for department, codes in found["paired"]}
        paired = {(d.id, e.credit_code) for d in departments for e in enterprises
                  if e.credit_code in paired_with.get(d.id, ())}  # fmt: skip
        loads = [len(paired_with.get(d.id, ())) for d in departments]
        return Matching(pair_departments(departments, enterprises, paired, loads, every_department), len(enterprises))

    async def candidates(self, scope: Scope, proximity: Proximity, max_formal: int) -> Candidates:
        """The database picks and places the eligible enterprises; each crosses the wire as
        its credit code, members, place and cluster (the planner in graph.planner groups them)."""
        fixed, parameters = await self._scope(scope)
        [found] = await self._read(
            queries.candidates_text(fixed, proximity.value), **parameters, day=self._day(), max_formal=max_formal
        )
        generation, placed = await self.generation(), found["placed"]
        places = {
            Proximity.BUILDING: lambda park, building: f"{park} {building}",
            Proximity.PARK: lambda park, _: str(park),
            Proximity.CLUSTER: lambda _, cluster: _label(generation, GroupBy.CLUSTER, cluster),
        }[proximity]  # fmt: skip
        return Candidates(
            [code for code, *_ in placed], [int(formal) for _, formal, *_ in placed],
            [places(park, place) for _, _, park, place, *_ in placed], [cluster for *_, cluster, _ in placed],
            [bool(worked) for *_, worked in placed], int(found["eligible"]) - len(placed),
        )  # fmt: skip

    async def neighbourhood(self, credit_code: str, max_formal: int) -> Neighbourhood:
        """The database finds the enterprises near the one asked (its building, its cluster,
        its supply links) and brings the best few of each kind with no organization, and the
        joint branches covering any near one; graph.pairing weighs them."""
        generation = await self.generation()
        found = await self._read(
            queries.neighbourhood_text(self._bound), uid=uid(generation.g, credit_code), g=generation.g, **self._on(),
            max_formal=max_formal, per_kind=NEIGHBOURS_PER_KIND,
        )  # fmt: skip
        if not found:
            raise NotFound(f"no enterprise has the credit code {credit_code!r}")
        [near] = found
        asked = restored(Enterprise, near["enterprise"])
        if near["covering"]:
            names = ", ".join(f"{name} ({org_id})" for name, org_id in near["covering"])
            raise InvalidArgument(f"{asked.name} is covered by {names} already; suggestions are for one that is not")
        best = sorted((entry for kind in near["neighbours"] for entry in kind), key=lambda entry: entry[2])
        cluster_id = near["enterprise"]["resolved_cluster"]
        return Neighbourhood(
            asked, cluster_id, _label(generation, GroupBy.CLUSTER, cluster_id) if cluster_id else None,
            [JointBranchNearby(restored(Organization, org), int(units), int(formal), Near(*flags))
             for org, units, formal, flags in near["joint"]],
            [Neighbour(restored(Enterprise, e), Near(*flags)) for e, flags, _ in best],
        )  # fmt: skip

    async def simulate(
        self, changes: Sequence[Change], scope: Scope, as_of: date | None, rules: RuleConfig
    ) -> Simulation:
        """One statement gathers the records the changes reach and the figures of their
        organizations, beside one for the scope's coverage; graph.simulation overlays the
        changes on them (graph.stores.reached), as over the embedded store."""
        day = simulated_day(as_of, self.today)
        on = date.fromordinal(day)
        generation, ids = await self.generation(), named(changes)

        def uids(some: frozenset[str]) -> list[str]:
            return sorted(uid(generation.g, some_id) for some_id in some)

        asked = replace(scope, cluster=self._cluster_id(generation, scope.cluster)) if scope.cluster else scope
        [found], before = await asyncio.gather(
            self._read(
                queries.reached_text(self._bound), g=generation.g, day=day, never=NEVER, prefix=uid(generation.g, ""),
                moved=uids(ids.moved), organizations=uids(ids.organizations), codes=uids(ids.credit_codes),
                every=uids(ids.every),
            ),
            self.coverage(scope, on),
        )  # fmt: skip
        return await offload(simulate, _reached(found, self.today(), on, asked, before, generation), changes,
                             asked, day, rules)  # fmt: skip


def _gathered(found: Mapping[str, Any]) -> writes.Gathered:
    """The records of the reached-records statement's row (each kind in ledger order), and the row each is kept under."""
    kinds: tuple[tuple[str, type[Any], list[dict[str, Any]]], ...] = (
        ("enterprises", Enterprise, found["enterprises"]), ("organizations", Organization, [f[0] for f in found["facts"]]),
        ("coverage", Covers, found["covers"]), ("links", Link, found["links"]), ("instructors", Instructor, found["instructors"]),
        ("assignments", Assignment, found["assignments"]), ("departments", Department, found["departments"]),
        ("part_of", PartOf, found["parents"]), ("upgrades", Upgrade, found["upgrades"]),
    )  # fmt: skip
    records: dict[str, tuple[Any, ...]] = {}
    rows: dict[tuple[str, Hashable], int] = {}
    for table, kind, stored in kinds:
        kept = {tuple(sorted((k, str(v)) for k, v in row.items())): row for row in stored}  # a record met twice
        ordered_rows = sorted(kept.values(), key=lambda row: row.get("row", 0))
        records[table] = tuple(restored(kind, row) for row in ordered_rows)
        rows |= {
            (table, key_of(table, record)): int(row["row"])
            for record, row in zip(records[table], ordered_rows, strict=True)
        }
    dataset = Dataset(
        EnterpriseTable.of_records(records["enterprises"]), records["organizations"], records["coverage"],
        records["links"], records["instructors"], records["assignments"], records["departments"], records["part_of"],
        records["upgrades"],
    )  # fmt: skip
    return writes.Gathered(dataset, rows)


def _reached(
    found: Mapping[str, Any], today: date, on: date, scope: Scope, coverage: Coverage, generation: Generation
) -> Reached:
    """The baseline of a simulation from the row of the reached-records statement."""
    organizations = {entry[0]["id"]: entry for entry in found["facts"]}
    members = {org_id: (int(entry[3]), int(entry[4])) for org_id, entry in organizations.items()}
    facts = {}
    for org_id, (org, units, inactive, formal, probationary) in organizations.items():
        standing = restored(Organization, org).standing_on(on)
        entry = {"organization": org, "units": units, "inactive": inactive, "formal": formal,
                 "probationary": probationary, "upgrades": [u for u in found["upgrades"] if u["org_id"] == org_id]}  # fmt: skip
        facts[org_id] = organization_facts(entry, on) if standing else None
    dataset = _gathered(found).dataset
    return Reached(dataset, today, Figures(scope, coverage, members, facts, generation.clusters))


async def _generation(connection: Connection) -> Generation:
    found = await connection.read(queries.GRAPH)
    if not found or found[0]["graph"].get("current") is None:
        raise NoGraph(
            f"{connection.address.shown} holds no chainorg graph: load one with `chainorg load LEDGER --store URL`"
        )
    return Generation.of(found[0]["graph"])


def _groups(groups: list[list[Any]], organizations: list[list[Any]]) -> dict[str | None, Coverage]:
    """Coverage per group key from the rows a coverage statement collects."""
    orgs = {key: count for key, count in organizations}
    return {
        key: Coverage(int(enterprises), int(organized), int(worked), int(formal or 0), int(orgs.get(key, 0)))
        for key, enterprises, organized, worked, formal in groups
    }


def _tree_organization(
    entry: dict[str, Any], level: int, on: date, coverage: dict[str | None, Coverage]
) -> TreeOrganization:
    """One organization of a tree from its entry of the tree statement."""
    org = restored(Organization, entry["organization"])
    kind_then = as_on(org, [restored(Upgrade, u) for u in entry["upgrades"]], on)
    parent = entry["parents"][0] if entry["parents"] else None
    covered = [coverage[key] for key in entry["clusters"] if key in coverage]
    return TreeOrganization(
        replace(kind_then, parent_id=parent),
        level,
        Members(int(entry["formal"]), int(entry["probationary"])),
        int(entry["units"] or 0),
        int(entry["inactive_units"] or 0),
        sum(covered[1:], covered[0]) if covered else None,
        tuple(entry["names"]) if org.kind is OrgKind.JOINT_BRANCH else (),
        int(entry["suborganizations"]),
    )


def _label(generation: Generation, by: GroupBy, key: str | None) -> str:
    """A group's label as graph.coverage.CoverageIndex.group gives it."""
    if key is None:
        return "(none)"
    if by is GroupBy.CLUSTER:
        return generation.clusters.get(key, key)
    if by is GroupBy.CATEGORY:
        return term(Category(key)) or key
    return key


__all__ = ["CypherStore", "NoGraph"]

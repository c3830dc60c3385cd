"""Who may see and change what: roles, the boundary of a token, and the world inside it.

A token may be limited to parks and chains (a `Boundary`). Its world is:

- the enterprises of those parks and chains (both, when both are given);
- every organization that covers one of them, itself or through organizations under it,
  by any COVERS edge, ended ones too (so a trend or a history comes out as it was);
- every organization above those, through the parent it has and the parents it had,
  and the clusters those enterprises are declared under, with the tiers above them;
- an organization that covers nothing, itself or under it, when its parent is in the
  world (a branch just created under a cluster is seen by whoever sees the cluster);
  one with no parent that covers nothing is seen by unbounded tokens only;
- the links whose two ends are in the world, the instructors assigned to its
  enterprises, and every department (departments belong to no park).

Every answer for such a token is computed over the world's own records (`world_of`
makes them), so a count cannot include what the token cannot see, and a record outside
is absent, exactly as a missing one. Writes are checked by `write_problem`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from graph.changes import (
    Change,
    ChangeConflict,
    CreateOrganization,
    DissolveOrganization,
    MoveOrganization,
    RegisterEnterprise,
    SetOrganizationDetails,
    UpdateEnterprise,
    UpgradeOrganization,
    apply_changes,
)
from graph.credit_code import normalised
from graph.dataset import Dataset
from graph.enterprises import EnterpriseTable
from graph.errors import ChainorgError
from graph.model import Enterprise, Organization
from graph.records import Draft


class Role(IntEnum):
    """What a token may do; each role may do all that the ones before it may."""

    VIEWER = 1  # reads; personal names are hidden from it
    PLANNER = 2  # also simulates, plans, asks for pairings, saves and compares scenarios
    EDITOR = 3  # also writes and applies scenarios
    ADMIN = 4  # everything, every scope, the audit trail of all

    @classmethod
    def named(cls, name: str) -> Role:
        """The role called `name`, in any case.

        >>> Role.named("Planner")
        <Role.PLANNER: 2>
        """
        try:
            return cls[name.strip().upper()]
        except KeyError:
            raise ValueError(f"no role {name!r}: one of {', '.join(r.label for r in cls)}") from None

    @property
    def label(self) -> str:
        return self.name.lower()


class Forbidden(ChainorgError):
    """The caller's role or boundary does not allow what it asked; nothing was done."""

    code = "FORBIDDEN"


class Unauthenticated(ChainorgError):
    """The request carries no token this server accepts, and anonymous requests are refused."""

    code = "UNAUTHENTICATED"


@dataclass(frozen=True, slots=True)
class Boundary:
    """The parks and chains a token is limited to; empty sets: no limit on that side.

    >>> Boundary(parks=frozenset({"麓谷"})).holds(Enterprise("X", "甲", park="麓谷", chain="软件"))
    True
    >>> Boundary().everywhere
    True
    """

    parks: frozenset[str] = frozenset()
    chains: frozenset[str] = frozenset()

    @classmethod
    def of(cls, parks: Iterable[str] = (), chains: Iterable[str] = ()) -> Boundary:
        return cls(frozenset(p.strip() for p in parks), frozenset(c.strip() for c in chains))

    @property
    def everywhere(self) -> bool:
        return not self.parks and not self.chains

    def holds(self, enterprise: Enterprise) -> bool:
        """Whether the enterprise is inside."""
        return (not self.parks or enterprise.park in self.parks) and (
            not self.chains or enterprise.chain in self.chains
        )

    def contains(self, other: Boundary) -> bool:
        """Whether everything inside `other` is inside this one."""
        return (not self.parks or (bool(other.parks) and other.parks <= self.parks)) and (
            not self.chains or (bool(other.chains) and other.chains <= self.chains)
        )

    def rows(self, table: EnterpriseTable) -> np.ndarray:
        """A mask over the table's rows: the enterprises inside."""
        inside = np.ones(len(table), dtype=bool)
        for names, dimension in ((self.parks, table.park), (self.chains, table.chain)):
            if names:
                codes = [code for name in names if (code := dimension.code(name)) is not None]
                inside &= np.isin(dimension.codes, codes)
        return inside

    def describe(self) -> str:
        """In words, for `token list` and the explorer.

        >>> Boundary.of(parks=["麓谷"]).describe()
        'parks 麓谷'
        """
        parts = [f"parks {', '.join(sorted(self.parks))}"] if self.parks else []
        parts += [f"chains {', '.join(sorted(self.chains))}"] if self.chains else []
        return "; ".join(parts) or "everywhere"


EVERYWHERE = Boundary()


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a request comes from: the token's name (what change sets record as `who`), its
    role and its boundary."""

    name: str
    role: Role
    boundary: Boundary = EVERYWHERE

    def may(self, role: Role) -> bool:
        return self.role >= role

    @property
    def bounded(self) -> bool:
        return not self.boundary.everywhere

    @property
    def sees_personal_names(self) -> bool:
        """Secretaries' and instructors' names are for planners and above, not viewers."""
        return self.may(Role.PLANNER)


ADMIN_EVERYWHERE = Caller("anonymous", Role.ADMIN)


@dataclass(frozen=True, eq=False)
class World:
    """The records inside a boundary (see the module docstring), and the organizations
    of it that also reach enterprises outside (`shared`), which a bounded token may not
    restructure."""

    boundary: Boundary
    dataset: Dataset
    shared: frozenset[str] = field(default_factory=frozenset)


def world_organizations(
    organizations: Sequence[Organization], past_parents: Iterable[tuple[str, str]], reaching_in: set[str],
    reaching_out: set[str],
) -> tuple[set[str], set[str]]:  # fmt: skip
    """The ids of a world's organizations, and of those among them that are shared (they
    also reach enterprises outside), from the organizations whose COVERS edges reach an
    enterprise inside (with the clusters the enterprises inside declare) and outside;
    `past_parents` are (organization, parent it had) pairs."""
    by_id = {org.id for org in organizations}
    parents: dict[str, set[str]] = {}
    for org in organizations:
        if org.parent_id is not None:
            parents.setdefault(org.id, set()).add(org.parent_id)
    for org_id, parent_id in past_parents:
        parents.setdefault(org_id, set()).add(parent_id)
    members = _with_ancestors(reaching_in & by_id, parents)
    shared = _with_ancestors(reaching_out & by_id, parents)
    for org in sorted(organizations, key=lambda o: o.kind.rank):  # parents before children
        if org.id not in members and org.id not in shared and org.parent_id in members:
            members.add(org.id)
    return members, shared & members


def world_of(dataset: Dataset, boundary: Boundary) -> World:
    """The world of `boundary` in `dataset`, as a dataset of its own."""
    table = dataset.enterprises
    inside = boundary.rows(table)
    orgs = dataset.organizations
    rows = table.rows_of([c.credit_code for c in dataset.covers])
    hits = (inside[rows] if len(rows) else np.zeros(0, dtype=bool)).tolist()
    covers_inside = [cover for cover, hit in zip(dataset.covers, hits, strict=True) if hit]
    reaching_in = {c.org_id for c in covers_inside}
    reaching_out = {c.org_id for c, hit in zip(dataset.covers, hits, strict=True) if not hit}
    declared = table.declared_cluster
    reaching_in |= {declared.keys[code] for code in np.unique(declared.codes[inside]).tolist() if code}
    past = [(p.org_id, p.parent_id) for p in dataset.past_parents]
    members, shared = world_organizations(orgs, past, reaching_in, reaching_out)
    if boundary.everywhere:
        members = {org.id for org in orgs}
    codes = set(np.char.decode(table.codes[inside], "ascii").tolist())
    assigned = [a for a in dataset.assignments if a.credit_code in codes]
    instructors = {a.instructor_id for a in assigned}
    departments = {d.id for d in dataset.departments}
    ends = members | departments | codes
    world = Dataset(
        enterprises=table.taken(np.flatnonzero(inside)),
        organizations=tuple(o for o in orgs if o.id in members),
        covers=tuple(covers_inside),
        links=tuple(link for link in dataset.links if link.source_id in ends and link.target_id in ends),
        instructors=tuple(i for i in dataset.instructors if i.id in instructors),
        assignments=tuple(assigned),
        departments=dataset.departments,
        past_parents=tuple(p for p in dataset.past_parents if p.org_id in members and p.parent_id in members),
        upgrades=tuple(u for u in dataset.upgrades if u.org_id in members),
    )
    return World(boundary, world, frozenset(shared & members))


def _with_ancestors(ids: set[str], parents: dict[str, set[str]]) -> set[str]:
    found, stack = set(ids), list(ids)
    while stack:
        for parent in parents.get(stack.pop(), ()):
            if parent not in found:
                found.add(parent)
                stack.append(parent)
    return found


RESTRUCTURING = (SetOrganizationDetails, MoveOrganization, UpgradeOrganization, DissolveOrganization)


def apply_within(
    boundary: Boundary, shared: frozenset[str], seen: Draft, draft: Draft, changes: Sequence[Change]
) -> None:
    """Apply a bounded caller's changes: first to `seen`, a draft over the world's own
    records alone, then `write_problem`'s checks (Forbidden), then to `draft` over every
    record, where an id taken outside the world is refused as taken, without saying by what.
    `shared`: the world's organizations that also reach enterprises outside."""
    apply_changes(seen, changes)
    problem = write_problem(boundary, shared, changes, seen)
    if problem is not None:
        position, field_name, reason = problem
        raise Forbidden(f"change {position}, {field_name}: {reason}; nothing was written")
    try:
        apply_changes(draft, changes)
    except ChangeConflict as conflict:
        message = "taken: ids and credit codes are distinct across the whole state, beyond your scope too"
        raise ChangeConflict(message, conflict.field, conflict.position) from None


def write_problem(
    boundary: Boundary, shared: frozenset[str], changes: Sequence[Change], draft: Draft
) -> tuple[int, str, str] | None:
    """Why a bounded token may not make `changes`: (position from 1, field, reason), or None.

    `draft` holds the changes applied over the world's own records (so a change naming
    something outside was refused already, as naming something missing). What is left
    to check: enterprises stay inside, a new organization has a parent in the world,
    and an organization that also reaches enterprises outside keeps its name, details,
    place and kind (other parks' staff rely on it)."""
    for position, change in enumerate(changes, start=1):
        if isinstance(change, RegisterEnterprise | UpdateEnterprise):
            code = change.enterprise.credit_code if isinstance(change, RegisterEnterprise) else change.credit_code
            found = draft.enterprise(normalised(code))
            if found is not None and not boundary.holds(found):
                return position, "park", f"the enterprise would be outside your scope ({boundary.describe()})"
        elif isinstance(change, CreateOrganization):
            if change.organization.parent_id is None:
                return position, "parent_id", "an organization made by a scoped token needs a parent in its scope"
        elif isinstance(change, RESTRUCTURING) and change.org_id in shared:
            return (
                position,
                "org_id",
                (
                    f"{change.org_id} also reaches enterprises outside your scope ({boundary.describe()}); "
                    "only a token whose scope holds all it reaches may change it"
                ),
            )
    return None


def strings_in(value: object) -> set[str]:
    """Every string in a JSON-like value (an audit entry's records, a scenario's changes): the
    ids it may name.

    >>> sorted(strings_in({"org_id": "J1", "credit_codes": ["X", "Y"], "formal": 3}))
    ['J1', 'X', 'Y']
    """
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.add(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return found

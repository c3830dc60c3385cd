"""Organizations listed, ordered, counted and gathered into alliances (党建联盟).

Pure rules over records, so every store answers these questions alike: a store finds the
records (the organizations in a scope, the links in effect), these functions decide.

>>> from graph.model import FormationMode
>>> orgs = [Organization("A", "甲支部", OrgKind.BRANCH, mode=FormationMode.STANDALONE, stars=3),
...         Organization("B", "乙联合支部", OrgKind.JOINT_BRANCH, mode=FormationMode.JOINT, stars=5),
...         Organization("C", "丙支部", OrgKind.BRANCH)]
>>> [(c.label, c.count) for c in counted(orgs, OrganizationGrouping.KIND)]
[('党支部', 2), ('联合党支部', 1)]
>>> [o.id for o in ordered(orgs, OrganizationOrder.STARS)]
['B', 'A', 'C']
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from graph.model import ATTACHING, FormationMode, Link, LinkKind, Organization, OrgKind, holds_on
from graph.query import OrganizationCount, OrganizationFilter, OrganizationGrouping, OrganizationOrder
from graph.rules import ALLIANCE_LINKS
from graph.vocabulary import term

NOT_RECORDED = "(未填)"  # the label of organizations with no mode recorded


def attached(organizations: Sequence[Organization]) -> list[bool]:
    """Per organization: whether a cluster, chain committee or park committee is above it,
    through the parents they have now (compliance's ORPHAN rule reads it).

    >>> attached([Organization("C", "联组", OrgKind.CLUSTER), Organization("B", "支部", OrgKind.BRANCH, parent_id="C")])
    [False, True]
    """
    by_id = {org.id: org for org in organizations}
    found: list[bool] = []
    for org in organizations:
        seen, parent = {org.id}, by_id.get(org.parent_id or "")
        while parent is not None and parent.kind not in ATTACHING and parent.id not in seen:
            seen.add(parent.id)
            parent = by_id.get(parent.parent_id or "")
        found.append(parent is not None and parent.kind in ATTACHING)
    return found


def listed(org: Organization, where: OrganizationFilter, today: date) -> bool:
    """Whether `org` is one `where` lists (its `scope` is the store's to apply): standing today
    and matching every field set."""
    if org.dissolved_on is not None and org.dissolved_on <= today:
        return False
    ends = org.term_ends_on
    return (
        (where.kinds is None or org.kind in where.kinds)
        and (where.parent_id is None or org.parent_id == where.parent_id)
        and (not where.name_contains or where.name_contains.casefold() in org.name.casefold())
        and (where.term_ends_before is None or (ends is not None and ends <= where.term_ends_before))
        and (where.term_ends_after is None or (ends is not None and ends >= where.term_ends_after))
        and (where.min_stars is None or (org.stars or 0) >= where.min_stars)
        and (where.min_points is None or (org.points or 0) >= where.min_points)
    )


_ORDER_KEYS: dict[OrganizationOrder, Callable[[Organization], tuple[bool, int]]] = {
    OrganizationOrder.STARS: lambda org: (org.stars is None, -(org.stars or 0)),
    OrganizationOrder.POINTS: lambda org: (org.points is None, -(org.points or 0)),
    OrganizationOrder.TERM_ENDS: lambda org: (
        org.term_ends_on is None,
        org.term_ends_on.toordinal() if org.term_ends_on else 0,
    ),
}


def ordered(orgs: Sequence[Organization], order: OrganizationOrder) -> list[Organization]:
    """`orgs` (in the ledger's order) in `order`; a stable sort, so ties keep the ledger's order."""
    key = _ORDER_KEYS.get(order)
    return list(orgs) if key is None else sorted(orgs, key=key)


def counted(orgs: Iterable[Organization], by: OrganizationGrouping) -> list[OrganizationCount]:
    """How many of `orgs` each kind (in tier order) or formation mode (in its order, none
    recorded last) has; groups with none are left out."""
    return tallied(Counter(org.kind if by is OrganizationGrouping.KIND else org.mode for org in orgs), by)


def tallied(tally: Mapping[str | None, int], by: OrganizationGrouping) -> list[OrganizationCount]:
    """The counts `counted` gives, from how many organizations each kind or mode (its
    value; None: no mode recorded) has, as a store that counts them itself finds.

    >>> [(c.key, c.count) for c in tallied({None: 2, "JOINT": 1}, OrganizationGrouping.MODE)]
    [('JOINT', 1), ('', 2)]
    """
    members: list[OrgKind | FormationMode] = [*OrgKind] if by is OrganizationGrouping.KIND else [*FormationMode]
    found = [OrganizationCount(m.value, term(m) or m.value, count) for m in members if (count := tally.get(m.value, 0))]
    if none := tally.get(None, 0):
        found.append(OrganizationCount("", NOT_RECORDED, none))
    return found


@dataclass(frozen=True, slots=True)
class Alliance:
    """A party-building alliance (党建联盟), its lead (盟主单位) and its member organizations
    (the lead among them), in the ledger's order."""

    alliance: Organization
    lead: Organization | None
    members: tuple[Organization, ...]


def alliances(organizations: Mapping[str, Organization], links: Iterable[Link], day: date) -> list[Alliance]:
    """The alliances standing on `day` in `organizations` (ledger order), each with the
    members whose ALLIANCE or ALLIANCE_LEAD link holds then; a member or lead not standing
    then is left out."""
    order = {org_id: n for n, org_id in enumerate(organizations)}
    members: dict[str, set[str]] = {}
    leads: dict[str, str] = {}
    for link in links:
        if link.kind not in ALLIANCE_LINKS or not holds_on(link.since, link.until, day):
            continue
        source = organizations.get(link.source_id)
        if source is None or not source.standing_on(day):
            continue
        members.setdefault(link.target_id, set()).add(link.source_id)
        if link.kind is LinkKind.ALLIANCE_LEAD:
            leads[link.target_id] = link.source_id
    return [
        Alliance(
            org,
            organizations[leads[org.id]] if org.id in leads else None,
            tuple(organizations[i] for i in sorted(members.get(org.id, ()), key=order.__getitem__)),
        )
        for org in organizations.values()
        if org.kind is OrgKind.ALLIANCE and org.standing_on(day)
    ]

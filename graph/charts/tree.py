"""What a store answers for an org chart: one organization's subtree as of a date.

A store returns the facts in one operation; `graph.charts.chart` decides what the
chart shows of them (which boxes, which are collapsed), so every store draws alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from graph.errors import NotFound
from graph.model import Link, Members, Organization
from graph.query import Coverage

MAX_DEPTH = 6  # the tiers run from a park committee (rank 0) to a branch (rank 5)
NAMES_PER_BRANCH = 6  # enterprise names a joint branch's facts carry


@dataclass(frozen=True, slots=True)
class TreeOrganization:
    """One organization of the subtree, with the figures its box shows.

    `members` counts the ACTIVE enterprises of its whole subtree, `units` and
    `inactive_units` the enterprises it covers itself. `coverage` is that of the
    enterprises the clusters of its subtree are responsible for (None where it has
    no cluster). A joint branch lists the names of up to NAMES_PER_BRANCH of its ACTIVE
    enterprises. `suborganizations` counts its children, shown or not.
    """

    organization: Organization
    level: int
    members: Members
    units: int = 0
    inactive_units: int = 0
    coverage: Coverage | None = None
    enterprises: tuple[str, ...] = ()
    suborganizations: int = 0

    @property
    def id(self) -> str:
        return self.organization.id


@dataclass(frozen=True, slots=True)
class OrganizationTree:
    """A root and its organizations established by `as_of`, down to a depth.

    `organizations` starts with the root (level 0) and lists parents before their
    children, children in ledger order. `links` are the LINK edges in effect that touch
    an organization of the tree; `names` names their other ends when those are outside
    it (departments, enterprises, organizations elsewhere).
    """

    as_of: date
    organizations: tuple[TreeOrganization, ...]
    links: tuple[Link, ...] = ()
    names: Mapping[str, str] = field(default_factory=dict)

    @property
    def root(self) -> TreeOrganization:
        return self.organizations[0]


def standing_root(root: Organization | None, root_id: str, on: date) -> Organization:
    """The root a chart is drawn from on `on`; NotFound, saying why, for none or one not standing then."""
    if root is None:
        raise NotFound(f"no organization has the id {root_id!r}")
    if not root.standing_on(on):
        dissolved = root.dissolved_on
        when = (
            f"dissolved on {dissolved}, by"
            if dissolved is not None and dissolved <= on
            else f"established on {root.established_on}, after"
        )
        raise NotFound(f"{root.name} ({root_id}) was {when} {on}")
    return root

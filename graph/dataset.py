"""A validated, self-consistent set of records: what a store is built from."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from graph.enterprises import EnterpriseTable
from graph.model import Assignment, Covers, Department, Instructor, Link, Organization, PartOf, Upgrade


@dataclass(frozen=True, eq=False)
class Dataset:
    """Enterprises as columns; the graph's other records as typed values."""

    enterprises: EnterpriseTable
    organizations: tuple[Organization, ...] = ()
    covers: tuple[Covers, ...] = ()
    links: tuple[Link, ...] = ()
    instructors: tuple[Instructor, ...] = ()
    assignments: tuple[Assignment, ...] = ()
    departments: tuple[Department, ...] = ()
    past_parents: tuple[PartOf, ...] = ()  # PART_OF edges that ended when an organization moved
    upgrades: tuple[Upgrade, ...] = ()

    def summary(self) -> dict[str, int]:
        """Counts per node and edge kind, as `chainorg load` prints them."""
        kinds = Counter(org.kind for org in self.organizations)
        table = self.enterprises
        return {
            "parks": len(table.park.keys) - 1,
            "buildings": len(table.buildings()),
            "enterprises": len(table),
            "organizations": len(self.organizations),
            **{f"organizations.{kind.value}": n for kind, n in sorted(kinds.items())},
            "departments": len(self.departments),
            "instructors": len(self.instructors),
            "covers": len(self.covers),
            "links": len(self.links),
            "assignments": len(self.assignments),
        }

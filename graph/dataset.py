"""A validated, self-consistent set of records: what a store is built from."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from graph.model import (
    Assignment,
    Covers,
    Department,
    Enterprise,
    Instructor,
    Link,
    Organization,
)


@dataclass(frozen=True)
class Dataset:
    enterprises: tuple[Enterprise, ...] = ()
    organizations: tuple[Organization, ...] = ()
    covers: tuple[Covers, ...] = ()
    links: tuple[Link, ...] = ()
    instructors: tuple[Instructor, ...] = ()
    assignments: tuple[Assignment, ...] = ()
    departments: tuple[Department, ...] = ()

    def summary(self) -> dict[str, int]:
        """Counts per node and edge kind, as `chainorg load` prints them."""
        kinds = Counter(org.kind for org in self.organizations)
        return {
            "parks": len({e.park for e in self.enterprises}),
            "buildings": len({(e.park, e.building) for e in self.enterprises if e.building}),
            "enterprises": len(self.enterprises),
            "organizations": len(self.organizations),
            **{f"organizations.{kind.value}": n for kind, n in sorted(kinds.items())},
            "departments": len(self.departments),
            "instructors": len(self.instructors),
            "covers": len(self.covers),
            "links": len(self.links),
            "assignments": len(self.assignments),
        }

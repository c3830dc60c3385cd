"""Every change on the hand-made ledger: what it writes, and each rule that refuses it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from graph.changes import (
    AddLink,
    AssignInstructor,
    Change,
    ChangeRejected,
    CoverEnterprises,
    CreateOrganization,
    DissolveOrganization,
    EndLink,
    MoveOrganization,
    RegisterEnterprise,
    SetOrganizationDetails,
    UnassignInstructor,
    UncoverEnterprises,
    UpdateEnterprise,
    UpgradeOrganization,
    apply_changes,
)
from graph.dataset import Dataset
from graph.model import (
    Assignment,
    Covers,
    Enterprise,
    LinkKind,
    Organization,
    OrgKind,
    PartOf,
    Status,
    Upgrade,
)
from graph.records import Records
from tests.conftest import contents, credit_code

TODAY = date(2024, 1, 1)
DAY = date(2023, 1, 1)


def applied(dataset: Dataset, *changes: Change) -> Dataset:
    """The dataset after `changes`, applied as one set and merged."""
    records = Records.of(dataset)
    apply_changes(records.draft(TODAY), changes).merge()
    return records.dataset()


def org(dataset: Dataset, org_id: str) -> Organization:
    found = [o for o in dataset.organizations if o.id == org_id]
    assert found, f"no organization {org_id}"
    return found[0]


def enterprise(dataset: Dataset, number: int) -> Enterprise:
    table = dataset.enterprises
    rows = table.rows_of([credit_code(number)])
    assert rows[0] >= 0, f"no enterprise {number}"
    return table.records(rows)[0]


CHANGES: list[tuple[Change, Callable[[Dataset], object], object]] = [
    (RegisterEnterprise(Enterprise(credit_code(9).lower(), "企业9", "A", building="X")),
     lambda d: (enterprise(d, 9).name, enterprise(d, 9).registered_on, len(d.enterprises)), ("企业9", TODAY, 9)),
    (UpdateEnterprise(credit_code(5), formal_members=7, status=Status.ZOMBIE, status_on=DAY),
     lambda d: (enterprise(d, 5).formal_members, enterprise(d, 5).status, enterprise(d, 5).status_since),
     (7, Status.ZOMBIE, DAY)),
    (CreateOrganization(Organization("B9", "企业5党支部", OrgKind.BRANCH, parent_id="C2")),
     lambda d: (org(d, "B9").parent_id, org(d, "B9").established_on), ("C2", TODAY)),
    (SetOrganizationDetails("B1", stars=4, secretary="王五"),
     lambda d: (org(d, "B1").stars, org(d, "B1").secretary, org(d, "B1").name), (4, "王五", "企业1党支部")),
    (MoveOrganization("B1", "C2", DAY),
     lambda d: (org(d, "B1").parent_id, d.past_parents), ("C2", (PartOf("B1", "C1", date(2019, 6, 1), DAY),))),
    (UpgradeOrganization("B1", OrgKind.GENERAL_BRANCH, DAY),
     lambda d: (org(d, "B1").kind, d.upgrades), (OrgKind.GENERAL_BRANCH, (Upgrade("B1", OrgKind.BRANCH, OrgKind.GENERAL_BRANCH, DAY),))),
    (DissolveOrganization("J1", DAY),
     lambda d: (org(d, "J1").dissolved_on, [c.until for c in d.covers if c.org_id == "J1"],
                [link.until for link in d.links if link.target_id == "J1"]), (DAY, [DAY, DAY], [DAY])),
    (CoverEnterprises("B2", (credit_code(5),), DAY),
     lambda d: d.covers[-1], Covers("B2", credit_code(5), DAY)),
    (UncoverEnterprises("J1", (credit_code(3),), DAY),
     lambda d: [c.until for c in d.covers if c.credit_code == credit_code(3)], [DAY]),
    (AddLink("D1", credit_code(5), LinkKind.PAIRING, DAY),
     lambda d: (d.links[-1].target_id, d.links[-1].since), (credit_code(5), DAY)),
    (EndLink("D1", "J1", LinkKind.PAIRING, DAY), lambda d: d.links[0].until, DAY),
    (AssignInstructor("I3", credit_code(5), name="王五"),
     lambda d: (d.instructors[-1].name, d.assignments[-1]), ("王五", Assignment("I3", credit_code(5), TODAY))),
    (UnassignInstructor("I1", credit_code(4), DAY), lambda d: d.assignments[0].until, DAY),
]  # fmt: skip


@pytest.mark.parametrize(("change", "read", "expected"), CHANGES, ids=[type(c[0]).__name__ for c in CHANGES])
def test_each_change_writes_its_records(
    hand_dataset: Dataset, change: Change, read: Callable[[Dataset], object], expected: object
) -> None:
    try:
        assert read(hand_dataset) != expected
    except AssertionError as missing:
        assert str(missing).startswith("no "), missing
    assert read(applied(hand_dataset, change)) == expected


REFUSALS: list[tuple[Change, str, str | None, str]] = [
    (RegisterEnterprise(Enterprise("91430100MA4L000010", "X", "A")), "INVALID_CHANGE", "credit_code", "check character"),
    (RegisterEnterprise(Enterprise(credit_code(1), "X", "A")), "CONFLICT", "credit_code", "registered already"),
    (RegisterEnterprise(Enterprise(credit_code(9), "X", "A", cluster_id="B1")), "INVALID_CHANGE", "cluster_id", "not a CLUSTER"),
    (RegisterEnterprise(Enterprise(credit_code(9), " ", "A")), "INVALID_CHANGE", "name", "blank"),
    (UpdateEnterprise(credit_code(9)), "NOT_FOUND", "credit_code", "no enterprise"),
    (UpdateEnterprise(credit_code(1), formal_members=-1), "INVALID_CHANGE", "formal_members", "from 0"),
    (UpdateEnterprise(credit_code(1), status=Status.ZOMBIE, status_on=date(2017, 1, 1)), "INVALID_CHANGE", "status_on", "before"),
    (UpdateEnterprise(credit_code(1), status_on=DAY), "INVALID_CHANGE", "status_on", "needs the new status"),
    (CreateOrganization(Organization("B1", "X", OrgKind.BRANCH, parent_id="C1")), "CONFLICT", "id", "an organization has the id"),
    (CreateOrganization(Organization("D1", "X", OrgKind.BRANCH, parent_id="C1")), "CONFLICT", "id", "a department has the id"),
    (CreateOrganization(Organization("B9", "X", OrgKind.BRANCH, parent_id="B2")), "INVALID_CHANGE", "parent_id", "cannot be part of"),
    (CreateOrganization(Organization("B9", "X", OrgKind.BRANCH, parent_id="ZZ")), "NOT_FOUND", "parent_id", "no organization"),
    (CreateOrganization(Organization("B9", "X", OrgKind.BRANCH, "B1", established_on=date(2019, 1, 1))),
     "INVALID_CHANGE", "parent_id", "cannot be part of"),
    (SetOrganizationDetails("B1", stars=6), "INVALID_CHANGE", "stars", "from 0 to 5"),
    (MoveOrganization("C1", "B1"), "INVALID_CHANGE", "parent_id", "cannot be part of"),
    (MoveOrganization("B1", "C2", date(2019, 1, 1)), "INVALID_CHANGE", "on", "not after"),
    (MoveOrganization("B1", "C1"), "CONFLICT", "parent_id", "already"),
    (UpgradeOrganization("J1", OrgKind.COMMITTEE), "INVALID_CHANGE", "to", "cannot be upgraded"),
    (UpgradeOrganization("B1", OrgKind.BRANCH), "INVALID_CHANGE", "to", "cannot be upgraded"),
    (DissolveOrganization("C1"), "INVALID_CHANGE", "org_id", r"2 organization\(s\) are under it"),
    (DissolveOrganization("B1", date(2019, 1, 1)), "INVALID_CHANGE", "on", "before it was established"),
    (CoverEnterprises("C1", (credit_code(5),)), "INVALID_CHANGE", "org_id", "does not cover enterprises"),
    (CoverEnterprises("B1", (credit_code(1),)), "CONFLICT", "credit_codes[0]", "covers"),
    (CoverEnterprises("B1", (credit_code(5), "X")), "NOT_FOUND", "credit_codes[1]", "no enterprise"),
    (CoverEnterprises("B1", ()), "INVALID_CHANGE", "credit_codes", "at least one"),
    (UncoverEnterprises("B1", (credit_code(5),)), "NOT_FOUND", "credit_codes[0]", "does not cover"),
    (UncoverEnterprises("J1", (credit_code(2),), date(2020, 6, 1)), "INVALID_CHANGE", "on", "not after"),
    (AddLink("D1", "J1", LinkKind.PAIRING), "CONFLICT", "target_id", "exists already"),
    (AddLink("D1", "D1", LinkKind.PAIRING), "INVALID_CHANGE", "target_id", "two different ends"),
    (AddLink("ZZ", "J1", LinkKind.PAIRING), "NOT_FOUND", "source_id", "no organization, department or enterprise"),
    (EndLink("D1", "B1", LinkKind.PAIRING), "NOT_FOUND", "target_id", "no PAIRING link"),
    (AssignInstructor("I9", credit_code(5)), "INVALID_CHANGE", "name", "required"),
    (AssignInstructor("I1", credit_code(4)), "CONFLICT", "credit_code", "already"),
    (AssignInstructor("I1", credit_code(5), name="别人"), "CONFLICT", "name", "is named"),
    (UnassignInstructor("I2", credit_code(1)), "NOT_FOUND", "credit_code", "not assigned"),
    # what the ledger refuses, refused the same: one rule per fact (graph.rules)
    (CreateOrganization(Organization(credit_code(5), "X", OrgKind.BRANCH, parent_id="C1")), "CONFLICT", "id", "an enterprise has the id"),
    (CreateOrganization(Organization("I1", "X", OrgKind.BRANCH, parent_id="C1")), "CONFLICT", "id", "an instructor has the id"),
    (AssignInstructor("B1", credit_code(5), name="王五"), "CONFLICT", "instructor_id", "an organization has the id"),
    (RegisterEnterprise(Enterprise(credit_code(9), "\u200b\u200b", "A")), "INVALID_CHANGE", "name", "blank"),
    (RegisterEnterprise(Enterprise(credit_code(9), "企业\x00", "A")), "INVALID_CHANGE", "name", "control characters"),
    (SetOrganizationDetails("B1", name="\u200b"), "INVALID_CHANGE", "name", "blank"),
    (SetOrganizationDetails("B1", secretary="王\x07五"), "INVALID_CHANGE", "secretary", "control characters"),
    (CoverEnterprises("B2", (credit_code(5),), date(9999, 12, 31)), "INVALID_CHANGE", "since", "between 1900-01-01 and 2100-12-31"),
    (UpdateEnterprise(credit_code(1), status=Status.ZOMBIE, status_on=date(9999, 12, 31)), "INVALID_CHANGE", "status_on", "between"),
    (RegisterEnterprise(Enterprise(credit_code(9), "X", "A", registered_on=date(1899, 12, 31))), "INVALID_CHANGE", "registered_on", "between"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ([DissolveOrganization("J1", DAY), AddLink("D1", "J1", LinkKind.CHAIN_CO_BUILD, TODAY)], "target_id", "dissolved"),
        ([CreateOrganization(Organization("C9", "新联组", OrgKind.CLUSTER, parent_id="P", established_on=date(2030, 1, 1))),
          MoveOrganization("B1", "C9", TODAY)], "on", "was established"),
    ],
)  # fmt: skip
def test_what_stands_no_longer_or_not_yet_takes_nothing(
    hand_dataset: Dataset, changes: list[Change], field: str, reason: str
) -> None:
    records = Records.of(hand_dataset)
    with pytest.raises(ChangeRejected, match=reason) as refused:
        apply_changes(records.draft(TODAY), changes)
    assert (refused.value.field, refused.value.position) == (field, 2)


def test_an_enterprise_is_put_under_a_standing_cluster_only(hand_dataset: Dataset) -> None:
    """Enterprise 5 stays under the cluster it had; enterprise 1 cannot be put under it."""
    records = Records.of(hand_dataset)
    dissolved = [DissolveOrganization("B2", DAY), DissolveOrganization("C2", DAY)]
    apply_changes(records.draft(TODAY), [*dissolved, UpdateEnterprise(credit_code(5), employees=9)])
    with pytest.raises(ChangeRejected, match="dissolved") as refused:
        apply_changes(records.draft(TODAY), [*dissolved, UpdateEnterprise(credit_code(1), cluster_id="C2")])
    assert (refused.value.field, refused.value.position) == ("cluster_id", 3)


def test_dissolving_an_organization_ends_its_own_edges_only(hand_dataset: Dataset) -> None:
    """Edges are matched by the kind of their ends: an enterprise's credit code equal to a
    department's id (the ledger and changes refuse it, this checks the records) is no match."""
    records = Records.of(hand_dataset)
    draft = records.draft(TODAY)
    apply_changes(draft, [AddLink("D1", credit_code(1), LinkKind.PAIRING, DAY)])
    assert [c.org_id for c in draft.open_edges("coverage", credit_code(1), ("org_id",))] == []
    assert [c.org_id for c in draft.open_edges("coverage", "B1", ("org_id",))] == ["B1"]
    assert [link.source_id for link in draft.open_edges("links", credit_code(1), ("source_id", "target_id"))] == ["D1"]


@pytest.mark.parametrize(("change", "code", "field", "reason"), REFUSALS)
def test_each_rule_refuses_with_a_code_and_a_field(
    hand_dataset: Dataset, change: Change, code: str, field: str, reason: str
) -> None:
    records = Records.of(hand_dataset)
    with pytest.raises(ChangeRejected, match=reason) as refused:
        apply_changes(records.draft(TODAY), [change])
    assert (refused.value.code, refused.value.field, refused.value.position) == (code, field, 1)
    assert contents(records.dataset()) == contents(hand_dataset)


def test_a_set_sees_its_own_changes_in_order(hand_dataset: Dataset) -> None:
    after = applied(
        hand_dataset,
        CreateOrganization(Organization("J2", "Y楼联合党支部", OrgKind.JOINT_BRANCH, parent_id="C2")),
        CoverEnterprises("J2", (credit_code(5), credit_code(8))),
        UncoverEnterprises("J2", (credit_code(8),), date(2024, 2, 1)),
    )
    assert [(c.credit_code, c.until) for c in after.covers if c.org_id == "J2"] == [
        (credit_code(5), None),
        (credit_code(8), date(2024, 2, 1)),
    ]


def test_one_bad_change_writes_nothing_and_names_its_position(hand_dataset: Dataset) -> None:
    records = Records.of(hand_dataset)
    changes = [
        SetOrganizationDetails("B1", stars=5),
        CoverEnterprises("B1", (credit_code(5),)),
        MoveOrganization("C1", "B1"),
    ]
    with pytest.raises(ChangeRejected) as refused:
        apply_changes(records.draft(TODAY), changes)
    assert refused.value.position == 3  # the third change, counted from 1 as people count
    assert str(refused.value).startswith("change 3, parent_id: a CLUSTER cannot be part of a BRANCH")
    assert contents(records.dataset()) == contents(hand_dataset)


def test_recovering_after_an_end_starts_a_new_edge(hand_dataset: Dataset) -> None:
    after = applied(
        hand_dataset,
        UncoverEnterprises("B1", (credit_code(1),), date(2022, 1, 1)),
        CoverEnterprises("B1", (credit_code(1),), DAY),
    )
    assert [(c.since, c.until) for c in after.covers if c.org_id == "B1"] == [(None, date(2022, 1, 1)), (DAY, None)]
    with pytest.raises(ChangeRejected, match="before its last coverage"):
        applied(
            hand_dataset,
            UncoverEnterprises("B1", (credit_code(1),), DAY),
            CoverEnterprises("B1", (credit_code(1),), date(2022, 1, 1)),
        )

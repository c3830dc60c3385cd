"""The Mutation root: each change as its own mutation, and `applyChanges` for a set of them.

Every input translates to one `graph.changes` value; the State applies a set all or
nothing and answers once it is on disk. A rejected change comes back with its `code`,
the position of the change (`change`) and the offending field (`field`, as the
input names it), and nothing of the set is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields as dataclass_fields
from dataclasses import is_dataclass
from datetime import date, datetime
from typing import Annotated, Any

import strawberry
from strawberry.utils.str_converters import to_camel_case

from graph import changes, model
from graph.changes import Change, ChangeRejected, Receipt, check_request_id, describe
from graph.credit_code import normalised
from graph.errors import NotFound
from schema.context import ChainorgInfo
from schema.types import (
    Category,
    Enterprise,
    EnterpriseStatus,
    FormationMode,
    LinkKind,
    Organization,
    OrganizationKind,
)


def _day(description: str) -> Any:
    """A date field of an input that defaults to the day the change is made."""
    return strawberry.field(default=None, description=f"{description} Default: today.")


@strawberry.input(description="A new organization (新建党组织).")
class OrganizationInput:
    id: strawberry.ID = strawberry.field(description="Its id; not used by any organization or department.")
    name: str = strawberry.field(description="Its name.")
    kind: OrganizationKind = strawberry.field(description="Its tier or form.")
    parent_id: strawberry.ID | None = strawberry.field(default=None, description="The organization it is part of.")
    established_on: date | None = _day("When it was established (成立日期).")
    mode: FormationMode | None = strawberry.field(default=None, description="How it was formed.")
    term_ends_on: date | None = strawberry.field(default=None, description="When its term ends.")
    secretary: str | None = strawberry.field(default=None, description="Its secretary (书记).")
    stars: int | None = strawberry.field(default=None, description="Star rating, 0 to 5.")
    points: int | None = strawberry.field(default=None, description="Points.")
    has_committee: bool | None = strawberry.field(default=None, description="Whether it has a branch committee.")

    def to_change(self) -> Change:
        return changes.CreateOrganization(
            model.Organization(
                id=self.id, name=self.name, kind=self.kind, parent_id=self.parent_id, mode=self.mode,
                established_on=self.established_on, term_ends_on=self.term_ends_on, secretary=self.secretary,
                stars=self.stars, points=self.points, has_committee=self.has_committee,
            )
        )  # fmt: skip


@strawberry.input(description="Stars, points, term, secretary or name of an organization; unset fields stay.")
class OrganizationDetailsInput:
    org_id: strawberry.ID = strawberry.field(description="The organization.")
    name: str | None = strawberry.field(default=None, description="A new name.")
    stars: int | None = strawberry.field(default=None, description="Star rating, 0 to 5 (星级).")
    points: int | None = strawberry.field(default=None, description="Points (积分).")
    term_ends_on: date | None = strawberry.field(default=None, description="When the term ends (届满日期).")
    secretary: str | None = strawberry.field(default=None, description="The secretary (书记).")
    has_committee: bool | None = strawberry.field(default=None, description="Whether it has a branch committee.")
    mode: FormationMode | None = strawberry.field(default=None, description="How it was formed.")

    def to_change(self) -> Change:
        return changes.SetOrganizationDetails(
            self.org_id, self.name, self.stars, self.points, self.term_ends_on, self.secretary,
            self.has_committee, self.mode,
        )  # fmt: skip


@strawberry.input(description="Enterprises an organization starts or stops covering.")
class CoverInput:
    org_id: strawberry.ID = strawberry.field(description="An enterprise-level organization.")
    credit_codes: list[str] = strawberry.field(description="The enterprises, by credit code.")
    on: date | None = _day("The day it starts (cover) or the first day it no longer holds (uncover).")

    def cover(self) -> Change:
        return changes.CoverEnterprises(self.org_id, tuple(self.credit_codes), self.on)

    def uncover(self) -> Change:
        return changes.UncoverEnterprises(self.org_id, tuple(self.credit_codes), self.on)


@strawberry.input(description="An organization goes under another parent (调整隶属关系).")
class MoveInput:
    org_id: strawberry.ID = strawberry.field(description="The organization.")
    parent_id: strawberry.ID = strawberry.field(description="Its new parent.")
    on: date | None = _day("The day it moves.")

    def to_change(self) -> Change:
        return changes.MoveOrganization(self.org_id, self.parent_id, self.on)


@strawberry.input(description="升格: a BRANCH becomes a GENERAL_BRANCH or COMMITTEE, a GENERAL_BRANCH a COMMITTEE.")
class UpgradeInput:
    org_id: strawberry.ID = strawberry.field(description="The organization; it keeps its id and history.")
    to: OrganizationKind = strawberry.field(description="Its new kind.")
    on: date | None = _day("The day of the upgrade.")

    def to_change(self) -> Change:
        return changes.UpgradeOrganization(self.org_id, self.to, self.on)


@strawberry.input(description="撤销: an organization ends; its enterprises are no longer covered by it.")
class DissolveInput:
    org_id: strawberry.ID = strawberry.field(description="The organization; nothing may be under it.")
    on: date | None = _day("The first day it no longer exists.")

    def to_change(self) -> Change:
        return changes.DissolveOrganization(self.org_id, self.on)


@strawberry.input(description="A new enterprise (企业登记).")
class EnterpriseInput:
    credit_code: str = strawberry.field(description="Unified social credit code, with a valid check character.")
    name: str = strawberry.field(description="Registered name.")
    park: str = strawberry.field(description="Its park.")
    building: str | None = strawberry.field(default=None, description="Its building.")
    chain: str | None = strawberry.field(default=None, description="Its industry chain.")
    category: Category = strawberry.field(default=model.Category.OTHER, description="Industry category.")
    employees: int | None = strawberry.field(default=None, description="Employees.")
    formal_members: int = strawberry.field(default=0, description="Formal party members.")
    probationary_members: int = strawberry.field(default=0, description="Probationary party members.")
    above_scale: bool = strawberry.field(default=False, description="Above designated size (规上).")
    key: bool = strawberry.field(default=False, description="A key enterprise (重点企业).")
    cluster_id: strawberry.ID | None = strawberry.field(default=None, description="The cluster responsible for it.")
    registered_on: date | None = _day("Registration date.")

    def to_change(self) -> Change:
        return changes.RegisterEnterprise(
            model.Enterprise(
                credit_code=self.credit_code, name=self.name, park=self.park, building=self.building,
                chain=self.chain, category=self.category, employees=self.employees,
                formal_members=self.formal_members, probationary_members=self.probationary_members,
                above_scale=self.above_scale, key=self.key, registered_on=self.registered_on,
                cluster_id=self.cluster_id,
            )
        )  # fmt: skip


@strawberry.input(description="New facts about an enterprise, its status included; unset fields stay.")
class EnterpriseUpdateInput:
    credit_code: str = strawberry.field(description="The enterprise.")
    name: str | None = strawberry.field(default=None, description="A new name.")
    park: str | None = strawberry.field(default=None, description="Its park.")
    building: str | None = strawberry.field(default=None, description="Its building.")
    chain: str | None = strawberry.field(default=None, description="Its industry chain.")
    category: Category | None = strawberry.field(default=None, description="Industry category.")
    employees: int | None = strawberry.field(default=None, description="Employees.")
    formal_members: int | None = strawberry.field(default=None, description="Formal party members.")
    probationary_members: int | None = strawberry.field(default=None, description="Probationary party members.")
    above_scale: bool | None = strawberry.field(default=None, description="Above designated size.")
    key: bool | None = strawberry.field(default=None, description="A key enterprise.")
    cluster_id: strawberry.ID | None = strawberry.field(default=None, description="The cluster responsible for it.")
    status: EnterpriseStatus | None = strawberry.field(default=None, description="Its new operating status.")
    status_on: date | None = _day("The day the new status takes effect.")

    def to_change(self) -> Change:
        return changes.UpdateEnterprise(
            self.credit_code, self.name, self.park, self.building, self.chain, self.category, self.employees,
            self.formal_members, self.probationary_members, self.above_scale, self.key, self.cluster_id,
            self.status, self.status_on,
        )  # fmt: skip


@strawberry.input(description="A joint-building, pairing, alliance or supply link (共建 / 结对).")
class LinkInput:
    source_id: strawberry.ID = strawberry.field(description="An organization, department or enterprise.")
    target_id: strawberry.ID = strawberry.field(description="An organization, department or enterprise.")
    kind: LinkKind = strawberry.field(description="What kind of link.")
    on: date | None = _day("The day it begins (add) or the first day it no longer holds (end).")

    def add(self) -> Change:
        return changes.AddLink(self.source_id, self.target_id, self.kind, self.on)

    def end(self) -> Change:
        return changes.EndLink(self.source_id, self.target_id, self.kind, self.on)


@strawberry.input(description="An instructor (党建指导员) assigned to, or withdrawn from, an enterprise.")
class AssignmentInput:
    instructor_id: strawberry.ID = strawberry.field(description="The instructor.")
    credit_code: str = strawberry.field(description="The enterprise.")
    name: str | None = strawberry.field(default=None, description="The instructor's name; needed for a new one.")
    on: date | None = _day("The day it begins (assign) or the first day it no longer holds (unassign).")

    def assign(self) -> Change:
        return changes.AssignInstructor(self.instructor_id, self.credit_code, self.name, self.on)

    def unassign(self) -> Change:
        return changes.UnassignInstructor(self.instructor_id, self.credit_code, self.on)


@strawberry.input(one_of=True, description="One change; set exactly one field.")
class ChangeInput:
    register_enterprise: EnterpriseInput | None = strawberry.field(
        default=strawberry.UNSET, description="Register a new enterprise."
    )
    update_enterprise: EnterpriseUpdateInput | None = strawberry.field(
        default=strawberry.UNSET, description="Update an enterprise, its status included."
    )
    create_organization: OrganizationInput | None = strawberry.field(
        default=strawberry.UNSET, description="Create an organization."
    )
    set_organization_details: OrganizationDetailsInput | None = strawberry.field(
        default=strawberry.UNSET, description="Set stars, points, term, secretary or name."
    )
    move_organization: MoveInput | None = strawberry.field(
        default=strawberry.UNSET, description="Move an organization under another parent."
    )
    upgrade_organization: UpgradeInput | None = strawberry.field(
        default=strawberry.UNSET, description="升格: upgrade a branch or general branch."
    )
    dissolve_organization: DissolveInput | None = strawberry.field(
        default=strawberry.UNSET, description="撤销: dissolve an organization."
    )
    cover_enterprises: CoverInput | None = strawberry.field(
        default=strawberry.UNSET, description="An organization covers enterprises from `on`."
    )
    uncover_enterprises: CoverInput | None = strawberry.field(
        default=strawberry.UNSET, description="An organization stops covering enterprises on `on`."
    )
    add_link: LinkInput | None = strawberry.field(default=strawberry.UNSET, description="Add a link from `on`.")
    end_link: LinkInput | None = strawberry.field(default=strawberry.UNSET, description="End a link on `on`.")
    assign_instructor: AssignmentInput | None = strawberry.field(
        default=strawberry.UNSET, description="Assign an instructor from `on`."
    )
    unassign_instructor: AssignmentInput | None = strawberry.field(
        default=strawberry.UNSET, description="Withdraw an instructor on `on`."
    )

    def chosen(self) -> tuple[str, Change]:
        """The field set (as the API names it) and its change."""
        for name, given in vars(self).items():
            if given is not None and given is not strawberry.UNSET:
                return to_camel_case(name), CHANGE_OF[name](given)
        raise ChangeRejected("set one field of ChangeInput")


CHANGE_OF: dict[str, Callable[[Any], Change]] = {
    "register_enterprise": EnterpriseInput.to_change,
    "update_enterprise": EnterpriseUpdateInput.to_change,
    "create_organization": OrganizationInput.to_change,
    "set_organization_details": OrganizationDetailsInput.to_change,
    "move_organization": MoveInput.to_change,
    "upgrade_organization": UpgradeInput.to_change,
    "dissolve_organization": DissolveInput.to_change,
    "cover_enterprises": CoverInput.cover,
    "uncover_enterprises": CoverInput.uncover,
    "add_link": LinkInput.add,
    "end_link": LinkInput.end,
    "assign_instructor": AssignmentInput.assign,
    "unassign_instructor": AssignmentInput.unassign,
}  # each field of ChangeInput: the change its input asks for


@strawberry.type(description="A change set that is on disk (已记录).")
class ChangeReceipt:
    change_set: int = strawberry.field(description="Its number in the audit trail.")
    at: datetime = strawberry.field(description="When it was committed (UTC).")
    who: str = strawberry.field(description="Who made it.")
    changes: int = strawberry.field(description="How many changes it held.")
    repeated: bool = strawberry.field(
        description="True when its request id was committed before: this is that first receipt, and nothing was written now."
    )

    @classmethod
    def of(cls, receipt: Receipt) -> ChangeReceipt:
        return cls(
            change_set=receipt.change_set, at=receipt.at, who=receipt.who, changes=receipt.changes,
            repeated=receipt.repeated,
        )  # fmt: skip


async def _apply(info: ChainorgInfo, named: list[tuple[str, Change]], request_id: str | None = None) -> ChangeReceipt:
    """Apply the changes as one set through the store; a rejection names the input field at fault."""
    with as_named(named):
        if request_id is not None:
            check_request_id(request_id)
        done = await info.context.store.apply([change for _, change in named], info.context.who, request_id)
    return ChangeReceipt.of(done)


@contextmanager
def as_named(named: list[tuple[str, Change]]) -> Iterator[None]:
    """A rejection of one of `named` changes names its field as the input does: `coverEnterprises.creditCodes[1]`."""
    try:
        yield
    except ChangeRejected as rejected:
        position = rejected.position or 1
        if rejected.field == "request_id":  # about the set, not one of its changes
            rejected.field = "requestId"
        elif rejected.field is not None and len(named) >= position:
            rejected.field = f"{named[position - 1][0]}.{_camel_path(rejected.field)}"
        raise


def _camel_path(field: str) -> str:
    """`credit_codes[2]` as the API spells it: `creditCodes[2]`."""
    name, bracket, rest = field.partition("[")
    return to_camel_case(name) + bracket + rest


async def _organization(info: ChainorgInfo, named: tuple[str, Change], org_id: str) -> Organization:
    """Apply the change, then answer with the organization as it left it."""
    await _apply(info, [named])
    found = await info.context.writable().organization(org_id)
    if found is None:
        raise NotFound(f"no organization has the id {org_id!r}")
    return Organization.of(found)


async def _enterprise(info: ChainorgInfo, named: tuple[str, Change], credit_code: str) -> Enterprise:
    """Apply the change, then answer with the enterprise as it left it."""
    await _apply(info, [named])
    code = normalised(credit_code)
    found = await info.context.writable().enterprise(code)
    if found is None:
        raise NotFound(f"no enterprise has the credit code {code!r}")
    return Enterprise.of(found)


@strawberry.type(description="Changes to the park's records; each is on disk before the answer comes back.")
class Mutation:
    @strawberry.mutation(description="Apply a change set: every change in order, all of them or none.")
    async def apply_changes(
        self,
        info: ChainorgInfo,
        changes: Annotated[list[ChangeInput], strawberry.argument(description="The changes, applied in order.")],
        request_id: Annotated[
            str | None,
            strawberry.argument(
                description="A key the client chooses (a UUID, say) to make a retry safe: a change set "
                "committed under it is written once, and a repeat is answered with its first receipt."
            ),
        ] = None,
    ) -> ChangeReceipt:
        return await _apply(info, [change.chosen() for change in changes], request_id)

    @strawberry.mutation(description="Create an organization of any kind under its parent.")
    async def create_organization(
        self,
        info: ChainorgInfo,
        input: Annotated[OrganizationInput, strawberry.argument(description="The new organization.")],
    ) -> Organization:
        return await _organization(info, ("createOrganization", input.to_change()), input.id)

    @strawberry.mutation(description="The organization covers these enterprises from `since`.")
    async def cover_enterprises(
        self,
        info: ChainorgInfo,
        org_id: Annotated[strawberry.ID, strawberry.argument(description="An enterprise-level organization.")],
        credit_codes: Annotated[list[str], strawberry.argument(description="The enterprises, by credit code.")],
        since: Annotated[date | None, strawberry.argument(description="The day it starts. Default: today.")] = None,
    ) -> Organization:
        change = CoverInput(org_id=org_id, credit_codes=credit_codes, on=since).cover()
        return await _organization(info, ("coverEnterprises", change), org_id)

    @strawberry.mutation(description="The organization stops covering these enterprises on `on`.")
    async def uncover_enterprises(
        self,
        info: ChainorgInfo,
        input: Annotated[CoverInput, strawberry.argument(description="The organization and the enterprises.")],
    ) -> Organization:
        return await _organization(info, ("uncoverEnterprises", input.uncover()), input.org_id)

    @strawberry.mutation(description="Set an organization's stars, points, term, secretary or name.")
    async def set_organization_details(
        self,
        info: ChainorgInfo,
        input: Annotated[
            OrganizationDetailsInput, strawberry.argument(description="The organization and what to set.")
        ],
    ) -> Organization:
        return await _organization(info, ("setOrganizationDetails", input.to_change()), input.org_id)

    @strawberry.mutation(description="Move an organization under another parent.")
    async def move_organization(
        self,
        info: ChainorgInfo,
        input: Annotated[MoveInput, strawberry.argument(description="The organization and its new parent.")],
    ) -> Organization:
        return await _organization(info, ("moveOrganization", input.to_change()), input.org_id)

    @strawberry.mutation(description="升格: upgrade a branch or general branch, keeping its id and history.")
    async def upgrade_organization(
        self,
        info: ChainorgInfo,
        input: Annotated[UpgradeInput, strawberry.argument(description="The organization and its new kind.")],
    ) -> Organization:
        return await _organization(info, ("upgradeOrganization", input.to_change()), input.org_id)

    @strawberry.mutation(description="撤销: dissolve an organization; `organization(id)` still answers with its dates.")
    async def dissolve_organization(
        self, info: ChainorgInfo, input: Annotated[DissolveInput, strawberry.argument(description="The organization.")]
    ) -> Organization:
        return await _organization(info, ("dissolveOrganization", input.to_change()), input.org_id)

    @strawberry.mutation(description="Register a new enterprise.")
    async def register_enterprise(
        self,
        info: ChainorgInfo,
        input: Annotated[EnterpriseInput, strawberry.argument(description="The new enterprise.")],
    ) -> Enterprise:
        return await _enterprise(info, ("registerEnterprise", input.to_change()), input.credit_code)

    @strawberry.mutation(description="Update an enterprise, its status included (with the day it changed).")
    async def update_enterprise(
        self,
        info: ChainorgInfo,
        input: Annotated[EnterpriseUpdateInput, strawberry.argument(description="The enterprise and what changed.")],
    ) -> Enterprise:
        return await _enterprise(info, ("updateEnterprise", input.to_change()), input.credit_code)

    @strawberry.mutation(description="Add a joint-building, pairing, alliance or supply link.")
    async def add_link(
        self, info: ChainorgInfo, input: Annotated[LinkInput, strawberry.argument(description="The link.")]
    ) -> ChangeReceipt:
        return await _apply(info, [("addLink", input.add())])

    @strawberry.mutation(description="End a link.")
    async def end_link(
        self, info: ChainorgInfo, input: Annotated[LinkInput, strawberry.argument(description="The link.")]
    ) -> ChangeReceipt:
        return await _apply(info, [("endLink", input.end())])

    @strawberry.mutation(description="Assign an instructor to an enterprise (a new instructor needs a name).")
    async def assign_instructor(
        self,
        info: ChainorgInfo,
        input: Annotated[AssignmentInput, strawberry.argument(description="The instructor and the enterprise.")],
    ) -> ChangeReceipt:
        return await _apply(info, [("assignInstructor", input.assign())])

    @strawberry.mutation(description="Withdraw an instructor from an enterprise.")
    async def unassign_instructor(
        self,
        info: ChainorgInfo,
        input: Annotated[AssignmentInput, strawberry.argument(description="The instructor and the enterprise.")],
    ) -> ChangeReceipt:
        return await _apply(info, [("unassignInstructor", input.unassign())])


INPUT_OF: dict[str, type] = {
    "registerEnterprise": EnterpriseInput, "updateEnterprise": EnterpriseUpdateInput,
    "createOrganization": OrganizationInput, "setOrganizationDetails": OrganizationDetailsInput,
    "moveOrganization": MoveInput, "upgradeOrganization": UpgradeInput, "dissolveOrganization": DissolveInput,
    "coverEnterprises": CoverInput, "uncoverEnterprises": CoverInput, "addLink": LinkInput, "endLink": LinkInput,
    "assignInstructor": AssignmentInput, "unassignInstructor": AssignmentInput,
}  # fmt: skip
RENAMED = {"since": "on", "link_kind": "kind"}  # a change's field: its input's name for it


def as_input(change: Change) -> dict[str, Any]:
    """A change as a `ChangeInput` in JSON, ready to pass back to `simulate`, `saveScenario` or `applyChanges`."""
    given = describe(change)
    nested = [f.name for f in dataclass_fields(change) if is_dataclass(getattr(change, f.name))]
    if nested:  # a new enterprise or organization: its fields are the input's
        given = given[nested[0]]
    declared = {f.name for f in dataclass_fields(INPUT_OF[change.kind])}
    fields = {RENAMED.get(name, name): value for name, value in given.items()}
    return {change.kind: {to_camel_case(k): v for k, v in fields.items() if k in declared and v is not None}}

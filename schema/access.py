"""Who asks, in the schema: personal names hidden from viewers, `me`, and each field's role in its docs.

The role an operation needs is checked before it runs (schema.limits reckons it with
the cost, server.py refuses it); the boundary is the store's business (graph.access).
"""

from __future__ import annotations

import strawberry
from graphql import GraphQLObjectType
from strawberry.extensions import SchemaExtension

from graph.access import Role
from schema.context import ChainorgInfo
from schema.limits import declared_role

PERSONAL_DATA_HIDDEN = "PERSONAL_DATA_HIDDEN"
HIDDEN_REASON = "personal names (secretaries, instructors) are shown to planners, editors and admins, not viewers"


def personal(info: ChainorgInfo, name: str | None) -> str | None:
    """A person's name, or None for a viewer (the field's path is noted for `extensions.hidden`)."""
    if name is None or info.context.caller.sees_personal_names:
        return name
    info.context.hidden.append(".".join(str(key) for key in info.path.as_list()))
    return None


class HiddenNames(SchemaExtension):
    """Says in the answer's `extensions` which fields were nulled because they hold personal names."""

    def get_results(self) -> dict[str, object]:
        context = self.execution_context.context
        hidden = getattr(context, "hidden", None)
        if not hidden:
            return {}
        return {"hidden": {"code": PERSONAL_DATA_HIDDEN, "reason": HIDDEN_REASON, "paths": hidden}}


@strawberry.type(description="The token a request came with: its name, role and scope.")
class Me:
    name: str = strawberry.field(description="The token's name (the `who` of its change sets).")
    role: str = strawberry.field(description="viewer, planner, editor or admin.")
    parks: list[str] = strawberry.field(description="The parks it is limited to; empty: every park.")
    chains: list[str] = strawberry.field(description="The chains it is limited to; empty: every chain.")
    scope: str = strawberry.field(description="Its scope in words.")
    may: list[str] = strawberry.field(description="What its role may do, in words.")


MAY = {
    Role.VIEWER: "read every figure, list and chart of its scope (personal names hidden)",
    Role.PLANNER: "simulate, plan joint branches, ask for pairing suggestions, save and compare scenarios",
    Role.EDITOR: "write changes and apply scenarios, and read the audit trail of its scope",
    Role.ADMIN: "everything, in every scope, the whole audit trail",
}


def me(info: ChainorgInfo) -> Me:
    caller = info.context.caller
    boundary = caller.boundary
    return Me(
        name=caller.name, role=caller.role.label, parks=sorted(boundary.parks), chains=sorted(boundary.chains),
        scope=boundary.describe(), may=[MAY[role] for role in Role if role <= caller.role],
    )  # fmt: skip


def note_roles(schema: strawberry.Schema) -> None:
    """Append to each field's description the role it needs, when more than a viewer's, so the
    explorer's docs pane says what each role may do."""
    graphql = schema._schema
    for type_ in graphql.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for field in type_.fields.values():
            role = declared_role(field, type_ is graphql.mutation_type)
            if role > Role.VIEWER:
                field.description = f"{field.description or ''} Needs the {role.label} role.".strip()

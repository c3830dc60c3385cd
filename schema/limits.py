"""Query limits: depth, aliases and cost, measured once per fragment, refused before execution.

A document's depth, alias count and cost are computed in one walk: each fragment is
measured once (memoised) and a spread adds its measure, so validation takes time in
proportion to the document, however its fragments fan out. Cost is what the answer
will cost to compute: every field costs 1 plus the `own` work declared for it (`cost`);
a field returning several values multiplies its selection's cost by how many (a
connection's `first`, a trend's points, or the documented typical count of a relation).
An argument given by a variable counts at its largest allowed value, so the measure
does not depend on variables and a document is validated (and cached) once.

>>> Limits().max_cost
20000
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from typing import Any, cast

from graphql import (
    ASTValidationRule,
    BooleanValueNode,
    DocumentNode,
    EnumValueNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValidationRule,
    ValueNode,
    get_named_type,
    get_nullable_type,
    parse,
)

from graph.access import Role
from schema.settings import DEFAULT_LIMITS, MAX_TIMEOUT, Limits

__all__ = ["DEFAULT_LIMITS", "MAX_TIMEOUT", "Limits", "cost", "needs", "query_cost"]  # the settings, re-exported

COST = "chainorg-cost"  # key of a field's Cost in strawberry field metadata
ROLE = "chainorg-role"  # key of the Role a field needs (default: viewer; a mutation, editor)
TOO_COMPLEX = "QUERY_TOO_COMPLEX"
UNKNOWN = None  # an argument given by a variable
Arguments = Mapping[str, Any]


@dataclass(frozen=True)
class Cost:
    """A field's own work, and how many values it returns (from its literal arguments)."""

    own: int = 0
    items: Callable[[Arguments], int] | int = 1

    def count(self, arguments: Arguments) -> int:
        return self.items(arguments) if callable(self.items) else self.items


def cost(own: int = 0, items: Callable[[Arguments], int] | int = 1) -> dict[str, Cost]:
    """Field metadata declaring its cost: `@strawberry.field(metadata=cost(own=10))`."""
    return {COST: Cost(own, items)}


def needs(role: Role) -> dict[str, Role]:
    """Field metadata declaring the role it needs: `metadata={**cost(own=50), **needs(Role.PLANNER)}`."""
    return {ROLE: role}


def declared_role(definition: GraphQLField | None, mutation: bool) -> Role:
    """The role a field needs, as declared on it; a mutation needs an editor unless it says otherwise."""
    strawberry_field = (definition.extensions or {}).get("strawberry-definition") if definition else None
    found = getattr(strawberry_field, "metadata", {}).get(ROLE) if strawberry_field else None
    return found if found is not None else Role.EDITOR if mutation else Role.VIEWER


def argument(name: str, default: int, largest: int) -> Callable[[Arguments], int]:
    """Items counted by an integer argument: its value, `default` when absent, `largest` from a variable."""

    def count(arguments: Arguments) -> int:
        if name not in arguments:
            return default
        value = arguments[name]
        return largest if value is UNKNOWN else max(0, min(int(value), largest))

    return count


# Introspection is measured too (its lists can nest without bound); these are its counts.
INTROSPECTION_ITEMS = {"types": 100, "fields": 30, "args": 5, "inputFields": 20, "enumValues": 20, "directives": 10}
DEFAULT_LIST_ITEMS = 20  # a list field that declares no count


@dataclass
class _Measure:
    depth: int = 0
    aliases: int = 0
    cost: int = 0
    role: Role = Role.VIEWER  # the highest any of its fields needs


class _Walk:
    """Measures operations of one document; fragments are measured once each."""

    def __init__(self, document: DocumentNode, schema: GraphQLSchema):
        self.schema = schema
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.done: dict[str, _Measure] = {}
        self.doing: set[str] = set()

    def selections(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None) -> _Measure:
        total = _Measure()
        if selection_set is None:
            return total
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                part = self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                part = self.selections(
                    selection.selection_set, self._type(condition.name.value) if condition else parent
                )
            else:
                part = self.spread(cast(FragmentSpreadNode, selection))
            total.depth = max(total.depth, part.depth)
            total.role = max(total.role, part.role)
            total.aliases += part.aliases
            total.cost += part.cost
        return total

    def spread(self, spread: FragmentSpreadNode) -> _Measure:
        name = spread.name.value
        if name in self.done:
            return self.done[name]
        fragment = self.fragments.get(name)
        if fragment is None or name in self.doing:  # unknown or cyclic: other rules report it
            return _Measure()
        self.doing.add(name)
        measure = self.selections(fragment.selection_set, self._type(fragment.type_condition.name.value))
        self.doing.discard(name)
        self.done[name] = measure
        return measure

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> _Measure:
        name = node.name.value
        definition = parent.fields.get(name) if isinstance(parent, GraphQLObjectType) else None
        children = self.selections(node.selection_set, get_named_type(definition.type) if definition else None)
        declared: Cost | None = None
        if definition is not None:
            strawberry_field = (definition.extensions or {}).get("strawberry-definition")
            declared = getattr(strawberry_field, "metadata", {}).get(COST) if strawberry_field else None
        if declared is None:
            is_list = definition is not None and isinstance(get_nullable_type(definition.type), GraphQLList)
            items = INTROSPECTION_ITEMS.get(name, DEFAULT_LIST_ITEMS) if is_list else 1
            declared = Cost(items=items)
        count = declared.count(_literal_arguments(node))
        role = declared_role(definition, parent is not None and parent is self.schema.mutation_type)
        return _Measure(
            depth=0 if name.startswith("__") or node.selection_set is None else children.depth + 1,
            aliases=children.aliases + (node.alias is not None),
            cost=1 + declared.own + count * children.cost,
            role=max(role, children.role),
        )

    def _type(self, name: str) -> GraphQLNamedType | None:
        return self.schema.get_type(name)


def _measures(document: DocumentNode, schema: GraphQLSchema) -> Iterator[tuple[OperationDefinitionNode, _Measure]]:
    walk = _Walk(document, schema)
    for operation in document.definitions:
        if isinstance(operation, OperationDefinitionNode):
            yield operation, walk.selections(operation.selection_set, schema.get_root_type(operation.operation))


@dataclass(frozen=True)
class Asking:
    """What a request asks, reckoned before it runs: its cost (its costliest operation's) and
    the role the operation it runs needs (the highest any operation needs, when it names none)."""

    cost: int
    role: Role


@lru_cache(maxsize=256)
def _measured(schema: GraphQLSchema, query: str) -> tuple[tuple[str | None, _Measure], ...]:
    try:
        document = parse(query, max_tokens=DEFAULT_LIMITS.max_tokens)
    except GraphQLError:
        return ()
    return tuple((operation.name.value if operation.name else None, m) for operation, m in _measures(document, schema))


def asking(schema: GraphQLSchema, query: str, operation_name: str | None = None) -> Asking:
    """The cost and role of `query` (0 and viewer when it does not parse: validation says why)."""
    measures = _measured(schema, query)
    cost = max((measure.cost for _, measure in measures), default=0)
    chosen = [measure for name, measure in measures if operation_name is None or name == operation_name]
    return Asking(cost, max((measure.role for measure in chosen), default=Role.VIEWER))


def query_cost(schema: GraphQLSchema, query: str) -> int:
    """The cost of the costliest operation in `query` (0 when it does not parse: validation says why)."""
    return asking(schema, query).cost


def _literal_arguments(node: FieldNode) -> dict[str, Any]:
    """A field's arguments as Python values where given literally, UNKNOWN where a variable."""
    return {argument_node.name.value: _literal(argument_node.value) for argument_node in node.arguments or ()}


def _literal(value: ValueNode) -> Any:
    if isinstance(value, IntValueNode):
        return int(value.value)
    if isinstance(value, (StringValueNode, EnumValueNode, BooleanValueNode)):
        return value.value
    return UNKNOWN


def parse_day(value: Any) -> date | None:
    """A literal ISO date argument, or None when it is not one (validation reports that)."""
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


@cache
def rule_for(limits: Limits) -> type[ASTValidationRule]:
    class QueryLimits(ValidationRule):
        """Refuses an operation deeper, with more aliases, or costlier than `limits` allow."""

        def enter_document(self, node: DocumentNode, *_: Any) -> Any:
            for operation, measure in _measures(node, self.context.schema):
                self._check(operation, measure)
            return self.BREAK

        def _check(self, operation: OperationDefinitionNode, measure: _Measure) -> None:
            name = operation.name.value if operation.name else "the query"
            for what, value, limit in (
                ("depth", measure.depth, limits.max_depth),
                ("aliases", measure.aliases, limits.max_aliases),
                ("cost", measure.cost, limits.max_cost),
            ):
                if value > limit:
                    message = f"{name} is too complex: its {what} is {value:,}, the limit {limit:,}"
                    extensions = {"code": TOO_COMPLEX, what: value, "limit": limit}
                    self.report_error(GraphQLError(message, operation, extensions=extensions))

    return QueryLimits

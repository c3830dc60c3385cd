"""The explorer's docs pane is the manual: nothing in the schema goes undescribed."""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLObjectType, GraphQLScalarType

from schema import build_schema


def undescribed() -> list[str]:
    """Every type, field, argument, input field and enum value without a description."""
    missing = []
    for name, kind in build_schema()._schema.type_map.items():
        if name.startswith("__") or (
            isinstance(kind, GraphQLScalarType) and name in {"String", "Int", "Float", "Boolean", "ID"}
        ):
            continue
        if not kind.description:
            missing.append(name)
        if isinstance(kind, GraphQLObjectType):
            for field_name, field in kind.fields.items():
                missing += [f"{name}.{field_name}"] * (not field.description)
                missing += [f"{name}.{field_name}({arg})" for arg, value in field.args.items() if not value.description]
        elif isinstance(kind, GraphQLInputObjectType):
            missing += [f"{name}.{field}" for field, value in kind.fields.items() if not value.description]
        elif isinstance(kind, GraphQLEnumType):
            missing += [f"{name}.{value}" for value, definition in kind.values.items() if not definition.description]
    return missing


def test_every_element_of_the_schema_is_described() -> None:
    assert undescribed() == []


def test_enum_values_give_the_chinese_term() -> None:
    kinds = build_schema()._schema.type_map["OrganizationKind"]
    assert "联合党支部" in kinds.values["JOINT_BRANCH"].description


def test_the_published_schema_is_the_served_one() -> None:
    """docs/schema.graphql is what client generators read: `make docs` writes it anew."""
    published = (Path(__file__).parent.parent / "docs" / "schema.graphql").read_text(encoding="utf-8")
    assert published == build_schema().as_str() + "\n", "docs/schema.graphql is out of date: run `make docs`"

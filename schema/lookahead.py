"""Look-ahead loading: the items of a list get their fields' values before graphql-core asks.

A field backed by a DataLoader is declared with `loaded`: the loader, the item attribute
that is its key, and how a stored value becomes the GraphQL type. Whenever a list of
items is produced (a connection's nodes, an organization's children), every `loaded`
field the query selects on them is loaded for all of them in one batch, and the items'
fields then answer with plain values. graphql-core completes a plain value far faster
than an awaitable: on a page of 100 enterprises with `organizations` and `cluster`, or a
committee's tree with `members` and `covers`, that is most of the request's time. A field
not loaded ahead (on a single object, or given arguments) still loads, batched.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry.types.nodes import SelectedField, Selection
from strawberry.utils.str_converters import to_camel_case

from schema.context import ChainorgInfo


@dataclass(frozen=True)
class Loaded:
    loader: str  # attribute of `Loaders`
    key: str  # attribute of the item holding the loader's key; None means no value
    convert: Callable[[Any], Any]  # stored value -> GraphQL value


def loaded(
    loader: str,
    key: str,
    convert: Callable[[Any], Any],
    description: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Any:
    """A field answered by `loader` at the item's `key`, `convert`ed; annotate its type on the class.
    `metadata` is the field's, such as its `limits.cost`."""
    spec = Loaded(loader, key, convert)

    def resolve(self: Any, info: ChainorgInfo) -> Any:
        value = getattr(self, key)
        return None if value is None else _ready(info, spec, value)

    resolve.loaded = spec  # type: ignore[attr-defined]
    return strawberry.field(resolver=resolve, description=description, metadata=metadata)


def _ready(info: ChainorgInfo, spec: Loaded, key: Any) -> Any:
    """The field's value: plain when the loader holds it and nothing under it needs loading."""
    loader = getattr(info.context.loaders, spec.loader)
    future = loader.cache_map.get(key)
    if future is None or not future.done() or future.cancelled() or future.exception() is not None:
        return _converted(info, spec, loader.load(key))
    value = spec.convert(future.result())
    pending = _loads(info, value)
    return _after(pending, value) if pending else value


async def _converted(info: ChainorgInfo, spec: Loaded, stored: Awaitable[Any]) -> Any:
    value = spec.convert(await stored)
    await asyncio.gather(*_loads(info, value))
    return value


async def _after(pending: list[Awaitable[Any]], value: Any) -> Any:
    await asyncio.gather(*pending)
    return value


async def prefetch(info: ChainorgInfo, items: Sequence[Any], path: Sequence[str] = ()) -> None:
    """Load, for all `items` at once, every `loaded` field the query selects on them;
    `path` leads from the current field to the items (`("nodes",)` for a connection)."""
    await asyncio.gather(*_loads(info, items, tuple(path)))


def _loads(info: ChainorgInfo, items: Any, path: tuple[str, ...] = ()) -> list[Awaitable[Any]]:
    """One batched load per `loaded` field selected on `items`, for the keys not loaded yet."""
    if not isinstance(items, list) or not items:
        return []
    loads = []
    for spec in _selected_loaded(info, type(items[0]), path):
        loader = getattr(info.context.loaders, spec.loader)
        keys = {
            key for item in items if (key := getattr(item, spec.key)) is not None and loader.cache_map.get(key) is None
        }
        if keys:
            loads.append(loader.load_many(list(keys)))
    return loads


def _selected_loaded(info: ChainorgInfo, item_type: type, path: tuple[str, ...]) -> list[Loaded]:
    """The `loaded` fields of `item_type` selected (without arguments) below the current
    field along `path`; worked out once per place in the query and remembered."""
    place = (*(step for step in info.path.as_list() if isinstance(step, str)), *path)
    plans = info.context.lookahead
    if place not in plans:
        definition = getattr(item_type, "__strawberry_definition__", None)
        fields = {to_camel_case(field.python_name): field for field in definition.fields} if definition else {}
        found: dict[str, Loaded] = {}
        for selected in _under(info.selected_fields, path):
            field = fields.get(selected.name)
            spec = getattr(field.base_resolver.wrapped_func, "loaded", None) if field and field.base_resolver else None
            if spec is not None and not selected.arguments:
                found[spec.loader] = spec
        plans[place] = list(found.values())
    return plans[place]


def _under(fields: Sequence[Selection], path: Sequence[str]) -> Iterator[SelectedField]:
    """The fields selected on the values of `fields`, following `path`, fragments flattened."""
    for field in _flat(fields):
        children = list(_flat(field.selections))
        if path:
            yield from _under([child for child in children if child.name == path[0]], path[1:])
        else:
            yield from children


def _flat(selections: Sequence[Selection]) -> Iterator[SelectedField]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        else:
            yield from _flat(selection.selections)

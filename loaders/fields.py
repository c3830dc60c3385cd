"""Parsers for one ledger cell each; a bad cell raises FieldError with the reason."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from enum import Enum
from typing import TypeVar

from graph.credit_code import InvalidCreditCode, validate_credit_code
from loaders.vocabulary import ENUM_NAMES, FALSE_WORDS, TRUE_WORDS, normalise

E = TypeVar("E", bound=Enum)

_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})-(\d{1,2})|/(\d{1,2})/(\d{1,2})|年(\d{1,2})月(\d{1,2})日)$")


class FieldError(ValueError):
    """A cell's value cannot be used; the message is the reason shown to the user."""


def text(value: str) -> str:
    return value.strip()


def credit_code(value: str) -> str:
    try:
        return validate_credit_code(value)
    except InvalidCreditCode as error:
        raise FieldError(str(error)) from None


def count(value: str) -> int:
    """A whole number ≥ 0 (a spreadsheet's "12.0" is accepted as 12)."""
    cleaned = value.strip().replace(",", "")
    if re.fullmatch(r"\d+(\.0+)?", cleaned) is None:
        raise FieldError("must be a whole number ≥ 0")
    return int(float(cleaned)) if "." in cleaned else int(cleaned)


def stars(value: str) -> int:
    number = count(value)
    if number > 5:
        raise FieldError("stars run from 0 to 5")
    return number


def day(value: str) -> date:
    """A date as YYYY-MM-DD, YYYY/MM/DD or YYYY年M月D日."""
    match = _DATE.match(value.strip())
    if match is None:
        raise FieldError("must be a date: YYYY-MM-DD, YYYY/MM/DD or YYYY年M月D日")
    year, *parts = match.groups()
    month, dom = [int(part) for part in parts if part is not None]
    try:
        return date(int(year), month, dom)
    except ValueError as error:
        raise FieldError(f"not a real date: {error}") from None


def flag(value: str) -> bool:
    word = normalise(value)
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise FieldError("must be yes or no (是/否, true/false, 1/0)")


def choice(enum: type[E]) -> Callable[[str], E]:
    """A parser for one of the enum's members, by English or Chinese name."""
    names: dict[str, E] = {}
    for member in enum:
        names[normalise(member.name)] = member
        for chinese in ENUM_NAMES.get(enum, {}).get(member.name, ()):
            names[normalise(chinese)] = member
    allowed = ", ".join(member.name for member in enum)

    def parse(value: str) -> E:
        try:
            return names[normalise(value)]
        except KeyError:
            raise FieldError(f"unknown {enum.__name__}; expected one of {allowed}") from None

    return parse

"""The unified social credit code (统一社会信用代码, GB 32100-2015).

18 characters from a 31-character alphabet (no I, O, S, V, Z); the last one is a
check character computed from the first 17 with the weights 3^(i) mod 31.
"""

from __future__ import annotations

import numpy as np

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {char: value for value, char in enumerate(ALPHABET)}


class InvalidCreditCode(ValueError):
    """The text is not a valid unified social credit code; the message says why."""


def check_character(body: str) -> str:
    """The 18th character that makes `body` (17 characters) a valid code."""
    total = sum(_VALUE[char] * weight for char, weight in zip(body, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalised(text: str) -> str:
    """A credit code as it is kept: trimmed, upper case.

    >>> normalised(" 91430100ma4l00001x ")
    '91430100MA4L00001X'
    """
    return text.strip().upper()


def validate_credit_code(text: str) -> str:
    """Return the code normalised (trimmed, upper case) or raise InvalidCreditCode."""
    code = normalised(text)
    if len(code) != 18:
        raise InvalidCreditCode(f"must be 18 characters, got {len(code)}")
    bad = sorted({char for char in code if char not in _VALUE})
    if bad:
        raise InvalidCreditCode(f"characters not allowed in a credit code: {''.join(bad)}")
    expected = check_character(code[:17])
    if code[17] != expected:
        raise InvalidCreditCode(f"check character is {code[17]!r}, GB 32100-2015 gives {expected!r}")
    return code


def why_not_a_code(cell: str) -> str:
    """Why `cell` is not a valid credit code, in words.

    >>> why_not_a_code("91430100MA4L0001")
    'must be 18 characters, got 16'
    """
    try:
        validate_credit_code(cell)
    except InvalidCreditCode as error:
        return str(error)
    return "not a credit code"


_LOOKUP = np.zeros(256, dtype=np.int16)
for _value, _char in enumerate(ALPHABET):
    _LOOKUP[ord(_char)] = _value
_ALPHABET_BYTES = np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)


def check_characters(bodies: np.ndarray) -> np.ndarray:
    """The check character (as a byte) of each row of an (n, 17) uint8 array of code bodies."""
    columns = np.ascontiguousarray(bodies.T)  # one position at a time: no (n, 17) int temporary
    total = np.zeros(len(bodies), dtype=np.int32)
    for position, weight in enumerate(WEIGHTS):
        total += np.take(_LOOKUP, columns[position]) * weight
    return _ALPHABET_BYTES[(31 - total % 31) % 31]


def check_characters_hold(codes: np.ndarray) -> np.ndarray:
    """For an array of 18-byte codes already made of ALPHABET characters, whether each
    one's check character is right: the whole column at once, no Python call per code.

    >>> check_characters_hold(np.array([b"91430100MA4L00001" + check_character("91430100MA4L00001").encode()]))
    array([ True])
    """
    matrix = np.frombuffer(codes.tobytes(), dtype=np.uint8).reshape(len(codes), 18)
    return matrix[:, 17] == check_characters(matrix[:, :17])

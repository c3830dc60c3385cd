"""Text as it takes room on a page or screen: a wide (CJK) character counts two columns."""

from __future__ import annotations

import unicodedata


def char_width(char: str) -> int:
    return 2 if unicodedata.east_asian_width(char) in "WF" else 1


def display_width(text: str) -> int:
    """Columns `text` takes.

    >>> display_width("联合党支部"), display_width("MUST_BUILD")
    (10, 10)
    """
    return sum(char_width(char) for char in text)


def wrap(text: str, width: int) -> list[str]:
    """`text` cut into lines of at most `width` columns (a longer single character gets its own line).

    >>> wrap("湖南移动互联网产业园第1联合党支部", 16)
    ['湖南移动互联网产', '业园第1联合党支', '部']
    """
    lines, line, used = [], "", 0
    for char in text:
        size = char_width(char)
        if used + size > width and line:
            lines.append(line)
            line, used = "", 0
        line += char
        used += size
    return [*lines, line] if line else lines

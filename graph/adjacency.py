"""Compressed adjacency: the neighbours of integer keys as sorted index arrays."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class Adjacency:
    """`values` grouped by `keys` (parallel arrays), in their original order within a key.

    Memory grows with the edges, not with the key space, so a million enterprises
    with ten thousand COVERS edges cost ten thousand entries.

    >>> adjacency = Adjacency(np.array([2, 0, 2]), np.array([10, 11, 12]))
    >>> [found.tolist() for found in adjacency.lookup([0, 1, 2])]
    [[11], [], [10, 12]]
    """

    def __init__(self, keys: np.ndarray, values: np.ndarray):
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.values = values[order]

    def lookup(self, keys: Sequence[int] | np.ndarray) -> list[np.ndarray]:
        keys = np.asarray(keys)
        low = np.searchsorted(self.keys, keys, side="left")
        high = np.searchsorted(self.keys, keys, side="right")
        return [self.values[a:b] for a, b in zip(low.tolist(), high.tolist(), strict=True)]

"""Memoised methods, cached per instance: a store's caches go when the store goes.

`functools.lru_cache` on a method keeps every instance it has seen alive in one
class-wide cache; a state that builds a new store after each write would keep the
old ones. Here each instance holds its own small cache.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from functools import wraps
from typing import Any, Concatenate, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")


def memo(size: int) -> Callable[[Callable[Concatenate[S, P], R]], Callable[Concatenate[S, P], R]]:
    """Cache a method's last `size` answers on its instance, keyed by its (hashable) arguments.

    >>> class Clock:
    ...     calls = 0
    ...     @memo(2)
    ...     def tick(self, n: int) -> int:
    ...         self.calls += 1
    ...         return n
    >>> clock = Clock()
    >>> clock.tick(1), clock.tick(1), clock.calls
    (1, 1, 1)
    """

    def decorate(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
        name = f"_memo_{method.__name__}"
        lock = threading.Lock()

        @wraps(method)
        def cached(self: S, *args: P.args, **kwargs: P.kwargs) -> R:
            key: Hashable = (args, tuple(sorted(kwargs.items())))
            with lock:
                cache: OrderedDict[Hashable, Any] = vars(self).setdefault(name, OrderedDict())
                if key in cache:
                    cache.move_to_end(key)
                    return cache[key]
            found = method(self, *args, **kwargs)
            with lock:
                cache[key] = found
                while len(cache) > size:
                    cache.popitem(last=False)
            return found

        return cached

    return decorate

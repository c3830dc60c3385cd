"""Work that grows with the data leaves the event loop for a worker thread."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TypeVar

import anyio.to_thread

T = TypeVar("T")


async def offload(work: Callable[..., T], *args: object) -> T:
    """Run `work` in a worker thread so the event loop keeps answering."""
    return await anyio.to_thread.run_sync(partial(work, *args))

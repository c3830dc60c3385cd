"""An integer programme solved in a child process that is killed at its deadline.

HiGHS's own time limit is not a hard bound: its presolve and root relaxation do not look
at the clock, and a programme of 23,000 patterns given 5 s ran 9.6 s. A request's
solve must end when the request does, so each runs in a process forked from a server
that has SciPy loaded already (a fork takes milliseconds), under a memory limit, and is
killed when its time is up, whatever it is doing.

>>> [solved] = solve([Programme(np.array([-1.0, -1.0]), np.array([[1.0, 2.0]]), np.array([4.0]))], time.monotonic() + 30)
>>> solved.x.tolist(), solved.status
([4.0, 0.0], 0)
"""

from __future__ import annotations

import multiprocessing
import resource
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

import numpy as np

MEMORY_BYTES = 4 << 30  # address space a solve may take
SOLVES_AT_ONCE = 2  # children solving at one time: at most 8 GB and the machine's two cores
_SLOTS = threading.BoundedSemaphore(SOLVES_AT_ONCE)
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["graph.solver", "scipy.optimize"])


class OutOfTime(Exception):
    """The deadline came before the solver's answer; the solve was killed."""


class OutOfMemory(Exception):
    """The solve needed more than MEMORY_BYTES and ended."""


class SolverFailed(RuntimeError):
    """The solving process ended without an answer, for another reason than memory."""


def start() -> None:
    """Start the fork server now (it loads SciPy, about a second), so that a request's first
    solve does not spend its budget waiting for it."""
    from multiprocessing import forkserver

    forkserver.ensure_running()


@dataclass(frozen=True, slots=True)
class Solved:
    """scipy.optimize.milp's answer, as far as callers read it."""

    status: int
    x: np.ndarray | None
    message: str


@dataclass(frozen=True, slots=True)
class Programme:
    """Minimise `cost @ x` over non-negative integers `x` with `matrix @ x <= upper`."""

    cost: np.ndarray
    matrix: np.ndarray
    upper: np.ndarray


def solve(programmes: list[Programme], ends: float) -> list[Solved]:
    """Every programme solved, one after another in one child process, by the monotonic time
    `ends`; OutOfTime (the child killed) when they are not all done by then. At most
    SOLVES_AT_ONCE children solve at a time; the others wait their turn within their time."""
    if not _SLOTS.acquire(timeout=max(0.0, ends - time.monotonic())):  # waiting counts in the time
        raise OutOfTime
    try:
        return _solve_in_child(programmes, ends)
    finally:
        _SLOTS.release()


def _solve_in_child(programmes: list[Programme], ends: float) -> list[Solved]:
    left = ends - time.monotonic()
    if left <= 0:
        raise OutOfTime
    receiving, sending = _CONTEXT.Pipe(duplex=False)
    child = _CONTEXT.Process(target=_solve_here, args=(sending, programmes, left), daemon=True)
    child.start()
    sending.close()
    try:
        if not receiving.poll(max(0.0, ends - time.monotonic())):
            raise OutOfTime
        try:
            answer = receiving.recv()
        except EOFError:  # ended without a word: killed by the system (out of memory) or failed
            child.join()
            if child.exitcode is not None and child.exitcode < 0:
                raise OutOfMemory from None
            raise SolverFailed(f"the solving process ended with code {child.exitcode}") from None
        if answer is None:
            raise OutOfMemory
        return [Solved(*solved) for solved in answer]
    finally:
        receiving.close()
        child.kill()
        child.join()


def _solve_here(answer: Connection, programmes: list[Programme], seconds: float) -> None:
    """The child's work: solve each within what is left of `seconds`, send their (status, x,
    message) or None when memory ran out; end."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    ends = time.monotonic() + seconds
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    try:
        solved = []
        for programme in programmes:
            result = milp(
                programme.cost,
                integrality=np.ones(len(programme.cost), dtype=np.int64),
                bounds=Bounds(0, np.inf),
                constraints=LinearConstraint(programme.matrix, -np.inf, programme.upper),
                options={"time_limit": max(0.001, ends - time.monotonic()), "mip_rel_gap": 0.0},
            )
            solved.append((int(result.status), result.x, str(result.message)))
        answer.send(solved)
    except MemoryError:
        answer.send(None)
    finally:
        answer.close()

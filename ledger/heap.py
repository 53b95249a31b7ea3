"""Answers, exports and bulk writes are built without Python's cyclic garbage collector.

A `state` of a busy pair, an import, a verify build hundreds of thousands of objects (rows,
states, views) that all live until the work ends. The collector, which runs every few hundred
allocations, would scan them again and again and find nothing to free. Paired whole processes on
2026-12-03 (docs/performance.md), with it paused against without: the busiest pair's `state` on
a 1M ledger 0.70x the time; an import of 100,000 events 0.96x, a rebuild 0.94x, a verify 0.86x;
a CSV export of that ledger 0.69x; peak memory the same (95 MiB for that import either way).
That work makes no cycles of garbage worth collecting while it runs; reference counting frees
the rest as always. The collector runs again as soon as the work ends, and collects whatever
cycles were left."""

from __future__ import annotations

import gc
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def uncollected(work: Callable[P, R]) -> Callable[P, R]:
    """`work` run with the cyclic garbage collector paused (when it was running: calls nest)."""

    @wraps(work)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        if not gc.isenabled():
            return work(*args, **kwargs)
        gc.disable()
        try:
            return work(*args, **kwargs)
        finally:
            gc.enable()

    return run

"""A set of the hashes of many keys, small enough for a million of them (import, rebuild, verify)."""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable
from heapq import merge


class Hashes:
    """A set of 64-bit hashes in 8 bytes each, not the ~80 of a Python set of ints: the newest
    in a small set, the rest in a sorted array (a million things' keys: 8 MB, not 80)."""

    PENDING = 1 << 15

    def __init__(self, values: Iterable[int] = ()) -> None:
        self.sorted = array("q", sorted(set(values)))
        self.pending: set[int] = set()

    def add(self, value: int) -> None:
        if value not in self:
            self.pending.add(value)
            if len(self.pending) >= self.PENDING:
                self.sorted = array("q", merge(self.sorted, sorted(self.pending)))
                self.pending.clear()

    def __contains__(self, value: object) -> bool:
        if value in self.pending:
            return True
        at = bisect_left(self.sorted, value)  # type: ignore[call-overload]
        return at < len(self.sorted) and self.sorted[at] == value

    def __len__(self) -> int:
        return len(self.sorted) + len(self.pending)

"""Answers, exports and bulk writes run without the cyclic garbage collector, which runs again after them."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from coopledger import exports
from coopledger.events import Edtf, parse_edtf
from coopledger.ledger.application import Ledger
from coopledger.ledger.heap import uncollected
from support import SEEDS


@pytest.fixture
def collections() -> Iterator[Callable[[Callable[..., Any]], list[int]]]:
    """The generations collected while a given function runs (any of its calls on the stack), with
    the collector made as eager as it goes."""
    watched: dict[Any, list[int]] = {}

    def seen(phase: str, info: dict[str, Any]) -> None:
        frame = sys._getframe(1)
        while phase == "start" and frame is not None:
            if frame.f_code in watched:
                watched[frame.f_code].append(info["generation"])
            frame = frame.f_back

    def watch(function: Callable[..., Any]) -> list[int]:
        return watched.setdefault(function.__code__, [])

    threshold = gc.get_threshold()
    gc.set_threshold(1)  # a collection at every new container: any work unpaused is seen at once
    gc.callbacks.append(seen)
    try:
        yield watch
    finally:
        gc.callbacks.remove(seen)
        gc.set_threshold(*threshold)


def work() -> list[list[int]]:
    return [[n] for n in range(100)]


def test_the_collector_is_paused_while_the_work_runs_and_runs_again_after(
    collections: Callable[[Callable[..., Any]], list[int]],
) -> None:
    seen = collections(work)
    work()
    assert seen  # unpaused, the collector runs inside it
    seen.clear()
    assert uncollected(work)() == [[n] for n in range(100)]
    assert seen == [] and gc.isenabled()


def test_the_collector_runs_again_when_the_work_fails_and_stays_paused_in_nested_work() -> None:
    def failing() -> None:
        raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        uncollected(failing)()
    assert gc.isenabled()
    inside: list[bool] = []

    def outer() -> None:
        uncollected(lambda: inside.append(gc.isenabled()))()
        inside.append(gc.isenabled())  # the inner work ended: the outer one still runs paused

    uncollected(outer)()
    assert inside == [False, False] and gc.isenabled()


def csv_rows(ledger: Ledger, day: Edtf) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with ledger.queries.whole_ledger(day.day) as whole:
        exports.csv_tables(whole, lambda kind, row: rows.append(row))
    return rows


def iati_pieces(ledger: Ledger, day: Edtf) -> list[bytes]:
    pieces: list[bytes] = []
    with ledger.queries.whole_ledger(day.day) as whole:
        exports.iati_activities(whole, day, "XM-1", "10", "X", pieces.append)
    return pieces


def test_answers_and_bulk_writes_run_paused(
    ledger: Ledger, collections: Callable[[Callable[..., Any]], list[int]]
) -> None:
    queries = type(ledger.queries)
    day = parse_edtf("2024-12-31")
    runs: list[tuple[Callable[..., Any], Callable[[], Any]]] = [
        (Ledger.import_lines, lambda: ledger.import_lines(SEEDS.read_bytes().splitlines())),
        (queries.state, lambda: ledger.state("KOR", "CHN", parse_edtf("2019-01-31"))),
        (queries.history, lambda: ledger.history("KOR", "CHN")),
        (queries.verify, lambda: ledger.verify()),
        (Ledger.rebuild, lambda: ledger.rebuild()),
        (exports.csv_tables, lambda: csv_rows(ledger, day)),
        (exports.iati_activities, lambda: iati_pieces(ledger, day)),
    ]
    for paused, run in runs:
        seen = collections(paused.__wrapped__)  # type: ignore[attr-defined]
        assert run()
        assert seen == [] and gc.isenabled(), paused.__name__

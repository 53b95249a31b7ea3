"""Processes for the integrity tests: writers that race, crash and import at once.

Run as `python -m tests.workers COMMAND DB ...`; each prints one JSON line per outcome.
"""

from __future__ import annotations

import sys
import time

import orjson
from coopledger.ledger.application import Ledger
from coopledger.ledger.errors import LedgerError
from coopledger.ledger.store import locate


def wait_until(start: float) -> None:
    time.sleep(max(0.0, start - time.time()))


def appender(db: str, actor: str, count: int, start: float) -> None:
    """Append `count` keyed events, one transaction each; print each acknowledged one."""
    ledger = Ledger(locate(db), actor=actor)
    wait_until(start)
    for number in range(count):
        value = {
            "type": "MeetingHeld",
            "occurred_on": "2020-01-01",
            "key": f"{actor}/{number}",
            "data": {"meeting": f"{actor}-{number}", "parties": ["KOR", "JPN"]},
        }
        outcome = ledger.append(value)
        print(
            orjson.dumps({"key": value["key"], "position": outcome.position, "id": outcome.id}).decode(),
            flush=True,
        )


def racer(db: str, actor: str, start: float) -> None:
    """Try to record meeting 24 of the series; print who won or the error."""
    ledger = Ledger(locate(db), actor=actor)
    wait_until(start)
    try:
        outcome = ledger.append(
            {
                "type": "MeetingHeld",
                "occurred_on": "2019-11",
                "data": {
                    "meeting": f"jc-24-by-{actor}",
                    "parties": ["KOR", "CHN"],
                    "series": "jc",
                    "number": 24,
                },
            }
        )
        print(orjson.dumps({"won": outcome.position}).decode(), flush=True)
    except LedgerError as error:
        print(orjson.dumps({"error": str(error)}).decode(), flush=True)


def importer(db: str, path: str, start: float) -> None:
    ledger = Ledger(locate(db), actor="importer")
    wait_until(start)
    with open(path, "rb") as lines:
        report = ledger.import_lines(lines)
    print(orjson.dumps({"recorded": report.recorded, "duplicates": report.duplicates}).decode(), flush=True)


if __name__ == "__main__":
    command, db, *rest = sys.argv[1:]
    if command == "append":
        appender(db, rest[0], int(rest[1]), float(rest[2]))
    elif command == "race":
        racer(db, rest[0], float(rest[1]))
    elif command == "import":
        importer(db, rest[0], float(rest[1]))

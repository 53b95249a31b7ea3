"""Lines into a write transaction: events to import, or a backup to restore, line by line, with
progress, pending rows written a page at a time, and errors named by line."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from msgspec import Struct

from ..events import FieldError, parse_event, parse_json
from ..events.envelope import CONTENT_FIELDS
from .chain import ENVELOPE_FIELDS
from .errors import BadLines, LineError, Rejected
from .queries import PAGE, Progress
from .writer import Writer


class ImportReport(Struct, frozen=True):
    recorded: int
    duplicates: int
    retracted: int  # lines of events retracted since they were recorded: skipped, counted apart
    first: int | None  # position of the first event recorded
    last: int | None


MAX_BAD_LINES = 20  # reported by one import before it stops reading


def import_lines(writer: Writer, lines: Iterable[bytes], progress: Progress | None = None) -> ImportReport:
    """Append every event, one JSON object a line; blank lines are skipped.

    A bad line does not stop the reading: up to MAX_BAD_LINES are reported together, and then
    nothing is recorded (the caller's transaction is rolled back).
    """
    recorded = duplicates = retracted = 0
    first = last = None
    bad: list[LineError] = []
    for number, line in enumerate(lines, start=1):
        if progress:
            progress(len(line))
        if not line.strip():
            continue
        try:
            outcome = writer.append(parse_event(parse_json(line), writer.resolver()), skip_retracted=True)
        except (FieldError, Rejected) as error:
            bad.append(LineError(number, str(error)))
            if len(bad) == MAX_BAD_LINES:
                break
            continue
        if outcome.retracted:
            retracted += 1
        elif outcome.duplicate:
            duplicates += 1
        else:
            recorded += 1
            first, last = first or outcome.position, outcome.position
        if number % PAGE == 0:
            writer.flush()
    if bad:
        raise BadLines(bad, stopped=len(bad) == MAX_BAD_LINES)
    return ImportReport(recorded, duplicates, retracted, first, last)


def restore_lines(writer: Writer, lines: Iterable[bytes], progress: Progress | None = None) -> None:
    """Record every event of a backup as it was: same ids, positions, times and hashes."""
    for number, line in enumerate(lines, start=1):
        if progress:
            progress(len(line))
        try:
            envelope = _backed_up(parse_json(line))
            content = {name: envelope[name] for name in (*CONTENT_FIELDS, "id") if name in envelope}
            writer.restore(parse_event(content, writer.resolver()), envelope)
        except (FieldError, Rejected) as error:
            raise LineError(number, str(error)) from None
        if number % PAGE == 0:
            writer.flush()


def _backed_up(value: Any) -> dict[str, Any]:
    """A line of a backup: a whole stored envelope, in the stored order of its fields."""
    if not isinstance(value, dict):
        raise FieldError("", "expected a stored event (a JSON object)")
    for name in value:
        if name not in ENVELOPE_FIELDS and name != "hash":
            raise FieldError(name, "not a field of a stored event")
    for name in ("id", "position", "recorded_at", "recorded_by", "hash"):
        if not value.get(name):
            raise FieldError(name, "required in a backup: restore keeps what the ledger recorded")
    if "imported_from" in value and not isinstance(value["imported_from"], dict):
        raise FieldError("imported_from", "expected an object")
    return {name: value[name] for name in (*ENVELOPE_FIELDS, "hash") if name in value}

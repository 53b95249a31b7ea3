"""Lines into a write transaction: events to import, or a backup to restore, line by line, with
progress, pending rows written a page at a time, and errors named by line."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from msgspec import Struct

from ..events import FieldError, parse_event, parse_json
from ..events.envelope import CONTENT_FIELDS
from .chain import ENVELOPE_FIELDS
from .errors import BadLines, LineError, Rejected
from .queries import Progress
from .writer import Writer


class ImportReport(Struct, frozen=True):
    recorded: int
    duplicates: int
    retracted: int  # lines of events retracted since they were recorded: skipped, counted apart
    first: int | None  # position of the first event recorded
    last: int | None


MAX_BAD_LINES = 20  # reported by one import before it stops reading
# Events projected between two writes of their rows (an import's page of lines, a rebuild's of
# stored events): each write puts a page's rows into every table in the order of its key, so a
# larger page visits each B-tree page for more rows at once, and holds ~5 KB an event more in
# memory. Rebuild of 1M events, two at a time: 1,000 a page 259 s and a peak of 146 MiB, 5,000
# 218-226 s and 157 MiB, 10,000 197 s and 198 MiB (the target is 200 MB): docs/performance.md.
PAGE = 5000
PAGE_BYTES = 8 << 20  # lines held at once at most (but for one longer line), parsed, with their rows


def import_lines(writer: Writer, lines: Iterable[bytes], progress: Progress | None = None) -> ImportReport:
    """Append every event, one JSON object a line; blank lines are skipped.

    A bad line does not stop the reading: up to MAX_BAD_LINES are reported together, and then
    nothing is recorded (the caller's transaction is rolled back).
    """
    recorded = duplicates = retracted = 0
    first = last = None
    bad: list[LineError] = []
    for page in _pages(lines, writer, skip_blank=True):
        for number, line, value in page:
            if progress:
                progress(len(line))
            if value is BLANK:
                continue
            try:
                outcome = writer.append(parse_event(_value(value), writer.resolver()), skip_retracted=True)
            except (FieldError, Rejected) as error:
                bad.append(LineError(number, str(error)))
                if len(bad) == MAX_BAD_LINES:
                    raise BadLines(bad, stopped=True) from None
                continue
            if outcome.retracted:
                retracted += 1
            elif outcome.duplicate:
                duplicates += 1
            else:
                recorded += 1
                first, last = first or outcome.position, outcome.position
    if bad:
        raise BadLines(bad, stopped=False)
    return ImportReport(recorded, duplicates, retracted, first, last)


def restore_lines(writer: Writer, lines: Iterable[bytes], progress: Progress | None = None) -> None:
    """Record every event of a backup as it was: same ids, positions, times and hashes."""
    for page in _pages(lines, writer, skip_blank=False):
        for number, line, value in page:
            if progress:
                progress(len(line))
            try:
                envelope = _backed_up(_value(value))
                content = {name: envelope[name] for name in (*CONTENT_FIELDS, "id") if name in envelope}
                writer.restore(parse_event(content, writer.resolver()), envelope)
            except (FieldError, Rejected) as error:
                raise LineError(number, str(error)) from None


BLANK: Any = object()  # a blank line of an import, which is skipped
# The byte order mark editors on Windows write before a UTF-8 file's first line: not part of the
# JSON, and RFC 8259 (section 8.1) lets a reader ignore it.
BOM = b"\xef\xbb\xbf"


def _pages(
    lines: Iterable[bytes], writer: Writer, skip_blank: bool
) -> Iterator[list[tuple[int, bytes, Any]]]:
    """The lines a page (PAGE of them, or fewer that make PAGE_BYTES) at a time, each with its
    number and its JSON value (the FieldError saying it is not JSON; BLANK with `skip_blank`).
    Before a page is handed on, the writer learns at once which keys and ids of its events are
    recorded (`Writer.expect`); after it, the writer's pending rows are written."""
    page: list[tuple[int, bytes, Any]] = []
    size = 0
    for number, line in enumerate(lines, start=1):
        if line.startswith(BOM):  # never the start of JSON: a file's, or one of files put together
            line = line[len(BOM) :]
        page.append((number, line, BLANK if skip_blank and not line.strip() else _parsed(line)))
        size += len(line)
        if len(page) == PAGE or size >= PAGE_BYTES:
            writer.expect(value for _, _, value in page)
            yield page
            page, size = [], 0
            writer.flush()
    if page:
        writer.expect(value for _, _, value in page)
        yield page


def _parsed(line: bytes) -> Any:
    try:
        return parse_json(line)
    except FieldError as error:
        return error


def _value(parsed: Any) -> Any:
    """A line's JSON value, or the error that it has none."""
    if isinstance(parsed, FieldError):
        raise parsed
    return parsed


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

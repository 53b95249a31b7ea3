"""How the ledger's answers are shown: plain lines for a pipe, rich tables for a terminal, JSON."""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO, TypeVar

import orjson
from msgspec import Struct

from .events.dates import parse_edtf, today
from .events.states import state_code
from .ledger.errors import LedgerError
from .ledger.files import ledger_files
from .projections.summary import ordinal, summary

if TYPE_CHECKING:
    from .events import Edtf
    from .ledger.application import ImportReport
    from .ledger.queries import Queries
    from .ledger.verify import Verified
    from .ledger.writer import Outcome
    from .projections.timeline import Timeline

T = TypeVar("T")

STATUS_STYLES = {
    "in_force": "bold green",
    "adopted": "green",
    "signed": "yellow",
    "planned": "yellow",
    "expired": "dim",
    "superseded": "dim",
    "withdrawn": "magenta",
    "terminated": "bold red",
    "active": "bold green",
    "completed": "cyan",
}
RIGHT = dict.fromkeys(["position", "events", "instr.", "proj.", "meet.", "held", "last no."], "right")
# Columns never folded: dates as entered, numbers, statuses (their words are short).
UNBROKEN = {
    *RIGHT,
    "status",
    "occurred",
    "dates",
    "when",
    "first",
    "last",
}
LOG_COLUMNS = {"position": 8, "recorded at": 27, "by": 14, "type": 26, "summary": None}


# --- how an answer goes out: JSON, lines or tables on stdout, progress on stderr, files whole


def render(
    value: Any,
    as_json: bool,
    text: Callable[[Any], Iterable[str]],
    tables: Callable[[Any], Iterable[Any]] | None = None,
    empty: str | None = None,
    *,
    echo: Callable[[str], Any],
) -> None:
    """JSON; aligned, coloured tables on a terminal (when the command has them); else plain text.

    An empty answer is the one line `empty` (when given), on a terminal as in a pipe.
    """
    if as_json:
        json_out(value, sys.stdout)
    elif empty is not None and not value:
        echo(empty)
    elif tables is not None and sys.stdout.isatty():
        print_tables(tables(value))
    else:
        for line in text(value):
            echo(visible(line))


def render_log(entries: Iterable[dict[str, Any]], as_json: bool, echo: Callable[[str], Any]) -> None:
    """The audit trail as it is read, never held whole: a JSON array, tables a page at a time, or lines."""
    if as_json:
        json_list(entries, sys.stdout.buffer)
    elif sys.stdout.isatty():
        print_tables(log_tables(entries))
    else:
        for line in log_text(entries):
            echo(visible(line))


def json_text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


def json_out(value: Any, out: IO[str]) -> None:
    """JSON and a newline written as bytes: a long answer (tens of MB for a busy pair) is neither
    decoded into text nor searched for terminal escapes, which JSON escapes anyway."""
    out.flush()
    out.buffer.write(orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))  # type: ignore[attr-defined]
    out.buffer.flush()  # type: ignore[attr-defined]


def json_list(items: Iterable[Any], out: IO[bytes]) -> None:
    """A JSON array written as it is read, so a long log is never held whole."""
    first = True
    for item in items:
        out.write(b"[\n" if first else b",\n")
        out.write(orjson.dumps(item))
        first = False
    out.write(b"[]\n" if first else b"\n]\n")


def json_lines(lines: Iterable[bytes], out: IO[bytes], progress: Callable[[int], None] | None = None) -> None:
    """Stored events, one JSON document a line, written as they are read."""
    for line in lines:
        out.write(line + b"\n")
        if progress:
            progress(1)


def print_tables(tables: Iterable[Any]) -> None:
    from rich.console import Console

    console = Console(highlight=False)
    for table in tables:
        console.print(table)


def with_progress(
    label: str, total: Callable[[], int], work: Callable[[Any], T], bar: Callable[..., Any]
) -> T:
    """Run work(progress) with a progress bar (click's) when stderr is a terminal, work(None) otherwise."""
    length = total() if sys.stderr.isatty() else 0
    if not length:
        return work(None)
    with bar(length=length, label=label, file=sys.stderr) as shown:
        return work(shown.update)


def size(source: IO[bytes]) -> int:
    """How many bytes a file given to read has, for its progress bar; 0 for stdin."""
    try:
        return Path(source.name).stat().st_size if source.name not in ("<stdin>", "-") else 0
    except (OSError, TypeError):
        return 0


def write_whole(path: Path, write: Callable[[Path], None], keep: Iterable[Path]) -> None:
    """Write an --out file whole or not at all, never over the files to `keep` (the ledger's)."""
    from .ledger.files import write_whole as whole

    whole(path, write, f"--out {path}", keep)


def sections(listed: dict[str, list[str]], commands: dict[str, Any], width: int) -> list[tuple[str, Any]]:
    """The commands by section for --help, each with its short help; those not listed under Other."""
    short = {name: command.get_short_help_str(width) for name, command in commands.items()}
    others = [name for name in short if not any(name in names for names in listed.values())]
    found = [(section, [(n, short[n]) for n in names if n in short]) for section, names in listed.items()]
    return [(section, rows) for section, rows in [*found, ("Other", [(n, short[n]) for n in others])] if rows]


def backed_up(queries: Queries, file: Path) -> str:
    """Take a backup into a file: what was written, or why it could not be."""
    try:
        verified = queries.backup(file)
    except OSError as error:
        raise LedgerError(f"{file}: cannot write there ({error.strerror or error})") from None
    return f"backed up {verified.events} events to {file}; digest {verified.digest}"


# --- exports

EXPORT_FORMATS = ("jsonl", "csv", "iati")


def export(
    queries: Queries,
    format_: str,
    out: Path | None,
    as_of: Edtf | None,
    progress: Callable[..., Any],
    reporting_org: str | None = None,
    reporting_org_type: str | None = None,
    reporting_org_name: str | None = None,
) -> str | None:
    """Write an export (jsonl to stdout without --out); what was written, for a file or directory."""
    if as_of is not None and format_ == "jsonl":
        raise LedgerError("--as-of: a jsonl export holds every event; give it with --format csv or iati")
    if (reporting_org is None) != (format_ != "iati"):
        raise LedgerError("--reporting-org REF: give it with --format iati, and only there")
    if format_ == "csv":
        if out is None or str(out) == "-":
            raise LedgerError("--format csv writes one file per kind: name a directory with --out DIR")
        return write_csv(queries, out, as_of or today())
    if format_ == "iati":
        assert reporting_org is not None and reporting_org_type is not None
        for option, value in (
            ("--reporting-org", reporting_org),
            ("--reporting-org-type", reporting_org_type),
        ):
            if not value or value != "".join(value.split()) or not value.isprintable():
                raise LedgerError(f"{option} {value!r}: expected an identifier without spaces")
        from .exports import IATI_VERSION, iati_activities

        day = as_of or today()
        org = (reporting_org, reporting_org_type, reporting_org_name or reporting_org)

        def write_to(target: BinaryIO) -> None:
            with queries.whole_ledger(day.day) as ledger:
                iati_activities(ledger, day, *org, target.write)

        if out is None or str(out) == "-":
            write_to(sys.stdout.buffer)
            return None
        write_whole(out, lambda path: _written(path, "wb", write_to), ledger_files(queries.location))
        return f"wrote the projects as of {day.text} as IATI {IATI_VERSION} activities to {out}"
    if out is None or str(out) == "-":  # no progress on stdout: it would mix with the events
        json_lines(queries.export(), sys.stdout.buffer)
        return None

    def write(path: Path) -> None:
        with path.open("wb") as target:
            lines = queries.export()
            total = lambda: int(queries.digest().split(":")[0])
            progress("exporting", total, lambda p: json_lines(lines, target, p))

    write_whole(out, write, ledger_files(queries.location))
    return None


def write_csv(queries: Queries, out: Path, as_of: Edtf) -> str:
    """One CSV file per kind in a directory (created if missing), each written whole; UTF-8 with
    a byte order mark, so that spreadsheets read its non-Latin text as such."""
    from .exports import KINDS, Table, csv_tables

    if out.exists() and not out.is_dir():
        raise LedgerError(f"--out {out}: not a directory; --format csv writes one file per kind there")
    tables = {kind: Table(kind) for kind in KINDS}
    try:
        try:
            with queries.whole_ledger(as_of.day) as ledger:
                csv_tables(ledger, lambda kind, row: tables[kind].add(row))
        except OSError as error:
            import tempfile

            raise LedgerError(
                f"--out {out}: the rows cannot wait in {tempfile.gettempdir()} "
                f"({error.strerror or error}); set TMPDIR to a directory with room"
            ) from None
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise LedgerError(f"--out {out}: cannot write there ({error.strerror or error})") from None
        for kind, table in tables.items():
            write = lambda path, table=table: _written(path, "w", table.write, encoding="utf-8-sig")
            write_whole(out / f"{kind}.csv", write, ledger_files(queries.location))
    finally:
        for table in tables.values():
            table.close()
    counts = ", ".join(f"{tables[kind].rows} {kind}" for kind in KINDS)
    return f"wrote {len(KINDS)} CSV files as of {as_of.text} to {out}: {counts}"


def _written(path: Path, mode: str, write: Callable[[Any], None], **options: Any) -> None:
    """Open a file and write it with `write`."""
    with path.open(mode, **options) as target:
        write(target)


# --- rich tables and their cells


def table(
    title: str | None,
    columns: list[str] | dict[str, int | None],
    rows: list[list[Any]],
    styles: list[str] | None = None,
    justify: dict[str, str] | None = None,
    header: bool = True,
    expand: bool = False,
) -> Any:
    """A rich table; cells are text with rich markup, a row may carry a style, columns a fixed width.

    A titled table with no rows is one line saying so.
    """
    if title and not rows:
        return f"[italic]{title}[/]: none"
    from rich.table import Table

    widths = columns if isinstance(columns, dict) else dict.fromkeys(columns)
    grid = Table(title=title, title_justify="left", header_style="bold", show_header=header, expand=expand)
    for column, width in widths.items():
        grid.add_column(
            column,
            overflow="fold",
            width=width,
            no_wrap=width is not None or column in UNBROKEN,
            ratio=1 if expand and width is None else None,
            justify=(justify or {}).get(column, "left"),  # type: ignore[arg-type]
        )
    for index, row in enumerate(rows):
        cells = ["" if cell is None else str(cell) for cell in row]
        grid.add_row(*cells, style=styles[index] if styles else None)
    return grid


def escape(text: str) -> str:
    """Text shown as is inside a rich table, square brackets included (and `visible`)."""
    from rich.markup import escape as rich_escape

    return rich_escape(visible(text))


# What a terminal acts on instead of showing (C0 controls, DEL, C1 controls) and what reorders
# the text shown around it (bidirectional embeddings, overrides and isolates). Recorded in a
# title, they would move the cursor, retitle the window or write the clipboard of whoever reads
# the ledger, break a line into a forged one, or disguise what is read.
_REORDERING = "\u202a-\u202e\u2066-\u2069"
_UNSHOWN = re.compile(f"[\x00-\x1f\x7f-\x9f{_REORDERING}]")
_REORDERS = re.compile(f"[{_REORDERING}]")


def visible(text: str) -> str:
    """Text as a terminal should print it: each character of `_UNSHOWN` written as its escape
    (`\\x1b`, `\\u202e`), the rest as it is."""
    return _UNSHOWN.sub(_escaped, text) if _UNSHOWN.search(text) else text


def in_order(value: Any) -> Any:
    """A web page's value with its bidirectional controls written as their escapes (`\\u202e`, a
    JSON escape too): HTML escapes markup, not the reordering of what is read; other control
    characters a browser does not act on. Markup stays markup (the escapes are plain ASCII)."""
    if isinstance(value, str) and _REORDERS.search(value):
        return type(value)(_REORDERS.sub(_escaped, value))
    return value


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def status_cell(status: str) -> str:
    style = STATUS_STYLES.get(status)
    words = status.replace("_", " ")
    return f"[{style}]{words}[/]" if style else words


# --- recording


def appended(outcome: Outcome) -> dict[str, Any]:
    return {"position": outcome.position, "id": outcome.id, "duplicate": outcome.duplicate}


def appended_text(value: dict[str, Any]) -> list[str]:
    return [
        _duplicate(value) if value["duplicate"] else f"recorded position {value['position']} {value['id']}"
    ]


def recorded(outcome: Outcome, dry_run: bool) -> dict[str, Any]:
    """What a verb answers: appended's answer, whether it was recorded, and the event in full."""
    return appended(outcome) | {"recorded": not dry_run and not outcome.duplicate, "event": outcome.envelope}


def recorded_text(value: dict[str, Any], dry_run: bool) -> list[str]:
    if value["duplicate"]:
        return [_duplicate(value)]
    line = f"{value['event']['type']} {summary(value['event'])}"
    if dry_run:
        return [
            f"would record position {value['position']}: {line}",
            *json_text(value["event"]).splitlines(),  # a line each: `visible` escapes a line break
            "(dry run: nothing recorded)",
        ]
    return [f"recorded position {value['position']}: {line}"]


def _duplicate(value: dict[str, Any]) -> str:
    return f"duplicate of position {value['position']} {value['id']}: not recorded again"


def imported(report: ImportReport) -> dict[str, Any]:
    return {
        "recorded": report.recorded,
        "duplicates": report.duplicates,
        "retracted_earlier": report.retracted,
        "first": report.first,
        "last": report.last,
    }


def imported_text(value: dict[str, Any]) -> list[str]:
    retracted = value["retracted_earlier"]
    return [
        f"imported {value['recorded']} events"
        + (f" (positions {value['first']}-{value['last']})" if value["recorded"] else "")
        + f", {value['duplicates']} duplicates skipped"
        + (f", {retracted} retracted earlier (skipped)" if retracted else "")
    ]


# --- the audit trail


def log_text(entries: Iterable[dict[str, Any]]) -> Iterator[str]:
    for envelope in entries:
        yield (
            f"{envelope['position']:>6}  {envelope['recorded_at']}  {envelope['recorded_by']}  "
            f"{envelope['type']}  {summary(envelope)}"
        )


def log_tables(entries: Iterable[dict[str, Any]], rows: int = 200) -> Iterator[Any]:
    """The log as tables of fixed column widths, a page at a time: aligned, never held whole."""
    page: list[list[Any]] = []
    header = True
    for envelope in entries:
        page.append(
            [
                envelope["position"],
                envelope["recorded_at"],
                envelope["recorded_by"],
                envelope["type"],
                escape(summary(envelope)),
            ]
        )
        if len(page) == rows:
            yield table(None, LOG_COLUMNS, page, header=header, expand=True, justify=RIGHT)
            page, header = [], False
    if page:
        yield table(None, LOG_COLUMNS, page, header=header, expand=True, justify=RIGHT)
    elif header:
        yield "no events"


def shown(envelope: dict[str, Any], retraction: dict[str, Any] | None) -> dict[str, Any]:
    return {"event": envelope, "retracted": retraction is not None, "retraction": retraction}


def show_text(value: dict[str, Any]) -> Iterator[str]:
    envelope = value["event"]
    yield f"position {envelope['position']}  {envelope['type']}  {summary(envelope)}"
    for name in ("id", "occurred_on", "recorded_at", "recorded_by", "key", "note", "hash"):
        if envelope.get(name) is not None:
            yield f"  {name}: {envelope[name]}"
    for name, field in envelope.get("source", {}).items():
        yield f"  source.{name}: {field}"
    for name, field in envelope["data"].items():
        yield f"  data.{name}: {orjson.dumps(field).decode() if not isinstance(field, str) else field}"
    if envelope.get("imported_from"):
        yield f"  imported_from: {orjson.dumps(envelope['imported_from']).decode()}"
    retraction = value["retraction"]
    if retraction:
        yield (
            f"RETRACTED by position {retraction['position']} on {retraction['recorded_at']} "
            f"({retraction['recorded_by']}): {retraction['data']['reason']}"
        )
    else:
        yield "not retracted"


def initialised(done: str, location: object) -> str:
    return {
        "created": f"created the ledger at {location}",
        "current": f"the ledger at {location} already exists",
        "upgraded": f"brought the ledger at {location} up to this version: its tables and triggers,"
        " and the rules of contract 2 from its next event on",
        "guarded": f"brought the triggers of the ledger at {location} up to this version"
        " (its events and read model are unchanged)",
    }[done]


def verified(verified: Verified) -> dict[str, Any]:
    """What verify checked: events (chain, decoding, recording times, rules) and rows per table."""
    return {
        "ok": True,
        "events": verified.events,
        "digest": verified.digest,
        "checked": verified.checked,
        "warnings": [{"position": position, "warning": text} for position, text in verified.warnings],
        "warned": verified.warned,
    }


def verified_text(value: dict[str, Any]) -> list[str]:
    return [f"ok: {value['events']} events verified; digest {value['digest']}"]


def warnings_text(verified: Verified) -> list[str]:
    """Warnings for stderr: events an earlier contract allowed and this one refuses."""
    lines = [f"warning: position {position}: {text}" for position, text in verified.warnings]
    if verified.warned > len(lines):
        lines.append(f"warning: and {verified.warned - len(lines)} more")
    return lines


def head(digest: str) -> dict[str, Any]:
    """The ledger's head from its digest POSITION:HASH."""
    position, hash_ = digest.split(":")
    return {"position": int(position), "hash": hash_}


def digest_text(value: dict[str, Any]) -> list[str]:
    return [f"{value['position']}:{value['hash']}"]


# --- relationships


def relationships_text(rows: list[dict[str, Any]]) -> list[str]:
    return [
        f"{r['relationship']:<24} {r['events']:>5} events  {r['instruments']:>3} instruments  "
        f"{r['projects']:>3} projects  {r['meetings']:>3} meetings  {r['first']} .. {r['last']}"
        for r in rows
    ]


def relationships_tables(rows: list[dict[str, Any]]) -> Iterator[Any]:
    yield table(
        None,
        ["relationship", "events", "instr.", "proj.", "meet.", "first", "last"],
        [
            [
                r["relationship"],
                r["events"],
                r["instruments"],
                r["projects"],
                r["meetings"],
                r["first"],
                r["last"],
            ]
            for r in rows
        ],
        justify=RIGHT,
    )


# The fields of a state answer that the text shows in its own words; any other field (one added
# since) is shown by `_fields`, so that the text never hides what the JSON holds.
STATE_SHOWN = {"relationship", "as_of", "known_at", "instruments", "projects", "meetings", "possibly"}
STATE_SHOWN |= {"party_names"}
INSTRUMENT_SHOWN = {
    *("instrument", "kind", "title", "parties", "multilateral", "status", "signed_on", "in_force_from"),
    *("expires_on", "extensions", "amendments", "terminated_on", "until_terminated", "renewal"),
    *("current_term_ends", "notice_by", "supersedes", "superseded_by", "members"),
}
PROJECT_SHOWN = {
    *("project", "title", "parties", "multilateral", "status", "launched_on", "planned_end"),
    *("scope_changes", "funding", "ended_on", "completed_on", "terminated_on", "planned_start"),
    *("disbursed", "spent", "members", "participants"),
}
MEETINGS_SHOWN = {"held", "last", "next", "overdue", "postponed", "series"}
LAST_SHOWN = {"meeting", "occurred_on", "number", "series", "venue"}
NEXT_SHOWN = {"meeting", "planned_for", "host"}
WAITING_SHOWN = {"meeting", "planned_for", "announced_on", "postponed_on"}
SERIES_SHOWN = {"series", "title", "held", "last_number", "suspended_since", "withdrawn_since", "members"}
POSSIBLY_SHOWN = {"type", "id", "occurred_on"}
DETAIL = " " * 13  # the indent of a thing's details under its status


def plain(value: Any) -> str:
    """Any JSON value in words: a list item by item, an object's fields as `name value`."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(
            _words(name) if field is True else f"{_words(name)} {plain(field)}"
            for name, field in value.items()
            if field is not None and field is not False
        )
    if isinstance(value, list):
        return "; ".join(plain(item) for item in value) or "none"
    return str(value)


def _words(name: str) -> str:
    return name.replace("_", " ")


def _fields(thing: dict[str, Any], shown: set[str]) -> list[str]:
    """The fields the text has no words of its own for, one a line (a list of objects, one item a line)."""
    lines = []
    for name, value in thing.items():
        if name in shown or value is None or value == [] or value == {}:
            continue
        items = value if isinstance(value, list) and all(isinstance(i, dict) for i in value) else [value]
        lines += [f"{_words(name)}: {plain(item)}" for item in items]
    return lines


def _also(item: dict[str, Any], shown: set[str]) -> str:
    """An item's fields the line has no words for, after it."""
    extra = _fields(item, shown)
    return f" ({'; '.join(extra)})" if extra else ""


def _header(thing: dict[str, Any], kind: str | None) -> str:
    """A thing's id, kind, whether multilateral, parties and title."""
    about = ", ".join(word for word in (kind, "multilateral" if thing["multilateral"] else None) if word)
    return f"{f' ({about})' if about else ''} {', '.join(thing['parties'])}: {thing['title']}"


def _instrument_details(i: dict[str, Any]) -> list[str]:
    """Below an instrument's title: its dates and terms, each extension and amendment, its members,
    and any other field."""
    lines = list(instrument_lines(i))
    return [
        lines[0],
        *(f"extended {e['occurred_on']}: expires {e['expires_on']}" for e in i["extensions"]),
        *lines[1:],
        *_fields(i, INSTRUMENT_SHOWN),
    ]


_INSTRUMENT_DATES = (
    ("in_force_from", "in force from"),
    ("expires_on", "expires"),
    ("terminated_on", "terminated"),
)
_PROJECT_ENDS = (("ended_on", None), ("completed_on", "completed"), ("terminated_on", "terminated"))


def _project_details(p: dict[str, Any], as_of: str | None = None) -> list[str]:
    """Below a project's title: its dates, money, each scope change, members and participants,
    and any other field."""
    ended = [f"{p['status']} {p[name]}" for name, label in _PROJECT_ENDS if not label and p.get(name)]
    lines = list(project_lines(p, as_of))
    return [", ".join([lines[0], *ended]), *lines[1:], *_fields(p, PROJECT_SHOWN)]


END_PASSED = "passed, no completion recorded"


def end_passed(p: dict[str, Any], as_of: str | None) -> bool:
    """Whether an active project's planned end is behind the day asked about. It stays `active`
    (SPEC: also past its planned end) until its completion is recorded; the reader is told."""
    end = p.get("planned_end")
    return bool(as_of and end and p["status"] == "active") and parse_edtf(end).latest < parse_edtf(as_of).day


def _planned_end(p: dict[str, Any], as_of: str | None) -> str | None:
    end = p.get("planned_end")
    return f"{end} ({END_PASSED})" if end_passed(p, as_of) else end


LISTED = 20  # items a long list of a state answer shows in text, unless --all


class Listed(Struct, frozen=True):
    """One list of a state answer as text shows it: every item when there are few (or with
    --all), else the LISTED most recent (or busiest), in the answer's order, with a line saying so."""

    items: list[dict[str, Any]]
    note: str | None = None

    @classmethod
    def of(
        cls, items: list[dict[str, Any]], every: bool, key: Callable[[dict[str, Any]], Any], which: str
    ) -> Listed:
        if every or len(items) <= LISTED:
            return cls(items)
        kept = sorted(sorted(range(len(items)), key=lambda n: key(items[n]))[-LISTED:])
        return cls([items[n] for n in kept], f"the {LISTED} {which} of {len(items)}; --all lists every one")


def _day(name: str) -> Callable[[dict[str, Any]], Any]:
    """Sorts by a date as entered, by the day of it that counts."""
    return lambda item: parse_edtf(item[name]).day


def _statuses(items: list[dict[str, Any]]) -> str:
    """How many items have each status, the commonest first: `412 in force, 300 expired`."""
    counts = Counter(item["status"] for item in items).most_common()
    return ", ".join(f"{count} {status.replace('_', ' ')}" for status, count in counts)


def state_lists(state: dict[str, Any], every: bool = False) -> dict[str, Listed]:
    """The lists of a state answer that text shows, each cut to its LISTED most recent unless
    `every`: instruments by signing, projects by launch, waiting meetings by their planned day,
    possible events by their date, series by meetings held. JSON always lists everything."""
    meetings = state["meetings"]
    return {
        "instruments": Listed.of(state["instruments"], every, _day("signed_on"), "most recently signed"),
        "projects": Listed.of(state["projects"], every, _day("launched_on"), "most recently launched"),
        "overdue": Listed.of(meetings["overdue"], every, _day("planned_for"), "most recently planned"),
        "postponed": Listed.of(meetings["postponed"], every, _day("planned_for"), "most recently planned"),
        "series": Listed.of(meetings["series"], every, lambda s: s["held"], "with the most meetings held"),
        "possibly": Listed.of(state["possibly"], every, _day("occurred_on"), "most recent"),
    }


def _heading(title: str, items: list[dict[str, Any]], listed: Listed) -> str:
    """A long list's heading counts its items by status: `Instruments: 951 (412 in force, ...)`."""
    if listed.note is None:
        return f"{title}:" if items else f"{title}: none"
    return f"{title}: {len(items)} ({_statuses(items)})"


def state_text(state: dict[str, Any], every: bool = False) -> Iterator[str]:
    known = f", as known at {state['known_at']}" if state["known_at"] else ""
    yield f"{state['relationship']} as of {state['as_of']}{known}"
    lists = state_lists(state, every)
    yield _heading("Instruments", state["instruments"], lists["instruments"])
    yield from _note(lists["instruments"])
    for i in lists["instruments"].items:
        yield f"  {i['status'].upper():<10} {i['instrument']}{_header(i, i['kind'])}"
        yield from (DETAIL + line for line in _instrument_details(i))
    yield _heading("Projects", state["projects"], lists["projects"])
    yield from _note(lists["projects"])
    for p in lists["projects"].items:
        yield f"  {p['status'].upper():<10} {p['project']}{_header(p, None)}"
        yield from (DETAIL + line for line in _project_details(p, state["as_of"]))
    meetings = state["meetings"]
    yield f"Meetings: {meetings['held']} held"
    if meetings["last"]:
        yield f"  last: {_last(meetings['last'])}{_also(meetings['last'], LAST_SHOWN)}"
    if meetings["next"]:
        upcoming = meetings["next"]
        host = f", host {upcoming['host']}" if upcoming["host"] else ""
        yield f"  next: {upcoming['meeting']} planned for {upcoming['planned_for']}{host}"
    yield from _note(lists["overdue"], f"  overdue: {len(meetings['overdue'])} meetings; listed: ")
    for waiting in lists["overdue"].items:
        yield f"  overdue: {_waiting(waiting)}; not known to have been held"
    yield from _note(lists["postponed"], f"  postponed: {len(meetings['postponed'])} meetings; listed: ")
    for waiting in lists["postponed"].items:
        yield f"  postponed: {_waiting(waiting)}, postponed {waiting['postponed_on']} with no new date"
    yield from _note(lists["series"], f"  series: {len(meetings['series'])}; listed: ")
    for series in lists["series"].items:
        title = f" ({series['title']})" if series["title"] else ""
        last_number = f", last number {series['last_number']}" if series["last_number"] else ""
        suspended = f", suspended since {series['suspended_since']}" if series["suspended_since"] else ""
        withdrawn = f", withdrawn since {series['withdrawn_since']}" if series.get("withdrawn_since") else ""
        yield f"  series {series['series']}{title}: {series['held']} held{last_number}{suspended}{withdrawn}"
        if series.get("members"):
            yield f"{'':13}members: {members_text(series['members'])}"
        yield from (f"    {line}" for line in _fields(series, SERIES_SHOWN))
    yield from (f"  {line}" for line in _fields(meetings, MEETINGS_SHOWN))
    yield from _possibly_text(state, lists["possibly"])
    if state.get("party_names"):
        yield "Parties: " + "; ".join(f"{party} {name}" for party, name in state["party_names"].items())
    yield from (line[0].upper() + line[1:] for line in _fields(state, STATE_SHOWN))


def _last(last: dict[str, Any]) -> str:
    if last["number"]:
        of = f" ({ordinal(last['number'])} of {last['series']})"
    else:
        of = f" (of {last['series']})" if last["series"] else ""
    return f"{last['meeting']}{of} on {last['occurred_on']}" + (
        f" at {last['venue']}" if last["venue"] else ""
    )


def instrument_lines(i: dict[str, Any]) -> Iterator[str]:
    """An instrument's dates, terms, successions, amendments and members, a line each."""
    extended = f"{len(i['extensions'])}x" if i["extensions"] else None
    yield _labelled(
        ("signed", i.get("signed_on")),
        ("in force from", i.get("in_force_from")),
        (
            "expires",
            f"{i['expires_on']} (extended {extended})"
            if i.get("expires_on") and extended
            else i.get("expires_on"),
        ),
        ("extended", None if i.get("expires_on") else extended),
        (
            "then" if i.get("expires_on") else "in force",
            "until terminated" if i.get("until_terminated") else None,
        ),
        ("terminated", i.get("terminated_on")),
    )
    renewal = i.get("renewal")
    if renewal:
        notice = f" unless notice is given {renewal['notice']} before" if renewal["notice"] else ""
        term = f"renews itself every {renewal['term']}{notice}"
        if i.get("current_term_ends"):
            term += f": current term ends {i['current_term_ends']}"
        if i.get("notice_by"):
            term += f", notice by {i['notice_by']}"
        yield term
    if i.get("supersedes"):
        yield f"supersedes {i['supersedes']}"
    if i.get("superseded_by"):
        yield f"superseded by {i['superseded_by']}"
    for change in i.get("amendments", ()):
        yield f"amended {change['occurred_on']}: {change['summary']}"
    if i.get("members"):
        yield f"members: {members_text(i['members'])}"


def project_lines(p: dict[str, Any], as_of: str | None = None) -> Iterator[str]:
    """A project's dates, money, scope changes, members and participants, a line each."""
    yield _labelled(
        ("launched", p.get("launched_on")),
        ("to start", p.get("planned_start")),
        ("to end", _planned_end(p, as_of)),
        ("completed", p.get("completed_on")),
        ("terminated", p.get("terminated_on")),
    )
    money = "; ".join(
        f"{label} {', '.join(f'{total} {currency}' for currency, total in p[name].items())}"
        for name, label in (("funding", "funding"), ("disbursed", "disbursed"), ("spent", "spent"))
        if p.get(name)
    )
    if money:
        yield money
    for change in p.get("scope_changes", ()):
        yield f"scope {change['occurred_on']}: {change['summary']}"
    if p.get("members"):
        yield f"members: {members_text(p['members'])}"
    if p.get("participants"):
        yield "participants: " + ", ".join(f"{x['party']} ({x['role']})" for x in p["participants"])


def dates_cell(*labelled: tuple[str, str | None]) -> str:
    """Dates as entered, one per line with its label; those not given are left out."""
    return "\n".join(f"{label} {value}" for label, value in labelled if value)


def _labelled(*parts: tuple[str, str | None]) -> str:
    """Values as entered after their labels, those not given left out: `signed 2012-01-23, in force
    from 2012-03-15`."""
    return ", ".join(f"{label} {value}" for label, value in parts if value)


def members_text(members: list[dict[str, Any]]) -> str:
    """Membership periods, those alike in one group: `KOR, JPN: signature 2012-01-23, bound 2012-03-15
    by entry_into_force`; a party withdrawing, joining later or not yet bound said so."""
    groups: dict[str, list[str]] = {}
    for m in members:
        groups.setdefault(_period_text(m), []).append(m["party"])
    return "; ".join(f"{', '.join(parties)}: {period}" for period, parties in groups.items())


def _period_text(m: dict[str, Any]) -> str:
    text = f"{m['action']} {m['joined_on']}" + (
        " (joining pending: not yet in effect)" if m.get("joining_pending") else ""
    )
    if m.get("bound_on") is None:
        text += ", not yet bound"
    elif (m.get("bound_on"), m.get("bound_by")) != (m["joined_on"], m["action"]):
        text += f", bound {m['bound_on']} by {m['bound_by']}"
    if m.get("withdrew_on"):
        text += (
            f", withdrawal pending: withdrawing {m['withdrew_on']} (notice given)"
            if m.get("withdrawal_pending")
            else ""
        )
        text += "" if m.get("withdrawal_pending") else f", withdrew {m['withdrew_on']}"
    return text


def _joined_later(members: list[dict[str, Any]]) -> bool:
    """Whether a series' membership changed since it was established."""
    return any(m["withdrew_on"] or m["joined_on"] != members[0]["joined_on"] for m in members)


def _waiting(meeting: dict[str, Any]) -> str:
    return (
        f"{meeting['meeting']} planned for {meeting['planned_for']} (announced {meeting['announced_on']})"
        + _also(meeting, WAITING_SHOWN)
    )


def _note(listed: Listed, before: str = "  listed: ") -> Iterator[str]:
    """The line saying a list was cut, and how to see all of it."""
    if listed.note:
        yield before + listed.note


def _possibly_text(state: dict[str, Any], listed: Listed) -> Iterator[str]:
    """What may already have happened by the day, though not certainly: listed, not counted."""
    if state["possibly"]:
        yield f"Possibly by {state['as_of']} (dates that may or may not have come; not counted above):"
        yield from _note(listed)
        for event in listed.items:
            yield f"  {event['occurred_on']:<12} {event['type']} {event['id']}{_also(event, POSSIBLY_SHOWN)}"


def _dim(lines: list[str]) -> str:
    return "".join(f"\n[dim]{escape(line)}[/]" for line in lines)


def state_tables(state: dict[str, Any], every: bool = False) -> Iterator[Any]:
    known = f", as known at {state['known_at']}" if state["known_at"] else ""
    yield f"[bold]{state['relationship']}[/] as of {state['as_of']}{known}"
    lists = state_lists(state, every)
    yield table(
        _title("Instruments", state["instruments"], lists["instruments"]),
        ["status", "instrument", "dates", "title"],
        [
            [
                status_cell(i["status"]),
                f"{i['instrument']}\n[dim]{i['kind']}{', multilateral' * i['multilateral']}: "
                f"{', '.join(i['parties'])}[/]",
                dates_cell(
                    ("signed", i["signed_on"]),
                    ("in force", i["in_force_from"]),
                    ("expires", i["expires_on"]),
                    ("terminated", i.get("terminated_on")),
                ),
                escape(i["title"]) + _dim(_instrument_details(i)[1:]),
            ]
            for i in lists["instruments"].items
        ],
    )
    yield table(
        _title("Projects", state["projects"], lists["projects"]),
        ["status", "project", "dates", "title"],
        [
            [
                status_cell(p["status"]),
                f"{p['project']}\n[dim]{'multilateral: ' * p['multilateral']}{', '.join(p['parties'])}[/]",
                dates_cell(
                    ("launched", p["launched_on"]),
                    ("ends", _planned_end(p, state["as_of"])),
                    *((label or p["status"], p.get(name)) for name, label in _PROJECT_ENDS),
                ),
                "\n".join(f"{total} {currency}" for currency, total in p["funding"].items()),
                escape(p["title"]) + _dim(_project_details(p)[1:]),
            ]
            for p in lists["projects"].items
        ],
    )
    meetings = state["meetings"]
    rows: list[list[Any]] = []
    if meetings["last"]:
        last = meetings["last"]
        of = f"\n[dim]{ordinal(last['number'])} of {last['series']}[/]" if last["number"] else ""
        of = of or (f"\n[dim]of {last['series']}[/]" if last["series"] else "")
        rows.append(
            [
                "last held",
                f"{last['meeting']}{of}",
                last["occurred_on"],
                escape((last["venue"] or "") + _also(last, LAST_SHOWN)),
            ]
        )
    if meetings["next"]:
        upcoming = meetings["next"]
        host = f"host {upcoming['host']}" if upcoming["host"] else ""
        rows.append(["next", upcoming["meeting"], upcoming["planned_for"], host])
    for waiting in lists["overdue"].items:
        announced = f"announced {waiting['announced_on']}" + _also(waiting, WAITING_SHOWN)
        rows.append(["[yellow]overdue[/]", waiting["meeting"], waiting["planned_for"], escape(announced)])
    for waiting in lists["postponed"].items:
        postponed = f"on {waiting['postponed_on']} (announced {waiting['announced_on']})"
        rows.append(
            [
                "postponed",
                waiting["meeting"],
                waiting["planned_for"],
                escape(postponed + _also(waiting, WAITING_SHOWN)),
            ]
        )
    held = f"Meetings: {meetings['held']} held" + "".join(
        f"; {len(meetings[name])} {name}, {lists[name].note}"
        for name in ("overdue", "postponed")
        if lists[name].note
    )
    yield table(held, ["", "meeting", "when", "venue / host"], rows) if rows else held
    yield table(
        _title("Series", meetings["series"], lists["series"], counted=False),
        ["series", "held", "last no.", "title"],
        [
            [
                s["series"],
                s["held"],
                s["last_number"],
                escape(s["title"] or "")
                + (f"\n[yellow]suspended since {s['suspended_since']}[/]" if s["suspended_since"] else "")
                + _dim(_fields(s, SERIES_SHOWN)),
            ]
            for s in lists["series"].items
        ],
        justify=RIGHT,
    )
    yield from (escape(f"Meetings {line}") for line in _fields(meetings, MEETINGS_SHOWN))
    if state["possibly"]:
        listed = lists["possibly"]
        yield table(
            f"Possibly by {state['as_of']} (not counted above)" + (f"; {listed.note}" if listed.note else ""),
            ["occurred", "type", "id"],
            [[e["occurred_on"], e["type"], e["id"] + _also(e, POSSIBLY_SHOWN)] for e in listed.items],
        )
    if state.get("party_names"):
        names = "; ".join(f"{party} {name}" for party, name in state["party_names"].items())
        yield f"Parties: [dim]{escape(names)}[/]"
    yield from (escape(line[0].upper() + line[1:]) for line in _fields(state, STATE_SHOWN))


def _title(title: str, items: list[dict[str, Any]], listed: Listed, counted: bool = True) -> str:
    """A table's title: for a long list, how many by status and which are shown."""
    if listed.note is None:
        return title
    statuses = f" ({_statuses(items)})" if counted else ""
    return f"{title}: {len(items)}{statuses}; {listed.note}"


def changes_text(found: dict[str, Any]) -> Iterator[str]:
    """What changed in a state answer between two times, and the events recorded and retracted then."""
    until = found["until"] or "now"
    yield f"{found['relationship']} as of {found['as_of']}: changes from {found['since']} to {until}"
    for heading, things in (("Added", found["added"]), ("Removed", found["removed"])):
        yield f"{heading}: " + (", ".join(f"{t['kind']} {t['id']}" for t in things) or "none")
    yield "Changed:" if found["changed"] else "Changed: none"
    for change in found["changed"]:
        thing = "meetings" if change["id"] is None else f"{change['kind']} {change['id']}"
        yield f"  {thing} {_words(change['field'])}: {plain(change['before'])} -> {plain(change['after'])}"
    yield "Recorded:" if found["recorded"] else "Recorded: none"
    yield from (f"  {line}" for line in log_text(found["recorded"]))
    yield "Retracted:" if found["retracted"] else "Retracted: none"
    for envelope in found["retracted"]:
        retraction = envelope["retraction"]
        yield f"  {envelope['position']:>6}  {envelope['type']}  {summary(envelope)}"
        yield (
            f"          retracted by position {retraction['position']} at {retraction['recorded_at']} "
            f"by {retraction['recorded_by']}: {retraction['data']['reason']}"
        )


# What each row of the watch list says of its date as entered.
DUE = {
    "expiry": "expires {}",
    "renewal": "term ends (expires {}, renews itself)",
    "notice_by": "notice of termination due (expires {}, renews itself)",
    "project_end": "planned to end {}",
    "meeting": "planned for {}",
    "overdue": "planned for {}, not known to have been held",
}


def upcoming_text(rows: list[dict[str, Any]]) -> list[str]:
    return [
        f"{row['date']}  {row['what']:<11} {row['id']} ({row['relationship'] or ', '.join(row['parties'])}) "
        + DUE[row["what"]].format(row["as_entered"])
        + (f": {row['title']}" if row["title"] else "")
        for row in rows
    ]


def history_text(items: list[dict[str, Any]]) -> list[str]:
    return [
        f"{e['occurred_on']:<22} {e['position']:>6}  {e['type']:<26} {summary(e)}"
        + (" [multilateral]" if e["multilateral"] else "")
        + (f" [via {e['via']}]" if e.get("via") else "")
        + _names_then(e)
        + (f"  [RETRACTED: {e['reason']}]" if e["retracted"] else "")
        for e in items
    ]


def _names_then(event: dict[str, Any]) -> str:
    """The names, on the event's day, of the organisations it names (states keep theirs)."""
    named = [f"{p} = {n}" for p, n in (event.get("party_names") or {}).items() if not state_code(p)]
    return f" [{'; '.join(named)}]" if named else ""


def history_tables(items: list[dict[str, Any]]) -> Iterator[Any]:
    """Retracted events struck through in red with the reason; multilateral ones flagged."""
    rows, styles = [], []
    for e in items:
        notes = ["multilateral"] if e["multilateral"] else []
        notes += [f"via {e['via']}"] if e.get("via") else []
        if e["retracted"]:
            notes.append(f"[bold red]RETRACTED[/]: {escape(e['reason'])}")
        rows.append([e["occurred_on"], e["position"], e["type"], escape(summary(e)), "; ".join(notes)])
        styles.append("strike dim" if e["retracted"] else "")
    yield table(
        None, ["occurred", "position", "type", "summary", "notes"], rows, styles=styles, justify=RIGHT
    )


def drawn_text(picture: Timeline, out: Path) -> str:
    """What timeline drew: how many instruments, projects and meetings, and where."""
    kinds = [lane.kind for lane in picture.lanes]
    meetings = sum(len(lane.marks) for lane in picture.lanes if lane.kind == "series")
    counts = ", ".join(
        f"{count} {noun}{'s' * (count != 1)}"
        for noun, count in (
            ("instrument", kinds.count("instrument")),
            ("project", kinds.count("project")),
            ("meeting", meetings),
        )
    )
    return f"drew {picture.relationship} as of {picture.as_of.text} ({counts}) to {out}"

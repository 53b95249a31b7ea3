"""How the ledger's answers are shown: plain lines for a pipe, rich tables for a terminal, JSON."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import orjson

from .projections.summary import ordinal, summary

if TYPE_CHECKING:
    from .ledger.application import ImportReport
    from .ledger.verify import Verified
    from .ledger.writer import Outcome
    from .projections.timeline import Timeline

T = TypeVar("T")

STATUS_STYLES = {
    "in_force": "bold green",
    "signed": "yellow",
    "expired": "dim",
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
        echo(json_text(value))
    elif empty is not None and not value:
        echo(empty)
    elif tables is not None and sys.stdout.isatty():
        print_tables(tables(value))
    else:
        for line in text(value):
            echo(line)


def render_log(entries: Iterable[dict[str, Any]], as_json: bool, echo: Callable[[str], Any]) -> None:
    """The audit trail as it is read, never held whole: a JSON array, tables a page at a time, or lines."""
    if as_json:
        json_list(entries, sys.stdout.buffer)
    elif sys.stdout.isatty():
        print_tables(log_tables(entries))
    else:
        for line in log_text(entries):
            echo(line)


def json_text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


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
    """Text shown as is inside a rich table, square brackets included."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def status_cell(status: str) -> str:
    style = STATUS_STYLES.get(status)
    words = status.replace("_", " ")
    return f"[{style}]{words}[/]" if style else words


def dates_cell(*labelled: tuple[str, str | None]) -> str:
    """Dates as entered, one per line with its label; those not given are left out."""
    return "\n".join(f"{label} {value}" for label, value in labelled if value)


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
            json_text(value["event"]),
            "(dry run: nothing recorded)",
        ]
    return [f"recorded position {value['position']}: {line}"]


def _duplicate(value: dict[str, Any]) -> str:
    return f"duplicate of position {value['position']} {value['id']}: not recorded again"


def imported(report: ImportReport) -> dict[str, Any]:
    return {
        "recorded": report.recorded,
        "duplicates": report.duplicates,
        "first": report.first,
        "last": report.last,
    }


def imported_text(value: dict[str, Any]) -> list[str]:
    return [
        f"imported {value['recorded']} events"
        + (f" (positions {value['first']}-{value['last']})" if value["recorded"] else "")
        + f", {value['duplicates']} duplicates skipped"
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


def state_text(state: dict[str, Any]) -> Iterator[str]:
    known = f", as known at {state['known_at']}" if state["known_at"] else ""
    yield f"{state['relationship']} as of {state['as_of']}{known}"
    yield "Instruments:" if state["instruments"] else "Instruments: none"
    for i in state["instruments"]:
        dates = f"signed {i['signed_on']}"
        if i["in_force_from"]:
            dates += f", in force from {i['in_force_from']}"
        if i["expires_on"]:
            dates += f", expires {i['expires_on']}"
        if i["extensions"]:
            dates += f" (extended {len(i['extensions'])}x)"
        parties = ", ".join(i["parties"])
        yield f"  {i['status'].upper():<10} {i['instrument']} ({i['kind']}) {parties}: {i['title']}"
        yield f"             {dates}"
    yield "Projects:" if state["projects"] else "Projects: none"
    for p in state["projects"]:
        funding = ", ".join(f"{total} {currency}" for currency, total in p["funding"].items())
        end = f" to {p['planned_end']}" if p["planned_end"] else ""
        yield f"  {p['status'].upper():<10} {p['project']} {', '.join(p['parties'])}: {p['title']}"
        yield f"             launched {p['launched_on']}{end}" + (f"; funding {funding}" if funding else "")
        for change in p["scope_changes"]:
            yield f"             scope {change['occurred_on']}: {change['summary']}"
    meetings = state["meetings"]
    yield f"Meetings: {meetings['held']} held"
    if meetings["last"]:
        last = meetings["last"]
        number = f" ({ordinal(last['number'])} of {last['series']})" if last["number"] else ""
        venue = f" at {last['venue']}" if last["venue"] else ""
        yield f"  last: {last['meeting']}{number} on {last['occurred_on']}{venue}"
    if meetings["next"]:
        upcoming = meetings["next"]
        host = f", host {upcoming['host']}" if upcoming["host"] else ""
        yield f"  next: {upcoming['meeting']} planned for {upcoming['planned_for']}{host}"
    for waiting in meetings["overdue"]:
        yield f"  overdue: {_waiting(waiting)}; not known to have been held"
    for waiting in meetings["postponed"]:
        yield f"  postponed: {_waiting(waiting)}, postponed {waiting['postponed_on']} with no new date"
    for series in meetings["series"]:
        last_number = f", last number {series['last_number']}" if series["last_number"] else ""
        suspended = f", suspended since {series['suspended_since']}" if series["suspended_since"] else ""
        yield f"  series {series['series']}: {series['held']} held{last_number}{suspended}"
    yield from _possibly_text(state)
    if state.get("party_names"):
        yield "Parties: " + "; ".join(f"{party} {name}" for party, name in state["party_names"].items())


def _waiting(meeting: dict[str, Any]) -> str:
    return f"{meeting['meeting']} planned for {meeting['planned_for']} (announced {meeting['announced_on']})"


def _possibly_text(state: dict[str, Any]) -> Iterator[str]:
    """What may already have happened by the day, though not certainly: listed, not counted."""
    if state["possibly"]:
        yield f"Possibly by {state['as_of']} (dates that may or may not have come; not counted above):"
        for event in state["possibly"]:
            yield f"  {event['occurred_on']:<12} {event['type']} {event['id']}"


def state_tables(state: dict[str, Any]) -> Iterator[Any]:
    known = f", as known at {state['known_at']}" if state["known_at"] else ""
    yield f"[bold]{state['relationship']}[/] as of {state['as_of']}{known}"
    yield table(
        "Instruments",
        ["status", "instrument", "dates", "title"],
        [
            [
                status_cell(i["status"]),
                f"{i['instrument']}\n[dim]{i['kind']}: {', '.join(i['parties'])}[/]",
                dates_cell(
                    ("signed", i["signed_on"]),
                    ("in force", i["in_force_from"]),
                    ("expires", i["expires_on"]),
                    ("extended", f"{len(i['extensions'])}x" if i["extensions"] else None),
                ),
                escape(i["title"]),
            ]
            for i in state["instruments"]
        ],
    )
    yield table(
        "Projects",
        ["status", "project", "dates", "funding", "title"],
        [
            [
                status_cell(p["status"]),
                f"{p['project']}\n[dim]{', '.join(p['parties'])}[/]",
                dates_cell(("launched", p["launched_on"]), ("ends", p["planned_end"])),
                "\n".join(f"{total} {currency}" for currency, total in p["funding"].items()),
                escape(p["title"])
                + "".join(
                    f"\n[dim]scope {change['occurred_on']}: {escape(change['summary'])}[/]"
                    for change in p["scope_changes"]
                ),
            ]
            for p in state["projects"]
        ],
    )
    meetings = state["meetings"]
    rows: list[list[Any]] = []
    if meetings["last"]:
        last = meetings["last"]
        of = f"\n[dim]{ordinal(last['number'])} of {last['series']}[/]" if last["number"] else ""
        rows.append(["last held", f"{last['meeting']}{of}", last["occurred_on"], escape(last["venue"] or "")])
    if meetings["next"]:
        upcoming = meetings["next"]
        host = f"host {upcoming['host']}" if upcoming["host"] else ""
        rows.append(["next", upcoming["meeting"], upcoming["planned_for"], host])
    for waiting in meetings["overdue"]:
        rows.append(
            [
                "[yellow]overdue[/]",
                waiting["meeting"],
                waiting["planned_for"],
                f"announced {waiting['announced_on']}",
            ]
        )
    for waiting in meetings["postponed"]:
        rows.append(
            ["postponed", waiting["meeting"], waiting["planned_for"], f"on {waiting['postponed_on']}"]
        )
    held = f"Meetings: {meetings['held']} held"
    yield table(held, ["", "meeting", "when", "venue / host"], rows) if rows else held
    yield table(
        "Series",
        ["series", "held", "last no.", "title"],
        [
            [
                s["series"],
                s["held"],
                s["last_number"],
                escape(s["title"] or "")
                + (f"\n[yellow]suspended since {s['suspended_since']}[/]" if s["suspended_since"] else ""),
            ]
            for s in meetings["series"]
        ],
        justify=RIGHT,
    )
    if state["possibly"]:
        yield table(
            f"Possibly by {state['as_of']} (not counted above)",
            ["occurred", "type", "id"],
            [[e["occurred_on"], e["type"], e["id"]] for e in state["possibly"]],
        )
    if state.get("party_names"):
        yield (
            "Parties: [dim]" + escape("; ".join(f"{p} {n}" for p, n in state["party_names"].items())) + "[/]"
        )


def history_text(items: list[dict[str, Any]]) -> list[str]:
    return [
        f"{e['occurred_on']:<22} {e['position']:>6}  {e['type']:<26} {summary(e)}"
        + (" [multilateral]" if e["multilateral"] else "")
        + (f"  [RETRACTED: {e['reason']}]" if e["retracted"] else "")
        for e in items
    ]


def history_tables(items: list[dict[str, Any]]) -> Iterator[Any]:
    """Retracted events struck through in red with the reason; multilateral ones flagged."""
    rows, styles = [], []
    for e in items:
        notes = ["multilateral"] if e["multilateral"] else []
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

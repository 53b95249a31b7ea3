"""coopledger's command line: parse the arguments, call the ledger, render the answer."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from functools import cached_property, wraps
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click
import orjson

from events import DateError, Edtf, FieldError, parse_edtf, parse_json
from ledger.errors import LedgerError, Rejected
from ledger.queries import Queries, known_at
from ledger.store import locate
from projections.summary import ordinal, summary

if TYPE_CHECKING:
    from ledger.application import Ledger


class Refused(click.ClickException):
    """Bad input, an unknown party or a rejected event: exit 2."""

    exit_code = 2


class CheckFailed(click.ClickException):
    """A failed check or a lookup that finds nothing: exit 1."""

    exit_code = 1


class LedgerGroup(click.Group):
    """Turns every LedgerError into one line on stderr and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LedgerError as error:
            raise (CheckFailed if error.exit_code == 1 else Refused)(str(error)) from None


class Session:
    """What the group's options select; the ledger opens on first use.

    Queries read it with the database's own driver; only commands that write load
    eventsourcing (and, for PostgreSQL, SQLAlchemy), which takes a noticeable part of a second.
    """

    def __init__(self, db: str | None, actor: str | None):
        self.db = db
        self.actor = actor or _os_user()

    @cached_property
    def ledger(self) -> Ledger:
        from ledger.application import Ledger

        return Ledger(locate(self.db), actor=self.actor)

    @cached_property
    def queries(self) -> Queries:
        return Queries(locate(self.db))


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


pass_session = click.make_pass_decorator(Session)


# --- parameter types: bad arguments fail here, before the ledger is opened


class EdtfType(click.ParamType):
    name = "EDTF"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Edtf:
        if isinstance(value, Edtf):
            return value
        try:
            return parse_edtf(value)
        except DateError as error:
            self.fail(str(error), param, ctx)


class KnownAtType(click.ParamType):
    name = "TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            return known_at(value)
        except LedgerError as error:
            self.fail(str(error).split(": ", 1)[-1], param, ctx)


EDTF = EdtfType()
KNOWN_AT = KnownAtType()


def today() -> Edtf:
    return parse_edtf(datetime.now(UTC).date().isoformat())


# --- output


def output_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--json on every query."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(command)


def render(value: Any, as_json: bool, text: Callable[[Any], Iterable[str]]) -> None:
    if as_json:
        click.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())
    else:
        for line in text(value):
            click.echo(line)


def progress_bar(length: int, label: str) -> Any:
    """A progress bar on a terminal, nothing when stderr is not one."""
    if not sys.stderr.isatty():
        return None
    return click.progressbar(length=length, label=label, file=sys.stderr)


# --- the group


@click.group(cls=LedgerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="COOPLEDGER_DB",
    metavar="PATH_OR_URL",
    help="SQLite file or postgresql+psycopg:// URL "
    "[env COOPLEDGER_DB; default: a file in your data directory].",
)
@click.option(
    "--actor",
    envvar="COOPLEDGER_ACTOR",
    metavar="NAME",
    help="Who records events [env COOPLEDGER_ACTOR; default: your user name].",
)
@click.version_option(package_name="coopledger")
@click.pass_context
def cli(ctx: click.Context, db: str | None, actor: str | None) -> None:
    """An event-sourced ledger of international cooperation.

    Record who signed what with whom, which meetings were held and which joint projects
    ran; replay any relationship as of any date; audit who recorded what.

    Example: coopledger --db ledger.sqlite import examples/seeds.jsonl
    """
    ctx.obj = Session(db, actor)


@cli.command()
@pass_session
def init(session: Session) -> None:
    """Create the ledger's store (does nothing if it exists).

    Example: coopledger --db ledger.sqlite init
    """
    created = session.ledger.init()
    location = session.ledger.location
    click.echo(f"created the ledger at {location}" if created else f"the ledger at {location} already exists")


@cli.command()
@click.argument("event", required=False)
@click.option("--file", "file", type=click.File("rb"), help="Read the event from a file ('-' for stdin).")
@output_options
@pass_session
def append(session: Session, event: str | None, file: IO[bytes] | None, as_json: bool) -> None:
    """Append one event given as JSON (argument, --file, or stdin).

    Example: coopledger append '{"type": "InstrumentExtended", "occurred_on": "2028-12",
    "data": {"instrument": "nies-nier-mou-2024", "expires_on": "2034-03-31"}}'
    """
    if event is not None and file is not None:
        raise click.UsageError("give the event as an argument or with --file, not both")
    text = event.encode() if event is not None else (file or sys.stdin.buffer).read()
    try:
        value = parse_json(text)
    except FieldError as error:
        raise Rejected("event", error.message) from None
    outcome = session.ledger.append(value)
    render(
        {"position": outcome.position, "id": outcome.id, "duplicate": outcome.duplicate},
        as_json,
        lambda o: [
            f"duplicate of position {o['position']} {o['id']}: not recorded again"
            if o["duplicate"]
            else f"recorded position {o['position']} {o['id']}"
        ],
    )


@cli.command(name="import")
@click.argument("source", type=click.File("rb"))
@output_options
@pass_session
def import_(session: Session, source: IO[bytes], as_json: bool) -> None:
    """Append every line of a JSON Lines file in one transaction: all or nothing.

    Lines whose key (or id) is already recorded with the same content are skipped.
    SOURCE is a file, or - for stdin.

    Example: coopledger import examples/seeds.jsonl
    """
    size = _size(source)
    bar = progress_bar(size, "importing") if size else None
    if bar is None:
        report = session.ledger.import_lines(source)
    else:
        with bar:
            report = session.ledger.import_lines(source, progress=bar.update)
    result = {
        "recorded": report.recorded,
        "duplicates": report.duplicates,
        "first": report.first,
        "last": report.last,
    }
    render(
        result,
        as_json,
        lambda r: [
            f"imported {r['recorded']} events"
            + (f" (positions {r['first']}-{r['last']})" if r["recorded"] else "")
            + f", {r['duplicates']} duplicates skipped"
        ],
    )


def _size(source: IO[bytes]) -> int:
    try:
        return Path(source.name).stat().st_size if source.name not in ("<stdin>", "-") else 0
    except (OSError, TypeError):
        return 0


@cli.command()
@click.option("--out", type=click.File("wb"), default="-", help="Write to a file instead of stdout.")
@pass_session
def export(session: Session, out: IO[bytes]) -> None:
    """Print every event as JSON Lines, in position order (import reads it back).

    Example: coopledger export --out backup.jsonl
    """
    for state in session.queries.export():
        out.write(state + b"\n")


@cli.command()
@click.option("--type", "type_", metavar="TYPE", help="Only events of this type.")
@click.option("--party", metavar="PARTY", help="Only events naming this party (or its organisations).")
@click.option(
    "--since-position", type=click.IntRange(min=0), default=0, help="Only events after this position."
)
@output_options
@pass_session
def log(session: Session, type_: str | None, party: str | None, since_position: int, as_json: bool) -> None:
    """The audit trail: position, recorded_at, recorded_by, type and summary.

    Example: coopledger log --party CHN --since-position 10
    """
    entries = session.queries.audit(type_, party, since_position)
    if as_json:
        _json_list(entries)
        return
    for envelope in entries:
        click.echo(
            f"{envelope['position']:>6}  {envelope['recorded_at']}  {envelope['recorded_by']}  "
            f"{envelope['type']}  {summary(envelope)}"
        )


def _json_list(items: Iterable[Any]) -> None:
    """A JSON array written as it is read, so a long log is never held whole."""
    out = sys.stdout.buffer
    first = True
    for item in items:
        out.write(b"[\n" if first else b",\n")
        out.write(orjson.dumps(item))
        first = False
    out.write(b"[]\n" if first else b"\n]\n")


@cli.command()
@click.argument("event")
@output_options
@pass_session
def show(session: Session, event: str, as_json: bool) -> None:
    """One event in full (by id or position), its source, and whether it was retracted.

    Example: coopledger show 12
    """
    envelope, retraction = session.queries.show(event)
    value = {
        "event": envelope,
        "retracted": retraction is not None,
        "retraction": retraction,
    }
    render(value, as_json, _show_text)


def _show_text(value: dict[str, Any]) -> Iterator[str]:
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


@cli.command()
@click.option(
    "--as-of", type=EDTF, default=None, help="Count events certainly done by this day [default: today]."
)
@click.option("--exact", is_flag=True, help="Without rollup of organisations to their states.")
@output_options
@pass_session
def relationships(session: Session, as_of: Edtf | None, exact: bool, as_json: bool) -> None:
    """Every relationship with counts of what counts in it as of a day.

    Example: coopledger relationships --as-of 2019-01-31
    """
    found = session.queries.relationships((as_of or today()).day, exact)
    render(
        found,
        as_json,
        lambda rows: (
            [
                f"{r['relationship']:<24} {r['events']:>5} events  {r['instruments']:>3} instruments  "
                f"{r['projects']:>3} projects  {r['meetings']:>3} meetings  {r['first']} .. {r['last']}"
                for r in rows
            ]
            or ["no relationships yet"]
        ),
    )


def relationship_options(command: Callable[..., Any]) -> Callable[..., Any]:
    @click.argument("party_a")
    @click.argument("party_b")
    @click.option(
        "--known-at",
        "known",
        type=KNOWN_AT,
        help="Use the ledger as it stood at this time (UTC unless given).",
    )
    @click.option("--exact", is_flag=True, help="Only the two parties' own events, without rollup.")
    @output_options
    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return command(*args, **kwargs)

    return wrapper


@cli.command()
@relationship_options
@click.option("--as-of", type=EDTF, default=None, help="The day to replay to [default: today, UTC].")
@pass_session
def state(
    session: Session,
    party_a: str,
    party_b: str,
    known: str | None,
    exact: bool,
    as_json: bool,
    as_of: Edtf | None,
) -> None:
    """What the two parties had as of a day: instruments, projects and meetings.

    Example: coopledger state KOR CHN --as-of 2019-01-31
    """
    render(session.queries.state(party_a, party_b, as_of or today(), known, exact), as_json, _state_text)


def _state_text(state: dict[str, Any]) -> Iterator[str]:
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
    for series in meetings["series"]:
        last_number = f", last number {series['last_number']}" if series["last_number"] else ""
        yield f"  series {series['series']}: {series['held']} held{last_number}"


@cli.command()
@relationship_options
@click.option("--from", "start", type=EDTF, default=None, help="Events from this day.")
@click.option("--to", "end", type=EDTF, default=None, help="Events up to this day.")
@pass_session
def history(
    session: Session,
    party_a: str,
    party_b: str,
    known: str | None,
    exact: bool,
    as_json: bool,
    start: Edtf | None,
    end: Edtf | None,
) -> None:
    """The relationship's events by date, retracted ones marked.

    Example: coopledger history KOR JPN --from 2017 --to 2019
    """
    events = session.queries.history(
        party_a, party_b, start.earliest if start else None, end.day if end else None, known, exact
    )
    render(
        events,
        as_json,
        lambda items: (
            [
                f"{e['occurred_on']:<22} {e['position']:>6}  {e['type']:<26} {summary(e)}"
                + (" [multilateral]" if e["multilateral"] else "")
                + (f"  [RETRACTED: {e['reason']}]" if e["retracted"] else "")
                for e in items
            ]
            or ["no events"]
        ),
    )


@cli.command()
@click.option(
    "--digest", metavar="POSITION:HASH", help="Also prove the ledger still extends this earlier digest."
)
@pass_session
@output_options
def verify(session: Session, digest: str | None, as_json: bool) -> None:
    """Recompute the hash chain and decode every event; exit 1 at the first bad position.

    Example: coopledger verify --digest 57:3f2a…
    """
    verified = session.queries.verify(digest)
    render(
        {"ok": True, "events": verified.events, "digest": verified.digest},
        as_json,
        lambda v: [f"ok: {v['events']} events verified; digest {v['digest']}"],
    )


@cli.command()
@pass_session
@output_options
def digest(session: Session, as_json: bool) -> None:
    """Print POSITION:HASH of the ledger's head, to keep somewhere else.

    Example: coopledger digest > digest-2024-03-29.txt
    """
    position, hash_ = session.queries.digest().split(":")
    render({"position": int(position), "hash": hash_}, as_json, lambda d: [f"{d['position']}:{d['hash']}"])


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@pass_session
def backup(session: Session, file: Path) -> None:
    """Write a consistent, checked copy of every event to FILE, while others keep writing.

    The file is JSON Lines, as `export` writes; `restore` reads it back with the same
    positions and hashes. It is written whole or not at all.

    Example: coopledger backup ledger-2024-03-29.jsonl
    """
    verified = session.queries.backup(file)
    click.echo(f"backed up {verified.events} events to {file}; digest {verified.digest}")


@cli.command()
@click.argument("source", type=click.File("rb"))
@pass_session
def restore(session: Session, source: IO[bytes]) -> None:
    """Restore a backup into an empty ledger: same ids, positions, times and hashes.

    Example: coopledger --db restored.sqlite restore ledger-2024-03-29.jsonl
    """
    size = _size(source)
    bar = progress_bar(size, "restoring") if size else None
    if bar is None:
        verified = session.ledger.restore(source)
    else:
        with bar:
            verified = session.ledger.restore(source, progress=bar.update)
    click.echo(f"restored {verified.events} events; digest {verified.digest}")


@cli.command(name="grant-appender")
@click.argument("role")
@click.option("--print", "print_only", is_flag=True, help="Print the SQL instead of running it.")
@pass_session
def grant_appender(session: Session, role: str, print_only: bool) -> None:
    """Let a PostgreSQL ROLE append events but never change or remove recorded ones.

    Run it as the owner of the ledger's tables. The role gets SELECT and INSERT on the
    events, no UPDATE, DELETE or TRUNCATE, and cannot drop or disable the triggers that
    refuse those to everyone.

    Example: coopledger --db postgresql+psycopg://owner@db/ledger grant-appender coop_clerk
    """
    statements = session.ledger.grant_appender(role, apply=not print_only)
    for statement in statements:
        click.echo(f"{statement};")


@cli.command()
@pass_session
def rebuild(session: Session) -> None:
    """Rebuild every projection from the events.

    Example: coopledger rebuild
    """
    count = session.ledger.rebuild()
    click.echo(f"rebuilt the read model from {count} events")


def main() -> None:
    cli(prog_name="coopledger")


if __name__ == "__main__":
    main()

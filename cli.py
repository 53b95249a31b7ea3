"""coopledger's command line: parse the arguments, call the ledger, render the answer."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from functools import cached_property, partial
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from . import render as view
from .events import EVENT_TYPES, Edtf, FieldError, parse_edtf, parse_json
from .events.dates import today
from .ledger.errors import LedgerError, Rejected
from .ledger.queries import Queries, known_at
from .ledger.store import locate

if TYPE_CHECKING:
    from .ledger.application import Ledger

_log_tables = view.log_tables  # the name tests/test_tables.py pages the log by


class Refused(click.ClickException):
    """Bad input, an unknown party or a rejected event: exit 2 (a failed check exits 1, as click's own)."""

    exit_code = 2


SECTIONS = {
    "Record": [
        "sign",
        "enter-into-force",
        "extend",
        "amend",
        "terminate",
        "establish-series",
        "schedule",
        "meet",
        "launch",
        "fund",
        "rescope",
        "extend-project",
        "complete",
        "terminate-project",
        "retract",
        "party",
        "append",
        "import",
    ],
    "Query": ["state", "history", "relationships", "timeline", "show"],
    "Audit": ["log", "verify", "digest"],
    "Maintenance": ["init", "export", "backup", "restore", "rebuild", "grant-appender"],
}


class LedgerGroup(click.Group):
    """Turns every LedgerError into one line on stderr and its exit code; lists commands by section."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LedgerError as error:
            raise (click.ClickException if error.exit_code == 1 else Refused)(str(error)) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        listed = {name for names in SECTIONS.values() for name in names}
        unlisted = [name for name in self.commands if name not in listed]
        for section, names in [*SECTIONS.items(), ("Other", unlisted)]:
            rows = [
                (name, self.commands[name].get_short_help_str(formatter.width - 24))
                for name in names
                if name in self.commands
            ]
            if rows:
                with formatter.section(f"{section} commands"):
                    formatter.write_dl(rows)


class Session:
    """What the group's options select; the ledger opens on first use.

    Queries read it with the database's own driver; only commands that write load
    eventsourcing (and, for PostgreSQL, SQLAlchemy), which takes a noticeable part of a second.
    """

    def __init__(self, db: str | None, actor: str | None):
        self.db = db
        try:
            self.actor = actor or getpass.getuser()
        except (KeyError, OSError):
            self.actor = "unknown"

    @cached_property
    def ledger(self) -> Ledger:
        from .ledger.application import Ledger

        return Ledger(locate(self.db), actor=self.actor)

    @cached_property
    def queries(self) -> Queries:
        return Queries(locate(self.db))

    def events(self) -> int:
        """How many events the ledger holds: a progress bar's length."""
        return int(self.queries.digest().split(":")[0])


class Parsed(click.ParamType):
    """A value read by one of the ledger's parsers: bad ones fail here (exit 2), before the ledger opens."""

    def __init__(self, name: str, parse: Callable[[str], Any]):
        self.name, self.parse = name, parse

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return self.parse(value) if isinstance(value, str) else value  # else read already
        except ValueError as error:
            self.fail(str(error), param, ctx)
        except LedgerError as error:  # its message names the option, as click's does
            self.fail(str(error).split(": ", 1)[-1], param, ctx)


EDTF = Parsed("EDTF", parse_edtf)
KNOWN_AT = Parsed("TIME", known_at)


pass_session = click.make_pass_decorator(Session)
output_options = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
exact_option = click.option("--exact", is_flag=True, help="Only the two parties' own events, without rollup.")
as_of_option = click.option("--as-of", type=EDTF, help="The day to replay to [default: today, UTC].")
dry_run_option = click.option(
    "--dry-run", is_flag=True, help="Check the event and show it, without recording it."
)
render = partial(view.render, echo=click.echo)
with_progress = partial(view.with_progress, bar=click.progressbar)


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

    Shell completion (bash; zsh_source and fish_source for the others):
    eval "$(_COOPLEDGER_COMPLETE=bash_source coopledger)"
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
    render(view.appended(session.ledger.append(value)), as_json, view.appended_text)


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
    report = with_progress(
        "importing", lambda: view.size(source), partial(session.ledger.import_lines, source)
    )
    render(view.imported(report), as_json, view.imported_text)


@cli.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to a file (whole, or not at all) instead of stdout.",
)
@pass_session
def export(session: Session, out: Path | None) -> None:
    """Print every event as JSON Lines, in position order (import reads it back).

    Example: coopledger export --out backup.jsonl
    """
    if out is None or str(out) == "-":  # no progress on stdout: it would mix with the events
        view.json_lines(session.queries.export(), sys.stdout.buffer)
        return

    def write(path: Path) -> None:
        with path.open("wb") as target:
            lines = session.queries.export()
            with_progress("exporting", session.events, lambda p: view.json_lines(lines, target, p))

    view.write_whole(out, write)


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
    if type_ is not None and type_ not in EVENT_TYPES:
        from difflib import get_close_matches

        close = get_close_matches(type_, EVENT_TYPES, n=1, cutoff=0.5)
        hint = f"did you mean {close[0]}?" if close else f"one of {', '.join(EVENT_TYPES)}"
        raise LedgerError(f"--type {type_!r}: not an event type ({hint})")
    view.render_log(session.queries.audit(type_, party, since_position), as_json, click.echo)


@cli.command()
@click.argument("event")
@output_options
@pass_session
def show(session: Session, event: str, as_json: bool) -> None:
    """One event in full (by id or position), its source, and whether it was retracted.

    Example: coopledger show 12
    """
    render(view.shown(*session.queries.show(event)), as_json, view.show_text)


@cli.command()
@click.option("--as-of", type=EDTF, help="Count events certainly done by this day [default: today].")
@click.option("--exact", is_flag=True, help="Without rollup of organisations to their states.")
@output_options
@pass_session
def relationships(session: Session, as_of: Edtf | None, exact: bool, as_json: bool) -> None:
    """Every relationship with counts of what counts in it as of a day.

    Example: coopledger relationships --as-of 2019-01-31
    """
    found = session.queries.relationships((as_of or today()).day, exact)
    render(found, as_json, view.relationships_text, view.relationships_tables, empty="no relationships yet")


def relationship_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """PARTY_A PARTY_B, --known-at, --exact and --json: what state and history share."""
    known = click.option(
        "--known-at",
        "known",
        type=KNOWN_AT,
        help="Use the ledger as it stood at this time (UTC unless given).",
    )
    return click.argument("party_a")(click.argument("party_b")(known(exact_option(output_options(command)))))


@cli.command()
@relationship_options
@as_of_option
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
    found = session.queries.state(party_a, party_b, as_of or today(), known, exact)
    render(found, as_json, view.state_text, view.state_tables)


@cli.command()
@click.argument("party_a")
@click.argument("party_b")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The picture to write: FILE.svg or FILE.png.",
)
@as_of_option
@click.option("--known-at", "known", type=KNOWN_AT, help="Use the ledger as it stood at this time.")
@exact_option
@pass_session
def timeline(
    session: Session,
    party_a: str,
    party_b: str,
    out: Path,
    as_of: Edtf | None,
    known: str | None,
    exact: bool,
) -> None:
    """Draw the relationship over time: instruments and projects as bars, meetings as marks.

    Hatched ends are imprecise dates, hollow marks meetings announced but not held.

    Example: coopledger timeline KOR CHN --as-of 2019-01-31 --out korea-china.svg
    """
    from .projections.timeline import SUFFIXES, draw

    if out.suffix.lower() not in SUFFIXES:
        raise click.BadParameter(f"{out.name!r}: name the picture FILE.svg or FILE.png", param_hint="'--out'")
    picture = session.queries.timeline(party_a, party_b, as_of or today(), known, exact)
    view.write_whole(out, lambda path: draw(picture, path))
    click.echo(view.drawn_text(picture, out))


@cli.command()
@relationship_options
@click.option("--from", "start", type=EDTF, help="Events from this day.")
@click.option("--to", "end", type=EDTF, help="Events up to this day.")
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
    if start and end and start.earliest > end.day:
        raise LedgerError(f"--from {start.text} is after --to {end.text}")
    events = session.queries.history(
        party_a, party_b, start.earliest if start else None, end.day if end else None, known, exact
    )
    render(events, as_json, view.history_text, view.history_tables, empty="no events")


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
    verified = with_progress("verifying", session.events, lambda p: session.queries.verify(digest, p))
    render(view.verified(verified), as_json, view.verified_text)


@cli.command()
@pass_session
@output_options
def digest(session: Session, as_json: bool) -> None:
    """Print POSITION:HASH of the ledger's head, to keep somewhere else.

    Example: coopledger digest > digest-2024-03-29.txt
    """
    render(view.head(session.queries.digest()), as_json, view.digest_text)


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@pass_session
def backup(session: Session, file: Path) -> None:
    """Write a consistent, checked copy of every event to FILE, while others keep writing.

    The file is JSON Lines, as `export` writes; `restore` reads it back with the same
    positions and hashes. It is written whole or not at all.

    Example: coopledger backup ledger-2024-03-29.jsonl
    """
    try:
        verified = session.queries.backup(file)
    except OSError as error:
        raise LedgerError(f"{file}: cannot write there ({error.strerror or error})") from None
    click.echo(f"backed up {verified.events} events to {file}; digest {verified.digest}")


@cli.command()
@click.argument("source", type=click.File("rb"))
@pass_session
def restore(session: Session, source: IO[bytes]) -> None:
    """Restore a backup into an empty ledger: same ids, positions, times and hashes.

    Example: coopledger --db restored.sqlite restore ledger-2024-03-29.jsonl
    """
    verified = with_progress("restoring", lambda: view.size(source), partial(session.ledger.restore, source))
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
    count = with_progress("rebuilding", session.events, lambda p: session.ledger.rebuild(p))
    click.echo(f"rebuilt the read model from {count} events")


# --- friendly verbs: one command per event type, one option per field


class PersonType(click.ParamType):
    """A signatory or head of delegation: NAME|TITLE|PARTY (title and party may be left out)."""

    name = "NAME|TITLE|PARTY"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, dict):
            return value
        parts: list[str] = str(value).split("|")
        if not parts[0].strip() or len(parts) > 3:
            self.fail(f"{value!r}: write NAME|TITLE|PARTY, e.g. 'Dr. Osako|Director|NIES'", param, ctx)
        return {key: field for key, field in zip(("name", "title", "party"), parts, strict=False) if field}


class FundingType(click.ParamType):
    """A grant: AMOUNT CURRENCY [SOURCE], e.g. '300000 USD Korea-ASEAN Special Cooperation Fund'."""

    name = "AMOUNT CURRENCY [SOURCE]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, dict):
            return value
        parts = value.split(maxsplit=2)
        if len(parts) < 2:
            self.fail(f"{value!r}: write AMOUNT CURRENCY [SOURCE], e.g. '300000 USD'", param, ctx)
        grant = {"amount": parts[0], "currency": parts[1]}
        return grant | ({"source": parts[2]} if len(parts) == 3 else {})


# verb: (event type, the field given as the argument, help)
VERBS: dict[str, tuple[str, str, str]] = {
    "sign": ("InstrumentSigned", "instrument", "Record an instrument (MOU, agreement, ...) signed."),
    "enter-into-force": (
        "InstrumentEnteredIntoForce",
        "instrument",
        "Record an instrument entering into force.",
    ),
    "extend": ("InstrumentExtended", "instrument", "Record an instrument extended to a new expiry."),
    "amend": ("InstrumentAmended", "instrument", "Record an amendment of an instrument."),
    "terminate": ("InstrumentTerminated", "instrument", "Record an instrument terminated."),
    "establish-series": ("SeriesEstablished", "series", "Record a series of meetings established."),
    "schedule": ("MeetingScheduled", "meeting", "Record a meeting announced (or rescheduled)."),
    "meet": ("MeetingHeld", "meeting", "Record a meeting held."),
    "launch": ("ProjectLaunched", "project", "Record a joint project launched."),
    "fund": ("ProjectFunded", "project", "Record funding given to a project."),
    "rescope": ("ProjectScopeChanged", "project", "Record a project's scope broadened or changed."),
    "extend-project": ("ProjectExtended", "project", "Record a project extended to a new planned end."),
    "complete": ("ProjectCompleted", "project", "Record a project completed."),
    "terminate-project": ("ProjectTerminated", "project", "Record a project ended early."),
    "retract": ("EventRetracted", "event", "Retract an event recorded by mistake (by position or id)."),
}
EXAMPLES = {
    "sign": "coopledger sign nies-nier-mou-2024 --kind mou --title 'MOU on waste recycling' "
    "--party NIES --party NIER --on 2024-03-19 --expires-on 2029-03-31",
    "enter-into-force": "coopledger enter-into-force kor-usa-agreement --on 2012-03-15",
    "extend": "coopledger extend nies-nier-mou-2024 --expires-on 2034-03-31 --on 2029-05",
    "amend": "coopledger amend nies-nier-mou-2024 --summary 'Adds plastics' --on 2025-02",
    "terminate": "coopledger terminate nies-nier-mou-2024 --reason 'Superseded' --on 2030",
    "establish-series": "coopledger establish-series rok-china-jcec --title 'ROK-China Joint Committee' "
    "--party KOR --party CHN --on 199X",
    "schedule": "coopledger schedule rok-china-jcec-24 --party KOR --party CHN --planned-for 2019-41 "
    "--series rok-china-jcec --number 24 --host CHN --on 2019-01-23",
    "meet": "coopledger meet rok-china-jcec-23 --party KOR --party CHN --series rok-china-jcec --number 23 "
    "--venue 'Lotte Hotel, Seoul' --head 'Kwon Sei-joong|Director-General|KOR' --on 2019-01-23",
    "launch": "coopledger launch clean-sky-project --title 'Clean Sky Project' --party KOR --party CHN "
    "--funding '600000 USD' --on 2017-05",
    "fund": "coopledger fund korea-asean-forest-restoration --amount 300000 --currency USD "
    "--on 2012-07/2013-06",
    "rescope": "coopledger rescope clean-sky-project --summary 'Adds fine dust trajectories' --on 2019-01-23",
    "extend-project": "coopledger extend-project clean-sky-project --planned-end 2025 --on 2022",
    "complete": "coopledger complete clean-sky-project --summary 'Final report published' --on 2025-06",
    "terminate-project": "coopledger terminate-project clean-sky-project --reason 'Funding ended' --on 2021",
    "retract": "coopledger retract 12 --reason 'Recorded twice'",
    "party add": "coopledger party add NIER --name 'National Institute of Environmental Research' "
    "--kind agency --country KOR --on 2024-03-29",
}
# How a list field is written as a repeated option, and what each field means.
SINGULAR = {
    "parties": "party",
    "aliases": "alias",
    "areas": "area",
    "topics": "topic",
    "outcomes": "outcome",
    "signatories": "signatory",
    "heads_of_delegation": "head",
    "funding": "funding",
}
FIELD_HELP = {
    "kind": "What it is",
    "title": "Its title",
    "parties": "A party",
    "signatories": "A signatory",
    "in_force_from": "In force from (EDTF)",
    "expires_on": "Expires on (EDTF)",
    "extension_terms": "How it may be extended",
    "areas": "An area of cooperation",
    "place": "Where",
    "under": "The instrument it comes under",
    "basis": "On what basis",
    "summary": "What changed",
    "reason": "Why",
    "cadence": "How often (e.g. annual)",
    "hosts": "Who hosts (e.g. alternating)",
    "planned_for": "When it is planned (EDTF)",
    "series": "The series it belongs to",
    "number": "Its number in the series",
    "venue": "Where it is held",
    "host": "The hosting party",
    "heads_of_delegation": "A head of delegation",
    "topics": "A topic discussed",
    "outcomes": "An outcome",
    "planned_end": "Planned end (EDTF)",
    "funding": "A grant",
    "amount": "The amount, a decimal",
    "currency": "ISO 4217 code, e.g. USD",
    "source": "Who pays",
    "name": "Its full name",
    "country": "The state it belongs to",
    "aliases": "Another id for it",
}


def _field_option(field: Any, hint: Any) -> Callable[[Any], Any]:
    """The option for one field of an event: a list field is a repeated option."""
    from dataclasses import MISSING
    from types import UnionType
    from typing import Literal, Union, get_args, get_origin

    from .events.catalog import Funding, Person

    many = get_origin(hint) is tuple
    if many:
        inner = get_args(hint)[0]
    elif get_origin(hint) in (Union, UnionType):  # an optional field: X | None
        inner = next(arg for arg in get_args(hint) if arg is not type(None))
    else:
        inner = hint
    if get_origin(inner) is Literal:
        kind: Any = click.Choice(get_args(inner))
    else:
        kind = {Person: PersonType(), Funding: FundingType(), int: click.INT}.get(inner, click.STRING)
    metavar = (
        "EDTF" if inner is Edtf else (kind.name if isinstance(kind, (PersonType, FundingType)) else None)
    )
    required = field.default is MISSING and field.default_factory is MISSING
    explained = FIELD_HELP.get(field.name, field.name.replace("_", " ").capitalize())
    return click.option(
        "--" + SINGULAR.get(field.name, field.name).replace("_", "-"),
        field.name,
        type=kind,
        multiple=many,
        required=required,
        metavar=metavar,
        help=f"{explained}{' (repeat the option for each)' if many else ''}.",
    )


def _event_value(
    type_: str,
    data: dict[str, Any],
    on: str | None,
    note: str | None,
    key: str | None,
    source: dict[str, Any],
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "type": type_,
        "data": {k: list(v) if isinstance(v, tuple) else v for k, v in data.items() if v not in (None, ())},
    }
    for name, field in (("occurred_on", on), ("note", note), ("key", key)):
        if field is not None:
            value[name] = field
    if source:
        value["source"] = source
    return value


def _verb(name: str, type_: str, subject: str, help_text: str, group: click.Group) -> None:
    from dataclasses import fields
    from typing import get_type_hints

    from .events import EVENT_TYPES

    cls = EVENT_TYPES[type_]
    hints = get_type_hints(cls)

    @pass_session
    def command(
        session: Session,
        dry_run: bool,
        as_json: bool,
        on: str | None,
        note: str | None,
        key: str | None,
        **data: Any,
    ) -> None:
        source = {
            field: data.pop(f"source_{field}")
            for field in ("title", "url", "publisher", "published_on", "page")
        }
        data = {subject: data.pop(subject), **data}
        value = _event_value(type_, data, on, note, key, {k: v for k, v in source.items() if v is not None})
        outcome = session.ledger.append(value, dry_run=dry_run)
        render(view.recorded(outcome, dry_run), as_json, lambda value: view.recorded_text(value, dry_run))

    for field in reversed(fields(cls)):
        if field.name != subject:
            command = _field_option(field, hints[field.name])(command)
    for source_field in ("page", "published_on", "publisher", "url", "title"):
        option = f"--source-{source_field.replace('_', '-')}"
        command = click.option(
            option, f"source_{source_field}", help=f"The source's {source_field.replace('_', ' ')}."
        )(command)
    command = click.option("--key", help="An idempotency key: recording it again changes nothing.")(command)
    command = click.option("--note", help="A note kept with the event.")(command)
    command = click.option(
        "--on",
        "on",
        metavar="EDTF",
        required=type_ != "EventRetracted",
        help="When it happened (EDTF: 2024-03-19, 2017-05, 2019-41, 2012~).",
    )(command)
    command = dry_run_option(command)
    command = output_options(command)
    command = click.argument(subject)(command)
    command.__doc__ = f"{help_text}\n\nExample: {EXAMPLES[name if group is cli else 'party ' + name]}"
    group.command(name=name)(command)


@cli.group()
def party() -> None:
    """Parties other than states: agencies, organisations, frameworks.

    Example: coopledger party add NIER --name 'National Institute of Environmental Research'
    --kind agency --country KOR --on 2024-03-29
    """


for _name, (_type, _subject, _help) in VERBS.items():
    _verb(_name, _type, _subject, _help, cli)
_verb("add", "PartyRegistered", "party", "Register a party that is not a state.", party)


def main() -> None:
    cli(prog_name="coopledger")


if __name__ == "__main__":
    main()

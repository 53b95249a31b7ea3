"""coopledger's command line: parse the arguments, call the ledger, render the answer."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import IO, Any

import click

from . import render as view
from .events import DateError, Edtf, FieldError, parse_asked, parse_json, verbs
from .events.fields import MAX_INT, Yes
from .events.verbs import EXAMPLES, PARTY_VERBS, VERBS
from .ledger.errors import LedgerError, Rejected
from .ledger.files import ledger_files
from .ledger.queries import known_at
from .ledger.session import Session


class Refused(click.ClickException):
    """Bad input, an unknown party or a rejected event: exit 2 (a failed check exits 1, as click's own)."""

    exit_code = 2


SECTIONS = {
    "Record": [*VERBS, "party", "append", "import"],
    "Query": ["state", "history", "changes", "upcoming", "relationships", "timeline", "show", "serve"],
    "Audit": ["log", "verify", "digest"],
    "Maintenance": ["init", "export", "backup", "restore", "rebuild", "grant-appender", "daemon"],
}


class VerbGroup(click.Group):
    """A group whose record verbs are built when first named: their options come from the event
    catalog, and building all of them would cost every command, `state` included, their time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unbuilt: dict[str, Callable[[], click.Command]] = {}

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.unbuilt:
            self.add_command(self.unbuilt.pop(name)(), name)
        return super().get_command(ctx, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.unbuilt})


class LedgerGroup(VerbGroup):
    """Turns every LedgerError into one line on stderr and its exit code; lists commands by section."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (LedgerError, DateError) as error:  # a DateError: dates that cannot go together
            failed = getattr(error, "exit_code", 2) == 1
            raise (click.ClickException if failed else Refused)(str(error)) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        commands = {name: self.get_command(ctx, name) for name in self.list_commands(ctx)}
        for section, rows in view.sections(SECTIONS, commands, formatter.width - 24):
            with formatter.section(f"{section} commands"):
                formatter.write_dl(rows)


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


EDTF = Parsed("EDTF", parse_asked)
KNOWN_AT = Parsed("TIME", known_at)
MOMENT = Parsed("TIME", partial(known_at, day_ends=False))
WITHIN = Parsed("DURATION", verbs.parse_within)


pass_session = click.make_pass_decorator(Session)
output_options = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
exact_option = click.option("--exact", is_flag=True, help="Only the two parties' own events, without rollup.")
as_of_option = click.option("--as-of", type=EDTF, help="The day to replay to [default: today, UTC].")
dry_run_option = click.option(
    "--dry-run", is_flag=True, help="Check the event and show it, without recording it."
)
render = partial(view.render, echo=click.echo)
DB_HELP = (
    "SQLite file or postgresql+psycopg:// URL [env COOPLEDGER_DB; default: a file in your data directory]."
)
ACTOR_HELP = "Who records events [env COOPLEDGER_ACTOR; default: your user name]."
with_progress = partial(view.with_progress, bar=click.progressbar)


@click.group(cls=LedgerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", envvar="COOPLEDGER_DB", metavar="PATH_OR_URL", help=DB_HELP)
@click.option("--actor", envvar="COOPLEDGER_ACTOR", metavar="NAME", help=ACTOR_HELP)
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
    """Create the ledger's store, or bring one made by an earlier version up to this one (does
    nothing if it is current).

    Example: coopledger --db ledger.sqlite init
    """
    click.echo(view.initialised(session.store.init(), session.store.location))


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
    render(view.appended(session.store.append(value)), as_json, view.appended_text)


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
        "importing", lambda: view.size(source), partial(session.store.import_lines, source)
    )
    render(view.imported(report), as_json, view.imported_text)


@cli.command()
@click.option("--format", "format_", type=click.Choice(view.EXPORT_FORMATS), default="jsonl")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="The file (whole, or not at all; jsonl: stdout without it), or for csv the directory.",
)
@as_of_option
@click.option("--reporting-org", metavar="REF", help="iati: the reporting organisation's IATI identifier.")
@click.option("--reporting-org-type", metavar="CODE", default="10", help="iati: its type [10: government].")
@click.option("--reporting-org-name", metavar="NAME", help="iati: its name [default: REF].")
@pass_session
def export(session: Session, format_: str, out: Path | None, as_of: Edtf | None, **iati: str | None) -> None:
    """Every event as JSON Lines in position order (import reads it back), or the things as of a
    day as CSV tables (--format csv --out DIR) or IATI 2.03 activities (--format iati).

    Example: coopledger export --format csv --as-of 2024-12-31 --out tables
    """
    exported = view.export(session.queries, format_, out, as_of, with_progress, **iati)
    if exported:
        click.echo(exported)


@cli.command()
@click.option("--type", "type_", metavar="TYPE", help="Only events of this type.")
@click.option("--party", metavar="PARTY", help="Only events naming this party (or its organisations).")
@click.option(
    "--since-position", type=click.IntRange(0, MAX_INT), default=0, help="Only events after this position."
)
@output_options
@pass_session
def log(session: Session, type_: str | None, party: str | None, since_position: int, as_json: bool) -> None:
    """The audit trail: position, recorded_at, recorded_by, type and summary.

    Example: coopledger log --party CHN --since-position 10
    """
    problem = verbs.unknown_type(type_) if type_ is not None else None
    if problem:
        raise LedgerError(f"--type {type_!r}: {problem}")
    view.render_log(session.queries.audit(type_, party, since_position), as_json, click.echo)


@cli.command()
@click.argument("event")
@output_options
@pass_session
def show(session: Session, event: str, as_json: bool) -> None:
    """One event in full (by position, id or key), its source, and whether it was retracted.

    Example: coopledger show rok-china-jcec-23/held
    """
    render(view.shown(*session.queries.show(event)), as_json, view.show_text)


@cli.command()
@click.option("--as-of", type=EDTF, help="Count events certainly done by this day [default: today].")
@click.option("--exact", is_flag=True, help="Without rollup of organisations to their states.")
@output_options
@pass_session
def relationships(session: Session, as_of: Edtf | None, exact: bool, as_json: bool) -> None:
    """Every relationship with counts of what counts in it as of a day, first and last dates as entered.

    Example: coopledger relationships --as-of 2019-01-31
    """
    found = [row.released() for row in session.ledger.relationships(as_of, exact)]
    render(found, as_json, view.relationships_text, view.relationships_tables, empty="no relationships yet")


def relationship_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """PARTY_A PARTY_B, --known-at, --exact and --json: what state and history share."""
    known = click.option("--known-at", type=KNOWN_AT, help="Use the ledger as it stood at this time (UTC).")
    lang = click.option(
        "--lang", metavar="TAG", help="Name parties in this language where recorded (e.g. ko)."
    )
    # Named as the Python API names them (`Ledger.state`, `Ledger.history`): passed on as asked.
    return click.argument("a", metavar="PARTY_A")(
        click.argument("b", metavar="PARTY_B")(known(lang(exact_option(output_options(command)))))
    )


@cli.command()
@relationship_options
@as_of_option
@click.option(
    "--all",
    "every",
    is_flag=True,
    help=f"List every thing in text, not the {view.LISTED} most recent of a long list.",
)
@pass_session
def state(session: Session, as_json: bool, every: bool, **asked: Any) -> None:
    """What the two parties had as of a day: instruments, projects and meetings. A long list
    shows in text its counts by status and its most recent items (--all: every one).

    Example: coopledger state KOR CHN --as-of 2019-01-31
    """
    found = session.ledger.state(**asked).released()
    render(found, as_json, partial(view.state_text, every=every), partial(view.state_tables, every=every))


@cli.command()
@click.argument("party_a")
@click.argument("party_b")
@click.option("--since", required=True, type=MOMENT, help="From this time (a date: its start; UTC).")
@click.option("--until", type=MOMENT, help="To this time (a date: its start) [default: now].")
@as_of_option
@exact_option
@output_options
@pass_session
def changes(session: Session, as_json: bool, **asked: Any) -> None:
    """What changed in the answer to `state A B --as-of D` between two times, and the events
    recorded or retracted in between, with who recorded them.

    Example: coopledger changes KOR CHN --since 2024-01-01 --as-of 2019-01
    """
    render(session.queries.changes(**asked), as_json, view.changes_text)


@cli.command()
@click.option("--within", type=WITHIN, default="180d", show_default=True, help="How far ahead: 26w, 6m, 1y.")
@click.option("--party", metavar="PARTY", help="Only things of this party (or its organisations).")
@as_of_option
@output_options
@pass_session
def upcoming(session: Session, as_json: bool, **asked: Any) -> None:
    """What falls due: instruments expiring or up for renewal notice, projects reaching their
    planned end, meetings planned, and meetings overdue, by date.

    Example: coopledger upcoming --within 6m --party CHN --as-of 2019-01
    """
    rows = session.queries.upcoming(**asked)
    render(rows, as_json, view.upcoming_text, empty=f"nothing falls due within {asked['within'].text}")


@cli.command()
@click.argument("a", metavar="PARTY_A")
@click.argument("b", metavar="PARTY_B")
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
def timeline(session: Session, out: Path, **asked: Any) -> None:
    """Draw the relationship over time: instruments and projects as bars, meetings as marks.

    Hatched ends are imprecise dates, hollow marks meetings announced but not held.

    Example: coopledger timeline KOR CHN --as-of 2019-01-31 --out korea-china.svg
    """
    from .projections.timeline import SUFFIXES, draw

    if out.suffix.lower() not in SUFFIXES:
        raise click.BadParameter(f"{out.name!r}: name the picture FILE.svg or FILE.png", param_hint="'--out'")
    picture = session.queries.timeline(**asked)
    view.write_whole(out, lambda path: draw(picture, path), ledger_files(session.queries.location))
    click.echo(view.drawn_text(picture, out))


@cli.command()
@relationship_options
@click.option("--from", "start", type=EDTF, help="Events from this day.")
@click.option("--to", "end", type=EDTF, help="Events up to this day.")
@pass_session
def history(session: Session, as_json: bool, **asked: Any) -> None:
    """The relationship's events by date, retracted ones marked.

    Example: coopledger history KOR JPN --from 2017 --to 2019
    """
    events = [e.released() for e in session.ledger.history(**asked)]
    render(events, as_json, view.history_text, view.history_tables, empty="no events")


@cli.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="0: any.")
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@pass_session
def serve(session: Session, port: int, host: str) -> None:
    """A read-only web page of the ledger on this machine: relationships, states as of a day,
    histories with sources, timelines, events; the same as JSON under /api/.

    Example: coopledger --db example.sqlite serve --port 8000
    """
    from .web import serve as run

    run(session.ledger.location, host, port, click.echo)


@cli.command()
@click.option(
    "--digest", metavar="POSITION:HASH", help="Also prove the ledger still extends this earlier digest."
)
@pass_session
@output_options
def verify(session: Session, digest: str | None, as_json: bool) -> None:
    """Check the chain, every event, the rules replayed and the read model; exit 1 at a problem.

    Example: coopledger verify --digest 57:3f2a…
    """
    verified = with_progress("verifying", session.events, lambda p: session.queries.verify(digest, p))
    render(view.verified(verified), as_json, view.verified_text)
    click.echo("".join(f"{line}\n" for line in view.warnings_text(verified)), err=True, nl=False)


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
    click.echo(view.backed_up(session.queries, file))


@cli.command()
@click.argument("source", type=click.File("rb"))
@pass_session
def restore(session: Session, source: IO[bytes]) -> None:
    """Restore a backup into an empty ledger: same ids, positions, times and hashes.

    Example: coopledger --db restored.sqlite restore ledger-2024-03-29.jsonl
    """
    verified = with_progress("restoring", lambda: view.size(source), partial(session.store.restore, source))
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
    statements = session.store.grant_appender(role, apply=not print_only)
    for statement in statements:
        click.echo(f"{statement};")


@cli.command()
@pass_session
def rebuild(session: Session) -> None:
    """Rebuild every projection from the events.

    Example: coopledger rebuild
    """
    count = with_progress("rebuilding", session.events, lambda p: session.store.rebuild(p))
    click.echo(f"rebuilt the read model from {count} events")


# --- friendly verbs: one command per event type, one option per field, read as its kind (else text)
TYPES: dict[Any, click.ParamType] = {
    int: click.INT,
    Edtf: Parsed("EDTF", str),  # text here: checked with the event, where an error names its field
    **{kind: Parsed(metavar, parse) for kind, (metavar, parse) in verbs.WRITTEN.items()},
}


def _verb(group: click.Group, name: str, type_: str, subject: str, help_text: str) -> click.Command:
    @pass_session
    def command(session: Session, dry_run: bool, as_json: bool, **given: Any) -> None:
        outcome = session.store.append(verbs.event_value(type_, subject, given), dry_run=dry_run)
        render(view.recorded(outcome, dry_run), as_json, lambda value: view.recorded_text(value, dry_run))
        if outcome.envelope and verbs.warning(outcome.envelope):  # said on stderr, after the answer
            click.echo(verbs.warning(outcome.envelope), err=True)

    for spec in reversed(verbs.options(type_, subject)):
        kind = click.Choice(spec.kind) if isinstance(spec.kind, tuple) else TYPES.get(spec.kind, click.STRING)
        read = {"is_flag": True} if spec.kind is Yes else {"type": kind, "multiple": spec.many}
        command = click.option(spec.flag, spec.name, required=spec.required, help=spec.help, **read)(command)
    command = click.argument(subject)(output_options(dry_run_option(command)))
    example = EXAMPLES[name if group is cli else f"{group.name} {name}"]
    return click.command(name=name, help=f"{help_text}\n\nExample: {example}")(command)


@cli.group(cls=VerbGroup)
def party() -> None:
    """Parties other than states: agencies, organisations, frameworks.

    Example: coopledger party add NIER --name 'National Institute of Environmental Research'
    --kind agency --country KOR --on 2024-03-29
    """


for _group, _verbs in ((cli, VERBS), (party, PARTY_VERBS)):
    for _name, (_type, _subject, _help) in _verbs.items():
        _group.unbuilt[_name] = partial(_verb, _group, _name, _type, _subject, _help)
cli.unbuilt["daemon"] = lambda: importlib.import_module(".daemon", __package__).command


def main() -> None:
    cli(prog_name="coopledger")


if __name__ == "__main__":
    main()

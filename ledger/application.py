"""The ledger over eventsourcing's store and the read model: append, import, restore and rebuild."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from ..events import FieldError, decode, parse_event, parse_json
from ..events.envelope import CONTENT_FIELDS
from ..projections import readmodel as sql
from .chain import ENVELOPE_FIELDS, GENESIS
from .errors import LedgerError, LineError, Rejected
from .queries import PAGE, Progress, Queries, Verified, timestamp
from .store import Cursor, Database, Location, PostgresDatabase, database
from .writer import Outcome, Writer


class _DryRun(Exception):
    def __init__(self, outcome: Outcome):
        self.outcome = outcome


def utc_now() -> str:
    return timestamp(datetime.now(UTC))


@dataclass(frozen=True)
class ImportReport:
    recorded: int
    duplicates: int
    first: int | None  # position of the first event recorded
    last: int | None


class Ledger(Queries):
    """The ledger: one stream of events in eventsourcing's store, plus its read model."""

    db: Database

    def __init__(self, location: Location, actor: str = ""):
        self.location = location
        self.actor = actor
        self.db = database(location)

    # --- setting up

    def init(self) -> bool:
        """Create the store; False when it was already there."""
        with self.db.writing() as cursor:
            return self._create(cursor)

    def _create(self, cursor: Cursor) -> bool:
        if self.db.has_schema(cursor):
            return False
        self.db.create(cursor)
        return True

    @contextmanager
    def _writing(self) -> Iterator[Writer]:
        """A write transaction; it creates the store, and undoes that too if it fails."""
        with self.db.writing() as cursor:
            self._create(cursor)
            writer = Writer(self.db, cursor, self.actor, utc_now())
            yield writer
            writer.finish()

    # --- recording

    def append(self, value: Any, dry_run: bool = False) -> Outcome:
        """Append one event given as a parsed JSON object; a dry run decides it, then rolls back."""
        try:
            with self._writing() as writer:
                try:
                    outcome = writer.append(parse_event(value, writer.resolver()))
                except FieldError as error:
                    raise Rejected(error.path, error.message) from None
                if dry_run:
                    raise _DryRun(outcome)
                return outcome
        except _DryRun as dry:
            return dry.outcome

    def import_lines(self, lines: Iterable[bytes], progress: Progress | None = None) -> ImportReport:
        """Append every line in one transaction: all of them, or none."""
        recorded = duplicates = 0
        first = last = None
        with self._writing() as writer:
            for number, line in enumerate(lines, start=1):
                if progress:
                    progress(len(line))
                if not line.strip():
                    continue
                try:
                    outcome = writer.append(parse_event(parse_json(line), writer.resolver()))
                except (FieldError, Rejected) as error:
                    raise LineError(number, str(error)) from None
                if outcome.duplicate:
                    duplicates += 1
                else:
                    recorded += 1
                    first, last = first or outcome.position, outcome.position
                if number % PAGE == 0:
                    writer.flush()
        return ImportReport(recorded, duplicates, first, last)

    # --- reading the whole log, in position order

    # --- relationships

    # --- integrity

    def restore(self, lines: Iterable[bytes], progress: Progress | None = None) -> Verified:
        """Record a backup into an empty ledger as it was: same ids, positions, times and hashes."""
        with self._writing() as writer:
            if writer.position:
                raise LedgerError(
                    f"restore needs an empty ledger; {self.location} holds {writer.position} events"
                )
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
            restored = Verified(writer.position, f"{writer.position}:{writer.hash}")
        return restored

    def grant_appender(self, role: str, apply: bool = True) -> list[str]:
        """Grant a PostgreSQL role what it needs to append and nothing that rewrites history."""
        self.require()
        if not isinstance(self.db, PostgresDatabase):
            raise LedgerError(
                "roles are a PostgreSQL matter: on a SQLite file, file permissions decide who writes"
            )
        statements = self.db.appender_grants(role)
        if apply:
            self.db.grant(statements)
        return statements

    def rebuild(self, progress: Progress | None = None) -> int:
        """Recreate every read model table from the events; returns how many were replayed."""
        self.require()
        with self.db.writing() as cursor:
            for table in sql.TABLES[1:]:
                cursor.run(f"DELETE FROM {table}")
            cursor.run(sql.SET_HEAD, (0, GENESIS, ""))
            writer = Writer(self.db, cursor)
            count = 0
            for _, _, state in self.stored_states():
                envelope = orjson.loads(state)
                writer.apply(decode(envelope))
                count += 1
                if count % PAGE == 0:
                    writer.flush()
                if progress:
                    progress(1)
            writer.finish()
        return count


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

"""The ledger: a store (eventsourcing's recorder beside the read model) and the queries that
read it; append, import, restore and rebuild."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from itertools import islice
from typing import Any

import orjson

from ..events import FieldError, decode, parse_event
from ..projections import readmodel as sql
from .chain import GENESIS
from .errors import LedgerError, Rejected
from .files import made_whole
from .heap import uncollected
from .importer import PAGE, ImportReport, import_lines, restore_lines
from .queries import Progress, Queries, timestamp
from .store import Cursor, Location, PostgresDatabase, database
from .verify import Verified
from .writer import Outcome, Writer


class _DryRun(Exception):
    def __init__(self, outcome: Outcome):
        self.outcome = outcome


def utc_now() -> str:
    return timestamp(datetime.now(UTC))


class Ledger:
    """The ledger: one stream of events in eventsourcing's store, plus its read model, written
    through `store` and read through `queries`."""

    def __init__(self, location: Location, actor: str = ""):
        self.location = location
        self.actor = actor
        self.queries = Queries(location)
        self.store = database(location)

    # What is asked of a ledger without changing it is answered by its queries.
    ASKED = frozenset(
        {
            "export",
            "audit",
            "show",
            "state",
            "timeline",
            "history",
            "changes",
            "upcoming",
            "relationships",
            "digest",
            "verify",
            "backup",
        }
    )

    def __getattr__(self, name: str) -> Any:
        if name in self.ASKED:
            return getattr(self.queries, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def close(self) -> None:
        self.queries.close()
        self.store.close()

    # --- setting up

    def init(self) -> str:
        """Create the store, or bring one made by an earlier version up to this one: `created`,
        `upgraded`, `guarded` (its triggers only) or `current`. A SQLite file is made whole, as by
        a first write (`_made`)."""
        with self._made() as ledger, ledger.store.writing() as cursor:
            done = ledger._create(cursor)
            if done == "current" and not ledger.store.guarded(cursor):
                # Triggers of an earlier version, which this one writes under as well: laid anew
                # here only, so that a write by a role that may not lay them goes on.
                ledger.store.create(cursor)
                return "guarded"
            return done

    def _create(self, cursor: Cursor) -> str:
        """Create the store if it is not there, or bring it up to this version: its read model
        laid out anew and refilled, its triggers, and the contract it keeps from its next event."""
        if not self.store.has_schema(cursor):
            self.store.create(cursor)
            return "created"
        if self.store.current(cursor):
            return "current"
        self._upgrade(cursor)
        return "upgraded"

    def _upgrade(self, cursor: Cursor, progress: Progress | None = None) -> int:
        """Lay the read model out anew, as this version does, and fill it from the events."""
        self.store.lay_out_anew(cursor)
        with self.store.bulk(cursor):
            return self._replay(cursor, progress)

    @contextmanager
    def _made(self) -> Iterator[Ledger]:
        """The ledger a write goes to: this one, or, for a SQLite file that is not there yet, one
        made whole beside its path, which takes the path only if the write succeeds
        (`files.made_whole`)."""
        path = self.location.path
        if path is None or path.exists():
            yield self
            return
        with made_whole(path) as staged:
            if staged is None:  # made by another process meanwhile
                yield self
                return
            ledger = Ledger(Location(path=staged, named=path), self.actor)
            try:
                yield ledger
            finally:
                ledger.close()

    @contextmanager
    def _writing(self, bulk: bool = False) -> Iterator[Writer]:
        """A write transaction; it creates the store, and undoes that too if it fails."""
        with self._made() as ledger, ledger.store.writing() as cursor:
            ledger._create(cursor)
            with ledger.store.bulk(cursor) if bulk else nullcontext():
                writer = Writer(ledger.store, cursor, self.actor, utc_now())
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

    @uncollected
    def import_lines(self, lines: Iterable[bytes], progress: Progress | None = None) -> ImportReport:
        """Append every line in one transaction: all of them, or none."""
        with self._writing(bulk=True) as writer:
            return import_lines(writer, lines, progress)

    # --- integrity

    @uncollected
    def restore(self, lines: Iterable[bytes], progress: Progress | None = None) -> Verified:
        """Record a backup into an empty ledger as it was: same ids, positions, times and hashes."""
        with self._writing(bulk=True) as writer:
            if writer.position:
                raise LedgerError(
                    f"restore needs an empty ledger; {self.location} holds {writer.position} events"
                )
            restore_lines(writer, lines, progress)
            restored = Verified(writer.position, f"{writer.position}:{writer.hash}")
        return restored

    def grant_appender(self, role: str, apply: bool = True) -> list[str]:
        """Grant a PostgreSQL role what it needs to append and nothing that rewrites history."""
        self.queries.require(read_model=False)
        if not isinstance(self.store, PostgresDatabase):
            raise LedgerError(
                "roles are a PostgreSQL matter: on a SQLite file, file permissions decide who writes"
            )
        statements = self.store.appender_grants(role)
        if apply:
            self.store.grant(role, statements)
        return statements

    @uncollected
    def rebuild(self, progress: Progress | None = None) -> int:
        """Recreate every read model table from the events; returns how many were replayed."""
        self.queries.require(read_model=False)
        with self.store.writing() as cursor:
            if not self.store.current(cursor):
                return self._upgrade(cursor, progress)
            self.store.rebuilding(cursor)
            with self.store.bulk(cursor):
                for table in sql.TABLES[1:]:
                    cursor.run(f"DELETE FROM {table}")
                return self._replay(cursor, progress)

    def _replay(self, cursor: Cursor, progress: Progress | None) -> int:
        cursor.run(sql.SET_HEAD, (0, GENESIS, ""))
        writer = Writer(self.store, cursor)
        count = 0
        envelopes = (orjson.loads(state) for _, _, state in self.queries.stored_states())
        while page := list(islice(envelopes, PAGE)):
            writer.prefetch(page)
            for envelope in page:
                writer.apply(decode(envelope))
                if progress:
                    progress(1)
            count += len(page)
            writer.flush()
        writer.finish()
        return count

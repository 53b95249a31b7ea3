"""The ledger as a service: append, import, export, query, verify and rebuild."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import orjson
from eventsourcing.application import Application

from events import EVENT_TYPES, Edtf, FieldError, decode, parse_event, parse_json
from events.envelope import CONTENT_FIELDS
from ledger import rules
from ledger.chain import ENVELOPE_FIELDS, GENESIS, unseal
from ledger.errors import LedgerError, LineError, NotFound, Rejected, VerificationFailed
from ledger.store import LEDGER_ID, Cursor, Location, PostgresDatabase, database, environment, missing
from ledger.writer import Outcome, Writer
from projections import readmodel as sql
from projections import relationship as folds
from projections.membership import relationship_id

PAGE = 1000  # events between flushes of a long write
SCAN = 10_000  # events read at a time by export, verify, backup and rebuild
Progress = Callable[[int], None]


def utc_now() -> str:
    return timestamp(datetime.now(UTC))


def timestamp(moment: datetime) -> str:
    """Recording times: UTC, microseconds, one fixed width so text order is time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def known_at(text: str) -> str:
    """--known-at: an ISO 8601 date (the end of that day) or timestamp, UTC without an offset."""
    try:
        if len(text) == 10:
            return timestamp(datetime.combine(date.fromisoformat(text), time.max, UTC))
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise LedgerError(
            f"--known-at {text!r}: expected an ISO 8601 date or timestamp, e.g. 2019-01-31 or "
            "2019-01-31T09:00:00+09:00"
        ) from None
    return timestamp(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


@dataclass(frozen=True)
class ImportReport:
    recorded: int
    duplicates: int
    first: int | None  # position of the first event recorded
    last: int | None


@dataclass(frozen=True)
class Verified:
    events: int
    digest: str


class Ledger(Application):  # type: ignore[type-arg]
    """The ledger: one stream of events in eventsourcing's store, plus its read model."""

    name = "coopledger"

    def __init__(self, location: Location, actor: str = ""):
        self.location = location
        self.actor = actor
        super().__init__(env=environment(location))
        self.db = database(self.recorder, location)

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

    def require(self) -> None:
        """Queries need a store: they never create one."""
        if not self.db.exists():
            raise missing(self.location)

    @contextmanager
    def _writing(self) -> Iterator[Writer]:
        """A write transaction; it creates the store, and undoes that too if it fails."""
        with self.db.writing() as cursor:
            self._create(cursor)
            writer = Writer(self.db, cursor, self.actor, utc_now())
            yield writer
            writer.finish()

    # --- recording

    def append(self, value: Any) -> Outcome:
        """Append one event given as a parsed JSON object."""
        with self._writing() as writer:
            try:
                return writer.append(parse_event(value, writer.resolver()))
            except FieldError as error:
                raise Rejected(error.path, error.message) from None

    def import_lines(self, lines: Iterable[bytes], progress: Progress | None = None) -> ImportReport:
        """Append every line in one transaction: all of them, or none."""
        recorded: list[int] = []
        duplicates = 0
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
                    recorded.append(outcome.position)
                if number % PAGE == 0:
                    writer.flush()
        return ImportReport(
            len(recorded), duplicates, recorded[0] if recorded else None, recorded[-1] if recorded else None
        )

    # --- reading the whole log, in position order

    def stored_states(self, after: int = 0) -> Iterator[tuple[int, str, bytes]]:
        """(position, topic, stored JSON) of every event after a position, page by page.

        This reads the event store's table directly, not through `recorder.select_events`:
        building a StoredEvent and a UUID per row would cost verify and rebuild half their speed.
        """
        while True:
            with self.db.reading() as cursor:
                page = cursor.rows(self.db.statements["events"], (self.db.ledger_id, after, SCAN))
            for version, topic, state in page:
                # Whatever the column holds is checked: a text value written over a blob too.
                yield version, topic, state.encode() if isinstance(state, str) else bytes(state)
            if len(page) < SCAN:
                return
            after = page[-1][0]

    def export(self) -> Iterator[bytes]:
        self.require()
        for _, _, state in self.stored_states():
            yield state

    def audit(
        self, type_: str | None = None, party: str | None = None, since: int = 0
    ) -> Iterator[dict[str, Any]]:
        """The audit trail in position order, optionally of one type or one party."""
        self.require()
        filters, params = "", []
        if type_:
            filters += sql.OF_TYPE
            params.append(type_)
        if party:
            filters += sql.OF_PARTY
            params.append(sql.naming(self.party(party)))
        statement = self.db.statements["log"].format(filters=filters)
        after = since
        while True:
            with self.db.reading() as cursor:
                rows = cursor.rows(statement, (self.db.ledger_id, after, *params, PAGE))
            for (state,) in rows:
                envelope = orjson.loads(state)
                after = envelope["position"]
                yield envelope
            if len(rows) < PAGE:
                return

    def show(self, reference: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """One event by id or position, and the retraction of it if there is one."""
        self.require()
        position = reference.isascii() and reference.isdigit()
        if position and len(reference) > 15:
            raise NotFound(f"no event {reference} in the ledger")
        column = "position" if position else "id"
        value: int | str = int(reference) if position else reference.lower()
        with self.db.reading() as cursor:
            rows = cursor.rows(sql.LOG_ROW.format(column=column), (value,))
            if not rows:
                raise NotFound(f"no event {reference if position else repr(reference)} in the ledger")
            position, _, _, retracted_by = rows[0]
            envelope = self._envelope(cursor, position)
            retraction = self._envelope(cursor, retracted_by) if retracted_by else None
        return envelope, retraction

    def _envelope(self, cursor: Any, position: int) -> dict[str, Any]:
        rows = cursor.rows(self.db.statements["event"], (self.db.ledger_id, position))
        return orjson.loads(rows[0][0])

    # --- relationships

    def party(self, written: str) -> str:
        """The id of a known party as written (any case, alpha-2, alias)."""
        with self.db.reading() as cursor:

            def get(key: tuple[str, str]) -> dict[str, Any] | None:
                rows = cursor.rows(sql.ENTITY, key)
                return orjson.loads(rows[0][0]) if rows else None

            def registered() -> list[str]:
                return [row[0] for row in cursor.rows(sql.REGISTERED)]

            try:
                return rules.party_resolver(get, registered)(written)
            except LookupError as error:
                raise LedgerError(str(error.args[0])) from None

    def relationship(self, a: str, b: str) -> str:
        self.require()
        first, second = self.party(a), self.party(b)
        if first == second:
            raise LedgerError(f"{a} and {b} are the same party; a relationship needs two")
        return relationship_id(first, second)

    def entries(self, rel: str, until: date | None) -> list[folds.Entry]:
        """The relationship's events up to a day (all when None), with their retractions."""
        with self.db.reading() as cursor:
            rows = cursor.rows(
                self.db.statements["relationship"],
                (self.db.ledger_id, rel, (until or date.max).isoformat()),
            )
            retractions = {
                position: decode(self._envelope(cursor, position))
                for position in {row[2] for row in rows if row[2]}
            }
        return [
            folds.Entry(
                decode(orjson.loads(state)),
                bool(exact),
                bool(multilateral),
                retractions.get(retracted_by) if retracted_by else None,
            )
            for exact, multilateral, retracted_by, state in rows
        ]

    def state(
        self, a: str, b: str, as_of: Edtf, known: str | None = None, exact: bool = False
    ) -> dict[str, Any]:
        rel = self.relationship(a, b)
        return folds.state(rel, self.entries(rel, as_of.day), as_of, known, exact)

    def history(
        self,
        a: str,
        b: str,
        start: date | None = None,
        end: date | None = None,
        known: str | None = None,
        exact: bool = False,
    ) -> list[dict[str, Any]]:
        rel = self.relationship(a, b)
        return folds.history(self.entries(rel, end), start, end, known, exact)

    def relationships(self, as_of: date, exact: bool = False) -> list[dict[str, Any]]:
        """Every relationship with what counts in it as of a day."""
        self.require()
        statement = self.db.statements["relationships"].format(filters="AND r.exact = 1" if exact else "")
        with self.db.reading() as cursor:
            rows = cursor.rows(statement, (as_of.isoformat(),))
        found: dict[str, dict[str, Any]] = {}
        counted = {
            "InstrumentSigned": "instruments",
            "ProjectLaunched": "projects",
            "MeetingHeld": "meetings",
        }
        for rel, type_, count, first, last in rows:
            item = found.setdefault(
                rel,
                {
                    "relationship": rel,
                    "events": 0,
                    "instruments": 0,
                    "projects": 0,
                    "meetings": 0,
                    "first": first,
                    "last": last,
                },
            )
            item["events"] += count
            if type_ in counted:
                item[counted[type_]] += count
            item["first"], item["last"] = min(item["first"], first), max(item["last"], last)
        return [found[rel] for rel in sorted(found)]

    # --- integrity

    def digest(self) -> str:
        """POSITION:HASH of the last recorded event."""
        self.require()
        last = self.recorder.select_events(LEDGER_ID, desc=True, limit=1)
        if not last:
            return f"0:{GENESIS}"
        envelope = orjson.loads(last[0].state)
        return f"{envelope['position']}:{envelope['hash']}"

    def verify(self, digest: str | None = None, progress: Progress | None = None) -> Verified:
        """Recompute the chain and decode every event; raise at the first bad position."""
        self.require()
        expected = _parse_digest(digest) if digest else None
        previous, position = GENESIS, 0
        for version, topic, state in self.stored_states():
            position += 1
            if version != position:
                raise VerificationFailed(f"position {position}: missing (the next stored event is {version})")
            previous = _check_stored(position, topic, state, previous)
            if expected and expected[0] == position and expected[1] != previous:
                raise VerificationFailed(f"position {position}: does not match the digest {digest}")
            if progress:
                progress(1)
        if expected and expected[0] > position:
            raise VerificationFailed(
                f"position {position + 1}: missing; the digest {digest} names a longer ledger"
            )
        with self.db.reading() as cursor:
            head_position, head_hash, _ = cursor.rows(sql.HEAD)[0]
        if (head_position, head_hash) != (position, previous):
            raise VerificationFailed(
                f"position {min(head_position, position) + 1}: the ledger head says {head_position}:"
                f"{head_hash[:12]}… but the events end at {position}:{previous[:12]}…"
            )
        return Verified(position, f"{position}:{previous}")

    def backup(self, path: Path) -> Verified:
        """Write every event up to the head as it is now, checked, to a file (written whole or not at all)."""
        self.require()
        last = int(self.digest().split(":")[0])
        partial = path.with_name(path.name + ".partial")
        previous = GENESIS
        with partial.open("wb") as out:
            for position, topic, state in self.stored_states():
                if position > last:
                    break  # written after the backup began
                previous = _check_stored(position, topic, state, previous)
                out.write(state + b"\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
        return Verified(last, f"{last}:{previous}")

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


def _parse_digest(digest: str) -> tuple[int, str]:
    position, _, hash_ = digest.partition(":")
    if not position.isdigit() or len(hash_) != 64:
        raise LedgerError(f"--digest {digest!r}: expected POSITION:HASH as printed by `coopledger digest`")
    return int(position), hash_.lower()


_STORED_FIELDS = frozenset((*ENVELOPE_FIELDS, "hash"))


def _check_stored(position: int, topic: str, state: bytes, previous: str) -> str:
    """The hash of one stored event, checked against what it says of itself.

    The event is decoded (its JSON, its envelope's fields, its type and position), and the
    hash recomputed from its stored bytes, which are the canonical envelope with the hash last.
    """
    try:
        envelope = orjson.loads(state)
    except orjson.JSONDecodeError:
        raise VerificationFailed(f"position {position}: the stored event is not JSON") from None
    if type(envelope) is not dict or not _STORED_FIELDS.issuperset(envelope):
        raise VerificationFailed(f"position {position}: the stored envelope has unknown fields")
    type_ = envelope.get("type")
    if envelope.get("position") != position or type_ not in EVENT_TYPES or topic != f"events:{type_}":
        raise VerificationFailed(
            f"position {position}: the stored event says it is position {envelope.get('position')}"
            f" of type {type_}"
        )
    sealed = unseal(previous, state)
    if sealed is None or sealed[0] != envelope.get("hash") or sealed[0] != sealed[1]:
        raise VerificationFailed(
            f"position {position}: the hash does not match the event and the chain before it"
        )
    return sealed[1]

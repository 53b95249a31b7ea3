"""Reading the ledger: state, history, the audit log, verification and backups.

Queries open the database with its own driver (see `ledger.store.Reader`): they never import
eventsourcing or SQLAlchemy, and never create a store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import orjson

from ..events import Edtf, FieldError, Recorded, parse_stored
from ..projections import readmodel as sql
from ..projections import relationship as folds
from ..projections import things
from ..projections import timeline as timelines
from ..projections.membership import relationship_id
from ..projections.parties import party_name
from . import rules
from .chain import GENESIS
from .errors import LedgerError, NotFound, VerificationFailed
from .files import ledger_files, write_whole
from .store import Location, Reader, missing, reader
from .verify import Verification, Verified, check_stored

PAGE = 1000  # rows of the audit log read at a time
SCAN = 10_000  # events read at a time by export, verify, backup and rebuild
Progress = Callable[[int], None]


def timestamp(moment: datetime) -> str:
    """Recording times: UTC, microseconds, one fixed width so text order is time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def readable(position: int, state: Any) -> Recorded:
    """A stored event a query may print: one the ledger could have stored, else an error (exit 1)
    naming its position, never a traceback or garbage."""
    try:
        envelope = orjson.loads(state)
        if (
            type(envelope) is dict
            and envelope.get("position") == position
            and isinstance(envelope.get("hash"), str)
        ):
            draft = parse_stored(envelope, str)  # its parties as stored
            return Recorded(position, draft.type, draft.occurred_on, draft.data, envelope)
    except (orjson.JSONDecodeError, FieldError):
        pass
    raise VerificationFailed(f"position {position}: the stored event cannot be read; run `coopledger verify`")


def _thing(cursor: Any, key: tuple[str, str]) -> Any:
    """A thing's state from the read model, or None; a row that cannot be read is an error (exit 1)."""
    rows = cursor.rows(sql.THING, key)
    if not rows:
        return None
    try:
        return things.decode(key[0], rows[0][0])
    except (orjson.JSONDecodeError, LookupError, TypeError, ValueError, AttributeError):
        raise VerificationFailed(
            f"coopledger_things: the row of {key[0]} {key[1]!r} cannot be read; run `coopledger rebuild`"
        ) from None


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


class Queries:
    """What can be asked of a ledger without changing it."""

    def __init__(self, location: Location):
        self.location = location
        self.db: Reader = reader(location)

    def close(self) -> None:
        self.db.close()

    def require(self) -> None:
        """Queries need a store: they never create one."""
        if not self.db.exists():
            raise missing(self.location)

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
        """Every stored event, each checked against the chain as it is read: nothing unreadable
        or altered is written out (the first such event raises, naming its position)."""
        self.require()
        previous = GENESIS
        for position, topic, state in self.stored_states():
            previous = check_stored(position, topic, state, previous)[0]
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
            for position, state in rows:
                after = position
                yield readable(position, state).envelope
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
        return self._event(cursor, position).envelope

    def _event(self, cursor: Any, position: int) -> Recorded:
        rows = cursor.rows(self.db.statements["event"], (self.db.ledger_id, position))
        return readable(position, rows[0][0])

    def party(self, written: str) -> str:
        """The id of a known party as written (any case, alpha-2, alias)."""
        with self.db.reading() as cursor:

            def get(key: tuple[str, str]) -> Any:
                return _thing(cursor, key)

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
        """The relationship's events that possibly happened by a day (all when None), with their
        retractions: those certainly done by then count, the others are listed as possible."""
        with self.db.reading() as cursor:
            rows = cursor.rows(
                self.db.statements["relationship"],
                (self.db.ledger_id, rel, (until or date.max).isoformat()),
            )
            retractions = {
                position: self._event(cursor, position) for position in {row[2] for row in rows if row[2]}
            }
        return [
            folds.Entry(
                readable(position, state),
                bool(exact),
                bool(multilateral),
                retractions.get(retracted_by) if retracted_by else None,
            )
            for exact, multilateral, retracted_by, position, state in rows
        ]

    def state(
        self,
        a: str,
        b: str,
        as_of: Edtf,
        known: str | None = None,
        exact: bool = False,
        lang: str | None = None,
    ) -> dict[str, Any]:
        rel = self.relationship(a, b)
        return folds.state(rel, self.entries(rel, as_of.day), as_of, known, exact, self.namer(lang))

    def namer(self, lang: str | None = None) -> folds.Namer:
        """Names of parties on a day (in a language, where one was recorded)."""
        parties: dict[str, Any] = {}

        def name(party: str, day: date) -> str:
            if party not in parties:
                with self.db.reading() as cursor:
                    parties[party] = _thing(cursor, ("party", party))
            return party_name(party, parties[party], day, lang)

        return name

    def timeline(
        self, a: str, b: str, as_of: Edtf, known: str | None = None, exact: bool = False
    ) -> timelines.Timeline:
        """The relationship's picture as of a day, titled with the parties in the order asked."""
        rel = self.relationship(a, b)
        named = f"{self.party(a)}–{self.party(b)}"
        return timelines.build(named, self.entries(rel, as_of.day), as_of, known, exact)

    def history(
        self,
        a: str,
        b: str,
        start: date | None = None,
        end: date | None = None,
        known: str | None = None,
        exact: bool = False,
        lang: str | None = None,
    ) -> list[dict[str, Any]]:
        rel = self.relationship(a, b)
        return folds.history(self.entries(rel, end), start, end, known, exact, self.namer(lang))

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

    def digest(self) -> str:
        """POSITION:HASH of the last recorded event."""
        self.require()
        with self.db.reading() as cursor:
            last = cursor.rows(self.db.statements["last"], (self.db.ledger_id,))
        if not last:
            return f"0:{GENESIS}"
        position, state = last[0]
        return f"{position}:{readable(position, state).envelope['hash']}"

    def verify(self, digest: str | None = None, progress: Progress | None = None) -> Verified:
        """Check the events and the read model (see `ledger.verify`); raise at the first problem."""
        self.require()
        with self.db.reading() as cursor:
            return Verification(self.db, cursor, digest, progress).run()

    def backup(self, path: Path) -> Verified:
        """Write every event up to the head as it is now, checked, to a file (written whole or not at all)."""
        self.require()
        last = int(self.digest().split(":")[0])
        previous = GENESIS

        def write(partial: Path) -> None:
            nonlocal previous
            with partial.open("wb") as out:
                for position, topic, state in self.stored_states():
                    if position > last:
                        break  # written after the backup began
                    previous = check_stored(position, topic, state, previous)[0]
                    out.write(state + b"\n")

        write_whole(path, write, str(path), ledger_files(self.location))
        return Verified(last, f"{last}:{previous}")

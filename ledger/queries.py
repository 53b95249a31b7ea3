"""Reading the ledger: state, history, the audit log, verification and backups.

Queries open the database with its own driver (see `ledger.store.Reader`): they never import
eventsourcing or SQLAlchemy, and never create a store. What only verification, exports and the
timeline use (`ledger.verify`, `ledger.chain` with hashlib, `projections.timeline`) is imported
by the methods that use it: a `state` does not pay for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ..events import Edtf, FieldError, Recorded, parse_stored
from ..events.dates import Duration, today
from ..projections import changes as changed
from ..projections import readmodel as sql
from ..projections import relationship as folds
from ..projections import things, upcoming
from ..projections.membership import relationship_id
from ..projections.parties import party_name, successions
from . import rules
from .errors import LedgerError, NotFound, VerificationFailed
from .files import ledger_files, write_whole
from .heap import uncollected
from .store import Location, Reader, missing, reader

if TYPE_CHECKING:
    from ..projections.timeline import Timeline
    from .verify import Verified
    from .whole import Whole

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


def stored_thing(cursor: Any, key: tuple[str, str]) -> Any:
    """A thing's state from the read model, or None; a row that cannot be read is an error (exit 1)."""
    rows = cursor.rows(sql.THING, key)
    return thing_state(key, rows[0][0]) if rows else None


# What typing a damaged read-model row again raises.
UNREADABLE = (orjson.JSONDecodeError, LookupError, TypeError, ValueError, AttributeError)


def thing_state(key: tuple[str, str], stored: str) -> Any:
    """A thing's state as the read model keeps it; a row that cannot be read is an error (exit 1)."""
    try:
        return things.decode(key[0], stored)
    except UNREADABLE:
        raise VerificationFailed(
            f"coopledger_things: the row of {key[0]} {key[1]!r} cannot be read; run `coopledger rebuild`"
        ) from None


def stored_snapshot(key: tuple[str, str], row: Sequence[Any]) -> things.Snapshot:
    """A thing's snapshot as the read model keeps it; a row that cannot be read is an error (exit 1)."""
    try:
        return things.stored_snapshot(key, *row)
    except UNREADABLE:
        raise VerificationFailed(
            f"coopledger_snapshots: a row of {key[0]} {key[1]!r} cannot be read; run `coopledger rebuild`"
        ) from None


def thing_on(cursor: Any, key: things.Key, day: date) -> Any:
    """A thing as of a day: its latest snapshot by then (None: not founded by then)."""
    rows = cursor.rows(sql.SNAPSHOT_ON, (*key, day.isoformat()))
    return stored_snapshot(key, rows[0]).state if rows else None


def known_at(text: str, day_ends: bool = True) -> str:
    """--known-at: an ISO 8601 date (the end of that day; its start unless `day_ends`) or
    timestamp, UTC without an offset."""
    try:
        if len(text) == 10:
            return timestamp(
                datetime.combine(date.fromisoformat(text), time.max if day_ends else time.min, UTC)
            )
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise LedgerError(
            f"--known-at {text!r}: expected an ISO 8601 date or timestamp, e.g. 2019-01-31 or "
            "2019-01-31T09:00:00+09:00"
        ) from None
    return timestamp(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


class Queries:
    """What can be asked of a ledger without changing it."""

    def __init__(self, location: Location, read_only: bool = False):
        self.location = location
        self.db: Reader = reader(location, read_only)

    def close(self) -> None:
        self.db.close()

    def require(self, read_model: bool = True) -> None:
        """Queries need a store (they never create one) and, most of them, its read model as this
        version lays it out (they never rebuild it)."""
        if not self.db.exists():
            raise missing(self.location)
        if read_model:
            with self.db.reading() as cursor:
                current = self.db.current(cursor)
            if not current:
                raise LedgerError(
                    f"the ledger at {self.location} was written by an earlier version of coopledger; "
                    "`coopledger rebuild` brings its read model up to date (it replays the events: "
                    "nothing recorded changes)"
                )

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
        from .chain import GENESIS
        from .verify import check_stored

        self.require(read_model=False)
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
        """One event by position, id or key, and the retraction of it if there is one."""
        self.require()
        position = reference.isascii() and reference.isdigit()
        if position and len(reference) > 15:
            raise NotFound(f"no event {reference} in the ledger")
        # A number is a position; anything else an id (any case), else a key (as written).
        lookups = (
            [("position", int(reference))] if position else [("id", reference.lower()), ("key", reference)]
        )
        with self.db.reading() as cursor:
            rows: list[sql.Row] = []
            for column, value in lookups:
                rows = rows or cursor.rows(sql.LOG_ROW.format(column=column), (value,))
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
                return stored_thing(cursor, key)

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
        day = (until or date.max).isoformat()
        return self._entries(self.db.statements["relationship"], (rel, day, day))

    def _entries(self, statement: str, params: tuple[Any, ...]) -> list[folds.Entry]:
        with self.db.reading() as cursor:
            return self._read_entries(cursor, statement, params)

    def _read_entries(self, cursor: Any, statement: str, params: tuple[Any, ...]) -> list[folds.Entry]:
        """Events as a relationship sees them: rows of (exact, multilateral, retracted_by,
        position, state, via)."""
        rows = cursor.rows(statement, (self.db.ledger_id, *params))
        retractions = {
            position: self._event(cursor, position) for position in {row[2] for row in rows if row[2]}
        }
        return [
            folds.Entry(
                readable(position, state),
                bool(exact),
                bool(multilateral),
                retractions.get(retracted_by) if retracted_by else None,
                via,
            )
            for exact, multilateral, retracted_by, position, state, via in rows
        ]

    def whole(self, until: date, entries: Iterable[folds.Entry]) -> folds.Things:
        """The events that shape one thing by a day, whichever pairs they belong to: read only when
        the pair does not have them all already. How many each thing has is read at once for
        the things of `entries` (the pair's), one query a thing for any other."""
        day = until.isoformat()
        keys = {
            key
            for entry in entries
            if entry.event.day is not None and entry.event.day <= until
            for key in things.subjects(entry.event.data)
            if key[0] in folds.MEMBERSHIP_KINDS
        }
        counts: dict[things.Key, int] = dict.fromkeys(keys, 0)
        if keys:
            with self.db.reading() as cursor:
                found = cursor.rows(
                    self.db.statements["thing_counts"], (orjson.dumps(sorted(keys)).decode(), day)
                )
            counts.update(((kind, slug), count) for kind, slug, count in found)

        def thing(key: things.Key, mine: list[folds.Entry]) -> list[folds.Entry]:
            count = counts.get(key)
            if count is None:
                with self.db.reading() as cursor:
                    (count,) = cursor.rows(self.db.statements["thing_count"], (*key, day))[0]
            if count == len(mine):
                return mine
            return self._entries(self.db.statements["thing"], (*key, day))

        return thing

    def party_states(self, known: str | None = None) -> Callable[[str], Any]:
        """Registered parties' states (None for a state or an unknown id), as known at a time,
        each read once."""
        return cache(lambda party: self._party(party, known))

    def country_of(self, states: Callable[[str], Any] | None = None) -> Callable[[str], str | None]:
        """The state each registered party belongs to (None for a state or a party with none)."""
        states = states or self.party_states()
        return lambda party: state.country if (state := states(party)) else None

    @uncollected
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
        now = self.party_states()
        countries, taken_over = self.country_of(now), self.successions(now)
        namer = self.namer(lang, known, None if known else now)
        if known is None and not exact:
            pair = folds.Pair.of(rel, countries, exact, folds.heirs_by(taken_over, as_of.day))
            snapshotted = self._from_snapshots(rel, as_of.day, pair)
            if snapshotted is not None:
                folded, possible = snapshotted
                folded.successions = taken_over
                return folds.view(rel, folded, possible, as_of, known, exact, namer, pair)
        entries = self.entries(rel, as_of.day)
        whole = self.whole(as_of.day, entries)
        return folds.state(rel, entries, as_of, known, exact, namer, whole, countries, taken_over)

    def _from_snapshots(
        self, rel: str, until: date, pair: folds.Pair
    ) -> tuple[folds.Folded, list[folds.Entry]] | None:
        """The pair's things as of a day from their snapshots (`relationship.from_snapshots`),
        and its events that possibly happened by then; None when the fold must answer."""
        day = until.isoformat()
        with self.db.reading() as cursor:
            shaping: dict[things.Key, list[tuple[str, int]]] = {}
            for kind, slug, on, position in cursor.rows(self.db.statements["pair_things"], (rel, day, day)):
                shaping.setdefault((kind, slug), []).append((on, position))
            # In the order of the snapshots' key, so that each seek finds the pages of the one
            # before it in the cache (0.7x the time of the pair's founding order, for 45k things).
            keys = orjson.dumps(sorted(shaping)).decode()
            snapshots = {
                (kind, slug): stored_snapshot((kind, slug), row)
                for kind, slug, *row in cursor.rows(self.db.statements["snapshots_on"], (keys, day))
            }
            possible = self._read_entries(cursor, self.db.statements["possible"], (rel, day, day, day))
        folded = folds.from_snapshots(shaping, snapshots, possible, until, pair, self._snapshot_on(until))
        return (folded, possible) if folded is not None else None

    def _snapshot_on(self, day: date) -> Callable[[things.Key], Any]:
        """Any thing as of a day (`_as_of`), each read once."""

        @cache
        def state(key: things.Key) -> Any:
            with self.db.reading() as cursor:
                return thing_on(cursor, key, day)

        return state

    def successions(
        self, states: Callable[[str], Any] | None = None
    ) -> Callable[[str], list[tuple[str, date, int]]]:
        """Who took over a party, from which day: its successors, theirs, and so on (each party
        asked once: a busy pair's members are asked for every one of its things)."""
        states = states or self.party_states()
        return cache(lambda party: successions(party, states))

    @contextmanager
    def whole_ledger(self, day: date) -> Iterator[Whole]:
        """The whole ledger as of a day, a thing or an event at a time, in one read transaction:
        what the exports write (`ledger.whole`)."""
        from .whole import Whole

        self.require()
        with self.db.reading() as cursor:
            yield Whole(self, cursor, day)

    def namer(
        self, lang: str | None = None, known: str | None = None, states: Callable[[str], Any] | None = None
    ) -> folds.Namer:
        """Names of parties on a day (in a language, where one was recorded), as known at a time."""
        states = states or self.party_states(known)
        return lambda party, day: party_name(party, states(party), day, lang)

    def _party(self, party: str, known: str | None) -> Any:
        """A registered party's state (None for a state or an unknown id), as known at a time."""
        with self.db.reading() as cursor:
            if known is None:
                return stored_thing(cursor, ("party", party))
            rows = cursor.rows(self.db.statements["known_shaping"], (self.db.ledger_id, "party", party))
        standing = (
            readable(position, state)
            for state, recorded_at, retracted_at, position in rows
            if recorded_at <= known and (retracted_at is None or retracted_at > known)
        )
        return things.refold(("party", party), standing)

    @uncollected
    def changes(
        self,
        party_a: str,
        party_b: str,
        since: str,
        until: str | None = None,
        as_of: Edtf | None = None,
        exact: bool = False,
    ) -> dict[str, Any]:
        """What changed in the answer to `state` as of a day (default today) between the ledger as
        known at two times (default: now), and the events of the pair and of its parties recorded
        or retracted in between (SPEC section 6)."""
        if until is not None and until <= since:
            raise LedgerError(f"--since {since} is not before --until {until}")
        as_of = as_of or today()
        rel = self.relationship(party_a, party_b)
        entries = self.entries(rel, None)
        before, after = (
            folds.state(rel, entries, as_of, known, exact, self.namer(None, known))
            for known in (since, until)
        )
        window = lambda moment: since < moment and (until is None or moment <= until)
        recorded = [
            e.event.envelope for e in entries if (e.exact or not exact) and window(e.event.recorded_at)
        ]
        retracted = [
            {**e.event.envelope, "retraction": e.retraction.envelope}
            for e in entries
            if (e.exact or not exact) and e.retraction is not None and window(e.retraction.recorded_at)
        ]
        pair = rel.split("~")
        with self.db.reading() as cursor:
            rows = cursor.rows(
                self.db.statements["party_events"],
                (self.db.ledger_id, *map(sql.naming, pair), *(since, until or "~") * 2),
            )
            for retracted_by, state, position in rows:
                envelope = readable(position, state).envelope
                if exact and envelope["data"]["party"] not in pair:
                    continue
                if window(envelope["recorded_at"]):
                    recorded.append(envelope)
                retraction = self._envelope(cursor, retracted_by) if retracted_by else None
                if retraction and window(retraction["recorded_at"]):
                    retracted.append({**envelope, "retraction": retraction})
        return {
            "relationship": rel,
            "as_of": as_of.text,
            "since": since,
            "until": until,
            **changed.difference(before, after),
            "recorded": sorted(recorded, key=lambda envelope: envelope["position"]),
            "retracted": sorted(retracted, key=lambda envelope: envelope["retraction"]["position"]),
        }

    @uncollected
    def timeline(
        self, a: str, b: str, as_of: Edtf | None = None, known: str | None = None, exact: bool = False
    ) -> Timeline:
        """The relationship's picture as of a day (default today), titled with the parties in the
        order asked."""
        as_of = as_of or today()
        rel = self.relationship(a, b)
        first, second = self.party(a), self.party(b)
        entries = self.entries(rel, as_of.day)
        now = self.party_states()
        heirs = folds.heirs_by(self.successions(now), as_of.day)
        pair = folds.Pair.of(rel, self.country_of(now), exact, heirs)
        name = self.namer(None, known, None if known else now)
        names = f"{name(first, as_of.day)} – {name(second, as_of.day)}"
        whole = self.whole(as_of.day, entries)
        from ..projections import timeline as timelines

        return timelines.build(f"{first}–{second}", entries, as_of, known, exact, whole, pair, names)

    @uncollected
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

    @uncollected
    def relationships(self, as_of: date, exact: bool = False) -> list[dict[str, Any]]:
        """Every relationship with what counts in it as of a day, and its first and last dates as entered."""
        self.require()
        statement = self.db.statements["relationships"].format(filters="AND r.exact = 1" if exact else "")
        with self.db.reading() as cursor:
            rows = cursor.stream(statement, (as_of.isoformat(), self.db.ledger_id, self.db.ledger_id))
            found = [
                {
                    "relationship": rel,
                    "events": events,
                    "instruments": instruments,
                    "projects": projects,
                    "meetings": meetings,
                    "first": orjson.loads(first)["occurred_on"],
                    "last": orjson.loads(last)["occurred_on"],
                }
                for rel, events, instruments, projects, meetings, first, last in rows
            ]
        return sorted(found, key=lambda item: item["relationship"])

    @uncollected
    def upcoming(
        self, within: Duration, party: str | None = None, as_of: Edtf | None = None
    ) -> list[dict[str, Any]]:
        """The watch list from a day (default today) to `within` after it, across every relationship
        (or a party's, with its organisations'): each thing that may fall due, folded as of the day."""
        self.require()
        as_of = as_of or today()
        wanted = self.party(party) if party else None
        with self.db.reading() as cursor:
            named = [
                (kind, slug, thing_state((kind, slug), state))
                for kind, slug, state in cursor.rows(sql.WATCH_NAMES)
            ]
            countries = {slug: state.country for kind, slug, state in named if kind == "party"}
            titles = {slug: state.title for kind, slug, state in named if kind == "series"}

            def due() -> Iterator[Any]:
                """Each thing that may fall due, as of the day; one at a time, never all at once."""
                for kind, slug, stored in cursor.stream(sql.WATCHED):
                    state = thing_state((kind, slug), stored)
                    if upcoming.may_fall_due(state, as_of.day) and (
                        wanted is None or any(wanted in (p, countries.get(p)) for p in state.parties)
                    ):
                        thing = thing_on(cursor, (kind, slug), as_of.day)
                        if thing is not None:
                            yield thing

            return upcoming.upcoming(due(), as_of.day, within.after(as_of.day), titles)

    def digest(self) -> str:
        """POSITION:HASH of the last recorded event."""
        from .chain import GENESIS

        self.require(read_model=False)
        with self.db.reading() as cursor:
            last = cursor.rows(self.db.statements["last"], (self.db.ledger_id,))
        if not last:
            return f"0:{GENESIS}"
        position, state = last[0]
        return f"{position}:{readable(position, state).envelope['hash']}"

    @uncollected
    def verify(self, digest: str | None = None, progress: Progress | None = None) -> Verified:
        """Check the events and the read model (see `ledger.verify`); raise at the first problem.
        A read model of an earlier version (queries refuse it until `rebuild`) is not compared:
        the chain and every event's decoding are."""
        from .chain import GENESIS
        from .verify import Verification, Verified, check_stored, parse_digest

        self.require(read_model=False)
        with self.db.reading() as cursor:
            if self.db.current(cursor):
                return Verification(self.db, cursor, digest, progress).run()
        expected = parse_digest(digest) if digest else None
        previous, position = GENESIS, 0
        for version, topic, state in self.stored_states():
            position += 1
            if version != position:
                raise VerificationFailed(f"position {position}: missing (the next stored event is {version})")
            previous = check_stored(position, topic, state, previous)[0]
            if expected and expected[0] == position and expected[1] != previous:
                raise VerificationFailed(f"position {position}: does not match the digest {digest}")
            if progress:
                progress(1)
        if expected and expected[0] > position:
            raise VerificationFailed(
                f"position {position + 1}: missing; the digest {digest} names a longer ledger"
            )
        return Verified(position, f"{position}:{previous}", {"chain": position, "decoded": position})

    @uncollected
    def backup(self, path: Path) -> Verified:
        """Write every event up to the head as it is now, checked, to a file (written whole or not at all)."""
        from .chain import GENESIS
        from .verify import Verified, check_stored

        self.require(read_model=False)
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

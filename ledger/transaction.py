"""One write transaction's view of the ledger: the chain head, the things as they stand, and
the rows waiting to be written — the same projection for a new event and for a rebuild."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

import orjson
from eventsourcing.persistence import StoredEvent

from ..events import EventRetracted, PartySucceeded, Recorded, decode
from ..projections import readmodel as sql
from ..projections import things
from ..projections.membership import relationship_id
from ..projections.parties import successions
from ..projections.things import SNAPSHOT_KINDS, Key, Snapshot, evolve, refold, subjects
from .hashes import Hashes
from .store import LEDGER_ID, Cursor, Database

_ABSENT: Any = object()
CACHE_LIMIT = 10_000  # things kept in memory between flushes of a long import or rebuild
# After this many lookups of things that are not there (new ids, in a long import), every
# thing's key is read at once, so the rest of the misses cost no query.
MISSES_BEFORE_LISTING = 256


class Transaction:
    """What one serialised transaction has read and will write; `finish` writes what is pending."""

    def __init__(self, db: Database, cursor: Cursor, recorded_at: str = ""):
        self.db, self.cursor = db, cursor
        self.position, self.hash, last_recorded_at = cursor.rows(sql.HEAD)[0]
        self._head = self.position
        # Recording times never go backwards, so "known at T" is a prefix of the ledger.
        self.recorded_at = max(recorded_at, last_recorded_at)
        self._things: dict[Key, Any] = {}
        self._dirty: set[Key] = set()
        self._misses = 0
        # The hash of every thing's key, once read: a key whose hash is not there has no thing
        # and no snapshot (a key whose hash is there may still have none; its lookup says so).
        # Hashes, not the keys themselves, keep a million-event import small.
        self._listed: Hashes | None = None
        self._countries: dict[str, str | None] = {}
        self._heirs: dict[str, list[sql.Succession]] = {}
        self._stored: list[StoredEvent] = []
        self._log: list[tuple[Any, ...]] = []
        self._relationships: list[tuple[Any, ...]] = []
        self._thing_events: list[tuple[Any, ...]] = []
        self._retractions: list[tuple[Any, ...]] = []
        self.recent: dict[int | str, Recorded] = {}  # events not yet flushed, by position and id
        self._shaped: dict[Key, list[Recorded]] = {}  # the events not yet flushed that shape a thing
        self.retracted: dict[int, int] = {}  # positions retracted in this transaction: by which
        # Each thing's latest snapshot, once read or made (None: it has none); the rows to add;
        # the things whose snapshots are all made again at the next flush (an event dated
        # before their latest snapshot, or a retraction, changed those after it).
        self._snapshots: dict[Key, Snapshot | None] = {}
        self._snapshot_rows: list[tuple[Any, ...]] = []
        self._stale: set[Key] = set()
        self._encoded: dict[Key, tuple[Any, str]] = {}  # a thing's latest snapshot's state, as text

    # --- things, as they stand at this point of the transaction

    def get(self, key: Key) -> Any:
        state = self._things.get(key, _ABSENT)
        if state is _ABSENT:
            if self._listed is not None and hash(key) not in self._listed:
                state = None
            else:
                rows = self.cursor.rows(sql.THING, key)
                state = things.decode(key[0], rows[0][0]) if rows else None
                if state is None:
                    self._missed()
            self._things[key] = state
        return state

    def prefetch(self, keys: Iterable[Key]) -> None:
        """Read at once the states and latest snapshots of things that the next events will
        look up: one query each for a page of an import, where each lookup of a thing not in
        memory was a round trip to PostgreSQL (162 µs each, 22 % of an import of 100k events).
        Only what is not in memory is read, and what is not is as the database has it (a thing
        changed and not yet written stays in memory), so each answer is the one its lookup
        would have read. A key named in vain costs a row of that query; a key not named is
        looked up when asked, as before."""
        unread = {key for key in keys if self._listed is None or hash(key) in self._listed}
        wanted = sorted(key for key in unread if key not in self._things)
        if wanted:
            found = dict(self._keyed("things_of", wanted))
            for key in wanted:
                stored = found.get(key)
                self._things[key] = things.decode(key[0], stored[0]) if stored else None
        wanted = sorted(key for key in unread if key[0] in SNAPSHOT_KINDS and key not in self._snapshots)
        if wanted:
            found = dict(self._keyed("last_snapshots", wanted))
            for key in wanted:
                stored = found.get(key)
                self._snapshots[key] = things.stored_snapshot(key, *stored) if stored else None

    def _keyed(self, statement: str, keys: list[Key]) -> Iterator[tuple[Key, tuple[Any, ...]]]:
        """The rows of a statement over many things' keys (given as JSON), each by its key."""
        listed = orjson.dumps(keys).decode()
        for kind, slug, *row in self.cursor.rows(self.db.statements[statement], (listed,)):
            yield (kind, slug), tuple(row)

    def _missed(self) -> None:
        self._misses += 1
        if self._misses == MISSES_BEFORE_LISTING:
            self.flush()
            self._listed = Hashes(hash((kind, slug)) for kind, slug in self.cursor.rows(sql.LISTED_KEYS))

    def _put(self, key: Key, state: Any) -> None:
        self._things.pop(key, None)  # to the end: the most recently written go last
        self._things[key] = state
        self._dirty.add(key)
        if self._listed is not None and state is not None:
            self._listed.add(hash(key))
        if key[0] == "party":
            self._countries.pop(key[1], None)
            self._heirs.clear()  # a succession reaches its predecessors' heirs too

    def cached(self, kinds: tuple[str, ...]) -> list[str]:
        """Ids of the things of some kinds that this transaction holds in memory."""
        return [key[1] for key, state in self._things.items() if key[0] in kinds and state]

    def _country(self, party: str) -> str | None:
        country = self._countries.get(party, _ABSENT)
        if country is _ABSENT:
            state = self.get(("party", party))
            country = self._countries[party] = state.country if state else None
        return country

    # --- recording and projecting

    def record(self, recorded: Recorded, state: bytes) -> None:
        """Add a sealed event to the store and project it."""
        self._stored.append(
            StoredEvent(
                originator_id=LEDGER_ID,
                originator_version=recorded.position,
                topic=f"events:{recorded.type}",
                state=state,
            )
        )
        self.apply(recorded)

    def apply(self, recorded: Recorded) -> None:
        """Project one recorded event into the read model and the things."""
        envelope = recorded.envelope
        self.position, self.hash = recorded.position, envelope["hash"]
        self.recorded_at = envelope["recorded_at"]
        self.recent[recorded.position] = self.recent[recorded.id] = recorded
        rows = sql.event_rows(recorded, self.get, self._country, self._successions)
        self._log.append(rows.log)
        self._relationships.extend(rows.relationships)
        self._thing_events.extend(rows.thing_events)
        if isinstance(recorded.data, EventRetracted):
            self._retract(recorded)
            return
        for key in subjects(recorded.data):
            before = self.get(key)
            if key[0] in SNAPSHOT_KINDS:
                # Looked up before the thing is put: a new thing's key is then not yet listed.
                self._last_snapshot(key)
            state = evolve(key, before, recorded)
            self._put(key, state)
            self._shaped.setdefault(key, []).append(recorded)
            if key[0] in SNAPSHOT_KINDS:
                self._snapshot(key, recorded, before, state)
        if isinstance(recorded.data, PartySucceeded):
            self._succeed(recorded.data, recorded)

    def _snapshot(self, key: Key, recorded: Recorded, before: Any, state: Any) -> None:
        """The thing's snapshot after an event: folded on from its latest, unless the event is
        dated before that one (then all its snapshots are made again at the flush). `before` and
        `state` are the thing as it stood before and after the event in recording order, which
        is the order days count until an event is back-dated."""
        if key in self._stale:
            return
        last = self._last_snapshot(key)
        assert recorded.day is not None  # every event that shapes a thing has its day
        if last is not None and recorded.day.isoformat() < last.day:
            self._stale.add(key)
            return
        in_step = (last.state if last else None) is before
        snapshot = things.after(key, last, recorded, state) if in_step else things.after(key, last, recorded)
        self._snapshots[key] = snapshot
        row = snapshot.row(key)
        self._snapshot_rows.append(row)
        if row[-1] is not None:
            self._encoded[key] = (snapshot.state, row[-1])
        if self._listed is not None:
            self._listed.add(hash(key))

    def _last_snapshot(self, key: Key) -> Snapshot | None:
        snapshot = self._snapshots.get(key, _ABSENT)
        if snapshot is _ABSENT:
            snapshot = None
            if self._listed is None or hash(key) in self._listed:
                rows = self.cursor.rows(sql.LAST_SNAPSHOT, key)
                snapshot = things.stored_snapshot(key, *rows[0]) if rows else None
            self._snapshots[key] = snapshot
        return snapshot

    def _successions(self, party: str) -> list[sql.Succession]:
        """Who took over a party's relationships, and from when: its successors, theirs, and so on."""
        heirs = self._heirs.get(party)
        if heirs is None:
            found = successions(party, lambda named: self.get(("party", named)))
            heirs = self._heirs[party] = [
                (successor, since.isoformat(), by) for successor, since, by in found
            ]
        return heirs

    def _succeed(self, event: PartySucceeded, recorded: Recorded) -> None:
        """The successors take over the predecessor's relationships (with any it had taken over)."""
        self.flush()
        since = recorded.day.isoformat()  # type: ignore[union-attr]
        relationships = [row[0] for row in self.cursor.rows(sql.RELATIONSHIPS_OF, sql.sides(event.party))]
        for rel in relationships:
            a, b = rel.split("~")
            other = b if a == event.party else a
            if other in event.successors:
                continue  # successors form no pair with each other through it
            for successor in event.successors:
                if successor != other:
                    new = relationship_id(successor, other)
                    self.cursor.run(sql.SUCCEED, (new, event.party, since, since, recorded.position, rel))

    def envelope_at(self, position: int) -> dict[str, Any]:
        if position in self.recent:
            return self.recent[position].envelope
        # Not among the events still pending, so already in the database.
        rows = self.cursor.rows(self.db.statements["event"], (self.db.ledger_id, position))
        return orjson.loads(rows[0][0])

    def event(self, position: int) -> Recorded:
        return self.recent.get(position) or decode(self.envelope_at(position))

    def log_row(self, column: str, value: int | str) -> tuple[int, str, str, int | None] | None:
        """position, id, type and retracting position (None: not retracted) of an event."""
        recent = self.recent.get(value)
        if recent is not None:
            return recent.position, recent.id, recent.type, self.retracted.get(recent.position)
        rows = self.cursor.rows(sql.LOG_ROW.format(column=column), (value,))
        if not rows:
            return None
        position, event_id, type_, retracted_by = rows[0]
        return position, event_id, type_, self.retracted.get(position, retracted_by)

    def _retract(self, retraction: Recorded) -> None:
        """Take an event back out: the things it shaped are folded again without it."""
        row = self.log_row("id", retraction.data.event)  # type: ignore[attr-defined]
        assert row is not None  # the retraction was checked against the ledger
        target = self.event(row[0])
        self._retractions.append((retraction.position, retraction.recorded_at, target.position))
        self.retracted[target.position] = retraction.position
        if isinstance(target.data, PartySucceeded):
            self.flush()  # the successors' rows are undone in the database
            self.cursor.run(sql.UNSUCCEED, (target.position,))
        for key in subjects(target.data):
            self._put(key, refold(key, self._shaping(key)))
            if key[0] in SNAPSHOT_KINDS:
                self._stale.add(key)

    def _shaping(self, key: Key) -> list[Recorded]:
        """The events that shape a thing and are not retracted, in order: those written to the
        database, then those still pending (the two never overlap: a flush forgets `recent`)."""
        rows = self.cursor.rows(self.db.statements["shaping"], (self.db.ledger_id, *key), replan=True)
        written = [decode(orjson.loads(row[0])) for row in rows]
        pending = self._shaped.get(key, [])
        return [r for r in written + pending if r.position not in self.retracted]

    # --- writing it out

    def flush(self) -> None:
        """Write what is pending to the database, still inside the transaction."""
        if self._stored:
            self.db.insert(self.cursor, self._stored)
            self._stored = []
        # Rows go in in the order of their table's key (the log's is already in position order):
        # each B-tree page is then visited once per flush, not once per row.
        self._relationships.sort()
        self._thing_events.sort()
        for (table, columns), rows in (
            (sql.LOG, self._log),
            (sql.RELATIONSHIP_EVENTS, self._relationships),
            (sql.THING_EVENTS, self._thing_events),
        ):
            self.cursor.add(table, columns, rows)
            rows.clear()
        self.cursor.many(sql.RETRACT, self._retractions)
        self._retractions.clear()
        dirty = [(key, self._things[key]) for key in sorted(self._dirty)]
        self.cursor.put_things([(*key, self._text(key, state)) for key, state in dirty if state])
        self.cursor.many(sql.DROP_THING, [key for key, state in dirty if state is None])
        self._dirty.clear()
        self.cursor.add(*sql.SNAPSHOTS, self._snapshot_rows)
        self._snapshot_rows.clear()
        # Everything is in the database now; what the transaction remembers can go.
        self.recent.clear()
        self._shaped.clear()
        for key in sorted(self._stale):
            self.cursor.run(sql.DROP_SNAPSHOTS, key)
            made = things.snapshots(key, self._shaping(key))
            self.cursor.add(*sql.SNAPSHOTS, [snapshot.row(key) for snapshot in made])
            self._snapshots[key] = made[-1] if made else None
        self._stale.clear()
        self._encoded.clear()
        if len(self._things) > CACHE_LIMIT:
            # The older half goes: what the last events touched is what the next ones will.
            for key in list(islice(self._things, len(self._things) // 2)):
                del self._things[key]
                self._snapshots.pop(key, None)
            if len(self._snapshots) > CACHE_LIMIT:
                self._snapshots.clear()
            self._countries.clear()
            self._heirs.clear()

    def _text(self, key: Key, state: Any) -> str:
        """A thing's state as the read model keeps it: its latest snapshot's, when that is the same."""
        encoded = self._encoded.get(key)
        if encoded is not None and encoded[0] is state:
            return encoded[1]
        return things.encode(state)

    def finish(self) -> None:
        self.flush()
        # The head is the last event's position, hash and recording time: it moves with events only.
        if self.position != self._head:
            self.cursor.run(sql.SET_HEAD, (self.position, self.hash, self.recorded_at))

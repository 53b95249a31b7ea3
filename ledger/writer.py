"""One write transaction: decide each event against the ledger as it is, then record it and
project it into the read model, all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from typing import Any
from uuid import uuid4

import orjson
from eventsourcing.persistence import StoredEvent

from ..events import Draft, EventRetracted, PartyRegistered, Recorded, decode
from ..projections import readmodel as sql
from ..projections import things
from ..projections.membership import relationships
from ..projections.things import Key, evolve, references, refold, subjects
from . import rules
from .chain import fingerprint, link, seal
from .errors import Rejected
from .store import LEDGER_ID, Cursor, Database

_ABSENT: Any = object()
CACHE_LIMIT = 10_000  # entities kept in memory between flushes of a long import or rebuild
# After this many lookups of entities that are not there (new ids, in a long import), every
# entity key is read at once, so the rest of the misses cost no query.
MISSES_BEFORE_LISTING = 256


@dataclass(frozen=True)
class Outcome:
    """What happened to one event: recorded at `position`, or a duplicate of the one there."""

    position: int
    id: str
    duplicate: bool = False
    envelope: dict[str, Any] | None = None  # as recorded (None for a duplicate)


class Writer:
    """Appends events within one serialised transaction; `finish` writes what is pending."""

    def __init__(self, db: Database, cursor: Cursor, actor: str = "", recorded_at: str = ""):
        self.db, self.cursor, self.actor = db, cursor, actor
        self.position, self.hash, last_recorded_at = cursor.rows(sql.HEAD)[0]
        # Recording times never go backwards, so "known at T" is a prefix of the ledger.
        self.recorded_at = max(recorded_at, last_recorded_at)
        self._entities: dict[Key, Any] = {}
        self._dirty: set[Key] = set()
        self._misses = 0
        # The hash of every entity's key, once read: a key whose hash is not there has no entity
        # (a key whose hash is there may still have none; its lookup says so). Hashes, not the
        # keys themselves, keep a million-event import small.
        self._listed: set[int] | None = None
        self._countries: dict[str, str | None] = {}
        self._stored: list[StoredEvent] = []
        self._log: list[tuple[Any, ...]] = []
        self._relationships: list[tuple[Any, ...]] = []
        self._entity_events: list[tuple[Any, ...]] = []
        self._retractions: list[tuple[Any, ...]] = []
        self._seen: dict[tuple[str, str], tuple[int, str]] = {}  # (key|id, value) -> position, id
        self._recent: dict[int | str, Recorded] = {}  # events not yet flushed, by position and id
        self._retracted: set[int] = set()
        self._registered: list[str] | None = None

    # --- entities, as they stand at this point of the transaction

    def get(self, key: Key) -> Any:
        state = self._entities.get(key, _ABSENT)
        if state is _ABSENT:
            if self._listed is not None and hash(key) not in self._listed:
                state = None
            else:
                rows = self.cursor.rows(sql.ENTITY, key)
                state = things.decode(key[0], rows[0][0]) if rows else None
                if state is None:
                    self._missed()
            self._entities[key] = state
        return state

    def _missed(self) -> None:
        self._misses += 1
        if self._misses == MISSES_BEFORE_LISTING:
            self.flush()
            self._listed = {hash((kind, slug)) for kind, slug in self.cursor.rows(sql.ENTITY_KEYS)}

    def _put(self, key: Key, state: Any) -> None:
        self._entities[key] = state
        self._dirty.add(key)
        if self._listed is not None and state is not None:
            self._listed.add(hash(key))
        if key[0] == "party":
            self._countries.pop(key[1], None)

    def registered(self) -> list[str]:
        """Registered party ids and aliases (for suggestions on an unknown party)."""
        if self._registered is None:
            self._registered = [row[0] for row in self.cursor.rows(sql.REGISTERED)]
            self._registered += [k[1] for k, s in self._entities.items() if k[0] in ("party", "alias") and s]
        return self._registered

    def resolver(self) -> Callable[[str], str]:
        return rules.party_resolver(self.get, self.registered)

    # --- append

    def append(self, draft: Draft) -> Outcome:
        """Decide and record one event; a duplicate (same key or id, same content) is skipped."""
        if isinstance(draft.data, EventRetracted):
            draft = self._normalise_retraction(draft)
        for kind, value in (("key", draft.key), ("id", draft.id)):
            if value is not None:
                earlier = self._earlier(kind, value)
                if earlier:
                    position, event_id = earlier
                    if fingerprint(self._envelope_at(position)) != fingerprint(draft.content):
                        raise Rejected(
                            kind,
                            f"{value!r} is already recorded at position {position} with different content",
                        )
                    return Outcome(position, event_id, duplicate=True)
        self._decide(draft)
        recorded = self._record(draft, self._envelope(draft))
        return Outcome(recorded.position, recorded.id, envelope=recorded.envelope)

    def restore(self, draft: Draft, envelope: dict[str, Any]) -> None:
        """Record an event of a backup as it was: same id, position, time, actor and hash."""
        for kind in ("key", "id"):
            if envelope.get(kind) is not None and self._earlier(kind, envelope[kind]):
                raise Rejected(kind, f"{envelope[kind]!r} appears twice in the backup")
        self._decide(draft)
        if envelope["position"] != self.position + 1:
            expected = self.position + 1
            raise Rejected("position", f"expected {expected}: a backup holds every position in order")
        content = {name: envelope[name] for name in draft.content}
        claimed = envelope.pop("hash")
        if content != draft.content or claimed != link(self.hash, envelope):
            raise Rejected("hash", "does not match the event and the chain before it")
        self._record(draft, envelope)

    def _decide(self, draft: Draft) -> None:
        if isinstance(draft.data, EventRetracted):
            self._check_retraction(draft.data)
        else:
            rules.check(draft, self.get)

    def _earlier(self, kind: str, value: str) -> tuple[int, str] | None:
        if (kind, value) in self._seen:
            return self._seen[(kind, value)]
        rows = self.cursor.rows(sql.BY_KEY if kind == "key" else sql.BY_ID, (value,))
        return (rows[0][0], rows[0][1]) if rows else None

    def _envelope(self, draft: Draft) -> dict[str, Any]:
        """A new event's envelope, but for its hash: its content, where, when and by whom."""
        envelope: dict[str, Any] = {
            "id": draft.id or str(uuid4()),
            "position": self.position + 1,
            **draft.content,
            "recorded_at": self.recorded_at,
            "recorded_by": self.actor,
        }
        if draft.imported_from:
            envelope["imported_from"] = draft.imported_from
        return envelope

    def _record(self, draft: Draft, envelope: dict[str, Any]) -> Recorded:
        """Seal an envelope (without its hash) into the chain and record it."""
        envelope["hash"], state = seal(self.hash, envelope)
        recorded = Recorded(envelope["position"], draft.type, draft.occurred_on, draft.data, envelope)
        self._stored.append(
            StoredEvent(
                originator_id=LEDGER_ID,
                originator_version=recorded.position,
                topic=f"events:{recorded.type}",
                state=state,
            )
        )
        self.apply(recorded)
        for kind in ("key", "id"):
            value = envelope.get(kind)
            if value is not None:
                self._seen[(kind, value)] = (recorded.position, recorded.id)
        return recorded

    # --- retraction

    def _target_row(self, column: str, value: int | str) -> tuple[int, str, str, int | None]:
        """position, id, type and retracting position of an event in the ledger."""
        recent = self._recent.get(value)
        if recent is not None:
            retracted_by = -1 if recent.position in self._retracted else None
            return recent.position, recent.id, recent.type, retracted_by
        rows = self.cursor.rows(sql.LOG_ROW.format(column=column), (value,))
        if not rows:
            raise Rejected("data.event", f"no event {value} in the ledger")
        position, event_id, type_, retracted_by = rows[0]
        if position in self._retracted:
            retracted_by = -1
        return position, event_id, type_, retracted_by

    def _normalise_retraction(self, draft: Draft) -> Draft:
        """A retraction names its event by id, whether it was given by id or by position."""
        target = draft.data.event  # type: ignore[attr-defined]
        _, event_id, _, _ = self._target_row("position" if isinstance(target, int) else "id", target)
        data = EventRetracted(event=event_id, reason=draft.data.reason)  # type: ignore[attr-defined]
        content = {**draft.content, "data": {**draft.content["data"], "event": event_id}}
        return Draft(draft.type, draft.occurred_on, data, content, draft.id, draft.imported_from)

    def _check_retraction(self, retraction: EventRetracted) -> None:
        position, _, type_, retracted_by = self._target_row("id", retraction.event)
        if type_ == "EventRetracted":
            raise Rejected("data.event", f"event {position} is a retraction; retractions cannot be retracted")
        if retracted_by is not None:
            raise Rejected("data.event", f"event {position} is already retracted")
        target = self._event(position)
        if target.data.creates:
            self.flush()
            kind, slug = target.data.subject, target.data.subject_id
            assert kind is not None and slug is not None  # what an event creates, it names
            statement = sql.PARTY_DEPENDENT if kind == "party" else sql.DEPENDENT
            params = (sql.naming(slug), position) if kind == "party" else (kind, slug, position)
            rows = self.cursor.rows(statement, params)
            if rows:
                raise Rejected(
                    "data.event",
                    f"event {rows[0][0]} depends on {kind} {slug!r}; retract it first",
                )

    def _envelope_at(self, position: int) -> dict[str, Any]:
        if position in self._recent:
            return self._recent[position].envelope
        # Not among the events still pending, so already in the database.
        rows = self.cursor.rows(self.db.statements["event"], (self.db.ledger_id, position))
        return orjson.loads(rows[0][0])

    def _event(self, position: int) -> Recorded:
        return self._recent.get(position) or decode(self._envelope_at(position))

    def _retract(self, retraction: Recorded) -> None:
        target = self._event(self._target_row("id", retraction.data.event)[0])  # type: ignore[attr-defined]
        self._retractions.append((retraction.position, retraction.recorded_at, target.position))
        self._retracted.add(target.position)
        self.flush()
        for key in subjects(target.data):
            rows = self.cursor.rows(self.db.statements["shaping"], (self.db.ledger_id, *key))
            self._put(key, refold(key, (decode(orjson.loads(row[0])) for row in rows)))

    # --- projection: the same for a new event and for a rebuild

    def apply(self, recorded: Recorded) -> None:
        """Project one recorded event into the read model and the entities."""
        envelope = recorded.envelope
        self.position, self.hash = recorded.position, envelope["hash"]
        self.recorded_at = envelope["recorded_at"]
        self._recent[recorded.position] = self._recent[recorded.id] = recorded
        day = recorded.day.isoformat() if recorded.day else None
        named = "" if isinstance(recorded.data, EventRetracted) else self._project(recorded, day)
        self._log.append(
            (
                recorded.position,
                recorded.id,
                envelope.get("key"),
                recorded.type,
                day,
                envelope["recorded_at"],
                named,
            )
        )
        if isinstance(recorded.data, EventRetracted):
            self._retract(recorded)
            return
        for key in subjects(recorded.data):
            self._put(key, evolve(key, self.get(key), recorded))

    def _country(self, party: str) -> str | None:
        country = self._countries.get(party, _ABSENT)
        if country is _ABSENT:
            state = self.get(("party", party))
            country = self._countries[party] = state.country if state else None
        return country

    def _project(self, recorded: Recorded, day: str | None) -> str:
        """Rows of the read model for one event; returns the parties it names, as |A|B|."""
        event, position = recorded.data, recorded.position
        parties: list[str] = list(getattr(event, "parties", ()))
        if not parties and event.subject in ("instrument", "project", "series"):
            subject = self.get((event.subject, event.subject_id))  # type: ignore[arg-type]
            parties = list(subject.parties) if subject else []
        named = set(parties)
        if isinstance(event, PartyRegistered):
            named.add(event.party)
        host = getattr(event, "host", None)
        if host:
            named.add(host)
        for person in (*getattr(event, "signatories", ()), *getattr(event, "heads_of_delegation", ())):
            if person.party:
                named.add(person.party)
        countries = {party: self._country(party) for party in named}
        if not isinstance(event, PartyRegistered):
            multilateral = int(len(parties) > 2)
            self._relationships.extend(
                (rel, day, position, int(exact), multilateral, recorded.type)
                for rel, exact in relationships(parties, countries.get).items()
            )
        shaped = subjects(event)
        self._entity_events.extend((kind, slug, position, 1) for kind, slug in shaped)
        self._entity_events.extend(
            (kind, slug, position, 0) for kind, slug in references(event) if (kind, slug) not in shaped
        )
        everyone = sorted(party for party in named.union(countries.values()) if party)
        return f"|{'|'.join(everyone)}|"

    # --- writing it out

    def flush(self) -> None:
        """Write what is pending to the database, still inside the transaction."""
        if self._stored:
            self.db.insert(self.cursor, self._stored)
            self._stored = []
        # Rows go in in the order of their table's key (the log's is already in position order):
        # each B-tree page is then visited once per flush, not once per row.
        self._relationships.sort()
        self._entity_events.sort()
        for (table, columns), rows in (
            (sql.LOG, self._log),
            (sql.RELATIONSHIP_EVENTS, self._relationships),
            (sql.ENTITY_EVENTS, self._entity_events),
        ):
            self.cursor.add(table, columns, rows)
            rows.clear()
        self.cursor.many(sql.RETRACT, self._retractions)
        self._retractions.clear()
        dirty = [(key, self._entities[key]) for key in sorted(self._dirty)]
        puts = [(*key, things.encode(state)) for key, state in dirty if state]
        self.cursor.many(sql.PUT_ENTITY, puts)
        self.cursor.many(sql.DROP_ENTITY, [key for key, state in dirty if state is None])
        self._dirty.clear()
        # Everything is in the database now; what the transaction remembers can go.
        self._recent.clear()
        self._seen.clear()
        if len(self._entities) > CACHE_LIMIT:
            # The older half goes: what the last events touched is what the next ones will.
            for key in list(islice(self._entities, len(self._entities) // 2)):
                del self._entities[key]
            self._countries.clear()

    def finish(self) -> None:
        self.flush()
        self.cursor.run(sql.SET_HEAD, (self.position, self.hash, self.recorded_at))

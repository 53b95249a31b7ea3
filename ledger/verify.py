"""`verify`: what the ledger vouches for (SPEC section 5).

One pass over the events in position order, in one read transaction: the hash chain; every
event decoded and valid as the ledger stores it; recording times that never go backwards; the
rules replayed against a fresh fold of the things, each event judged on the day of its
recording under the contract its store kept then; and every read-model table compared with
what that fold gives. Memory stays flat: a thing no later event touches is compared with its
row and dropped; rows keyed by relationship or thing are compared as sums of row hashes.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Generator, Iterator
from itertools import groupby, zip_longest
from typing import Any, NoReturn

import orjson
from msgspec import Struct, field

from ..events import (
    EVENT_TYPES,
    Draft,
    EventRetracted,
    FieldError,
    PartySucceeded,
    Recorded,
    decode,
    parse_stored,
)
from ..events.dates import RECORDING_TIME, latest_day_at
from ..projections import readmodel as sql
from ..projections import things
from ..projections.membership import relationship_id
from ..projections.parties import successions
from ..projections.things import Key, evolve, refold, subjects
from . import rules
from .chain import ENVELOPE_FIELDS, GENESIS, unseal
from .errors import LedgerError, Rejected, VerificationFailed
from .hashes import Hashes
from .store import CONTRACT, Cursor, Reader, damaged

Progress = Callable[[int], None]

# Things kept in memory at most (0.2 to 1.7 KB each), besides parties and aliases, which
# every event may name: past it, the older half that no later event touches is compared and dropped.
THINGS_KEPT = 50_000
KEPT_KINDS = ("party", "alias")
WARNINGS_KEPT = 20  # warnings listed; all are counted
PROGRESS_STEP = 1000
_MASK = (1 << 64) - 1
_BUCKETS = 1 << 16  # thing rows are summed per bucket of things; a bucket that differs is looked into


class Verified(Struct, frozen=True):
    events: int
    digest: str
    checked: dict[str, int] = field(default_factory=dict)
    warnings: tuple[tuple[int, str], ...] = ()
    warned: int = 0  # warnings in all; the first WARNINGS_KEPT are listed


# The read model as verify compares it: each table's rows in a fixed column order.
LOG_ROWS = (
    "SELECT position, id, key, type, day, recorded_at, parties, retracted_by, retracted_at"
    " FROM coopledger_log ORDER BY position"
)
RELATIONSHIP_ROWS = f"SELECT {', '.join(sql.RELATIONSHIP_EVENTS[1])} FROM coopledger_relationship_events"
THING_EVENT_ROWS = f"SELECT {', '.join(sql.THING_EVENTS[1])} FROM coopledger_thing_events"
# The last event that changes a thing: the last that shapes or names it, or the retraction of
# one of those (a retraction refolds the things its event shaped).
LAST_TOUCH = (
    "SELECT MAX(COALESCE(l.retracted_by, ee.position)) FROM coopledger_thing_events ee"
    " JOIN coopledger_log l ON l.position = ee.position WHERE ee.kind = ? AND ee.slug = ?"
)
SHAPED_BEFORE = (
    "SELECT position FROM coopledger_thing_events"
    " WHERE kind = ? AND slug = ? AND subject = 1 AND position < ? ORDER BY position"
)
NAMED_BEFORE = (
    "SELECT position FROM coopledger_thing_events"
    " WHERE kind = ? AND slug = ? AND position <> ? AND position < ? ORDER BY position"
)
PARTY_BEFORE = (
    "SELECT position FROM coopledger_log"
    " WHERE parties LIKE ? ESCAPE '!' AND position <> ? AND position < ? ORDER BY position"
)
BY_ID_BEFORE = "SELECT position, type FROM coopledger_log WHERE id = ? AND position < ?"
REPEATED = (
    "SELECT {column}, MIN(position), MAX(position) FROM coopledger_log"
    " WHERE {column} IS NOT NULL GROUP BY {column} HAVING COUNT(*) > 1"
)
# Every table of the read model and how it is compared below: a new table must be added here
# and compared.
COMPARED = {
    "coopledger_head": "with the last event",
    "coopledger_log": "row by row, as the events are folded",
    "coopledger_relationship_events": "summed per relationship",
    "coopledger_things": "with each thing's state when its last event is folded",
    "coopledger_thing_events": "summed per thing",
    "coopledger_snapshots": "row by row, each thing's made again from its events",
}
assert set(sql.TABLES) == set(COMPARED), "verify compares every read-model table"


def parse_digest(digest: str) -> tuple[int, str]:
    position, _, hash_ = digest.partition(":")
    if not (position.isascii() and position.isdigit()) or len(position) > 18 or len(hash_) != 64:
        raise LedgerError(f"--digest {digest!r}: expected POSITION:HASH as printed by `coopledger digest`")
    return int(position), hash_.lower()


_STORED_FIELDS = frozenset((*ENVELOPE_FIELDS, "hash"))


def check_stored(position: int, topic: str, state: bytes, previous: str) -> tuple[str, dict[str, Any]]:
    """The hash of one stored event and its envelope, checked against what it says of itself.

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
    return sealed[1], envelope


class Verification:
    """One run of `verify` in one read transaction (`run`)."""

    def __init__(self, db: Reader, cursor: Cursor, digest: str | None, progress: Progress | None):
        self.db, self.cursor, self.progress = db, cursor, progress
        self.digest = digest
        self.expected = parse_digest(digest) if digest else None
        self.position, self.hash, self.recorded_at = 0, GENESIS, ""
        # The fold: things in memory, the kinds every event may name kept apart, and the hash of
        # every key ever folded (a key dropped from memory is read back from its verified row).
        self.things: dict[Key, Any] = {}
        self.kept: dict[Key, Any] = {}
        self.seen = Hashes()
        self.until: dict[Key, int] = {}  # the last position that touches a thing kept in memory
        self.retracted: dict[int, tuple[int, str]] = {}  # position -> retracting position, time
        self.countries: dict[str, str | None] = {}
        self.salt = secrets.token_hex(8)  # row hashes no one can aim at
        self.relationships: dict[str, int] = {}
        # The relationships of parties that succeed or are succeeded, row by row: a succession
        # copies them, and its retraction takes the copies away.
        self.succeeding = self._succession_parties()
        self.full: dict[str, dict[tuple[Any, int], tuple[Any, ...]]] = {}
        self.thing_rows = [0] * _BUCKETS
        self.rows = dict.fromkeys(COMPARED, 0)
        self.warnings: list[tuple[int, str]] = []
        self.warned = 0
        self.model: str | None = None  # the first read-model difference found on the way
        self.logged_retractions: dict[int, tuple[Any, Any]] = {}
        self.streams: list[Generator[Any, None, None]] = []
        contracts = db.contracts(cursor)
        self.contract_from = contracts.get(CONTRACT, 1 << 62)
        self.repeated = self._repeated()
        self.resolve = rules.party_resolver(self.get, lambda: [])

    # --- the run

    def run(self) -> Verified:
        try:
            return self._run()
        finally:  # streams left open when a check fails are closed while the transaction lasts
            for stream in self.streams:
                stream.close()

    def _stream(self, statement: str, params: tuple[Any, ...] = ()) -> Generator[Any, None, None]:
        stream = self.cursor.stream(statement, params)
        self.streams.append(stream)
        return stream

    def _run(self) -> Verified:
        damage = self.db.damage(self.cursor)
        if damage is not None:
            raise damaged(self.db.location, damage)
        self._foreign_rows()
        log = self._stream(LOG_ROWS)
        stream = self._stream(self.db.statements["events"], (self.db.ledger_id, 0, 1 << 62))
        for version, topic, state in stream:
            self.position += 1
            if version != self.position:
                self._fail(f"missing (the next stored event is {version})")
            self.hash, envelope = check_stored(self.position, topic, _bytes(state), self.hash)
            if self.expected and self.expected[0] == self.position and self.expected[1] != self.hash:
                self._fail(f"does not match the digest {self.digest}")
            self._event(envelope, log)
            if self.progress and self.position % PROGRESS_STEP == 0:
                self.progress(PROGRESS_STEP)
        if self.progress:
            self.progress(self.position % PROGRESS_STEP)
        if self.expected and self.expected[0] > self.position:
            raise VerificationFailed(
                f"position {self.position + 1}: missing; the digest {self.digest} names a longer ledger"
            )
        self._head()
        if self.model is None:
            self._tables(log)
        if self.model is not None:
            raise VerificationFailed(f"{self.model}; the events are intact: `coopledger rebuild` remakes it")
        return Verified(
            self.position,
            f"{self.position}:{self.hash}",
            {
                "chain": self.position,
                "decoded": self.position,
                "recording_times": self.position,
                "rules": self.position,
                **self.rows,
            },
            tuple(self.warnings),
            self.warned,
        )

    def _fail(self, message: str) -> NoReturn:
        raise VerificationFailed(f"position {self.position}: {message}")

    def _differs(self, message: str) -> None:
        if self.model is None:
            self.model = message

    def _warn(self, message: str) -> None:
        self.warned += 1
        if len(self.warnings) < WARNINGS_KEPT:
            self.warnings.append((self.position, message))

    def _foreign_rows(self) -> None:
        """Rows of the table of events that are not the ledger's: inserted beside it."""
        table, ledger = self.db.events_table, self.db.ledger_id
        for compare in ("<", ">"):
            rows = self.cursor.rows(
                f"SELECT originator_version FROM {table} WHERE originator_id {compare} ? LIMIT 1", (ledger,)
            )
            if rows:
                raise VerificationFailed(
                    f"the table of events holds a row that is not the ledger's (version {rows[0][0]})"
                )

    def _succession_parties(self) -> set[str]:
        """Every party a succession names, predecessor or successor (an event that cannot be
        read fails on its way)."""
        parties: set[str] = set()
        statement = f"SELECT state FROM {self.db.events_table} WHERE originator_id = ? AND topic = ?"
        for (state,) in self.cursor.rows(statement, (self.db.ledger_id, "events:PartySucceeded")):
            try:
                data = orjson.loads(_bytes(state))["data"]
                parties.add(str(data["party"]))
                parties.update(str(successor) for successor in data["successors"])
            except (orjson.JSONDecodeError, LookupError, TypeError):
                continue
        return parties

    def _repeated(self) -> dict[int, str]:
        """Later positions whose id or key an earlier event holds (the log is compared with the
        events position by position, so a log that hides one differs at or before it)."""
        repeated: dict[int, str] = {}
        for column in ("id", "key"):
            for value, first, later in self.cursor.rows(REPEATED.format(column=column)):
                repeated.setdefault(later, f"its {column} {value!r} is event {first}'s")
        return repeated

    # --- one event

    def _event(self, envelope: dict[str, Any], log: Iterator[Any]) -> None:
        recorded_at = envelope.get("recorded_at")
        if not isinstance(recorded_at, str) or not RECORDING_TIME.fullmatch(recorded_at):
            self._fail(f"recorded_at {recorded_at!r} is not a recording time")
        if recorded_at < self.recorded_at:
            self._fail(f"recorded at {recorded_at}, before the event before it ({self.recorded_at})")
        self.recorded_at = recorded_at
        older = self.position < self.contract_from
        draft = self._draft(envelope, older)
        recorded = Recorded(self.position, draft.type, draft.occurred_on, draft.data, envelope)
        if self.position in self.repeated:
            self._fail(self.repeated[self.position])
        rows = sql.event_rows(recorded, self.get, self._country, self._successions)
        self._rows(rows, next(log, None))
        if isinstance(recorded.data, EventRetracted):
            self._retraction(recorded)
            return
        self._rules(draft, recorded_at, older)
        for key in subjects(recorded.data):
            self._put(key, evolve(key, self.get(key), recorded))
        if isinstance(recorded.data, PartySucceeded):
            self._succeed(recorded.data, recorded)
        if len(self.things) > THINGS_KEPT:
            self._drop_finished()

    def _draft(self, envelope: dict[str, Any], older: bool) -> Draft:
        try:
            return parse_stored(envelope, self.resolve)
        except FieldError as error:
            if not older:
                self._fail(f"not a valid event: {error}")
            problem = str(error)
        # Recorded under an earlier contract: its fields may be what that contract allowed.
        try:
            recorded = decode(envelope)
        except (LookupError, TypeError, ValueError, AttributeError):
            self._fail(f"not a valid event: {problem}")
        self._warn(f"{problem} (recorded before contract {CONTRACT}, which refuses it)")
        return Draft(recorded.type, recorded.occurred_on, recorded.data, envelope)

    def _rules(self, draft: Draft, recorded_at: str, older: bool) -> None:
        today = latest_day_at(recorded_at)
        try:
            rules.check(draft, self.get, today)
        except Rejected as error:
            if not older:
                self._fail(f"the rules refuse it: {error}")
            try:
                rules.check(draft, self.get, today, contract=1)
            except Rejected as earlier:
                self._fail(f"the rules refuse it: {earlier}")
            self._warn(f"{error} (recorded before contract {CONTRACT}, which refuses it)")

    def _retraction(self, retraction: Recorded) -> None:
        target_id = retraction.data.event  # type: ignore[attr-defined]
        found = self.cursor.rows(BY_ID_BEFORE, (target_id, self.position))
        if not found:
            self._fail(f"the rules refuse it: data.event: no event {target_id} in the ledger")
        position, type_ = found[0]
        try:
            rules.check_retraction(
                position, type_, position in self.retracted, lambda: self._dependent(position)
            )
        except Rejected as error:
            self._fail(f"the rules refuse it: {error}")
        self.retracted[position] = (self.position, retraction.recorded_at)
        target = self._stored(position)
        if isinstance(target.data, PartySucceeded):  # as `Transaction._retract`
            for rel in list(self.full):
                kept = {at: row for at, row in self.full[rel].items() if row[9] != position}
                self.full[rel] = kept
        for key in subjects(target.data):
            shaping = (row[0] for row in self.cursor.rows(SHAPED_BEFORE, (*key, self.position)))
            self._put(key, refold(key, (self._stored(p) for p in shaping if p not in self.retracted)))

    def _dependent(self, position: int) -> tuple[int, str] | None:
        """As `Writer._dependent`, among the events before this one, with their retractions then."""
        target = self._stored(position)
        depending = rules.membership_dependent(target, self.get)
        if depending is not None:
            return depending, f"event {position}"
        if not target.data.creates:
            return None
        kind, slug = target.data.subject, target.data.subject_id
        assert kind is not None and slug is not None  # what an event creates, it names
        if kind == "party":
            rows = self.cursor.rows(PARTY_BEFORE, (sql.naming(slug), position, self.position))
        else:
            rows = self.cursor.rows(NAMED_BEFORE, (kind, slug, position, self.position))
        later = next((row[0] for row in rows if row[0] not in self.retracted), None)
        return (later, f"{kind} {slug!r}") if later else None

    def _stored(self, position: int) -> Recorded:
        rows = self.cursor.rows(self.db.statements["event"], (self.db.ledger_id, position))
        return decode(orjson.loads(_bytes(rows[0][0])))

    # --- the fold

    def get(self, key: Key) -> Any:
        if key[0] in KEPT_KINDS:
            return self.kept.get(key)
        state = self.things.get(key, _ABSENT)
        if state is not _ABSENT:
            return state
        if hash(key) not in self.seen:
            return None
        # Dropped when no later event touched it, its row checked equal: read back.
        rows = self.cursor.rows(sql.THING, key)
        state = things.decode(key[0], rows[0][0]) if rows else None
        self.things[key] = state
        return state

    def _put(self, key: Key, state: Any) -> None:
        if key[0] in KEPT_KINDS:
            self.kept[key] = state
            self.countries.pop(key[1], None)
        else:
            self.things.pop(key, None)  # the latest touched go last
            self.things[key] = state
        self.seen.add(hash(key))

    def _successions(self, party: str) -> list[sql.Succession]:
        """As `Transaction._successions`, from the fold."""
        found = successions(party, lambda named: self.get(("party", named)))
        return [(successor, since.isoformat(), by) for successor, since, by in found]

    def _succeed(self, event: PartySucceeded, recorded: Recorded) -> None:
        """As `Transaction._succeed` (readmodel.SUCCEED): the predecessor's rows again for each
        successor, from the succession's day, unless the successor's pair has them already."""
        since = recorded.day.isoformat()  # type: ignore[union-attr]
        for rel in sorted(rel for rel, rows in self.full.items() if rows and event.party in rel.split("~")):
            a, b = rel.split("~")
            other = b if a == event.party else a
            if other in event.successors:
                continue
            for successor in event.successors:
                if successor == other:
                    continue
                target = self.full.setdefault(relationship_id(successor, other), {})
                for at, row in list(self.full[rel].items()):
                    via = row[7] if row[7] is not None else event.party
                    started = since if row[8] is None or row[8] < since else row[8]
                    target.setdefault(
                        at, (relationship_id(successor, other), *row[1:7], via, started, recorded.position)
                    )

    def _relationship_row(self, row: tuple[Any, ...]) -> None:
        if self.succeeding.intersection(row[0].split("~")):
            self.full.setdefault(row[0], {}).setdefault((row[1], row[2]), row)
        else:
            self.relationships[row[0]] = (self.relationships.get(row[0], 0) + self._hash(row)) & _MASK

    def _country(self, party: str) -> str | None:
        if party not in self.countries:
            state = self.kept.get(("party", party))
            self.countries[party] = state.country if state else None
        return self.countries[party]

    def _drop_finished(self) -> None:
        """Compare and drop the older half of the things that no later event touches."""
        older = list(self.things)[: len(self.things) // 2]
        for key in older:
            last = self.until.get(key)
            if last is None or last <= self.position:
                last = self.cursor.rows(LAST_TOUCH, key)[0][0]
            if last is not None and last > self.position:
                self.until[key] = last
                self.things[key] = self.things.pop(key)
                continue
            self.until.pop(key, None)
            if self._same_thing(key, self.things[key]):
                del self.things[key]
            else:  # kept, so that the fold never reads a row that differs
                self.things[key] = self.things.pop(key)

    def _same_thing(self, key: Key, state: Any) -> bool:
        rows = self.cursor.rows(sql.THING, key)
        stored = rows[0][0] if rows else None
        if stored != (things.encode(state) if state is not None else None):
            what = "has no row" if stored is None else "has a row that differs" if state else "has a row"
            self._differs(f"coopledger_things {what} for {key[0]} {key[1]!r}")
            return False
        return True

    # --- the read model

    def _rows(self, rows: sql.EventRows, logged: Any) -> None:
        if self.model is not None:
            return
        if logged is None or tuple(logged[:7]) != rows.log:
            what = "has no row" if logged is None or logged[0] > self.position else "has a row that differs"
            self._differs(f"coopledger_log {what} for position {self.position}")
            return
        if logged[7] is not None:
            self.logged_retractions[self.position] = (logged[7], logged[8])
        self.rows["coopledger_log"] += 1
        for row in rows.relationships:
            self._relationship_row(tuple(row))
        for row in rows.thing_events:
            bucket = self._bucket(row[0], row[1])
            self.thing_rows[bucket] = (self.thing_rows[bucket] + self._hash(row)) & _MASK

    def _hash(self, row: tuple[Any, ...]) -> int:
        return hash((self.salt, *row))

    def _bucket(self, kind: str, slug: str) -> int:
        return hash((self.salt, kind, slug)) & (_BUCKETS - 1)

    def _head(self) -> None:
        """The head witnesses the last event: one it names that is gone was removed."""
        position, hash_, recorded_at = self.cursor.rows(sql.HEAD)[0]
        if (position, hash_) != (self.position, self.hash):
            raise VerificationFailed(
                f"position {min(position, self.position) + 1}: the ledger head says {position}:"
                f"{hash_[:12]}… but the events end at {self.position}:{self.hash[:12]}…"
            )
        if recorded_at != self.recorded_at:
            self._differs(f"coopledger_head says the last event was recorded at {recorded_at or 'no time'}")
        self.rows["coopledger_head"] = 1

    def _tables(self, log: Iterator[Any]) -> None:
        versions = self.cursor.rows(sql.READ_MODEL_VERSION)
        if [tuple(row) for row in versions] != [(sql.VERSION,)]:
            self._differs(f"coopledger_read_model does not say version {sql.VERSION} alone")
        extra = next(log, None)
        if extra is not None:
            self._differs(f"coopledger_log has a row for position {extra[0]}, which no event has")
        logged = {position: (int(by), at) for position, (by, at) in self.logged_retractions.items()}
        wrong = {p for p in logged.keys() | self.retracted.keys() if logged.get(p) != self.retracted.get(p)}
        if wrong:
            self._differs(f"coopledger_log says wrongly whether position {min(wrong)} is retracted, and when")
        for compare in (
            self._relationship_rows,
            self._thing_event_rows,
            self._thing_rows,
            self._snapshot_rows,
        ):
            if self.model is None:
                compare()

    def _relationship_rows(self) -> None:
        for rel, rows in self.full.items():
            for row in rows.values():
                self.relationships[rel] = (self.relationships.get(rel, 0) + self._hash(row)) & _MASK
        found: dict[str, int] = {}
        for row in self._stream(RELATIONSHIP_ROWS):
            found[row[0]] = (found.get(row[0], 0) + self._hash(tuple(row))) & _MASK
            self.rows["coopledger_relationship_events"] += 1
        differing = sorted(
            rel
            for rel in found.keys() | self.relationships.keys()
            if found.get(rel) != self.relationships.get(rel)
        )
        if differing:
            self._differs(f"coopledger_relationship_events differs for the relationship {differing[0]}")

    def _thing_event_rows(self) -> None:
        found = [0] * _BUCKETS
        for row in self._stream(THING_EVENT_ROWS):
            bucket = self._bucket(row[0], row[1])
            found[bucket] = (found[bucket] + self._hash(tuple(row))) & _MASK
            self.rows["coopledger_thing_events"] += 1
        buckets = {b for b in range(_BUCKETS) if found[b] != self.thing_rows[b]}
        if buckets:
            kind, slug = self._thing_event_difference(buckets)
            self._differs(f"coopledger_thing_events differs for {kind} {slug!r}")

    def _thing_event_difference(self, buckets: set[int]) -> Key:
        """The first thing, of some buckets, whose rows differ: both sides summed per thing."""
        expected: dict[Key, int] = {}
        for _, _, state in self._stream(self.db.statements["events"], (self.db.ledger_id, 0, 1 << 62)):
            recorded = decode(orjson.loads(_bytes(state)))
            for row in sql.event_rows(recorded, lambda key: None, lambda party: None).thing_events:
                if self._bucket(row[0], row[1]) in buckets:
                    expected[row[:2]] = (expected.get(row[:2], 0) + self._hash(row)) & _MASK
        found: dict[Key, int] = {}
        for kind, slug, position, subject in self._stream(THING_EVENT_ROWS):
            if self._bucket(kind, slug) in buckets:
                found[kind, slug] = (
                    found.get((kind, slug), 0) + self._hash((kind, slug, position, subject))
                ) & _MASK
        return min(key for key in expected.keys() | found.keys() if expected.get(key) != found.get(key))

    def _thing_rows(self) -> None:
        held = sorted({**self.things, **self.kept}.items())
        if not all(self._same_thing(key, state) for key, state in held):
            return
        for kind, slug in self._stream(sql.THING_KEYS):
            self.rows["coopledger_things"] += 1
            if hash((kind, slug)) not in self.seen:
                self._differs(f"coopledger_things has a row for {kind} {slug!r}, which no event makes")
                return

    def _snapshot_rows(self) -> None:
        """Each thing's snapshots against those folded again from its events that stand (the
        events, the log and the things' events are verified by now), both in key, day and
        position order."""
        expected = self._snapshots_expected()
        found = (tuple(row) for row in self._stream(sql.SNAPSHOT_ROWS))
        for made, kept in zip_longest(expected, found):
            if kept is not None:
                self.rows["coopledger_snapshots"] += 1
            if made != kept:
                if made is None:
                    kind, slug = kept[:2]
                    self._differs(f"coopledger_snapshots has a row for {kind} {slug!r}, which no event makes")
                else:
                    what = "has no row" if kept is None else "has a row that differs"
                    self._differs(f"coopledger_snapshots {what} for {made[0]} {made[1]!r}")
                return

    def _snapshots_expected(self) -> Iterator[tuple[Any, ...]]:
        statement = self.db.statements["snapshot_events"]
        rows = self._stream(statement, (self.db.ledger_id,))
        for key, shaping in groupby(rows, key=lambda row: (row[0], row[1])):
            last = None
            for _, _, _, state in shaping:
                last = things.after(key, last, decode(orjson.loads(_bytes(state))))
                yield last.row(key)


_ABSENT: Any = object()


def _bytes(state: Any) -> bytes:
    # Whatever the column holds is checked: a text value written over a blob too.
    return state.encode() if isinstance(state, str) else bytes(state)

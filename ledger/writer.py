"""The append path: for each event, look up the things it names, decide it against them, then
record it — within one serialised transaction, all or nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any
from uuid import uuid4

import orjson
from msgspec import Struct

from ..events import DateError, Draft, EventRetracted, Recorded
from ..events.dates import latest_day_at
from ..projections import readmodel as sql
from ..projections.things import Key
from . import rules
from .chain import fingerprint, link, seal
from .errors import Rejected, RetractedKey
from .store import Cursor, Database
from .transaction import Transaction


class Outcome(Struct, frozen=True):
    """What happened to one event: recorded at `position`, or a duplicate of the one there."""

    position: int
    id: str
    duplicate: bool = False
    envelope: dict[str, Any] | None = None  # as recorded (None for a duplicate)
    retracted: bool = False  # a duplicate of an event retracted since (skipped by an import)


# The fields of an event's data that name things, by the kind of thing they name: each event
# type names its subject by the field of its kind (`Event.subject`).
NAMING_FIELDS = {
    **{kind: kind for kind in ("party", "instrument", "series", "meeting", "project")},
    "parties": "party",
    "successors": "party",
    "supersedes": "instrument",
    "under": "instrument",
}


def named(data: Any) -> Iterator[Key]:
    """The things an event's data (as parsed JSON, not yet checked) appears to name: a guess
    for `Transaction.prefetch`, which a wrong one does not mislead."""
    if not isinstance(data, dict):
        return
    for field, kind in NAMING_FIELDS.items():
        given = data.get(field)
        for slug in given if isinstance(given, list) else (given,):
            if isinstance(slug, str) and "\x00" not in slug:
                yield kind, slug.upper() if kind == "party" else slug  # party ids as resolved


class Writer:
    """Decides and records events within one transaction; `finish` writes what is pending."""

    def __init__(self, db: Database, cursor: Cursor, actor: str = "", recorded_at: str = ""):
        self.tx = Transaction(db, cursor, recorded_at)
        self.actor = actor
        self._seen: dict[tuple[str, str], tuple[int, str]] = {}  # (key|id, value) -> position, id
        self._unseen: set[tuple[str, str]] = set()  # keys and ids not recorded when `expect` asked
        self._registered: list[str] | None = None

    @property
    def position(self) -> int:
        return self.tx.position

    @property
    def hash(self) -> str:
        return self.tx.hash

    def registered(self) -> list[str]:
        """Registered party ids and aliases (for suggestions on an unknown party)."""
        if self._registered is None:
            self._registered = [row[0] for row in self.tx.cursor.rows(sql.REGISTERED)]
            self._registered += self.tx.cached(("party", "alias"))
        return self._registered

    def resolver(self) -> Callable[[str], str]:
        return rules.party_resolver(self.tx.get, self.registered)

    def append(self, draft: Draft, skip_retracted: bool = False) -> Outcome:
        """Decide and record one event; a duplicate (same key or id, same content) is skipped.

        The key or id of a retracted event is refused, so that a correction is never skipped
        as a duplicate; with `skip_retracted` (re-importing an export) the same content is skipped.
        """
        if isinstance(draft.data, EventRetracted):
            draft = self._normalise_retraction(draft)
        for kind, value in (("key", draft.key), ("id", draft.id)):
            earlier = self._earlier(kind, value) if value is not None else None
            if value is not None and earlier:
                return self._again(kind, value, *earlier, draft, skip_retracted)
        self._decide(draft, latest_day_at(self.tx.recorded_at))
        recorded = self._record(draft, self._envelope(draft))
        return Outcome(recorded.position, recorded.id, envelope=recorded.envelope)

    def _again(
        self, kind: str, value: str, position: int, event_id: str, draft: Draft, skip_retracted: bool
    ) -> Outcome:
        """An event whose key or id is already recorded: a duplicate, or an error saying why not."""
        same = fingerprint(self.tx.envelope_at(position)) == fingerprint(draft.content)
        row = self.tx.log_row("position", position)
        retracted_by = row[3] if row else None
        if retracted_by is not None and not (same and skip_retracted):
            raise RetractedKey(kind, value, position, self.tx.envelope_at(retracted_by))
        if not same:
            raise Rejected(
                kind, f"{value!r} is already recorded at position {position} with different content"
            )
        return Outcome(position, event_id, duplicate=True, retracted=retracted_by is not None)

    def restore(self, draft: Draft, envelope: dict[str, Any]) -> None:
        """Record an event of a backup as it was: same id, position, time, actor and hash."""
        for kind in ("key", "id"):
            if envelope.get(kind) is not None and self._earlier(kind, envelope[kind]):
                raise Rejected(kind, f"{envelope[kind]!r} appears twice in the backup")
        try:  # judged as on the day it was first recorded, as `verify` judges it
            today = latest_day_at(envelope["recorded_at"])
        except DateError as error:
            raise Rejected("recorded_at", str(error)) from None
        self._decide(draft, today)
        if envelope["position"] != self.position + 1:
            expected = self.position + 1
            raise Rejected("position", f"expected {expected}: a backup holds every position in order")
        content = {name: envelope[name] for name in draft.content}
        claimed = envelope.pop("hash")
        if content != draft.content or claimed != link(self.hash, envelope):
            raise Rejected("hash", "does not match the event and the chain before it")
        self._record(draft, envelope)

    def apply(self, recorded: Recorded) -> None:
        """Project an event already recorded (a rebuild)."""
        self.tx.apply(recorded)

    def flush(self) -> None:
        self.tx.flush()
        self._seen.clear()
        self._unseen.clear()

    def expect(self, values: Iterable[Any]) -> None:
        """Read at once which keys and ids of events about to be appended (parsed JSON objects)
        are recorded: one query each for a page of an import rather than one an event, each of
        which is a round trip to PostgreSQL. What it learns holds until the next `flush`."""
        objects = [value for value in values if isinstance(value, dict)]
        for kind in ("key", "id"):
            # Only what the ledger could store (no NUL, which PostgreSQL's JSON refuses); the event
            # with any other is refused by `parse_event` before it is looked up.
            given = [value.get(kind) for value in objects]
            wanted = {(kind, v) for v in given if isinstance(v, str) and "\x00" not in v}
            wanted -= self._seen.keys()
            if not wanted:
                continue
            listed = orjson.dumps(sorted(v for _, v in wanted)).decode()
            statement = self.tx.db.statements[f"recorded_{kind}s"]
            for value, position, event_id in self.tx.cursor.rows(statement, (listed,)):
                self._seen[(kind, value)] = (position, event_id)
                wanted.discard((kind, value))
            self._unseen |= wanted
        self.prefetch(objects)

    def prefetch(self, values: list[dict[str, Any]]) -> None:
        """Where a lookup is a round trip, read at once the things that events about to be
        appended or replayed (parsed JSON objects) appear to name (`Transaction.prefetch`)."""
        if self.tx.db.lookups_batched:
            self.tx.prefetch(key for value in values for key in named(value.get("data")))

    def finish(self) -> None:
        self.tx.finish()

    def _decide(self, draft: Draft, today: date) -> None:
        if isinstance(draft.data, EventRetracted):
            self._check_retraction(draft.data)
        else:
            rules.check(draft, self.tx.get, today)

    def _earlier(self, kind: str, value: str) -> tuple[int, str] | None:
        if (kind, value) in self._seen:
            return self._seen[(kind, value)]
        if (kind, value) in self._unseen:
            return None
        rows = self.tx.cursor.rows(sql.BY_KEY if kind == "key" else sql.BY_ID, (value,))
        return (rows[0][0], rows[0][1]) if rows else None

    def _envelope(self, draft: Draft) -> dict[str, Any]:
        """A new event's envelope, but for its hash: its content, where, when and by whom."""
        envelope: dict[str, Any] = {
            "id": draft.id or str(uuid4()),
            "position": self.position + 1,
            **draft.content,
            "recorded_at": self.tx.recorded_at,
            "recorded_by": self.actor,
        }
        if draft.imported_from:
            envelope["imported_from"] = draft.imported_from
        return envelope

    def _record(self, draft: Draft, envelope: dict[str, Any]) -> Recorded:
        """Seal an envelope (without its hash) into the chain and record it."""
        envelope["hash"], state = seal(self.hash, envelope)
        recorded = Recorded(envelope["position"], draft.type, draft.occurred_on, draft.data, envelope)
        self.tx.record(recorded, state)
        for kind in ("key", "id"):
            value = envelope.get(kind)
            if value is not None:
                self._seen[(kind, value)] = (recorded.position, recorded.id)
        return recorded

    # --- retraction

    def _target(self, column: str, value: int | str) -> tuple[int, str, str, int | None]:
        row = self.tx.log_row(column, value)
        if row is None:
            raise Rejected("data.event", f"no event {value} in the ledger")
        return row

    def _normalise_retraction(self, draft: Draft) -> Draft:
        """A retraction names its event by id, whether it was given by id or by position."""
        target = draft.data.event  # type: ignore[attr-defined]
        _, event_id, _, _ = self._target("position" if isinstance(target, int) else "id", target)
        data = EventRetracted(event=event_id, reason=draft.data.reason)  # type: ignore[attr-defined]
        content = {**draft.content, "data": {**draft.content["data"], "event": event_id}}
        return Draft(draft.type, draft.occurred_on, data, content, draft.id, draft.imported_from)

    def _check_retraction(self, retraction: EventRetracted) -> None:
        position, _, type_, retracted_by = self._target("id", retraction.event)
        rules.check_retraction(position, type_, retracted_by is not None, lambda: self._dependent(position))

    def _dependent(self, position: int) -> tuple[int, str] | None:
        """An unretracted event that depends on what the event at a position creates."""
        target = self.tx.event(position)
        depending = rules.membership_dependent(target, self.tx.get)
        if depending is not None:
            return depending, f"event {position}"
        if not target.data.creates:
            return None
        self.flush()
        kind, slug = target.data.subject, target.data.subject_id
        assert kind is not None and slug is not None  # what an event creates, it names
        statement = sql.PARTY_DEPENDENT if kind == "party" else sql.DEPENDENT
        params = (sql.naming(slug), position) if kind == "party" else (kind, slug, position)
        rows = self.tx.cursor.rows(statement, params)
        return (rows[0][0], f"{kind} {slug!r}") if rows else None

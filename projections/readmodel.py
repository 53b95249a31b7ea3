"""The SQL read model: tables indexed by relationship, party and entity, kept beside the events.

Statements use `?` placeholders; the database adapter in `ledger.store` translates them.
Every table here is derived from the events and can be rebuilt from them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..events import EventRetracted, PartyRegistered, PartyRenamed, Recorded
from .membership import relationships
from .parties import named as parties_named
from .things import Key, references, subjects

Row = Sequence[Any]


class Sql(Protocol):
    def rows(self, statement: str, params: Sequence[Any] = ()) -> list[Row]: ...
    def run(self, statement: str, params: Sequence[Any] = ()) -> None: ...
    def many(self, statement: str, params: Iterable[Sequence[Any]]) -> None: ...
    def add(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None: ...


TABLES = (
    "coopledger_head",
    "coopledger_log",
    "coopledger_relationship_events",
    "coopledger_things",
    "coopledger_thing_events",
)


def schema(position_key: str, without_rowid: str) -> list[str]:
    """CREATE statements for a dialect: how a position is a table's own key, and SQLite's
    WITHOUT ROWID option (empty elsewhere)."""
    return [
        # The chain head: the last position, its hash and recording time (kept monotonic).
        "CREATE TABLE IF NOT EXISTS coopledger_head ("
        " singleton INTEGER PRIMARY KEY CHECK (singleton = 1),"
        " position BIGINT NOT NULL, hash TEXT NOT NULL, recorded_at TEXT NOT NULL)",
        "INSERT INTO coopledger_head (singleton, position, hash, recorded_at)"
        f" VALUES (1, 0, '{'0' * 64}', '') ON CONFLICT (singleton) DO NOTHING",
        # One row per event: lookups by id and key, the parties it names (as |A|B|, with the
        # states of its organisations), and what retracted it.
        "CREATE TABLE IF NOT EXISTS coopledger_log ("
        f" position {position_key}, id TEXT NOT NULL UNIQUE, key TEXT, type TEXT NOT NULL, day TEXT,"
        " recorded_at TEXT NOT NULL, parties TEXT NOT NULL, retracted_by BIGINT, retracted_at TEXT)",
        "CREATE UNIQUE INDEX IF NOT EXISTS coopledger_log_key ON coopledger_log (key) WHERE key IS NOT NULL",
        # A relationship's events in day order: what `state` and `history` read.
        "CREATE TABLE IF NOT EXISTS coopledger_relationship_events ("
        " relationship TEXT NOT NULL, day TEXT NOT NULL, position BIGINT NOT NULL,"
        " exact SMALLINT NOT NULL, multilateral SMALLINT NOT NULL, type TEXT NOT NULL,"
        " earliest TEXT NOT NULL,"
        f" PRIMARY KEY (relationship, day, position)){without_rowid}",
        "CREATE TABLE IF NOT EXISTS coopledger_things ("
        " kind TEXT NOT NULL, slug TEXT NOT NULL, state TEXT NOT NULL,"
        f" PRIMARY KEY (kind, slug)){without_rowid}",
        "CREATE TABLE IF NOT EXISTS coopledger_thing_events ("
        " kind TEXT NOT NULL, slug TEXT NOT NULL, position BIGINT NOT NULL,"
        f" subject SMALLINT NOT NULL, PRIMARY KEY (kind, slug, position)){without_rowid}",
    ]


def held_numbers(series: str, number: str) -> str:
    """A unique index on the meetings held, by series and number, given a dialect's expressions
    of a thing state's held series and number: the database holds the rule that a number is
    taken once within its series, whatever becomes of the row the rule asks (kind `number`)."""
    return (
        f"CREATE UNIQUE INDEX IF NOT EXISTS coopledger_held_numbers ON coopledger_things ({series}, {number})"
        f" WHERE kind = 'meeting' AND {number} IS NOT NULL"
    )


HEAD = "SELECT position, hash, recorded_at FROM coopledger_head WHERE singleton = 1"
SET_HEAD = "UPDATE coopledger_head SET position = ?, hash = ?, recorded_at = ? WHERE singleton = 1"

THING = "SELECT state FROM coopledger_things WHERE kind = ? AND slug = ?"
PUT_THING = (
    "INSERT INTO coopledger_things (kind, slug, state) VALUES (?, ?, ?)"
    " ON CONFLICT (kind, slug) DO UPDATE SET state = excluded.state"
)
DROP_THING = "DELETE FROM coopledger_things WHERE kind = ? AND slug = ?"
THING_KEYS = "SELECT kind, slug FROM coopledger_things"
REGISTERED = "SELECT slug FROM coopledger_things WHERE kind IN ('party', 'alias')"

BY_KEY = "SELECT position, id FROM coopledger_log WHERE key = ?"
BY_ID = "SELECT position, id FROM coopledger_log WHERE id = ?"
LOG_ROW = "SELECT position, id, type, retracted_by FROM coopledger_log WHERE {column} = ?"
RETRACT = "UPDATE coopledger_log SET retracted_by = ?, retracted_at = ? WHERE position = ?"
# Tables only ever added to, with the columns a new event's rows give (see Sql.add).
LOG = ("coopledger_log", ("position", "id", "key", "type", "day", "recorded_at", "parties"))
RELATIONSHIP_EVENTS = (
    "coopledger_relationship_events",
    ("relationship", "day", "position", "exact", "multilateral", "type", "earliest"),
)
THING_EVENTS = ("coopledger_thing_events", ("kind", "slug", "position", "subject"))


def insert(table: str, columns: Sequence[str]) -> str:
    """The INSERT of one row of a table."""
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


# Filters of the audit log (`e` is the event store's row).
OF_TYPE = (
    " AND EXISTS (SELECT 1 FROM coopledger_log l WHERE l.position = e.originator_version AND l.type = ?)"
)
OF_PARTY = (
    " AND EXISTS (SELECT 1 FROM coopledger_log l"
    " WHERE l.position = e.originator_version AND l.parties LIKE ? ESCAPE '!')"
)
# An unretracted event, other than the one given, that names an entity or a party.
DEPENDENT = (
    "SELECT ee.position FROM coopledger_thing_events ee"
    " JOIN coopledger_log l ON l.position = ee.position"
    " WHERE ee.kind = ? AND ee.slug = ? AND ee.position <> ? AND l.retracted_by IS NULL"
    " ORDER BY ee.position LIMIT 1"
)
PARTY_DEPENDENT = (
    "SELECT position FROM coopledger_log"
    " WHERE parties LIKE ? ESCAPE '!' AND position <> ? AND retracted_by IS NULL"
    " ORDER BY position LIMIT 1"
)


def naming(party: str) -> str:
    """The LIKE pattern of log rows that name a party."""
    escaped = party.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"%|{escaped}|%"


def statements(events: str) -> dict[str, str]:
    """Statements that read the event store's table `events` (originator_id is the ledger's)."""
    return {
        "shaping": (
            f"SELECT e.state FROM coopledger_thing_events ee"
            f" JOIN coopledger_log l ON l.position = ee.position"
            f" JOIN {events} e ON e.originator_id = ? AND e.originator_version = ee.position"
            f" WHERE ee.kind = ? AND ee.slug = ? AND ee.subject = 1 AND l.retracted_by IS NULL"
            f" ORDER BY ee.position"
        ),
        "relationship": (
            f"SELECT r.exact, r.multilateral, l.retracted_by, r.position, e.state"
            f" FROM coopledger_relationship_events r"
            f" JOIN coopledger_log l ON l.position = r.position"
            f" JOIN {events} e ON e.originator_id = ? AND e.originator_version = r.position"
            f" WHERE r.relationship = ? AND r.earliest <= ?"
        ),
        "event": f"SELECT state FROM {events} WHERE originator_id = ? AND originator_version = ?",
        "last": (
            f"SELECT originator_version, state FROM {events} WHERE originator_id = ?"
            " ORDER BY originator_version DESC LIMIT 1"
        ),
        "events": (
            f"SELECT originator_version, topic, state FROM {events}"
            f" WHERE originator_id = ? AND originator_version > ? ORDER BY originator_version LIMIT ?"
        ),
        "log": (
            f"SELECT e.originator_version, e.state FROM {events} e"
            f" WHERE e.originator_id = ? AND e.originator_version > ? {{filters}}"
            f" ORDER BY e.originator_version LIMIT ?"
        ),
        "relationships": (
            "SELECT r.relationship, r.type, COUNT(*), MIN(r.day), MAX(r.day)"
            " FROM coopledger_relationship_events r"
            " JOIN coopledger_log l ON l.position = r.position"
            " WHERE r.day <= ? AND l.retracted_by IS NULL {filters}"
            " GROUP BY r.relationship, r.type"
        ),
    }


@dataclass(frozen=True)
class EventRows:
    """The rows one event adds to the read model (beside its thing states)."""

    log: tuple[Any, ...]
    relationships: list[tuple[Any, ...]]
    thing_events: list[tuple[Any, ...]]


def event_rows(
    recorded: Recorded, parties_of: Callable[[Key], tuple[str, ...]], country_of: Callable[[str], str | None]
) -> EventRows:
    """The log row of an event, the relationships it belongs to and the things it shapes or names.

    `parties_of` gives a thing's parties (for an event that names a thing without listing
    parties); `country_of` the state a registered party belongs to.
    """
    event, position, envelope = recorded.data, recorded.position, recorded.envelope
    day = recorded.day.isoformat() if recorded.day else None

    def log(named: str) -> tuple[Any, ...]:
        return (
            position,
            recorded.id,
            envelope.get("key"),
            recorded.type,
            day,
            envelope["recorded_at"],
            named,
        )

    if isinstance(event, EventRetracted):
        return EventRows(log(""), [], [])
    parties: list[str] = list(getattr(event, "parties", ()))
    if not parties and event.subject in ("instrument", "project", "series", "meeting"):
        parties = list(parties_of((event.subject, event.subject_id)))  # type: ignore[arg-type]
    named = parties_named(event) | set(parties)
    countries = {party: country_of(party) for party in named}
    pairs: list[tuple[Any, ...]] = []
    if not isinstance(event, PartyRegistered | PartyRenamed):
        multilateral = int(len(parties) > 2)
        assert recorded.occurred_on is not None  # every event but a retraction has its day
        earliest = recorded.occurred_on.earliest.isoformat()
        pairs = [
            (rel, day, position, int(exact), multilateral, recorded.type, earliest)
            for rel, exact in relationships(parties, countries.get).items()
        ]
    shaped = subjects(event)
    thing_events = [(kind, slug, position, 1) for kind, slug in shaped]
    thing_events += [
        (kind, slug, position, 0) for kind, slug in references(event) if (kind, slug) not in shaped
    ]
    everyone = sorted(party for party in named.union(countries.values()) if party)
    return EventRows(log(f"|{'|'.join(everyone)}|"), pairs, thing_events)

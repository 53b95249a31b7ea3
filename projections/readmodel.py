"""The SQL read model: tables indexed by relationship, party and entity, kept beside the events.

Statements use `?` placeholders; the database adapter in `ledger.store` translates them.
Every table here is derived from the events and can be rebuilt from them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any, Protocol

from msgspec import Struct

from ..events import (
    EventRetracted,
    InstrumentEnteredIntoForce,
    MembershipChange,
    PartyRegistered,
    PartyRenamed,
    PartySucceeded,
    ProjectFunded,
    ProjectLaunched,
    Recorded,
)
from .membership import Members, relationship_id, relationships
from .parties import named as parties_named
from .things import SNAPSHOT_KINDS, Lookup, references, subjects

Row = Sequence[Any]
# Events that belong to no relationship: they change how parties are named (SPEC section 3).
UNPAIRED = (PartyRegistered, PartyRenamed, PartySucceeded)
# Events that fund a project: those of its launch, and each funding after it.
FUNDING_TYPES = ", ".join(repr(kind.__name__) for kind in (ProjectLaunched, ProjectFunded))


class Sql(Protocol):
    def rows(self, statement: str, params: Sequence[Any] = ()) -> list[Row]: ...
    def run(self, statement: str, params: Sequence[Any] = ()) -> None: ...
    def many(self, statement: str, params: Iterable[Sequence[Any]]) -> None: ...
    def add(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None: ...


# The read model's layout: a store whose tables are of another version has them rebuilt from
# the events (by the first write, or `coopledger rebuild`); queries ask for that first.
VERSION = 3
# Tables of earlier layouts, dropped when a store is brought up to date.
LEGACY_TABLES = ("coopledger_entities", "coopledger_entity_events")

TABLES = (
    "coopledger_head",
    "coopledger_log",
    "coopledger_relationship_events",
    "coopledger_things",
    "coopledger_thing_events",
    "coopledger_snapshots",
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
        # A successor's row of its predecessor's event: `via` the party the event names, from
        # `since` (the succession's day), added by the succession at position `succession`.
        " via TEXT, since TEXT, succession BIGINT,"
        f" PRIMARY KEY (relationship, day, position)){without_rowid}",
        "CREATE TABLE IF NOT EXISTS coopledger_read_model ("
        " singleton INTEGER PRIMARY KEY CHECK (singleton = 1), version INTEGER NOT NULL)",
        f"INSERT INTO coopledger_read_model (singleton, version) VALUES (1, {VERSION})"
        " ON CONFLICT (singleton) DO NOTHING",
        "CREATE TABLE IF NOT EXISTS coopledger_things ("
        " kind TEXT NOT NULL, slug TEXT NOT NULL, state TEXT NOT NULL,"
        f" PRIMARY KEY (kind, slug)){without_rowid}",
        "CREATE TABLE IF NOT EXISTS coopledger_thing_events ("
        " kind TEXT NOT NULL, slug TEXT NOT NULL, position BIGINT NOT NULL,"
        f" subject SMALLINT NOT NULL, PRIMARY KEY (kind, slug, position)){without_rowid}",
        # Each instrument, project, series and meeting after each of its events that stand, in
        # the order days count (`things.Snapshot`): what `state` reads instead of folding.
        "CREATE TABLE IF NOT EXISTS coopledger_snapshots ("
        " kind TEXT NOT NULL, slug TEXT NOT NULL, day TEXT NOT NULL, position BIGINT NOT NULL,"
        " shaped INTEGER NOT NULL, founded_day TEXT, founded_position BIGINT, state TEXT,"
        f" PRIMARY KEY (kind, slug, day, position)){without_rowid}",
        "CREATE INDEX IF NOT EXISTS coopledger_snapshots_position ON coopledger_snapshots (position)",
    ]


def held_numbers(series: str, number: str) -> str:
    """A unique index on the meetings held, by series and number, given a dialect's expressions
    of a thing state's held series and number: the database holds the rule that a number is
    taken once within its series, whatever becomes of the row the rule asks (kind `number`)."""
    return (
        f"CREATE UNIQUE INDEX IF NOT EXISTS coopledger_held_numbers ON coopledger_things ({series}, {number})"
        f" WHERE kind = 'meeting' AND {number} IS NOT NULL"
    )


# A successor takes over its predecessor's relationships: each row of a pair of the
# predecessor again for the successor, from the succession's day (relationship id, via,
# since, succession position, the predecessor's relationship).
SUCCEED = (
    "INSERT INTO coopledger_relationship_events"
    " (relationship, day, position, exact, multilateral, type, earliest, via, since, succession)"
    " SELECT ?, day, position, exact, multilateral, type, earliest, COALESCE(via, ?),"
    " CASE WHEN since IS NULL OR since < ? THEN ? ELSE since END, ?"
    " FROM coopledger_relationship_events WHERE relationship = ?"
    " ON CONFLICT (relationship, day, position) DO NOTHING"
)
RELATIONSHIPS_OF = (
    "SELECT DISTINCT relationship FROM coopledger_relationship_events"
    " WHERE relationship LIKE ? ESCAPE '!' OR relationship LIKE ? ESCAPE '!'"
)
UNSUCCEED = "DELETE FROM coopledger_relationship_events WHERE succession = ?"
READ_MODEL = "coopledger_read_model"  # its layout's version, one row written with the tables
READ_MODEL_VERSION = "SELECT version FROM coopledger_read_model"
HEAD = "SELECT position, hash, recorded_at FROM coopledger_head WHERE singleton = 1"
SET_HEAD = "UPDATE coopledger_head SET position = ?, hash = ?, recorded_at = ? WHERE singleton = 1"

THING = "SELECT state FROM coopledger_things WHERE kind = ? AND slug = ?"
_NEW_OR_NOT = " ON CONFLICT (kind, slug) DO UPDATE SET state = excluded.state"
PUT_THING = "INSERT INTO coopledger_things (kind, slug, state) VALUES (?, ?, ?)" + _NEW_OR_NOT
# The same in one statement on PostgreSQL, whose guards then check the rows once (`Cursor.put_things`).
# The rows go as one JSON array of [kind, slug, state], which the driver passes as it is: 1.3 ms
# of client time a 1,000 rows, where an array parameter, escaped element by element in Python,
# took 21 ms, and `executemany` 15-20 ms.
PUT_THINGS_AT_ONCE = (
    "INSERT INTO coopledger_things (kind, slug, state)"
    " SELECT r->>0, r->>1, r->>2 FROM json_array_elements(?::json) r" + _NEW_OR_NOT
)
DROP_THING = "DELETE FROM coopledger_things WHERE kind = ? AND slug = ?"
THING_KEYS = "SELECT kind, slug FROM coopledger_things"
# Every thing with a state or snapshots (a thing whose events all came before its founding has
# snapshots but no state).
LISTED_KEYS = f"{THING_KEYS} UNION SELECT kind, slug FROM coopledger_snapshots"
# What the watch list reads: the things that may fall due (a row at a time), and the series'
# titles and parties' states that it names them with.
WATCHED = "SELECT kind, slug, state FROM coopledger_things WHERE kind IN ('instrument', 'project', 'meeting')"
WATCH_NAMES = "SELECT kind, slug, state FROM coopledger_things WHERE kind IN ('series', 'party')"
REGISTERED = "SELECT slug FROM coopledger_things WHERE kind IN ('party', 'alias')"

BY_KEY = "SELECT position, id FROM coopledger_log WHERE key = ?"
BY_ID = "SELECT position, id FROM coopledger_log WHERE id = ?"
LOG_ROW = "SELECT position, id, type, retracted_by FROM coopledger_log WHERE {column} = ?"
RETRACT = "UPDATE coopledger_log SET retracted_by = ?, retracted_at = ? WHERE position = ?"
# Tables only ever added to, with the columns a new event's rows give (see Sql.add).
LOG = ("coopledger_log", ("position", "id", "key", "type", "day", "recorded_at", "parties"))
RELATIONSHIP_EVENTS = (
    "coopledger_relationship_events",
    (
        "relationship",
        "day",
        "position",
        "exact",
        "multilateral",
        "type",
        "earliest",
        "via",
        "since",
        "succession",
    ),
)
THING_EVENTS = ("coopledger_thing_events", ("kind", "slug", "position", "subject"))
SNAPSHOTS = (
    "coopledger_snapshots",
    ("kind", "slug", "day", "position", "shaped", "founded_day", "founded_position", "state"),
)
SNAPSHOT_COLUMNS = "day, position, shaped, founded_day, founded_position, state"
LAST_SNAPSHOT = (
    f"SELECT {SNAPSHOT_COLUMNS} FROM coopledger_snapshots WHERE kind = ? AND slug = ?"
    " ORDER BY day DESC, position DESC LIMIT 1"
)
SNAPSHOT_ON = (  # a thing's latest snapshot on or before a day
    f"SELECT {SNAPSHOT_COLUMNS} FROM coopledger_snapshots WHERE kind = ? AND slug = ? AND day <= ?"
    " ORDER BY day DESC, position DESC LIMIT 1"
)
DROP_SNAPSHOTS = "DELETE FROM coopledger_snapshots WHERE kind = ? AND slug = ?"
SNAPSHOT_ROWS = (
    f"SELECT kind, slug, {SNAPSHOT_COLUMNS} FROM coopledger_snapshots ORDER BY kind, slug, day, position"
)


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


def _like(text: str) -> str:
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


def naming(party: str) -> str:
    """The LIKE pattern of log rows that name a party."""
    return f"%|{_like(party)}|%"


def sides(party: str) -> tuple[str, str]:
    """The LIKE patterns of relationships one side of which is the party."""
    return f"{_like(party)}~%", f"%~{_like(party)}"


# A list of thing keys given as one JSON parameter ([[kind, slug], ...]), as rows, in each dialect.
KEYS_OF_JSON = {
    "sqlite": (
        "SELECT json_extract(value, '$[0]') AS kind, json_extract(value, '$[1]') AS slug FROM json_each(?)"
    ),
    "postgresql": (
        "SELECT value ->> 0 AS kind, value ->> 1 AS slug FROM jsonb_array_elements(CAST(? AS jsonb))"
    ),
}
# A pair row's day (ISO, 10 characters) and position as one text that sorts as they do, byte
# by byte whatever the database's collation.
DAY_POSITION = {
    "sqlite": "r.day || printf('%015d', r.position)",
    "postgresql": "(r.day || lpad(CAST(r.position AS TEXT), 15, '0')) COLLATE \"C\"",
}
# The events `relationships` counts apart, and the names of their counts.
COUNTED = (("InstrumentSigned", "instruments"), ("ProjectLaunched", "projects"), ("MeetingHeld", "meetings"))
# A list of strings given as one JSON parameter, as rows of one column `value`, in each dialect.
VALUES_OF_JSON = {
    "sqlite": "SELECT value FROM json_each(?)",
    "postgresql": "SELECT jsonb_array_elements_text(CAST(? AS jsonb)) AS value",
}


def statements(events: str, dialect: str) -> dict[str, str]:
    """Statements that read the event store's table `events` (originator_id is the ledger's), in
    a database's dialect (`sqlite` or `postgresql`)."""
    counts = ", ".join(
        f"SUM(CASE WHEN r.type = {kind!r} THEN 1 ELSE 0 END) AS {name}" for kind, name in COUNTED
    )
    position_of = lambda day_position: f"CAST(substr({day_position}, 11) AS BIGINT)"
    return {
        # Which of many keys, and of many ids, are recorded: (the key or id, position, id).
        "recorded_keys": (
            f"SELECT key, position, id FROM coopledger_log WHERE key IN ({VALUES_OF_JSON[dialect]})"
        ),
        "recorded_ids": (
            f"SELECT id, position, id FROM coopledger_log WHERE id IN ({VALUES_OF_JSON[dialect]})"
        ),
        # Each event read by its whole key: as a join, PostgreSQL's planner could scan every
        # event of the ledger for each row, when the tables' statistics are those of a store
        # still being filled in the same transaction (4.3 ms a call, against 0.2).
        "shaping": (
            f"SELECT (SELECT e.state FROM {events} e WHERE e.originator_id = ?"
            f" AND e.originator_version = ee.position), ee.position FROM coopledger_thing_events ee"
            f" JOIN coopledger_log l ON l.position = ee.position"
            f" WHERE ee.kind = ? AND ee.slug = ? AND ee.subject = 1 AND l.retracted_by IS NULL"
            f" ORDER BY ee.position"
        ),
        "relationship": (
            f"SELECT r.exact, r.multilateral, l.retracted_by, r.position, e.state, r.via"
            f" FROM coopledger_relationship_events r"
            f" JOIN coopledger_log l ON l.position = r.position"
            f" JOIN {events} e ON e.originator_id = ? AND e.originator_version = r.position"
            f" WHERE r.relationship = ? AND r.earliest <= ? AND (r.since IS NULL OR r.since <= ?)"
        ),
        # Every event that shapes a thing, with when it was recorded and retracted: the thing as
        # known at a time.
        "known_shaping": (
            f"SELECT e.state, l.recorded_at, l.retracted_at, ee.position FROM coopledger_thing_events ee"
            f" JOIN coopledger_log l ON l.position = ee.position"
            f" JOIN {events} e ON e.originator_id = ? AND e.originator_version = ee.position"
            f" WHERE ee.kind = ? AND ee.slug = ? AND ee.subject = 1"
            f" ORDER BY ee.position"
        ),
        # The events of no relationship that name either of two parties (or, through the log's
        # parties, an organisation of theirs), recorded or retracted between two times.
        "party_events": (
            f"SELECT l.retracted_by, e.state, l.position FROM coopledger_log l"
            f" JOIN {events} e ON e.originator_id = ? AND e.originator_version = l.position"
            f" WHERE l.type IN ({', '.join(repr(kind.__name__) for kind in UNPAIRED)})"
            f" AND (l.parties LIKE ? ESCAPE '!' OR l.parties LIKE ? ESCAPE '!')"
            f" AND (l.recorded_at > ? AND l.recorded_at <= ? OR l.retracted_at > ? AND l.retracted_at <= ?)"
            f" ORDER BY l.position"
        ),
        # The events that shape one thing by a day, whatever relationships they belong to, in
        # the columns of "relationship" (each its own, never multilateral for itself).
        "thing": (
            f"SELECT 1, 0, l.retracted_by, ee.position, e.state, NULL FROM coopledger_thing_events ee"
            f" JOIN coopledger_log l ON l.position = ee.position"
            f" JOIN {events} e ON e.originator_id = ? AND e.originator_version = ee.position"
            f" WHERE ee.kind = ? AND ee.slug = ? AND ee.subject = 1 AND l.day <= ?"
        ),
        "thing_count": (
            "SELECT COUNT(*) FROM coopledger_thing_events ee"
            " JOIN coopledger_log l ON l.position = ee.position"
            " WHERE ee.kind = ? AND ee.slug = ? AND ee.subject = 1 AND l.day <= ?"
        ),
        # The same for many things at once, their keys given as JSON: one query, not one a thing.
        "thing_counts": (
            f"SELECT ee.kind, ee.slug, COUNT(*) FROM ({KEYS_OF_JSON[dialect]}) k"
            " JOIN coopledger_thing_events ee ON ee.kind = k.kind AND ee.slug = k.slug"
            " JOIN coopledger_log l ON l.position = ee.position"
            " WHERE ee.subject = 1 AND l.day <= ? GROUP BY ee.kind, ee.slug"
        ),
        # The things a relationship's events shape by a day (those that stand), by day then
        # position: (kind, slug, day, position), from the snapshots of the things `state` shows.
        "pair_things": (
            "SELECT s.kind, s.slug, s.day, s.position FROM coopledger_relationship_events r"
            " JOIN coopledger_snapshots s ON s.position = r.position"
            " WHERE r.relationship = ? AND r.day <= ? AND (r.since IS NULL OR r.since <= ?)"
            " ORDER BY r.day, r.position"
        ),
        # The states of many things at once, their keys given as JSON (those that have one), and
        # their latest snapshots: a seek by key each, on PostgreSQL by LATERAL, which a plan kept
        # from earlier in a long import (`PostgresCursor`) cannot turn into a scan of the table.
        "things_of": (
            f"SELECT k.kind, k.slug, t.state FROM ({KEYS_OF_JSON[dialect]}) k CROSS JOIN LATERAL"
            " (SELECT state FROM coopledger_things t WHERE t.kind = k.kind AND t.slug = k.slug) t"
            if dialect == "postgresql"
            else f"SELECT t.kind, t.slug, t.state FROM ({KEYS_OF_JSON[dialect]}) k"
            " JOIN coopledger_things t ON t.kind = k.kind AND t.slug = k.slug"
        ),
        "last_snapshots": (
            f"SELECT k.kind, k.slug, s.* FROM ({KEYS_OF_JSON[dialect]}) k CROSS JOIN LATERAL"
            f" (SELECT {SNAPSHOT_COLUMNS} FROM coopledger_snapshots l WHERE l.kind = k.kind"
            " AND l.slug = k.slug ORDER BY l.day DESC, l.position DESC LIMIT 1) s"
            if dialect == "postgresql"
            else f"SELECT k.kind, k.slug, {SNAPSHOT_COLUMNS} FROM ({KEYS_OF_JSON[dialect]}) k"
            " JOIN coopledger_snapshots s ON s.kind = k.kind AND s.slug = k.slug AND s.position ="
            " (SELECT l.position FROM coopledger_snapshots l WHERE l.kind = k.kind AND l.slug = k.slug"
            " ORDER BY l.day DESC, l.position DESC LIMIT 1)"
        ),
        # The latest snapshot on or before a day of each of many things, their keys given as JSON.
        "snapshots_on": (
            f"SELECT k.kind, k.slug, s.day, s.position, s.shaped, s.founded_day, s.founded_position, s.state"
            f" FROM ({KEYS_OF_JSON[dialect]}) k JOIN coopledger_snapshots s"
            " ON s.kind = k.kind AND s.slug = k.slug AND s.position = (SELECT l.position"
            " FROM coopledger_snapshots l WHERE l.kind = k.kind AND l.slug = k.slug AND l.day <= ?"
            " ORDER BY l.day DESC, l.position DESC LIMIT 1)"
        ),
        # A relationship's events that possibly happened by a day, in the columns of "relationship".
        "possible": (
            f"SELECT r.exact, r.multilateral, l.retracted_by, r.position, e.state, r.via"
            f" FROM coopledger_relationship_events r"
            f" JOIN coopledger_log l ON l.position = r.position"
            f" JOIN {events} e ON e.originator_id = ? AND e.originator_version = r.position"
            f" WHERE r.relationship = ? AND r.earliest <= ? AND r.day > ? AND l.retracted_by IS NULL"
            f" AND (r.since IS NULL OR r.since <= ?)"
        ),
        # Every thing's snapshots recomputed from the events that stand (what verify compares).
        "snapshot_events": (
            f"SELECT ee.kind, ee.slug, ee.position, e.state FROM coopledger_thing_events ee"
            f" JOIN coopledger_log l ON l.position = ee.position"
            f" JOIN {events} e ON e.originator_id = ? AND e.originator_version = ee.position"
            f" WHERE ee.subject = 1 AND l.retracted_by IS NULL"
            f" AND ee.kind IN ({', '.join(repr(kind) for kind in SNAPSHOT_KINDS)})"
            f" ORDER BY ee.kind, ee.slug, l.day, ee.position"
        ),
        # The whole ledger as of a day, a thing or an event at a time (the exports): each thing of
        # a kind founded by then, from its latest snapshot, in the order a fold of every event
        # founds them (the day, then the position of its founding).
        "founded": (
            f"SELECT slug, {SNAPSHOT_COLUMNS} FROM (SELECT s.*, ROW_NUMBER() OVER"
            " (PARTITION BY s.slug ORDER BY s.day DESC, s.position DESC) AS newest"
            " FROM coopledger_snapshots s WHERE s.kind = ? AND s.day <= ?) latest"
            " WHERE newest = 1 AND state IS NOT NULL ORDER BY founded_day, founded_position, slug"
        ),
        # Every event by position, with the position of its retraction.
        "entries": (
            f"SELECT e.originator_version, e.state, l.retracted_by FROM {events} e"
            f" JOIN coopledger_log l ON l.position = e.originator_version"
            f" WHERE e.originator_id = ? ORDER BY e.originator_version"
        ),
        # The funding events that count by a day (launches and fundings), by day then position:
        # the whole ledger's, and one project's.
        "funding": (
            f"SELECT l.position, e.state FROM coopledger_log l"
            f" JOIN {events} e ON e.originator_id = ? AND e.originator_version = l.position"
            f" WHERE l.type IN ({FUNDING_TYPES}) AND l.retracted_by IS NULL AND l.day <= ?"
            f" ORDER BY l.day, l.position"
        ),
        "project_funding": (
            f"SELECT l.position, e.state FROM coopledger_thing_events ee"
            f" JOIN coopledger_log l ON l.position = ee.position"
            f" JOIN {events} e ON e.originator_id = ? AND e.originator_version = l.position"
            f" WHERE ee.kind = 'project' AND ee.slug = ? AND ee.subject = 1"
            f" AND l.type IN ({FUNDING_TYPES}) AND l.retracted_by IS NULL AND l.day <= ?"
            f" ORDER BY l.day, l.position"
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
        # Every relationship in one pass over the pair rows in key order: how many events count
        # by a day (of them, instruments signed, projects launched, meetings held), and its first
        # and last event by day, then position (read for their dates as entered).
        "relationships": (
            f"SELECT g.relationship, g.events, g.instruments, g.projects, g.meetings, f.state, t.state"
            f" FROM (SELECT r.relationship, COUNT(*) AS events, {counts},"
            f" MIN({DAY_POSITION[dialect]}) AS first, MAX({DAY_POSITION[dialect]}) AS last"
            f" FROM coopledger_relationship_events r JOIN coopledger_log l ON l.position = r.position"
            f" WHERE r.day <= ? AND l.retracted_by IS NULL {{filters}} GROUP BY r.relationship) g"
            f" JOIN {events} f ON f.originator_id = ? AND f.originator_version = {position_of('g.first')}"
            f" JOIN {events} t ON t.originator_id = ? AND t.originator_version = {position_of('g.last')}"
        ),
    }


class EventRows(Struct, frozen=True):
    """The rows one event adds to the read model (beside its thing states)."""

    log: tuple[Any, ...]
    relationships: list[tuple[Any, ...]]
    thing_events: list[tuple[Any, ...]]


Succession = tuple[str, str, int]  # a successor, the day it took over (ISO), the succession's position


def event_rows(
    recorded: Recorded,
    get: Lookup,
    country_of: Callable[[str], str | None],
    successions: Callable[[str], list[Succession]] = lambda party: [],
) -> EventRows:
    """The log row of an event, the relationships it belongs to and the things it shapes or names.

    `get` gives a thing's state as it stands before the event; `country_of` the state a
    registered party belongs to.

    Which pairs an event belongs to (SPEC section 3, "More rules"): an event listing parties, to
    the pairs of its parties; one naming an instrument, series or project, to the pairs of that
    thing's members on its day (those whose joining may have taken effect by then, so that an
    event dated "2019" of an instrument signed "2019" has its pairs); a meeting's, to the pairs
    of the meeting's own parties; a party's joining or withdrawal, to every pair it forms with
    the thing's other members on its effective day. A party that joins gets no rows for the
    thing's earlier events: those are not events of its pairs (`history` of a joiner's pair
    starts with its joining), and `state` folds each thing from the thing's own events (see
    `relationship.fold`), so the joiner's pairs see the thing as it stands all the same, and
    an event back-filled later is never missing from a pair that would need it.
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
    assert recorded.occurred_on is not None  # every event but a retraction has its day
    parties: list[str] = list(getattr(event, "parties", ()))
    pairs_of: list[list[str]] = [parties]
    if isinstance(event, MembershipChange) and event.subject:
        on = event.effective(recorded.occurred_on).day
        others = [p for p in _parties_on(get((event.subject, event.subject_id)), on) if p != event.party]  # type: ignore[arg-type]
        parties = [event.party, *others]
        pairs_of = [[event.party, other] for other in others]
    elif event.subject in ("instrument", "project", "series", "meeting") and (
        not parties or isinstance(event, InstrumentEnteredIntoForce)  # whose parties are those it binds
    ):
        parties = _parties_on(get((event.subject, event.subject_id)), recorded.occurred_on.day)  # type: ignore[arg-type]
        pairs_of = [parties]
    named = parties_named(event) | set(parties)
    countries = {party: country_of(party) for party in named}
    pairs: list[tuple[Any, ...]] = []
    if not isinstance(event, UNPAIRED):
        multilateral = int(len(parties) > 2)
        earliest = recorded.occurred_on.earliest.isoformat()
        found: dict[str, bool] = {}
        for group in pairs_of:
            for rel, exact in relationships(group, countries.get).items():
                found[rel] = found.get(rel, False) or exact
        pairs = [
            (rel, day, position, int(exact), multilateral, recorded.type, earliest, None, None, None)
            for rel, exact in found.items()
        ]
        pairs += [
            (rel, day, position, int(exact), multilateral, recorded.type, earliest, via, since, by)
            for rel, exact, via, since, by in _succeeded(found, successions)
        ]
    shaped = subjects(event)
    thing_events = [(kind, slug, position, 1) for kind, slug in shaped]
    thing_events += [
        (kind, slug, position, 0) for kind, slug in references(event) if (kind, slug) not in shaped
    ]
    everyone = sorted(party for party in named.union(countries.values()) if party)
    return EventRows(log(f"|{'|'.join(everyone)}|"), pairs, thing_events)


def _succeeded(
    found: dict[str, bool], successions: Callable[[str], list[Succession]]
) -> list[tuple[str, bool, str, str, int]]:
    """The pairs an event's succeeded parties' successors take over: (relationship, exact, via,
    since, succession). Successors form no pair with each other or with themselves."""
    heirs_of: dict[str, list[Succession]] = {}
    for rel in found:
        for side in rel.split("~"):
            if side not in heirs_of:
                heirs_of[side] = successions(side)
    if not any(heirs_of.values()):
        return []  # nobody was taken over: the common case
    taken: list[tuple[str, bool, str, str, int]] = []
    for rel, exact in found.items():
        for side, other in (rel.split("~"), reversed(rel.split("~"))):
            heirs = heirs_of[side]
            for successor, since, by in heirs:
                if successor != other and other not in {heir for heir, _, _ in heirs}:
                    taken.append((relationship_id(successor, other), exact, side, since, by))
    return list({row[0]: row for row in taken if row[0] not in found}.values())


def _parties_on(state: Any, day: date) -> list[str]:
    """A thing's parties on a day: its members then (its first ones, before any took effect);
    a meeting's own parties."""
    if state is None:
        return []
    if isinstance(state, Members):
        return state.members_on(day, certain=False) or list(state.parties)  # type: ignore[attr-defined]
    return list(state.parties)

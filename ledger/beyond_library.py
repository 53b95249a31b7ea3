"""What the ledger asks of SQLite and PostgreSQL beyond what eventsourcing 9.5 can do.

The event store itself goes through eventsourcing's public API: `ledger.sqlite` and
`ledger.postgres` subclass its recorders, extend the tables they create and record the
ledger's events. This module holds the rest, each item for a reason the library cannot meet.
It is named for that boundary, so that every such item is in one place and the list can
shrink as the library grows; the name leaves out the word "eventsourcing" because queries
import this module and `python -X importtime … | grep eventsourcing` must keep meaning that
the library itself was loaded.

- One writer at a time, from the first statement to the commit: the ledger decides each event
  against the ledger as it is, so a write transaction reads before it writes.
  `eventsourcing.sqlite` opens its transactions with a deferred BEGIN, which fails at once with
  "database is locked" when another process committed between the read and the write;
  `BEGIN IMMEDIATE` waits its turn (`immediate`). `eventsourcing.postgres` serialises writers
  with `LOCK TABLE … IN EXCLUSIVE MODE` inside `insert_events`, after any read; the ledger
  locks its head row first instead, which serialises whole transactions (`serialise`).
- WAL turned on with retries: the SQLite pool turns it on once, at its first connection, and
  processes creating one new file at the same moment can find it locked (`wal`).
- A new file written without the write-ahead log (`journal_in_memory`): the SQLite pool turns WAL
  on at every connection, and a ledger's first write (an import of a million events, say) is one
  transaction, in which the log grows to the size of the file and every page read that misses
  the cache searches the log's index.
- COPY of rows into PostgreSQL: the recorder inserts with one `unnest()` of a composite type,
  in a transaction of its own; the ledger's rows go in with the rest of its transaction
  (`copy_rows`, 12 % less time than INSERTs on an import of 100k events).
- Recorded events defended in the database: the library records events but does not stop
  anyone from changing them. Triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL)
  of recorded events, and on SQLite an INSERT OR REPLACE that would swap one
  (`sqlite_triggers`, `postgres_triggers`); on PostgreSQL an event commits only with the
  ledger's head moved over it, so a row slipped in beside the ledger cannot block it.
- The read model defended too (`sqlite_guards`, `postgres_guards`): the rules and idempotency
  ask it, so a row edited behind the ledger's back could make it accept what it refuses. On
  SQLite its tables refuse every change from a connection that is not the ledger's append path
  (`append_path` gives a connection the function their triggers call; others lack it). On
  PostgreSQL the tables accept only rows of events that the same transaction records (things
  and snapshots checked once a statement, over the keys it changed), and deletions only from
  `rebuild` run by their owner; an appender role gets what it needs to append and nothing that
  rewrites (`appender_grants`).
- One writer at a time on PostgreSQL with a lock no role can keep beyond its transaction: the
  head row, locked FOR UPDATE (`serialise`). An advisory lock, which any role may take for a
  whole session, serialises only the creation of a new store.
- A PostgreSQL connection made from the --db URL as written (`connect`): `PostgresDatastore`
  builds its pool from dbname, host, port, user and password, with no place for libpq's other
  parameters (`options=-csearch_path=…`, `sslmode`, …), and waits at most `CONNECT_TIMEOUT`
  seconds for a server that does not answer.

Nothing here imports eventsourcing: queries import `ledger.store`, which imports this module.
"""

from __future__ import annotations

import random
import re
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from .errors import LedgerError

REFUSAL = "coopledger: recorded events cannot be changed or removed"
GUARDED = "coopledger: the read model is written only by the append path of the ledger"
# The SQL function the SQLite read model's triggers call: only the ledger's connections have it.
APPEND_PATH = "written_by_coopledger"


def sqlite_triggers(events_table: str) -> list[str]:
    refuse = f" BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
    # INSERT OR REPLACE deletes the row it replaces without firing DELETE triggers.
    replaces = (
        f"EXISTS (SELECT 1 FROM {events_table} WHERE rowid = NEW.rowid OR"
        " (originator_id = NEW.originator_id AND originator_version = NEW.originator_version))"
    )
    return [
        *(
            f"CREATE TRIGGER IF NOT EXISTS coopledger_events_no_{verb.lower()}"
            f" BEFORE {verb} ON {events_table}{refuse}"
            for verb in ("UPDATE", "DELETE")
        ),
        f"CREATE TRIGGER IF NOT EXISTS coopledger_events_no_replace BEFORE INSERT ON {events_table}"
        f" WHEN {replaces}{refuse}",
    ]


def sqlite_guards(tables: Sequence[str], fixed: Sequence[str]) -> list[str]:
    """Read-model tables that only the append path changes, and tables nobody changes once written."""
    changes = [(table, verb) for table in tables for verb in ("INSERT", "UPDATE", "DELETE")]
    return [
        f"CREATE TRIGGER IF NOT EXISTS coopledger_guard_{table}_{verb.lower()} BEFORE {verb} ON {table}"
        f" WHEN NOT {APPEND_PATH}() BEGIN SELECT RAISE(ABORT, '{GUARDED}'); END"
        for table, verb in [*changes, *((table, "INSERT") for table in fixed)]
    ] + [
        f"CREATE TRIGGER IF NOT EXISTS coopledger_guard_{table}_{verb.lower()} BEFORE {verb} ON {table}"
        f" BEGIN SELECT RAISE(ABORT, 'coopledger: {table} is never changed'); END"
        for table in fixed
        for verb in ("UPDATE", "DELETE")
    ]


@contextmanager
def sqlite_guards_lifted(cursor: Any) -> Iterator[None]:
    """Many rows in one transaction: the read model's guards are dropped inside it and laid
    again, as they were, before it commits. Each guard runs a trigger program for every row it
    watches, which costs a bulk write about a tenth of its time. Nothing else can write
    meanwhile (the transaction holds SQLite's write lock from its first statement), and a
    transaction that fails takes the dropping back with it: no commit ever leaves them out."""
    guards = cursor.rows(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
        " AND name LIKE 'coopledger!_guard!_%' ESCAPE '!' AND sql LIKE ?",
        (f"%{APPEND_PATH}()%",),
    )
    for name, _ in guards:
        cursor.run(f'DROP TRIGGER "{name}"')
    yield
    for _, statement in guards:
        cursor.run(statement)


def append_path(connection: sqlite3.Connection) -> None:
    """Let a connection change the read model (see `sqlite_guards`)."""
    connection.create_function(APPEND_PATH, 0, _yes, deterministic=True)


def _yes() -> int:
    return 1


# PostgreSQL functions resolve tables in the schema they were created in, whatever the caller's
# search_path: a role cannot point them at tables of its own.
#
# Their plans are made once and kept; each query reads an index. A plan made while an import's
# tables were small (in its own transaction, before any statistics) scanned them whole for
# every row after (10,000 events: 50 s); planning each call anew cost a guard more than its
# check (20,000 events: 12.4 s); kept index plans, 6.9 s, and 100,000 events 45 s, linear.
_PLPGSQL = "LANGUAGE plpgsql SET search_path FROM CURRENT SET enable_seqscan = off"


def postgres_triggers(events_table: str, ledger: str) -> list[str]:
    refuse = (
        "CREATE OR REPLACE FUNCTION coopledger_refuse_change() RETURNS trigger"
        f" LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{REFUSAL} (%)', TG_OP; END $$"
    )
    # An event commits only once the head covers it: the ledger moves the head in the same
    # transaction, so a row inserted beside the ledger (which would take the next position for
    # ever) is refused at commit.
    projected = (
        f"CREATE OR REPLACE FUNCTION coopledger_projected() RETURNS trigger {_PLPGSQL} AS $$ BEGIN"
        f" IF NEW.originator_id <> '{ledger}'::uuid OR NEW.originator_version >"
        " (SELECT position FROM coopledger_head WHERE singleton = 1) THEN"
        " RAISE EXCEPTION 'coopledger: an event is recorded only by the ledger, with its head and"
        " read model (position %)', NEW.originator_version; END IF; RETURN NULL; END $$"
    )
    deferred = (
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'coopledger_events_projected'"
        f" AND tgrelid = '{events_table}'::regclass) THEN"
        f" CREATE CONSTRAINT TRIGGER coopledger_events_projected AFTER INSERT ON {events_table}"
        " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION coopledger_projected();"
        " END IF; END $$"
    )
    return [refuse, projected, deferred] + [
        f"CREATE OR REPLACE TRIGGER coopledger_events_no_{name} BEFORE {verbs}"
        f" ON {events_table} FOR EACH {each} EXECUTE FUNCTION coopledger_refuse_change()"
        for name, verbs, each in (
            ("change", "UPDATE OR DELETE", "ROW"),
            ("truncate", "TRUNCATE", "STATEMENT"),
        )
    ]


# Triggers that earlier versions made a row at a time; `postgres_guards` replaces them.
OLD_ROW_GUARDS = (("thing", "coopledger_things"), ("snapshots", "coopledger_snapshots"))


def postgres_guards(events_table: str, ledger: str, fixed: Sequence[str]) -> list[str]:
    """Triggers that let the read model change only with the events of the same transaction.

    A row added to a table keyed by position must belong to an event this transaction
    inserted (its xmin); a thing and its snapshots may change only when an event of this
    transaction shapes it or retracts one that did; the head moves only over this
    transaction's events, to the last one's hash. Deleting or truncating is for `rebuild`,
    run by the tables' owner with `coopledger.rebuilding` set. `fixed` tables are never
    changed once written.
    """
    mine = (
        f"SELECT 1 FROM {events_table} e WHERE e.originator_id = '{ledger}'::uuid"
        " AND e.originator_version = {position} AND e.xmin = pg_current_xact_id()::xid"
    )
    refused = f"RAISE EXCEPTION '{GUARDED} (%)', TG_TABLE_NAME"
    # The thing t.kind, t.slug is shaped by this transaction: by its latest event, or by the
    # retraction of one of its events.
    latest = (
        "(SELECT te.position FROM coopledger_thing_events te WHERE te.kind = t.kind AND te.slug = t.slug"
        " AND te.subject = 1 ORDER BY te.position DESC LIMIT 1)"
    )
    shaped = (
        f"EXISTS ({mine.format(position=latest)}) OR EXISTS (SELECT 1 FROM coopledger_thing_events te"
        " JOIN coopledger_log l ON l.position = te.position WHERE te.kind = t.kind AND te.slug = t.slug"
        f" AND te.subject = 1 AND EXISTS ({mine.format(position='l.retracted_by')}))"
    )
    functions = [
        "CREATE OR REPLACE FUNCTION coopledger_rebuilding(relation oid) RETURNS boolean"
        " LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$"
        " SELECT coalesce(current_setting('coopledger.rebuilding', true), '') = 'on'"
        " AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = relation), 'USAGE') $$",
        f"CREATE OR REPLACE FUNCTION coopledger_guard_added() RETURNS trigger {_PLPGSQL} AS $$ BEGIN"
        " IF EXISTS (SELECT 1 FROM added a WHERE NOT EXISTS ("
        + mine.format(position="a.position")
        + f")) AND NOT coopledger_rebuilding(TG_RELID) THEN {refused}; END IF; RETURN NULL; END $$",
        # A successor's rows may copy an earlier event's, for a succession of this transaction.
        f"CREATE OR REPLACE FUNCTION coopledger_guard_succeeded() RETURNS trigger {_PLPGSQL} AS $$ BEGIN"
        " IF EXISTS (SELECT 1 FROM added a WHERE NOT EXISTS ("
        + mine.format(position="a.position")
        + ") AND (a.succession IS NULL OR NOT EXISTS ("
        + mine.format(position="a.succession")
        + f"))) AND NOT coopledger_rebuilding(TG_RELID) THEN {refused}; END IF; RETURN NULL; END $$",
        # They go only with the retraction of their succession, in this transaction.
        f"CREATE OR REPLACE FUNCTION coopledger_guard_unsucceeded() RETURNS trigger {_PLPGSQL} AS $$ BEGIN"
        " IF coopledger_rebuilding(TG_RELID) OR OLD.succession IS NOT NULL AND EXISTS ("
        "SELECT 1 FROM coopledger_log l WHERE l.position = OLD.succession AND EXISTS ("
        + mine.format(position="l.retracted_by")
        + f")) THEN RETURN OLD; END IF; {refused}; END $$",
        f"CREATE OR REPLACE FUNCTION coopledger_guard_removed() RETURNS trigger {_PLPGSQL} AS $$ BEGIN"
        f" IF NOT coopledger_rebuilding(TG_RELID) THEN {refused}; END IF; RETURN NULL; END $$",
        f"CREATE OR REPLACE FUNCTION coopledger_guard_fixed() RETURNS trigger {_PLPGSQL} AS $$ BEGIN"
        " RAISE EXCEPTION 'coopledger: % is never changed', TG_TABLE_NAME; END $$",
        # A retraction marks the log row of the event it retracts, and nothing else of it.
        f"CREATE OR REPLACE FUNCTION coopledger_guard_retracted() RETURNS trigger {_PLPGSQL} AS $$ BEGIN"
        " IF coopledger_rebuilding(TG_RELID) THEN RETURN NEW; END IF;"
        " IF (NEW.position, NEW.id, NEW.key, NEW.type, NEW.day, NEW.recorded_at, NEW.parties)"
        " IS DISTINCT FROM (OLD.position, OLD.id, OLD.key, OLD.type, OLD.day, OLD.recorded_at, OLD.parties)"
        " OR OLD.retracted_by IS NOT NULL OR NOT EXISTS ("
        + mine.format(position="NEW.retracted_by")
        + f") THEN {refused}; END IF; RETURN NEW; END $$",
        # A thing and its snapshots change with an event of this transaction that shapes the
        # thing (its latest), or with this transaction's retraction of one that did: checked once
        # a statement over the keys it changed (its transition tables), not once a row (a row
        # trigger was 40 % of PostgreSQL's time in an import). `changed` holds the rows an INSERT
        # or UPDATE left, `gone` those an UPDATE or DELETE took away; each IF reads only a table
        # its trigger has.
        f"CREATE OR REPLACE FUNCTION coopledger_guard_shaped() RETURNS trigger {_PLPGSQL} AS $$"
        " BEGIN IF coopledger_rebuilding(TG_RELID) THEN RETURN NULL; END IF;"
        " IF TG_OP <> 'DELETE' THEN IF EXISTS (SELECT 1 FROM (SELECT DISTINCT kind, slug FROM changed) t"
        f" WHERE NOT ({shaped})) THEN {refused}; END IF; END IF;"
        " IF TG_OP <> 'INSERT' THEN IF EXISTS (SELECT 1 FROM (SELECT DISTINCT kind, slug FROM gone) t"
        f" WHERE NOT ({shaped})) THEN {refused}; END IF; END IF;"
        " RETURN NULL; END $$",
        # An UPDATE never moves a thing or a snapshot to another key.
        f"CREATE OR REPLACE FUNCTION coopledger_guard_rekeyed() RETURNS trigger {_PLPGSQL} AS $$"
        f" BEGIN {refused}; END $$",
        # The head moves forward over this transaction's events only, to the last one's hash and time.
        f"CREATE OR REPLACE FUNCTION coopledger_guard_head() RETURNS trigger {_PLPGSQL} AS $$"
        " DECLARE last jsonb; BEGIN IF coopledger_rebuilding(TG_RELID) THEN RETURN NEW; END IF;"
        " IF NEW.singleton <> OLD.singleton OR NEW.position < OLD.position"
        " OR (NEW.position = OLD.position AND (NEW.hash, NEW.recorded_at) IS DISTINCT FROM"
        f" (OLD.hash, OLD.recorded_at)) THEN {refused}; END IF;"
        " IF NEW.position = OLD.position THEN RETURN NEW; END IF;"
        f" IF (SELECT count(*) FROM {events_table} e WHERE e.originator_id = '{ledger}'::uuid"
        " AND e.originator_version > OLD.position AND e.originator_version <= NEW.position"
        " AND e.xmin = pg_current_xact_id()::xid) <> NEW.position - OLD.position THEN"
        f" {refused}; END IF;"
        f" SELECT convert_from(state, 'UTF8')::jsonb INTO last FROM {events_table}"
        f" WHERE originator_id = '{ledger}'::uuid AND originator_version = NEW.position;"
        " IF last->>'hash' IS DISTINCT FROM NEW.hash OR last->>'recorded_at' IS DISTINCT FROM"
        f" NEW.recorded_at THEN {refused}; END IF; RETURN NEW; END $$",
    ]

    def trigger(name: str, when: str, table: str, each: str, function: str, only: str = "") -> str:
        tables = "NEW TABLE AS added" if function in ("added", "succeeded") else ""
        if function == "shaped":
            tables = {
                "INSERT": "NEW TABLE AS changed",
                "UPDATE": "OLD TABLE AS gone NEW TABLE AS changed",
                "DELETE": "OLD TABLE AS gone",
            }[when.split()[-1]]
        return (
            f"CREATE OR REPLACE TRIGGER coopledger_guard_{name} {when} ON {table}"
            + (f" REFERENCING {tables}" if tables else "")
            + f" FOR EACH {each}"
            + (f" WHEN ({only})" if only else "")
            + f" EXECUTE FUNCTION coopledger_guard_{function}()"
        )

    log, relationships, things, thing_events, snapshots = (
        "coopledger_log",
        "coopledger_relationship_events",
        "coopledger_things",
        "coopledger_thing_events",
        "coopledger_snapshots",
    )
    triggers = [
        # The row guards of things and snapshots that stores made before 2026-12-04 have.
        *(f"DROP TRIGGER IF EXISTS coopledger_guard_{old} ON {table}" for old, table in OLD_ROW_GUARDS),
        "DROP FUNCTION IF EXISTS coopledger_guard_thing()",
        trigger("head", "BEFORE UPDATE", "coopledger_head", "ROW", "head"),
        trigger("head_added", "AFTER INSERT", "coopledger_head", "STATEMENT", "added"),
        trigger("head_removed", "BEFORE DELETE OR TRUNCATE", "coopledger_head", "STATEMENT", "removed"),
        trigger("retracted", "BEFORE UPDATE", log, "ROW", "retracted"),
        # A thing's snapshots change as the thing does (made again from an event on).
        *(
            guard
            for name, table in (("things", things), ("snapshots", snapshots))
            for guard in (
                trigger(f"{name}_added", "AFTER INSERT", table, "STATEMENT", "shaped"),
                trigger(f"{name}_changed", "AFTER UPDATE", table, "STATEMENT", "shaped"),
                trigger(f"{name}_deleted", "AFTER DELETE", table, "STATEMENT", "shaped"),
                trigger(
                    f"{name}_rekeyed",
                    "BEFORE UPDATE",
                    table,
                    "ROW",
                    "rekeyed",
                    only="(OLD.kind, OLD.slug) IS DISTINCT FROM (NEW.kind, NEW.slug)",
                ),
                trigger(f"{name}_removed", "BEFORE TRUNCATE", table, "STATEMENT", "removed"),
            )
        ),
        *(
            trigger(f"{table}_added", "AFTER INSERT", table, "STATEMENT", "added")
            for table in (log, thing_events)
        ),
        trigger(f"{relationships}_added", "AFTER INSERT", relationships, "STATEMENT", "succeeded"),
        trigger("log_removed", "BEFORE DELETE OR TRUNCATE", log, "STATEMENT", "removed"),
        trigger(
            f"{relationships}_removed", "BEFORE UPDATE OR TRUNCATE", relationships, "STATEMENT", "removed"
        ),
        trigger(f"{relationships}_unsucceeded", "BEFORE DELETE", relationships, "ROW", "unsucceeded"),
        trigger(
            f"{thing_events}_removed",
            "BEFORE UPDATE OR DELETE OR TRUNCATE",
            thing_events,
            "STATEMENT",
            "removed",
        ),
        *(
            trigger(f"{table}_fixed", "BEFORE UPDATE OR DELETE OR TRUNCATE", table, "STATEMENT", "fixed")
            for table in fixed
        ),
    ]
    return functions + triggers


def wal(path: Path, timeout: int) -> None:
    """Turn WAL on before the first pooled connection does it.

    Processes opening a brand-new file at once can find it locked while one of them sets the
    journal mode, and that error comes at once, whatever the busy timeout: retry it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with closing(sqlite3.connect(path, timeout=timeout, isolation_level=None)) as connection:
                if connection.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if not busy(error) or time.monotonic() > deadline:
                raise
            time.sleep(random.uniform(0.01, 0.05))


def journal_in_memory(cursor: sqlite3.Cursor) -> None:
    """For a file that no other connection opens (a ledger being made under a temporary name):
    its next transaction writes its pages into the file itself and keeps its rollback journal in
    memory, instead of appending every page to the write-ahead log and looking each one up there.
    A rollback still undoes it; a crash leaves a half-made file, which is never given the
    ledger's name (`files.made_whole` clears it). Its maker turns WAL back on before then.
    Should another connection have it open after all, SQLite refuses to leave WAL (the file is
    "locked") and the transaction goes through the log: slower, as safe."""
    try:
        cursor.execute("PRAGMA journal_mode=MEMORY")
    except sqlite3.OperationalError as error:
        if not busy(error):
            raise


def busy(error: sqlite3.OperationalError) -> bool:
    return "locked" in str(error) or "busy" in str(error)


@contextmanager
def immediate(connection: Any, cursor: sqlite3.Cursor) -> Iterator[None]:
    """A SQLite transaction on a connection in autocommit mode, committed if the block ends well."""
    # IMMEDIATE takes the write lock before the first read, so the rules are checked against
    # the ledger as it is when this transaction commits.
    cursor.execute("BEGIN IMMEDIATE")
    # Writes insert into several indexes at random places: a larger page cache keeps them in
    # memory (32 MiB at most, per writing connection).
    cursor.execute("PRAGMA cache_size = -32768")
    try:
        yield
        connection.commit()
    except BaseException:
        connection.rollback()
        raise


def serialise(cursor: Any, lock: int, timeout: int) -> None:
    """Wait (at most `timeout` seconds) for the lock one PostgreSQL writer holds at a time.

    It is the head row, locked from before the first read to the commit: a row lock ends with
    its transaction, so no role can hold the ledger for longer. A store not yet created has no
    head: creating it is serialised by an advisory lock, which concurrent CREATE ... IF NOT
    EXISTS would not be.
    """
    cursor.execute(f"SET LOCAL lock_timeout = '{timeout}s'")
    if not _has_head(cursor):
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))
        if not _has_head(cursor):  # still new: this transaction creates it
            return
    cursor.execute("SELECT position FROM coopledger_head WHERE singleton = 1 FOR UPDATE")


# A query of the catalog table sees what other transactions committed since this one began
# waiting; to_regclass() may answer from a catalog snapshot taken before.
POSTGRES_TABLE = (
    "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relname = %s AND n.nspname = current_schema()"
)


def _has_head(cursor: Any) -> bool:
    cursor.execute(POSTGRES_TABLE, ("coopledger_head",))
    return cursor.fetchone() is not None


def copy_rows(cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Add rows to a PostgreSQL table with one COPY."""
    if rows:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


CONNECT_TIMEOUT = 10  # seconds a PostgreSQL server has to answer, unless the URL says otherwise


def connect(url: str) -> Any:
    """A psycopg connection as eventsourcing's datastore gives them (autocommit, rows as dicts)."""
    import psycopg
    from psycopg.rows import dict_row

    return psycopg.connect(conninfo(url), autocommit=True, row_factory=dict_row)


def conninfo(url: str) -> str:
    """A postgresql+psycopg:// URL as libpq reads it, with a connect timeout unless it gives one.

    Raises psycopg.ProgrammingError when libpq cannot read it.
    """
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    written = libpq_url(url)
    given = str(conninfo_to_dict(written).get("connect_timeout", ""))
    if not given:
        return make_conninfo(written, connect_timeout=CONNECT_TIMEOUT)
    if not (given.isascii() and given.isdigit()):
        raise ProgrammingError(f"bad value for connect_timeout: {given!r}")
    return written


def libpq_url(url: str) -> str:
    """An SQLAlchemy-style postgresql+psycopg:// URL as libpq reads it."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def appender_grants(
    role: str, events_table: str, schema: str, read_model: Sequence[str], fixed: Sequence[str]
) -> list[str]:
    """What a role needs to append and read, and no more: it can never rewrite recorded events.

    It may insert events (and use their id sequence), add read-model rows and move the head,
    which the guards (`postgres_guards`) accept only for events of the same transaction, and
    mark a log row retracted; it gets no UPDATE, DELETE or TRUNCATE of events or of rows added
    per event, and, not owning the tables, cannot drop or disable the triggers that refuse them.
    """
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise LedgerError(f"role {role!r}: use lower-case letters, digits and '_'")
    everything = ", ".join((events_table, *read_model, *fixed))
    return [
        f'GRANT USAGE ON SCHEMA "{schema}" TO {role}',
        f"REVOKE ALL ON {everything} FROM {role}",
        f"GRANT SELECT ON {everything} TO {role}",
        f"GRANT INSERT ON {events_table} TO {role}",
        f"GRANT USAGE ON SEQUENCE {events_table}_id_seq TO {role}",
        f"GRANT UPDATE ON coopledger_head TO {role}",
        f"GRANT INSERT ON coopledger_log, coopledger_relationship_events, coopledger_thing_events TO {role}",
        f"GRANT UPDATE (retracted_by, retracted_at) ON coopledger_log TO {role}",
        f"GRANT INSERT, UPDATE, DELETE ON coopledger_things TO {role}",
        f"GRANT INSERT, DELETE ON coopledger_snapshots TO {role}",
        # A succession's rows go with its retraction (the guards let only those go).
        f"GRANT DELETE ON coopledger_relationship_events TO {role}",
    ]

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
  with `LOCK TABLE … IN EXCLUSIVE MODE` inside `insert_events`, after any read, and that lock
  needs UPDATE privilege; an advisory lock taken first serialises whole transactions and lets
  an appender role go without UPDATE (`serialise`).
- WAL turned on with retries: the SQLite pool turns it on once, at its first connection, and
  processes creating one new file at the same moment can find it locked (`wal`).
- COPY of rows into PostgreSQL: the recorder inserts with one `unnest()` of a composite type,
  in a transaction of its own; the ledger's rows go in with the rest of its transaction
  (`copy_rows`, 12 % less time than INSERTs on an import of 100k events).
- Recorded events defended in the database: the library records events but does not stop
  anyone from changing them. Triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL)
  of recorded events (`sqlite_triggers`, `postgres_triggers`); an appender role gets what it
  needs to append and nothing that rewrites (`appender_grants`).
- A PostgreSQL connection made from the --db URL as written (`connect`): `PostgresDatastore`
  builds its pool from dbname, host, port, user and password, with no place for libpq's other
  parameters (`options=-csearch_path=…`, `sslmode`, …).

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


def sqlite_triggers(events_table: str) -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS coopledger_events_no_{verb.lower()}"
        f" BEFORE {verb} ON {events_table}"
        f" BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
        for verb in ("UPDATE", "DELETE")
    ]


def postgres_triggers(events_table: str) -> list[str]:
    refuse = (
        "CREATE OR REPLACE FUNCTION coopledger_refuse_change() RETURNS trigger"
        f" LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{REFUSAL} (%)', TG_OP; END $$"
    )
    return [refuse] + [
        f"CREATE OR REPLACE TRIGGER coopledger_events_no_{name} BEFORE {verbs}"
        f" ON {events_table} FOR EACH {each} EXECUTE FUNCTION coopledger_refuse_change()"
        for name, verbs, each in (
            ("change", "UPDATE OR DELETE", "ROW"),
            ("truncate", "TRUNCATE", "STATEMENT"),
        )
    ]


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
    """Wait (at most `timeout` seconds) for the advisory lock one PostgreSQL writer holds at a time.

    It is held from before the first read to the commit; it also covers creating the tables,
    which concurrent CREATE ... IF NOT EXISTS would not.
    """
    cursor.execute(f"SET LOCAL lock_timeout = '{timeout}s'")
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))


def copy_rows(cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Add rows to a PostgreSQL table with one COPY."""
    if rows:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def connect(url: str) -> Any:
    """A psycopg connection as eventsourcing's datastore gives them (autocommit, rows as dicts)."""
    import psycopg
    from psycopg.rows import dict_row

    return psycopg.connect(libpq_url(url), autocommit=True, row_factory=dict_row)


def libpq_url(url: str) -> str:
    """An SQLAlchemy-style postgresql+psycopg:// URL as libpq reads it."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def appender_grants(role: str, events_table: str, schema: str, read_model: Sequence[str]) -> list[str]:
    """What a role needs to append, and no more: it can never rewrite recorded events.

    It may insert events (and use their id sequence) and keep the read model; it gets no
    UPDATE, DELETE or TRUNCATE on the events, and, not owning the table, cannot drop or
    disable the triggers that refuse them to everyone.
    """
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise LedgerError(f"role {role!r}: use lower-case letters, digits and '_'")
    return [
        f'GRANT USAGE ON SCHEMA "{schema}" TO {role}',
        f"REVOKE ALL ON {events_table} FROM {role}",
        f"GRANT SELECT, INSERT ON {events_table} TO {role}",
        f"GRANT USAGE ON SEQUENCE {events_table}_id_seq TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(read_model)} TO {role}",
        f"GRANT SELECT ON coopledger_read_model TO {role}",
    ]

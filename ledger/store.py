"""Where the ledger lives: the --db location, the eventsourcing persistence it selects, and
serialised transactions that write the events and the read model together."""

from __future__ import annotations

import os
import random
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, uuid5

if TYPE_CHECKING:
    from eventsourcing.persistence import ApplicationRecorder, StoredEvent

from ..projections import readmodel
from .errors import Busy, LedgerError, StoreMissing, Unavailable

# Every event is a version of this one stream: eventsourcing's unique (originator_id,
# originator_version) makes positions gapless and refuses a second writer of the same one.
LEDGER_ID = uuid5(NAMESPACE_URL, "https://coopledger.example/ledger")
DEFAULT_LOCK_TIMEOUT = 30


def lock_timeout() -> int:
    """Seconds a writer waits for another to finish (COOPLEDGER_LOCK_TIMEOUT, default 30)."""
    text = os.environ.get("COOPLEDGER_LOCK_TIMEOUT", "").strip()
    if not text:
        return DEFAULT_LOCK_TIMEOUT
    if not text.isdigit() or int(text) < 1:
        raise LedgerError(f"COOPLEDGER_LOCK_TIMEOUT={text!r}: expected a whole number of seconds, 1 or more")
    return int(text)


@dataclass(frozen=True)
class Location:
    """A SQLite file (`path`) or a PostgreSQL server (`url`, an SQLAlchemy URL)."""

    path: Path | None = None
    url: str | None = None

    def __str__(self) -> str:
        return str(self.path) if self.path else _without_password(self.url or "")


def locate(db: str | None) -> Location:
    """Read --db (or COOPLEDGER_DB): a file path, sqlite:///path, or postgresql+psycopg://…"""
    if not db:
        from platformdirs import user_data_path

        return Location(path=user_data_path("coopledger") / "ledger.sqlite")
    if db.startswith("sqlite:"):
        match = re.fullmatch(r"sqlite:///(.+)", db)
        if not match:
            raise LedgerError(
                f"--db {db}: write a SQLite URL as sqlite:///relative/path or sqlite:////absolute/path"
            )
        return Location(path=Path(match[1]))
    if "://" not in db:
        return Location(path=Path(db))
    scheme, _, rest = db.partition("://")
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        return Location(url=f"postgresql+psycopg://{rest}")
    raise LedgerError(
        f"--db {_without_password(db)}: {scheme!r} is not supported; use a SQLite file path "
        "or a postgresql+psycopg:// URL"
    )


def _without_password(url: str) -> str:
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def environment(location: Location) -> dict[str, str]:
    """The eventsourcing environment for a location; tables are created by `Database.create`."""
    if location.path is not None:
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(location.path),
            "SQLITE_LOCK_TIMEOUT": str(lock_timeout()),
            "CREATE_TABLE": "no",
        }
    assert location.url is not None
    return {
        "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
        "SQLALCHEMY_URL": location.url,
        "CREATE_TABLE": "no",
    }


class Cursor:
    """A DB-API cursor speaking the read model's `?` placeholders."""

    def __init__(self, cursor: Any, placeholder: str):
        self._cursor = cursor
        self._placeholder = placeholder

    def rows(self, statement: str, params: Sequence[Any] = ()) -> list[readmodel.Row]:
        self.run(statement, params)
        return self._cursor.fetchall()

    def run(self, statement: str, params: Sequence[Any] = ()) -> None:
        if self._placeholder == "?":
            self._cursor.execute(statement, params)
        elif params:
            self._cursor.execute(_translate(statement), params)
        else:  # no placeholders to fill: the statement goes as written
            self._cursor.execute(statement)

    def many(self, statement: str, params: Iterable[Sequence[Any]]) -> None:
        params = list(params)
        if params:
            sql = statement if self._placeholder == "?" else _translate(statement)
            self._cursor.executemany(sql, params)

    def add(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Add rows to a table."""
        self.many(readmodel.insert(table, columns), rows)


class PostgresCursor(Cursor):
    def __init__(self, cursor: Any):
        super().__init__(cursor, "%s")

    def add(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Add rows with COPY (an import of 100k events took 12 % less time than with INSERTs)."""
        if rows:
            with self._cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)


@lru_cache(maxsize=256)
def _translate(statement: str) -> str:
    return statement.replace("%", "%%").replace("?", "%s")


EVENTS_TABLES = {"sqlite": "stored_events", "postgresql": "coopledger_events"}  # as eventsourcing names them


class Reader:
    """Reads a ledger with the database's own driver: queries import neither eventsourcing nor
    SQLAlchemy, which would cost a command-line query most of its time."""

    dialect: str
    placeholder: str

    def __init__(self, location: Location):
        self.location = location
        self.events_table = EVENTS_TABLES[self.dialect]
        self.statements = readmodel.statements(self.events_table)
        self._connection: Any = None

    @property
    def ledger_id(self) -> Any:
        return LEDGER_ID

    _schema_probe = ""

    def has_schema(self, cursor: Cursor) -> bool:
        return bool(cursor.rows(self._schema_probe))

    def exists(self) -> bool:
        """Whether the store has been created (queries never create it)."""
        with self.reading() as cursor:
            return self.has_schema(cursor)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        yield

    def _connect(self) -> Any:
        raise NotImplementedError

    @contextmanager
    def reading(self) -> Iterator[Cursor]:
        """One read transaction: a consistent view of the ledger."""
        with self._errors():
            if self._connection is None:
                self._connection = self._connect()
            cursor = self._connection.cursor()
            if self.dialect == "sqlite":
                cursor.execute("BEGIN")  # psycopg begins one itself
            try:
                yield Cursor(cursor, self.placeholder)
            finally:
                cursor.close()
                self._connection.rollback()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class SQLiteReader(Reader):
    dialect = "sqlite"
    placeholder = "?"
    _schema_probe = "SELECT 1 FROM sqlite_master WHERE name = 'coopledger_head'"

    @property
    def ledger_id(self) -> Any:
        return LEDGER_ID.hex  # eventsourcing.sqlite stores originator ids as hex text

    @property
    def path(self) -> Path:
        assert self.location.path is not None
        return self.location.path

    def exists(self) -> bool:
        return self.path.exists() and super().exists()

    def _connect(self) -> Any:
        # Autocommit, so `reading` can open one explicit read transaction: one snapshot.
        return sqlite3.connect(
            self.path, timeout=lock_timeout(), check_same_thread=False, isolation_level=None
        )

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as error:
            if _busy(error):
                raise Busy(f"the ledger {self.location} is busy with another writer; try again") from None
            raise Unavailable(f"cannot use the ledger at {self.location}: {error}") from None
        except sqlite3.DatabaseError as error:
            raise Unavailable(f"cannot use the ledger at {self.location}: {error}") from None


class PostgresReader(Reader):
    dialect = "postgresql"
    placeholder = "%s"
    _schema_probe = "SELECT 1 FROM pg_class WHERE oid = to_regclass('coopledger_head')"

    def _connect(self) -> Any:
        import psycopg

        assert self.location.url is not None
        return psycopg.connect(self.location.url.replace("postgresql+psycopg://", "postgresql://", 1))

    @contextmanager
    def _errors(self) -> Iterator[None]:
        import psycopg

        try:
            yield
        except Exception as error:
            cause: BaseException | None = error
            while cause is not None and not isinstance(cause, psycopg.Error):
                cause = getattr(cause, "orig", None) or cause.__cause__
            if isinstance(cause, psycopg.errors.LockNotAvailable):
                raise Busy(f"the ledger {self.location} is busy with another writer; try again") from None
            if not isinstance(cause, psycopg.OperationalError):
                raise
            reason = str(cause).strip().splitlines()[0]
            raise Unavailable(f"cannot use the ledger at {self.location}: {reason}") from None


class Database(Reader):
    """A ledger to write: the eventsourcing recorder's table and the read model, in one transaction."""

    position_key = "BIGINT PRIMARY KEY"
    without_rowid = ""

    def __init__(self, recorder: ApplicationRecorder, location: Location):
        super().__init__(location)
        self.recorder = recorder
        assert recorder.events_table_name == self.events_table  # type: ignore[attr-defined]

    def create(self, cursor: Cursor) -> None:
        """Create the event store table, the read model and the triggers, in the transaction."""
        raise NotImplementedError

    @contextmanager
    def writing(self) -> Iterator[Cursor]:
        """A transaction that holds the ledger's write lock from its first statement."""
        raise NotImplementedError
        yield

    def insert(self, cursor: Cursor, stored: Sequence[StoredEvent]) -> None:
        raise NotImplementedError


class SQLiteDatabase(Database, SQLiteReader):
    position_key = "INTEGER PRIMARY KEY"  # the rowid itself: one B-tree, not two
    without_rowid = " WITHOUT ROWID"
    _wal_on = False

    def create(self, cursor: Cursor) -> None:
        self.recorder._create_table(cursor._cursor)  # type: ignore[attr-defined]
        for statement in readmodel.schema(self.position_key, self.without_rowid) + self._triggers():
            cursor.run(statement)

    def _triggers(self) -> list[str]:
        return [
            f"CREATE TRIGGER IF NOT EXISTS coopledger_events_no_{verb.lower()}"
            f" BEFORE {verb} ON {self.events_table}"
            f" BEGIN SELECT RAISE(ABORT, 'coopledger: recorded events cannot be changed or removed'); END"
            for verb in ("UPDATE", "DELETE")
        ]

    def _wal(self) -> None:
        """Turn WAL on before the first pooled connection does it.

        Processes opening a brand-new file at once can find it locked while one of them sets
        the journal mode, and that error comes at once, whatever the busy timeout: retry it.
        """
        if self._wal_on:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + lock_timeout()
        while True:
            try:
                with closing(
                    sqlite3.connect(self.path, timeout=lock_timeout(), isolation_level=None)
                ) as connection:
                    if connection.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                        connection.execute("PRAGMA journal_mode=WAL")
                self._wal_on = True
                return
            except sqlite3.OperationalError as error:
                if not _busy(error) or time.monotonic() > deadline:
                    raise
                time.sleep(random.uniform(0.01, 0.05))

    @contextmanager
    def writing(self) -> Iterator[Cursor]:
        datastore = self.recorder.datastore  # type: ignore[attr-defined]
        with self._errors():
            self._wal()
        with self._errors(), datastore.get_connection(commit=True) as connection:
            cursor = connection.cursor()
            # IMMEDIATE takes the write lock before the first read, so the rules are
            # checked against the ledger as it is when this transaction commits.
            cursor.execute("BEGIN IMMEDIATE")
            # Writes insert into several indexes at random places: a larger page cache keeps
            # them in memory (32 MiB at most, per writing connection).
            cursor.execute("PRAGMA cache_size = -32768")
            try:
                yield Cursor(cursor, "?")
                connection.commit()
            except BaseException:
                connection.rollback()
                raise
            finally:
                cursor.sqlite_cursor.close()

    def insert(self, cursor: Cursor, stored: Sequence[StoredEvent]) -> None:
        self.recorder._insert_events(cursor._cursor, stored)  # type: ignore[attr-defined]


class PostgresDatabase(Database, PostgresReader):
    def create(self, cursor: Cursor) -> None:
        for table in self.recorder.tables:  # type: ignore[attr-defined]
            table.create(self._session.connection(), checkfirst=True)
        for statement in readmodel.schema(self.position_key, self.without_rowid) + self._triggers():
            cursor.run(statement)

    def _triggers(self) -> list[str]:
        refuse = (
            "CREATE OR REPLACE FUNCTION coopledger_refuse_change() RETURNS trigger"
            " LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION"
            " 'coopledger: recorded events cannot be changed or removed (%)', TG_OP; END $$"
        )
        return [refuse] + [
            f"CREATE OR REPLACE TRIGGER coopledger_events_no_{name} BEFORE {verbs}"
            f" ON {self.events_table} FOR EACH {each} EXECUTE FUNCTION coopledger_refuse_change()"
            for name, verbs, each in (
                ("change", "UPDATE OR DELETE", "ROW"),
                ("truncate", "TRUNCATE", "STATEMENT"),
            )
        ]

    @contextmanager
    def writing(self) -> Iterator[Cursor]:
        datastore = self.recorder.datastore  # type: ignore[attr-defined]
        with self._errors(), datastore.transaction(commit=True) as session:
            cursor = PostgresCursor(session.connection().connection.driver_connection.cursor())
            cursor.run(f"SET LOCAL lock_timeout = '{lock_timeout()}s'")
            # One writer at a time, from before the first read to the commit; the lock also
            # covers creating the tables, which concurrent CREATE ... IF NOT EXISTS would not.
            cursor.run("SELECT pg_advisory_xact_lock(?)", (_WRITE_LOCK,))
            self._session = session
            yield cursor

    def insert(self, cursor: Cursor, stored: Sequence[StoredEvent]) -> None:
        """Insert into eventsourcing's table with one COPY, not its ORM.

        The recorder's insert flushes one ORM object per event (about a tenth of a
        millisecond each) and locks the table to keep commit order; the advisory lock above
        already gives one writer at a time, so plain rows do the same job. Listeners are told,
        as the recorder tells them.
        """
        cursor.add(
            self.events_table,
            ("originator_id", "originator_version", "topic", "state"),
            [(s.originator_id, s.originator_version, s.topic, s.state) for s in stored],
        )
        cursor.run(f"NOTIFY {self.events_table}")

    def appender_grants(self, role: str) -> list[str]:
        """What a role needs to append, and no more: it can never rewrite recorded events.

        It may insert events (and use their id sequence) and keep the read model; it gets no
        UPDATE, DELETE or TRUNCATE on the events, and, not owning the table, cannot drop or
        disable the triggers that refuse them to everyone.
        """
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
            raise LedgerError(f"role {role!r}: use lower-case letters, digits and '_'")
        read_model = ", ".join(readmodel.TABLES)
        return [
            f'GRANT USAGE ON SCHEMA "{self._schema()}" TO {role}',
            f"REVOKE ALL ON {self.events_table} FROM {role}",
            f"GRANT SELECT, INSERT ON {self.events_table} TO {role}",
            f"GRANT USAGE ON SEQUENCE {self.events_table}_id_seq TO {role}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON {read_model} TO {role}",
        ]

    def _schema(self) -> str:
        with self.reading() as cursor:
            return str(cursor.rows("SELECT current_schema()")[0][0])

    def grant(self, statements: list[str]) -> None:
        with self.writing() as cursor:
            for statement in statements:
                cursor.run(statement)


_WRITE_LOCK = int.from_bytes(LEDGER_ID.bytes[:8], "big", signed=True)


def _busy(error: sqlite3.OperationalError) -> bool:
    return "locked" in str(error) or "busy" in str(error)


def reader(location: Location) -> Reader:
    return SQLiteReader(location) if location.path is not None else PostgresReader(location)


def database(recorder: ApplicationRecorder, location: Location) -> Database:
    kind = SQLiteDatabase if location.path is not None else PostgresDatabase
    return kind(recorder, location)


def missing(location: Location) -> StoreMissing:
    return StoreMissing(f"no ledger at {location}: create it with `coopledger init` or record an event")

"""Where the ledger lives: the --db location, readers that query it with the database's own
driver, and the database that writers record into, through eventsourcing's recorders
(`ledger.sqlite`, `ledger.postgres`), in serialised transactions that write the events and the
read model together."""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote
from uuid import NAMESPACE_URL, uuid5

if TYPE_CHECKING:
    from eventsourcing.persistence import StoredEvent

from ..projections import readmodel
from . import beyond_library as beyond
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
    """A SQLite file (`path`) or a PostgreSQL server (`url`, a postgresql+psycopg:// URL)."""

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


# eventsourcing's name for the ledger: the PostgreSQL table of events is `coopledger_events`.
NAME = "coopledger"
# What eventsourcing's PostgreSQL factory reads of a server, as POSTGRES_DBNAME, POSTGRES_HOST, ...
POSTGRES_PARAMETERS = ("dbname", "host", "port", "user", "password")


def environment(location: Location) -> dict[str, str]:
    """eventsourcing's environment for a location: the persistence module (a factory of the
    ledger's recorder) and its settings; tables are created by `Database.create`."""
    if location.path is not None:
        return {
            "PERSISTENCE_MODULE": f"{__package__}.sqlite:Factory",
            "SQLITE_DBNAME": str(location.path),
            "SQLITE_LOCK_TIMEOUT": str(lock_timeout()),
            "CREATE_TABLE": "no",
        }
    assert location.url is not None
    from psycopg.conninfo import conninfo_to_dict

    given = conninfo_to_dict(beyond.libpq_url(location.url))  # as libpq reads it
    return {
        "PERSISTENCE_MODULE": f"{__package__}.postgres:Factory",
        "POSTGRES_URL": location.url,
        **{f"POSTGRES_{key.upper()}": str(given.get(key) or "") for key in POSTGRES_PARAMETERS},
        "POSTGRES_LOCK_TIMEOUT": str(lock_timeout()),
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
        """Add rows with COPY."""
        beyond.copy_rows(self._cursor, table, columns, rows)


@lru_cache(maxsize=256)
def _translate(statement: str) -> str:
    return statement.replace("%", "%%").replace("?", "%s")


EVENTS_TABLES = {"sqlite": "stored_events", "postgresql": "coopledger_events"}  # as eventsourcing names them


class Reader:
    """Reads a ledger with the database's own driver: queries import neither eventsourcing nor
    SQLAlchemy, which would cost a command-line query most of its time."""

    dialect: str
    placeholder: str

    def __init__(self, location: Location, read_only: bool = False):
        self.location = location
        self.read_only = read_only  # the database itself refuses writes on the connection
        self.events_table = EVENTS_TABLES[self.dialect]
        self.statements = readmodel.statements(self.events_table)
        self._connection: Any = None

    @property
    def ledger_id(self) -> Any:
        return LEDGER_ID

    _table_probe = ""  # finds a table by its name

    def has_table(self, cursor: Cursor, name: str) -> bool:
        return bool(cursor.rows(self._table_probe, (name,)))

    def has_schema(self, cursor: Cursor) -> bool:
        return self.has_table(cursor, "coopledger_head")

    def current(self, cursor: Cursor) -> bool:
        """Whether the read model's tables are of this version's layout."""
        if not self.has_table(cursor, "coopledger_read_model"):
            return False
        return bool(cursor.rows(readmodel.READ_MODEL_VERSION)[0][0] == readmodel.VERSION)

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
    _table_probe = "SELECT 1 FROM sqlite_master WHERE name = ?"

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
        target, uri = (
            (f"file:{quote(str(self.path))}?mode=ro", True) if self.read_only else (self.path, False)
        )
        return sqlite3.connect(
            target, timeout=lock_timeout(), check_same_thread=False, isolation_level=None, uri=uri
        )

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as error:
            if beyond.busy(error):
                raise Busy(f"the ledger {self.location} is busy with another writer; try again") from None
            raise Unavailable(f"cannot use the ledger at {self.location}: {error}") from None
        except sqlite3.DatabaseError as error:
            raise Unavailable(f"cannot use the ledger at {self.location}: {error}") from None


class PostgresReader(Reader):
    dialect = "postgresql"
    placeholder = "%s"
    _table_probe = "SELECT 1 FROM pg_class WHERE oid = to_regclass(?)"

    def _connect(self) -> Any:
        import psycopg

        assert self.location.url is not None
        connection = psycopg.connect(beyond.libpq_url(self.location.url))
        connection.read_only = self.read_only  # every transaction READ ONLY
        return connection

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


class Recorder(Protocol):
    """What a Database asks of eventsourcing's recorder, as `ledger.sqlite` and
    `ledger.postgres` extend it: its tables created, and events recorded, in the caller's
    transaction on one of its datastore's connections."""

    events_table_name: str

    def create(self, cursor: Cursor) -> None: ...
    def record(self, cursor: Cursor, stored: Sequence[StoredEvent]) -> None: ...
    def connection(self) -> AbstractContextManager[Any]: ...


class Database(Reader):
    """A ledger to write: eventsourcing's recorder, its table of events beside the read model,
    written in one transaction."""

    def __init__(self, location: Location):
        super().__init__(location)
        from eventsourcing.persistence import InfrastructureFactory
        from eventsourcing.utils import Environment

        self.factory = InfrastructureFactory.construct(Environment(NAME, environment(location)))
        with self._errors():
            self.recorder: Recorder = self.factory.application_recorder()  # type: ignore[assignment]
        assert self.recorder.events_table_name == self.events_table

    def create(self, cursor: Cursor) -> None:
        """Create the event store table, the read model and the triggers, in the transaction."""
        self.recorder.create(cursor)

    @contextmanager
    def writing(self) -> Iterator[Cursor]:
        """A transaction that holds the ledger's write lock from its first statement."""
        raise NotImplementedError
        yield

    def insert(self, cursor: Cursor, stored: Sequence[StoredEvent]) -> None:
        self.recorder.record(cursor, stored)

    def close(self) -> None:
        super().close()
        self.factory.close()


class SQLiteDatabase(Database, SQLiteReader):
    _wal_on = False

    @contextmanager
    def writing(self) -> Iterator[Cursor]:
        with self._errors():
            if not self._wal_on:
                beyond.wal(self.path, lock_timeout())
                self._wal_on = True
        with (
            self._errors(),
            self.recorder.connection() as connection,
            connection.cursor() as cursor,
            beyond.immediate(connection, cursor),
        ):
            yield Cursor(cursor, "?")


class PostgresDatabase(Database, PostgresReader):
    @contextmanager
    def writing(self) -> Iterator[Cursor]:
        from psycopg.rows import tuple_row

        with (
            self._errors(),
            self.recorder.connection() as connection,
            connection.transaction(),
            connection.cursor(row_factory=tuple_row) as cursor,
        ):
            beyond.serialise(cursor, _WRITE_LOCK, lock_timeout())
            yield PostgresCursor(cursor)

    def appender_grants(self, role: str) -> list[str]:
        """What a role needs to append, and no more (see `beyond_library.appender_grants`)."""
        return beyond.appender_grants(role, self.events_table, self._schema(), readmodel.TABLES)

    def _schema(self) -> str:
        with self.reading() as cursor:
            return str(cursor.rows("SELECT current_schema()")[0][0])

    def grant(self, statements: list[str]) -> None:
        with self.writing() as cursor:
            for statement in statements:
                cursor.run(statement)


_WRITE_LOCK = int.from_bytes(LEDGER_ID.bytes[:8], "big", signed=True)


def reader(location: Location, read_only: bool = False) -> Reader:
    """A reader; `read_only` opens a connection on which the database refuses every write."""
    return (SQLiteReader if location.path is not None else PostgresReader)(location, read_only)


def database(location: Location) -> Database:
    kind = SQLiteDatabase if location.path is not None else PostgresDatabase
    return kind(location)


def missing(location: Location) -> StoreMissing:
    return StoreMissing(f"no ledger at {location}: create it with `coopledger init` or record an event")

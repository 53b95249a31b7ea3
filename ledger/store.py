"""Where the ledger lives: the --db location, readers that query it with the database's own
driver, and the database that writers record into, through eventsourcing's recorders
(`ledger.sqlite`, `ledger.postgres`), in serialised transactions that write the events and the
read model together."""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Generator, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import lru_cache
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote
from uuid import UUID

import orjson
from msgspec import Struct

if TYPE_CHECKING:
    from eventsourcing.persistence import StoredEvent

from ..projections import readmodel
from . import beyond_library as beyond
from .errors import Busy, Damaged, LedgerError, StoreMissing, Unavailable

# Every event is a version of this one stream: eventsourcing's unique (originator_id,
# originator_version) makes positions gapless and refuses a second writer of the same one.
# uuid5(NAMESPACE_URL, "https://coopledger.example/ledger"), written out: computing it imports
# hashlib, which a query does not need (a test checks the two agree).
LEDGER_ID = UUID("de02451f-981a-5d28-8ea0-5d10c1d30b87")
DEFAULT_LOCK_TIMEOUT = 30
MAX_LOCK_TIMEOUT = 86_400

# The version of SPEC.md whose rules this code keeps, and the table in which a store records the
# first position written under each version: `verify` checks older events with older rules.
CONTRACT = 2
CONTRACTS = "coopledger_contracts"
CONTRACTS_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {CONTRACTS} (contract INTEGER PRIMARY KEY, from_position BIGINT NOT NULL)"
)
RECORD_CONTRACT = (
    f"INSERT INTO {CONTRACTS} (contract, from_position) SELECT ?, position + 1 FROM coopledger_head"
    f" WHERE NOT EXISTS (SELECT 1 FROM {CONTRACTS} WHERE contract = ?)"
)


def lock_timeout() -> int:
    """Seconds a writer waits for another to finish (COOPLEDGER_LOCK_TIMEOUT, default 30)."""
    text = os.environ.get("COOPLEDGER_LOCK_TIMEOUT", "").strip()
    if not text:
        return DEFAULT_LOCK_TIMEOUT
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_LOCK_TIMEOUT:
        raise LedgerError(
            f"COOPLEDGER_LOCK_TIMEOUT={text!r}: expected a whole number of seconds, 1 to {MAX_LOCK_TIMEOUT}"
        )
    return int(text)


class Location(Struct, frozen=True):
    """A SQLite file (`path`) or a PostgreSQL server (`url`, a postgresql+psycopg:// URL)."""

    path: Path | None = None
    url: str | None = None
    named: Path | None = None  # a file being made under a temporary name: the name it will take

    def __str__(self) -> str:
        return str(self.named or self.path) if self.path else _without_password(self.url or "")


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
        path = Path(match[1])
        if not path.is_absolute() and not path.exists() and (Path("/") / path).exists():
            # Three slashes name a path relative to the working directory; a write would make a
            # new ledger there, beside the one the user most likely meant.
            raise LedgerError(
                f"--db {db}: names {path} in {Path.cwd()}, which is not there, while /{path} is;"
                f" write sqlite:////{path} (four slashes) or the path alone for that one"
            )
        return _file(db, path)
    if "://" not in db:
        return _file(db, Path(db))
    scheme, _, rest = db.partition("://")
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        url = f"postgresql+psycopg://{rest}"
        _readable_url(url)
        return Location(url=url)
    raise LedgerError(
        f"--db {_without_password(db)}: {scheme!r} is not supported; use a SQLite file path "
        "or a postgresql+psycopg:// URL"
    )


def _file(db: str, path: Path) -> Location:
    """A SQLite file that outlives the process: not SQLite's in-memory or temporary database,
    not a device, pipe or directory."""
    name = str(path)
    # eventsourcing opens the file as a URI: file:…, :memory: and mode=memory name no file.
    if not name or name.startswith("file:") or ":memory:" in name or "mode=memory" in name:
        raise LedgerError(
            f"--db {db}: a ledger must outlive the process; give a file path (an in-memory "
            "database would lose every event on exit)"
        )
    if path.exists() and not path.is_file():
        raise LedgerError(f"--db {db}: not a regular file; give the path of a SQLite file")
    return Location(path=path)


def _readable_url(url: str) -> None:
    import psycopg

    try:
        beyond.conninfo(url)
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0]
        raise LedgerError(
            f"--db {_without_password(url)}: not a PostgreSQL URL libpq can read ({reason})"
        ) from None


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

    given = conninfo_to_dict(beyond.conninfo(location.url))  # as libpq reads it
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

    def rows(self, statement: str, params: Sequence[Any] = (), replan: bool = False) -> list[readmodel.Row]:
        self.run(statement, params, replan)
        return self._cursor.fetchall()

    def run(self, statement: str, params: Sequence[Any] = (), replan: bool = False) -> None:
        """Run a statement. `replan`: planned for these parameters and the tables as they are
        now, never by a plan kept from earlier in the transaction (PostgreSQL; see `PostgresCursor`)."""
        if self._placeholder == "?":
            self._cursor.execute(statement, params)
        elif params:
            self._cursor.execute(_translate(statement), params, prepare=False if replan else None)
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

    def put_things(self, rows: Sequence[tuple[str, str, str]]) -> None:
        """Write things' states (kind, slug, state), new or not."""
        self.many(readmodel.PUT_THING, rows)

    def stream(self, statement: str, params: Sequence[Any] = ()) -> Generator[readmodel.Row, None, None]:
        """The rows of a long answer a page at a time, in the same transaction, on a cursor of
        their own: other statements may run while it is read."""
        cursor = self._cursor.connection.cursor()
        try:
            cursor.execute(statement, params)
            while page := cursor.fetchmany(STREAM_PAGE):
                yield from page
        finally:
            cursor.close()


STREAM_PAGE = 5000
_streams = count()


class PostgresCursor(Cursor):
    """psycopg prepares a statement run five times, and PostgreSQL may then keep one plan for it.
    Inside a long write transaction that plan is made from the tables' sizes at the time, which
    for a store being filled in that transaction are tiny: a join planned then can scan a whole
    table at every later call. A statement whose plan depends on that is run with `replan`."""

    def __init__(self, cursor: Any):
        super().__init__(cursor, "%s")

    def stream(self, statement: str, params: Sequence[Any] = ()) -> Generator[readmodel.Row, None, None]:
        """On a server-side cursor: the client never holds the whole answer."""
        cursor = self._cursor.connection.cursor(name=f"coopledger_stream_{next(_streams)}")
        cursor.itersize = STREAM_PAGE
        try:
            cursor.execute(_translate(statement) if params else statement, params or None)
            yield from cursor
        finally:
            cursor.close()

    def add(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Add rows with COPY."""
        beyond.copy_rows(self._cursor, table, columns, rows)

    def put_things(self, rows: Sequence[tuple[str, str, str]]) -> None:
        """In one statement: a statement a row would run the guards once a row."""
        if rows:
            self.run(readmodel.PUT_THINGS_AT_ONCE, (orjson.dumps(rows).decode(),))


@lru_cache(maxsize=256)
def _translate(statement: str) -> str:
    return statement.replace("%", "%%").replace("?", "%s")


EVENTS_TABLES = {"sqlite": "stored_events", "postgresql": "coopledger_events"}  # as eventsourcing names them


class Reader:
    """Reads a ledger with the database's own driver: queries import neither eventsourcing nor
    SQLAlchemy, which would cost a command-line query most of its time."""

    dialect: str

    def __init__(self, location: Location, read_only: bool = False):
        self.location = location
        self.read_only = read_only  # the database itself refuses writes on the connection
        self.events_table = EVENTS_TABLES[self.dialect]
        self.statements = readmodel.statements(self.events_table, self.dialect)
        self._connection: Any = None

    @property
    def ledger_id(self) -> Any:
        return LEDGER_ID

    _table_probe = ""  # finds a table by its name

    def has_table(self, cursor: Cursor, name: str) -> bool:
        return bool(cursor.rows(self._table_probe, (name,)))

    def has_schema(self, cursor: Cursor) -> bool:
        return self.has_table(cursor, "coopledger_head")

    def contracts(self, cursor: Cursor) -> dict[int, int]:
        """The first position written under each contract version the store records."""
        if not self.has_table(cursor, CONTRACTS):
            return {}
        return {int(contract): int(start) for contract, start in cursor.rows(f"SELECT * FROM {CONTRACTS}")}

    def damage(self, cursor: Cursor) -> str | None:
        """What the database finds wrong with its own pages, or None (PostgreSQL keeps its pages
        to itself: what it finds, it reports as an error of the statement that reads them)."""
        return None

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
                yield Cursor(cursor, "?") if self.dialect == "sqlite" else PostgresCursor(cursor)
            finally:
                cursor.close()
                self._connection.rollback()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class SQLiteReader(Reader):
    dialect = "sqlite"
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

    def damage(self, cursor: Cursor) -> str | None:
        """SQLite's `integrity_check`: every page of every table and index well formed, and every
        index holding exactly its table's rows (an index is what a query seeks through, and no
        comparison of the tables' rows reads it). 7 s for a 1M-event ledger."""
        try:
            found = [row[0] for row in cursor.rows("PRAGMA integrity_check(1)")]
        except sqlite3.OperationalError as error:
            if str(error) == MALFORMED_JSON:  # a row's text, not a page: verify's comparison names it
                return None
            raise
        if found == ["ok"]:
            return None
        lines = [line for row in found for line in row.splitlines() if not line.startswith("***")]
        return lines[0] if lines else "; ".join(found)  # the first problem, on one line

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
        except sqlite3.IntegrityError as error:  # a trigger or unique index of the ledger
            raise _refused(self.location, str(error)) from None
        except sqlite3.DatabaseError as error:  # OperationalError among them
            reason = str(error)
            if reason.startswith(NOT_UTF8):  # the text that follows is the damaged bytes: not shown
                raise damaged(self.location, reason.split(" with text ")[0]) from None
            if getattr(error, "sqlite_errorname", "").startswith("SQLITE_CORRUPT"):
                raise damaged(self.location, reason) from None
            if reason == MALFORMED_JSON:  # of a stored row: the JSON the ledger passes is orjson's
                raise damaged(self.location, "a row's JSON text is malformed") from None
            if isinstance(error, sqlite3.OperationalError) and beyond.busy(error):
                raise Busy(f"the ledger {self.location} is busy with another writer; try again") from None
            raise Unavailable(f"cannot use the ledger at {self.location}: {error}") from None


# How Python's sqlite3 says that a text column holds bytes that are not UTF-8.
NOT_UTF8 = "Could not decode to UTF-8"
# What SQLite's JSON functions say of text that is not JSON (read-model rows go through them:
# the index of meeting numbers, the statements that read states by key).
MALFORMED_JSON = "malformed JSON"


def damaged(location: Location, reason: str) -> Damaged:
    return Damaged(
        f"the ledger at {location} is damaged ({reason}): `coopledger rebuild` remakes the read"
        " model from the events; if `coopledger verify` still fails, restore the ledger from a backup"
    )


class PostgresReader(Reader):
    dialect = "postgresql"
    _table_probe = beyond.POSTGRES_TABLE.replace("%s", "?")

    def _connect(self) -> Any:
        import psycopg

        assert self.location.url is not None
        connection = psycopg.connect(beyond.conninfo(self.location.url))
        # One snapshot for every statement of a read: verify compares tables read one by one.
        connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
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
            reason = str(cause).strip().splitlines()[0] if cause else ""
            # Its triggers (raised exceptions), unique indexes and privileges: the ledger refuses.
            refusals = (
                psycopg.errors.RaiseException,
                psycopg.IntegrityError,
                psycopg.errors.InsufficientPrivilege,
            )
            if isinstance(cause, refusals):
                raise _refused(self.location, reason) from None
            if not isinstance(cause, psycopg.OperationalError):
                raise
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

    # Whether an import reads the things of a page at once (`Transaction.prefetch`) rather than
    # each when asked: worth it where a lookup is a round trip to a server.
    lookups_batched = False

    def __init__(self, location: Location):
        super().__init__(location)
        from eventsourcing.persistence import InfrastructureFactory
        from eventsourcing.utils import Environment

        self.factory = InfrastructureFactory.construct(Environment(NAME, environment(location)))
        with self._errors():
            self.recorder: Recorder = self.factory.application_recorder()  # type: ignore[assignment]
        assert self.recorder.events_table_name == self.events_table

    def current(self, cursor: Cursor) -> bool:
        """Whether the store has the read model, the triggers and the contract of this version
        (see `create`)."""
        return super().current(cursor) and CONTRACT in self.contracts(cursor)

    def guarded(self, cursor: Cursor) -> bool:
        """Whether the store's triggers are this version's (`create` lays them anew)."""
        return True

    def create(self, cursor: Cursor) -> None:
        """Create, or bring up to this version, the event store table, the read model, the
        triggers and the contract table, in the transaction; an existing store records the
        position from which this contract's rules apply (its next one)."""
        self.recorder.create(cursor)
        cursor.run(RECORD_CONTRACT, (CONTRACT, CONTRACT))

    def lay_out_anew(self, cursor: Cursor) -> None:
        """Drop the read model (its version row too, never changed once written) and create the
        store's tables as this version lays them out: `Ledger._upgrade` then fills them."""
        self.rebuilding(cursor)
        for table in (*readmodel.TABLES[1:], readmodel.READ_MODEL, *readmodel.LEGACY_TABLES):
            cursor.run(f"DROP TABLE IF EXISTS {table}")
        self.create(cursor)

    def rebuilding(self, cursor: Cursor) -> None:
        """Let this transaction empty and refill the read model (see `beyond_library` guards)."""

    def bulk(self, cursor: Cursor) -> AbstractContextManager[None]:
        """Around a write of many rows (an import, a rebuild): what the store can spare it."""
        return nullcontext()

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
        ):
            if self.location.named is not None:  # made under a temporary name, by this process alone
                beyond.journal_in_memory(cursor)
            with beyond.immediate(connection, cursor):
                beyond.append_path(cursor.connection)
                yield Cursor(cursor, "?")

    def bulk(self, cursor: Cursor) -> AbstractContextManager[None]:
        return beyond.sqlite_guards_lifted(cursor)


class PostgresDatabase(Database, PostgresReader):
    lookups_batched = True  # import of 100k events 0.80x in process; on SQLite 1.02x, so not there

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

    def create(self, cursor: Cursor) -> None:
        with self._owner_only():
            super().create(cursor)

    def lay_out_anew(self, cursor: Cursor) -> None:
        with self._owner_only():
            super().lay_out_anew(cursor)

    def guarded(self, cursor: Cursor) -> bool:
        """Whether the read model's guards are this version's: checked once a statement, not the
        row guards of things and snapshots that earlier versions made (`beyond.OLD_ROW_GUARDS`)."""
        names = [f"coopledger_guard_{old}" for old, _ in beyond.OLD_ROW_GUARDS]
        rows = cursor.rows(
            "SELECT count(*) FILTER (WHERE tgname = 'coopledger_guard_things_added'),"
            " count(*) FILTER (WHERE tgname = ANY(?)) FROM pg_trigger"
            " WHERE tgrelid IN ('coopledger_things'::regclass, 'coopledger_snapshots'::regclass)",
            (names,),
        )
        return rows[0] == (1, 0)

    @contextmanager
    def _owner_only(self) -> Iterator[None]:
        import psycopg

        try:
            yield
        except psycopg.errors.InsufficientPrivilege:
            raise LedgerError(
                f"the ledger at {self.location} was made by an earlier coopledger: its owner must "
                "bring it up to date first (coopledger init)"
            ) from None

    def rebuilding(self, cursor: Cursor) -> None:
        cursor.run("SET LOCAL coopledger.rebuilding = 'on'")

    def appender_grants(self, role: str) -> list[str]:
        """What a role needs to append, and no more (see `beyond_library.appender_grants`)."""
        return beyond.appender_grants(
            role, self.events_table, self._schema(), readmodel.TABLES, (CONTRACTS, readmodel.READ_MODEL)
        )

    def _schema(self) -> str:
        with self.reading() as cursor:
            return str(cursor.rows("SELECT current_schema()")[0][0])

    def grant(self, role: str, statements: list[str]) -> None:
        with self.writing() as cursor:
            if not cursor.rows("SELECT 1 FROM pg_roles WHERE rolname = ?", (role,)):
                raise LedgerError(f"role {role!r} does not exist: create it first (CREATE ROLE {role} LOGIN)")
            for statement in statements:
                cursor.run(statement)


_WRITE_LOCK = int.from_bytes(LEDGER_ID.bytes[:8], "big", signed=True)


def reader(location: Location, read_only: bool = False) -> Reader:
    """A reader; `read_only` opens a connection on which the database refuses every write."""
    return (SQLiteReader if location.path is not None else PostgresReader)(location, read_only)


def database(location: Location) -> Database:
    kind = SQLiteDatabase if location.path is not None else PostgresDatabase
    return kind(location)


def _refused(location: Location, reason: str) -> LedgerError:
    return LedgerError(f"the ledger at {location} refused the change: {reason.removeprefix('coopledger: ')}")


def missing(location: Location) -> StoreMissing:
    return StoreMissing(f"no ledger at {location}: create it with `coopledger init` or record an event")

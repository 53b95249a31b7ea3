"""The ledger's persistence on PostgreSQL: eventsourcing's PostgreSQL recorder, extended.

Selected as `PERSISTENCE_MODULE=coopledger.ledger.postgres:Factory` (see `ledger.store`), the
way eventsourcing's own `examples/searchabletimestamps` extends a recorder: its create
statements hold the table of events, the ledger's read model and the triggers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore, PostgresFactory
from eventsourcing.utils import Environment
from psycopg.sql import SQL, Composed

from ..projections import readmodel
from .beyond_library import connect, postgres_guards, postgres_triggers
from .store import CONTRACTS, CONTRACTS_SCHEMA, LEDGER_ID, Cursor


class LedgerRecorder(PostgresApplicationRecorder):
    """eventsourcing's table of events (`coopledger_events`), with the read model, the contract
    table, the triggers that refuse to change, remove or truncate a recorded event, and the
    guards that let the read model change only with the events of the same transaction.

    The table keeps the layout every coopledger ledger has had (eventsourcing_sqlalchemy made
    it): its notification id column is `id`, and there is no composite type. So the ledger
    records with `record`, in its own transaction, and reads with its own statements; the
    inherited `insert_events` and `select_notifications`, written for eventsourcing.postgres's
    own layout (`notification_id`), are not for this table.
    """

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        table = self.events_table_name
        self.sql_create_statements = [
            Composed([SQL(statement)])
            for statement in (
                f"CREATE TABLE IF NOT EXISTS {table} ("
                " id BIGSERIAL NOT NULL, originator_id UUID NOT NULL, originator_version BIGINT NOT NULL,"
                " topic TEXT NOT NULL, state BYTEA NOT NULL, PRIMARY KEY (id))",
                f"CREATE UNIQUE INDEX IF NOT EXISTS {table}_aggregate_idx"
                f" ON {table} (originator_id, originator_version)",
                *readmodel.schema("BIGINT PRIMARY KEY", ""),
                readmodel.held_numbers(
                    "((state::jsonb) #>> '{held,series}')", "((state::jsonb) #>> '{held,number}')"
                ),
                CONTRACTS_SCHEMA,
                *postgres_triggers(table, str(LEDGER_ID)),
                *postgres_guards(table, str(LEDGER_ID), (CONTRACTS, readmodel.READ_MODEL)),
            )
        ]

    def create(self, cursor: Cursor) -> None:
        """Create every table, in the caller's transaction."""
        for statement in self.sql_create_statements:
            cursor.run(statement.as_string())

    def record(self, cursor: Cursor, stored: Sequence[StoredEvent]) -> None:
        """Insert events with one COPY in the caller's transaction, and notify listeners as
        `insert_events` does.

        `insert_events` locks the table to keep commit order; the caller's transaction holds
        the ledger's write lock already (see `beyond_library.serialise`).
        """
        cursor.add(
            self.events_table_name,
            ("originator_id", "originator_version", "topic", "state"),
            [(s.originator_id, s.originator_version, s.topic, s.state) for s in stored],
        )
        cursor.run(f"NOTIFY {self.channel_name}")

    def connection(self) -> AbstractContextManager[Any]:
        """The datastore's connection, in autocommit mode, for one write transaction."""
        return self.datastore.get_connection()


class URLDatastore(PostgresDatastore):
    """eventsourcing's PostgreSQL datastore on one connection made from the --db URL as written.

    The parameters given to `PostgresDatastore` describe the same server; its pool, which would
    connect with those five alone, is never opened.
    """

    def __init__(self, url: str, dbname: str, host: str, port: str, user: str, password: str):
        super().__init__(dbname, host, port, user, password)
        self.url = url
        self.opened: Any = None

    @contextmanager
    def get_connection(self) -> Iterator[Any]:
        if self.opened is None or self.opened.closed:
            self.opened = connect(self.url)
        yield self.opened

    def close(self) -> None:
        if self.opened is not None:
            self.opened.close()
            self.opened = None
        super().close()


class Factory(PostgresFactory):
    POSTGRES_URL = "POSTGRES_URL"
    application_recorder_class = LedgerRecorder

    def __init__(self, env: Environment):
        super().__init__(env)  # reads POSTGRES_DBNAME, _HOST, _PORT, _USER and _PASSWORD
        get = self.env.get
        self.datastore = URLDatastore(
            get(self.POSTGRES_URL, ""),
            get(self.POSTGRES_DBNAME, ""),
            get(self.POSTGRES_HOST, ""),
            get(self.POSTGRES_PORT, ""),
            get(self.POSTGRES_USER, ""),
            get(self.POSTGRES_PASSWORD, ""),
        )

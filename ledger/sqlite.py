"""The ledger's persistence on a SQLite file: eventsourcing's SQLite recorder, extended.

Selected as `PERSISTENCE_MODULE=coopledger.ledger.sqlite:Factory` (see `ledger.store`), the
way eventsourcing's own `examples/searchabletimestamps` extends a recorder: its table of
events, the ledger's read model and triggers beside it, all in its create statements.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteConnection, SQLiteFactory

from ..projections import readmodel
from .beyond_library import sqlite_guards, sqlite_triggers
from .store import CONTRACTS, CONTRACTS_SCHEMA, Cursor


class LedgerRecorder(SQLiteApplicationRecorder):
    """eventsourcing's table of events (`stored_events`, notification ids its rowids), with the
    read model, the contract table and the triggers that refuse to change a recorded event or
    to let anything but the ledger's append path change the read model."""

    def construct_create_table_statements(self) -> list[str]:
        # A position is the read model's own rowid: one B-tree, not two.
        return [
            *super().construct_create_table_statements(),
            *readmodel.schema("INTEGER PRIMARY KEY", " WITHOUT ROWID"),
            readmodel.held_numbers(
                "json_extract(state, '$.held.series')", "json_extract(state, '$.held.number')"
            ),
            CONTRACTS_SCHEMA,
            *sqlite_triggers(self.events_table_name),
            *sqlite_guards(readmodel.TABLES, (CONTRACTS, readmodel.READ_MODEL)),
        ]

    def create(self, cursor: Cursor) -> None:
        """Create every table, in the caller's transaction."""
        for statement in self.create_table_statements:
            cursor.run(statement)

    def record(self, cursor: Cursor, stored: Sequence[StoredEvent]) -> None:
        """Insert events in the caller's transaction, as `insert_events` does in its own."""
        cursor.many(
            self.insert_events_statement,
            [
                (
                    s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id,
                    s.originator_version,
                    s.topic,
                    s.state,
                )
                for s in stored
            ],
        )

    def connection(self) -> AbstractContextManager[SQLiteConnection]:
        """A connection of the datastore's pool, in autocommit mode, for one write transaction."""
        return self.datastore.get_connection(commit=True)


class Factory(SQLiteFactory):
    application_recorder_class = LedgerRecorder

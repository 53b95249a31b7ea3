"""What one command-line session opens: the ledger's queries for reads and, only when a command
writes, the ledger itself."""

from __future__ import annotations

import getpass
from functools import cached_property
from typing import TYPE_CHECKING

from .queries import Queries
from .store import locate

if TYPE_CHECKING:
    from .application import Ledger


class Session:
    """The --db and --actor of a command line; the ledger opens on first use.

    Queries read it with the database's own driver; only commands that write load
    eventsourcing (and, for PostgreSQL, SQLAlchemy), which takes a noticeable part of a second.
    """

    def __init__(self, db: str | None, actor: str | None):
        self.db = db
        try:
            self.actor = actor or getpass.getuser()
        except (KeyError, OSError):
            self.actor = "unknown"

    @cached_property
    def ledger(self) -> Ledger:
        from .application import Ledger

        return Ledger(locate(self.db), actor=self.actor)

    @cached_property
    def queries(self) -> Queries:
        return Queries(locate(self.db))

    def events(self) -> int:
        """How many events the ledger holds: a progress bar's length."""
        return int(self.queries.digest().split(":")[0])

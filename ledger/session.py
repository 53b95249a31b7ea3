"""What one command-line session opens: the ledger as coopledger.open gives it, on first use."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from .api import Ledger
from .store import locate

if TYPE_CHECKING:
    from .application import Ledger as Store
    from .queries import Queries


class Session:
    """The --db and --actor of a command line. Commands render the answers of its ledger (the
    Python API); queries never load eventsourcing, the first write does."""

    def __init__(self, db: str | None, actor: str | None):
        self.db, self.actor = db, actor

    @cached_property
    def ledger(self) -> Ledger:
        return Ledger(locate(self.db), actor=self.actor)

    @property
    def queries(self) -> Queries:
        return self.ledger.queries

    @property
    def store(self) -> Store:
        return self.ledger.store

    def events(self) -> int:
        """How many events the ledger holds: a progress bar's length."""
        return int(self.queries.digest().split(":")[0])

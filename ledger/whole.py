"""The whole ledger as of a day, read a thing or an event at a time: what the exports write.

A fold of every event (what `state` does for one pair) would hold the whole ledger in memory
at once, gigabytes for a million events. Here each thing is its latest snapshot by the day,
read in the order such a fold founds them, and events are read in the order of their
positions; all within one read transaction, so that every table of an export is of the same
ledger.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..events import Recorded
from ..projections import relationship as folds
from ..projections.parties import party_name
from ..projections.things import Key, Snapshot
from .queries import readable, stored_snapshot, stored_thing, thing_on
from .store import Cursor

if TYPE_CHECKING:
    from .queries import Queries


class Whole:
    """The ledger's things as of a day and its events, read through one read transaction."""

    def __init__(self, queries: Queries, cursor: Cursor, day: date):
        self.day = day
        self._cursor = cursor
        self._statements = queries.db.statements
        self._ledger_id = queries.db.ledger_id
        self.thing = lru_cache(maxsize=4096)(self._thing)
        self._party = lru_cache(maxsize=4096)(lambda party: stored_thing(cursor, ("party", party)))

    def things(self, kind: str) -> Iterator[Snapshot]:
        """Each thing of a kind founded by the day, as its latest snapshot by then, in the order
        a fold of every event founds them (the day, then the position of the founding event)."""
        rows = self._cursor.stream(self._statements["founded"], (kind, self.day.isoformat()))
        for slug, *row in rows:
            yield stored_snapshot((kind, slug), row)

    def _thing(self, key: Key) -> Any:
        """Any thing as of the day (None: not founded by then)."""
        return thing_on(self._cursor, key, self.day)

    def entries(self) -> Iterator[folds.Entry]:
        """Every event of the ledger by position, with its retraction, as a relationship's
        entries are."""
        rows = self._cursor.stream(self._statements["entries"], (self._ledger_id,))
        for position, state, retracted_by in rows:
            recorded = readable(position, state)
            retraction = self.event(retracted_by) if retracted_by else None
            multilateral = len(getattr(recorded.data, "parties", ())) > 2
            yield folds.Entry(recorded, True, multilateral, retraction)

    def funding(self, project: str | None = None) -> Iterator[Recorded]:
        """The launches and fundings that count by the day (of one project, or of all), by day
        then position."""
        day = self.day.isoformat()
        if project is None:
            rows = self._cursor.stream(self._statements["funding"], (self._ledger_id, day))
        else:
            statement = self._statements["project_funding"]
            rows = iter(self._cursor.rows(statement, (self._ledger_id, project, day)))
        for position, state in rows:
            yield readable(position, state)

    def event(self, position: int) -> Recorded:
        rows = self._cursor.rows(self._statements["event"], (self._ledger_id, position))
        return readable(position, rows[0][0])

    def name(self, party: str, day: date) -> str:
        """A party's name on a day (a folds.Namer)."""
        return party_name(party, self._party(party), day)

"""coopledger from Python: open a ledger and ask it what the command line asks.

Answers are the objects the command line renders: their fields read as attributes, and
`to_dict()` gives exactly what `--json` prints. Queries read with the database's own driver;
the first write loads eventsourcing.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterable
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..events import Edtf, parse_asked, parse_edtf, parse_json
from ..events.dates import DateError, today
from ..events.verbs import period
from .errors import LedgerError, Rejected
from .queries import Queries, known_at, timestamp
from .store import Location, locate

if TYPE_CHECKING:
    from .application import Ledger as Store
    from .importer import ImportReport


class Answer:
    """One answer: attributes for its fields, `to_dict()` for its JSON."""

    def __init__(self, data: dict[str, Any]):
        self._data = data

    def __getattr__(self, name: str) -> Any:
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._data == self._data  # type: ignore[attr-defined]

    def to_dict(self) -> dict[str, Any]:
        """The answer's JSON as a fresh dict: changing it leaves the answer as it was."""
        return _copied(self._data)

    def released(self) -> dict[str, Any]:
        """The answer's JSON, not copied: for a caller done with the answer, as the command line
        is once it has printed it (the copy of the busiest pair's `state` takes ~0.5 s)."""
        return self._data


def _copied(value: Any) -> Any:
    """A copy of a JSON value (its dicts and lists new, its strings and numbers shared): what
    `copy.deepcopy` makes of one, several times faster on a large answer."""
    if type(value) is dict:
        return {name: _copied(item) for name, item in value.items()}
    if type(value) is list:
        return [_copied(item) for item in value]
    if type(value) is tuple:
        return tuple(_copied(item) for item in value)
    return value


class State(Answer):
    """A relationship as of a day (`state --json`)."""

    relationship: str
    as_of: str
    known_at: str | None
    instruments: list[dict[str, Any]]
    projects: list[dict[str, Any]]
    meetings: dict[str, Any]
    possibly: list[dict[str, Any]]
    party_names: dict[str, str]


class Event(Answer):
    """One event of a relationship's history (an item of `history --json`)."""

    position: int
    type: str
    occurred_on: str
    data: dict[str, Any]
    retracted: bool


class Relationship(Answer):
    """One relationship and what counts in it (an item of `relationships --json`)."""

    relationship: str
    events: int
    first: str
    last: str
    instruments: int
    meetings: int
    projects: int


class Verification(Answer):
    """What `verify --json` prints."""

    ok: bool
    events: int
    digest: str
    checked: dict[str, int]  # what was checked: events (chain, decoded, ...) and rows per table
    warnings: list[dict[str, Any]]  # events an earlier contract allowed: position and warning
    warned: int  # warnings in all (the first ones are listed)


class Appended(Answer):
    """What `append --json` prints: where the event was recorded, or that it was already there."""

    position: int
    id: str
    duplicate: bool


def _day(value: str | date | Edtf | None, name: str = "as_of") -> Edtf:
    """A day given as EDTF text, a date (a datetime: its own day, as written) or an Edtf; None
    is today. Any other value is a TypeError naming the argument, not an error from inside."""
    if value is None:
        return today()
    if isinstance(value, Edtf):
        return value
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return parse_edtf(value.isoformat())
    if isinstance(value, str):
        return parse_asked(value)
    raise TypeError(f"{name}: expected EDTF text such as '2019-01', a datetime.date or None, not {value!r}")


def _moment(value: str | date | None) -> str | None:
    """known_at: ISO 8601 text, a datetime (naive: local time) or a date (the end of that day)."""
    if value is None or (isinstance(value, str) and not value):
        return None
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, date):
        return known_at(value.isoformat())
    if isinstance(value, str):
        return known_at(value)
    raise TypeError(f"known_at: expected ISO 8601 text, a datetime, a date or None, not {value!r}")


def _parties(a: object, b: object) -> None:
    for name, value in (("a", a), ("b", b)):
        if not isinstance(value, str):
            raise TypeError(f"{name}: expected a party's id or name as text, such as 'KOR', not {value!r}")


class Ledger:
    """A ledger opened from Python; the command line is built on it."""

    def __init__(self, location: Location, actor: str | None = None):
        self.location = location
        try:
            self.actor = actor or getpass.getuser()
        except (KeyError, OSError):
            self.actor = "unknown"
        self.queries = Queries(location)

    @cached_property
    def store(self) -> Store:
        """The writing side, loaded on the first write."""
        from .application import Ledger as Store

        return Store(self.location, actor=self.actor)

    def close(self) -> None:
        self.queries.close()
        if "store" in self.__dict__:
            self.store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- asking

    def state(
        self,
        a: str,
        b: str,
        as_of: str | date | Edtf | None = None,
        known_at: str | date | None = None,
        exact: bool = False,
        lang: str | None = None,
    ) -> State:
        """What the two parties had as of a day (default today), as the ledger stood at a time."""
        _parties(a, b)
        return State(self.queries.state(a, b, _day(as_of), _moment(known_at), exact, lang))

    def history(
        self,
        a: str,
        b: str,
        start: str | date | Edtf | None = None,
        end: str | date | Edtf | None = None,
        known_at: str | date | None = None,
        exact: bool = False,
        lang: str | None = None,
    ) -> list[Event]:
        """The relationship's events by day, from the earliest day of `start` to the day of `end`."""
        _parties(a, b)
        try:
            since, until = period(_day(start, "start") if start else None, _day(end, "end") if end else None)
        except DateError as error:
            raise LedgerError(str(error)) from None
        found = self.queries.history(a, b, since, until, _moment(known_at), exact, lang)
        return [Event(item) for item in found]

    def relationships(
        self, as_of: str | date | Edtf | None = None, exact: bool = False
    ) -> list[Relationship]:
        return [Relationship(row) for row in self.queries.relationships(_day(as_of).day, exact)]

    def verify(self, digest: str | None = None) -> Verification:
        """Check the ledger (SPEC section 5); raises VerificationFailed naming the first bad position."""
        verified = self.queries.verify(digest)
        return Verification(
            {
                "ok": True,
                "events": verified.events,
                "digest": verified.digest,
                "checked": verified.checked,
                "warnings": [{"position": at, "warning": text} for at, text in verified.warnings],
                "warned": verified.warned,
            }
        )

    def digest(self) -> str:
        return self.queries.digest()

    # --- recording

    def append(self, event: dict[str, Any] | str | bytes, dry_run: bool = False) -> Appended:
        """Append one event, given as a JSON object or its text."""
        if isinstance(event, str | bytes):
            try:
                event = parse_json(event)
            except ValueError as error:
                raise Rejected("event", str(error)) from None
        outcome = self.store.append(event, dry_run=dry_run)
        return Appended({"position": outcome.position, "id": outcome.id, "duplicate": outcome.duplicate})

    def import_lines(self, lines: Iterable[bytes]) -> ImportReport:
        """Append every line of JSON Lines in one transaction: all of them, or none."""
        return self.store.import_lines(lines)


def open_ledger(url_or_path: str | Path | None = None, actor: str | None = None) -> Ledger:
    """The ledger at a SQLite file path or a postgresql+psycopg:// URL (None: COOPLEDGER_DB, else
    the user's default file)."""
    import os

    where = str(url_or_path) if url_or_path is not None else os.environ.get("COOPLEDGER_DB")
    return Ledger(locate(where), actor)

"""The things of the ledger, one fold each: which things an event shapes, and how.

A thing is a (kind, id) key with a typed, frozen state. Every reader asks these folds: the
append rules (in recording order, over the whole ledger), the read model (the same, kept in
a table), and a relationship's state and timeline (by day, over the events that count).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import MISSING, fields, is_dataclass
from decimal import Decimal
from functools import cache, reduce
from typing import Any

import orjson

from ..events import (
    Edtf,
    Event,
    InstrumentSigned,
    MeetingHeld,
    PartyRegistered,
    PartyRenamed,
    Recorded,
    SeriesEstablished,
)
from ..events.fields import load
from .instruments import Instrument, evolve_instrument, superseded
from .meetings import Meeting, Numbered, Series, evolve_meeting, evolve_numbered, evolve_series, number_key
from .parties import Alias, Party, evolve_alias, evolve_party
from .projects import Project, evolve_project

Key = tuple[str, str]
State = Party | Alias | Instrument | Project | Series | Meeting | Numbered
Lookup = Callable[[Key], Any]  # a thing's state, or None

# kind: (its state's type, its fold)
FOLDS: dict[str, tuple[type, Callable[[Any, Recorded], Any]]] = {
    "party": (Party, evolve_party),
    "alias": (Alias, evolve_alias),
    "instrument": (Instrument, evolve_instrument),
    "project": (Project, evolve_project),
    "series": (Series, evolve_series),
    "meeting": (Meeting, evolve_meeting),
    "number": (Numbered, evolve_numbered),
}


def subjects(event: Event) -> list[Key]:
    """The things whose state an event shapes."""
    keys: list[Key] = []
    if event.subject and event.subject_id:
        keys.append((event.subject, event.subject_id))
    if isinstance(event, PartyRegistered | PartyRenamed):
        keys.extend(("alias", alias) for alias in event.aliases)
    if isinstance(event, MeetingHeld) and event.series and event.number:
        keys.append(("number", number_key(event.series, event.number)))
    if isinstance(event, InstrumentSigned) and event.supersedes:
        keys.append(("instrument", event.supersedes))  # superseded from the day it takes effect
    return keys


def references(event: Event) -> list[Key]:
    """The things an event names without shaping them: it depends on them."""
    keys: list[Key] = []
    under = getattr(event, "under", None)
    if under:
        keys.append(("instrument", under))
    series = getattr(event, "series", None)
    if series and not isinstance(event, SeriesEstablished):
        keys.append(("series", series))
    return keys


def evolve(key: Key, state: Any, recorded: Recorded) -> Any:
    """The state of one thing after one more event."""
    event = recorded.data
    if isinstance(event, InstrumentSigned) and key[1] != event.instrument:  # the one it supersedes
        return superseded(state, recorded)
    return FOLDS[key[0]][1](state, recorded)


def refold(key: Key, shaping: Iterable[Recorded]) -> Any:
    """One thing's state from the events that shape it, in order."""
    return reduce(lambda state, recorded: evolve(key, state, recorded), shaping, None)


def _plain(value: Any) -> Any:
    if isinstance(value, Edtf):
        return value.text
    if isinstance(value, Decimal):
        return format(value, "f")
    if is_dataclass(value):  # fields left at their defaults are left out
        return {
            name: v
            for name, default in _defaults(type(value))
            if (v := getattr(value, name)) is not default and (default is MISSING or v != default)
        }
    raise TypeError(f"{type(value).__name__} is not part of a thing's state")


@cache
def _defaults(cls: type) -> tuple[tuple[str, Any], ...]:
    """A state class's fields, each with its default (MISSING for none), read once."""
    return tuple((f.name, f.default) for f in fields(cls))


def encode(state: State) -> str:
    """A state as the read model keeps it: JSON, dates as entered."""
    return orjson.dumps(state, default=_plain, option=orjson.OPT_PASSTHROUGH_DATACLASS).decode()


def decode(kind: str, stored: str | bytes) -> Any:
    """A state the read model kept, typed again."""
    return load(FOLDS[kind][0], orjson.loads(stored))

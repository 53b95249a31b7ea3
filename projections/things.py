"""The things of the ledger, one fold each: which things an event shapes, and how.

A thing is a (kind, id) key with a typed, frozen state. Every reader asks these folds: the
append rules (in recording order, over the whole ledger), the read model (the same, kept in
a table), and a relationship's state and timeline (by day, over the events that count).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from functools import reduce
from operator import attrgetter
from typing import Any

import msgspec
import orjson
from msgspec import NODEFAULT, Struct
from msgspec.structs import fields

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
from ..events.dates import parse_edtf
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


# The kinds of thing a relationship's answer shows. For each, the read model keeps a snapshot
# after each of its events, folded in the order days count (day, then position): the thing as
# of any day is its latest snapshot on or before that day, read without folding its events.
SNAPSHOT_KINDS = ("instrument", "project", "series", "meeting")


class Snapshot(Struct, frozen=True):
    """A thing as of its event at `position`, dated `day` (ISO): `shaped` of its events count by
    then; `founded` is the day and position of the one that founded it (None: not yet)."""

    day: str
    position: int
    shaped: int
    founded: tuple[str, int] | None
    state: Any

    def row(self, key: Key) -> tuple[Any, ...]:
        """Its row of the read model: kind, slug, day, position, shaped, founded day and
        position, state (None while not founded)."""
        founded = self.founded or (None, None)
        state = encode(self.state) if self.state is not None else None
        return (*key, self.day, self.position, self.shaped, *founded, state)


_FOLD: Any = object()


def after(key: Key, last: Snapshot | None, recorded: Recorded, state: Any = _FOLD) -> Snapshot:
    """A thing's snapshot after one more event, dated on or after the last snapshot's day;
    `state`, when given, is the thing's state after it, folded already."""
    assert recorded.day is not None  # every event that shapes a thing has its day
    day = recorded.day.isoformat()
    if state is _FOLD:
        state = evolve(key, last.state if last else None, recorded)
    if last is not None and last.founded is not None:
        founded: tuple[str, int] | None = last.founded  # once founded, a thing stays founded
    else:
        founded = (day, recorded.position) if state is not None else None
    return Snapshot(day, recorded.position, last.shaped + 1 if last else 1, founded, state)


def stored_snapshot(
    key: Key,
    day: str,
    position: int,
    shaped: int,
    founded_day: str | None,
    founded_position: int | None,
    state: str | None,
) -> Snapshot:
    """A snapshot as the read model keeps it (`Snapshot.row`), typed again."""
    founded = (
        (founded_day, founded_position) if founded_day is not None and founded_position is not None else None
    )
    return Snapshot(day, position, shaped, founded, decode(key[0], state) if state is not None else None)


def snapshots(key: Key, shaping: Iterable[Recorded]) -> list[Snapshot]:
    """A thing's snapshots from its events that stand (not retracted), whatever their order."""
    found: list[Snapshot] = []
    for recorded in sorted(shaping, key=lambda r: (r.day, r.position)):
        found.append(after(key, found[-1] if found else None, recorded))
    return found


def _plain(value: Any) -> Any:
    plain = _PLAIN.get(type(value))
    if plain is None:
        plain = _PLAIN[type(value)] = _plainer(type(value))
    return plain(value)


_PLAIN: dict[type, Callable[[Any], Any]] = {}


def _plainer(cls: type) -> Callable[[Any], Any]:
    """How a value of a class a thing's state holds is written: a date as entered, an amount as
    a decimal string, a Struct as its fields but those left at their defaults."""
    if cls is Edtf:
        return lambda value: value.text
    if cls is Decimal:
        return lambda value: format(value, "f")
    if not issubclass(cls, Struct):
        raise TypeError(f"{cls.__name__} is not part of a thing's state")
    defaults = tuple((f.name, f.default) for f in fields(cls))
    if len(defaults) < 2:  # attrgetter gives a tuple of two names or more
        values = lambda value: tuple(getattr(value, name) for name, _ in defaults)
    else:
        values = attrgetter(*(name for name, _ in defaults))
    return lambda value: {
        name: v
        for (name, default), v in zip(defaults, values(value), strict=True)
        if v is not default and (default is NODEFAULT or v != default)
    }


def encode(state: State) -> str:
    """A state as the read model keeps it: JSON, dates as entered, fields left at their defaults
    omitted (the states' Structs say `omit_defaults`). msgspec writes it, in C, the same bytes
    as `encode_plain`, but for an amount that Python writes with an exponent (0.0000001 is
    1E-7): a project with one goes through `encode_plain`, which writes every amount plainly."""
    if type(state) is Project and not all(map(_written_plainly, _amounts(state))):
        return encode_plain(state)
    return _ENCODER.encode(state).decode()


def encode_plain(state: State) -> str:
    """A state as the read model has always kept it, written field by field in Python."""
    return orjson.dumps(state, default=_plain).decode()


def _text(value: Any) -> Any:
    if type(value) is Edtf:
        return value.text
    raise TypeError(f"{type(value).__name__} is not part of a thing's state")


_ENCODER = msgspec.json.Encoder(enc_hook=_text)


def _amounts(project: Project) -> Iterable[Decimal]:
    return (total.amount for total in (*project.funding, *project.disbursed, *project.spent))


def _written_plainly(amount: Decimal) -> bool:
    """Whether msgspec, which writes str(amount), writes it as format(amount, "f") does."""
    exponent = amount.as_tuple().exponent
    return isinstance(exponent, int) and exponent <= 0 and amount.adjusted() >= -6


def decode(kind: str, stored: str | bytes) -> Any:
    """A state the read model kept, typed again: decoded and typed by msgspec, in C (a reader of
    the busiest pair decodes ~45,000 snapshots); an Edtf from its text, through `_typed`."""
    decoder = _DECODERS.get(kind)
    if decoder is None:
        decoder = _DECODERS[kind] = msgspec.json.Decoder(FOLDS[kind][0], dec_hook=_typed)
    return decoder.decode(stored)


_DECODERS: dict[str, msgspec.json.Decoder[Any]] = {}


def _typed(type_: type, value: Any) -> Any:
    if type_ is Edtf and isinstance(value, str):
        return parse_edtf(value)
    raise NotImplementedError(f"{type_.__name__} is not part of a thing's state")

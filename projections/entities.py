"""The ledger's entities as they stand in recording order: what append-time rules check.

Each entity is a (kind, id) key with a small JSON-able state. `evolve` gives the changes one
event makes; `refold` recomputes one entity from the events that shaped it, which is how a
retraction takes an event back out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import singledispatch
from typing import Any

from ..events import (
    IN_FORCE_ON_SIGNING,
    Event,
    InstrumentAmended,
    InstrumentEnteredIntoForce,
    InstrumentExtended,
    InstrumentSigned,
    InstrumentTerminated,
    MeetingHeld,
    MeetingScheduled,
    PartyRegistered,
    ProjectCompleted,
    ProjectExtended,
    ProjectFunded,
    ProjectLaunched,
    ProjectScopeChanged,
    ProjectTerminated,
    Recorded,
    SeriesEstablished,
)

Key = tuple[str, str]
State = dict[str, Any]
Lookup = Callable[[Key], State | None]
Changes = dict[Key, State | None]  # None: the entity is gone


def number_key(series: str, number: int) -> Key:
    return ("number", f"{series}#{number}")


def subjects(event: Event) -> list[Key]:
    """The entities whose state an event shapes."""
    keys: list[Key] = []
    if event.subject and event.subject_id:
        keys.append((event.subject, event.subject_id))
    if isinstance(event, PartyRegistered):
        keys.extend(("alias", alias) for alias in event.aliases)
    if isinstance(event, MeetingHeld) and event.series and event.number:
        keys.append(number_key(event.series, event.number))
    return keys


def references(event: Event) -> list[Key]:
    """The entities an event names without shaping them: it depends on them."""
    keys: list[Key] = []
    under = getattr(event, "under", None)
    if under:
        keys.append(("instrument", under))
    series = getattr(event, "series", None)
    if series and not isinstance(event, SeriesEstablished):
        keys.append(("series", series))
    return keys


@singledispatch
def evolve(event: Event, recorded: Recorded, get: Lookup) -> Changes:
    return {}


@evolve.register
def _(event: PartyRegistered, recorded: Recorded, get: Lookup) -> Changes:
    changes: Changes = {
        ("party", event.party): {
            "name": event.name,
            "kind": event.kind,
            "country": event.country,
            "aliases": list(event.aliases),
            "position": recorded.position,
        }
    }
    for alias in event.aliases:
        changes[("alias", alias)] = {"party": event.party, "position": recorded.position}
    return changes


@evolve.register
def _(event: InstrumentSigned, recorded: Recorded, get: Lookup) -> Changes:
    assert recorded.occurred_on is not None
    return {
        ("instrument", event.instrument): {
            "kind": event.kind,
            "parties": list(event.parties),
            "signed_earliest": recorded.occurred_on.earliest.isoformat(),
            "signed_day": recorded.occurred_on.day.isoformat(),
            "expires_day": event.expires_on.day.isoformat() if event.expires_on else None,
            "in_force": event.in_force_from is not None or event.kind in IN_FORCE_ON_SIGNING,
            "terminated": False,
            "position": recorded.position,
        }
    }


def _update(kind: str, slug: str, get: Lookup, **changes: Any) -> Changes:
    state = get((kind, slug))
    if state is None:  # refolding an entity whose creation is not (yet) counted
        return {}
    return {(kind, slug): {**state, **changes}}


@evolve.register
def _(event: InstrumentEnteredIntoForce, recorded: Recorded, get: Lookup) -> Changes:
    return _update("instrument", event.instrument, get, in_force=True)


@evolve.register
def _(event: InstrumentExtended, recorded: Recorded, get: Lookup) -> Changes:
    return _update("instrument", event.instrument, get, expires_day=event.expires_on.day.isoformat())


@evolve.register
def _(event: InstrumentAmended, recorded: Recorded, get: Lookup) -> Changes:
    return _update("instrument", event.instrument, get)


@evolve.register
def _(event: InstrumentTerminated, recorded: Recorded, get: Lookup) -> Changes:
    return _update("instrument", event.instrument, get, terminated=True)


@evolve.register
def _(event: SeriesEstablished, recorded: Recorded, get: Lookup) -> Changes:
    assert recorded.occurred_on is not None
    return {
        ("series", event.series): {
            "parties": list(event.parties),
            "established_earliest": recorded.occurred_on.earliest.isoformat(),
            "position": recorded.position,
        }
    }


@evolve.register
def _(event: MeetingScheduled, recorded: Recorded, get: Lookup) -> Changes:
    state = get(("meeting", event.meeting)) or {"held": False}
    return {("meeting", event.meeting): {**state, "scheduled": recorded.position}}


@evolve.register
def _(event: MeetingHeld, recorded: Recorded, get: Lookup) -> Changes:
    state = get(("meeting", event.meeting)) or {}
    changes: Changes = {("meeting", event.meeting): {**state, "held": recorded.position}}
    if event.series and event.number:
        changes[number_key(event.series, event.number)] = {
            "meeting": event.meeting,
            "position": recorded.position,
        }
    return changes


@evolve.register
def _(event: ProjectLaunched, recorded: Recorded, get: Lookup) -> Changes:
    assert recorded.occurred_on is not None
    return {
        ("project", event.project): {
            "parties": list(event.parties),
            "launched_earliest": recorded.occurred_on.earliest.isoformat(),
            "launched_day": recorded.occurred_on.day.isoformat(),
            "planned_end_day": event.planned_end.day.isoformat() if event.planned_end else None,
            "ended": False,
            "position": recorded.position,
        }
    }


@evolve.register
def _(event: ProjectExtended, recorded: Recorded, get: Lookup) -> Changes:
    return _update("project", event.project, get, planned_end_day=event.planned_end.day.isoformat())


@evolve.register(ProjectScopeChanged)
@evolve.register(ProjectFunded)
def _(event: ProjectScopeChanged | ProjectFunded, recorded: Recorded, get: Lookup) -> Changes:
    return _update("project", event.project, get)


@evolve.register(ProjectCompleted)
@evolve.register(ProjectTerminated)
def _(event: ProjectCompleted | ProjectTerminated, recorded: Recorded, get: Lookup) -> Changes:
    return _update("project", event.project, get, ended=True)


def refold(key: Key, shaping: Iterable[Recorded]) -> State | None:
    """One entity's state from the events that shape it, in recording order."""
    state: State | None = None
    for recorded in shaping:

        def get(wanted: Key, current: State | None = state) -> State | None:
            return current if wanted == key else None

        state = evolve(recorded.data, recorded, get).get(key, state)
    return state

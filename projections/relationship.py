"""State and history of one relationship as of a day, as known at a time: pure folds."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import singledispatch
from typing import Any

from ..events import (
    IN_FORCE_ON_SIGNING,
    Edtf,
    Event,
    InstrumentAmended,
    InstrumentEnteredIntoForce,
    InstrumentExtended,
    InstrumentSigned,
    InstrumentTerminated,
    MeetingHeld,
    MeetingScheduled,
    ProjectCompleted,
    ProjectExtended,
    ProjectFunded,
    ProjectLaunched,
    ProjectScopeChanged,
    ProjectTerminated,
    Recorded,
    SeriesEstablished,
)


@dataclass(frozen=True)
class Entry:
    """One event as a relationship sees it."""

    event: Recorded
    exact: bool  # False when the event belongs to the relationship only by rollup
    multilateral: bool
    retraction: Recorded | None = None

    def retracted(self, known_at: str | None) -> bool:
        return self.retraction is not None and (known_at is None or self.retraction.recorded_at <= known_at)

    def known(self, known_at: str | None) -> bool:
        return known_at is None or self.event.recorded_at <= known_at


def _order(entry: Entry) -> tuple[date, int]:
    return entry.event.day or date.min, entry.event.position


def counted(
    entries: Iterable[Entry], as_of: date, known_at: str | None = None, exact: bool = False
) -> list[Entry]:
    """The events that count as of a day, as known at a time, by day then position."""
    return sorted(
        (
            entry
            for entry in entries
            if (entry.exact or not exact)
            and entry.event.day is not None
            and entry.event.day <= as_of
            and entry.known(known_at)
            and not entry.retracted(known_at)
        ),
        key=_order,
    )


def history(
    entries: Iterable[Entry],
    start: date | None = None,
    end: date | None = None,
    known_at: str | None = None,
    exact: bool = False,
) -> list[dict[str, Any]]:
    """Every event of the relationship by day, retracted ones marked, not left out."""
    shown = sorted(
        (
            entry
            for entry in entries
            if (entry.exact or not exact)
            and entry.known(known_at)
            and (start is None or (entry.event.day or date.min) >= start)
            and (end is None or (entry.event.day or date.min) <= end)
        ),
        key=_order,
    )
    return [_history_item(entry, known_at) for entry in shown]


def _history_item(entry: Entry, known_at: str | None) -> dict[str, Any]:
    item = {**entry.event.envelope, "multilateral": entry.multilateral}
    if entry.retracted(known_at):
        assert entry.retraction is not None
        item.update(
            retracted=True,
            retracted_by=entry.retraction.id,
            reason=entry.retraction.envelope["data"]["reason"],
        )
    else:
        item["retracted"] = False
    return item


@dataclass
class _Fold:
    as_of: date
    instruments: dict[str, dict[str, Any]] = field(default_factory=dict)
    projects: dict[str, dict[str, Any]] = field(default_factory=dict)
    held: int = 0
    last: dict[str, Any] | None = None
    scheduled: dict[str, tuple[Edtf, int, dict[str, Any]]] = field(default_factory=dict)
    held_meetings: set[str] = field(default_factory=set)
    series: dict[str, dict[str, Any]] = field(default_factory=dict)


def state(
    relationship: str,
    entries: Iterable[Entry],
    as_of: Edtf,
    known_at: str | None = None,
    exact: bool = False,
) -> dict[str, Any]:
    """The relationship as of a day (SPEC section 4), folded from its counted events."""
    fold = _Fold(as_of.day)
    for entry in counted(entries, as_of.day, known_at, exact):
        _evolve(entry.event.data, entry, fold)
    return {
        "relationship": relationship,
        "as_of": as_of.text,
        "known_at": known_at,
        "instruments": [_instrument_view(i, fold.as_of) for i in fold.instruments.values()],
        "projects": [_project_view(p) for p in fold.projects.values()],
        "meetings": {
            "held": fold.held,
            "last": fold.last,
            "next": _next_meeting(fold),
            "series": [fold.series[s] for s in sorted(fold.series)],
        },
    }


@singledispatch
def _evolve(event: Event, entry: Entry, fold: _Fold) -> None:
    """Events that do not show in a relationship's state (parties, retractions)."""


def _occurred(entry: Entry) -> str:
    assert entry.event.occurred_on is not None
    return entry.event.occurred_on.text


@_evolve.register
def _(event: InstrumentSigned, entry: Entry, fold: _Fold) -> None:
    fold.instruments[event.instrument] = {
        "instrument": event.instrument,
        "kind": event.kind,
        "title": event.title,
        "parties": list(event.parties),
        "multilateral": entry.multilateral,
        "signed_on": _occurred(entry),
        "in_force_from": event.in_force_from.text if event.in_force_from else None,
        "expires_on": event.expires_on.text if event.expires_on else None,
        "status": "signed",
        "extensions": [],
        "amendments": [],
        "_in_force_day": event.in_force_from.day if event.in_force_from else None,
        "_expires_day": event.expires_on.day if event.expires_on else None,
        "_terminated": False,
    }
    if event.in_force_from is None and event.kind in IN_FORCE_ON_SIGNING:
        fold.instruments[event.instrument].update(
            in_force_from=_occurred(entry), _in_force_day=entry.event.day
        )


@_evolve.register
def _(event: InstrumentEnteredIntoForce, entry: Entry, fold: _Fold) -> None:
    instrument = fold.instruments.get(event.instrument)
    if instrument and instrument["_in_force_day"] is None:
        instrument.update(in_force_from=_occurred(entry), _in_force_day=entry.event.day)


@_evolve.register
def _(event: InstrumentExtended, entry: Entry, fold: _Fold) -> None:
    instrument = fold.instruments.get(event.instrument)
    if instrument:
        instrument["extensions"].append(
            {"expires_on": event.expires_on.text, "occurred_on": _occurred(entry)}
        )
        instrument.update(expires_on=event.expires_on.text, _expires_day=event.expires_on.day)


@_evolve.register
def _(event: InstrumentAmended, entry: Entry, fold: _Fold) -> None:
    instrument = fold.instruments.get(event.instrument)
    if instrument:
        instrument["amendments"].append({"summary": event.summary, "occurred_on": _occurred(entry)})


@_evolve.register
def _(event: InstrumentTerminated, entry: Entry, fold: _Fold) -> None:
    instrument = fold.instruments.get(event.instrument)
    if instrument:
        instrument.update(_terminated=True, terminated_on=_occurred(entry))


def _instrument_view(instrument: dict[str, Any], as_of: date) -> dict[str, Any]:
    if instrument["_terminated"]:
        status = "terminated"
    elif instrument["_expires_day"] is not None and as_of > instrument["_expires_day"]:
        status = "expired"
    elif instrument["_in_force_day"] is not None and instrument["_in_force_day"] <= as_of:
        status = "in_force"
    else:
        status = "signed"
    return {k: v for k, v in instrument.items() if not k.startswith("_")} | {"status": status}


@_evolve.register
def _(event: ProjectLaunched, entry: Entry, fold: _Fold) -> None:
    funding: dict[str, Decimal] = {}
    for grant in event.funding:
        funding[grant.currency] = funding.get(grant.currency, Decimal(0)) + grant.amount
    fold.projects[event.project] = {
        "project": event.project,
        "title": event.title,
        "parties": list(event.parties),
        "multilateral": entry.multilateral,
        "launched_on": _occurred(entry),
        "planned_end": event.planned_end.text if event.planned_end else None,
        "status": "active",
        "scope_changes": [],
        "funding": funding,
    }


@_evolve.register
def _(event: ProjectScopeChanged, entry: Entry, fold: _Fold) -> None:
    project = fold.projects.get(event.project)
    if project:
        project["scope_changes"].append({"summary": event.summary, "occurred_on": _occurred(entry)})


@_evolve.register
def _(event: ProjectExtended, entry: Entry, fold: _Fold) -> None:
    project = fold.projects.get(event.project)
    if project:
        project["planned_end"] = event.planned_end.text


@_evolve.register
def _(event: ProjectFunded, entry: Entry, fold: _Fold) -> None:
    project = fold.projects.get(event.project)
    if project:
        funding = project["funding"]
        funding[event.currency] = funding.get(event.currency, Decimal(0)) + event.amount


@_evolve.register
def _(event: ProjectCompleted, entry: Entry, fold: _Fold) -> None:
    project = fold.projects.get(event.project)
    if project:
        project.update(status="completed", ended_on=_occurred(entry))


@_evolve.register
def _(event: ProjectTerminated, entry: Entry, fold: _Fold) -> None:
    project = fold.projects.get(event.project)
    if project:
        project.update(status="terminated", ended_on=_occurred(entry))


def decimal_text(amount: Decimal) -> str:
    """A total as a plain decimal string: 600000, 1250.5."""
    return format(amount.normalize(), "f")


def _project_view(project: dict[str, Any]) -> dict[str, Any]:
    funding = {currency: decimal_text(total) for currency, total in sorted(project["funding"].items())}
    return project | {"funding": funding}


def _series(fold: _Fold, series: str) -> dict[str, Any]:
    return fold.series.setdefault(series, {"series": series, "title": None, "held": 0, "last_number": None})


@_evolve.register
def _(event: SeriesEstablished, entry: Entry, fold: _Fold) -> None:
    _series(fold, event.series)["title"] = event.title


@_evolve.register
def _(event: MeetingScheduled, entry: Entry, fold: _Fold) -> None:
    fold.scheduled[event.meeting] = (
        event.planned_for,
        entry.event.position,
        {"meeting": event.meeting, "planned_for": event.planned_for.text, "host": event.host},
    )


@_evolve.register
def _(event: MeetingHeld, entry: Entry, fold: _Fold) -> None:
    fold.held += 1
    fold.held_meetings.add(event.meeting)
    fold.last = {
        "meeting": event.meeting,
        "occurred_on": _occurred(entry),
        "number": event.number,
        "series": event.series,
        "venue": event.venue,
    }
    if event.series:
        series = _series(fold, event.series)
        series["held"] += 1
        if event.number is not None:
            series["last_number"] = event.number


def _next_meeting(fold: _Fold) -> dict[str, Any] | None:
    waiting = [
        (planned_for.day, position, view)
        for meeting, (planned_for, position, view) in fold.scheduled.items()
        if meeting not in fold.held_meetings
    ]
    return min(waiting, key=lambda w: (w[0], w[1]))[2] if waiting else None

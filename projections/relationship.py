"""State and history of one relationship as of a day, as known at a time: pure folds."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from ..events import Edtf, Recorded
from .instruments import Amendment, Extension, Instrument
from .meetings import Announcement, Meeting, Series
from .parties import named
from .projects import Project
from .things import Key, evolve, subjects

Namer = Callable[[str, date], str]  # a party's name on a day


@dataclass(frozen=True)
class Entry:
    """One event as a relationship sees it."""

    event: Recorded
    exact: bool  # False when the event belongs to the relationship only by rollup
    multilateral: bool
    retraction: Recorded | None = None
    via: str | None = None  # the predecessor it names, for an event a successor took over

    def retracted(self, known_at: str | None) -> bool:
        return self.retraction is not None and (known_at is None or self.retraction.recorded_at <= known_at)

    def known(self, known_at: str | None) -> bool:
        return known_at is None or self.event.recorded_at <= known_at


def _order(entry: Entry) -> tuple[date, int]:
    return entry.event.day or date.min, entry.event.position


def _standing(entry: Entry, known_at: str | None, exact: bool) -> bool:
    """Known at the time, not retracted by then, and the pair's own when rollup is off."""
    return (
        (entry.exact or not exact)
        and entry.event.day is not None
        and entry.known(known_at)
        and not entry.retracted(known_at)
    )


def counted(
    entries: Iterable[Entry], as_of: date, known_at: str | None = None, exact: bool = False
) -> list[Entry]:
    """The events that count as of a day, as known at a time, by day then position."""
    return sorted(
        (e for e in entries if _standing(e, known_at, exact) and e.event.day <= as_of),  # type: ignore[operator]
        key=_order,
    )


def possible(
    entries: Iterable[Entry], as_of: date, known_at: str | None = None, exact: bool = False
) -> list[Entry]:
    """The events that possibly happened by a day: their earliest day is on or before it, their day after."""
    return sorted(
        (
            e
            for e in entries
            if _standing(e, known_at, exact)
            and e.event.occurred_on is not None
            and e.event.occurred_on.earliest <= as_of < e.event.occurred_on.day
        ),
        key=_order,
    )


def history(
    entries: Iterable[Entry],
    start: date | None = None,
    end: date | None = None,
    known_at: str | None = None,
    exact: bool = False,
    name: Namer | None = None,
) -> list[dict[str, Any]]:
    """Every event of the relationship by day, retracted ones marked, not left out; with `name`,
    each event carries `party_names`, the names of the parties it names as of its day."""
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
    return [_history_item(entry, known_at, name) for entry in shown]


def _history_item(entry: Entry, known_at: str | None, name: Namer | None) -> dict[str, Any]:
    item = {**entry.event.envelope, "multilateral": entry.multilateral}
    if entry.via:
        item["via"] = entry.via
    if name is not None and entry.event.day is not None:
        item["party_names"] = {
            party: name(party, entry.event.day) for party in sorted(named(entry.event.data))
        }
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
class Folded:
    """The things of a relationship as of a day: the same folds the ledger keeps, over the pair's
    counted events. `exact` says whether a thing's last counted event is the pair's own (not
    there by rollup alone); `unfounded` holds counted events of things not founded by then."""

    things: dict[Key, Any] = field(default_factory=dict)
    exact: dict[Key, bool] = field(default_factory=dict)
    unfounded: list[Entry] = field(default_factory=list)

    def of(self, kind: str) -> list[Any]:
        return [state for (k, _), state in self.things.items() if k == kind]


def fold(entries: Iterable[Entry], as_of: date, known_at: str | None = None, exact: bool = False) -> Folded:
    """Fold the events that count as of a day, as known at a time, into the things they shape."""
    folded = Folded()
    for entry in counted(entries, as_of, known_at, exact):
        for key in subjects(entry.event.data):
            state = evolve(key, folded.things.get(key), entry.event)
            if state is not None:
                folded.things[key] = state
                folded.exact[key] = entry.exact
            elif key[0] != "number":
                folded.unfounded.append(entry)
    return folded


def state(
    relationship: str,
    entries: Iterable[Entry],
    as_of: Edtf,
    known_at: str | None = None,
    exact: bool = False,
    name: Namer | None = None,
) -> dict[str, Any]:
    """The relationship as of a day (SPEC section 4): a view of its things; with `name`,
    `party_names` names every party the answer mentions as of that day."""
    entries = list(entries)
    folded = fold(entries, as_of.day, known_at, exact)
    meetings = folded.of("meeting")
    view = {
        "relationship": relationship,
        "as_of": as_of.text,
        "known_at": known_at,
        "instruments": [_instrument_view(i, as_of.day) for i in folded.of("instrument")],
        "projects": [_project_view(p) for p in folded.of("project")],
        "meetings": {
            "held": sum(1 for m in meetings if m.held),
            "last": _last_meeting(meetings),
            "next": _next_meeting(meetings, as_of.day),
            "overdue": [_waiting_view(m) for m in _by_plan(m for m in meetings if m.overdue(as_of.day))],
            "postponed": [_waiting_view(m) for m in _by_plan(m for m in meetings if m.put_off)],
            "series": _series_views(folded.of("series"), meetings),
        },
        "possibly": _possibly(entries, as_of.day, known_at, exact, folded),
    }
    if name is not None:
        view["party_names"] = {party: name(party, as_of.day) for party in sorted(_mentioned(view))}
    return view


def things_view(folded: Folded, as_of: date) -> dict[str, list[dict[str, Any]]]:
    """The instruments and projects of a fold as `state --json` shows them (the exports' rows)."""
    return {
        "instruments": [_instrument_view(i, as_of) for i in folded.of("instrument")],
        "projects": [_project_view(p) for p in folded.of("project")],
    }


def _possibly(
    entries: Iterable[Entry], as_of: date, known_at: str | None, exact: bool, folded: Folded
) -> list[dict[str, Any]]:
    """Events that possibly happened by the day, and counted events of things only possibly founded."""
    maybe = possible(entries, as_of, known_at, exact)
    founded = {key for entry in maybe for key in subjects(entry.event.data)}
    maybe += [e for e in folded.unfounded if any(key in founded for key in subjects(e.event.data))]
    return [
        {"type": e.event.type, "id": e.event.data.subject_id, "occurred_on": e.event.envelope["occurred_on"]}
        for e in sorted(maybe, key=_order)
    ]


def _mentioned(view: dict[str, Any]) -> set[str]:
    """The parties a state answer names: the pair's, its things' and the next meeting's host."""
    parties = set(view["relationship"].split("~"))
    for thing in (*view["instruments"], *view["projects"]):
        parties.update(thing["parties"])
    upcoming = view["meetings"]["next"]
    if upcoming and upcoming["host"]:
        parties.add(upcoming["host"])
    return parties


def _extension_view(extension: Extension) -> dict[str, str]:
    return {"expires_on": extension.expires_on.text, "occurred_on": extension.occurred_on.text}


def _changes(changes: tuple[Amendment, ...]) -> list[dict[str, str]]:
    return [{"summary": change.summary, "occurred_on": change.occurred_on.text} for change in changes]


def _text(value: Edtf | None) -> str | None:
    return value.text if value else None


def _instrument_view(instrument: Instrument, as_of: date) -> dict[str, Any]:
    view: dict[str, Any] = {
        "instrument": instrument.instrument,
        "kind": instrument.kind,
        "title": instrument.title,
        "parties": list(instrument.parties),
        "multilateral": len(instrument.parties) > 2,
        "signed_on": instrument.signed_on.text,
        "in_force_from": _text(instrument.in_force_from),
        "expires_on": _text(instrument.expiry),
        "status": instrument.status(as_of),
        "extensions": [_extension_view(e) for e in instrument.extensions],
        "amendments": [
            {"summary": a.summary, "occurred_on": a.occurred_on.text} for a in instrument.amendments
        ],
    }
    if instrument.terminated_on:
        view["terminated_on"] = instrument.terminated_on.text
    return view


def instrument_view(instrument: Instrument, as_of: date) -> dict[str, Any]:
    """An instrument as `state` shows it on a day: what `upcoming` reads its deadlines from."""
    return _instrument_view(instrument, as_of)


def decimal_text(amount: Decimal) -> str:
    """A total as a plain decimal string: 600000, 1250.5."""
    return format(amount.normalize(), "f")


def _project_view(project: Project) -> dict[str, Any]:
    view: dict[str, Any] = {
        "project": project.project,
        "title": project.title,
        "parties": list(project.parties),
        "multilateral": len(project.parties) > 2,
        "launched_on": project.launched_on.text,
        "planned_end": _text(project.end),
        "status": project.status,
        "scope_changes": [
            {"summary": c.summary, "occurred_on": c.occurred_on.text} for c in project.scope_changes
        ],
        "funding": {total.currency: decimal_text(total.amount) for total in project.funding},
    }
    if project.ended_on:
        view["ended_on"] = project.ended_on.text
    return view


def _held_order(meeting: Meeting) -> tuple[date, int]:
    assert meeting.held is not None
    return meeting.held.occurred_on.day, meeting.held.position


def _last_meeting(meetings: list[Meeting]) -> dict[str, Any] | None:
    held = [m for m in meetings if m.held]
    if not held:
        return None
    last = max(held, key=_held_order)
    assert last.held is not None
    return {
        "meeting": last.meeting,
        "occurred_on": last.held.occurred_on.text,
        "number": last.held.number,
        "series": last.held.series,
        "venue": last.held.venue,
    }


def _planned(meeting: Meeting) -> Announcement:
    assert meeting.announced is not None
    return meeting.announced


def _by_plan(meetings: Iterable[Meeting]) -> list[Meeting]:
    """Meetings by their last known planned day, then announcement."""
    return sorted(meetings, key=lambda m: (_planned(m).planned_for.day, _planned(m).position))


def _next_meeting(meetings: list[Meeting], as_of: date) -> dict[str, Any] | None:
    """The announced meeting, not held, cancelled or postponed, planned for D or later: the earliest."""
    coming = [m for m in meetings if m.coming(as_of)]
    if not coming:
        return None
    first = _by_plan(coming)[0]
    announced = _planned(first)
    return {"meeting": first.meeting, "planned_for": announced.planned_for.text, "host": announced.host}


def _waiting_view(meeting: Meeting) -> dict[str, Any]:
    """An overdue or postponed meeting: when it was announced, its last known date."""
    announced = _planned(meeting)
    view = {
        "meeting": meeting.meeting,
        "announced_on": announced.announced_on.text,
        "planned_for": announced.planned_for.text,
    }
    if meeting.postponed_on:
        view["postponed_on"] = meeting.postponed_on.text
    return view


def _series_view(series: str, title: str | None, suspended_on: Edtf | None = None) -> dict[str, Any]:
    return {
        "series": series,
        "title": title,
        "held": 0,
        "last_number": None,
        "suspended_since": _text(suspended_on),
    }


def _series_views(established: list[Series], meetings: list[Meeting]) -> list[dict[str, Any]]:
    """Each series established in the relationship or with meetings held in it."""
    views = {s.series: _series_view(s.series, s.title, s.suspended_on) for s in established}
    for meeting in sorted((m for m in meetings if m.held and m.held.series), key=_held_order):
        assert meeting.held is not None and meeting.held.series is not None
        view = views.setdefault(meeting.held.series, _series_view(meeting.held.series, None))
        view["held"] += 1
        if meeting.held.number is not None:
            view["last_number"] = meeting.held.number
    return [views[series] for series in sorted(views)]

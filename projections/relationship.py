"""State and history of one relationship as of a day, as known at a time: pure folds."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from msgspec import Struct, field

from ..events import Edtf, Recorded
from .instruments import Amendment, Extension, Instrument
from .meetings import Announcement, Meeting, Series
from .membership import CountryOf, Interval, Members, Membership, inside, side
from .parties import named
from .projects import Project, Total
from .things import Key, Snapshot, evolve, subjects

Namer = Callable[[str, date], str]  # a party's name on a day
# The events that shape one thing by the day, whatever pair they belong to, given those of them
# the pair has (which are all of them, mostly: only a thing whose members changed, or that was
# superseded, has events in other pairs).
Things = Callable[[Key, list["Entry"]], list["Entry"]]
MEMBERSHIP_KINDS = ("instrument", "project", "series")


class Entry(Struct, frozen=True):
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
    return [history_item(entry, known_at, name) for entry in shown]


def history_item(entry: Entry, known_at: str | None, name: Namer | None) -> dict[str, Any]:
    """One event as `history --json` shows it."""
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


class Pair(Struct, frozen=True):
    """The two sides of a relationship: which members of a thing stand for each (the party
    itself and, under rollup, that state's organisations)."""

    one: Callable[[str], bool]
    other: Callable[[str], bool]

    @classmethod
    def of(
        cls,
        relationship: str,
        country_of: CountryOf,
        exact: bool,
        heirs: Callable[[str], set[str]] = lambda member: set(),
    ) -> Pair:
        a, b = relationship.split("~")
        return cls(side(a, country_of, exact, heirs), side(b, country_of, exact, heirs))


def heirs_by(
    successions: Callable[[str], list[tuple[str, date, int]]], day: date
) -> Callable[[str], set[str]]:
    """The parties that had taken over a party by a day: its successors, theirs, and so on
    (each party's asked once)."""
    found: dict[str, set[str]] = {}

    def heirs(member: str) -> set[str]:
        if member not in found:
            found[member] = {heir for heir, since, _ in successions(member) if since <= day}
        return found[member]

    return heirs


class Folded(Struct):
    """The things of a relationship as of a day: the same folds the ledger keeps, over the pair's
    counted events. `exact` says whether a thing's last counted event is the pair's own (not
    there by rollup alone); `unfounded` holds counted events of things not founded by then;
    `together` the stretches of time in which both sides of the pair were members of a thing
    (only when the pair was given), and `lookup` gives any other thing as of the same day."""

    things: dict[Key, Any] = field(default_factory=dict)
    exact: dict[Key, bool] = field(default_factory=dict)
    unfounded: list[Entry] = field(default_factory=list)
    together: dict[Key, list[Interval]] = field(default_factory=dict)
    lookup: Callable[[Key], Any] = lambda key: None
    # Who took over a party, from which day, by which succession (`parties.successions`).
    successions: Callable[[str], list[tuple[str, date, int]]] = lambda party: []

    def of(self, kind: str) -> list[Any]:
        return [state for (k, _), state in self.things.items() if k == kind]

    def withdrawn_since(self, key: Key, as_of: date) -> Edtf | None:
        """The day one side of the pair left a thing they were members of together, when on the
        day they are no longer both in it."""
        spans = self.together.get(key)
        if not spans or inside(spans, as_of):
            return None
        return max((end for _, end in spans if end is not None and end.day <= as_of), key=lambda e: e.day)

    def successor(self, instrument: Instrument) -> Instrument | None:
        """The instrument that supersedes another, as of the same day."""
        if instrument.superseded_by is None:
            return None
        key = ("instrument", instrument.superseded_by)
        return self.things.get(key) or self.lookup(key)


def fold(
    entries: Iterable[Entry],
    as_of: date,
    known_at: str | None = None,
    exact: bool = False,
    whole: Things | None = None,
    pair: Pair | None = None,
) -> Folded:
    """Fold the events that count as of a day, as known at a time, into the things they shape.

    With `whole`, each instrument, project and series is folded from its own events rather
    than from the pair's alone: a party that joined later, or an event back-filled, is then
    seen the same from every pair. With `pair`, a thing both sides were never members of
    together by the day is left out: a relationship includes it while both are members.
    """
    folded = Folded()
    for entry in counted(entries, as_of, known_at, exact):
        for key in subjects(entry.event.data):
            state = evolve(key, folded.things.get(key), entry.event)
            if state is not None:
                folded.things[key] = state
                folded.exact[key] = entry.exact
            elif key[0] != "number":
                folded.unfounded.append(entry)
    if whole is not None:
        mine: dict[Key, list[Entry]] = {}
        for entry in entries:
            if entry.event.day is not None and entry.event.day <= as_of:
                for key in subjects(entry.event.data):
                    mine.setdefault(key, []).append(entry)
        refolded: dict[Key, Any] = {}

        def lookup(key: Key) -> Any:
            if key not in refolded:
                refolded[key] = _refold(key, whole(key, mine.get(key, [])), as_of, known_at)
            return refolded[key]

        folded.lookup = lookup
        # A joiner's pair has no row of the thing's founding: the thing's own events found it.
        for entry in list(folded.unfounded):
            for key in subjects(entry.event.data):
                if key[0] in MEMBERSHIP_KINDS and key not in folded.things and folded.lookup(key) is not None:
                    folded.things[key], folded.exact[key] = None, entry.exact
        founded = folded.things.keys()
        folded.unfounded = [e for e in folded.unfounded if not founded & set(subjects(e.event.data))]
    _in_pair(folded, as_of, pair, folded.lookup if whole is not None else folded.things.__getitem__)
    return folded


def _in_pair(folded: Folded, as_of: date, pair: Pair | None, state_of: Callable[[Key], Any]) -> None:
    """Each instrument, project and series as `state_of` gives it, and only those both sides of
    the pair were members of together by the day (all of them without `pair`)."""
    for key in [key for key in folded.things if key[0] in MEMBERSHIP_KINDS]:
        state = state_of(key)
        spans = state.together(pair.one, pair.other) if state is not None and pair is not None else None
        if state is None or (spans is not None and not any(start.day <= as_of for start, _ in spans)):
            del folded.things[key]
            continue
        folded.things[key] = state
        if spans is not None:
            folded.together[key] = spans


def from_snapshots(
    shaping: dict[Key, list[tuple[str, int]]],
    snapshots: dict[Key, Snapshot],
    possible: list[Entry],
    as_of: date,
    pair: Pair,
    lookup: Callable[[Key], Any],
) -> Folded | None:
    """What `fold` gives (known now, with rollup, each thing folded from its own events, the
    pair given) from each thing's snapshot as of the day, without folding an event. `shaping`
    holds the day and position of each of the pair's events by the day that shape each of its
    things (by day, then position), `snapshots` each thing's latest snapshot by then,
    `possible` the pair's events that possibly happened by then; `lookup` gives any other
    thing as of the day.

    None when the pair lacks some of a meeting's events by the day (its fold of the meeting is
    not the meeting's own), or when an event that possibly happened shapes a thing not founded
    by then (the thing's events are then listed as possible): `fold` answers those. Things are
    in the fold's order: those the pair's own events found, by the day and position of their
    founding; then those founded by events of other pairs only (a party joined later), by the
    pair's first event of them.
    """
    founded_here: list[tuple[tuple[str, int], Key]] = []
    founded_elsewhere: list[tuple[tuple[str, int], Key]] = []
    for key, events in shaping.items():
        snapshot = snapshots.get(key)
        if snapshot is None or (snapshot.shaped != len(events) and key[0] not in MEMBERSHIP_KINDS):
            return None
        if snapshot.founded is None:
            if any(key in subjects(entry.event.data) for entry in possible):
                return None
        elif snapshot.shaped == len(events) or snapshot.founded[1] in {position for _, position in events}:
            founded_here.append((snapshot.founded, key))
        else:
            founded_elsewhere.append((events[0], key))
    folded = Folded(lookup=lookup)
    for _, key in [*sorted(founded_here), *sorted(founded_elsewhere)]:
        folded.things[key] = snapshots[key].state
    _in_pair(folded, as_of, pair, folded.things.__getitem__)
    return folded


def _refold(key: Key, entries: list[Entry], as_of: date, known_at: str | None) -> Any:
    state = None
    for entry in counted(entries, as_of, known_at):
        state = evolve(key, state, entry.event)
    return state


def state(
    relationship: str,
    entries: Iterable[Entry],
    as_of: Edtf,
    known_at: str | None = None,
    exact: bool = False,
    name: Namer | None = None,
    whole: Things | None = None,
    country_of: CountryOf | None = None,
    successions: Callable[[str], list[tuple[str, date, int]]] = lambda party: [],
) -> dict[str, Any]:
    """The relationship as of a day (SPEC section 4): a view of its things; with `name`,
    `party_names` names every party the answer mentions as of that day. With `whole` and
    `country_of` (see `fold`), things are folded from their own events and the pair's
    membership decides whether, and how, each is in the relationship. `successions` says who
    took over a party (`parties.successions`): a successor stands for its predecessor from the
    succession's day, in the pair and among a thing's members."""
    entries = list(entries)
    pair = Pair.of(relationship, country_of, exact, heirs_by(successions, as_of.day)) if country_of else None
    folded = fold(entries, as_of.day, known_at, exact, whole, pair)
    folded.successions = successions
    return view(relationship, folded, entries, as_of, known_at, exact, name, pair)


def view(
    relationship: str,
    folded: Folded,
    entries: list[Entry],
    as_of: Edtf,
    known_at: str | None,
    exact: bool,
    name: Namer | None,
    pair: Pair | None,
) -> dict[str, Any]:
    """`state --json` of a relationship's folded things; `entries` are its events, for those that
    possibly happened by the day."""
    meetings = folded.of("meeting")
    view = {
        "relationship": relationship,
        "as_of": as_of.text,
        "known_at": known_at,
        "instruments": [_instrument_view(i, as_of.day, folded, pair) for i in folded.of("instrument")],
        "projects": [_project_view(p, as_of.day, folded) for p in folded.of("project")],
        "meetings": {
            "held": sum(1 for m in meetings if m.held),
            "last": _last_meeting(meetings),
            "next": _next_meeting(meetings, as_of.day),
            "overdue": [_waiting_view(m) for m in _by_plan(m for m in meetings if m.overdue(as_of.day))],
            "postponed": [_waiting_view(m) for m in _by_plan(m for m in meetings if m.put_off)],
            "series": _series_views(folded.of("series"), meetings, as_of.day, folded),
        },
        "possibly": _possibly(entries, as_of.day, known_at, exact, folded),
    }
    if name is not None:
        view["party_names"] = {party: name(party, as_of.day) for party in sorted(_mentioned(view))}
    return view


def whole_view(thing: Instrument | Project, as_of: date, lookup: Callable[[Key], Any]) -> dict[str, Any]:
    """An instrument or a project as `state --json` shows it, of the whole ledger rather than of
    a pair (the exports' rows); `lookup` gives any other thing as of the day (its successor)."""
    folded = Folded(lookup=lookup)
    if isinstance(thing, Instrument):
        return _instrument_view(thing, as_of, folded, None)
    return _project_view(thing, as_of, folded)


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
    """The parties a state answer names: the pair's, its things' members and participants, and
    the next meeting's host."""
    parties = set(view["relationship"].split("~"))
    for thing in (*view["instruments"], *view["projects"], *view["meetings"]["series"]):
        parties.update(thing.get("parties", ()))
        parties.update(member["party"] for member in thing["members"])
    for project in view["projects"]:
        parties.update(participant["party"] for participant in project["participants"])
    upcoming = view["meetings"]["next"]
    if upcoming and upcoming["host"]:
        parties.add(upcoming["host"])
    return parties


def _changes(changes: tuple[Amendment, ...]) -> list[dict[str, str]]:
    return [{"summary": change.summary, "occurred_on": change.occurred_on.text} for change in changes]


def _text(value: Edtf | None) -> str | None:
    return value.text if value else None


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _members_view(
    thing: Members, as_of: date, binding: Callable[[Membership], Any], folded: Folded
) -> list[dict[str, Any]]:
    """One entry per membership period, as of the day (SPEC section 4): dates as entered. A
    successor takes over each period its predecessor held on the succession's day (SPEC
    section 3), as an entry of its own with action `succession` from that day, bound if the
    predecessor was; as of an earlier day it has none."""
    view = []
    for period in thing.members:
        bound = binding(period)
        bound = bound if bound is not None and bound[0].day <= as_of else None
        withdrew = period.withdrew_on
        entry = {
            "party": period.party,
            "action": period.action,
            "joined_on": period.joined_on.text,
            "joining_pending": period.joined_on.day > as_of,
            "bound_on": bound[0].text if bound else None,
            "bound_by": bound[1] if bound else None,
            "withdrew_on": _text(withdrew),
            "withdrawal_pending": withdrew is not None and withdrew.day > as_of,
        }
        view.append(entry)
        for successor, since, _ in folded.successions(period.party):
            if (
                since <= as_of
                and period.joined_on.day <= since
                and (withdrew is None or since < withdrew.day)
            ):
                taken = since.isoformat()
                view.append(
                    {
                        **entry,
                        "party": successor,
                        "action": "succession",
                        "joined_on": taken,
                        "joining_pending": False,
                        "bound_on": taken if bound and bound[0].day <= since else entry["bound_on"],
                    }
                )
    return view


def _at_once(period: Membership) -> tuple[Edtf, str]:
    """A series or project binds its members to nothing: they are in from the day they join."""
    return period.joined_on, period.action


def _instrument_view(
    instrument: Instrument, as_of: date, folded: Folded, pair: Pair | None
) -> dict[str, Any]:
    key = ("instrument", instrument.instrument)
    successor = folded.successor(instrument)
    takes_over = successor.effective_from() if successor else None
    status = instrument.status(as_of, takes_over.day if takes_over else None)
    if status not in ("terminated", "superseded", "expired"):
        if folded.withdrawn_since(key, as_of):
            status = "withdrawn"
        elif status == "in_force" and pair is not None and not _bound(instrument, pair, as_of):
            status = "signed"  # for this pair: one side is only a signatory
    renewal = instrument.renewal
    running = status not in ("terminated", "superseded")  # its terms run on (for the pair or not)
    return {
        "instrument": instrument.instrument,
        "kind": instrument.kind,
        "title": instrument.title,
        "parties": list(instrument.parties),
        "multilateral": len(instrument.parties) > 2,
        "signed_on": instrument.signed_on.text,
        "in_force_from": _text(instrument.in_force_from),
        "expires_on": _text(instrument.expiry),
        "until_terminated": instrument.until_terminated,
        "status": status,
        "extensions": [_extension_view(e) for e in instrument.extensions],
        "amendments": _changes(instrument.amendments),
        "renewal": {"term": renewal.term, "notice": renewal.notice} if renewal else None,
        "current_term_ends": _iso(instrument.current_term_ends(as_of)) if running else None,
        "notice_by": _iso(instrument.notice_by(as_of)) if running else None,
        "supersedes": instrument.supersedes,
        "superseded_by": instrument.superseded_by,
        "terminated_on": _text(instrument.terminated_on),
        "members": _members_view(instrument, as_of, instrument.binding, folded),
    }


def _bound(instrument: Instrument, pair: Pair, as_of: date) -> bool:
    """Both sides of the pair bound on the day (by a member standing for each)."""
    members = instrument.members_on(as_of)
    return all(
        any(stands(m) and instrument.bound(m, as_of) for m in members) for stands in (pair.one, pair.other)
    )


def _extension_view(extension: Extension) -> dict[str, Any]:
    view: dict[str, Any] = {
        "expires_on": _text(extension.expires_on),
        "occurred_on": extension.occurred_on.text,
    }
    if extension.until_terminated:
        view["until_terminated"] = True
    return view


def instrument_view(instrument: Instrument, as_of: date) -> dict[str, Any]:
    """An instrument as `state` shows it on a day: what `upcoming` reads its deadlines from."""
    return _instrument_view(instrument, as_of, Folded(), None)


def decimal_text(amount: Decimal) -> str:
    """A total as a plain decimal string: 600000, 1250.5."""
    return format(amount.normalize(), "f")


def _totals(totals: tuple[Total, ...]) -> dict[str, str]:
    return {total.currency: decimal_text(total.amount) for total in totals}


def _project_view(project: Project, as_of: date, folded: Folded) -> dict[str, Any]:
    key = ("project", project.project)
    status = project.status(as_of)
    if status not in ("completed", "terminated") and folded.withdrawn_since(key, as_of):
        status = "withdrawn"
    return {
        "project": project.project,
        "title": project.title,
        "parties": list(project.parties),
        "multilateral": len(project.parties) > 2,
        "launched_on": project.launched_on.text,
        "planned_start": _text(project.planned_start),
        "planned_end": _text(project.end),
        "status": status,
        "scope_changes": _changes(project.scope_changes),
        "funding": _totals(project.funding),
        "disbursed": _totals(project.disbursed),
        "spent": _totals(project.spent),
        "completed_on": _text(project.ended_on) if project.ending == "completed" else None,
        "terminated_on": _text(project.ended_on) if project.ending == "terminated" else None,
        "members": _members_view(project, as_of, _at_once, folded),
        "participants": [{"party": p.party, "role": p.role} for p in project.participants],
    }


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


def _series_view(
    series: str, title: str | None, as_of: date, folded: Folded, established: Series | None = None
) -> dict[str, Any]:
    withdrawn = folded.withdrawn_since(("series", series), as_of) if established else None
    return {
        "series": series,
        "title": title,
        "held": 0,
        "last_number": None,
        "suspended_since": _text(established.suspended_on) if established else None,
        "withdrawn_since": _text(withdrawn),
        "members": _members_view(established, as_of, _at_once, folded) if established else [],
    }


def _series_views(
    established: list[Series], meetings: list[Meeting], as_of: date, folded: Folded
) -> list[dict[str, Any]]:
    """Each series established in the relationship or with meetings held in it."""
    views = {s.series: _series_view(s.series, s.title, as_of, folded, s) for s in established}
    for meeting in sorted((m for m in meetings if m.held and m.held.series), key=_held_order):
        assert meeting.held is not None and meeting.held.series is not None
        view = views.setdefault(meeting.held.series, _series_view(meeting.held.series, None, as_of, folded))
        view["held"] += 1
        if meeting.held.number is not None:
            view["last_number"] = meeting.held.number
    return [views[series] for series in sorted(views)]

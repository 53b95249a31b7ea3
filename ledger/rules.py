"""The rules an event must keep when it is appended, checked against the entities as they stand."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from difflib import SequenceMatcher, get_close_matches
from functools import singledispatch
from typing import Any

from ..events import (
    Draft,
    Edtf,
    Event,
    InstrumentAmended,
    InstrumentEnteredIntoForce,
    InstrumentExtended,
    InstrumentSigned,
    InstrumentTerminated,
    MeetingCancelled,
    MeetingHeld,
    MeetingPostponed,
    MeetingScheduled,
    PartyRegistered,
    PartyRenamed,
    ProjectCompleted,
    ProjectExtended,
    ProjectFunded,
    ProjectLaunched,
    ProjectScopeChanged,
    ProjectTerminated,
    SeriesEstablished,
    SeriesResumed,
    SeriesSuspended,
)
from ..events.dates import latest_today
from ..events.states import state_by_name, state_candidates, state_code, state_suggestions
from ..projections.instruments import Instrument
from ..projections.meetings import Meeting, Series, number_key
from ..projections.parties import Party
from ..projections.projects import Project
from ..projections.things import Lookup
from .errors import Rejected, Stricter


def party_resolver(get: Lookup, registered: Callable[[], Iterable[str]]) -> Callable[[str], str]:
    """Resolve a party as written: a state's code, alias or name; a registered party or alias."""

    def resolve(written: str) -> str:
        code = state_code(written)
        if code:
            return code
        party = written.upper()
        if get(("party", party)):
            return party
        alias = get(("alias", party))
        if alias:
            return alias.party
        named = state_by_name(written)
        if named:
            return named
        if written != party or " " in written:  # written as a name, not an id
            candidates = state_candidates(written)
            if candidates:
                raise LookupError(
                    f"{written!r} names no single party: did you mean {' or '.join(candidates)}?"
                )
        raise LookupError(f"unknown party {written!r}{_suggestion(party, registered)}")

    return resolve


def _suggestion(party: str, registered: Callable[[], Iterable[str]]) -> str:
    candidates = sorted({*state_suggestions(), *registered()})
    close = get_close_matches(party, candidates, n=6, cutoff=0.6)
    if close:
        # The closest by the start they share with the typed id, then by likeness: KOE -> KOR.
        score = {id_: (id_[:2] == party[:2], SequenceMatcher(None, party, id_).ratio()) for id_ in close}
        best = max(score.values())
        return f" (did you mean {' or '.join(id_ for id_ in close if score[id_] == best)}?)"
    return " (states are ISO 3166 codes like KOR; register any other party first: coopledger party add)"


# The event types of the first contract (SPEC version 1); version 2 added the others.
CONTRACT_1_TYPES = frozenset(
    {
        "PartyRegistered",
        "InstrumentSigned",
        "InstrumentEnteredIntoForce",
        "InstrumentExtended",
        "InstrumentAmended",
        "InstrumentTerminated",
        "SeriesEstablished",
        "MeetingScheduled",
        "MeetingHeld",
        "ProjectLaunched",
        "ProjectScopeChanged",
        "ProjectExtended",
        "ProjectFunded",
        "ProjectCompleted",
        "ProjectTerminated",
        "EventRetracted",
    }
)


def check(draft: Draft, get: Lookup, today: date | None = None, contract: int = 2) -> None:
    """Raise Rejected, naming the field, when the draft breaks a rule of SPEC section 3.

    `today` is the day no fact can be after (default: today where the calendar is furthest ahead).
    Under `contract` 1 the rules version 2 added (those raising `Stricter`, and those of the types
    it added) are left out: `verify` judges events recorded before a store's upgrade so.
    """
    if contract < 2 and draft.type not in CONTRACT_1_TYPES:
        return
    occurred_on = draft.occurred_on
    if contract >= 2 and occurred_on is not None and occurred_on.earliest > (today or latest_today()):
        raise Stricter(
            "occurred_on",
            f"{occurred_on} has not happened yet; record what happened, and date an announcement "
            "on the day it was made",
        )
    parties = getattr(draft.data, "parties", None)
    if parties is not None:
        _distinct_parties(parties)
    try:
        _check(draft.data, draft, get)
    except Stricter:
        if contract >= 2:
            raise


def check_retraction(
    position: int, type_: str, retracted: bool, dependent: Callable[[], tuple[int, str, str] | None]
) -> None:
    """Raise Rejected when the event at a position cannot be retracted: a retraction, one
    retracted already, or one an unretracted event depends on (`dependent` gives its position and
    the kind and id of the thing that makes it depend)."""
    if type_ == "EventRetracted":
        raise Rejected("data.event", f"event {position} is a retraction; retractions cannot be retracted")
    if retracted:
        raise Rejected("data.event", f"event {position} is already retracted")
    found = dependent()
    if found:
        raise Rejected("data.event", f"event {found[0]} depends on {found[1]} {found[2]!r}; retract it first")


def _distinct_parties(parties: tuple[str, ...]) -> None:
    if len(parties) < 2:
        raise Rejected("data.parties", "needs two or more parties")
    seen: set[str] = set()
    for index, party in enumerate(parties):
        if party in seen:
            raise Rejected(f"data.parties[{index}]", f"names {party} twice")
        seen.add(party)


@singledispatch
def _check(event: Event, draft: Draft, get: Lookup) -> None:
    """Events with no rule beyond their fields' own (EventRetracted is checked by the ledger)."""


def _new(get: Lookup, kind: str, slug: str, field: str) -> None:
    state = get((kind, slug))
    if state is not None:
        raise Rejected(field, f"{kind} {slug!r} is already recorded (position {state.position})")


def _existing(get: Lookup, kind: str, slug: str, field: str) -> Any:
    state = get((kind, slug))
    if state is None:
        raise Rejected(field, f"no {kind} {slug!r} in the ledger")
    return state


def _not_before(draft: Draft, start: Edtf, what: str) -> None:
    """Refuse an event certainly dated before the start of what it is about."""
    occurred_on = draft.occurred_on
    if occurred_on is not None and occurred_on.latest < start.earliest:
        raise Rejected("occurred_on", f"{occurred_on.text} is before {what} ({start.earliest.isoformat()})")


def _after(later: Edtf, earlier: date, field: str, what: str) -> None:
    if later.day <= earlier:
        raise Rejected(field, f"{later.text} is not after {what} ({earlier.isoformat()})")


def _new_ids(ids: list[tuple[str, str]], get: Lookup) -> None:
    """Ids a party is to be known by: neither a state's nor taken by another party."""
    for field, party in ids:
        code = state_code(party) or state_by_name(party)
        if code:
            refusal = Rejected if state_code(party) else Stricter  # states by name came with version 2
            raise refusal(field, f"{party!r} already names the state {code}; states need no registration")
        for kind in ("party", "alias"):
            if get((kind, party)) is not None:
                raise Rejected(field, f"{party!r} is already a registered party id or alias")
    names = [party for _, party in ids]
    if len(set(names)) != len(names):
        raise Rejected("data.aliases", "repeats the party id or an alias")


def _not_a_state(name: str) -> None:
    code = state_by_name(name)
    if code:
        raise Stricter("data.name", f"{name!r} is the state {code}; states need no registration")


def _aliases(aliases: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(f"data.aliases[{i}]", alias) for i, alias in enumerate(aliases)]


@_check.register
def _(event: PartyRegistered, draft: Draft, get: Lookup) -> None:
    _new_ids([("data.party", event.party), *_aliases(event.aliases)], get)
    _not_a_state(event.name)


@_check.register
def _(event: PartyRenamed, draft: Draft, get: Lookup) -> None:
    party: Party | None = get(("party", event.party))
    if party is None:
        raise Rejected("data.party", f"{event.party} is a state: its name is the one ISO 3166 gives it")
    _new_ids(_aliases(event.aliases), get)
    _not_a_state(event.name)


@_check.register
def _(event: InstrumentSigned, draft: Draft, get: Lookup) -> None:
    assert draft.occurred_on is not None
    _new(get, "instrument", event.instrument, "data.instrument")
    if event.expires_on:
        _after(event.expires_on, draft.occurred_on.day, "data.expires_on", "the signing day")
        if event.in_force_from and event.in_force_from.day > event.expires_on.day:
            raise Rejected("data.in_force_from", f"{event.in_force_from.text} is after expires_on")
    if event.under:
        _existing(get, "instrument", event.under, "data.under")


def _live_instrument(
    event: InstrumentExtended | InstrumentTerminated | InstrumentEnteredIntoForce, draft: Draft, get: Lookup
) -> Instrument:
    instrument: Instrument = _existing(get, "instrument", event.instrument, "data.instrument")
    if instrument.terminated:
        raise Rejected("data.instrument", f"instrument {event.instrument!r} has been terminated")
    _not_before(draft, instrument.signed_on, "its signing")
    return instrument


@_check.register
def _(event: InstrumentEnteredIntoForce, draft: Draft, get: Lookup) -> None:
    instrument = _live_instrument(event, draft, get)
    if instrument.in_force_from is not None:
        raise Rejected(
            "data.instrument",
            f"instrument {event.instrument!r} is already in force (from its in_force_from, an "
            f"earlier entry into force, or its signing as a {instrument.kind})",
        )


@_check.register
def _(event: InstrumentExtended, draft: Draft, get: Lookup) -> None:
    instrument = _live_instrument(event, draft, get)
    if instrument.expiry is None:
        raise Rejected("data.instrument", f"instrument {event.instrument!r} has no expiry to extend")
    _after(event.expires_on, instrument.expiry.day, "data.expires_on", "the current expiry")


@_check.register
def _(event: InstrumentAmended, draft: Draft, get: Lookup) -> None:
    instrument: Instrument = _existing(get, "instrument", event.instrument, "data.instrument")
    _not_before(draft, instrument.signed_on, "its signing")


@_check.register
def _(event: InstrumentTerminated, draft: Draft, get: Lookup) -> None:
    _live_instrument(event, draft, get)


@_check.register
def _(event: SeriesEstablished, draft: Draft, get: Lookup) -> None:
    _new(get, "series", event.series, "data.series")
    if event.under:
        _existing(get, "instrument", event.under, "data.under")


def _meeting(event: MeetingScheduled | MeetingHeld, draft: Draft, get: Lookup) -> Meeting | None:
    if event.series:
        series = _existing(get, "series", event.series, "data.series")
        _not_before(draft, series.established_on, "the series was established")
    elif event.number is not None:
        raise Rejected("data.number", "a meeting number needs a series")
    meeting: Meeting | None = get(("meeting", event.meeting))
    if meeting and meeting.held:
        raise Rejected(
            "data.meeting", f"meeting {event.meeting!r} is already held (position {meeting.held.position})"
        )
    if event.series and event.number is not None:
        taken = get(("number", number_key(event.series, event.number)))
        if taken and taken.meeting != event.meeting:
            raise Rejected(
                "data.number",
                f"meeting {event.number} of series {event.series!r} is already recorded "
                f"as {taken.meeting!r} (position {taken.position})",
            )
    if meeting and meeting.cancelled_on:
        raise Stricter(
            "data.meeting",
            f"meeting {event.meeting!r} was cancelled on {meeting.cancelled_on}; "
            "record a meeting that takes its place under a new id",
        )
    return meeting


_check.register(MeetingScheduled, _meeting)


@_check.register
def _(event: MeetingHeld, draft: Draft, get: Lookup) -> None:
    """A meeting held fulfils its announcement: series and number agree where both give them."""
    meeting = _meeting(event, draft, get)
    announced = meeting.announced if meeting else None
    if announced is None:
        return
    for field, scheduled, held in (
        ("series", announced.series, event.series),
        ("number", announced.number, event.number),
    ):
        if scheduled is not None and held is not None and scheduled != held:
            raise Stricter(
                f"data.{field}",
                f"meeting {event.meeting!r} was scheduled with {field} {scheduled} (position "
                f"{announced.position}), not {held}; record a different meeting under a new id",
            )


def _announced(event: MeetingPostponed | MeetingCancelled, draft: Draft, get: Lookup) -> None:
    meeting: Meeting | None = get(("meeting", event.meeting))
    if meeting is None or meeting.announced is None:
        raise Rejected("data.meeting", f"no meeting {event.meeting!r} has been scheduled")
    _not_before(draft, meeting.announced.announced_on, "it was announced")
    if meeting.held:
        raise Rejected(
            "data.meeting", f"meeting {event.meeting!r} is already held (position {meeting.held.position})"
        )
    if meeting.cancelled_on:
        raise Rejected("data.meeting", f"meeting {event.meeting!r} was cancelled on {meeting.cancelled_on}")


_check.register(MeetingPostponed, _announced)
_check.register(MeetingCancelled, _announced)


@_check.register(SeriesSuspended)
@_check.register(SeriesResumed)
def _(event: SeriesSuspended | SeriesResumed, draft: Draft, get: Lookup) -> None:
    series: Series = _existing(get, "series", event.series, "data.series")
    _not_before(draft, series.established_on, "the series was established")
    if isinstance(event, SeriesSuspended) and series.suspended_on:
        raise Rejected("data.series", f"series {event.series!r} is suspended since {series.suspended_on}")
    if isinstance(event, SeriesResumed) and not series.suspended_on:
        raise Rejected("data.series", f"series {event.series!r} is not suspended")


@_check.register
def _(event: ProjectLaunched, draft: Draft, get: Lookup) -> None:
    assert draft.occurred_on is not None
    _new(get, "project", event.project, "data.project")
    if event.planned_end:
        _after(event.planned_end, draft.occurred_on.day, "data.planned_end", "the launch day")
    if event.under:
        _existing(get, "instrument", event.under, "data.under")


def _live_project(
    event: ProjectScopeChanged | ProjectExtended | ProjectCompleted | ProjectTerminated,
    draft: Draft,
    get: Lookup,
) -> Project:
    project: Project = _existing(get, "project", event.project, "data.project")
    if project.ended:
        raise Rejected("data.project", f"project {event.project!r} has ended")
    _not_before(draft, project.launched_on, "its launch")
    return project


@_check.register(ProjectScopeChanged)
@_check.register(ProjectCompleted)
@_check.register(ProjectTerminated)
def _(event: ProjectScopeChanged | ProjectCompleted | ProjectTerminated, draft: Draft, get: Lookup) -> None:
    _live_project(event, draft, get)


@_check.register
def _(event: ProjectExtended, draft: Draft, get: Lookup) -> None:
    project = _live_project(event, draft, get)
    current = project.end or project.launched_on
    what = "the current planned end" if project.end else "the launch day"
    _after(event.planned_end, current.day, "data.planned_end", what)


@_check.register
def _(event: ProjectFunded, draft: Draft, get: Lookup) -> None:
    project: Project = _existing(get, "project", event.project, "data.project")
    _not_before(draft, project.launched_on, "its launch")

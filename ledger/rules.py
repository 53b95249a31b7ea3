"""The rules an event must keep when it is appended, checked against the entities as they stand."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from functools import singledispatch
from typing import Any

from ..events import (
    CONFIRMING_ACTS,
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
    PartyJoined,
    PartyRegistered,
    PartyRenamed,
    PartySucceeded,
    PartyWithdrew,
    ProjectCompleted,
    ProjectExtended,
    ProjectFunded,
    ProjectLaunched,
    ProjectScopeChanged,
    ProjectTerminated,
    Recorded,
    SeriesEstablished,
    SeriesResumed,
    SeriesSuspended,
)
from ..events.dates import latest_today
from ..events.states import state_by_name, state_candidates, state_code, state_suggestions
from ..projections.instruments import Instrument
from ..projections.meetings import Meeting, Series, number_key
from ..projections.membership import Members, dependent, members_on, withdrew
from ..projections.parties import Party
from ..projections.projects import Project
from ..projections.things import Key, Lookup
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
    from difflib import SequenceMatcher, get_close_matches  # only when a name is not found

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
    for field, party in _party_fields(draft.data):
        named: Party | None = get(("party", party))
        if (
            named
            and named.succeeded_on
            and occurred_on is not None
            and occurred_on.day > named.succeeded_on.day
        ):
            raise Rejected(
                field,
                f"{party} was succeeded by {', '.join(named.successors)} on {named.succeeded_on}; "
                "name its successor",
            )
    parties = getattr(draft.data, "parties", None)
    if parties is not None:
        # An entry into force lists the members it binds (any number); the others, two or more parties.
        _distinct_parties(parties, 0 if isinstance(draft.data, InstrumentEnteredIntoForce) else 2)
    try:
        _check(draft.data, draft, get)
    except Stricter:
        if contract >= 2:
            raise


def check_retraction(
    position: int, type_: str, retracted: bool, dependent: Callable[[], tuple[int, str] | None]
) -> None:
    """Raise Rejected when the event at a position cannot be retracted: a retraction, one
    retracted already, or one an unretracted event depends on (`dependent` gives its position and
    what it depends on: `event 12`, `party 'x'`)."""
    if type_ == "EventRetracted":
        raise Rejected("data.event", f"event {position} is a retraction; retractions cannot be retracted")
    if retracted:
        raise Rejected("data.event", f"event {position} is already retracted")
    found = dependent()
    if found:
        raise Rejected("data.event", f"event {found[0]} depends on {found[1]}; retract it first")


def _party_fields(event: Event) -> list[tuple[str, str]]:
    """The fields of an event that name a party, with the party each names."""
    fields = [(f"data.parties[{i}]", party) for i, party in enumerate(getattr(event, "parties", ()))]
    fields += [(f"data.observers[{i}]", party) for i, party in enumerate(getattr(event, "observers", ()))]
    if getattr(event, "host", None):
        fields.append(("data.host", event.host))  # type: ignore[attr-defined]
    for name in ("signatories", "chairs", "heads_of_delegation"):
        people = getattr(event, name, ())
        fields += [(f"data.{name}[{i}].party", p.party) for i, p in enumerate(people) if p.party]
    return fields


def _distinct_parties(parties: tuple[str, ...], at_least: int) -> None:
    if len(parties) < at_least:
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


def _registered(get: Lookup, party: str, field: str, refusal: str) -> Party:
    """A registered party's state; a state is refused (the ids that are neither were resolved
    before the rules run)."""
    state: Party | None = get(("party", party))
    if state is None:
        raise Rejected(field, f"{party} is a state{refusal}")
    return state


@_check.register
def _(event: PartyRenamed, draft: Draft, get: Lookup) -> None:
    party = _registered(get, event.party, "data.party", ": its name is the one ISO 3166 gives it")
    renamed_on = draft.occurred_on
    if party.succeeded_on and renamed_on and renamed_on.day > party.succeeded_on.day:
        raise Rejected(
            "data.party", f"{event.party} was succeeded on {party.succeeded_on}; it keeps its last name"
        )
    _new_ids(_aliases(event.aliases), get)
    _not_a_state(event.name)


@_check.register
def _(event: PartySucceeded, draft: Draft, get: Lookup) -> None:
    between = "; a succession is between registered parties"
    predecessor = _registered(get, event.party, "data.party", between)
    if predecessor.succeeded_on:
        raise Rejected(
            "data.party",
            f"{event.party} was already succeeded by {', '.join(predecessor.successors)} "
            f"on {predecessor.succeeded_on}",
        )
    for index, successor in enumerate(event.successors):
        field = f"data.successors[{index}]"
        if successor == event.party:
            raise Rejected(field, f"{successor} is the predecessor itself")
        if successor in event.successors[:index]:
            raise Rejected(field, f"names {successor} twice")
        _registered(get, successor, field, between)


def _founded(draft: Draft, get: Lookup, thing: Key, end: tuple[str, Edtf | None], under: str | None) -> None:
    """What founding an instrument or a project keeps: a new id, an end (field, date) after
    the founding day, and the instrument it comes under already recorded."""
    assert draft.occurred_on is not None
    kind, slug = thing
    _new(get, kind, slug, f"data.{kind}")
    field, ends = end
    if ends:
        _after(
            ends,
            draft.occurred_on.day,
            field,
            "the signing day" if kind == "instrument" else "the launch day",
        )
    if under:
        _existing(get, "instrument", under, "data.under")


@_check.register
def _(event: InstrumentSigned, draft: Draft, get: Lookup) -> None:
    _founded(draft, get, ("instrument", event.instrument), ("data.expires_on", event.expires_on), event.under)
    if event.expires_on and event.in_force_from and event.in_force_from.day > event.expires_on.day:
        raise Rejected("data.in_force_from", f"{event.in_force_from.text} is after expires_on")
    if event.renewal and not event.expires_on:
        raise Rejected("data.renewal", "needs expires_on: the day its first term ends")
    if event.supersedes:
        _supersedable(event, draft, get)


def _supersedable(event: InstrumentSigned, draft: Draft, get: Lookup) -> None:
    """The instrument a new one replaces: recorded before it, sharing a party, still live."""
    field = "data.supersedes"
    old: Instrument = _existing(get, "instrument", event.supersedes, field)  # type: ignore[arg-type]
    _not_before(draft, old.signed_on, f"the signing of {old.instrument!r}")
    if not {*old.parties, *(m.party for m in old.members)} & set(event.parties):
        raise Rejected(field, f"instrument {old.instrument!r} has no party in common with this one")
    if old.terminated_on is not None:
        raise Rejected(field, f"instrument {old.instrument!r} was terminated ({old.terminated_on})")
    if old.superseded_by is not None:
        raise Rejected(field, f"instrument {old.instrument!r} is already superseded by {old.superseded_by!r}")


# What has ended an instrument or a project, and what founded it (the state's fields, as said).
_LIVES = {
    "instrument": ("terminated", "has been terminated", "signed_on", "its signing"),
    "project": ("ended", "has ended", "launched_on", "its launch"),
}


def _live(draft: Draft, get: Lookup, kind: str, slug: str) -> Any:
    """An instrument or project that has not ended, with the event not dated before its founding."""
    ended, said, founded_on, founding = _LIVES[kind]
    thing = _existing(get, kind, slug, f"data.{kind}")
    if getattr(thing, ended):
        raise Rejected(f"data.{kind}", f"{kind} {slug!r} {said}")
    _not_before(draft, getattr(thing, founded_on), founding)
    return thing


def _live_instrument(
    event: InstrumentExtended | InstrumentTerminated | InstrumentEnteredIntoForce, draft: Draft, get: Lookup
) -> Instrument:
    instrument: Instrument = _live(draft, get, "instrument", event.instrument)
    return instrument


@_check.register
def _(event: InstrumentEnteredIntoForce, draft: Draft, get: Lookup) -> None:
    instrument = _live_instrument(event, draft, get)
    assert draft.occurred_on is not None
    if instrument.statement:
        raise Rejected(
            "data.instrument",
            f"instrument {event.instrument!r} is a {instrument.kind}: adopted when signed, never in force",
        )
    if instrument.entered:
        raise Rejected(
            "data.instrument",
            f"instrument {event.instrument!r} is already in force from {instrument.in_force_from} "
            "(its in_force_from, or an earlier entry into force)",
        )
    for index, party in enumerate(event.parties):
        if instrument.period_of(party, draft.occurred_on.day) is None:
            raise Rejected(
                f"data.parties[{index}]",
                f"{party} is not a member of instrument {event.instrument!r} on {draft.occurred_on}",
            )


@_check.register
def _(event: InstrumentExtended, draft: Draft, get: Lookup) -> None:
    instrument = _live_instrument(event, draft, get)
    assert draft.occurred_on is not None
    if event.expires_on is None:
        if not event.until_terminated:
            raise Rejected("data.expires_on", "required: the new expiry, or until_terminated: true, or both")
        if instrument.until_terminated:
            raise Rejected(
                "data.until_terminated", f"instrument {event.instrument!r} already runs until terminated"
            )
        return
    term_ends = instrument.current_term_ends(draft.occurred_on.day)
    if term_ends is not None:  # a self-renewing instrument: terms restart from the new expiry
        _after(event.expires_on, term_ends, "data.expires_on", "the end of its current term")
    elif instrument.expiry is not None:
        _after(event.expires_on, instrument.expiry.day, "data.expires_on", "the current expiry")


@_check.register
def _(event: InstrumentAmended, draft: Draft, get: Lookup) -> None:
    instrument: Instrument = _existing(get, "instrument", event.instrument, "data.instrument")
    _not_before(draft, instrument.signed_on, "its signing")


@_check.register
def _(event: InstrumentTerminated, draft: Draft, get: Lookup) -> None:
    instrument = _live_instrument(event, draft, get)
    _effective_not_before(event.effective_on, instrument.signed_on, "its signing")


def _effective_not_before(effective_on: Edtf | None, start: Edtf, what: str) -> None:
    if effective_on is not None and effective_on.latest < start.earliest:
        raise Rejected("data.effective_on", f"{effective_on} is before {what} ({start.earliest.isoformat()})")


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
    _founded(draft, get, ("project", event.project), ("data.planned_end", event.planned_end), event.under)
    if event.planned_end and event.planned_start:
        _after(event.planned_end, event.planned_start.day, "data.planned_end", "the planned start")
    for index, participant in enumerate(event.participants):
        if participant.party not in event.parties:
            raise Rejected(
                f"data.participants[{index}].party",
                f"{participant.party} is not one of the project's parties",
            )


def _live_project(
    event: ProjectScopeChanged | ProjectExtended | ProjectCompleted | ProjectTerminated,
    draft: Draft,
    get: Lookup,
) -> Project:
    project: Project = _live(draft, get, "project", event.project)
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


# --- membership: each rule asked of the thing's membership on the day the change takes effect

_FOUNDED = {
    "instrument": ("signed_on", "its signing"),
    "series": ("established_on", "the series was established"),
    "project": ("launched_on", "its launch"),
}


def _member_thing(event: PartyJoined | PartyWithdrew, draft: Draft, get: Lookup) -> tuple[Members, Edtf]:
    """The one thing a joining or withdrawal names, live on the day it takes effect; and that day."""
    named = event.things
    if len(named) != 1:
        raise Rejected("data", "give exactly one of instrument, series or project")
    (kind, slug), on = named[0], draft.occurred_on
    assert on is not None
    thing: Any = _existing(get, kind, slug, f"data.{kind}")
    effective = event.effective(on)
    attribute, what = _FOUNDED[kind]
    _not_before(draft, getattr(thing, attribute), what)
    _effective_not_before(event.effective_on, getattr(thing, attribute), what)
    ended = _ended_by(thing, kind, effective.day, get)
    if ended:
        raise Rejected(f"data.{kind}", f"{kind} {slug!r} {ended} before {effective}")
    return thing, effective


def _ended_by(thing: Any, kind: str, day: date, get: Lookup) -> str | None:
    """How a thing had ended by a day, if it had: terminated, expired, superseded, completed."""
    if isinstance(thing, Instrument):
        successor = get(("instrument", thing.superseded_by)) if thing.superseded_by else None
        effect = successor.effective_from() if successor else None
        status = thing.status(day, effect.day if effect else None)
        return f"was {status}" if status in ("terminated", "expired", "superseded") else None
    if isinstance(thing, Project) and thing.ended_on is not None and thing.ended_on.day <= day:
        return f"was {thing.ending} on {thing.ended_on}"
    return None


@_check.register
def _(event: PartyJoined, draft: Draft, get: Lookup) -> None:
    thing, effective = _member_thing(event, draft, get)
    kind, slug = event.things[0]
    current = thing.period_of(event.party, effective.day)
    since = f"since {current.joined_on} by {current.action}, position {current.position}" if current else ""
    if current is not None and event.action in CONFIRMING_ACTS:
        if not current.signatory:
            bound = f", bound by its {current.act}" if current.act else ""
            raise Rejected(
                "data.action",
                f"{event.party} is a member of {kind} {slug!r} on {effective} ({since}{bound}), not a "
                f"signatory whose {event.action} is still to come",
            )
        return
    if current is not None:
        raise Rejected(
            "data.party",
            f"{event.party} is already a member of {kind} {slug!r} on {effective} ({since}); "
            "a party joins again once its withdrawal has taken effect",
        )
    later = [m for m in thing.members if m.party == event.party and m.joined_on.day > effective.day]
    if later:
        raise Rejected(
            "data.effective_on",
            f"{event.party} joins {kind} {slug!r} on {later[0].joined_on} (position {later[0].position}); "
            f"a joining on {effective} before it would leave two memberships open",
        )


@_check.register
def _(event: PartyWithdrew, draft: Draft, get: Lookup) -> None:
    thing, effective = _member_thing(event, draft, get)
    kind, slug = event.things[0]
    current = thing.period_of(event.party, effective.day)
    if current is None:
        raise Rejected("data.party", f"{event.party} is not a member of {kind} {slug!r} on {effective}")
    if current.withdrew_on is not None:
        raise Rejected(
            "data.party",
            f"{event.party} has already given notice ({current.notice_on}) of its withdrawal from "
            f"{kind} {slug!r}, effective {current.withdrew_on}",
        )
    if effective.day <= current.joined_on.day or (current.act_on and effective.day <= current.act_on.day):
        joined_on = current.act_on or current.joined_on
        raise Rejected("data.effective_on", f"{effective} is not after its joining ({joined_on})")
    assert draft.occurred_on is not None
    after = withdrew(thing.members, event.party, effective, draft.occurred_on, 0)
    ends = sorted({effective.day, *(m.withdrew_on.day for m in after if m.withdrew_on)})
    for day in (end for end in ends if end >= effective.day):
        if len(members_on(after, day)) < 2:
            raise Rejected(
                "data.party",
                f"{kind} {slug!r} would have fewer than two members from {day.isoformat()}; "
                f"record its end instead",
            )


def membership_dependent(target: Recorded, get: Lookup) -> int | None:
    """The event that depends on a joining or withdrawal about to be retracted, if one does."""
    event = target.data
    if not isinstance(event, PartyJoined | PartyWithdrew) or len(event.things) != 1:
        return None
    thing = get(event.things[0])
    return dependent(thing.members, target) if thing is not None else None

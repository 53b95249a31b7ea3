"""Meetings and their series as their events shape them: a meeting's life from its announcement
to its holding, postponement or cancellation; a series established, suspended and resumed."""

from __future__ import annotations

from datetime import date

from msgspec import Struct
from msgspec.structs import replace

from ..events import (
    Edtf,
    MeetingCancelled,
    MeetingHeld,
    MeetingPostponed,
    MeetingScheduled,
    MembershipChange,
    Recorded,
    SeriesEstablished,
    SeriesResumed,
    SeriesSuspended,
)
from .membership import Members, Membership, evolve_members, founding


class Series(Members, Struct, frozen=True, omit_defaults=True):
    series: str
    title: str
    parties: tuple[str, ...]  # the parties named when it was established: its first members
    established_on: Edtf
    position: int
    suspended_on: Edtf | None = None  # while suspended
    members: tuple[Membership, ...] = ()

    @property
    def suspended(self) -> bool:
        return self.suspended_on is not None


class Announcement(Struct, frozen=True, omit_defaults=True):
    """What the latest counted announcement says; a postponement to a new date moves `planned_for`."""

    planned_for: Edtf
    announced_on: Edtf  # the day of the announcement that gave the date
    position: int
    series: str | None = None
    number: int | None = None
    host: str | None = None


class Holding(Struct, frozen=True, omit_defaults=True):
    occurred_on: Edtf
    position: int
    series: str | None = None
    number: int | None = None
    venue: str | None = None


class Meeting(Struct, frozen=True, omit_defaults=True):
    meeting: str
    parties: tuple[str, ...]  # as announced (or, never announced, as held)
    announced: Announcement | None = None
    held: Holding | None = None
    postponed_on: Edtf | None = None  # postponed with no new date yet
    cancelled_on: Edtf | None = None

    @property
    def series(self) -> str | None:
        return (self.held and self.held.series) or (self.announced and self.announced.series) or None

    @property
    def number(self) -> int | None:
        if self.held and self.held.number is not None:
            return self.held.number
        return self.announced.number if self.announced else None

    @property
    def waiting(self) -> bool:
        """Announced with a date, and not known to have been held, cancelled or put off."""
        return (
            self.announced is not None
            and self.held is None
            and self.cancelled_on is None
            and self.postponed_on is None
        )

    @property
    def put_off(self) -> bool:
        """Postponed with no new date, and not held or cancelled since."""
        return self.postponed_on is not None and self.held is None and self.cancelled_on is None

    def coming(self, as_of: date) -> bool:
        """Waiting, with its planned day on or after the day."""
        return self.waiting and self.announced is not None and self.announced.planned_for.day >= as_of

    def overdue(self, as_of: date) -> bool:
        """Waiting, though its planned day has passed: an analyst must check it."""
        return self.waiting and self.announced is not None and self.announced.planned_for.day < as_of


class Numbered(Struct, frozen=True, omit_defaults=True):
    """A meeting number taken within a series."""

    meeting: str
    position: int


def number_key(series: str, number: int) -> str:
    return f"{series}#{number}"


def evolve_series(state: Series | None, recorded: Recorded) -> Series | None:
    event, on = recorded.data, recorded.occurred_on
    assert on is not None  # every event but a retraction has its day
    if isinstance(event, SeriesEstablished):
        members = founding(event.parties, "membership", on, recorded.position)
        return Series(event.series, event.title, event.parties, on, recorded.position, members=members)
    if state is None:  # an event of a series whose establishment does not count (yet)
        return None
    if isinstance(event, MembershipChange):
        return evolve_members(state, recorded)
    match event:
        case SeriesSuspended():
            return replace(state, suspended_on=on)
        case SeriesResumed():
            return replace(state, suspended_on=None)
    return state


def evolve_meeting(state: Meeting | None, recorded: Recorded) -> Meeting | None:
    event, on = recorded.data, recorded.occurred_on
    assert on is not None  # every event but a retraction has its day
    match event:
        case MeetingScheduled():
            announced = Announcement(
                event.planned_for, on, recorded.position, event.series, event.number, event.host
            )
            meeting = state or Meeting(event.meeting, event.parties)
            return replace(meeting, announced=announced, postponed_on=None)
        case MeetingHeld():
            held = Holding(on, recorded.position, event.series, event.number, event.venue)
            return replace(state or Meeting(event.meeting, event.parties), held=held)
    if state is None or state.announced is None:  # not announced as of this event's day
        return state
    match event:
        case MeetingPostponed(planned_for=None):
            return replace(state, postponed_on=on)
        case MeetingPostponed(planned_for=planned_for):
            return replace(
                state, announced=replace(state.announced, planned_for=planned_for), postponed_on=None
            )
        case MeetingCancelled():
            return replace(state, cancelled_on=on)
    return state


def evolve_numbered(state: Numbered | None, recorded: Recorded) -> Numbered | None:
    event = recorded.data
    if isinstance(event, MeetingHeld):
        return Numbered(event.meeting, recorded.position)
    return state

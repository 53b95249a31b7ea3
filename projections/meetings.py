"""Meetings and their series as their events shape them: a meeting's life from announcement to holding."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..events import Edtf, MeetingHeld, MeetingScheduled, Recorded, SeriesEstablished


@dataclass(frozen=True)
class Series:
    series: str
    title: str
    parties: tuple[str, ...]
    established_on: Edtf
    position: int


@dataclass(frozen=True)
class Announcement:
    """The latest announcement of a meeting: a second one reschedules it."""

    planned_for: Edtf
    announced_on: Edtf
    position: int
    series: str | None = None
    number: int | None = None
    host: str | None = None


@dataclass(frozen=True)
class Holding:
    occurred_on: Edtf
    position: int
    series: str | None = None
    number: int | None = None
    venue: str | None = None


@dataclass(frozen=True)
class Meeting:
    meeting: str
    announced: Announcement | None = None
    held: Holding | None = None

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
        """Announced and not (yet) known to have been held."""
        return self.announced is not None and self.held is None


@dataclass(frozen=True)
class Numbered:
    """A meeting number taken within a series."""

    meeting: str
    position: int


def number_key(series: str, number: int) -> str:
    return f"{series}#{number}"


def evolve_series(state: Series | None, recorded: Recorded) -> Series | None:
    event, on = recorded.data, recorded.occurred_on
    if isinstance(event, SeriesEstablished):
        assert on is not None
        return Series(event.series, event.title, event.parties, on, recorded.position)
    return state


def evolve_meeting(state: Meeting | None, recorded: Recorded) -> Meeting | None:
    event, on = recorded.data, recorded.occurred_on
    assert on is not None  # every event but a retraction has its day
    meeting = state or Meeting(getattr(event, "meeting"))  # noqa: B009 - every meeting event names it
    match event:
        case MeetingScheduled():
            announced = Announcement(
                event.planned_for, on, recorded.position, event.series, event.number, event.host
            )
            return replace(meeting, announced=announced)
        case MeetingHeld():
            held = Holding(on, recorded.position, event.series, event.number, event.venue)
            return replace(meeting, held=held)
    return state


def evolve_numbered(state: Numbered | None, recorded: Recorded) -> Numbered | None:
    event = recorded.data
    if isinstance(event, MeetingHeld):
        return Numbered(event.meeting, recorded.position)
    return state

"""The event catalog: one frozen dataclass per event type, in the past tense."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar, Literal

from .dates import Edtf
from .fields import Currency, EventRef, Names, NewPartyId, PartyRef, Slug, StateRef, Text

PartyKind = Literal["agency", "organisation", "framework", "other"]
MeetingFormat = Literal["in_person", "online", "hybrid"]
InstrumentKind = Literal["mou", "agreement", "treaty", "protocol", "arrangement", "declaration", "communique"]
# Instruments of these kinds are in force from signing unless they say otherwise.
IN_FORCE_ON_SIGNING = frozenset({"mou", "arrangement", "declaration", "communique"})


@dataclass(frozen=True)
class Person:
    name: Text
    title: Text | None = None
    party: PartyRef | None = None


@dataclass(frozen=True)
class Funding:
    amount: Decimal
    currency: Currency
    source: Text | None = None


@dataclass(frozen=True)
class Event:
    """Base of every event type. `subject` names the kind of entity the event is about."""

    subject: ClassVar[str | None] = None
    creates: ClassVar[bool] = False

    @property
    def subject_id(self) -> str | None:
        return getattr(self, self.subject) if self.subject else None


@dataclass(frozen=True)
class PartyRegistered(Event):
    party: NewPartyId
    name: Text
    kind: PartyKind
    country: StateRef | None = None
    aliases: tuple[NewPartyId, ...] = ()
    names: Names | None = None
    subject = "party"
    creates = True


@dataclass(frozen=True)
class PartyRenamed(Event):
    party: PartyRef
    name: Text
    aliases: tuple[NewPartyId, ...] = ()  # added to those it had
    names: Names | None = None
    subject = "party"


@dataclass(frozen=True)
class PartySucceeded(Event):
    party: PartyRef  # the predecessor
    successors: tuple[PartyRef, ...]  # one for a reorganisation or merger, several for a split
    subject = "party"


@dataclass(frozen=True)
class InstrumentSigned(Event):
    instrument: Slug
    kind: InstrumentKind
    title: Text
    parties: tuple[PartyRef, ...]
    signatories: tuple[Person, ...] = ()
    in_force_from: Edtf | None = None
    expires_on: Edtf | None = None
    extension_terms: Text | None = None
    areas: tuple[Text, ...] = ()
    place: Text | None = None
    under: Slug | None = None
    titles: Names | None = None
    subject = "instrument"
    creates = True


@dataclass(frozen=True)
class InstrumentEnteredIntoForce(Event):
    instrument: Slug
    subject = "instrument"


@dataclass(frozen=True)
class InstrumentExtended(Event):
    instrument: Slug
    expires_on: Edtf
    basis: Text | None = None
    subject = "instrument"


@dataclass(frozen=True)
class InstrumentAmended(Event):
    instrument: Slug
    summary: Text
    subject = "instrument"


@dataclass(frozen=True)
class InstrumentTerminated(Event):
    instrument: Slug
    reason: Text | None = None
    subject = "instrument"


@dataclass(frozen=True)
class SeriesEstablished(Event):
    series: Slug
    title: Text
    parties: tuple[PartyRef, ...]
    under: Slug | None = None
    cadence: Text | None = None
    hosts: Text | None = None
    titles: Names | None = None
    subject = "series"
    creates = True


@dataclass(frozen=True)
class SeriesSuspended(Event):
    series: Slug
    reason: Text | None = None
    subject = "series"


@dataclass(frozen=True)
class SeriesResumed(Event):
    series: Slug
    reason: Text | None = None
    subject = "series"


@dataclass(frozen=True)
class MeetingScheduled(Event):
    meeting: Slug
    parties: tuple[PartyRef, ...]
    planned_for: Edtf
    series: Slug | None = None
    number: int | None = None
    venue: Text | None = None
    host: PartyRef | None = None
    subject = "meeting"


@dataclass(frozen=True)
class MeetingHeld(Event):
    meeting: Slug
    parties: tuple[PartyRef, ...]
    series: Slug | None = None
    number: int | None = None
    title: Text | None = None
    venue: Text | None = None
    host: PartyRef | None = None
    format: MeetingFormat | None = None  # in person unless it says otherwise
    chairs: tuple[Person, ...] = ()
    heads_of_delegation: tuple[Person, ...] = ()
    observers: tuple[PartyRef, ...] = ()
    topics: tuple[Text, ...] = ()
    outcomes: tuple[Text, ...] = ()
    subject = "meeting"


@dataclass(frozen=True)
class MeetingPostponed(Event):
    meeting: Slug
    planned_for: Edtf | None = None  # the new date; absent while it is not known
    reason: Text | None = None
    subject = "meeting"


@dataclass(frozen=True)
class MeetingCancelled(Event):
    meeting: Slug
    reason: Text | None = None
    subject = "meeting"


@dataclass(frozen=True)
class ProjectLaunched(Event):
    project: Slug
    title: Text
    parties: tuple[PartyRef, ...]
    under: Slug | None = None
    planned_end: Edtf | None = None
    funding: tuple[Funding, ...] = ()
    titles: Names | None = None
    subject = "project"
    creates = True


@dataclass(frozen=True)
class ProjectScopeChanged(Event):
    project: Slug
    summary: Text
    subject = "project"


@dataclass(frozen=True)
class ProjectExtended(Event):
    project: Slug
    planned_end: Edtf
    subject = "project"


@dataclass(frozen=True)
class ProjectFunded(Event):
    project: Slug
    amount: Decimal
    currency: Currency
    source: Text | None = None
    subject = "project"


@dataclass(frozen=True)
class ProjectCompleted(Event):
    project: Slug
    summary: Text | None = None
    subject = "project"


@dataclass(frozen=True)
class ProjectTerminated(Event):
    project: Slug
    reason: Text | None = None
    subject = "project"


@dataclass(frozen=True)
class EventRetracted(Event):
    event: EventRef
    reason: Text


EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        PartyRegistered,
        PartyRenamed,
        PartySucceeded,
        InstrumentSigned,
        InstrumentEnteredIntoForce,
        InstrumentExtended,
        InstrumentAmended,
        InstrumentTerminated,
        SeriesEstablished,
        SeriesSuspended,
        SeriesResumed,
        MeetingScheduled,
        MeetingHeld,
        MeetingPostponed,
        MeetingCancelled,
        ProjectLaunched,
        ProjectScopeChanged,
        ProjectExtended,
        ProjectFunded,
        ProjectCompleted,
        ProjectTerminated,
        EventRetracted,
    )
}

"""The event catalog: one frozen dataclass per event type, in the past tense."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar, Literal

from .dates import Edtf
from .fields import Currency, Duration, EventRef, Names, NewPartyId, PartyRef, Slug, StateRef, Text, Yes

PartyKind = Literal["agency", "organisation", "framework", "other"]
MeetingFormat = Literal["in_person", "online", "hybrid"]
InstrumentKind = Literal[
    "mou", "agreement", "treaty", "protocol", "arrangement", "declaration", "communique", "action_plan"
]
# Instruments of these kinds are in force from signing unless they say otherwise, and bind
# their signatories at once.
IN_FORCE_ON_SIGNING = frozenset({"mou", "arrangement", "action_plan"})
# Statements: adopted on signing, never "in force", binding nobody to anything.
STATEMENTS = frozenset({"declaration", "communique"})
# How a party joins an instrument, series or project; the acts after `signature` bind it.
JoiningAction = Literal["signature", "ratification", "acceptance", "approval", "accession", "membership"]
BINDING_ACTS = frozenset({"ratification", "acceptance", "approval", "accession", "membership"})
# Acts that upgrade a signatory's membership (or, for a party that is not a member, open one).
CONFIRMING_ACTS = frozenset({"ratification", "acceptance", "approval"})
# IATI organisation roles and transaction types.
ParticipantRole = Literal["funding", "accountable", "extending", "implementing"]
FundingKind = Literal["commitment", "disbursement", "expenditure"]


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
class Renewal:
    """An instrument that renews itself for `term` at each expiry, unless notice is given
    `notice` before a term ends (ISO 8601 durations: P5Y, P6M)."""

    term: Duration
    notice: Duration | None = None


@dataclass(frozen=True)
class Participant:
    party: PartyRef
    role: ParticipantRole


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
    renewal: Renewal | None = None
    supersedes: Slug | None = None
    areas: tuple[Text, ...] = ()
    place: Text | None = None
    under: Slug | None = None
    titles: Names | None = None
    subject = "instrument"
    creates = True


@dataclass(frozen=True)
class InstrumentEnteredIntoForce(Event):
    instrument: Slug
    parties: tuple[PartyRef, ...] = ()  # the signatories it binds; none given: every one not yet bound
    subject = "instrument"


@dataclass(frozen=True)
class InstrumentExtended(Event):
    instrument: Slug
    expires_on: Edtf | None = None
    until_terminated: Yes | None = None  # continues in force until terminated by notice
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
    effective_on: Edtf | None = None  # default: the day it occurred
    subject = "instrument"


@dataclass(frozen=True)
class MembershipChange(Event):
    """Base of PartyJoined and PartyWithdrew: a party, exactly one thing it is a member of, and
    the day it takes effect when that is not the day it occurred (a notice given a year ahead)."""

    party: PartyRef
    instrument: Slug | None = None
    series: Slug | None = None
    project: Slug | None = None
    effective_on: Edtf | None = None

    @property
    def things(self) -> list[tuple[str, str]]:
        """The (kind, id) of each thing it names: exactly one when the event is well formed."""
        return [(kind, slug) for kind in ("instrument", "series", "project") if (slug := getattr(self, kind))]

    @property
    def subject(self) -> str | None:  # type: ignore[override]
        things = self.things
        return things[0][0] if len(things) == 1 else None

    def effective(self, occurred_on: Edtf) -> Edtf:
        return self.effective_on or occurred_on


@dataclass(frozen=True, kw_only=True)
class PartyJoined(MembershipChange):
    action: JoiningAction


@dataclass(frozen=True, kw_only=True)
class PartyWithdrew(MembershipChange):
    reason: Text | None = None


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
    planned_start: Edtf | None = None
    planned_end: Edtf | None = None
    participants: tuple[Participant, ...] = ()
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
    kind: FundingKind | None = None  # a commitment unless it says otherwise
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
        PartyJoined,
        PartyWithdrew,
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

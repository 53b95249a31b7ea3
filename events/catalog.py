"""The event catalog: one frozen msgspec Struct per event type, in the past tense."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar, Literal

from msgspec import Struct

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


class Person(Struct, frozen=True):
    name: Text
    title: Text | None = None
    party: PartyRef | None = None


class Funding(Struct, frozen=True):
    amount: Decimal
    currency: Currency
    source: Text | None = None


class Renewal(Struct, frozen=True, omit_defaults=True):
    """An instrument that renews itself for `term` at each expiry, unless notice is given
    `notice` before a term ends (ISO 8601 durations: P5Y, P6M)."""

    term: Duration
    notice: Duration | None = None


class Participant(Struct, frozen=True):
    party: PartyRef
    role: ParticipantRole


class Event(Struct, frozen=True):
    """Base of every event type. `subject` names the kind of entity the event is about."""

    subject: ClassVar[str | None] = None
    creates: ClassVar[bool] = False

    @property
    def subject_id(self) -> str | None:
        return getattr(self, self.subject) if self.subject else None


class PartyRegistered(Event, frozen=True):
    party: NewPartyId
    name: Text
    kind: PartyKind
    country: StateRef | None = None
    aliases: tuple[NewPartyId, ...] = ()
    names: Names | None = None
    subject = "party"
    creates = True


class PartyRenamed(Event, frozen=True):
    party: PartyRef
    name: Text
    aliases: tuple[NewPartyId, ...] = ()  # added to those it had
    names: Names | None = None
    subject = "party"


class PartySucceeded(Event, frozen=True):
    party: PartyRef  # the predecessor
    successors: tuple[PartyRef, ...]  # one for a reorganisation or merger, several for a split
    subject = "party"


class InstrumentSigned(Event, frozen=True):
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


class InstrumentEnteredIntoForce(Event, frozen=True):
    instrument: Slug
    parties: tuple[PartyRef, ...] = ()  # the signatories it binds; none given: every one not yet bound
    subject = "instrument"


class InstrumentExtended(Event, frozen=True):
    instrument: Slug
    expires_on: Edtf | None = None
    until_terminated: Yes | None = None  # continues in force until terminated by notice
    basis: Text | None = None
    subject = "instrument"


class InstrumentAmended(Event, frozen=True):
    instrument: Slug
    summary: Text
    subject = "instrument"


class InstrumentTerminated(Event, frozen=True):
    instrument: Slug
    reason: Text | None = None
    effective_on: Edtf | None = None  # default: the day it occurred
    subject = "instrument"


class MembershipChange(Event, frozen=True):
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


class PartyJoined(MembershipChange, frozen=True, kw_only=True):
    action: JoiningAction


class PartyWithdrew(MembershipChange, frozen=True, kw_only=True):
    reason: Text | None = None


class SeriesEstablished(Event, frozen=True):
    series: Slug
    title: Text
    parties: tuple[PartyRef, ...]
    under: Slug | None = None
    cadence: Text | None = None
    hosts: Text | None = None
    titles: Names | None = None
    subject = "series"
    creates = True


class SeriesSuspended(Event, frozen=True):
    series: Slug
    reason: Text | None = None
    subject = "series"


class SeriesResumed(Event, frozen=True):
    series: Slug
    reason: Text | None = None
    subject = "series"


class MeetingScheduled(Event, frozen=True):
    meeting: Slug
    parties: tuple[PartyRef, ...]
    planned_for: Edtf
    series: Slug | None = None
    number: int | None = None
    venue: Text | None = None
    host: PartyRef | None = None
    subject = "meeting"


class MeetingHeld(Event, frozen=True):
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


class MeetingPostponed(Event, frozen=True):
    meeting: Slug
    planned_for: Edtf | None = None  # the new date; absent while it is not known
    reason: Text | None = None
    subject = "meeting"


class MeetingCancelled(Event, frozen=True):
    meeting: Slug
    reason: Text | None = None
    subject = "meeting"


class ProjectLaunched(Event, frozen=True):
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


class ProjectScopeChanged(Event, frozen=True):
    project: Slug
    summary: Text
    subject = "project"


class ProjectExtended(Event, frozen=True):
    project: Slug
    planned_end: Edtf
    subject = "project"


class ProjectFunded(Event, frozen=True):
    project: Slug
    amount: Decimal
    currency: Currency
    kind: FundingKind | None = None  # a commitment unless it says otherwise
    source: Text | None = None
    subject = "project"


class ProjectCompleted(Event, frozen=True):
    project: Slug
    summary: Text | None = None
    subject = "project"


class ProjectTerminated(Event, frozen=True):
    project: Slug
    reason: Text | None = None
    subject = "project"


class EventRetracted(Event, frozen=True):
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

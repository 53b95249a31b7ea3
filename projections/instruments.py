"""An instrument (MOU, agreement, treaty, ...) as its events shape it: its members, its status on
a day, its terms when it renews itself."""

from __future__ import annotations

from datetime import date

from msgspec import Struct
from msgspec.structs import replace

from ..events import (
    IN_FORCE_ON_SIGNING,
    STATEMENTS,
    Edtf,
    InstrumentAmended,
    InstrumentEnteredIntoForce,
    InstrumentExtended,
    InstrumentSigned,
    InstrumentTerminated,
    MembershipChange,
    Recorded,
    Renewal,
)
from ..events.dates import DateError, rough_days, shifted
from .membership import Members, Membership, evolve_members, founding


class Extension(Struct, frozen=True, omit_defaults=True):
    expires_on: Edtf | None  # the new expiry (or planned end, for a project); None: until terminated
    occurred_on: Edtf  # when it was decided
    until_terminated: bool = False  # after its expiry (if any) it runs on until terminated


class Amendment(Struct, frozen=True, omit_defaults=True):
    summary: str
    occurred_on: Edtf


class Instrument(Members, Struct, frozen=True, omit_defaults=True):
    instrument: str
    kind: str
    title: str
    parties: tuple[str, ...]  # the parties named at signing: its first members
    signed_on: Edtf
    position: int  # of its signing
    in_force_from: Edtf | None = None  # None while it is not in force
    expires_on: Edtf | None = None  # as signed; extensions follow
    extensions: tuple[Extension, ...] = ()
    amendments: tuple[Amendment, ...] = ()
    terminated_on: Edtf | None = None  # the day its termination takes effect
    members: tuple[Membership, ...] = ()
    renewal: Renewal | None = None
    supersedes: str | None = None
    superseded_by: str | None = None
    # Its entry into force was given (in_force_from at signing, or recorded): no other may be.
    entered: bool = False
    # The signatories an entry into force bound without an act of their own (None: all of them).
    entry_parties: tuple[str, ...] | None = None

    @property
    def expiry(self) -> Edtf | None:
        """The expiry in force: the last extension's, else the one it was signed with."""
        return self.extensions[-1].expires_on if self.extensions else self.expires_on

    @property
    def until_terminated(self) -> bool:
        return any(e.until_terminated for e in self.extensions)

    @property
    def terminated(self) -> bool:
        """Terminated, or its termination notified: nothing may extend it any more."""
        return self.terminated_on is not None

    @property
    def statement(self) -> bool:
        return self.kind in STATEMENTS

    def status(self, as_of: date, superseded_from: date | None = None) -> str:
        """terminated > superseded > expired > in_force > adopted > signed, on a day (SPEC section 4);
        `superseded_from` is the day the instrument that supersedes it took effect."""
        if self.terminated_on is not None and self.terminated_on.day <= as_of:
            return "terminated"
        if superseded_from is not None and superseded_from <= as_of:
            return "superseded"
        if self.expired(as_of):
            return "expired"
        if self.statement:
            return "adopted"
        if self.in_force_from is not None and self.in_force_from.day <= as_of:
            return "in_force"
        return "signed"

    def expired(self, as_of: date) -> bool:
        expiry = self.expiry
        if expiry is None or self.renewal is not None or self.until_terminated:
            return False
        return as_of > expiry.day

    def effective_from(self) -> Edtf | None:
        """The day it takes effect (as another's successor): its entry into force, or its adoption."""
        return self.signed_on if self.statement else self.in_force_from

    def term_index(self, as_of: date) -> int | None:
        """Which term of a self-renewing instrument runs on a day (0: the one it was signed or
        last extended for); None when it does not renew itself."""
        expiry = self.expiry
        if self.renewal is None or expiry is None:
            return None
        term = self.renewal.term
        times = max(0, (as_of - expiry.day).days // rough_days(term) - 1)
        try:
            while shifted(expiry.day, term, times) < as_of:
                times += 1
            shifted(expiry.earliest, term, times)
        except DateError:  # the term that runs then would end beyond the calendar (9999-12-31)
            return None
        return times

    def current_term_ends(self, as_of: date) -> date | None:
        """The end of the term running on a day: the first end on or after it."""
        times = self.term_index(as_of)
        if times is None:
            return None
        assert self.renewal is not None and self.expiry is not None
        return shifted(self.expiry.day, self.renewal.term, times)

    def notice_by(self, as_of: date) -> date | None:
        """The last day to give notice against the current term, counted from the earliest day
        of the expiry, so that a deadline is never shown late."""
        times = self.term_index(as_of)
        if times is None or self.renewal is None or self.renewal.notice is None:
            return None
        assert self.expiry is not None
        return shifted(shifted(self.expiry.earliest, self.renewal.term, times), self.renewal.notice, -1)

    def binding(self, period: Membership) -> tuple[Edtf, str] | None:
        """When and by what a membership period binds its party: its own act (never before the
        instrument is in force), the entry into force for a signatory with no act of its own, at
        once for the kinds that bind on signing and for statements; None while it does not."""
        if self.statement:
            return period.joined_on, period.action
        start = self.in_force_from
        if start is None:
            return None
        if period.act is not None and period.act_on is not None:
            return _later(period.act_on, start), period.act
        if self.kind in IN_FORCE_ON_SIGNING:
            return _later(period.joined_on, start), period.action
        bound_by_entry = self.entry_parties is None or period.party in self.entry_parties
        if bound_by_entry and period.joined_on.day <= start.day:
            return start, "entry_into_force"
        return None

    def bound(self, party: str, day: date) -> bool:
        """Whether a party is bound on a day: a member then, by a binding that has taken effect."""
        period = self.period_of(party, day)
        binding = self.binding(period) if period else None
        return binding is not None and binding[0].day <= day


def _later(first: Edtf, second: Edtf) -> Edtf:
    return first if first.day >= second.day else second


def evolve_instrument(state: Instrument | None, recorded: Recorded) -> Instrument | None:
    event, on = recorded.data, recorded.occurred_on
    assert on is not None  # every event but a retraction has its day
    if isinstance(event, InstrumentSigned):
        # Kinds that bind on signing are in force from it unless they say otherwise.
        in_force = event.in_force_from or (on if event.kind in IN_FORCE_ON_SIGNING else None)
        return Instrument(
            event.instrument,
            event.kind,
            event.title,
            event.parties,
            on,
            recorded.position,
            in_force,
            event.expires_on,
            members=founding(event.parties, "signature", on, recorded.position),
            renewal=event.renewal,
            supersedes=event.supersedes,
            entered=event.in_force_from is not None,
        )
    if state is None:  # an event of an instrument whose signing does not count (yet)
        return None
    if isinstance(event, MembershipChange):
        return evolve_members(state, recorded)
    match event:
        case InstrumentEnteredIntoForce() if not state.entered:
            return replace(state, in_force_from=on, entered=True, entry_parties=event.parties or None)
        case InstrumentExtended():
            extension = Extension(event.expires_on, on, bool(event.until_terminated))
            return replace(state, extensions=(*state.extensions, extension))
        case InstrumentAmended():
            return replace(state, amendments=(*state.amendments, Amendment(event.summary, on)))
        case InstrumentTerminated():
            return replace(state, terminated_on=event.effective_on or on)
    return state


def superseded(state: Instrument | None, recorded: Recorded) -> Instrument | None:
    """An instrument whose successor is signed: superseded from the day that one takes effect."""
    event = recorded.data
    if state is None or not isinstance(event, InstrumentSigned):
        return state
    return replace(state, superseded_by=event.instrument)

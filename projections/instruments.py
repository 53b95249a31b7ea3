"""An instrument (MOU, agreement, treaty, ...) as its events shape it, and its status on a day."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from ..events import (
    IN_FORCE_ON_SIGNING,
    Edtf,
    InstrumentAmended,
    InstrumentEnteredIntoForce,
    InstrumentExtended,
    InstrumentSigned,
    InstrumentTerminated,
    Recorded,
)


@dataclass(frozen=True)
class Extension:
    expires_on: Edtf  # the new expiry (or planned end, for a project)
    occurred_on: Edtf  # when it was decided


@dataclass(frozen=True)
class Amendment:
    summary: str
    occurred_on: Edtf


@dataclass(frozen=True)
class Instrument:
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
    terminated_on: Edtf | None = None

    @property
    def expiry(self) -> Edtf | None:
        """The expiry in force: the last extension's, else the one it was signed with."""
        return self.extensions[-1].expires_on if self.extensions else self.expires_on

    @property
    def terminated(self) -> bool:
        return self.terminated_on is not None

    def status(self, as_of: date) -> str:
        """terminated > expired > in_force > signed, on a day (SPEC section 4)."""
        expiry = self.expiry
        if self.terminated:
            return "terminated"
        if expiry is not None and as_of > expiry.day:
            return "expired"
        if self.in_force_from is not None and self.in_force_from.day <= as_of:
            return "in_force"
        return "signed"


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
        )
    if state is None:  # an event of an instrument whose signing does not count (yet)
        return None
    match event:
        case InstrumentEnteredIntoForce() if state.in_force_from is None:
            return replace(state, in_force_from=on)
        case InstrumentExtended():
            return replace(state, extensions=(*state.extensions, Extension(event.expires_on, on)))
        case InstrumentAmended():
            return replace(state, amendments=(*state.amendments, Amendment(event.summary, on)))
        case InstrumentTerminated():
            return replace(state, terminated_on=on)
    return state

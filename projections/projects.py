"""A joint project as its events shape it: its planned start and end, members and participants,
scope changes, money promised, paid out and spent, and its end."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from msgspec import Struct
from msgspec.structs import replace

from ..events import Edtf, MembershipChange, Participant, Recorded
from ..events import catalog as events
from .instruments import Amendment, Extension
from .membership import Members, Membership, evolve_members, founding


class Total(Struct, frozen=True, omit_defaults=True):
    currency: str
    amount: Decimal


class Project(Members, Struct, frozen=True, omit_defaults=True):
    project: str
    title: str
    parties: tuple[str, ...]  # the parties named at its launch: its first members
    launched_on: Edtf
    position: int  # of its launch
    planned_end: Edtf | None = None  # as launched; extensions follow
    extensions: tuple[Extension, ...] = ()
    scope_changes: tuple[Amendment, ...] = ()
    funding: tuple[Total, ...] = ()  # commitments per currency, in currency order
    ended_on: Edtf | None = None
    ending: Literal["completed", "terminated"] | None = None
    planned_start: Edtf | None = None
    participants: tuple[Participant, ...] = ()
    members: tuple[Membership, ...] = ()
    disbursed: tuple[Total, ...] = ()
    spent: tuple[Total, ...] = ()

    @property
    def end(self) -> Edtf | None:
        """The planned end in force: the last extension's, else the one it was launched with."""
        return self.extensions[-1].expires_on if self.extensions else self.planned_end

    @property
    def ended(self) -> bool:
        return self.ended_on is not None

    def status(self, as_of: date) -> str:
        """planned (its start certainly still to come), active (also past its planned end),
        completed or terminated, on a day."""
        if self.ending:
            return self.ending
        if self.planned_start is not None and self.planned_start.day > as_of:
            return "planned"
        return "active"


def _funded(funding: tuple[Total, ...], currency: str, amount: Decimal) -> tuple[Total, ...]:
    totals = {total.currency: total.amount for total in funding}
    totals[currency] = totals.get(currency, Decimal(0)) + amount
    return tuple(Total(currency, totals[currency]) for currency in sorted(totals))


def evolve_project(state: Project | None, recorded: Recorded) -> Project | None:
    event, on = recorded.data, recorded.occurred_on
    assert on is not None  # every event but a retraction has its day
    if isinstance(event, events.ProjectLaunched):
        funding: tuple[Total, ...] = ()
        for grant in event.funding:
            funding = _funded(funding, grant.currency, grant.amount)
        return Project(
            event.project,
            event.title,
            event.parties,
            on,
            recorded.position,
            event.planned_end,
            funding=funding,
            planned_start=event.planned_start,
            participants=event.participants,
            members=founding(event.parties, "membership", on, recorded.position),
        )
    if state is None:  # an event of a project whose launch does not count (yet)
        return None
    if isinstance(event, MembershipChange):
        return evolve_members(state, recorded)
    match event:
        case events.ProjectExtended():
            return replace(state, extensions=(*state.extensions, Extension(event.planned_end, on)))
        case events.ProjectScopeChanged():
            return replace(state, scope_changes=(*state.scope_changes, Amendment(event.summary, on)))
        case events.ProjectFunded(kind="disbursement"):
            return replace(state, disbursed=_funded(state.disbursed, event.currency, event.amount))
        case events.ProjectFunded(kind="expenditure"):
            return replace(state, spent=_funded(state.spent, event.currency, event.amount))
        case events.ProjectFunded():
            return replace(state, funding=_funded(state.funding, event.currency, event.amount))
        case events.ProjectCompleted():
            return replace(state, ended_on=on, ending="completed")
        case events.ProjectTerminated():
            return replace(state, ended_on=on, ending="terminated")
    return state

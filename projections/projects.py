"""A joint project as its events shape it: its planned end, scope changes, funding and end."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Literal

from ..events import (
    Edtf,
    ProjectCompleted,
    ProjectExtended,
    ProjectFunded,
    ProjectLaunched,
    ProjectScopeChanged,
    ProjectTerminated,
    Recorded,
)
from .instruments import Amendment, Extension


@dataclass(frozen=True)
class Total:
    currency: str
    amount: Decimal


@dataclass(frozen=True)
class Project:
    project: str
    title: str
    parties: tuple[str, ...]  # the parties named at its launch: its first members
    launched_on: Edtf
    position: int  # of its launch
    planned_end: Edtf | None = None  # as launched; extensions follow
    extensions: tuple[Extension, ...] = ()
    scope_changes: tuple[Amendment, ...] = ()
    funding: tuple[Total, ...] = ()  # per currency, in currency order
    ended_on: Edtf | None = None
    ending: Literal["completed", "terminated"] | None = None

    @property
    def end(self) -> Edtf | None:
        """The planned end in force: the last extension's, else the one it was launched with."""
        return self.extensions[-1].expires_on if self.extensions else self.planned_end

    @property
    def ended(self) -> bool:
        return self.ended_on is not None

    @property
    def status(self) -> str:
        return self.ending or "active"


def _funded(funding: tuple[Total, ...], currency: str, amount: Decimal) -> tuple[Total, ...]:
    totals = {total.currency: total.amount for total in funding}
    totals[currency] = totals.get(currency, Decimal(0)) + amount
    return tuple(Total(currency, totals[currency]) for currency in sorted(totals))


def evolve_project(state: Project | None, recorded: Recorded) -> Project | None:
    event, on = recorded.data, recorded.occurred_on
    assert on is not None  # every event but a retraction has its day
    if isinstance(event, ProjectLaunched):
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
            (),
            (),
            funding,
        )
    if state is None:  # an event of a project whose launch does not count (yet)
        return None
    match event:
        case ProjectExtended():
            return replace(state, extensions=(*state.extensions, Extension(event.planned_end, on)))
        case ProjectScopeChanged():
            return replace(state, scope_changes=(*state.scope_changes, Amendment(event.summary, on)))
        case ProjectFunded():
            return replace(state, funding=_funded(state.funding, event.currency, event.amount))
        case ProjectCompleted():
            return replace(state, ended_on=on, ending="completed")
        case ProjectTerminated():
            return replace(state, ended_on=on, ending="terminated")
    return state

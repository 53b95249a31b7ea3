"""Parties other than states, as their events shape them: one fold for a party, one for an alias."""

from __future__ import annotations

from dataclasses import dataclass

from ..events import PartyRegistered, Recorded


@dataclass(frozen=True)
class Party:
    """A registered party. Room is left for its names over time (a rename adds a name from a day)."""

    party: str
    name: str
    kind: str
    position: int  # of its registration
    country: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Alias:
    """Another id of a registered party."""

    party: str
    position: int


def evolve_party(state: Party | None, recorded: Recorded) -> Party | None:
    event = recorded.data
    if isinstance(event, PartyRegistered):
        return Party(event.party, event.name, event.kind, recorded.position, event.country, event.aliases)
    return state


def evolve_alias(state: Alias | None, recorded: Recorded) -> Alias | None:
    event = recorded.data
    if isinstance(event, PartyRegistered):
        return Alias(event.party, recorded.position)
    return state

"""Parties other than states, as their events shape them: a party and its names over time, and
its aliases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from msgspec import Struct
from msgspec.structs import replace

from ..events import Edtf, Event, MembershipChange, PartyRegistered, PartyRenamed, PartySucceeded, Recorded
from ..events.states import state_code, state_name


class Name(Struct, frozen=True, omit_defaults=True):
    """A party's name from a day (None: from its registration), with the same name in other languages."""

    name: str
    since: Edtf | None = None
    names: dict[str, str] | None = None

    def said(self, lang: str | None) -> str:
        return (self.names or {}).get(lang, self.name) if lang else self.name


class Party(Struct, frozen=True, omit_defaults=True):
    party: str
    name: str  # as registered; `names_over_time` follows renames
    kind: str
    position: int  # of its registration
    country: str | None = None
    aliases: tuple[str, ...] = ()
    names: dict[str, str] | None = None  # the registered name in other languages
    renames: tuple[Name, ...] = ()
    successors: tuple[str, ...] = ()  # the parties that succeeded it, from `succeeded_on`
    succeeded_on: Edtf | None = None
    succeeded_by: int | None = None  # the position of the succession

    def name_on(self, day: date, lang: str | None = None) -> str:
        """The name current on a day: the last rename whose day has come, else the registered one."""
        current = Name(self.name, None, self.names)
        for rename in self.renames:
            if rename.since is not None and rename.since.day <= day:
                current = rename
        return current.said(lang)


class Alias(Struct, frozen=True, omit_defaults=True):
    """Another id of a registered party."""

    party: str
    position: int


def evolve_party(state: Party | None, recorded: Recorded) -> Party | None:
    event = recorded.data
    if isinstance(event, PartyRegistered):
        return Party(
            event.party, event.name, event.kind, recorded.position, event.country, event.aliases, event.names
        )
    if isinstance(event, PartySucceeded) and state is not None:
        return replace(
            state,
            successors=event.successors,
            succeeded_on=recorded.occurred_on,
            succeeded_by=recorded.position,
        )
    if isinstance(event, PartyRenamed) and state is not None:
        renamed = Name(event.name, recorded.occurred_on, event.names)
        renames = sorted((*state.renames, renamed), key=lambda n: n.since.day if n.since else date.min)
        return replace(state, aliases=(*state.aliases, *event.aliases), renames=tuple(renames))
    return state


def evolve_alias(state: Alias | None, recorded: Recorded) -> Alias | None:
    event = recorded.data
    if isinstance(event, PartyRegistered | PartyRenamed):
        return Alias(event.party, recorded.position)
    return state


def named(event: Event) -> set[str]:
    """The parties an event names: its parties (or the party joining or withdrawing), host,
    observers, and signatories' or delegates' parties."""
    parties = set(getattr(event, "parties", ()))
    parties.update(getattr(event, "observers", ()))
    parties.update(getattr(event, "successors", ()))
    if isinstance(event, PartyRegistered | PartyRenamed | PartySucceeded | MembershipChange):
        parties.add(event.party)
    host = getattr(event, "host", None)
    if host:
        parties.add(host)
    for person in (
        *getattr(event, "signatories", ()),
        *getattr(event, "chairs", ()),
        *getattr(event, "heads_of_delegation", ()),
    ):
        if person.party:
            parties.add(person.party)
    return parties


def party_name(party: str, state: Any, day: date, lang: str | None = None) -> str:
    """How a party is named on a day: a registered party by its name then, a state by its ISO name."""
    if state is not None:
        return state.name_on(day, lang)
    return state_name(party) if state_code(party) else party


def successions(party: str, state_of: Callable[[str], Any]) -> list[tuple[str, date, int]]:
    """Who took over a party, from which day, by the succession at which position: its
    successors, theirs, and so on (a successor's successor from the later of the two days)."""
    state = state_of(party)
    if state is None or state.succeeded_on is None or state.succeeded_by is None:
        return []
    since = state.succeeded_on.day
    found: list[tuple[str, date, int]] = []
    for successor in state.successors:
        found.append((successor, since, state.succeeded_by))
        found += [(heir, max(since, later), by) for heir, later, by in successions(successor, state_of)]
    return found

"""Who is in: which relationships an event belongs to (every pair of its parties, rolled up to
states), and the membership periods of an instrument, series or project, as of a day."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from itertools import combinations
from typing import TypeVar

from msgspec import Struct
from msgspec.structs import replace

from ..events import BINDING_ACTS, CONFIRMING_ACTS, Edtf, MembershipChange, PartyJoined, Recorded

CountryOf = Callable[[str], str | None]


def relationship_id(a: str, b: str) -> str:
    """The relationship of two parties, written A~B with A < B."""
    return f"{a}~{b}" if a < b else f"{b}~{a}"


def relationships(parties: Iterable[str], country_of: CountryOf) -> dict[str, bool]:
    """Each relationship the parties form, mapped to whether it holds without rollup.

    Two distinct parties p and q put the event in A~B when p is A or belongs to state A, and
    q is B or belongs to state B: the NIES-NIER MOU is in NIES~NIER (exactly) and, rolled
    up, in JPN~KOR, JPN~NIER and KOR~NIES.
    """
    found: dict[str, bool] = {}
    for p, q in combinations(sorted(set(parties)), 2):
        for a in _spellings(p, country_of):
            for b in _spellings(q, country_of):
                if a != b:
                    rel = relationship_id(a, b)
                    found[rel] = found.get(rel, False) or (a == p and b == q)
    return found


def _spellings(party: str, country_of: CountryOf) -> tuple[str, ...]:
    country = country_of(party)
    return (party, country) if country and country != party else (party,)


def _before(first: Edtf | None, second: Edtf | None) -> bool:
    """Whether a period boundary comes before another; None is "never" (open-ended)."""
    return first is not None and (second is None or first.day < second.day)


class Membership(Struct, frozen=True, omit_defaults=True):
    """One membership period of a party, from the effective day of the act that began it to
    the effective day of its withdrawal (not included): dates as entered, each counting from
    its day, the day it had certainly come."""

    party: str
    action: str  # the act that began it: `signature` for an instrument's first members
    joined_on: Edtf
    position: int  # of the event that began it
    act: str | None = None  # the party's own binding act (ratification, accession, ...), if any
    act_on: Edtf | None = None  # its effective date
    withdrew_on: Edtf | None = None  # effective date of the withdrawal, once notice is given
    notice_on: Edtf | None = None  # when that notice was given
    withdrawn_by: int | None = None  # the position of that withdrawal

    def covers(self, day: date) -> bool:
        return self.joined_on.day <= day and (self.withdrew_on is None or day < self.withdrew_on.day)

    def may_cover(self, day: date) -> bool:
        """Covers the day, or may: it began on or before it at the earliest."""
        return self.joined_on.earliest <= day and (self.withdrew_on is None or day < self.withdrew_on.day)

    @property
    def signatory(self) -> bool:
        """Joined by signature, with no binding act of its own yet."""
        return self.action == "signature" and self.act is None


def founding(parties: Iterable[str], action: str, on: Edtf, position: int) -> tuple[Membership, ...]:
    """The first members: the parties named when the thing was signed, established or launched."""
    act = action if action in BINDING_ACTS else None
    return tuple(Membership(party, action, on, position, act, on if act else None) for party in parties)


def _ordered(periods: Iterable[Membership]) -> tuple[Membership, ...]:
    return tuple(sorted(periods, key=lambda m: (m.joined_on.day, m.position)))


def joined(
    members: tuple[Membership, ...], party: str, action: str, effective: Edtf, position: int
) -> tuple[Membership, ...]:
    """A party's joining: ratification, acceptance or approval by a signatory upgrades the period
    that covers its effective day; any other act (or one by a party not in) begins a new period."""
    current = period_of(members, party, effective.day)
    if current is not None and current.signatory and action in CONFIRMING_ACTS:
        upgraded = replace(current, act=action, act_on=effective)
        return tuple(upgraded if m is current else m for m in members)
    act = action if action in BINDING_ACTS else None
    return _ordered(
        (*members, Membership(party, action, effective, position, act, effective if act else None))
    )


def withdrew(
    members: tuple[Membership, ...], party: str, effective: Edtf, notice_on: Edtf, position: int
) -> tuple[Membership, ...]:
    """A party's withdrawal ends the period that covers its effective day (if one does)."""
    current = period_of(members, party, effective.day)
    if current is None:
        return members
    ended = replace(current, withdrew_on=effective, notice_on=notice_on, withdrawn_by=position)
    return tuple(ended if m is current else m for m in members)


def period_of(members: Iterable[Membership], party: str, day: date) -> Membership | None:
    """The party's membership period that covers a day (a withdrawal not yet in effect leaves it
    open until then)."""
    return next((m for m in members if m.party == party and m.covers(day)), None)


def members_on(members: Iterable[Membership], day: date, certain: bool = True) -> list[str]:
    """The parties with a membership period covering the day (with `certain` False, also those
    whose joining may have taken effect by then), in the order they joined."""
    covering = (m for m in members if (m.covers(day) if certain else m.may_cover(day)))
    return list(dict.fromkeys(m.party for m in covering))


Interval = tuple[Edtf, Edtf | None]  # from a day to a day not included (None: open-ended)


def together(
    members: Iterable[Membership], one: Callable[[str], bool], other: Callable[[str], bool]
) -> list[Interval]:
    """The stretches of time in which two sides of a pair were members together, merged, in
    order: a member standing for one side (`one`) beside a different member standing for the
    other, both with a period covering the day."""
    periods = list(members)
    spans: list[Interval] = []
    for p in periods:
        for q in periods:
            if p.party == q.party or not (one(p.party) and other(q.party)):
                continue
            start = p.joined_on if p.joined_on.day >= q.joined_on.day else q.joined_on
            end = p.withdrew_on if _before(p.withdrew_on, q.withdrew_on) else q.withdrew_on
            if end is None or start.day < end.day:
                spans.append((start, end))
    merged: list[Interval] = []
    for start, end in sorted(spans, key=lambda span: span[0].day):
        if merged and (merged[-1][1] is None or start.day <= merged[-1][1].day):
            if _before(merged[-1][1], end):
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def inside(spans: Iterable[Interval], day: date) -> bool:
    return any(start.day <= day and (end is None or day < end.day) for start, end in spans)


def side(
    party: str, country_of: CountryOf, exact: bool, heirs: Callable[[str], set[str]] = lambda member: set()
) -> Callable[[str], bool]:
    """Whether a member stands for one party of a pair: it is that party, a predecessor the party
    has taken over (`heirs` of a member: those that succeeded it by the day) or, under rollup,
    one of that state's organisations."""
    if exact:
        return lambda member: member == party or party in heirs(member)
    return lambda member: member == party or party in heirs(member) or country_of(member) == party


M = TypeVar("M", bound="Members")


class Members:
    """What the thing states whose parties change over time (instruments, series, projects)
    answer about their members; `members` holds one Membership a period."""

    __slots__ = ()  # its states keep their fields in slots: a thing in memory costs less
    members: tuple[Membership, ...]

    def members_on(self, day: date, certain: bool = True) -> list[str]:
        return members_on(self.members, day, certain)

    def period_of(self, party: str, day: date) -> Membership | None:
        return period_of(self.members, party, day)

    def together(self, one: Callable[[str], bool], other: Callable[[str], bool]) -> list[Interval]:
        return together(self.members, one, other)


def evolve_members(state: M, recorded: Recorded) -> M:
    """A thing after a party joined or withdrew: the same step for instruments, series and projects."""
    event, on = recorded.data, recorded.occurred_on
    assert isinstance(event, MembershipChange) and on is not None
    effective = event.effective(on)
    if isinstance(event, PartyJoined):
        members = joined(state.members, event.party, event.action, effective, recorded.position)
    else:
        members = withdrew(state.members, event.party, effective, on, recorded.position)
    return replace(state, members=members)  # type: ignore[type-var]


def dependent(members: Iterable[Membership], retracted: Recorded) -> int | None:
    """The position of a membership change that would break a rule without a joining or withdrawal
    about to be retracted: the withdrawal that ends the period a joining began; the rejoining
    that a withdrawal made possible."""
    event = retracted.data
    periods = list(members)
    if isinstance(event, PartyJoined):
        begun = next((m for m in periods if m.position == retracted.position), None)
        return begun.withdrawn_by if begun else None
    ended = next((m for m in periods if m.withdrawn_by == retracted.position), None)
    if ended is None or ended.withdrew_on is None:
        return None
    later = [
        m.position for m in periods if m.party == ended.party and m.joined_on.day >= ended.withdrew_on.day
    ]
    return min(later, default=None)

"""Which relationships an event belongs to: every pair of its parties, rolled up to states."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import combinations

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

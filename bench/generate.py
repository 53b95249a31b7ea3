"""Generate a realistic synthetic coopledger ledger in JSON Lines, for the benchmark.

    python bench/generate.py --events N [--seed S] [--out FILE]

writes exactly N events, one per line, that `coopledger import` accepts as a whole: every
rule of SPEC section 3 holds (new ids, known parties, dates in order per entity, expiries
and planned ends that only move later, meeting numbers unique per series, retractions of
events nothing depends on). The same seed gives the same file, byte for byte.

The shape imitates real records of international environmental cooperation:

- parties are all ISO 3166-1 states plus a few hundred registered organisations (national
  agencies, international organisations, frameworks), each registered just before its first
  use; they are drawn with Zipf-like weights, so a few pairs (KOR~JPN, KOR~CHN, CHN~JPN) are
  very busy and most pairs are rare; some events are multilateral (3-5 parties);
- about 25% instrument events, 35% meeting events, 35% project events and 1% retractions,
  plus one PartyRegistered per organisation used (about 300, whatever N is);
- dates run from 1980 to 2025, denser in later years, mostly full days but also months,
  years, approximate years, half years (`2019-41`) and intervals, as real sources give them;
- about 10% of events carry an idempotency `key` and about half a `source`.

Events are written as they are made: the generator keeps only small, bounded pools of the
entities still worth talking about (open instruments, running projects, live series, pending
meetings, retractable events), so memory stays flat whatever N is.
"""

from __future__ import annotations

import argparse
import calendar
import math
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from itertools import accumulate
from random import Random
from typing import IO, Any, Generic, Protocol, TypeVar

import orjson
import pycountry

# --- time ---------------------------------------------------------------------------------

FIRST_DAY = date(1980, 1, 1).toordinal()
CLOCK_END = date(2025, 6, 30).toordinal()  # creations stop here, leaving room for follow-ups
LAST_DAY = date(2025, 12, 31).toordinal()  # no event happens after this day
YEAR = 365

# Styles of an occurred_on date, with their weights: what real sources give.
EVENT_STYLES = {"day": 70, "month": 17, "year": 4, "approx": 3, "half": 2, "interval": 4}
MEETING_STYLES = {"day": 62, "month": 14, "year": 2, "approx": 2, "half": 3, "interval": 17}
FUNDING_STYLES = {"day": 45, "month": 25, "year": 10, "approx": 2, "half": 3, "span": 15}
PLANNED_STYLES = {"day": 45, "month": 35, "half": 12, "year": 8}
END_STYLES = {"day": 65, "month": 25, "year": 10}


@dataclass(frozen=True, slots=True)
class When:
    """An EDTF value with its days as ordinals: `day` is the SPEC's day (the latest possible
    day of the value, or of its start for an interval)."""

    text: str
    earliest: int
    day: int
    latest: int


def iso(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat()


def precise(ordinal: int) -> When:
    return When(iso(ordinal), ordinal, ordinal, ordinal)


def _month_bounds(year: int, month: int) -> tuple[int, int]:
    first = date(year, month, 1).toordinal()
    return first, first + calendar.monthrange(year, month)[1] - 1


def month_of(ordinal: int, qualifier: str = "") -> When:
    d = date.fromordinal(ordinal)
    first, last = _month_bounds(d.year, d.month)
    return When(f"{d.year:04d}-{d.month:02d}{qualifier}", first, last, last)


def year_of(ordinal: int, qualifier: str = "") -> When:
    y = date.fromordinal(ordinal).year
    first, last = date(y, 1, 1).toordinal(), date(y, 12, 31).toordinal()
    return When(f"{y:04d}{qualifier}", first, last, last)


def half_of(ordinal: int) -> When:
    """`YYYY-40` (first half) or `YYYY-41` (second half): EDTF semesters."""
    d = date.fromordinal(ordinal)
    first_half = d.month <= 6
    start = date(d.year, 1 if first_half else 7, 1).toordinal()
    end = date(d.year, 6, 30).toordinal() if first_half else date(d.year, 12, 31).toordinal()
    return When(f"{d.year:04d}-{40 if first_half else 41}", start, end, end)


def days_interval(ordinal: int, length: int) -> When:
    """A few days, as a meeting lasts: `2017-06-29/2017-06-30`."""
    return When(f"{iso(ordinal)}/{iso(ordinal + length)}", ordinal, ordinal, ordinal + length)


def months_interval(ordinal: int, months: int) -> When:
    """A programme year or so: `2011-07/2012-06`."""
    d = date.fromordinal(ordinal)
    start_first, start_last = _month_bounds(d.year, d.month)
    end_year, end_month = divmod(d.month - 1 + months, 12)
    end_year, end_month = d.year + end_year, end_month + 1
    _, end_last = _month_bounds(end_year, end_month)
    text = f"{d.year:04d}-{d.month:02d}/{end_year:04d}-{end_month:02d}"
    return When(text, start_first, start_last, end_last)


def weighted(rng: Random, table: dict[str, int]) -> str:
    return rng.choices(list(table), weights=list(table.values()), k=1)[0]


def styled(rng: Random, ordinal: int, styles: dict[str, int], floor: int | None = None) -> When:
    """A date containing `ordinal` in a style drawn from `styles`; precise when the style
    would reach back before `floor` (so that an entity's events keep moving forward)."""
    style = weighted(rng, styles)
    if style == "month":
        when = month_of(ordinal)
    elif style == "year":
        when = year_of(ordinal)
    elif style == "approx":
        when = year_of(ordinal, "~") if rng.random() < 0.7 else month_of(ordinal, "~")
    elif style == "half":
        when = half_of(ordinal)
    elif style == "interval":
        when = days_interval(ordinal, rng.choice((1, 1, 2, 2, 3, 4)))
    elif style == "span":
        when = months_interval(ordinal, rng.choice((5, 11, 11, 11, 23)))
    else:
        when = precise(ordinal)
    if floor is not None and when.earliest < floor:
        return precise(ordinal)
    return when


# --- words ----------------------------------------------------------------------------------

# fmt: off
AREAS = (
    "air quality", "fine dust", "yellow dust", "climate change", "carbon neutrality", "waste management",
    "recycling", "marine litter", "water quality", "water resources", "biodiversity", "forest restoration",
    "desertification", "chemical safety", "environmental health", "green growth", "renewable energy",
    "environmental technology", "environmental industry", "wetlands", "migratory birds", "national parks",
    "environmental impact assessment", "soil contamination", "mercury", "sustainable cities",
    "disaster risk reduction", "environmental education", "ozone layer protection", "wildlife trade",
)
INSTRUMENT_KINDS = {
    "mou": 50, "agreement": 15, "arrangement": 10, "protocol": 6, "declaration": 8, "communique": 6,
    "treaty": 5,
}
KIND_TITLES = {
    "mou": "Memorandum of Understanding", "agreement": "Agreement", "arrangement": "Arrangement",
    "protocol": "Protocol", "declaration": "Joint Declaration", "communique": "Joint Communiqué",
    "treaty": "Treaty",
}
NEEDS_ENTRY_INTO_FORCE = frozenset({"agreement", "treaty", "protocol"})
# Verbs that happen at most once per subject: their idempotency key needs no counter.
ONCE_VERBS = frozenset({"signed", "in-force", "terminated", "established", "held", "launched", "completed"})
SERIES_KINDS = (
    "Joint Committee on Environmental Cooperation", "Environment Ministers' Meeting", "Policy Dialogue",
    "Director-General-Level Meeting", "Working Group", "Expert Meeting", "Joint Commission", "Forum",
    "Steering Committee", "Senior Officials' Meeting", "Roundtable", "Joint Research Workshop",
)
CADENCES = {"annual": 365, "biennial": 730, "semi-annual": 182, "irregular": 500}
HOSTINGS = ("alternating", "rotating", "alternating", "fixed")
AD_HOC_MEETINGS = (
    "Bilateral Meeting", "Working-Level Meeting", "Expert Consultation", "Site Visit", "Technical Seminar",
    "Vice-Ministerial Talks", "Video Conference", "Joint Workshop",
)
OUTCOMES = (
    "agreed to continue ongoing cooperation projects", "agreed to begin new joint research",
    "agreed to exchange contact points", "adopted a joint statement", "agreed on a work programme",
    "agreed to hold the next meeting in the other country", "agreed to set up an expert group",
    "agreed to share monitoring data", "reviewed progress of joint projects",
)
PROJECT_WORDS = (
    "Joint research on", "Capacity building for", "Pilot project on", "Monitoring network for",
    "Demonstration project on", "Training programme on", "Joint survey of", "Technology transfer in",
)
FUND_SOURCES = (
    "Korea-ASEAN Special Cooperation Fund", "Global Environment Facility", "Green Climate Fund",
    "Official Development Assistance", "Japan Fund for Poverty Reduction", "Asian Development Bank",
    "national budget", "EU Horizon programme", "World Bank Trust Fund",
)
SCOPE_CHANGES = (
    "Broadened to include {area}", "Extended to a second site for {area}", "Narrowed to {area}",
    "Added a component on {area}", "Added monitoring of {area}", "Refocused on policy research on {area}",
)
RETRACTION_REASONS = (
    "recorded twice from two press releases", "the source misdated the event",
    "the press release was withdrawn", "recorded from a draft that was never adopted",
    "entered against the wrong instrument or project",
)
CORRECTED = "the amount was mistyped; the corrected record follows"
PUBLISHER_KINDS = (
    "Ministry of Environment", "Ministry of Foreign Affairs", "National Institute of Environmental Research",
    "Embassy", "Environment Agency",
)
FAMILY_NAMES = (
    "Kim", "Lee", "Park", "Choi", "Jung", "Tanaka", "Suzuki", "Sato", "Takahashi", "Wang", "Li", "Zhang",
    "Liu", "Chen", "Nguyen", "Tran", "Smith", "Johnson", "Muller", "Martin", "Garcia", "Singh", "Khan",
    "Ivanov", "Silva", "Dubois", "Rossi", "Santos", "Batbayar", "Suwannarat",
)
GIVEN_NAMES = (
    "Min-jun", "Seo-yeon", "Hiroshi", "Yuki", "Wei", "Jing", "Anh", "Linh", "John", "Maria", "Anna",
    "Ahmed", "Priya", "Olga", "Carlos", "Sophie", "Kenji", "Hye-jin", "Tae-wan", "Ming", "Sanjar", "Aigerim",
)
PERSON_TITLES = (
    "Minister of Environment", "Vice-Minister of Environment", "Director-General, International Cooperation",
    "Ambassador", "President", "Director", "Deputy Director-General", "Head of Delegation",
)

# --- parties --------------------------------------------------------------------------------

# The most active states of a Korea-centred record, most active first; the other states follow
# in a seeded random order. Popularity falls with rank as a power law.
HEAD_STATES = (
    "KOR", "JPN", "CHN", "USA", "MNG", "VNM", "RUS", "IDN", "THA", "PHL", "MYS", "IND", "DEU", "FRA",
    "GBR", "AUS", "CAN", "SGP", "KHM", "LAO", "MMR", "KAZ", "UZB", "BGD", "PAK", "NLD", "SWE", "DNK",
    "NOR", "FIN", "ITA", "ESP", "BRA", "MEX", "CHL", "PER", "ZAF", "KEN", "ETH", "EGY", "SAU", "ARE",
    "KWT", "ISR", "TUR", "NZL", "NPL", "LKA", "KGZ", "TJK",
)
AGENCY_TEMPLATES = (
    ("MOE", "Ministry of Environment", "agency"),
    ("NIER", "National Institute of Environmental Research", "agency"),
    ("MET", "Meteorological Administration", "agency"),
    ("ECO", "Environment Corporation", "agency"),
    ("NPS", "National Park Service", "agency"),
    ("FOREST", "Forest Service", "agency"),
    ("WATER", "Water Resources Agency", "agency"),
    ("NIBR", "National Institute of Biological Resources", "agency"),
    ("KEITI", "Environmental Industry and Technology Institute", "agency"),
    ("UNIV", "National University", "organisation"),
    ("EXIM", "Export-Import Bank", "agency"),
    ("ODA", "International Cooperation Agency", "agency"),
)
INTERNATIONAL = (
    ("UNEP", "United Nations Environment Programme", "organisation", ("UN-ENVIRONMENT",)),
    ("UNDP", "United Nations Development Programme", "organisation", ()),
    ("UNESCAP", "United Nations Economic and Social Commission for Asia and the Pacific", "organisation",
     ("ESCAP",)),
    ("ASEAN", "Association of Southeast Asian Nations", "organisation", ()),
    ("OECD", "Organisation for Economic Co-operation and Development", "organisation", ()),
    ("WMO", "World Meteorological Organization", "organisation", ()),
    ("GEF", "Global Environment Facility", "organisation", ()),
    ("GCF", "Green Climate Fund", "organisation", ()),
    ("GGGI", "Global Green Growth Institute", "organisation", ()),
    ("ADB", "Asian Development Bank", "organisation", ()),
    ("WORLDBANK", "World Bank", "organisation", ("IBRD",)),
    ("IUCN", "International Union for Conservation of Nature", "organisation", ()),
    ("UNFCCC", "UNFCCC Secretariat", "organisation", ()),
    ("UNCCD", "UNCCD Secretariat", "organisation", ()),
    ("UNESCO", "United Nations Educational, Scientific and Cultural Organization", "organisation", ()),
    ("FAO", "Food and Agriculture Organization", "organisation", ()),
    ("WHO", "World Health Organization", "organisation", ()),
    ("IEA", "International Energy Agency", "organisation", ()),
    ("IRENA", "International Renewable Energy Agency", "organisation", ()),
    ("EU", "European Union", "organisation", ()),
    ("APEC", "Asia-Pacific Economic Cooperation", "organisation", ()),
    ("AFOCO", "Asian Forest Cooperation Organization", "organisation", ()),
    ("PEMSEA", "Partnerships in Environmental Management for the Seas of East Asia", "organisation", ()),
    ("ICLEI", "ICLEI - Local Governments for Sustainability", "organisation", ()),
    ("IGES", "Institute for Global Environmental Strategies", "organisation", ()),
    ("TEMM", "Tripartite Environment Ministers Meeting", "framework", ()),
    ("NEASPEC", "North-East Asian Subregional Programme for Environmental Cooperation", "framework", ()),
    ("NOWPAP", "Northwest Pacific Action Plan", "framework", ()),
    ("EANET", "Acid Deposition Monitoring Network in East Asia", "framework", ()),
    ("LTP", "Long-range Transboundary Air Pollutants in Northeast Asia", "framework", ()),
    ("NEACAP", "North-East Asia Clean Air Partnership", "framework", ()),
    ("SACEP", "South Asia Co-operative Environment Programme", "framework", ()),
    ("GMS-ECP", "Greater Mekong Subregion Core Environment Program", "framework", ()),
    ("APN", "Asia-Pacific Network for Global Change Research", "framework", ()),
    ("EAAFP", "East Asian-Australasian Flyway Partnership", "framework", ()),
    ("CBD", "Convention on Biological Diversity Secretariat", "organisation", ()),
    ("RAMSAR", "Ramsar Convention Secretariat", "organisation", ()),
    ("CITES", "CITES Secretariat", "organisation", ()),
    ("IPCC", "Intergovernmental Panel on Climate Change", "organisation", ()),
    ("ISO-TC207", "ISO Technical Committee 207", "other", ()),
)
# Names people write for states, besides alpha-2 codes (SPEC section 1).
STATE_ALIASES = {"KOR": "ROK", "PRK": "DPRK", "CHN": "PRC", "GBR": "UK", "ARE": "UAE", "TWN": "ROC"}
CURRENCY_OF = {
    "KOR": "KRW", "JPN": "JPY", "CHN": "CNY", "USA": "USD", "GBR": "GBP", "AUS": "AUD", "CAN": "CAD",
    "IND": "INR", "SGP": "SGD", "THA": "THB", "NOR": "NOK", "SWE": "SEK", "DNK": "DKK", "DEU": "EUR",
    "FRA": "EUR", "NLD": "EUR", "FIN": "EUR", "ITA": "EUR", "ESP": "EUR", "EU": "EUR",
}
USD_RATE = {  # rough units per US dollar, for amounts of a plausible size
    "USD": 1, "EUR": 0.9, "KRW": 1200, "JPY": 130, "CNY": 7, "GBP": 0.8, "AUD": 1.4, "CAD": 1.3,
    "INR": 80, "SGD": 1.35, "THB": 34, "NOK": 10, "SEK": 10, "DKK": 7,
}
# fmt: on
ZIPF_EXPONENT = 1.15


@dataclass(slots=True)
class Party:
    id: str
    name: str
    country: str | None  # the state it belongs to; the state itself for a state
    kind: str | None  # None for a state (known without registration)
    aliases: tuple[str, ...] = ()
    registered: bool = False

    @property
    def home(self) -> str:
        """The state or international body the party stands for: two parties of one home
        never cooperate with each other in this record."""
        return self.country or self.id


@cache
def _state_spellings() -> frozenset[str]:
    codes = {c.alpha_2 for c in pycountry.countries} | {c.alpha_3 for c in pycountry.countries}
    return frozenset(codes | set(STATE_ALIASES.values()))


def _collides(party_id: str) -> bool:
    """True when an id already names a state (alpha-2, alpha-3 or a common alias)."""
    return party_id in _state_spellings()


def build_parties(rng: Random) -> tuple[dict[str, Party], list[str], list[float]]:
    """Every party with its popularity: states by rank, agencies after their state."""
    parties: dict[str, Party] = {}
    for country in pycountry.countries:
        name = getattr(country, "common_name", None) or country.name
        parties[country.alpha_3] = Party(country.alpha_3, name, country.alpha_3, None)
    tail = sorted(set(parties) - set(HEAD_STATES))
    rng.shuffle(tail)
    ranked = [code for code in HEAD_STATES if code in parties] + tail
    weight = {code: 1 / (rank + 1) ** ZIPF_EXPONENT for rank, code in enumerate(ranked)}

    for rank, (party_id, name, kind, aliases) in enumerate(INTERNATIONAL):
        if _collides(party_id) or any(_collides(a) for a in aliases):
            continue
        parties[party_id] = Party(party_id, name, None, kind, aliases)
        weight[party_id] = 1 / (rank + 6) ** ZIPF_EXPONENT
    for rank, code in enumerate(ranked[:45]):
        count = max(3, 9 - rank // 6)
        for j, (abbr, what, kind) in enumerate(rng.sample(AGENCY_TEMPLATES, count)):
            party_id = f"{code}-{abbr}"
            parties[party_id] = Party(party_id, f"{what} of {parties[code].name}", code, kind)
            weight[party_id] = weight[code] * 0.35 / (j + 1)

    ids = list(weight)
    return parties, ids, list(accumulate(weight[i] for i in ids))


# --- entities the generator keeps -------------------------------------------------------------


class Slotted(Protocol):
    slot: int


T = TypeVar("T", bound=Slotted)


class Pool(Generic[T]):
    """A bounded bag with O(1) add, random pick and removal; when full, a random member
    makes room (it simply goes quiet: real records are full of those)."""

    def __init__(self, rng: Random, capacity: int):
        self.rng, self.capacity = rng, capacity
        self.items: list[T] = []

    def __len__(self) -> int:
        return len(self.items)

    def add(self, item: T) -> T | None:
        evicted = None
        if len(self.items) >= self.capacity:
            evicted = self.items[self.rng.randrange(len(self.items))]
            self.remove(evicted)
        item.slot = len(self.items)
        self.items.append(item)
        return evicted

    def pick(self) -> T:
        return self.items[self.rng.randrange(len(self.items))]

    def remove(self, item: T) -> None:
        last = self.items.pop()
        if last is not item:
            self.items[item.slot] = last
            last.slot = item.slot
        item.slot = -1


@dataclass(slots=True, eq=False)
class Instrument:
    id: str
    kind: str
    parties: tuple[str, ...]
    created: int  # day of signing
    last: int  # latest possible day of its latest event
    expires: int | None  # day of the current expiry
    in_force: bool
    slot: int = -1


@dataclass(slots=True, eq=False)
class Project:
    id: str
    parties: tuple[str, ...]
    created: int  # launch day
    last: int
    planned_end: int | None
    slot: int = -1


@dataclass(slots=True, eq=False)
class Meeting:
    """A meeting announced and not yet held."""

    id: str
    parties: tuple[str, ...]
    series: Series | None
    number: int | None
    announced: int  # latest possible day of its latest announcement
    planned: When
    host: str
    will_be_held: bool  # some announced meetings never take place
    slot: int = -1


@dataclass(slots=True, eq=False)
class Series:
    id: str
    title: str
    parties: tuple[str, ...]
    last: int
    next_number: int
    cadence: int  # days between meetings, roughly
    pending: Meeting | None = None
    slot: int = -1


@dataclass(slots=True, eq=False)
class Retractable:
    position: int
    type: str
    subject: str  # the project or instrument it is about
    occurred_on: str
    currency: str = ""  # of a ProjectFunded, for the corrected record
    slot: int = -1


class Done(Exception):
    """The file has its N lines."""


# --- the generator --------------------------------------------------------------------------


class Generator:
    def __init__(self, n: int, seed: int, out: IO[bytes]):
        self.n, self.out, self.rng = n, out, Random(seed)
        self.parties, self.party_ids, self.party_cum = build_parties(self.rng)
        self.alpha_2 = {c.alpha_3: c.alpha_2 for c in pycountry.countries}
        self.position = 0  # lines written: the position of the last event
        self.sequence = 0  # makes every generated id unique
        self.keys = 0  # makes every idempotency key unique
        capacity = max(500, min(20_000, n // 40))
        self.instruments: Pool[Instrument] = Pool(self.rng, capacity)
        self.projects: Pool[Project] = Pool(self.rng, capacity)
        self.series: Pool[Series] = Pool(self.rng, capacity)
        self.pending: Pool[Meeting] = Pool(self.rng, capacity // 2)
        # Small, so that a mistake is mostly retracted soon after it was recorded.
        self.retractable: Pool[Retractable] = Pool(self.rng, 200)

    # --- driving

    def run(self) -> None:
        steps: list[tuple[float, Callable[[], None]]] = [
            (25, self.instrument_step),
            (35, self.meeting_step),
            (35, self.project_step),
            (1, self.retraction),
        ]
        actions = [action for _, action in steps]
        cum = list(accumulate(weight for weight, _ in steps))
        try:
            while self.position < self.n:
                self.rng.choices(actions, cum_weights=cum, k=1)[0]()
        except Done:
            pass

    @property
    def clock(self) -> int:
        """Today in the story: moves from 1980 to mid-2025 as lines are written, with
        activity growing fourfold over the years (density 1 + 3x)."""
        u = self.position / self.n
        x = (math.sqrt(1 + 15 * u) - 1) / 3
        return FIRST_DAY + int(x * (CLOCK_END - FIRST_DAY))

    def fresh_day(self) -> int:
        """A day for a new entity: around the clock, a little behind it more often than not."""
        day = self.clock + self.rng.randint(-150, 15)
        if day < FIRST_DAY:
            day = 2 * FIRST_DAY - day  # reflect, rather than pile days up on 1 January 1980
        return min(CLOCK_END, day)

    def later(self, last: int, min_gap: int, spread: int) -> int | None:
        """A day at least `min_gap` after `last`, near the clock; None when that is past 2025
        or far ahead of the clock (the entity has nothing to say yet)."""
        lower = last + min_gap
        if lower > LAST_DAY or lower > self.clock + 180:
            return None
        target = max(lower, self.clock + self.rng.randint(-60, 30)) + self.rng.randint(0, spread)
        return min(target, LAST_DAY)

    def next_id(self, *words: str) -> str:
        """A new slug, unique by its trailing sequence number."""
        self.sequence += 1
        stem = "-".join(w.lower().replace(" ", "-") for w in words if w)
        return f"{stem[:100].strip('-')}-{self.sequence:x}"

    # --- writing

    def emit(self, event: dict[str, Any]) -> int:
        if self.position >= self.n:
            raise Done
        self.out.write(orjson.dumps(event))
        self.out.write(b"\n")
        self.position += 1
        return self.position

    def record(
        self, type_: str, when: When, data: dict[str, Any], parties: Sequence[str], subject: str, verb: str
    ) -> int:
        """Write one event about `subject` (its parties registered first); its position.

        Creations and endings happen once per subject, so `subject/verb` is a unique key;
        other verbs get a counter.
        """
        key = f"{subject}/{verb}" if verb in ONCE_VERBS else self.follow_key(subject, verb)
        event = self.envelope(type_, when, data, parties, key)
        self.register(parties, when)
        return self.emit(event)

    def envelope(
        self, type_: str, when: When, data: dict[str, Any], parties: Sequence[str], key: str
    ) -> dict[str, Any]:
        """The event with its optional parts: a source for about half, a key for a tenth."""
        rng = self.rng
        event: dict[str, Any] = {"type": type_, "occurred_on": when.text, "data": data}
        if rng.random() < 0.5:
            event["source"] = self.source(when, data, parties)
        if rng.random() < 0.03:
            event["note"] = f"Recorded from the {rng.choice(PUBLISHER_KINDS).lower()}'s annual report."
        if rng.random() < 0.10:
            event["key"] = key
        return event

    def follow_key(self, subject: str, verb: str) -> str:
        """A unique idempotency key for one of several events about `subject`."""
        self.keys += 1
        return f"{subject}/{verb}-{self.keys}"

    def source(self, when: When, data: dict[str, Any], parties: Sequence[str]) -> dict[str, str]:
        rng = self.rng
        published = when.latest + rng.choice((0, 0, 1, 3, 7, 14, 30, 90, 400))
        published_on = iso(published) if rng.random() < 0.75 else month_of(published).text
        home = self.parties[self.parties[rng.choice(parties)].home]
        publisher = f"{rng.choice(PUBLISHER_KINDS)}, {home.name}" if home.kind is None else home.name
        title = data.get("title") or f"Press release on {rng.choice(AREAS)} cooperation"
        return {
            "title": str(title),
            "publisher": publisher,
            "published_on": published_on,
        }

    def spell(self, party_id: str) -> str:
        """The party as a person might write it: mostly its id, sometimes an alias or
        alpha-2 code or lower case (all resolve to the same party)."""
        rng = self.rng
        if rng.random() >= 0.04:
            return party_id
        party = self.parties[party_id]
        if party.kind is None:
            choices = [self.alpha_2[party_id], party_id.lower()]
            if party_id in STATE_ALIASES:
                choices.append(STATE_ALIASES[party_id])
            return rng.choice(choices)
        return rng.choice(party.aliases) if party.aliases else party_id.lower()

    def register(self, parties: Sequence[str], when: When) -> None:
        """PartyRegistered for each organisation not yet registered, dated with its first use."""
        for party_id in parties:
            party = self.parties[party_id]
            if party.kind is None or party.registered:
                continue
            data: dict[str, Any] = {"party": party.id, "name": party.name, "kind": party.kind}
            if party.country:
                data["country"] = party.country
            if party.aliases:
                data["aliases"] = list(party.aliases)
            key = f"party/{party.id.lower()}"
            self.emit(self.envelope("PartyRegistered", precise(when.earliest), data, [party.id], key))
            party.registered = True

    # --- choosing parties

    def draw_parties(self, count: int) -> tuple[str, ...]:
        """`count` parties of distinct homes, by popularity."""
        chosen: list[str] = []
        homes: set[str] = set()
        while len(chosen) < count:
            party_id = self.rng.choices(self.party_ids, cum_weights=self.party_cum, k=1)[0]
            home = self.parties[party_id].home
            if home not in homes:
                chosen.append(party_id)
                homes.add(home)
        return tuple(chosen)

    def new_parties(self, multilateral: float) -> tuple[str, ...]:
        rng = self.rng
        if rng.random() >= multilateral:
            return self.draw_parties(2)
        if rng.random() < 0.25:
            return ("KOR", "CHN", "JPN")
        return self.draw_parties(rng.choice((3, 3, 3, 4, 4, 5)))

    def names(self, parties: Sequence[str]) -> str:
        names = [self.parties[p].name for p in parties]
        return " and ".join(names) if len(names) == 2 else ", ".join(names[:-1]) + " and " + names[-1]

    def written(self, parties: Sequence[str]) -> list[str]:
        return [self.spell(p) for p in parties]

    def person(self, party: str) -> dict[str, str]:
        rng = self.rng
        return {
            "name": f"{rng.choice(GIVEN_NAMES)} {rng.choice(FAMILY_NAMES)}",
            "title": rng.choice(PERSON_TITLES),
            "party": party,
        }

    # --- instruments

    def instrument_step(self) -> None:
        if len(self.instruments) == 0 or self.rng.random() < 0.45 or not self.instrument_follow_up():
            self.sign()

    def sign(self) -> None:
        rng = self.rng
        kind = weighted(rng, INSTRUMENT_KINDS)
        parent = None
        if kind in ("protocol", "arrangement") and len(self.instruments) and rng.random() < 0.4:
            parent = self.instruments.pick()
            parties = parent.parties
        else:
            parties = self.new_parties(0.06)
        day = (
            self.fresh_day() if parent is None else min(LAST_DAY, max(self.fresh_day(), parent.created + 30))
        )
        when = styled(rng, day, EVENT_STYLES)
        area = rng.choice(AREAS)
        slug = self.next_id(*parties[:3], kind, str(date.fromordinal(when.day).year))
        data: dict[str, Any] = {
            "instrument": slug,
            "kind": kind,
            "title": f"{KIND_TITLES[kind]} on {area} cooperation between {self.names(parties)}",
            "parties": self.written(parties),
        }
        if rng.random() < 0.3:
            data["signatories"] = [self.person(p) for p in parties]
        in_force = kind not in NEEDS_ENTRY_INTO_FORCE
        expires: When | None = None
        if rng.random() < 0.6:
            expires = styled(rng, when.day + rng.choice((1, 2, 3, 3, 5, 5, 5, 10)) * YEAR, END_STYLES)
            data["expires_on"] = expires.text
            if rng.random() < 0.5:
                data["extension_terms"] = rng.choice(
                    (
                        "by mutual consent of the Parties in writing",
                        "automatically for successive periods of five years unless terminated",
                        "by exchange of notes",
                    )
                )
        if rng.random() < (0.35 if kind in NEEDS_ENTRY_INTO_FORCE else 0.15):
            data["in_force_from"] = iso(when.day + rng.choice((0, 0, 30, 60, 90)))
            in_force = True
        if rng.random() < 0.5:
            data["areas"] = rng.sample(AREAS, rng.randint(1, 5))
        if rng.random() < 0.3:
            data["place"] = self.parties[self.parties[rng.choice(parties)].home].name
        if parent is not None:
            data["under"] = parent.id
        self.record("InstrumentSigned", when, data, parties, slug, "signed")
        self.instruments.add(
            Instrument(slug, kind, parties, when.day, when.latest, expires.day if expires else None, in_force)
        )

    def instrument_follow_up(self) -> bool:
        """One event on a live instrument; False when it has nothing to say now."""
        rng = self.rng
        inst = self.instruments.pick()
        if inst.expires is not None and self.clock > inst.expires + 3 * YEAR and rng.random() < 0.8:
            self.instruments.remove(inst)  # lapsed long ago: nobody records it any more
            return False
        if not inst.in_force and rng.random() < 0.7:
            return self.enter_into_force(inst)
        near_expiry = inst.expires is not None and self.clock > inst.expires - YEAR
        roll = rng.random()
        if near_expiry and roll < 0.65:
            return self.extend_instrument(inst)
        if roll < (0.75 if near_expiry else 0.1):
            return self.terminate_instrument(inst)
        if inst.expires is not None and roll < 0.2:
            return self.extend_instrument(inst)
        return self.amend_instrument(inst)

    def _instrument_when(self, inst: Instrument, min_gap: int, spread: int) -> When | None:
        day = self.later(inst.last, min_gap, spread)
        if day is None:
            return None
        when = styled(self.rng, day, EVENT_STYLES, floor=inst.last + 1)
        inst.last = when.latest
        return when

    def enter_into_force(self, inst: Instrument) -> bool:
        when = self._instrument_when(inst, 20, 300)
        if when is None:
            return False
        data = {"instrument": inst.id}
        self.record("InstrumentEnteredIntoForce", when, data, inst.parties, inst.id, "in-force")
        inst.in_force = True
        return True

    def extend_instrument(self, inst: Instrument) -> bool:
        assert inst.expires is not None
        when = self._instrument_when(inst, 1, 120)
        if when is None:
            return False
        expires = styled(self.rng, inst.expires + self.rng.choice((1, 2, 3, 5, 5)) * YEAR, END_STYLES)
        data: dict[str, Any] = {"instrument": inst.id, "expires_on": expires.text}
        if self.rng.random() < 0.4:
            data["basis"] = self.rng.choice(
                ("exchange of letters", "automatic renewal clause", "joint committee decision")
            )
        position = self.record("InstrumentExtended", when, data, inst.parties, inst.id, "extended")
        inst.expires = expires.day
        self.remember(position, "InstrumentExtended", inst.id, when)
        return True

    def amend_instrument(self, inst: Instrument) -> bool:
        when = self._instrument_when(inst, 30, 400)
        if when is None:
            return False
        data = {"instrument": inst.id, "summary": f"Added cooperation on {self.rng.choice(AREAS)}"}
        position = self.record("InstrumentAmended", when, data, inst.parties, inst.id, "amended")
        self.remember(position, "InstrumentAmended", inst.id, when)
        return True

    def terminate_instrument(self, inst: Instrument) -> bool:
        when = self._instrument_when(inst, 60, 400)
        if when is None:
            return False
        data: dict[str, Any] = {"instrument": inst.id}
        if self.rng.random() < 0.6:
            data["reason"] = self.rng.choice(
                ("superseded by a new agreement", "notice of termination", "purpose fulfilled")
            )
        self.record("InstrumentTerminated", when, data, inst.parties, inst.id, "terminated")
        self.instruments.remove(inst)
        return True

    # --- series and meetings

    def meeting_step(self) -> None:
        roll = self.rng.random()
        if len(self.series) == 0 or roll < 0.07:
            self.establish_series()
            return
        if roll < 0.27:
            done = self.schedule()
        elif roll < 0.45 and len(self.pending):
            done = self.fulfil(self.pending.pick())
        elif roll < 0.80:
            done = self.series_meeting(self.series.pick())
        else:
            done = False
        if not done:
            self.ad_hoc_meeting()

    def establish_series(self) -> None:
        rng = self.rng
        parent = self.instruments.pick() if len(self.instruments) and rng.random() < 0.3 else None
        parties = parent.parties if parent else self.new_parties(0.2)
        day = self.fresh_day() if parent is None else min(LAST_DAY, max(self.fresh_day(), parent.created))
        when = styled(rng, day, EVENT_STYLES)
        what = rng.choice(SERIES_KINDS)
        homes = "-".join(self.parties[p].home for p in parties[:3])
        slug = self.next_id(*parties[:3], "".join(w[0] for w in what.split() if w[0].isalpha()))
        cadence = rng.choice(list(CADENCES))
        data: dict[str, Any] = {"series": slug, "title": f"{homes} {what}", "parties": self.written(parties)}
        if parent is not None:
            data["under"] = parent.id
        if rng.random() < 0.7:
            data["cadence"] = cadence
        if rng.random() < 0.5:
            data["hosts"] = rng.choice(HOSTINGS)
        self.record("SeriesEstablished", when, data, parties, slug, "established")
        first = 1 if rng.random() < 0.8 else rng.randint(2, 25)  # records often start mid-series
        self.series.add(Series(slug, data["title"], parties, when.latest, first, CADENCES[cadence]))

    def schedule(self) -> bool:
        """Announce a meeting: the next of a series, a rescheduling, or an ad hoc one."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.08 and len(self.pending):
            meeting = self.pending.pick()
            return self.announce(meeting, meeting.announced + 1, meeting.planned.latest + 30)
        if roll < 0.7:
            series = self.series.pick()
            if series.pending is not None:
                return False
            meeting = Meeting(
                f"{series.id}-{series.next_number}",
                series.parties,
                series,
                series.next_number,
                series.last,
                precise(series.last),
                rng.choice(series.parties),
                rng.random() < 0.8,
            )
            if not self.announce(meeting, series.last + 1, series.last + series.cadence // 2):
                return False
            series.next_number += 1
            series.pending = meeting
        else:
            parties = self.new_parties(0.15)
            day = self.fresh_day()
            slug = self.next_id(*parties[:3], "meeting", iso(day)[:7])
            host = rng.choice(parties)
            meeting = Meeting(slug, parties, None, None, day - 1, precise(day), host, rng.random() < 0.75)
            if not self.announce(meeting, day, day + 30):
                return False
        self.track_pending(meeting)
        return True

    def announce(self, meeting: Meeting, floor: int, planned_after: int) -> bool:
        """MeetingScheduled for `meeting`, announced on or after `floor`."""
        rng = self.rng
        day = self.later(floor - 1, 1, 60)
        if day is None:
            return False
        when = styled(rng, day, EVENT_STYLES, floor=floor)
        planned = styled(rng, max(planned_after, when.latest + 20) + rng.randint(0, 200), PLANNED_STYLES)
        data: dict[str, Any] = {
            "meeting": meeting.id,
            "parties": self.written(meeting.parties),
            "planned_for": planned.text,
        }
        if meeting.series is not None:
            data["series"] = meeting.series.id
            data["number"] = meeting.number
        if rng.random() < 0.5:
            data["venue"] = self.parties[self.parties[meeting.host].home].name
        if rng.random() < 0.6:
            data["host"] = self.spell(meeting.host)
        self.record("MeetingScheduled", when, data, meeting.parties, meeting.id, "scheduled")
        meeting.announced, meeting.planned = when.latest, planned
        if meeting.series is not None:
            meeting.series.last = max(meeting.series.last, when.latest)
        return True

    def track_pending(self, meeting: Meeting) -> None:
        if meeting.slot >= 0:
            return
        evicted = self.pending.add(meeting)
        if evicted is not None and evicted.series is not None:
            evicted.series.pending = None  # announced, never held: the series moves on

    def fulfil(self, meeting: Meeting) -> bool:
        """Hold an announced meeting, or give up on one that was not held when planned."""
        rng = self.rng
        if not meeting.will_be_held or self.clock > meeting.planned.latest + 2 * YEAR:
            if self.clock > meeting.planned.latest:
                self.drop_pending(meeting)
            return False
        floor = meeting.announced + 1
        if meeting.series is not None:
            floor = max(floor, meeting.series.last + 1)
        target = rng.randint(meeting.planned.earliest, meeting.planned.latest)
        if rng.random() < 0.1:
            target += rng.randint(30, 200)  # postponed
        day = max(target, floor)
        if day > min(LAST_DAY, self.clock + 180):
            return False  # not yet
        when = styled(rng, day, MEETING_STYLES, floor=floor)
        self.drop_pending(meeting)
        self.hold(meeting.id, meeting.parties, meeting.series, meeting.number, meeting.host, when)
        return True

    def drop_pending(self, meeting: Meeting) -> None:
        self.pending.remove(meeting)
        if meeting.series is not None and meeting.series.pending is meeting:
            meeting.series.pending = None

    def series_meeting(self, series: Series) -> bool:
        if series.pending is not None:
            return self.fulfil(series.pending)
        rng = self.rng
        day = self.later(series.last, max(30, series.cadence // 2), series.cadence)
        if day is None:
            return False
        when = styled(rng, day, MEETING_STYLES, floor=series.last + 1)
        number = series.next_number
        series.next_number += 1 if rng.random() < 0.9 else rng.randint(2, 3)  # a few go unrecorded
        self.hold(f"{series.id}-{number}", series.parties, series, number, rng.choice(series.parties), when)
        return True

    def ad_hoc_meeting(self) -> None:
        rng = self.rng
        parties = self.new_parties(0.15)
        when = styled(rng, self.fresh_day(), MEETING_STYLES)
        slug = self.next_id(*parties[:3], "meeting", iso(when.day)[:7])
        self.hold(slug, parties, None, None, rng.choice(parties), when)

    def hold(
        self,
        slug: str,
        parties: tuple[str, ...],
        series: Series | None,
        number: int | None,
        host: str,
        when: When,
    ) -> None:
        rng = self.rng
        data: dict[str, Any] = {"meeting": slug, "parties": self.written(parties)}
        if series is not None:
            data["series"] = series.id
            if number is not None:
                data["number"] = number
                data["title"] = f"{ordinal(number)} Meeting of the {series.title}"
            series.last = max(series.last, when.latest)
        else:
            data["title"] = f"{rng.choice(AD_HOC_MEETINGS)} on {rng.choice(AREAS)}"
        if rng.random() < 0.6:
            data["venue"] = self.parties[self.parties[host].home].name
        if rng.random() < 0.6:
            data["host"] = self.spell(host)
        if rng.random() < 0.4:
            data["heads_of_delegation"] = [self.person(p) for p in parties]
        if rng.random() < 0.5:
            data["topics"] = rng.sample(AREAS, rng.randint(1, 5))
        if rng.random() < 0.3:
            data["outcomes"] = rng.sample(OUTCOMES, rng.randint(1, 3))
        self.record("MeetingHeld", when, data, parties, slug, "held")

    # --- projects

    def project_step(self) -> None:
        if len(self.projects) == 0 or self.rng.random() < 0.33 or not self.project_follow_up():
            self.launch()

    def launch(self) -> None:
        rng = self.rng
        parent = self.instruments.pick() if len(self.instruments) and rng.random() < 0.3 else None
        parties = parent.parties if parent else self.new_parties(0.12)
        day = self.fresh_day() if parent is None else min(LAST_DAY, max(self.fresh_day(), parent.created))
        when = styled(rng, day, EVENT_STYLES)
        area = rng.choice(AREAS)
        slug = self.next_id(*parties[:3], area)
        data: dict[str, Any] = {
            "project": slug,
            "title": f"{rng.choice(PROJECT_WORDS)} {area}",
            "parties": self.written(parties),
        }
        if parent is not None:
            data["under"] = parent.id
        planned_end: When | None = None
        if rng.random() < 0.75:
            planned_end = styled(rng, when.day + rng.randint(180, 5 * YEAR), END_STYLES)
            data["planned_end"] = planned_end.text
        if rng.random() < 0.6:
            data["funding"] = [self.funding(parties) for _ in range(rng.choice((1, 1, 1, 2)))]
        self.record("ProjectLaunched", when, data, parties, slug, "launched")
        self.projects.add(
            Project(slug, parties, when.day, when.latest, planned_end.day if planned_end else None)
        )

    def funding(self, parties: Sequence[str]) -> dict[str, str]:
        rng = self.rng
        funder = self.parties[rng.choice(parties)].home
        currency = CURRENCY_OF.get(funder) if rng.random() < 0.7 else None
        currency = currency or rng.choice(("USD", "USD", "USD", "EUR", "KRW", "JPY"))
        result = {"amount": self.amount(currency), "currency": currency}
        if rng.random() < 0.5:
            result["source"] = rng.choice(FUND_SOURCES)
        return result

    def amount(self, currency: str) -> str:
        """A positive decimal string worth 10 thousand to 5 million dollars: mostly round
        figures, sometimes to the cent."""
        rng = self.rng
        units = 10 ** rng.uniform(4, 6.7) * USD_RATE[currency]
        if rng.random() < 0.85:
            step = 10 ** max(0, int(math.log10(units)) - 2)
            return str(max(step, round(units / step) * step))
        cents = max(1, round(units * 100))
        return f"{cents // 100}.{cents % 100:02d}"

    def project_follow_up(self) -> bool:
        rng = self.rng
        project = self.projects.pick()
        overdue = project.planned_end is not None and self.clock > project.planned_end
        stale = self.clock > project.last + 6 * YEAR
        roll = rng.random()
        if overdue or stale:
            if roll < 0.6 or stale:
                return self.end_project(project, completed=rng.random() < 0.9)
            if roll < 0.85:
                return self.extend_project(project)
            return self.fund(project)
        if roll < 0.45:
            return self.fund(project)
        if roll < 0.7:
            return self.change_scope(project)
        if roll < 0.88:
            return self.extend_project(project)
        return self.end_project(project, completed=rng.random() < 0.5)

    def _project_when(
        self, project: Project, min_gap: int, spread: int, styles: dict[str, int]
    ) -> When | None:
        day = self.later(project.last, min_gap, spread)
        if day is None:
            return None
        when = styled(self.rng, day, styles, floor=project.last + 1)
        project.last = when.latest
        return when

    def fund(self, project: Project) -> bool:
        when = self._project_when(project, 30, 365, FUNDING_STYLES)
        if when is None:
            return False
        grant = self.funding(project.parties)
        data: dict[str, Any] = {
            "project": project.id,
            "amount": grant["amount"],
            "currency": grant["currency"],
        }
        if "source" in grant:
            data["source"] = grant["source"]
        position = self.record("ProjectFunded", when, data, project.parties, project.id, "funded")
        self.remember(position, "ProjectFunded", project.id, when, grant["currency"])
        return True

    def change_scope(self, project: Project) -> bool:
        when = self._project_when(project, 30, 365, EVENT_STYLES)
        if when is None:
            return False
        summary = self.rng.choice(SCOPE_CHANGES).format(area=self.rng.choice(AREAS))
        data = {"project": project.id, "summary": summary}
        position = self.record("ProjectScopeChanged", when, data, project.parties, project.id, "scope")
        self.remember(position, "ProjectScopeChanged", project.id, when)
        return True

    def extend_project(self, project: Project) -> bool:
        when = self._project_when(project, 30, 200, EVENT_STYLES)
        if when is None:
            return False
        current = project.planned_end if project.planned_end is not None else project.created
        planned_end = styled(self.rng, max(current, when.day) + self.rng.randint(90, 3 * YEAR), END_STYLES)
        data = {"project": project.id, "planned_end": planned_end.text}
        position = self.record("ProjectExtended", when, data, project.parties, project.id, "extended")
        project.planned_end = planned_end.day
        self.remember(position, "ProjectExtended", project.id, when)
        return True

    def end_project(self, project: Project, completed: bool) -> bool:
        when = self._project_when(project, 30, 200, EVENT_STYLES)
        if when is None:
            if project.last + 30 > LAST_DAY:
                self.projects.remove(project)  # runs past 2025: still active at the end of the record
            return False
        if completed:
            data = {"project": project.id, "summary": "Completed; final report submitted"}
            self.record("ProjectCompleted", when, data, project.parties, project.id, "completed")
        else:
            data = {
                "project": project.id,
                "reason": self.rng.choice(
                    ("funding withdrawn", "merged into a larger programme", "partner withdrew")
                ),
            }
            self.record("ProjectTerminated", when, data, project.parties, project.id, "terminated")
        self.projects.remove(project)
        return True

    # --- retractions

    def remember(self, position: int, type_: str, subject: str, when: When, currency: str = "") -> None:
        """An event nothing depends on, which a later retraction may take back."""
        self.retractable.add(Retractable(position, type_, subject, when.text, currency))

    def retraction(self) -> None:
        if len(self.retractable) == 0:
            self.project_step()
            return
        rng = self.rng
        target = self.retractable.pick()
        self.retractable.remove(target)
        corrected = target.type == "ProjectFunded" and rng.random() < 0.5
        reason = CORRECTED if corrected else rng.choice(RETRACTION_REASONS)
        event: dict[str, Any] = {
            "type": "EventRetracted",
            "data": {"event": target.position, "reason": reason},
        }
        if rng.random() < 0.10:
            event["key"] = f"retraction/{target.position}"
        self.emit(event)
        if corrected:
            self.corrected_funding(target)

    def corrected_funding(self, target: Retractable) -> None:
        """The funding event that replaces a retracted one: same project and date, new amount."""
        amount = self.amount(target.currency)
        data = {"project": target.subject, "amount": amount, "currency": target.currency}
        event = {"type": "ProjectFunded", "occurred_on": target.occurred_on, "data": data}
        self.emit(event)


def ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, required=True, help="how many events (lines) to write")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--out", help="output file (default: standard output)")
    args = parser.parse_args(argv)
    if args.events < 0:
        parser.error("--events must be 0 or more")
    if args.out:
        with open(args.out, "wb", buffering=1 << 20) as out:
            Generator(args.events, args.seed, out).run()
        return
    try:
        Generator(args.events, args.seed, sys.stdout.buffer).run()
        sys.stdout.buffer.flush()
    except BrokenPipeError:  # e.g. piped into `head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)


if __name__ == "__main__":
    main()

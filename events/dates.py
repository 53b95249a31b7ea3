"""EDTF dates: parsed as entered, each with the days it can fall on."""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, NoReturn

from msgspec import Struct

# Plain years, months and days (optionally qualified) are the bulk of real data; the edtf
# library takes milliseconds per call, so they take this path, which the property tests hold
# to the library's answers. Everything else goes to the library.
_PLAIN = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?[~?%]?")
# EDTF sub-year groupings (seasons, quarters, quadrimesters, semesters) as the edtf library
# reads them: the first and last month. "2019-41" is the second half of 2019.
_SEASON = re.compile(r"(\d{4})-(2[1-9]|3[0-9]|4[01])")
_SEASON_MONTHS = {
    21: (3, 5),
    22: (6, 8),
    23: (9, 11),
    24: (12, 12),
    25: (3, 5),
    26: (6, 8),
    27: (9, 11),
    28: (12, 12),
    29: (9, 11),
    30: (12, 12),
    31: (3, 5),
    32: (6, 8),
    33: (1, 3),
    34: (4, 6),
    35: (7, 9),
    36: (10, 12),
    37: (1, 4),
    38: (5, 8),
    39: (9, 12),
    40: (1, 6),
    41: (7, 12),
}
# Unspecified digits: a decade or century (199X, 19XX), a month or day (2019-XX, 2019-05-XX).
_UNSPECIFIED_YEAR = re.compile(r"(\d{2}[\dX]X)[~?%]?")
_UNSPECIFIED_MONTH = re.compile(r"(\d{4})-(XX|0[1-9]|1[0-2])-XX[~?%]?|(\d{4})-XX[~?%]?")


# What a date looks like, for messages that refuse one.
_FORMS = (
    "EDTF dates: 2024-03-19, 2017-05 for a month, 2019 for a year, 2019-41 for the second half "
    "of 2019, 2012~ for approximate, 2017-06-29/2017-06-30 for an interval"
)
_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name} | {
    name.lower(): number for number, name in enumerate(calendar.month_abbr) if name
}


class DateError(ValueError):
    """A value that is not an EDTF date or interval this ledger accepts."""


_set = object.__setattr__


class Edtf:
    """An EDTF value as entered, with its earliest and latest possible days.

    `day` is the latest possible day of the value, or of its start for an interval: the day
    by which it had certainly happened. Immutable. A plain class, not a Struct or dataclass:
    msgspec, which decodes the thing states the read model keeps, then hands an Edtf field's
    text to a hook (`projections.things`) instead of expecting an object.
    """

    __slots__ = ("day", "earliest", "latest", "text")
    text: str
    day: date
    earliest: date
    latest: date

    def __init__(self, text: str, day: date, earliest: date, latest: date) -> None:
        _set(self, "text", text)  # written out, not looped: a busy pair's answer makes 100,000s
        _set(self, "day", day)
        _set(self, "earliest", earliest)
        _set(self, "latest", latest)

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError(f"an Edtf is immutable: cannot set {name}")

    __delattr__ = __setattr__

    def _fields(self) -> tuple[str, date, date, date]:
        return (self.text, self.day, self.earliest, self.latest)

    def __eq__(self, other: object) -> bool:
        return self._fields() == other._fields() if type(other) is Edtf else NotImplemented

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return f"Edtf({self.text!r})"

    def __str__(self) -> str:
        return self.text

    @property
    def is_interval(self) -> bool:
        return "/" in self.text

    @property
    def is_precise(self) -> bool:
        return self.earliest == self.latest and self.text[-1] not in "~?%"


def parse_edtf(text: str) -> Edtf:
    """Parse an EDTF date or closed interval, checked against the calendar."""
    return _parse(text)


def ascii_digits(text: str) -> str:
    """A date or duration as a new event keeps it: digits of another script (２０１９, ٢٠١٩) written
    in ASCII, as EDTF and ISO 8601 have them. Events stored with such digits still read."""
    if text.isascii():
        return text
    import unicodedata  # only for the rare text that needs it

    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)


def parse_asked(text: str) -> Edtf:
    """A date a person asks about (--as-of, --from, a page's as_of): EDTF as `parse_edtf` reads
    it, in ASCII digits as an event keeps its dates, so that an answer names the day as EDTF
    writes it (--as-of ２０１９ answers as of 2019)."""
    return parse_edtf(ascii_digits(text))


def today() -> Edtf:
    """Today as the ledger counts days: the date in UTC."""
    return parse_edtf(datetime.now(UTC).date().isoformat())


@lru_cache(maxsize=65536)
def _parse(text: str) -> Edtf:
    if not isinstance(text, str) or not text:
        raise DateError("an EDTF date is required, for example 2024-03-19, 2017-05 or 2019")
    if len(text) == 10 and text[4] == text[7] == "-" and text.isascii():
        try:  # the commonest form, a day (YYYY-MM-DD), read in C
            day = date.fromisoformat(text)
        except ValueError:
            pass  # not a calendar day: the checks below say why
        else:
            return Edtf(text, day, day, day)
    if text != "".join(text.split()):
        raise DateError(_refusal(text, f"{text!r} contains white space"))
    if text[0] in "[{":
        raise DateError(f"{text!r} is a set of dates; give one date or an interval")
    if "/" not in text:
        earliest, latest = _bounds(text)
        return Edtf(text, latest, earliest, latest)
    start, _, end = text.partition("/")
    if start in ("", "..") or end in ("", "..") or "/" in end:
        raise DateError(f"{text!r} is an open interval; give both ends, for example 2017-06-29/2017-06-30")
    if not (_plain(start) and _plain(end)):
        _library_parse(text)
    start_earliest, start_latest = _bounds(start)
    _, end_latest = _bounds(end)
    if start_earliest > end_latest:
        raise DateError(f"{text!r} ends before it starts")
    return Edtf(text, start_latest, start_earliest, end_latest)


def _plain(text: str) -> re.Match[str] | None:
    """A plain year, month or day: not a season (months 21-41 are seasons in EDTF)."""
    plain = _PLAIN.fullmatch(text)
    return plain if plain and (plain[2] is None or "01" <= plain[2] <= "12") else None


def _bounds(text: str) -> tuple[date, date]:
    """The earliest and latest possible day of a single EDTF value."""
    plain = _plain(text)
    if plain:
        return _plain_bounds(text, *plain.groups())
    season = _SEASON.fullmatch(text)
    if season and season[1] != "0000":
        first, last = _SEASON_MONTHS[int(season[2])]
        year = int(season[1])
        return date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1])
    unspecified = _unspecified_bounds(text)
    return unspecified if unspecified else _library_bounds(text)


def _unspecified_bounds(text: str) -> tuple[date, date] | None:
    years = _UNSPECIFIED_YEAR.fullmatch(text)
    if years:
        first, last = int(years[1].replace("X", "0")), int(years[1].replace("X", "9"))
    else:
        months = _UNSPECIFIED_MONTH.fullmatch(text)
        if not months:
            return None
        first = last = int(months[1] or months[3])
        if months[2] and months[2] != "XX":
            month = int(months[2])
            if first == 0:
                raise DateError(f"{text!r} is not a calendar date between 0001 and 9999")
            return date(first, month, 1), date(first, month, calendar.monthrange(first, month)[1])
    if first == 0:
        raise DateError(f"{text!r} is not a calendar date between 0001 and 9999")
    return date(first, 1, 1), date(last, 12, 31)


def _plain_bounds(text: str, year: str, month: str | None, day: str | None) -> tuple[date, date]:
    y = int(year)
    if y == 0:
        raise DateError(f"{text!r}: year 0000 is outside the calendar this ledger keeps (0001-9999)")
    if month is None:
        return date(y, 1, 1), date(y, 12, 31)
    m = int(month)
    last = calendar.monthrange(y, m)[1]
    if day is None:
        return date(y, m, 1), date(y, m, last)
    d = int(day)
    if not 1 <= d <= last:
        raise DateError(f"{text!r} is not a calendar date")
    return date(y, m, d), date(y, m, d)


def _library_bounds(text: str) -> tuple[date, date]:
    value = _library_parse(text)
    try:
        lower, upper = value.lower_strict(), value.upper_strict()
        earliest, latest = date(*lower[:3]), date(*upper[:3])
    except (ValueError, TypeError, OverflowError):
        raise DateError(f"{text!r} is not a calendar date between 0001 and 9999") from None
    if earliest > latest:
        raise DateError(f"{text!r} ends before it starts")
    return earliest, latest


def _library_parse(text: str):  # type: ignore[no-untyped-def]
    from edtf import parse_edtf as library_parse
    from edtf.parser import parser_classes

    # The library prints to standard output when a form it half-recognises fails to build
    # ('2019-0X-00'), and then fails with whatever error its classes raise: every failure of
    # it is a date refused. Its print goes nowhere: a `print` of that module's own shadows the
    # built-in there alone (swapping sys.stdout would silence every thread of `serve` too).
    parser_classes.print = _silent  # type: ignore[attr-defined]
    try:
        return library_parse(text)
    except Exception:
        raise DateError(_refusal(text, f"{text!r} is not an EDTF date")) from None


def _silent(*_: object, **__: object) -> None:
    pass


def _refusal(text: str, problem: str) -> str:
    """Why a date is refused, with the forms accepted, and the date meant where it can be read."""
    meant = _as_written(text)
    return f"{text!r} is not an EDTF date: write {meant} ({_FORMS})" if meant else f"{problem} ({_FORMS})"


def _as_written(text: str) -> str | None:
    """The EDTF of a date written with a month's name: 'January 2019' is 2019-01, '23 Jan 2019' 2019-01-23."""
    words = re.findall(r"[^\W\d_]+|\d+", text)
    months = [_MONTHS[word.lower()] for word in words if word.lower() in _MONTHS]
    numbers = [word for word in words if word.isdecimal()]
    years = [number for number in numbers if len(number) == 4]
    days = [int(number) for number in numbers if len(number) <= 2]
    if len(months) != 1 or len(years) != 1 or len(days) > 1 or len(words) != len(months) + len(numbers):
        return None
    meant = f"{years[0]}-{months[0]:02d}"
    if days:
        if not 1 <= days[0] <= calendar.monthrange(int(years[0]), months[0])[1]:
            return None
        meant += f"-{days[0]:02d}"
    return meant


_DURATION = re.compile(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?")


class Duration(Struct, frozen=True):
    """An ISO 8601 duration of whole years, months, weeks and days (`P5Y`, `P6M`, `P180D`), as entered."""

    text: str
    months: int
    days: int

    def after(self, day: date, times: int = 1) -> date:
        """The day this long (`times` over) after a day; a month end is clamped (31 Jan + P1M: 28 Feb)."""
        return _shift(day, self.months * times, self.days * times)

    def before(self, day: date) -> date:
        return _shift(day, -self.months, -self.days)


def _shift(day: date, months: int, days: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    try:
        shifted = date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))
        return shifted + timedelta(days=days)
    except (ValueError, OverflowError):  # beyond the calendar: as far as it goes
        return date.max if months + days > 0 else date.min


def parse_duration(text: str) -> Duration:
    """An ISO 8601 duration of whole years, months, weeks and days: P5Y, P6M, P1Y6M, P2W, P180D."""
    found = _DURATION.fullmatch(text) if isinstance(text, str) else None
    if not found or text == "P":
        raise DateError(f"{text!r} is not a duration: write P5Y (5 years), P6M (6 months), P2W or P180D")
    years, months, weeks, days = (int(part or 0) for part in found.groups())
    if not years + months + weeks + days:
        raise DateError(f"{text!r} is no time at all: a duration is at least a day")
    return Duration(text, years * 12 + months, weeks * 7 + days)


# The calendar furthest ahead (Kiribati, UTC+14): a meeting held this morning in Seoul is
# never "in the future" on a server in UTC.
_FURTHEST_AHEAD = timezone(timedelta(hours=14))


def latest_today() -> date:
    """Today where the calendar is furthest ahead: no fact can have happened after it."""
    return datetime.now(_FURTHEST_AHEAD).date()


# How the ledger writes a recording time: UTC, microseconds, one fixed width.
RECORDING_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")


def latest_day_at(recorded_at: str) -> date:
    """The day it was where the calendar is furthest ahead at a recording time: the day no fact
    recorded then can be after (the append rules and `verify` agree on it)."""
    if not RECORDING_TIME.fullmatch(recorded_at):
        raise DateError(f"{recorded_at!r} is not a recording time (YYYY-MM-DDTHH:MM:SS.ffffffZ)")
    return _latest_day_at_hour(recorded_at[:13])


@lru_cache(maxsize=4096)
def _latest_day_at_hour(hour: str) -> date:
    try:
        return (datetime.fromisoformat(f"{hour}:00:00+00:00").astimezone(_FURTHEST_AHEAD)).date()
    except ValueError:
        raise DateError(f"{hour!r} is not a recording time") from None


_DURATION_PARTS = re.compile(r"(\d+)([YMWD])")


def shifted(day: date, duration: str, times: int = 1) -> date:
    """A day moved by `times` an ISO 8601 duration (P5Y, P6M, P1Y6M, P90D; negative: back),
    counted from that day in one step, a month end clamped: 2024-01-31 + 1 x P1M is 2024-02-29
    and + 2 x P1M is 2024-03-31."""
    parts = {unit: int(count) for count, unit in _DURATION_PARTS.findall(duration)}
    months = day.year * 12 + day.month - 1 + times * (12 * parts.get("Y", 0) + parts.get("M", 0))
    year, month = divmod(months, 12)
    if not 1 <= year <= 9999:
        raise DateError(f"{day.isoformat()} moved by {times} x {duration} leaves the calendar (0001-9999)")
    moved = date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))
    return moved + timedelta(days=times * (7 * parts.get("W", 0) + parts.get("D", 0)))


def rough_days(duration: str) -> int:
    """About how many days a duration lasts (a year 365 days, a month 30): enough to skip ahead."""
    parts = {unit: int(count) for count, unit in _DURATION_PARTS.findall(duration)}
    return max(
        1, 365 * parts.get("Y", 0) + 30 * parts.get("M", 0) + 7 * parts.get("W", 0) + parts.get("D", 0)
    )

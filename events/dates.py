"""EDTF dates: parsed as entered, each with the days it can fall on."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache

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


class DateError(ValueError):
    """A value that is not an EDTF date or interval this ledger accepts."""


@dataclass(frozen=True, slots=True)
class Edtf:
    """An EDTF value as entered, with its earliest and latest possible days.

    `day` is the latest possible day of the value, or of its start for an interval: the day
    by which it had certainly happened.
    """

    text: str
    day: date
    earliest: date
    latest: date

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


def today() -> Edtf:
    """Today as the ledger counts days: the date in UTC."""
    return parse_edtf(datetime.now(UTC).date().isoformat())


@lru_cache(maxsize=65536)
def _parse(text: str) -> Edtf:
    if not isinstance(text, str) or not text:
        raise DateError("an EDTF date is required, for example 2024-03-19, 2017-05 or 2019")
    if text != "".join(text.split()):
        raise DateError(f"{text!r} contains white space")
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
    from edtf.parser.edtf_exceptions import EDTFParseException

    try:
        return library_parse(text)
    except (EDTFParseException, ValueError, TypeError):
        raise DateError(
            f"{text!r} is not an EDTF date (write 2024-03-19, 2017-05, 2019, 2019-41 for the "
            "second half of 2019, 2012~ for approximate, or an interval like 2017-06-29/2017-06-30)"
        ) from None


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

"""The watch list: what falls due across every relationship between a day and a later one —
instruments expiring or up for renewal notice, projects reaching their planned end, meetings
planned and meetings overdue (SPEC sections 4 and 6, `upcoming`). Pure: over things as of the day."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from ..events import parse_edtf
from ..events.dates import Duration, parse_duration
from .instruments import Instrument
from .meetings import Meeting
from .membership import relationship_id
from .projects import Project
from .relationship import instrument_view
from .summary import ordinal

# The order of rows on one day.
WHAT = ("overdue", "notice_by", "renewal", "expiry", "project_end", "meeting")


def upcoming(
    things: Iterable[Instrument | Project | Meeting],
    as_of: date,
    until: date,
    series_titles: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """One row per thing and `what` falling due from `as_of` to `until` (and every meeting overdue
    on `as_of`), by date. Deadlines of an instrument run from the earliest day of its expiry, so
    that none is shown late; a project's end and a meeting's date are their days."""
    rows: list[dict[str, Any]] = []
    for thing in things:
        match thing:
            case Instrument():
                rows += _instrument_rows(thing, as_of, until)
            case Project() if not thing.ended and thing.end and as_of <= thing.end.day <= until:
                rows.append(
                    _row(thing.end.day, thing.end.text, "project_end", thing, thing.project, thing.title)
                )
            case Meeting() if thing.announced and (thing.overdue(as_of) or thing.coming(as_of)):
                planned = thing.announced.planned_for
                if planned.day <= until:
                    what = "overdue" if thing.overdue(as_of) else "meeting"
                    title = _meeting_title(thing, series_titles or {})
                    rows.append(_row(planned.day, planned.text, what, thing, thing.meeting, title))
    return sorted(rows, key=lambda row: (row["date"], WHAT.index(row["what"]), row["id"]))


def may_fall_due(thing: Instrument | Project | Meeting, as_of: date) -> bool:
    """Whether a thing as the ledger holds it now (every event folded, whatever its day) may fall
    due on or after a day: a cheap test before folding it as of that day. Later events only
    extend an expiry or an end, and an end or a holding by the day stays."""
    match thing:
        case Instrument():
            ends = [e.expires_on for e in thing.extensions] + ([thing.expires_on] if thing.expires_on else [])
            return not (thing.terminated_on and thing.terminated_on.day <= as_of) and (
                getattr(thing, "renewal", None) is not None or any(end.day >= as_of for end in ends)
            )
        case Project():
            ends = [e.expires_on for e in thing.extensions] + (
                [thing.planned_end] if thing.planned_end else []
            )
            return not (thing.ended_on and thing.ended_on.day <= as_of) and any(
                end.day >= as_of for end in ends
            )
        case Meeting():
            held = thing.held and thing.held.occurred_on.day <= as_of
            cancelled = thing.cancelled_on and thing.cancelled_on.day <= as_of
            return thing.announced is not None and not held and not cancelled
    return False


def _row(day: date, as_entered: str, what: str, thing: Any, id_: str, title: str | None) -> dict[str, Any]:
    parties = list(thing.parties)
    return {
        "date": day.isoformat(),
        "as_entered": as_entered,
        "what": what,
        "relationship": relationship_id(*parties) if len(parties) == 2 else None,
        "parties": parties,
        "id": id_,
        "title": title,
    }


def _meeting_title(meeting: Meeting, series_titles: dict[str, str]) -> str | None:
    series = meeting.series
    if series is None:
        return None
    title = series_titles.get(series, series)
    return f"{ordinal(meeting.number)} {title}" if meeting.number else title


def _instrument_rows(instrument: Instrument, as_of: date, until: date) -> Iterator[dict[str, Any]]:
    """An instrument's expiry or, renewing itself, the end of each term and its notice deadline."""
    view = instrument_view(instrument, as_of)
    if view["status"] in ("terminated", "superseded") or not view["expires_on"]:
        return
    expires = parse_edtf(view["expires_on"])
    row = lambda day, what: _row(day, expires.text, what, instrument, instrument.instrument, instrument.title)
    # `renewal` {term, notice} comes with the membership and renewal fields of version 2: the
    # instrument view has it once they are merged; until then every instrument simply expires.
    renewal = view.get("renewal")
    if not renewal:
        if expires.earliest <= until and expires.day >= as_of:  # may still come: never hidden as late
            yield row(expires.earliest, "expiry")
        return
    term = parse_duration(renewal["term"])
    notice = parse_duration(renewal["notice"]) if renewal.get("notice") else None
    for k in _terms_from(term, expires.earliest, as_of):
        ends, ends_at_latest = term.after(expires.earliest, k), term.after(expires.day, k)
        if notice and notice.before(ends) <= until and notice.before(ends_at_latest) >= as_of:
            yield row(notice.before(ends), "notice_by")
        if ends > until:
            return
        if ends_at_latest >= as_of:
            yield row(ends, "renewal")


def _terms_from(term: Duration, start: date, as_of: date) -> Iterator[int]:
    """k = 0, 1, 2 … from a term that ends before a day (a term is at most 31 days a month long)."""
    k = max(0, (as_of - start).days // (term.months * 31 + term.days) - 1)
    while True:
        yield k
        k += 1

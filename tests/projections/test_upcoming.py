"""The watch list: deadlines from the earliest day of an imprecise expiry, ends and meetings by their days."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from coopledger.events.dates import parse_duration
from coopledger.projections import upcoming as watch
from coopledger.projections.relationship import fold
from support import entry

KOR_CHN = ["KOR", "CHN"]


def things(*entries: Any, as_of: str = "2030-12-31") -> list[Any]:
    folded = fold(entries, date.fromisoformat(as_of))
    return [*folded.of("instrument"), *folded.of("project"), *folded.of("meeting")]


def due(entries: list[Any], as_of: str, until: str) -> list[tuple[str, str, str]]:
    rows = watch.upcoming(things(*entries, as_of=as_of), date.fromisoformat(as_of), date.fromisoformat(until))
    return [(row["date"], row["what"], row["id"]) for row in rows]


def signed(expires_on: str | None, instrument: str = "a", position: int = 1) -> Any:
    data = {"expires_on": expires_on} if expires_on else {}
    return entry(
        position,
        "InstrumentSigned",
        "2012-01-23",
        instrument=instrument,
        kind="mou",
        title="t",
        parties=KOR_CHN,
        **data,
    )


@pytest.mark.parametrize(
    ("as_of", "until", "shown"),
    [
        ("2023-12-31", "2024-06-30", [("2024-01-01", "expiry", "a")]),  # the earliest day, never late
        ("2023-12-31", "2023-12-31", []),  # the window ends the day before the earliest day
        ("2024-06-30", "2024-12-31", [("2024-01-01", "expiry", "a")]),  # may still come: not hidden
        ("2024-12-31", "2025-06-30", [("2024-01-01", "expiry", "a")]),  # its last possible day
        ("2025-01-01", "2025-06-30", []),  # certainly expired
    ],
)
def test_an_imprecise_expiry_is_due_from_its_earliest_day_until_it_has_certainly_come(
    as_of: str, until: str, shown: list[tuple[str, str, str]]
) -> None:
    assert due([signed("2024")], as_of, until) == shown


def test_an_extension_counts_from_its_day_and_a_termination_ends_the_watch() -> None:
    extended = entry(2, "InstrumentExtended", "2019-06", instrument="a", expires_on="2025-12-31")
    assert due([signed("2019-12-31"), extended], "2019-05-31", "2020-06-30") == [
        ("2019-12-31", "expiry", "a")
    ]
    assert due([signed("2019-12-31"), extended], "2019-06-30", "2020-06-30") == []
    assert due([signed("2019-12-31"), extended], "2025-07-01", "2025-12-31") == [
        ("2025-12-31", "expiry", "a")
    ]
    terminated = entry(3, "InstrumentTerminated", "2025-03", instrument="a")
    assert due([signed("2019-12-31"), extended, terminated], "2025-07-01", "2025-12-31") == []


def test_projects_end_and_meetings_fall_on_their_days_overdue_ones_always_listed() -> None:
    launched = entry(
        1, "ProjectLaunched", "2017-05", project="p", title="t", parties=KOR_CHN, planned_end="2020"
    )
    scheduled = entry(
        2, "MeetingScheduled", "2019-01-23", meeting="m", parties=KOR_CHN, planned_for="2019-41"
    )
    older = entry(3, "MeetingScheduled", "2014", meeting="o", parties=[*KOR_CHN, "JPN"], planned_for="2014")
    entries = [launched, scheduled, older]
    assert due(entries, "2019-06-30", "2019-12-30") == [("2014-12-31", "overdue", "o")]
    assert due(entries, "2019-06-30", "2020-12-31") == [
        ("2014-12-31", "overdue", "o"),
        ("2019-12-31", "meeting", "m"),
        ("2020-12-31", "project_end", "p"),
    ]
    assert due(entries, "2020-01-01", "2020-12-30") == [
        ("2014-12-31", "overdue", "o"),
        ("2019-12-31", "overdue", "m"),
    ]
    completed = entry(4, "ProjectCompleted", "2020-06", project="p")
    held = entry(5, "MeetingHeld", "2019-11", meeting="m", parties=KOR_CHN)
    assert due([*entries, completed, held], "2019-06-30", "2020-12-31") == [
        ("2014-12-31", "overdue", "o"),
        ("2019-12-31", "meeting", "m"),  # held only in November: as of June it was planned
        ("2020-12-31", "project_end", "p"),
    ]
    assert due([*entries, completed, held], "2020-07-01", "2020-12-31") == [("2014-12-31", "overdue", "o")]
    rows = watch.upcoming(things(*entries), date(2019, 6, 30), date(2020, 12, 31))
    assert rows[1] == {
        "date": "2019-12-31",
        "as_entered": "2019-41",
        "what": "meeting",
        "relationship": "CHN~KOR",
        "parties": ["KOR", "CHN"],
        "id": "m",
        "title": None,
    }
    assert rows[0]["relationship"] is None  # three parties: no one relationship


def test_a_self_renewing_instrument_has_term_ends_and_notice_deadlines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `renewal` comes with the version 2 instrument fields; here the view is given one.
    view = watch.instrument_view
    renewing = lambda instrument, as_of: {
        **view(instrument, as_of),
        "renewal": {"term": "P5Y", "notice": "P6M"},
    }
    monkeypatch.setattr(watch, "instrument_view", renewing)
    # Expiring "2024": terms end from 2024-01-01 for deadlines, every five years.
    assert due([signed("2024")], "2023-06-30", "2024-06-30") == [
        ("2023-07-01", "notice_by", "a"),
        ("2024-01-01", "renewal", "a"),
    ]
    assert due([signed("2024")], "2025-01-01", "2029-12-31") == [
        ("2028-07-01", "notice_by", "a"),
        ("2029-01-01", "renewal", "a"),
    ]
    # The term may end as late as the as-of day: listed from its earliest day.
    assert due([signed("2024")], "2034-12-31", "2035-01-01") == [("2034-01-01", "renewal", "a")]
    # A month end is clamped.
    assert due([signed("2024-02-29")], "2029-01-01", "2029-12-31") == [("2029-02-28", "renewal", "a")]
    # Far from the first term, every term counted (2030 to 2130), and the notice of 2030's term,
    # due between 2029-07-01 and 2030-06-30, not hidden.
    far = due([signed("1990")], "2030-01-01", "2130-01-01")
    assert len(far) == 42 and far[:2] == [("2029-07-01", "notice_by", "a"), ("2030-01-01", "renewal", "a")]


def test_a_thing_held_now_may_fall_due_only_if_its_state_allows() -> None:
    [mou] = things(signed("2019-12-31"))
    assert watch.may_fall_due(mou, date(2019, 12, 31)) and not watch.may_fall_due(mou, date(2020, 1, 1))
    [open_ended] = things(signed(None))
    assert not watch.may_fall_due(open_ended, date(2000, 1, 1))


def test_durations() -> None:
    assert parse_duration("P1M").after(date(2019, 1, 31)) == date(2019, 2, 28)
    assert parse_duration("P1Y6M").after(date(2019, 8, 31), 2) == date(2022, 8, 31)
    assert parse_duration("P2W").before(date(2019, 1, 10)) == date(2018, 12, 27)
    for bad in ("P", "P0D", "5Y", "P1.5Y", "p1y"):
        with pytest.raises(ValueError):
            parse_duration(bad)

"""The pure folds: membership, counting as of a day, known at a time, statuses, next meeting."""

from __future__ import annotations

import pytest
from coopledger.events import parse_edtf
from coopledger.projections.membership import relationships
from coopledger.projections.relationship import Entry, counted, history, state
from support import entry, event_id, retraction

COUNTRIES = {"NIES": "JPN", "NIER": "KOR", "CRAES": "CHN"}


def test_organisations_roll_up_to_their_states() -> None:
    assert relationships(["NIES", "NIER"], COUNTRIES.get) == {
        "NIER~NIES": True,
        "KOR~NIES": False,
        "JPN~NIER": False,
        "JPN~KOR": False,
    }
    # An agency and its own state form only their exact pair.
    assert relationships(["KOR", "NIER"], COUNTRIES.get) == {"KOR~NIER": True}
    assert set(relationships(["KOR", "CHN", "JPN"], COUNTRIES.get)) == {"CHN~KOR", "CHN~JPN", "JPN~KOR"}


SIGNED = entry(
    1,
    "InstrumentSigned",
    "2012-01-23",
    instrument="a",
    kind="agreement",
    title="t",
    parties=["KOR", "USA"],
    expires_on="2015-12-31",
)
IN_FORCE = entry(2, "InstrumentEnteredIntoForce", "2012-03-15", instrument="a")
EXTENDED = entry(3, "InstrumentExtended", "2015-06", instrument="a", expires_on="2020-12-31")


def statuses(entries: list[Entry], as_of: str, known_at: str | None = None) -> tuple[str, str | None]:
    instrument = state("KOR~USA", entries, parse_edtf(as_of), known_at)["instruments"][0]
    return instrument["status"], instrument["expires_on"]


def test_an_agreement_is_signed_then_in_force_then_expired_unless_extended() -> None:
    assert statuses([SIGNED, IN_FORCE], "2012-02") == ("signed", "2015-12-31")
    assert statuses([SIGNED, IN_FORCE], "2012-03-15") == ("in_force", "2015-12-31")
    assert statuses([SIGNED, IN_FORCE], "2016-01-01") == ("expired", "2015-12-31")
    assert statuses([SIGNED, IN_FORCE, EXTENDED], "2016-01-01") == ("in_force", "2020-12-31")
    # An extension decided in June 2015 counts only once June 2015 is over.
    assert statuses([SIGNED, IN_FORCE, EXTENDED], "2015-06-29") == ("in_force", "2015-12-31")
    terminated = entry(4, "InstrumentTerminated", "2017", instrument="a")
    assert statuses([SIGNED, IN_FORCE, EXTENDED, terminated], "2030") == ("terminated", "2020-12-31")


def test_retractions_count_from_when_they_were_recorded() -> None:
    later = "2025-01-01T00:00:00.000000Z"
    retracted = Entry(EXTENDED.event, True, False, retraction(4, 3, later).event)
    assert statuses([SIGNED, IN_FORCE, retracted], "2016-01-01") == ("expired", "2015-12-31")
    assert statuses([SIGNED, IN_FORCE, retracted], "2016-01-01", "2024-12-31T23:59:59.999999Z") == (
        "in_force",
        "2020-12-31",
    )
    marked = history([SIGNED, IN_FORCE, retracted])
    assert [(e["position"], e["retracted"]) for e in marked] == [(1, False), (2, False), (3, True)]
    assert marked[2]["retracted_by"] == event_id(4) and marked[2]["reason"] == "mistake"
    assert history([SIGNED, retracted], known_at="2024-06-01T00:00:00.000000Z")[1]["retracted"] is False


def test_events_recorded_after_known_at_do_not_count() -> None:
    late = entry(2, "InstrumentEnteredIntoForce", "2012-03-15", "2025-01-01T00:00:00.000000Z", instrument="a")
    assert statuses([SIGNED, late], "2014", "2024-12-31T23:59:59.999999Z")[0] == "signed"
    assert statuses([SIGNED, late], "2014")[0] == "in_force"


def test_exact_leaves_out_rolled_up_events_and_order_is_by_day_then_position() -> None:
    rolled = entry(5, "MeetingHeld", "2012", exact=False, meeting="m", parties=["NIES", "NIER"])
    early = entry(6, "MeetingHeld", "2011-05", meeting="n", parties=["KOR", "JPN"])
    assert [e.event.position for e in counted([rolled, early], parse_edtf("2013").day)] == [6, 5]
    assert [e.event.position for e in counted([rolled, early], parse_edtf("2013").day, exact=True)] == [6]


def test_the_next_meeting_is_announced_and_not_held_earliest_planned_first() -> None:
    entries = [
        entry(
            1,
            "MeetingScheduled",
            "2019-01-23",
            meeting="jc-24",
            parties=["KOR", "CHN"],
            planned_for="2019-41",
            host="CHN",
        ),
        entry(
            2, "MeetingScheduled", "2019-01-23", meeting="wl", parties=["KOR", "CHN"], planned_for="2019-02"
        ),
        entry(3, "MeetingHeld", "2019-02-20", meeting="wl", parties=["KOR", "CHN"]),
        entry(
            4,
            "MeetingScheduled",
            "2019-06",
            meeting="jc-24",
            parties=["KOR", "CHN"],
            planned_for="2019-11",
            host="CHN",
        ),
    ]
    meetings = lambda on: state("CHN~KOR", entries, parse_edtf(on))["meetings"]
    assert meetings("2019-01-31")["next"] == {"meeting": "wl", "planned_for": "2019-02", "host": None}
    assert meetings("2019-03")["next"] == {"meeting": "jc-24", "planned_for": "2019-41", "host": "CHN"}
    # Rescheduled: the latest counted announcement wins.
    assert meetings("2019-07")["next"]["planned_for"] == "2019-11"
    # Its planned day has passed and it is not known to have been held: overdue, not next.
    assert meetings("2020-06")["next"] is None
    assert meetings("2020-06")["overdue"] == [
        {"meeting": "jc-24", "announced_on": "2019-06", "planned_for": "2019-11"}
    ]
    assert meetings("2018")["next"] is None


def _announced(position: int, meeting: str, on: str, planned_for: str) -> Entry:
    return entry(
        position, "MeetingScheduled", on, meeting=meeting, parties=["KOR", "CHN"], planned_for=planned_for
    )


def test_next_holds_on_its_planned_day_and_overdue_begins_the_day_after() -> None:
    entries = [_announced(1, "m", "2019-01-10", "2019-03-05")]
    meetings = lambda on: state("CHN~KOR", entries, parse_edtf(on))["meetings"]
    assert meetings("2019-03-05")["next"] == {"meeting": "m", "planned_for": "2019-03-05", "host": None}
    assert meetings("2019-03-05")["overdue"] == []
    assert meetings("2019-03-06")["next"] is None
    assert [m["meeting"] for m in meetings("2019-03-06")["overdue"]] == ["m"]
    # An imprecise planned date is coming until its latest day.
    imprecise = [_announced(1, "m", "2019-01-10", "2019-41")]
    assert state("CHN~KOR", imprecise, parse_edtf("2019-12-31"))["meetings"]["next"]["meeting"] == "m"
    assert state("CHN~KOR", imprecise, parse_edtf("2020-01-01"))["meetings"]["overdue"][0]["meeting"] == "m"


def test_postponed_with_and_without_a_new_date_and_cancelled() -> None:
    entries = [
        _announced(1, "a", "2019-01-10", "2019-03-05"),
        _announced(2, "b", "2019-01-10", "2019-04-01"),
        entry(3, "MeetingPostponed", "2019-02-01", meeting="a", reason="storm"),
        entry(4, "MeetingPostponed", "2019-02-02", meeting="b", planned_for="2019-06"),
        _announced(5, "c", "2019-01-10", "2019-05-01"),
        entry(6, "MeetingCancelled", "2019-02-03", meeting="c"),
    ]
    meetings = lambda on: state("CHN~KOR", entries, parse_edtf(on))["meetings"]
    before = meetings("2019-01-31")
    assert before["next"]["meeting"] == "a" and before["postponed"] == []
    after = meetings("2019-02-28")
    # Postponed with no new date: neither next nor overdue, listed as postponed.
    assert after["postponed"] == [
        {
            "meeting": "a",
            "announced_on": "2019-01-10",
            "planned_for": "2019-03-05",
            "postponed_on": "2019-02-01",
        }
    ]
    # Postponed to a new date: the date moves; cancelled: gone from next and overdue.
    assert after["next"] == {"meeting": "b", "planned_for": "2019-06", "host": None}
    assert meetings("2019-07-01")["overdue"] == [
        {"meeting": "b", "announced_on": "2019-01-10", "planned_for": "2019-06"}
    ]
    # Rescheduled after a postponement: it has a date again.
    rescheduled = [*entries, _announced(7, "a", "2019-03-01", "2019-09")]
    assert state("CHN~KOR", rescheduled, parse_edtf("2019-08"))["meetings"]["postponed"] == []


def test_a_suspended_series_says_since_when_and_resumes() -> None:
    entries = [
        entry(1, "SeriesEstablished", "1993", series="jc", title="JC", parties=["KOR", "CHN"]),
        entry(2, "SeriesSuspended", "2015-06", series="jc", reason="pause"),
        entry(3, "SeriesResumed", "2018-02-01", series="jc"),
    ]
    series = lambda on: state("CHN~KOR", entries, parse_edtf(on))["meetings"]["series"][0]["suspended_since"]
    assert (series("2015-05"), series("2016"), series("2018-01-31"), series("2018-02-01")) == (
        None,
        "2015-06",
        "2015-06",
        None,
    )


def test_funding_totals_print_as_plain_decimals() -> None:
    launched = entry(
        1,
        "ProjectLaunched",
        "2000",
        project="p",
        title="t",
        parties=["KOR", "ASEAN"],
        funding=[{"amount": "1000.25", "currency": "USD"}],
    )
    funded = entry(2, "ProjectFunded", "2012", project="p", amount="250.25", currency="USD")
    won = entry(3, "ProjectFunded", "2012", project="p", amount=600000, currency="KRW")
    project = state("ASEAN~KOR", [launched, funded, won], parse_edtf("2013"))["projects"][0]
    assert project["funding"] == {"KRW": "600000", "USD": "1250.5"}


def test_a_renamed_party_is_named_as_of_each_day_and_in_other_languages() -> None:
    from coopledger.projections.parties import evolve_party, party_name

    registered = entry(
        1,
        "PartyRegistered",
        "2008",
        party="MEP",
        name="Ministry of Environmental Protection",
        kind="agency",
        country="CHN",
    )
    renamed = entry(
        2,
        "PartyRenamed",
        "2018-03",
        party="MEP",
        name="Ministry of Ecology and Environment",
        names={"zh": "生态环境部"},
    )
    party = evolve_party(evolve_party(None, registered.event), renamed.event)
    # "March 2018" is certain only on its last day.
    assert party_name("MEP", party, parse_edtf("2018-03-30").day) == "Ministry of Environmental Protection"
    assert party_name("MEP", party, parse_edtf("2018-03-31").day) == "Ministry of Ecology and Environment"
    assert party_name("MEP", party, parse_edtf("2019").day, "zh") == "生态环境部"
    # A language not recorded with the current name: the name itself.
    assert party_name("MEP", party, parse_edtf("2019").day, "ko") == "Ministry of Ecology and Environment"
    assert party_name("KOR", None, parse_edtf("2019").day) == "South Korea"

    names = {"MEP": party}
    name = lambda p, day: party_name(p, names.get(p), day)
    signed = entry(
        3, "InstrumentSigned", "2015", instrument="a", kind="mou", title="t", parties=["MEP", "KOR"]
    )
    again = entry(4, "InstrumentAmended", "2019", instrument="a", summary="s")
    assert state("KOR~MEP", [signed], parse_edtf("2019"), name=name)["party_names"] == {
        "KOR": "South Korea",
        "MEP": "Ministry of Ecology and Environment",
    }
    shown = history([signed, again], name=name)
    assert shown[0]["party_names"]["MEP"] == "Ministry of Environmental Protection"


@pytest.mark.parametrize(
    ("occurred_on", "earliest", "latest"),
    [
        ("2017-05", "2017-05-01", "2017-05-31"),  # a month
        ("2019", "2019-01-01", "2019-12-31"),  # a year
        ("2019-41", "2019-07-01", "2019-12-31"),  # the second half of a year
        ("2012-07/2013-06", "2012-07-01", "2012-07-31"),  # an interval: its start counts
        ("2017-06-29/2017-06-30", "2017-06-29", "2017-06-29"),  # an interval from a known day
        ("2012~", "2012-01-01", "2012-12-31"),  # approximate
        ("2012-05~", "2012-05-01", "2012-05-31"),
        ("2019-05-12", "2019-05-12", "2019-05-12"),  # a day: never only possible
    ],
)
def test_possibly_lists_what_may_have_happened_by_the_day(
    occurred_on: str, earliest: str, latest: str
) -> None:
    from datetime import date, timedelta

    launched = entry(1, "ProjectLaunched", occurred_on, project="p", title="t", parties=["KOR", "CHN"])
    first, last = date.fromisoformat(earliest), date.fromisoformat(latest)

    def answer(day: date) -> tuple[list[str], list[dict[str, str]]]:
        shown = state("CHN~KOR", [launched], parse_edtf(day.isoformat()))
        return [p["project"] for p in shown["projects"]], shown["possibly"]

    possibly = [{"type": "ProjectLaunched", "id": "p", "occurred_on": occurred_on}]
    assert answer(first - timedelta(days=1)) == ([], [])
    if first < last:
        assert answer(first) == ([], possibly)
        assert answer(last - timedelta(days=1)) == ([], possibly)
    assert answer(last) == (["p"], [])
    assert answer(last + timedelta(days=1)) == (["p"], [])


def test_an_event_of_a_thing_only_possibly_founded_is_listed_not_folded() -> None:
    signed = entry(
        1, "InstrumentSigned", "2017-05", instrument="m", kind="mou", title="t", parties=["KOR", "CHN"]
    )
    amended = entry(2, "InstrumentAmended", "2017-05-10", instrument="m", summary="s")
    shown = state("CHN~KOR", [signed, amended], parse_edtf("2017-05-15"))
    assert shown["instruments"] == []
    assert shown["possibly"] == [
        {"type": "InstrumentAmended", "id": "m", "occurred_on": "2017-05-10"},
        {"type": "InstrumentSigned", "id": "m", "occurred_on": "2017-05"},
    ]

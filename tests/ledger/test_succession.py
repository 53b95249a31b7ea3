"""A party succeeded by another (a merger, a reorganisation): the successor's relationships take
over the predecessor's history from the succession's day, marked `via`; on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from coopledger.events import parse_edtf
from coopledger.ledger.application import Ledger
from coopledger.ledger.errors import LedgerError


def event(type_: str, occurred_on: str, **data: Any) -> dict[str, Any]:
    return {"type": type_, "occurred_on": occurred_on, "data": data}


def register(party: str) -> dict[str, Any]:
    return event("PartyRegistered", "2010", party=party, name=f"Agency {party}", kind="agency", country="KOR")


def instruments(ledger: Ledger, a: str, b: str, on: str) -> list[str]:
    return [i["instrument"] for i in ledger.state(a, b, parse_edtf(on), exact=True)["instruments"]]


@pytest.fixture
def succeeded(ledger: Ledger) -> Ledger:
    for value in (
        *(register(party) for party in ("OLD-A", "NEW-B", "NEW-C", "LATER-D")),
        event(
            "InstrumentSigned", "2015", instrument="mou-a", kind="mou", title="t", parties=["OLD-A", "JPN"]
        ),
        event("MeetingHeld", "2016-03-02", meeting="m-1", parties=["OLD-A", "JPN", "NEW-C"]),
        event("PartySucceeded", "2018-06-01", party="OLD-A", successors=["NEW-B", "NEW-C"]),
    ):
        ledger.append(value)
    return ledger


def test_the_successors_take_over_from_the_succession_day(succeeded: Ledger) -> None:
    assert instruments(succeeded, "NEW-B", "JPN", "2018-05-31") == []
    assert instruments(succeeded, "NEW-B", "JPN", "2018-06-01") == ["mou-a"]
    assert instruments(succeeded, "NEW-C", "JPN", "2018-06-01") == ["mou-a"]
    history = succeeded.history("NEW-B", "JPN", exact=True)
    assert [(e["type"], e.get("via")) for e in history] == [
        ("InstrumentSigned", "OLD-A"),
        ("MeetingHeld", "OLD-A"),
    ]
    # The predecessor keeps its own history; successors form no pair with each other through it.
    assert instruments(succeeded, "OLD-A", "JPN", "2019") == ["mou-a"]
    assert [e["type"] for e in succeeded.history("NEW-B", "NEW-C", exact=True)] == []


def test_the_successors_take_over_the_predecessors_membership_periods(succeeded: Ledger) -> None:
    """SPEC section 3: things the predecessor belongs to carry on, its successors taking over
    its membership periods with action `succession`, from the succession's day."""

    def members(on: str) -> list[tuple[str, str, str, str | None]]:
        (mou,) = succeeded.state("NEW-B", "JPN", parse_edtf(on), exact=True)["instruments"] or [None]
        return [(m["party"], m["action"], m["joined_on"], m["bound_on"]) for m in mou["members"]]

    assert members("2018-06-01") == [
        ("OLD-A", "signature", "2015", "2015"),
        ("NEW-B", "succession", "2018-06-01", "2018-06-01"),
        ("NEW-C", "succession", "2018-06-01", "2018-06-01"),
        ("JPN", "signature", "2015", "2015"),
    ]
    before = succeeded.state("OLD-A", "JPN", parse_edtf("2018-05-31"), exact=True)["instruments"][0]
    assert [m["party"] for m in before["members"]] == ["OLD-A", "JPN"]  # no successor before its day
    succeeded.append(event("PartySucceeded", "2020-01-01", party="NEW-B", successors=["LATER-D"]))
    later = [m[:2] for m in members("2020-01-01")]
    assert ("LATER-D", "succession") in later  # transitive: NEW-B's successor, from its own day
    assert [m[:3] for m in members("2019-01-01")].count(("LATER-D", "succession", "2020-01-01")) == 0


def test_after_the_succession_day_the_predecessor_cannot_be_named(succeeded: Ledger) -> None:
    with pytest.raises(
        LedgerError,
        match=r"data.parties\[0\]: OLD-A was succeeded by NEW-B, NEW-C on 2018-06-01; name its successor",
    ):
        succeeded.append(event("MeetingHeld", "2019-02", meeting="m-2", parties=["OLD-A", "JPN"]))
    with pytest.raises(LedgerError, match=r"data.party: OLD-A was already succeeded"):
        succeeded.append(event("PartySucceeded", "2019", party="OLD-A", successors=["LATER-D"]))
    # Back-filled: a fact of before the succession, recorded after it, is taken over too.
    succeeded.append(
        event("InstrumentSigned", "2017", instrument="mou-b", kind="mou", title="t", parties=["OLD-A", "JPN"])
    )
    assert instruments(succeeded, "NEW-B", "JPN", "2018-06-01") == ["mou-a", "mou-b"]
    assert instruments(succeeded, "NEW-B", "JPN", "2018-05-31") == []


def test_succession_is_transitive_and_a_retracted_succession_hands_nothing_over(succeeded: Ledger) -> None:
    later = succeeded.append(event("PartySucceeded", "2020-01-10", party="NEW-B", successors=["LATER-D"]))
    assert instruments(succeeded, "LATER-D", "JPN", "2020-01-09") == []
    assert instruments(succeeded, "LATER-D", "JPN", "2020-01-10") == ["mou-a"]
    assert {e.get("via") for e in succeeded.history("LATER-D", "JPN", exact=True)} == {"OLD-A"}
    before = succeeded.state("LATER-D", "JPN", parse_edtf("2021"))
    assert succeeded.rebuild() > 0
    assert succeeded.state("LATER-D", "JPN", parse_edtf("2021")) == before
    succeeded.append(
        {"type": "EventRetracted", "data": {"event": later.position, "reason": "recorded in error"}}
    )
    assert instruments(succeeded, "LATER-D", "JPN", "2021") == []
    assert instruments(succeeded, "NEW-B", "JPN", "2021") == ["mou-a"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (event("PartySucceeded", "2018", party="KOR", successors=["NEW-B"]), r"data.party: KOR is a state"),
        (
            event("PartySucceeded", "2018", party="OLD-A", successors=["OLD-A"]),
            r"data.successors\[0\]: OLD-A is the predecessor itself",
        ),
        (
            event("PartySucceeded", "2018", party="OLD-A", successors=["NEW-B", "NEW-B"]),
            r"data.successors\[1\]: names NEW-B twice",
        ),
        (
            event("PartySucceeded", "2018", party="OLD-A", successors=["JPN"]),
            r"data.successors\[0\]: JPN is a state",
        ),
    ],
)
def test_a_succession_names_registered_parties(ledger: Ledger, value: dict[str, Any], message: str) -> None:
    for party in ("OLD-A", "NEW-B"):
        ledger.append(register(party))
    with pytest.raises(LedgerError, match=message):
        ledger.append(value)


def test_export_then_import_keeps_names_successions_and_meeting_life_cycles(
    succeeded: Ledger, tmp_path: Any
) -> None:
    for value in (
        event("PartyRenamed", "2012", party="OLD-A", name="Agency A, renamed", names={"ko": "에이"}),
        event("SeriesEstablished", "2011", series="jc", title="JC", parties=["OLD-A", "JPN"]),
        event("SeriesSuspended", "2013", series="jc", reason="pause"),
        event("MeetingScheduled", "2016-01", meeting="jc-1", parties=["NEW-C", "JPN"], planned_for="2016-06"),
        event("MeetingPostponed", "2016-03", meeting="jc-1"),
        event("MeetingScheduled", "2016-01", meeting="jc-2", parties=["NEW-C", "JPN"], planned_for="2016-09"),
        event("MeetingCancelled", "2016-04", meeting="jc-2", reason="budget"),
    ):
        succeeded.append(value)
    exported = tmp_path / "export.jsonl"
    exported.write_bytes(b"".join(state + b"\n" for state in succeeded.export()))
    from coopledger.ledger.store import locate

    copy = Ledger(locate(str(tmp_path / "copy.sqlite")), actor="other")
    try:
        assert copy.import_lines(exported.open("rb")).recorded == succeeded.verify().events
        for a, b in (("NEW-B", "JPN"), ("NEW-C", "JPN"), ("OLD-A", "JPN")):
            for on in ("2016-05", "2019"):
                assert copy.state(a, b, parse_edtf(on)) == succeeded.state(a, b, parse_edtf(on))
            theirs = [(e["position"], e.get("via"), e.get("party_names")) for e in copy.history(a, b)]
            assert theirs == [
                (e["position"], e.get("via"), e.get("party_names")) for e in succeeded.history(a, b)
            ]
    finally:
        copy.close()

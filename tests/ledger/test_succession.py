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

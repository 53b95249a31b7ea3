"""Membership and life cycles, told on a SQLite file and on PostgreSQL: who is in, from when, and
what "in force" means for each pair, on every boundary day."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from coopledger.events import parse_edtf
from coopledger.ledger.application import Ledger
from coopledger.ledger.errors import LedgerError
from coopledger.ledger.store import locate
from support import event


def record(ledger: Ledger, *events: dict[str, Any]) -> None:
    for value in events:
        ledger.append(value)


def thing(ledger: Ledger, a: str, b: str, as_of: str, kind: str, slug: str, exact: bool = False) -> Any:
    """One instrument or project of a pair's state as of a day (None when the pair does not have it)."""
    state = ledger.state(a, b, parse_edtf(as_of), exact=exact)
    return next((t for t in state[f"{kind}s"] if t[kind] == slug), None)


def status(ledger: Ledger, a: str, b: str, as_of: str, slug: str = "minamata") -> str | None:
    found = thing(ledger, a, b, as_of, "instrument", slug)
    return found["status"] if found else None


def member(found: dict[str, Any], party: str, index: int = 0) -> dict[str, Any]:
    return [m for m in found["members"] if m["party"] == party][index]


TREATY = event(
    "InstrumentSigned",
    "2013-10-10",
    instrument="minamata",
    kind="treaty",
    title="Minamata Convention on Mercury",
    parties=["JPN", "KOR", "CHN"],
)


def test_a_treaty_joined_ratified_withdrawn_from_and_rejoined(ledger: Ledger) -> None:
    record(
        ledger,
        TREATY,
        # Japan accepts before the entry into force: bound from it, by its own act.
        event("PartyJoined", "2016-02-02", party="JPN", instrument="minamata", action="acceptance"),
        # Entry into force for the signatories named; China signed and has not ratified yet.
        event("InstrumentEnteredIntoForce", "2017-08-16", instrument="minamata", parties=["JPN", "KOR"]),
        # Viet Nam signs later, then ratifies with effect three months on.
        event("PartyJoined", "2013-10-11", party="VNM", instrument="minamata", action="signature"),
        event(
            "PartyJoined",
            "2017-06-23",
            party="VNM",
            instrument="minamata",
            action="ratification",
            effective_on="2017-09-21",
        ),
        event("PartyJoined", "2018", party="CHN", instrument="minamata", action="ratification"),
        # Korea gives a year's notice, and rejoins by accession; then withdraws again.
        event("PartyWithdrew", "2019-03-01", party="KOR", instrument="minamata", effective_on="2020-03-01"),
        event("PartyJoined", "2022-01-01", party="KOR", instrument="minamata", action="accession"),
        event("PartyWithdrew", "2023-05", party="KOR", instrument="minamata", reason="second thoughts"),
    )
    # Signed, nobody bound yet; Japan's acceptance counts from the entry into force.
    assert status(ledger, "JPN", "KOR", "2017-08-15") == "signed"
    assert status(ledger, "JPN", "KOR", "2017-08-16") == "in_force"
    japan = member(thing(ledger, "JPN", "KOR", "2017-08-16", "instrument", "minamata"), "JPN")
    assert (japan["bound_on"], japan["bound_by"]) == ("2017-08-16", "acceptance")
    # China is only a signatory until its ratification ("2018" counts from 2018-12-31): the pairs
    # with China are `signed`, in force for the pair once both sides are bound.
    assert status(ledger, "CHN", "JPN", "2018-12-30") == "signed"
    china = member(thing(ledger, "CHN", "JPN", "2018-12-30", "instrument", "minamata"), "CHN")
    assert (china["bound_on"], china["bound_by"]) == (None, None)
    assert status(ledger, "CHN", "JPN", "2018-12-31") == "in_force"
    # Viet Nam: a member (signatory) from 2013-10-11, bound from 2017-09-21.
    assert status(ledger, "KOR", "VNM", "2013-10-10") is None
    assert status(ledger, "KOR", "VNM", "2017-09-20") == "signed"
    assert status(ledger, "KOR", "VNM", "2017-09-21") == "in_force"
    # Korea's withdrawal: noticed on 2019-03-01, pending until 2020-03-01, effective that day.
    assert "withdrew_on" in member(thing(ledger, "JPN", "KOR", "2019-02-28", "instrument", "minamata"), "KOR")
    assert (
        member(thing(ledger, "JPN", "KOR", "2019-02-28", "instrument", "minamata"), "KOR")["withdrew_on"]
        is None
    )
    pending = member(thing(ledger, "JPN", "KOR", "2019-03-01", "instrument", "minamata"), "KOR")
    assert (pending["withdrew_on"], pending["withdrawal_pending"]) == ("2020-03-01", True)
    assert status(ledger, "JPN", "KOR", "2020-02-29") == "in_force"
    assert status(ledger, "JPN", "KOR", "2020-03-01") == "withdrawn"
    done = member(thing(ledger, "JPN", "KOR", "2020-03-01", "instrument", "minamata"), "KOR")
    assert (done["withdrew_on"], done["withdrawal_pending"]) == ("2020-03-01", False)
    # It does not end the treaty for the others.
    assert status(ledger, "CHN", "JPN", "2020-03-01") == "in_force"
    # Rejoined by accession: a new period, bound at once; then "2023-05" withdraws it again (day 2023-05-31).
    assert status(ledger, "JPN", "KOR", "2021-12-31") == "withdrawn"
    assert status(ledger, "JPN", "KOR", "2022-01-01") == "in_force"
    rejoined = member(thing(ledger, "JPN", "KOR", "2022-01-01", "instrument", "minamata"), "KOR", 1)
    assert (rejoined["action"], rejoined["bound_on"], rejoined["bound_by"]) == (
        "accession",
        "2022-01-01",
        "accession",
    )
    assert status(ledger, "JPN", "KOR", "2023-05-30") == "in_force"
    assert status(ledger, "JPN", "KOR", "2023-05-31") == "withdrawn"
    periods = thing(ledger, "CHN", "JPN", "2024", "instrument", "minamata")["members"]
    assert [(m["party"], m["action"], m["withdrew_on"]) for m in periods] == [
        ("JPN", "signature", None),
        ("KOR", "signature", "2020-03-01"),
        ("CHN", "signature", None),
        ("VNM", "signature", None),
        ("KOR", "accession", "2023-05"),
    ]
    # History: the pair's events are those of its members; joinings and withdrawals belong to
    # the pairs they form. Korea~Viet Nam begins with Viet Nam's signature.
    types = [(e["type"], e["data"]["party"]) for e in ledger.history("KOR", "VNM")]
    assert types == [
        ("PartyJoined", "VNM"),
        ("PartyJoined", "VNM"),
        ("PartyWithdrew", "KOR"),
        ("PartyJoined", "KOR"),
        ("PartyWithdrew", "KOR"),
    ]
    assert all(e["multilateral"] for e in ledger.history("KOR", "VNM"))
    # Bad changes are refused, naming the field.
    refusals = [
        (
            event("PartyJoined", "2024", party="JPN", instrument="minamata", action="accession"),
            "already a member",
        ),
        (event("PartyWithdrew", "2024", party="KOR", instrument="minamata"), "KOR is not a member"),
        (
            event("PartyJoined", "2024", party="CHN", instrument="minamata", action="ratification"),
            "not a signatory",
        ),
        (
            event("PartyJoined", "2012", party="MNG", instrument="minamata", action="accession"),
            r"occurred_on: 2012 is before its signing",
        ),
    ]
    for value, message in refusals:
        with pytest.raises(LedgerError, match=message):
            ledger.append(value)


def test_fewer_than_two_members_are_refused_now_and_at_every_later_withdrawal(ledger: Ledger) -> None:
    record(
        ledger,
        TREATY,
        event("PartyWithdrew", "2020", party="CHN", instrument="minamata", effective_on="2025"),
    )
    # Japan leaving in 2022 leaves Korea and China; China's own withdrawal, already recorded for
    # 2025, would then leave Korea alone.
    with pytest.raises(
        LedgerError,
        match=r"data.party: instrument 'minamata' would have fewer than two members from 2025-12-31",
    ):
        ledger.append(event("PartyWithdrew", "2021", party="JPN", instrument="minamata", effective_on="2022"))
    with pytest.raises(LedgerError, match="has already given notice"):
        ledger.append(event("PartyWithdrew", "2021", party="CHN", instrument="minamata"))
    ledger.append(event("PartyJoined", "2021", party="MNG", instrument="minamata", action="accession"))
    ledger.append(event("PartyWithdrew", "2021", party="JPN", instrument="minamata", effective_on="2022"))


def test_imprecise_dates_on_both_sides(ledger: Ledger) -> None:
    record(
        ledger,
        event(
            "InstrumentSigned",
            "2010-05",
            instrument="net",
            kind="mou",
            title="Network",
            parties=["KOR", "JPN"],
        ),
        event("PartyJoined", "2015", party="MNG", instrument="net", action="membership"),
        event("PartyWithdrew", "2020-06~", party="MNG", instrument="net", effective_on="2020-41"),
    )
    # Joined "2015": certain only on 2015-12-31; before, it possibly happened.
    early = ledger.state("KOR", "MNG", parse_edtf("2015-06"))
    assert early["instruments"] == []
    assert [(p["type"], p["occurred_on"]) for p in early["possibly"]] == [("PartyJoined", "2015")]
    assert status(ledger, "KOR", "MNG", "2015", "net") == "in_force"
    # Withdrawal noticed "about June 2020" (counted from 2020-06-30) and effective in the second
    # half of 2020: from 2020-12-31.
    pending = member(thing(ledger, "JPN", "KOR", "2020-12-30", "instrument", "net"), "MNG")
    assert (pending["withdrew_on"], pending["withdrawal_pending"]) == ("2020-41", True)
    assert status(ledger, "KOR", "MNG", "2020-12-30", "net") == "in_force"
    assert status(ledger, "KOR", "MNG", "2020", "net") == "withdrawn"
    # A month as D: May 2010 counts from its last day; the pair is in from then.
    assert status(ledger, "JPN", "KOR", "2010-05-30", "net") is None
    assert status(ledger, "JPN", "KOR", "2010-05", "net") == "in_force"


def test_an_mou_that_renews_itself_across_several_terms(ledger: Ledger) -> None:
    record(
        ledger,
        event(
            "InstrumentSigned",
            "2010-04-01",
            instrument="green",
            kind="mou",
            title="Green MOU",
            parties=["KOR", "JPN"],
            expires_on="2015-03-31",
            renewal={"term": "P5Y", "notice": "P6M"},
        ),
        event(
            "InstrumentSigned",
            "2012-02-29",
            instrument="leap",
            kind="arrangement",
            title="Leap arrangement",
            parties=["KOR", "JPN"],
            expires_on="2016-02-29",
            renewal={"term": "P1Y"},
        ),
        event(
            "InstrumentSigned",
            "2014-06",
            instrument="vague",
            kind="action_plan",
            title="Action plan",
            parties=["KOR", "JPN"],
            expires_on="2015",
            renewal={"term": "P2Y", "notice": "P3M"},
        ),
    )

    def terms(as_of: str, slug: str = "green") -> tuple[str, str | None, str | None]:
        found = thing(ledger, "JPN", "KOR", as_of, "instrument", slug)
        return found["status"], found["current_term_ends"], found["notice_by"]

    assert terms("2014-09-30") == ("in_force", "2015-03-31", "2014-09-30")
    assert terms("2015-03-31") == ("in_force", "2015-03-31", "2014-09-30")
    assert terms("2015-04-01") == ("in_force", "2020-03-31", "2019-09-30")
    assert terms("2031-01-01") == ("in_force", "2035-03-31", "2034-09-30")
    # Month ends are clamped and counted from the first expiry, never drifting.
    assert terms("2016-03-01", "leap")[1] == "2017-02-28"
    assert terms("2019-03-01", "leap")[1] == "2020-02-29"
    # "2015" is certain on 2015-12-31; deadlines count from its earliest day so as never to be late.
    assert terms("2016", "vague") == ("in_force", "2017-12-31", "2016-10-01")
    found = thing(ledger, "JPN", "KOR", "2016", "instrument", "vague")
    assert (found["kind"], found["expires_on"], found["renewal"]) == (
        "action_plan",
        "2015",
        {"term": "P2Y", "notice": "P3M"},
    )
    # An extension compares with the current term's end, and terms restart from it.
    with pytest.raises(
        LedgerError,
        match=r"data.expires_on: 2019-12-31 is not after the end of its current term \(2020-03-31\)",
    ):
        ledger.append(event("InstrumentExtended", "2016", instrument="green", expires_on="2019-12-31"))
    ledger.append(event("InstrumentExtended", "2016", instrument="green", expires_on="2021-06-30"))
    assert terms("2021-07-01") == ("in_force", "2026-06-30", "2025-12-30")
    # Terminated by notice: no further term.
    ledger.append(event("InstrumentTerminated", "2025-09", instrument="green", effective_on="2026-06-30"))
    assert terms("2026-06-29") == ("in_force", "2026-06-30", "2025-12-30")
    assert terms("2026-06-30") == ("terminated", None, None)
    assert thing(ledger, "JPN", "KOR", "2026-06-30", "instrument", "green")["terminated_on"] == "2026-06-30"
    with pytest.raises(LedgerError, match="has been terminated"):
        ledger.append(event("InstrumentExtended", "2025-10", instrument="green", expires_on="2040"))


def test_statements_are_adopted_and_extensions_can_run_until_terminated(ledger: Ledger) -> None:
    record(
        ledger,
        event(
            "InstrumentSigned",
            "2012-05",
            instrument="communique",
            kind="communique",
            title="C",
            parties=["KOR", "CHN", "JPN"],
        ),
        event(
            "InstrumentSigned",
            "2009",
            instrument="declaration",
            kind="declaration",
            title="D",
            parties=["KOR", "VNM"],
            expires_on="2019",
        ),
        event(
            "InstrumentSigned",
            "2012-01-23",
            instrument="agreement",
            kind="agreement",
            title="A",
            parties=["KOR", "USA"],
            expires_on="2017-01-22",
        ),
        event("InstrumentEnteredIntoForce", "2012-03-15", instrument="agreement"),
        event(
            "InstrumentExtended",
            "2016-12",
            instrument="agreement",
            expires_on="2022-01-22",
            until_terminated=True,
        ),
    )
    assert status(ledger, "CHN", "KOR", "2012-05", "communique") == "adopted"
    assert status(ledger, "CHN", "KOR", "2090", "communique") == "adopted"  # a statement: for ever
    assert status(ledger, "KOR", "VNM", "2019", "declaration") == "adopted"
    assert status(ledger, "KOR", "VNM", "2020", "declaration") == "expired"
    with pytest.raises(LedgerError, match="a communique: adopted when signed, never in force"):
        ledger.append(event("InstrumentEnteredIntoForce", "2013", instrument="communique"))
    found = thing(ledger, "KOR", "USA", "2040", "instrument", "agreement")
    assert (found["status"], found["expires_on"], found["until_terminated"]) == (
        "in_force",
        "2022-01-22",
        True,
    )
    assert found["extensions"] == [
        {"expires_on": "2022-01-22", "occurred_on": "2016-12", "until_terminated": True}
    ]
    with pytest.raises(LedgerError, match="already runs until terminated"):
        ledger.append(event("InstrumentExtended", "2023", instrument="agreement", until_terminated=True))


def test_an_agreement_replaced_by_a_new_one_is_superseded_from_the_day_the_new_one_takes_effect(
    ledger: Ledger,
) -> None:
    record(
        ledger,
        event(
            "InstrumentSigned",
            "1987-03",
            instrument="mou-1987",
            kind="mou",
            title="MOU",
            parties=["KOR", "USA"],
        ),
        event(
            "InstrumentSigned",
            "2012-01-23",
            instrument="agreement-2012",
            kind="agreement",
            title="Agreement",
            parties=["KOR", "USA"],
            supersedes="mou-1987",
        ),
    )
    assert status(ledger, "KOR", "USA", "2012-03-14", "mou-1987") == "in_force"  # the new one is only signed
    old = thing(ledger, "KOR", "USA", "2012-03-14", "instrument", "mou-1987")
    assert (old["superseded_by"], old["supersedes"]) == ("agreement-2012", None)
    ledger.append(event("InstrumentEnteredIntoForce", "2012-03-15", instrument="agreement-2012"))
    assert status(ledger, "KOR", "USA", "2012-03-14", "mou-1987") == "in_force"
    assert status(ledger, "KOR", "USA", "2012-03-15", "mou-1987") == "superseded"
    assert (
        thing(ledger, "KOR", "USA", "2012-03-15", "instrument", "agreement-2012")["supersedes"] == "mou-1987"
    )
    for value, message in [
        (
            event(
                "InstrumentSigned",
                "2013",
                instrument="x",
                kind="mou",
                title="X",
                parties=["KOR", "USA"],
                supersedes="mou-1987",
            ),
            "already superseded by 'agreement-2012'",
        ),
        (
            event(
                "InstrumentSigned",
                "2013",
                instrument="y",
                kind="mou",
                title="Y",
                parties=["JPN", "CHN"],
                supersedes="agreement-2012",
            ),
            "no party in common",
        ),
        (
            event(
                "InstrumentSigned",
                "1980",
                instrument="z",
                kind="mou",
                title="Z",
                parties=["KOR", "USA"],
                supersedes="agreement-2012",
            ),
            "before the signing of 'agreement-2012'",
        ),
    ]:
        with pytest.raises(LedgerError, match=message):
            ledger.append(value)
    # The old MOU's signing cannot be retracted while the new one names it; the new one's can,
    # once its entry into force is, and the old MOU is in force again.
    with pytest.raises(LedgerError, match="event 2 depends on instrument 'mou-1987'"):
        ledger.append({"type": "EventRetracted", "data": {"event": 1, "reason": "x"}})
    ledger.append({"type": "EventRetracted", "data": {"event": 3, "reason": "not yet"}})
    ledger.append({"type": "EventRetracted", "data": {"event": 2, "reason": "not yet"}})
    old = thing(ledger, "KOR", "USA", "2013", "instrument", "mou-1987")
    assert (old["status"], old["superseded_by"]) == ("in_force", None)


def test_a_project_planned_then_active_with_its_participants_and_money(ledger: Ledger) -> None:
    record(
        ledger,
        event(
            "ProjectLaunched",
            "2014-03",
            project="forest",
            title="Forest restoration",
            parties=["KOR", "VNM", "KHM"],
            planned_start="2015",
            planned_end="2017",
            participants=[{"party": "KOR", "role": "funding"}, {"party": "VNM", "role": "implementing"}],
            funding=[{"amount": "300000", "currency": "USD"}],
        ),
        event(
            "ProjectFunded", "2015-07", project="forest", amount="120000", currency="USD", kind="disbursement"
        ),
        event(
            "ProjectFunded", "2016", project="forest", amount="99999.5", currency="USD", kind="expenditure"
        ),
        event("ProjectFunded", "2016", project="forest", amount="20000", currency="KRW"),
        event("PartyWithdrew", "2016-06-30", project="forest", party="KHM"),
        event("ProjectCompleted", "2018-02", project="forest"),
    )
    assert thing(ledger, "KOR", "VNM", "2015-12-30", "project", "forest")["status"] == "planned"
    found = thing(ledger, "KOR", "VNM", "2015-12-31", "project", "forest")
    assert found["status"] == "active"
    assert (found["funding"], found["disbursed"], found["spent"]) == (
        {"USD": "300000"},
        {"USD": "120000"},
        {},
    )
    later = thing(ledger, "KOR", "VNM", "2016", "project", "forest")
    assert (later["funding"], later["spent"]) == ({"KRW": "20000", "USD": "300000"}, {"USD": "99999.5"})
    assert later["participants"] == [
        {"party": "KOR", "role": "funding"},
        {"party": "VNM", "role": "implementing"},
    ]
    assert thing(ledger, "KHM", "KOR", "2016-06-29", "project", "forest")["status"] == "active"
    assert thing(ledger, "KHM", "KOR", "2016-06-30", "project", "forest")["status"] == "withdrawn"
    done = thing(ledger, "KHM", "KOR", "2018", "project", "forest")
    assert (done["status"], done["completed_on"], done["terminated_on"]) == ("completed", "2018-02", None)
    with pytest.raises(LedgerError, match="project 'forest' was completed on 2018-02"):
        ledger.append(event("PartyJoined", "2019", project="forest", party="LAO", action="membership"))


def test_organisations_stand_for_their_state_and_series_say_since_when_a_side_is_out(ledger: Ledger) -> None:
    record(
        ledger,
        event("PartyRegistered", "2000", party="NIER", name="Institute", kind="agency", country="KOR"),
        event("PartyRegistered", "2000", party="KECO", name="Corporation", kind="agency", country="KOR"),
        event(
            "SeriesEstablished",
            "2004",
            series="tpm",
            title="Presidents",
            parties=["NIER", "KECO", "JPN", "CHN"],
        ),
        event("PartyWithdrew", "2010", series="tpm", party="NIER"),
        event("PartyWithdrew", "2012-06", series="tpm", party="KECO", effective_on="2013"),
    )

    def series(a: str, b: str, as_of: str, exact: bool = False) -> Any:
        found = ledger.state(a, b, parse_edtf(as_of), exact=exact)["meetings"]["series"]
        return found[0] if found else None

    # Korea stays in through KECO when NIER leaves; out once every organisation of it is.
    assert series("JPN", "KOR", "2011")["withdrawn_since"] is None
    assert series("JPN", "KOR", "2013")["withdrawn_since"] == "2013"
    assert series("JPN", "NIER", "2011", exact=True)["withdrawn_since"] == "2010"
    assert series("JPN", "KECO", "2012-12-30")["withdrawn_since"] is None


def test_relationship_rows_follow_membership_and_survive_export_import_and_rebuild(
    ledger: Ledger, tmp_path: Path
) -> None:
    record(
        ledger,
        TREATY,
        event(
            "PartyJoined",
            "2015-06-01",
            party="VNM",
            instrument="minamata",
            action="accession",
            effective_on="2015-06-10",
        ),
        event("InstrumentAmended", "2016", instrument="minamata", summary="Annex A"),
        event("PartyWithdrew", "2017", party="CHN", instrument="minamata"),
        event("InstrumentAmended", "2018", instrument="minamata", summary="Annex B"),
    )
    # An event naming the instrument belongs to the pairs of its members on its day.
    assert [e["data"].get("summary") for e in ledger.history("CHN", "VNM")] == [None, "Annex A", None]
    assert [
        e["data"].get("summary") for e in ledger.history("KOR", "VNM") if e["type"] == "InstrumentAmended"
    ] == [
        "Annex A",
        "Annex B",
    ]
    # Joining pending: the pair is not formed yet, the others see it coming.
    assert status(ledger, "KOR", "VNM", "2015-06-09") is None
    pending = member(thing(ledger, "JPN", "KOR", "2015-06-09", "instrument", "minamata"), "VNM")
    assert (pending["joining_pending"], pending["joined_on"]) == (True, "2015-06-10")
    assert status(ledger, "KOR", "VNM", "2015-06-10") == "signed"  # a treaty not in force yet
    amended = thing(ledger, "KOR", "VNM", "2020", "instrument", "minamata")["amendments"]
    assert [a["summary"] for a in amended] == ["Annex A", "Annex B"]
    relationships = {r["relationship"]: r for r in ledger.relationships(parse_edtf("2020").day)}
    assert relationships["CHN~VNM"]["events"] == 3 and relationships["KOR~VNM"]["events"] == 3

    def answers(on: Ledger) -> tuple[Any, ...]:
        return tuple(
            (
                on.state(a, b, parse_edtf(d)),
                [
                    {k: e[k] for k in ("type", "data", "occurred_on", "multilateral")}
                    for e in on.history(a, b)
                ],
            )
            for a, b in (("KOR", "VNM"), ("CHN", "JPN"), ("CHN", "VNM"))
            for d in ("2015-06-09", "2016", "2020")
        )

    kept = answers(ledger)
    assert ledger.rebuild() == 5 and answers(ledger) == kept
    exported = tmp_path / "export.jsonl"
    exported.write_bytes(b"".join(line + b"\n" for line in ledger.export()))
    copy = Ledger(locate(str(tmp_path / "copy.sqlite")))
    try:
        assert copy.import_lines(exported.open("rb")).recorded == 5
        assert answers(copy) == kept
    finally:
        copy.close()


def test_a_joining_or_withdrawal_that_another_depends_on_is_retracted_last(ledger: Ledger) -> None:
    record(
        ledger,
        TREATY,
        event("PartyJoined", "2015", party="VNM", instrument="minamata", action="accession"),  # 2
        event("PartyWithdrew", "2018", party="VNM", instrument="minamata"),  # 3
        event("PartyJoined", "2020", party="VNM", instrument="minamata", action="accession"),  # 4
    )
    with pytest.raises(LedgerError, match=r"data.event: event 3 depends on event 2; retract it first"):
        ledger.append({"type": "EventRetracted", "data": {"event": 2, "reason": "x"}})
    with pytest.raises(LedgerError, match=r"data.event: event 4 depends on event 3; retract it first"):
        ledger.append({"type": "EventRetracted", "data": {"event": 3, "reason": "x"}})
    for position in (4, 3, 2):
        ledger.append(
            {"type": "EventRetracted", "data": {"event": position, "reason": "recorded by mistake"}}
        )
    members = thing(ledger, "JPN", "KOR", "2021", "instrument", "minamata")["members"]
    assert [m["party"] for m in members] == ["JPN", "KOR", "CHN"]
    assert status(ledger, "KOR", "VNM", "2016") is None
    assert [e["retracted"] for e in ledger.history("KOR", "VNM")] == [True, True, True]


def test_a_term_that_would_end_beyond_the_calendar_has_no_end_shown(ledger: Ledger) -> None:
    ledger.append(
        event(
            "InstrumentSigned",
            "2020",
            instrument="far",
            kind="mou",
            title="F",
            parties=["KOR", "JPN"],
            expires_on="2025",
            renewal={"term": "P5000Y", "notice": "P6M"},
        )
    )
    assert thing(ledger, "JPN", "KOR", "5000", "instrument", "far")["current_term_ends"] == "7025-12-31"
    found = thing(ledger, "JPN", "KOR", "9999-12-31", "instrument", "far")
    assert (found["status"], found["current_term_ends"], found["notice_by"]) == ("in_force", None, None)

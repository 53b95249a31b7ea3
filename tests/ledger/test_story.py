"""The seed story, told once on a SQLite file and once on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from coopledger.events import parse_edtf
from coopledger.ledger.application import Ledger
from coopledger.ledger.errors import LedgerError
from coopledger.ledger.queries import known_at
from coopledger.ledger.store import locate
from support import SEED_EVENTS, SEEDS


def day(text: str):  # type: ignore[no-untyped-def]
    return parse_edtf(text)


def by_id(items: list[dict[str, Any]], field: str) -> dict[str, dict[str, Any]]:
    return {item[field]: item for item in items}


def without_recording(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """History as two ledgers agree on it: everything but when, by whom and the chain."""
    skip = {"recorded_at", "recorded_by", "hash", "imported_from", "retracted_by"}
    return [{k: v for k, v in event.items() if k not in skip} for event in events]


def test_the_seed_story(ledger: Ledger, db_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # An analyst loads the example ledger built from the press releases; loading it again
    # records nothing twice.
    report = ledger.import_lines(SEEDS.open("rb"))
    assert (report.recorded, report.duplicates, report.first, report.last) == (SEED_EVENTS, 0, 1, SEED_EVENTS)
    again = ledger.import_lines(SEEDS.open("rb"))
    assert (again.recorded, again.duplicates) == (0, SEED_EVENTS)

    # "What did we have with China as of January 2019?"
    china = ledger.state("kor", "PRC", day("2019-01"))
    assert china["relationship"] == "CHN~KOR" and china["as_of"] == "2019-01"
    projects = by_id(china["projects"], "project")
    assert projects["clean-sky-project"]["launched_on"] == "2017-05"
    assert projects["clean-sky-project"]["scope_changes"] == [
        {
            "summary": "Broadened to identify where fine dust occurs and its trajectories",
            "occurred_on": "2019-01-23",
        }
    ]
    assert {
        "rok-china-air-quality-forecasting-exchange",
        "rok-china-mining-soil-contamination",
        "rok-china-sustainable-development-policy",
    } <= projects.keys()
    assert projects["tpm-joint-research"]["parties"] == ["CRAES", "NIES", "NIER"]  # rolled up
    assert projects["ltp"]["multilateral"] is True
    meetings = china["meetings"]
    assert meetings["last"] == {
        "meeting": "rok-china-jcec-23",
        "occurred_on": "2019-01-23",
        "number": 23,
        "series": "rok-china-jcec",
        "venue": "Lotte Hotel, Seoul",
    }
    assert by_id(meetings["series"], "series")["rok-china-jcec"] == {
        "series": "rok-china-jcec",
        "title": "ROK-China Joint Committee on Environmental Cooperation",
        "held": 1,
        "last_number": 23,
        "suspended_since": None,
        "withdrawn_since": None,
        "members": [
            {
                "party": party,
                "action": "membership",
                "joined_on": "199X",
                "joining_pending": False,
                "bound_on": "199X",
                "bound_by": "membership",
                "withdrew_on": None,
                "withdrawal_pending": False,
            }
            for party in ("KOR", "CHN")
        ],
    }
    # The working-level meeting planned for February comes next; announced years ago and not
    # recorded as held, the 2014 training is overdue, not next.
    assert meetings["next"] == {
        "meeting": "rok-china-working-level-2019-02",
        "planned_for": "2019-02",
        "host": None,
    }
    assert meetings["overdue"][0] == {
        "meeting": "tripartite-joint-environment-training-2014",
        "announced_on": "2014",
        "planned_for": "2014",
    }

    # A day earlier the Joint Committee had not met: its projects and its broadening do not count.
    before = ledger.state("KOR", "CHN", day("2019-01-22"))
    early = by_id(before["projects"], "project")
    assert "rok-china-mining-soil-contamination" not in early
    assert early["clean-sky-project"]["scope_changes"] == []
    assert before["meetings"]["last"]["meeting"] == "rok-china-dg-environment-2019-01"

    # Imprecise dates count only once they have certainly happened: "2019-41" is the second
    # half of 2019, so the next Joint Committee, announced 2019-01-23, is there; TEMM 14
    # ("May 2012") counts from the last day of May.
    assert ledger.state("JPN", "KOR", day("2012-05-30"))["meetings"]["series"][-1]["held"] == 1
    assert (
        by_id(ledger.state("JPN", "KOR", day("2012-05-31"))["meetings"]["series"], "series")["temm"]["held"]
        == 2
    )

    # The NIES-NIER MOU belongs to the two institutes and, rolled up, to Japan and Korea.
    mou = by_id(ledger.state("NIER", "nies", day("2024-03-31"), exact=True)["instruments"], "instrument")
    assert mou["nies-nier-mou-2024"] | {} == {
        "instrument": "nies-nier-mou-2024",
        "kind": "mou",
        "title": "MOU for joint research on waste recycling",
        "parties": ["NIES", "NIER"],
        "multilateral": False,
        "signed_on": "2024-03-19",
        "in_force_from": "2024-03-19",
        "expires_on": "2029-03-31",
        "until_terminated": False,
        "status": "in_force",
        "extensions": [],
        "amendments": [],
        "renewal": None,
        "current_term_ends": None,
        "notice_by": None,
        "supersedes": None,
        "superseded_by": None,
        "terminated_on": None,
        "members": [
            {
                "party": party,
                "action": "signature",
                "joined_on": "2024-03-19",
                "joining_pending": False,
                "bound_on": "2024-03-19",
                "bound_by": "signature",
                "withdrew_on": None,
                "withdrawal_pending": False,
            }
            for party in ("NIES", "NIER")
        ],
    }
    rolled_up = by_id(ledger.state("JPN", "KOR", day("2024-03-31"))["instruments"], "instrument")
    assert "nies-nier-mou-2024" in rolled_up
    exact = by_id(ledger.state("JPN", "KOR", day("2024-03-31"), exact=True)["instruments"], "instrument")
    assert "nies-nier-mou-2024" not in exact
    assert (
        by_id(ledger.state("JPN", "KOR", day("2029-04-01"))["instruments"], "instrument")[
            "nies-nier-mou-2024"
        ]["status"]
        == "expired"
    )

    # The Korea-US agreement is signed, then in force from its entry into force.
    usa = lambda on: by_id(ledger.state("KOR", "US", day(on))["instruments"], "instrument")[
        "kor-usa-environmental-cooperation-agreement"
    ]
    assert (usa("2012-02-01")["status"], usa("2012-02-01")["in_force_from"]) == ("signed", None)
    assert (usa("2012-03-15")["status"], usa("2012-03-15")["in_force_from"]) == ("in_force", "2012-03-15")

    # The ASEAN forest project's funding totals print as decimal strings.
    asean = by_id(ledger.state("KOR", "ASEAN", day("2013-12-31"))["projects"], "project")
    assert asean["korea-asean-forest-restoration"]["funding"] == {"USD": "600000"}

    # The parties extend the MOU by mutual consent (a fact of the past: none can be recorded ahead).
    ledger.append(
        {
            "type": "InstrumentExtended",
            "occurred_on": "2026-05",
            "data": {
                "instrument": "nies-nier-mou-2024",
                "expires_on": "2034-03-31",
                "basis": "mutual consent of the Parties in writing",
            },
        }
    )
    renewed = by_id(ledger.state("JPN", "KOR", day("2030-01-01"))["instruments"], "instrument")[
        "nies-nier-mou-2024"
    ]
    assert (renewed["status"], renewed["expires_on"]) == ("in_force", "2034-03-31")
    assert renewed["extensions"] == [{"expires_on": "2034-03-31", "occurred_on": "2026-05"}]

    # The 24th Joint Committee is held; a second record of number 24 is refused.
    held = ledger.append(
        {
            "type": "MeetingHeld",
            "occurred_on": "2019-11-04/2019-11-05",
            "data": {
                "meeting": "rok-china-jcec-24",
                "parties": ["KOR", "CHN"],
                "series": "rok-china-jcec",
                "number": 24,
                "venue": "Beijing",
            },
        }
    )
    with pytest.raises(
        LedgerError, match=r"data.number: meeting 24 of series 'rok-china-jcec' is already recorded"
    ):
        ledger.append(
            {
                "type": "MeetingHeld",
                "occurred_on": "2019-12",
                "data": {
                    "meeting": "another-24",
                    "parties": ["KOR", "CHN"],
                    "series": "rok-china-jcec",
                    "number": 24,
                },
            }
        )
    late = ledger.state("KOR", "CHN", day("2019-12-31"))["meetings"]
    assert late["last"]["number"] == 24
    assert (late["next"] or {}).get("meeting") != "rok-china-jcec-24"

    # The meeting turns out to be recorded by mistake: retracted, it leaves history marked and
    # state corrected, while the ledger as known before the retraction still shows it.
    before_retraction = ledger.audit().__iter__()
    stamp = max(e["recorded_at"] for e in before_retraction)
    ledger.append({"type": "EventRetracted", "data": {"event": held.position, "reason": "recorded twice"}})
    assert ledger.state("KOR", "CHN", day("2019-12-31"))["meetings"]["last"]["number"] == 23
    assert ledger.state("KOR", "CHN", day("2019-12-31"), known_at(stamp))["meetings"]["last"]["number"] == 24
    history = ledger.history("KOR", "CHN")
    marked = [e for e in history if e["position"] == held.position]
    assert marked[0]["retracted"] is True and marked[0]["reason"] == "recorded twice"
    assert any(e["multilateral"] for e in history)
    assert [e["occurred_on"] for e in history][:3] == ["1996", "1999", "199X"]  # by day: 199X is 1999-12-31

    # The audit trail says who recorded what; verify proves the chain; a rebuilt read model
    # answers exactly as the one kept at append time.
    entries = list(ledger.audit(party="VNM"))
    assert {e["recorded_by"] for e in entries} == {"tester"}
    assert len(entries) == 11
    verified = ledger.verify()
    assert verified.events == SEED_EVENTS + 3 and verified.digest == ledger.digest()
    queries = lambda: (
        ledger.state("KOR", "CHN", day("2019-12-31")),
        ledger.history("KOR", "JPN"),
        ledger.relationships(day("2030").day),
        ledger.state("NIES", "NIER", day("2024-04"), exact=True),
    )
    kept = queries()
    assert ledger.rebuild() == SEED_EVENTS + 3
    assert queries() == kept
    ledger.verify()

    # Export, then import into an empty ledger: the same state and history.
    exported = tmp_path / "export.jsonl"
    exported.write_bytes(b"".join(line + b"\n" for line in ledger.export()))
    copy = Ledger(locate(str(tmp_path / "copy.sqlite")), actor="auditor")
    try:
        assert copy.import_lines(exported.open("rb")).recorded == SEED_EVENTS + 3
        assert copy.state("KOR", "CHN", day("2019-12-31")) == kept[0]
        assert without_recording(copy.history("KOR", "JPN")) == without_recording(kept[1])
        first = next(iter(copy.audit()))
        assert first["imported_from"]["recorded_by"] == "tester" and first["recorded_by"] == "auditor"
        copy.verify()
    finally:
        copy.close()

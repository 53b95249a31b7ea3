"""Honest answers on both backends: what possibly happened, retracted keys, what changed, what comes."""

from __future__ import annotations

from datetime import date, timedelta

import orjson
import pytest
from coopledger.events import parse_edtf
from coopledger.events.dates import parse_duration
from coopledger.ledger.application import Ledger
from coopledger.ledger.errors import LedgerError, LineError, Rejected
from support import SEED_EVENTS, SEEDS, event

IMPRECISE = {  # a project per kind of imprecise date: (occurred_on, earliest day, the day it counts)
    "month": ("2017-05", "2017-05-01", "2017-05-31"),
    "year": ("2015", "2015-01-01", "2015-12-31"),
    "half-year": ("2019-41", "2019-07-01", "2019-12-31"),
    "interval": ("2012-07/2013-06", "2012-07-01", "2012-07-31"),
    "approximate": ("2012~", "2012-01-01", "2012-12-31"),
}


def test_possibly_at_the_boundary_days_of_every_kind_of_imprecise_date(ledger: Ledger) -> None:
    for name, (occurred_on, _, _) in IMPRECISE.items():
        ledger.append(event("ProjectLaunched", occurred_on, project=name, title=name, parties=["KOR", "CHN"]))
    for name, (occurred_on, earliest, latest) in IMPRECISE.items():
        first, last = date.fromisoformat(earliest), date.fromisoformat(latest)

        def answer(day: date, name: str = name) -> tuple[bool, list[str]]:
            shown = ledger.state("KOR", "CHN", parse_edtf(day.isoformat()))
            counted = name in {p["project"] for p in shown["projects"]}
            return counted, [p["occurred_on"] for p in shown["possibly"] if p["id"] == name]

        assert answer(first - timedelta(days=1)) == (False, []), name
        assert answer(first) == (False, [occurred_on]), name
        assert answer(last - timedelta(days=1)) == (False, [occurred_on]), name
        assert answer(last) == (True, []), name


SIGNED = event(
    "InstrumentSigned", "2024-03-19", instrument="mou", kind="mou", title="MOU", parties=["KOR", "JPN"]
)


def test_a_retracted_key_is_refused_with_a_hint_and_skipped_apart_on_import(ledger: Ledger) -> None:
    first = ledger.append({**SIGNED, "key": "mou/signed"})
    ledger.append({"type": "EventRetracted", "data": {"event": first.position, "reason": "wrong day"}})
    retraction = ledger.show("2")[0]
    refused = (
        rf"^key 'mou/signed' is event #1, retracted on {retraction['recorded_at']} \(wrong day\); "
        r"record the correction under a new key$"
    )
    # The same content again, or a correction under the same key: neither is silently skipped.
    for content in (SIGNED, {**SIGNED, "occurred_on": "2024-03-20"}):
        with pytest.raises(Rejected, match=refused):
            ledger.append({**content, "key": "mou/signed"})
        with pytest.raises(Rejected, match=refused):
            ledger.append({**content, "key": "mou/signed"}, dry_run=True)
    # Re-importing the export is idempotent: the retracted event is skipped and counted apart.
    exported = list(ledger.export())
    report = ledger.import_lines(exported)
    assert (report.recorded, report.duplicates, report.retracted) == (0, 1, 1)
    # Within one import too: an event, its retraction, then the same line again.
    line = orjson.dumps({**SIGNED, "key": "b", "data": {**SIGNED["data"], "instrument": "b"}})
    retract = orjson.dumps({"type": "EventRetracted", "data": {"event": 3, "reason": "r"}})
    report = ledger.import_lines([line, retract, line])
    assert (report.recorded, report.duplicates, report.retracted) == (2, 0, 1)
    # The same key with other content in an import is the error, by line.
    other = orjson.dumps({**SIGNED, "occurred_on": "2024-03-20", "key": "mou/signed"})
    with pytest.raises(LineError, match=r"^line 1: key 'mou/signed' is event #1, retracted on "):
        ledger.import_lines([other])
    # The correction under a new key is recorded.
    assert not ledger.append({**SIGNED, "occurred_on": "2024-03-20", "key": "mou/signed-2"}).duplicate


def test_relationships_give_their_first_and_last_dates_as_entered(ledger: Ledger) -> None:
    ledger.append(event("ProjectLaunched", "2007", project="p", title="t", parties=["KOR", "CHN"]))
    ledger.append(event("MeetingHeld", "2007-12-31", meeting="m", parties=["KOR", "CHN"]))
    ledger.append(event("MeetingHeld", "2019-41", meeting="n", parties=["KOR", "CHN"]))
    ledger.append(event("MeetingHeld", "2010-05", meeting="o", parties=["KOR", "JPN"]))
    ends = lambda as_of: {
        r["relationship"]: (r["first"], r["last"], r["events"])
        for r in ledger.relationships(parse_edtf(as_of).day)
    }
    assert ends("2020") == {"CHN~KOR": ("2007", "2019-41", 3), "JPN~KOR": ("2010-05", "2010-05", 1)}
    assert ends("2019-06") == {"CHN~KOR": ("2007", "2007-12-31", 2), "JPN~KOR": ("2010-05", "2010-05", 1)}
    # Of events on the same day the later position is the last; a retracted event counts for neither
    # end; a relationship whose events are all retracted is not listed.
    ledger.append(event("MeetingHeld", "2010-05-31", meeting="p", parties=["KOR", "JPN"]))
    ledger.append(event("MeetingHeld", "2010-05-31", meeting="q", parties=["KOR", "JPN"], venue="Q"))
    held = ledger.append(event("MeetingHeld", "2011", meeting="r", parties=["KOR", "VNM"])).position
    ledger.append({"type": "EventRetracted", "data": {"event": 1, "reason": "r"}})
    ledger.append({"type": "EventRetracted", "data": {"event": held, "reason": "r"}})
    assert ends("2020") == {"CHN~KOR": ("2007-12-31", "2019-41", 2), "JPN~KOR": ("2010-05", "2010-05-31", 3)}
    assert [r["relationship"] for r in ledger.relationships(parse_edtf("2020").day)] == ["CHN~KOR", "JPN~KOR"]


def test_changes_across_an_extension_a_rename_and_a_retraction(ledger: Ledger) -> None:
    ledger.import_lines(SEEDS.open("rb"))
    since = ledger.show(str(SEED_EVENTS))[0]["recorded_at"]
    extended = ledger.append(
        event("InstrumentExtended", "2025-01", instrument="nies-nier-mou-2024", expires_on="2034-03-31")
    )
    renamed = ledger.append(event("PartyRenamed", "2025-02", party="NIER", name="NIER, renamed"))
    seminar = next(e for e in ledger.audit() if e.get("key") == "nies-nier-seminar-2024/held")
    retraction = ledger.append(
        {"type": "EventRetracted", "data": {"event": seminar["position"], "reason": "r"}}
    )
    as_of = parse_edtf("2030")
    found = ledger.changes("NIES", "NIER", since, None, as_of)
    assert (found["relationship"], found["as_of"], found["since"], found["until"]) == (
        "NIER~NIES", "2030", since, None,
    )  # fmt: skip
    assert (found["added"], found["removed"]) == ([], [])
    changed = {(c["kind"], c["id"], c["field"]): (c["before"], c["after"]) for c in found["changed"]}
    mou = ("instrument", "nies-nier-mou-2024")
    assert changed[(*mou, "expires_on")] == ("2029-03-31", "2034-03-31")
    assert changed[(*mou, "status")] == ("expired", "in_force")
    assert changed[(*mou, "extensions")] == ([], [{"expires_on": "2034-03-31", "occurred_on": "2025-01"}])
    assert changed[("party", "NIER", "name")] == (
        "National Institute of Environmental Research",
        "NIER, renamed",
    )
    assert changed[("meeting", None, "held")] == (2, 1)
    assert [e["position"] for e in found["recorded"]] == [extended.position, renamed.position]
    assert [e["recorded_by"] for e in found["recorded"]] == ["tester", "tester"]
    [retracted] = found["retracted"]
    assert (retracted["position"], retracted["retraction"]["position"]) == (
        seminar["position"],
        retraction.position,
    )
    assert retracted["retraction"]["recorded_by"] == "tester"
    # Up to the extension only; and as of a day before the rename, the name had not changed.
    until = ledger.show(str(extended.position))[0]["recorded_at"]
    early = ledger.changes("NIES", "NIER", since, until, as_of)
    assert [e["position"] for e in early["recorded"]] == [extended.position] and early["retracted"] == []
    assert {c["field"] for c in early["changed"]} == {"expires_on", "status", "extensions"}
    before_rename = ledger.changes("NIES", "NIER", since, None, parse_edtf("2025-01"))
    assert ("party", "NIER") not in {(c["kind"], c["id"]) for c in before_rename["changed"]}
    # Rolled up to the states, the rename of a Korean institute is Korea's party event; --exact leaves it out.
    rolled = ledger.changes("KOR", "JPN", since, None, as_of)
    assert renamed.position in [e["position"] for e in rolled["recorded"]]
    assert ledger.changes("KOR", "JPN", since, None, as_of, exact=True)["recorded"] == []
    # A thing recorded since is added; retracted since, removed.
    launched = ledger.append(
        event("ProjectLaunched", "2025-03", project="new", title="t", parties=["NIES", "NIER"])
    )
    assert ledger.changes("NIES", "NIER", since, None, as_of)["added"] == [{"kind": "project", "id": "new"}]
    now = ledger.show(str(launched.position))[0]["recorded_at"]
    ledger.append({"type": "EventRetracted", "data": {"event": launched.position, "reason": "no"}})
    assert ledger.changes("NIES", "NIER", now, None, as_of)["removed"] == [{"kind": "project", "id": "new"}]
    with pytest.raises(LedgerError, match="is not before --until"):
        ledger.changes("NIES", "NIER", until, since, as_of)


def test_upcoming_folds_every_thing_as_of_the_day_across_relationships(ledger: Ledger) -> None:
    ledger.import_lines(SEEDS.open("rb"))
    ledger.append(
        {**SIGNED, "occurred_on": "2010-05", "data": {**SIGNED["data"], "expires_on": "2015-12-31"}}
    )
    extended = ledger.append(
        event("InstrumentExtended", "2015-06", instrument="mou", expires_on="2020-12-31")
    )
    ledger.append(event("MeetingHeld", "2019-11", meeting="rok-china-jcec-24", parties=["KOR", "CHN"]))
    within = parse_duration("P1Y")
    rows = lambda as_of, party=None: [
        (row["date"], row["what"], row["id"]) for row in ledger.upcoming(within, party, parse_edtf(as_of))
    ]
    ids = lambda as_of, party=None: {id_ for _, _, id_ in rows(as_of, party)}
    # The extension is decided in June 2015: as of May the MOU expires at the end of the year.
    assert ("2015-12-31", "expiry", "mou") in rows("2015-05")
    assert "mou" not in ids("2015-06")
    assert ("2020-12-31", "expiry", "mou") in rows("2020-01")
    # Held in November 2019: planned as of January, neither planned nor overdue as of December.
    assert ("2019-12-31", "meeting", "rok-china-jcec-24") in rows("2019-01")
    assert "rok-china-jcec-24" not in ids("2019-12")
    # A party's rows include its organisations'; an unknown party is an error.
    assert {"nies-nier-mou-2024", "temm-21"} <= ids("2028-06", "JPN") and "mou" in ids("2015-05", "JPN")
    assert "nies-nier-mou-2024" not in ids("2028-06", "CHN")
    with pytest.raises(LedgerError, match="unknown party 'XXX'"):
        rows("2028-06", "XXX")
    # A retraction takes the extension back out.
    ledger.append({"type": "EventRetracted", "data": {"event": extended.position, "reason": "r"}})
    assert ("2015-12-31", "expiry", "mou") in rows("2015-06")
    assert "mou" not in ids("2020-01")

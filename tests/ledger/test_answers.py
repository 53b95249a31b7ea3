"""Honest answers on both backends: what possibly happened, retracted keys, what changed, what comes."""

from __future__ import annotations

from datetime import date, timedelta

import orjson
import pytest
from coopledger.events import parse_edtf
from coopledger.ledger.application import Ledger
from coopledger.ledger.errors import LineError, Rejected
from support import event

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

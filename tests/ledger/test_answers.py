"""Honest answers on both backends: what possibly happened, retracted keys, what changed, what comes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from coopledger.events import parse_edtf
from coopledger.ledger.application import Ledger
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

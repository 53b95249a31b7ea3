"""How the read model keeps a thing's state: msgspec writes the same bytes the read model has
always held (`encode_plain`), so that a ledger written before reads and verifies the same."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

from coopledger.events.dates import parse_edtf
from coopledger.ledger.api import Ledger
from coopledger.ledger.store import locate
from coopledger.projections import things
from coopledger.projections.parties import Party
from coopledger.projections.projects import Project, Total
from hypothesis import given
from hypothesis import strategies as st
from support import SEEDS


def test_every_state_of_the_seeds_is_written_as_before(tmp_path: Path) -> None:
    db = tmp_path / "seeds.sqlite"
    ledger = Ledger(locate(str(db)), actor="tester")
    try:
        ledger.import_lines(SEEDS.open("rb"))
    finally:
        ledger.close()
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT kind, state FROM coopledger_things UNION ALL"
            " SELECT kind, state FROM coopledger_snapshots WHERE state IS NOT NULL"
        ).fetchall()
    assert len({kind for kind, _ in rows}) == 7  # every kind of thing
    for kind, stored in rows:
        state = things.decode(kind, stored)
        assert things.encode(state) == things.encode_plain(state) == stored


def project(*amounts: str) -> Project:
    totals = tuple(
        Total(currency, Decimal(amount))
        for currency, amount in zip(("EUR", "KRW", "USD")[: len(amounts)], amounts, strict=True)
    )
    return Project(
        "p", "A project", ("KOR", "CHN"), parse_edtf("2019-05"), 1, funding=totals, spent=totals[:1]
    )


def test_an_amount_is_written_as_a_plain_decimal_whatever_its_exponent() -> None:
    # str() writes these 1E-7, 1E-12 and 1.099…E+28: the read model has always kept them plainly
    tiny = project("0.0000001", "0.000000000001", str(Decimal("9" * 27) * 11))
    assert '"amount":"0.0000001"' in things.encode(tiny)
    assert '"amount":"0.000000000001"' in things.encode(tiny)
    assert things.encode(tiny) == things.encode_plain(tiny)
    assert things.decode("project", things.encode(tiny)) == tiny


amounts = st.decimals(
    min_value=Decimal("0.000000000001"), max_value=Decimal("999999999999999999.999999999999")
)


@given(
    st.lists(amounts.map(str), min_size=1, max_size=3),
    st.text(min_size=1, max_size=40),
    st.dictionaries(st.sampled_from(["ko", "zh", "ja", "en"]), st.text(min_size=1, max_size=20)),
)
def test_msgspec_writes_what_the_plain_encoder_writes(
    written: list[str], name: str, names: dict[str, str]
) -> None:
    state = project(*written)
    assert things.encode(state) == things.encode_plain(state)
    party = Party("X", name, "agency", 1, names=names or None)
    assert things.encode(party) == things.encode_plain(party)

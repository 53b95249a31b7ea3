"""The hash chain as SPEC section 5 defines it, checkable from another language."""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785
from coopledger.ledger.chain import GENESIS, canonical, link
from hypothesis import given, settings
from hypothesis import strategies as st

# What envelopes hold: ASCII keys, strings of any text, integers below 2**53, no floats.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1) | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(alphabet=st.characters(max_codepoint=127), max_size=8), children, max_size=4
        )
    ),
    max_leaves=20,
)


@settings(max_examples=500, deadline=None)
@given(json_values)
def test_canonical_json_is_rfc_8785(value: Any) -> None:
    assert canonical(value) == rfc8785.dumps(value)


def test_each_hash_covers_the_one_before_and_the_envelope_without_its_hash() -> None:
    envelope: dict[str, Any] = {
        "id": "e1",
        "position": 1,
        "type": "EventRetracted",
        "data": {"event": "x", "reason": "é"},
        "recorded_at": "2024-01-01T00:00:00.000000Z",
        "recorded_by": "ana",
    }
    expected = hashlib.sha256(GENESIS.encode("ascii") + rfc8785.dumps(envelope)).hexdigest()
    assert link(GENESIS, envelope) == expected
    assert link(GENESIS, {**envelope, "hash": "ignored"}) == expected
    assert link("1" * 64, envelope) != expected

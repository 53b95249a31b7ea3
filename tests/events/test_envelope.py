"""Reading one event as a user writes it: every bad field named, nothing guessed."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import pytest
from coopledger.events import FieldError, parse_event, parse_json
from hypothesis import given
from hypothesis import strategies as st


def identity(party: str) -> str:
    return party.upper()


def parse(text: bytes):  # type: ignore[no-untyped-def]
    return parse_event(parse_json(text), identity)


SIGNED = (
    b'{"type": "InstrumentSigned", "occurred_on": "2024-03-19", "data": {"instrument": "NIES-nier-mou-2024",'
    b' "kind": "mou", "title": "MOU", "parties": ["nies", "NIER"]}, "key": "k"}'
)


def test_ids_are_normalised_and_dates_kept_as_entered() -> None:
    draft = parse(SIGNED)
    assert draft.content == {
        "type": "InstrumentSigned",
        "occurred_on": "2024-03-19",
        "data": {
            "instrument": "nies-nier-mou-2024",
            "kind": "mou",
            "title": "MOU",
            "parties": ["NIES", "NIER"],
        },
        "key": "k",
    }


def test_digits_of_another_script_are_kept_in_ascii() -> None:
    """EDTF and ISO 8601 write dates and durations in ASCII digits; a date copied from a text
    set in full-width (or Arabic-Indic) digits is the same date, and is recorded as such."""
    line = (
        '{"type": "InstrumentSigned", "occurred_on": "\uff12\uff10\uff11\uff19-01-23",'
        ' "data": {"instrument": "m", "kind": "mou", "title": "MOU", "parties": ["KOR", "JPN"],'
        ' "expires_on": "\u0662\u0660\u0662\u0669", "renewal": {"term": "P\uff15Y"}},'
        ' "source": {"title": "Press release", "published_on": "\uff12\uff10\uff11\uff19-01"}}'
    )
    draft = parse(line.encode())
    assert draft.content["occurred_on"] == "2019-01-23"
    assert draft.content["data"]["expires_on"] == "2029"
    assert draft.content["data"]["renewal"] == {"term": "P5Y"}
    assert draft.content["source"]["published_on"] == "2019-01"
    with pytest.raises(FieldError, match=r"data\.renewal\.term"):  # a zero term, however written
        parse(line.replace("P\uff15Y", "P\uff10Y").encode())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b'{"type": "X", "data": {}}', "type: 'X' is not an event type"),
        (b'{"type": "ProjectFunded", "data": {}}', "occurred_on: required"),
        (
            b'{"type": "ProjectFunded", "occurred_on": 2019, "data": {}}',
            "occurred_on: expected an EDTF date string, got a number",
        ),
        (
            b'{"type": "ProjectFunded", "occurred_on": "2019", "data": {"project": "p", "amount": 1.5, "currency": "USD"}}',
            'data.amount: 1.5 is a float; write amounts as a string, e.g. "1.5"',
        ),
        (
            b'{"type": "ProjectFunded", "occurred_on": "2019", "data": {"project": "p", "amount": "-3", "currency": "USD"}}',
            "data.amount: '-3' is not an amount",
        ),
        (
            b'{"type": "ProjectFunded", "occurred_on": "2019", "data": {"project": "p", "amount": "0", "currency": "USD"}}',
            "data.amount: must be greater than 0",
        ),
        (
            b'{"type": "ProjectFunded", "occurred_on": "2019", "data": {"project": "p", "amount": "1e5", "currency": "USD"}}',
            "data.amount: '1e5' is not an amount",
        ),
        (
            b'{"type": "ProjectFunded", "occurred_on": "2019", "data": {"project": "p", "amount": true, "currency": "USD"}}',
            "data.amount: True is not an amount",
        ),
        (
            b'{"type": "ProjectFunded", "occurred_on": "2019", "data": {"project": "p", "amount": "5", "currency": "XXY"}}',
            "data.currency: 'XXY' is not an ISO 4217 currency code",
        ),
        (
            b'{"type": "ProjectFunded", "occurred_on": "2019", "data": {"project": "p", "amount": "5", "currency": "USD", "extra": 1}}',
            "data.extra: unknown field for ProjectFunded",
        ),
        (
            b'{"type": "ProjectFunded", "occurred_on": "2019", "data": {"project": "p", "amount": "5", "currency": "USD"}, "colour": 1}',
            "colour: unknown top-level field",
        ),
        (
            b'{"type": "ProjectFunded", "occurred_on": "2019", "data": {"project": "p", "amount": "5", "currency": "USD"}, "source": {"author": "x"}}',
            "source.author: unknown source field",
        ),
        (
            b'{"type": "ProjectFunded", "occurred_on": "2019", "data": {"project": "p", "amount": "5", "currency": "USD"}, "source": {"published_on": "2019-02-30"}}',
            "source.published_on: '2019-02-30' is not a calendar date",
        ),
        (
            b'{"type": "MeetingHeld", "occurred_on": "2019", "data": {"meeting": "m", "parties": ["KOR", "JPN"], "number": "24"}}',
            "data.number: expected a whole number, got a string",
        ),
        (
            b'{"type": "MeetingHeld", "occurred_on": "2019", "data": {"meeting": "a b", "parties": ["KOR", "JPN"]}}',
            "data.meeting: 'a b' is not an id",
        ),
        (
            b'{"type": "MeetingHeld", "occurred_on": "2019", "data": {"meeting": "m", "parties": "KOR"}}',
            "data.parties: expected a list, got a string",
        ),
        (
            b'{"type": "MeetingHeld", "occurred_on": "2019", "data": {"meeting": "m", "parties": ["KOR", 5]}}',
            r"data.parties[1]: expected a party id, got a number",
        ),
        (
            b'{"type": "MeetingHeld", "occurred_on": "2019", "data": {"meeting": "m", "parties": ["KOR", "JPN"], "title": " "}}',
            "data.title: must not be blank",
        ),
        (
            b'{"type": "EventRetracted", "data": {"event": "not-an-id", "reason": "r"}}',
            "data.event: 'not-an-id' is neither a position nor an event id",
        ),
        (
            b'{"type": "EventRetracted", "data": {"event": 1, "reason": "r"}, "id": "nope"}',
            "id: 'nope' is not a UUID",
        ),
        (
            b'{"type": "EventRetracted", "data": {"event": 1, "reason": "r"}, "hash": "abc"}',
            "hash: expected 64 lower-case hex digits",
        ),
        (
            b'{"type": "EventRetracted", "data": {"event": 1, "reason": "r"}, "imported_from": {"colour": 1}}',
            "imported_from.colour: unknown provenance field",
        ),
        (b'{"type": "X", "type": "Y"}', "an object has the same key twice"),
        (
            b'{"type": "EventRetracted", "data": {"event": 1, "reason": "r", "reason": "s"}}',
            "an object has the same key twice",
        ),
        (b'{"type": NaN}', "not valid JSON"),
        (b'{"type": "\xff"}', "not valid UTF-8 (byte 11)"),
        (b'{"type": "Event', "not valid JSON"),
        (b"[" * 5000 + b"]" * 5000, "not valid JSON"),
        (b'"' + b"x" * 1_000_001 + b'"', "longer than 1000000 bytes"),
        (b"[1, 2]", "expected a JSON object, got a list"),
        (
            SIGNED.replace(b'"2024-03-19"', '"2024\xb2"'.encode()),
            "occurred_on: '2024\xb2' is not an EDTF date",
        ),
    ],
)
def test_bad_input_is_named_by_its_field(text: bytes, message: str) -> None:
    with pytest.raises(FieldError) as raised:
        parse(text)
    assert str(raised.value).startswith(message)


def test_quotes_and_colons_inside_strings_are_not_keys() -> None:
    draft = parse(b'{"type": "EventRetracted", "data": {"event": 1, "reason": "said \\"a\\": b, \\"c\\":"}}')
    assert draft.content["data"]["reason"] == 'said "a": b, "c":'


def test_provenance_of_an_imported_line_is_kept() -> None:
    draft = parse(
        b'{"type": "EventRetracted", "data": {"event": 1, "reason": "r"}, "position": 7, "recorded_by": "ana",'
        b' "recorded_at": "2024-01-01T00:00:00.000000Z", "hash": "' + b"a" * 64 + b'",'
        b' "imported_from": {"position": 3, "recorded_by": "bo"}}'
    )
    assert draft.imported_from == {
        "position": 7,
        "hash": "a" * 64,
        "recorded_at": "2024-01-01T00:00:00.000000Z",
        "recorded_by": "ana",
        "imported_from": {"position": 3, "recorded_by": "bo"},
    }


@given(
    st.uuids(),
    st.sampled_from(
        [str, lambda u: str(u).upper(), lambda u: u.hex, lambda u: f"{{{u}}}", lambda u: f"urn:uuid:{u}"]
    ),
)
def test_an_event_id_is_written_as_the_ledger_writes_one(uuid: UUID, spelling: Callable[[UUID], str]) -> None:
    """However a UUID is spelled, the id kept is its lower-case hyphenated form; one already in
    that form is kept as it is (every stored event's id)."""
    line = {"type": "EventRetracted", "data": {"event": 1, "reason": "r"}, "id": spelling(uuid)}
    assert parse_event(line, identity).id == str(uuid)


@pytest.mark.parametrize(
    "written", ["", " 8f1d2c3a-0000-4000-8000-000000000000", "8f1d2c3a-0000-4000-8000-00000000000g\n", 7]
)
def test_an_event_id_that_is_not_a_uuid_is_refused(written: object) -> None:
    with pytest.raises(FieldError, match="is not a UUID"):
        parse_event({"type": "EventRetracted", "data": {"event": 1, "reason": "r"}, "id": written}, identity)

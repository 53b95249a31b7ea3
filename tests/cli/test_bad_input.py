"""Bad input, systematically: every rejection exits 2 with one line naming the line and the
field, no traceback, and the ledger unchanged."""

from __future__ import annotations

import re
import sqlite3
import uuid
from contextlib import closing
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result
from coopledger.cli import cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import AGREEMENT, COMPLETED, HELD_24, MOU, NIER, PROJECT, SEEDS, SERIES

ONE_LINE = re.compile(r"Error: line 2: [^\n]+\n")
VALID = [orjson.loads(line) for line in SEEDS.read_bytes().splitlines()]
FRESH = {
    "type": "MeetingHeld",
    "occurred_on": "2020",
    "data": {"meeting": "fresh", "parties": ["KOR", "JPN"]},
}


@pytest.fixture(scope="module")
def seeded_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("seeded") / "ledger.sqlite"
    assert CliRunner().invoke(cli, ["--db", str(path), "import", str(SEEDS)]).exit_code == 0
    return path


def run(db: Path, *args: str, input: bytes | None = None) -> Result:
    return CliRunner().invoke(cli, ["--db", str(db), *args], input=input)


def import_second_line(seeded_file: Path, tmp_path: Path, line: bytes) -> tuple[Result, str, str]:
    """Import a file whose second line is `line` into a copy of the seeded ledger."""
    db = tmp_path / f"copy-{uuid.uuid4().hex}.sqlite"  # examples share tmp_path: one file each
    with closing(sqlite3.connect(seeded_file)) as source, closing(sqlite3.connect(db)) as copy:
        source.backup(copy)
    before = run(db, "digest").stdout
    lines = tmp_path / "in.jsonl"
    lines.write_bytes(orjson.dumps(FRESH) + b"\n" + line + b"\n")
    result = run(db, "import", str(lines))
    return result, before, run(db, "digest").stdout


def refused(result: Result, before: str, after: str) -> str:
    assert result.exit_code == 2, result.output
    assert ONE_LINE.fullmatch(result.stderr), result.stderr
    assert "Traceback" not in result.output and result.stdout == ""
    assert after == before
    return result.stderr.removeprefix("Error: line 2: ").rstrip("\n")


def mutate_bytes(draw: st.DrawFn, line: bytes) -> bytes:
    kind = draw(st.sampled_from(["truncate", "invalid utf-8", "duplicate key", "nan", "deep", "huge"]))
    if kind == "truncate":
        return line[: draw(st.integers(1, len(line) - 1))]
    if kind == "invalid utf-8":
        at = draw(st.integers(0, len(line)))
        return line[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80"])) + line[at:]
    if kind == "duplicate key":
        return line.replace(b'{"type":', b'{"type":"X","type":', 1)
    if kind == "nan":
        return line.replace(
            b'"occurred_on":',
            b'"occurred_on":' + draw(st.sampled_from([b"NaN", b"Infinity", b"-Infinity"])) + b',"x":',
            1,
        )
    if kind == "deep":
        depth = draw(st.integers(600, 3000))
        return line.replace(b'"data":', b'"data":' + b"[" * depth + b"]" * depth + b',"y":', 1)
    return line.replace(b'"type":', b'"note":"' + b"x" * 1_000_001 + b'","type":', 1)


@st.composite
def byte_mutations(draw: st.DrawFn) -> bytes:
    return mutate_bytes(draw, orjson.dumps(draw(st.sampled_from(VALID))))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(byte_mutations())
def test_broken_lines_are_refused_by_line(seeded_file: Path, tmp_path: Path, line: bytes) -> None:
    result, before, after = import_second_line(seeded_file, tmp_path, line)
    message = refused(result, before, after)
    assert re.match(
        r"(not valid JSON|not valid UTF-8|an object has the same key twice|longer than|type:|[a-z_.\[\]0-9]+: )",
        message,
    ), message


WRONG = [1, 2.5, True, None, [], ["x"], {}, {"a": 1}, "", "  ", "2019-02-30", "x" * 30_000]


@st.composite
def field_mutations(draw: st.DrawFn) -> tuple[bytes, str, bool]:
    """A valid event with one field changed to a wrong value, or an unknown field added.

    Returns the line, the field, and whether it must be refused: a changed value may happen to
    be valid (a null optional field, a date in a title), an unknown field never is.
    """
    event: dict[str, Any] = orjson.loads(orjson.dumps(draw(st.sampled_from(VALID))))
    event["key"] = "mutated"
    where = draw(st.sampled_from(["data", "top", "source", "unknown data", "unknown top", "unknown source"]))
    if where == "data":
        name = draw(st.sampled_from(sorted(event["data"])))
        event["data"][name] = draw(st.sampled_from(WRONG))
        return orjson.dumps(event), f"data.{name}", False
    if where == "top":
        name = draw(
            st.sampled_from(["type", "occurred_on", "note", "key", "id", "position", "hash", "source"])
        )
        event[name] = draw(st.sampled_from(WRONG))
        return orjson.dumps(event), name, False
    if where == "source":
        name = draw(st.sampled_from(["title", "publisher", "published_on", "url"]))
        event["source"][name] = draw(st.sampled_from(WRONG))
        return orjson.dumps(event), f"source.{name}", False
    container = {"unknown data": event["data"], "unknown top": event, "unknown source": event["source"]}[
        where
    ]
    container["colour"] = "blue"
    prefix = {"unknown data": "data.", "unknown top": "", "unknown source": "source."}[where]
    return orjson.dumps(event), f"{prefix}colour", True


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field_mutations())
def test_a_wrong_or_unknown_field_is_named(
    seeded_file: Path, tmp_path: Path, mutation: tuple[bytes, str, bool]
) -> None:
    line, field, must_refuse = mutation
    result, before, after = import_second_line(seeded_file, tmp_path, line)
    if result.exit_code == 0 and not must_refuse:
        return  # the change happened to be valid (a null optional field, say)
    message = refused(result, before, after)
    if must_refuse:
        assert message.startswith(f"{field}: unknown"), message
    # The message names the field, or the rule the changed field breaks.
    assert message.startswith((field, "data.", "occurred_on", "key", "type")), (field, message)


RULE_BREAKERS = [
    (
        AGREEMENT
        | {"data": AGREEMENT["data"] | {"instrument": "kor-usa-environmental-cooperation-agreement"}},
        "data.instrument",
    ),
    (MOU | {"data": MOU["data"] | {"parties": ["NIER", "NIER"]}}, "data.parties[1]"),
    (
        {
            "type": "InstrumentExtended",
            "occurred_on": "2025",
            "data": {"instrument": "nies-nier-mou-2024", "expires_on": "2028"},
        },
        "data.expires_on",
    ),
    (
        {
            "type": "InstrumentEnteredIntoForce",
            "occurred_on": "2025",
            "data": {"instrument": "nies-nier-mou-2024"},
        },
        "data.instrument",
    ),
    (
        {"type": "InstrumentTerminated", "occurred_on": "2000", "data": {"instrument": "nies-nier-mou-2024"}},
        "occurred_on",
    ),
    (SERIES | {"data": SERIES["data"] | {"series": "temm"}}, "data.series"),
    (
        HELD_24
        | {"data": HELD_24["data"] | {"series": "rok-china-jcec", "number": 23, "parties": ["KOR", "CHN"]}},
        "data.number",
    ),
    (HELD_24 | {"data": HELD_24["data"] | {"series": None, "number": 3}}, "data.number"),
    (
        {
            "type": "MeetingScheduled",
            "occurred_on": "2020",
            "data": {"meeting": "rok-china-jcec-23", "parties": ["KOR", "CHN"], "planned_for": "2021"},
        },
        "data.meeting",
    ),
    (PROJECT | {"data": PROJECT["data"] | {"project": "neacap"}}, "data.project"),
    (PROJECT | {"data": PROJECT["data"] | {"planned_end": "2016"}}, "data.planned_end"),
    (COMPLETED | {"data": {"project": "no-such-project"}}, "data.project"),
    (
        {
            "type": "ProjectFunded",
            "occurred_on": "2020",
            "data": {"project": "neacap", "amount": "0", "currency": "USD"},
        },
        "data.amount",
    ),
    (
        {
            "type": "ProjectFunded",
            "occurred_on": "2020",
            "data": {"project": "neacap", "amount": 1.5, "currency": "USD"},
        },
        "data.amount",
    ),
    (NIER, "data.party"),
    (
        {
            "type": "PartyRegistered",
            "occurred_on": "2020",
            "data": {"party": "X9", "name": "x", "kind": "agency", "aliases": ["ESCAP"]},
        },
        "data.aliases[0]",
    ),
    ({"type": "EventRetracted", "data": {"event": 1, "reason": "r"}}, "data.event"),  # NIES is named later on
    ({"type": "EventRetracted", "data": {"event": 500, "reason": "r"}}, "data.event"),
    (
        {"type": "MeetingHeld", "occurred_on": "2020", "data": {"meeting": "m", "parties": ["KOR", "XYZ"]}},
        "data.parties[1]",
    ),
    (
        {
            "type": "MeetingHeld",
            "occurred_on": "2020",
            "data": {"meeting": "m", "parties": ["KOR", "JPN"], "host": "ABC"},
        },
        "data.host",
    ),
    (
        {
            "type": "ProjectLaunched",
            "occurred_on": "2017-05",
            "key": "clean-sky-project/launched",
            "data": {"project": "other", "title": "t", "parties": ["KOR", "CHN"]},
        },
        "key",
    ),
]


@pytest.mark.parametrize(("event", "field"), RULE_BREAKERS)
def test_every_rule_broken_is_refused_naming_its_field(
    seeded_file: Path, tmp_path: Path, event: dict[str, Any], field: str
) -> None:
    result, before, after = import_second_line(seeded_file, tmp_path, orjson.dumps(event))
    assert refused(result, before, after).startswith(field + ":")


arguments = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=30
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from(["state", "history", "relationships", "show", "log"]),
    st.sampled_from(
        ["--as-of", "--known-at", "--from", "--to", "--since-position", "--type", "--party", None]
    ),
    arguments,
    arguments,
)
def test_any_arguments_give_an_answer_or_one_line_of_error(
    seeded_file: Path, command: str, option: str | None, first: str, second: str
) -> None:
    args = {
        "state": [first, second],
        "history": [first, second],
        "show": [first],
        "relationships": [],
        "log": [],
    }[command]
    valid_options = {
        "state": {"--as-of", "--known-at"},
        "history": {"--from", "--to", "--known-at"},
        "relationships": {"--as-of"},
        "show": set(),
        "log": {"--since-position", "--type", "--party"},
    }[command]
    if option in valid_options:
        args = [*args, option, second]
    result = (
        run(seeded_file, command, "--", *args)
        if command == "show" and first.startswith("-")
        else run(seeded_file, command, *args)
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    if result.exit_code != 0:
        assert result.exit_code in (1, 2)
        assert result.stderr.count("\n") == 1 or result.stderr.startswith("Usage:"), result.stderr

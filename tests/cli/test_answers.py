"""Honest answers on the command line: retracted keys, changes, upcoming, and the small ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from coopledger.cli import cli
from support import SEED_EVENTS, SEEDS


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    db = str(tmp_path / "ledger.sqlite")

    def invoke(*args: str, input: str | bytes | None = None, actor: str = "ana") -> Result:
        return CliRunner().invoke(cli, ["--db", db, "--actor", actor, *args], input=input)

    return invoke


@pytest.fixture
def seeded(run):  # type: ignore[no-untyped-def]
    assert run("import", str(SEEDS)).exit_code == 0
    return run


def test_a_retracted_key_exits_2_with_the_hint_and_import_counts_it_apart(seeded, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    held = json.loads(seeded("show", "65", "--json").stdout)["event"]
    assert seeded("retract", "65", "--reason", "wrong meeting").exit_code == 0
    retracted_on = json.loads(seeded("show", "65", "--json").stdout)["retraction"]["recorded_at"]
    hint = (
        f"Error: key 'rok-china-jcec-23/held' is event #65, retracted on {retracted_on} (wrong meeting); "
        "record the correction under a new key\n"
    )
    again = {name: held[name] for name in ("type", "occurred_on", "data", "source", "key")}
    result = seeded("append", json.dumps(again))
    assert (result.exit_code, result.stderr) == (2, hint)
    verb = seeded(
        "meet", "rok-china-jcec-23", "--party", "KOR", "--party", "CHN", "--on", "2019-01-23",
        "--key", "rok-china-jcec-23/held",
    )  # fmt: skip
    assert (verb.exit_code, verb.stderr) == (2, hint)
    result = seeded("import", str(SEEDS))
    assert result.stdout == (
        f"imported 0 events, {SEED_EVENTS - 1} duplicates skipped, 1 retracted earlier (skipped)\n"
    )
    assert json.loads(seeded("import", "--json", str(SEEDS)).stdout)["retracted_earlier"] == 1


def test_import_reports_up_to_20_bad_lines_and_writes_nothing(seeded, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good = '{"type": "MeetingHeld", "occurred_on": "2019-11", "data": {"meeting": "x", "parties": ["KOR", "CHN"]}}'
    bad_number = '{"type": "MeetingHeld", "occurred_on": "2019-11", "data": {"meeting": "y", "parties": ["KOR", "CHN"], "number": 1.5}}'
    lines = [good, bad_number, "", "{not json", good.replace('"x"', '"z"').replace("2019-11", "2999")]
    source = tmp_path / "bad.jsonl"
    source.write_text("\n".join(lines) + "\n")
    digest = seeded("digest").stdout
    result = seeded("import", str(source))
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: line 2: data.number: expected a whole number, got a float\n"
        "line 4: not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)\n"
        "line 5: occurred_on: 2999 has not happened yet; record what happened, and date an announcement on the day it was made\n"
        "3 bad lines; nothing was imported\n",
    )
    source.write_text("\n".join([good] + [bad_number] * 30) + "\n")
    result = seeded("import", str(source))
    assert result.exit_code == 2
    reported = result.stderr.splitlines()
    assert len(reported) == 21 and reported[0].startswith("Error: line 2: data.number:")
    assert reported[19].startswith("line 21: data.number:")
    assert reported[20] == "stopped reading at 20 bad lines; nothing was imported"
    assert seeded("digest").stdout == digest


def test_a_date_written_in_words_is_refused_with_the_forms_and_the_date_meant(run) -> None:  # type: ignore[no-untyped-def]
    result = run("state", "KOR", "CHN", "--as-of", "January 2019")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--as-of': 'January 2019' is not an EDTF date: write 2019-01 "
        "(EDTF dates: 2024-03-19, 2017-05 for a month, 2019 for a year, 2019-41 for the second half "
        "of 2019, 2012~ for approximate, 2017-06-29/2017-06-30 for an interval)"
    )
    assert (
        "write 2019-01-23 ("
        in run("meet", "m", "--party", "KOR", "--party", "CHN", "--on", "23 Jan 2019").stderr
    )
    assert (
        "'someday' is not an EDTF date (EDTF dates: 2024-03-19"
        in run("history", "KOR", "CHN", "--from", "someday").stderr
    )


def test_show_takes_a_key_too(seeded) -> None:  # type: ignore[no-untyped-def]
    by_key = seeded("show", "rok-china-jcec-23/held")
    assert by_key.exit_code == 0 and by_key.stdout == seeded("show", "65").stdout
    event_id = json.loads(seeded("show", "65", "--json").stdout)["event"]["id"]
    assert seeded("show", event_id.upper()).stdout == by_key.stdout
    missing = seeded("show", "rok-china-jcec-99/held")
    assert (missing.exit_code, missing.stderr) == (
        1,
        "Error: no event 'rok-china-jcec-99/held' in the ledger\n",
    )

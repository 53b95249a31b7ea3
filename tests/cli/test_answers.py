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

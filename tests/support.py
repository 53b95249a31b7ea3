"""What several test modules share: the example ledger's path and a few events."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

from coopledger.events import decode
from coopledger.projections.relationship import Entry

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "examples" / "seeds.jsonl"


def event(type_: str, occurred_on: str | None, **data: Any) -> dict[str, Any]:
    value = {"type": type_, "data": data}
    if occurred_on:
        value["occurred_on"] = occurred_on
    return value


NIER = event(
    "PartyRegistered",
    "2024-01",
    party="NIER",
    name="National Institute of Environmental Research",
    kind="agency",
    country="ROK",
    aliases=["NIER-KR"],
)
MOU = event(
    "InstrumentSigned",
    "2024-03-19",
    instrument="mou",
    kind="mou",
    title="MOU",
    parties=["NIER", "JPN"],
    expires_on="2029-03-31",
)
AGREEMENT = event(
    "InstrumentSigned",
    "2012-01-23",
    instrument="kor-usa",
    kind="agreement",
    title="Agreement",
    parties=["KOR", "USA"],
    expires_on="2030",
)
SERIES = event("SeriesEstablished", "1993", series="jc", title="Joint Committee", parties=["KOR", "JPN"])
HELD_24 = event("MeetingHeld", "2019-01-23", meeting="jc-24", parties=["KOR", "JPN"], series="jc", number=24)
PROJECT = event(
    "ProjectLaunched",
    "2017-05",
    project="clean-sky",
    title="Clean Sky",
    parties=["KOR", "CHN"],
    planned_end="2020",
)
COMPLETED = event("ProjectCompleted", "2020-06", project="clean-sky")


def entry(
    position: int,
    type_: str,
    occurred_on: str | None,
    recorded_at: str = "2024-01-01T00:00:00.000000Z",
    retraction: Entry | None = None,
    exact: bool = True,
    **data: Any,
) -> Entry:
    envelope = {
        "id": event_id(position),
        "position": position,
        "type": type_,
        "data": data,
        "recorded_at": recorded_at,
        "recorded_by": "t",
        "hash": "0" * 64,
    }
    if occurred_on:
        envelope["occurred_on"] = occurred_on
    return Entry(
        decode(envelope), exact, len(data.get("parties", ())) > 2, retraction.event if retraction else None
    )


def event_id(position: int) -> str:
    return str(UUID(int=position))


def retraction(position: int, target: int, recorded_at: str) -> Entry:
    return entry(position, "EventRetracted", None, recorded_at, event=event_id(target), reason="mistake")


# How many events the example ledger holds: positions after it are counted from here.
SEED_EVENTS = sum(1 for line in SEEDS.read_bytes().splitlines() if line.strip())


# --- the web view and the exports: the command line run as a user would, a ledger to attack

HOSTILE_TITLE = '<script>alert("title")</script><img src=x onerror=alert(1)>'
HOSTILE = [
    {
        "type": "InstrumentSigned",
        "occurred_on": "2020-05-01",
        "data": {
            "instrument": "hostile-mou",
            "kind": "mou",
            "title": HOSTILE_TITLE,
            "parties": ["KOR", "JPN"],
        },
        "source": {"title": "<b>press</b> release", "url": "javascript:alert(2)"},
        "note": "<i>note</i>",
        "key": "hostile-mou/signed",
    },
    {
        "type": "MeetingHeld",
        "occurred_on": "2020-06-01",
        "data": {"meeting": "mistaken-meeting", "parties": ["KOR", "JPN"], "venue": "<u>Seoul</u>"},
        "key": "mistaken-meeting/held",
    },
]


def coopledger(db: str, *args: str, actor: str = "tester") -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "coopledger", "--db", db, "--actor", actor, *args]
    return subprocess.run(command, capture_output=True, text=True)


def build_ledger(db: str) -> None:
    """The example ledger, a title and a source written to attack the page, and a retraction."""
    assert coopledger(db, "import", str(SEEDS)).returncode == 0
    for event in HOSTILE:
        result = coopledger(db, "append", json.dumps(event))
        assert result.returncode == 0, result.stderr
    target = int(coopledger(db, "digest").stdout.split(":")[0])  # the meeting: the last event
    retracted = coopledger(db, "retract", str(target), "--reason", "<script>alert(3)</script> recorded twice")
    assert retracted.returncode == 0, retracted.stderr


def address(process: subprocess.Popen[str]) -> str:
    """The base URL that a starting `coopledger serve` prints first (it is killed if it prints another line)."""
    line = process.stdout.readline() if process.stdout else ""
    if "http://" not in line:
        process.kill()
        raise AssertionError(f"serve did not start: {line}{process.stderr.read() if process.stderr else ''}")
    return "http://" + line.split("http://", 1)[1].split("/", 1)[0]


@contextmanager
def served(db: str) -> Iterator[str]:
    """`coopledger serve --port 0` running on the ledger; yields its base URL, stops it after."""
    process = subprocess.Popen(
        [sys.executable, "-m", "coopledger", "--db", db, "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield address(process)
    finally:
        process.terminate()
        process.wait(timeout=10)


# What differs from one run to the next: ids, recording times and the hashes over them.
VARYING = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d{4}-\d\d-\d\dT[\d:.]+Z|[0-9a-f]{64}"
)


def tutorial() -> list[tuple[str, list[str]]]:
    """Each `$ command` of the README tutorial with the lines shown after it."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Tutorial", 1)[1].split("\n## ", 1)[0]
    steps: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", section, re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            else:
                steps[-1][1].append(line)
    return steps


def run_tutorial(folder: Path, environment: dict[str, str]) -> None:
    """Run the README tutorial's commands in a new folder as a user would, each checked against
    what the README shows (times, ids and hashes aside) and its exit status."""
    (folder / "examples").symlink_to(ROOT / "examples")
    env = {**environment, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}"}
    env.pop("COOPLEDGER_DB", None)
    exports: list[str] = []
    steps = tutorial()
    assert len(steps) >= 10
    for command, shown in steps:
        if command.startswith("export "):
            exports.append(command)
            continue
        script = "; ".join([*exports, f"{command} 2>&1"])
        result = subprocess.run(["bash", "-c", script], cwd=folder, env=env, capture_output=True, text=True)
        printed = result.stdout.rstrip("\n").splitlines()
        assert [VARYING.sub("…", line) for line in printed] == [VARYING.sub("…", line) for line in shown], (
            command
        )
        assert (result.returncode == 0) == (not any(line.startswith("Error:") for line in shown)), command
    pictures = [path for path in folder.iterdir() if path.suffix == ".png"]
    assert pictures and all(path.read_bytes().startswith(b"\x89PNG") for path in pictures)

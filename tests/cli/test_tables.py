"""Tables on a terminal, plain text when piped: the commands run on a real pseudo-terminal."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support import SEEDS

BOX = "┃"
STYLE = re.compile(r"\x1b\[[0-9;]*m")


def coopledger(db: Path, *args: str, terminal: bool) -> str:
    """Run the command as a user would, its stdout a terminal of 160 columns or a pipe."""
    command = [sys.executable, "-m", "coopledger", "--db", str(db), "--actor", "ana", *args]
    env = {**os.environ, "COLUMNS": "160", "NO_COLOR": "1", "TERM": "xterm"}
    if not terminal:
        return subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    leader, follower = pty.openpty()
    process = subprocess.Popen(command, env=env, stdout=follower, stderr=subprocess.PIPE)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closes when the process exits
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait() == 0, process.stderr.read() if process.stderr else ""
    return STYLE.sub("", b"".join(chunks).decode().replace("\r\n", "\n"))


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tables") / "ledger.sqlite"
    coopledger(path, "import", str(SEEDS), terminal=False)
    coopledger(path, "retract", "36", "--reason", "recorded twice", terminal=False)
    return path


def rows(output: str, first_cell: str) -> list[list[str]]:
    """The cells of table rows whose first cell is first_cell."""
    found = []
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.strip("│").split("│")]
        if cells and cells[0] == first_cell:
            found.append(cells)
    return found


def test_state_is_four_aligned_tables_on_a_terminal(db: Path) -> None:
    output = coopledger(db, "state", "KOR", "CHN", "--as-of", "2019-01", terminal=True)
    assert output.splitlines()[0] == "CHN~KOR as of 2019-01"
    assert [line.split()[0] for line in output.splitlines() if line and line[0].isalpha()][1:6] == [
        "Instruments",
        "Projects",
        "Meetings:",
        "Series",
        "Parties:",
    ]
    lines = output.splitlines()
    at = lines.index(next(line for line in lines if line.startswith("│ adopted")))
    assert [cell.strip() for cell in lines[at].strip("│").split("│")] == [
        "adopted",
        "temm-14-joint-communique",
        "signed 2012-05",
        "Joint Communique of the 14th Tripartite Environment Ministers Meeting",
    ]
    assert [cell.strip() for cell in lines[at + 1].strip("│").split("│")] == [
        "",
        "communique, multilateral: KOR, CHN, JPN",
        "",
        "members: KOR, CHN, JPN: signature 2012-05",
    ]
    assert rows(output, "last held")[0][:5] == [
        "last held",
        "rok-china-jcec-23",
        "2019-01-23",
        "Lotte Hotel, Seoul",
    ]
    assert rows(output, "rok-china-jcec")[0] == [
        "rok-china-jcec",
        "1",
        "23",
        "ROK-China Joint Committee on Environmental Cooperation",
    ]
    blocks: list[list[str]] = [[]]
    for line in output.splitlines():  # each table's lines are exactly as wide as its borders
        if line.startswith(("┏", "┃", "┡", "│", "└")):
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    assert len([block for block in blocks if block]) == 4
    assert all(len({len(line) for line in block}) == 1 for block in blocks if block)
    assert all(len(block[0]) <= 160 for block in blocks if block)


def test_dates_are_printed_as_entered_and_piped_output_is_plain(db: Path) -> None:
    piped = coopledger(db, "state", "KOR", "CHN", "--as-of", "2019-01", terminal=False)
    assert BOX not in piped and "│" not in piped
    assert "  ACTIVE     clean-sky-project KOR, CHN: Clean Sky Project: joint research on fine dust" in piped
    terminal = coopledger(db, "state", "KOR", "CHN", "--as-of", "2019-01", terminal=True)
    assert rows(terminal, "active")[1][:3] == ["active", "clean-sky-project", "launched 2017-05"]


def test_history_marks_retracted_events(db: Path) -> None:
    output = coopledger(db, "history", "KOR", "VNM", terminal=True)
    retracted = [line for line in output.splitlines() if "RETRACTED" in line]
    assert len(retracted) == 1 and "recorded twice" in retracted[0] and "36" in retracted[0]
    assert BOX in output


def test_relationships_table_has_one_row_per_relationship(db: Path) -> None:
    output = coopledger(db, "relationships", "--as-of", "2019-01-31", terminal=True)
    piped = coopledger(db, "relationships", "--as-of", "2019-01-31", terminal=False)
    names = [line.split()[0] for line in piped.splitlines()]
    assert [row[0] for row in rows(output, names[0])] == [names[0]]
    assert sum(1 for line in output.splitlines() if line.startswith("│")) >= len(names)


def test_the_log_pages_share_one_set_of_column_widths(db: Path) -> None:
    from coopledger.render import log_tables

    entries = [
        {
            "position": n,
            "recorded_at": "2026-11-22T00:00:00.000000Z",
            "recorded_by": "ana",
            "type": "MeetingHeld",
            "data": {"meeting": f"m-{n}"},
        }
        for n in range(1, 8)
    ]
    from rich.console import Console

    console = Console(width=140, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    for table in log_tables(entries, rows=3):
        console.print(table)
    lines = [line for line in console.export_text().splitlines() if line.startswith("│")]
    assert len(lines) == 7
    assert len({line.index("│", 2) for line in lines}) == 1
    assert len({len(line) for line in lines}) == 1
    output = coopledger(db, "log", "--type", "EventRetracted", terminal=True)
    assert "recorded at" in output and "EventRetracted" in output


def test_empty_answers_are_a_line_not_an_empty_table(db: Path) -> None:
    assert coopledger(db, "state", "KOR", "FRA", "--as-of", "2019", terminal=True).splitlines() == [
        "FRA~KOR as of 2019",
        "Instruments: none",
        "Projects: none",
        "Meetings: 0 held",
        "Series: none",
        "Parties: FRA France; KOR South Korea",
    ]
    assert coopledger(db, "history", "KOR", "FRA", terminal=True) == "no events\n"
    assert coopledger(db, "log", "--since-position", "1000", terminal=True) == "no events\n"
    assert coopledger(db, "relationships", "--as-of", "1900", terminal=True) == "no relationships yet\n"


@pytest.mark.parametrize("terminal", [True, False])
def test_what_a_terminal_would_act_on_is_shown_escaped_never_sent(tmp_path: Path, terminal: bool) -> None:
    """A title recorded with escape sequences (colours, a window title, the clipboard), a line
    break that would forge a line of its own, or a right-to-left override would act on the
    terminal of whoever reads the ledger: text and tables show each such character escaped."""
    db = tmp_path / "ledger.sqlite"
    title = "Evil \x1b[31mred\x1b]0;retitled\x07 \x1b]52;c;Y2xpcA==\x07\n  IN_FORCE  forged \u202eTLR\x85"
    event = (
        '{"type": "InstrumentSigned", "occurred_on": "2019-05-20", "data": {"instrument": "evil",'
        f' "kind": "mou", "title": {json.dumps(title)}, "parties": ["KOR", "JPN"]}}}}'
    )
    coopledger(db, "append", event, terminal=False)
    shown = r"Evil \x1b[31mred\x1b]0;retitled\x07 \x1b]52;c;Y2xpcA==\x07\x0a  IN_FORCE  forged \u202eTLR\x85"
    for command in (
        ["state", "KOR", "JPN", "--as-of", "2020"],
        ["history", "KOR", "JPN"],
        ["log"],
        ["show", "1"],
    ):
        output = coopledger(db, *command, terminal=terminal)
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", output), command
        assert "forged" not in output or "\\x0a  IN_FORCE  forged" in output, command
        if not terminal:  # a table cuts a long title into its column's width
            assert shown in output, command

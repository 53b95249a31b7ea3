"""Storage traps and unreadable events at the command line: one line on stderr, the right exit
code, nothing written (SPEC section 5)."""

from __future__ import annotations

import errno
import io
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from coopledger import exports
from coopledger.cli import cli
from support import ROOT, SEED_EVENTS, SEEDS

JCEC_23 = 65  # MeetingHeld rok-china-jcec-23, in CHN~KOR
JCEC_19_SCHEDULED = 25  # MeetingScheduled rok-japan-jcec-19, never known to have been held


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.sqlite"
    assert coopledger(path, "import", str(SEEDS)).exit_code == 0
    return path


def coopledger(db: Path | str, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["--db", str(db), "--actor", "ana", *args], env=env)


def one_line(result: Result, code: int = 2) -> str:
    assert (result.exit_code, "Traceback" in result.output) == (code, False), result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: "), result.stderr
    return result.stderr.removeprefix("Error: ").rstrip("\n")


def verified(db: Path) -> str:
    result = coopledger(db, "verify")
    assert result.exit_code == 0, result.output
    return result.stdout


FRESH = '{"type": "MeetingHeld", "occurred_on": "2020", "data": {"meeting": "m", "parties": ["KOR", "JPN"]}}'


@pytest.mark.parametrize("memory", [":memory:", "sqlite:///:memory:", "file::memory:?cache=shared"])
def test_a_store_that_would_not_outlive_the_process_is_refused(tmp_path: Path, memory: str) -> None:
    os.chdir(tmp_path)
    message = one_line(coopledger(memory, "append", FRESH))
    assert message.endswith(
        "a ledger must outlive the process; give a file path (an in-memory database would lose every event on exit)"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_sqlite_url_with_three_slashes_is_not_taken_for_a_new_ledger_beside_the_meant_one(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    relative = str(db).lstrip("/")  # sqlite:///tmp/... names tmp/... in the working directory
    for args in (["append", FRESH], ["state", "KOR", "CHN"]):
        assert one_line(coopledger(f"sqlite:///{relative}", *args)) == (
            f"--db sqlite:///{relative}: names {relative} in {elsewhere}, which is not there, while"
            f" /{relative} is; write sqlite:////{relative} (four slashes) or the path alone for that one"
        )
    assert list(elsewhere.iterdir()) == []
    assert coopledger(f"sqlite:////{relative}", "state", "KOR", "CHN").exit_code == 0
    assert coopledger(relative, "append", FRESH).exit_code == 0  # a new ledger there, as written
    assert (elsewhere / relative).is_file()
    assert coopledger(f"sqlite:///{relative}", "state", "KOR", "JPN").exit_code == 0  # now it is there


def test_a_special_file_is_no_ledger(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    assert one_line(coopledger(tmp_path / "pipe", "append", FRESH)) == (
        f"--db {tmp_path / 'pipe'}: not a regular file; give the path of a SQLite file"
    )


def test_backup_refuses_its_own_ledger_also_through_a_symlink(db: Path, tmp_path: Path) -> None:
    before = verified(db)
    (tmp_path / "link.jsonl").symlink_to(db)
    for target in (db, tmp_path / "link.jsonl", Path(f"{db}-wal")):
        assert one_line(coopledger(db, "backup", str(target))) == (
            f"{target}: that is the ledger itself; write the copy somewhere else"
        )
        assert one_line(coopledger(db, "export", "--out", str(target))) == (
            f"--out {target}: that is the ledger itself; write the copy somewhere else"
        )
    assert verified(db) == before


def test_files_are_written_through_a_fresh_temporary_never_a_planted_symlink(
    db: Path, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out.jsonl"
    for planted in (f"{out}.partial", tmp_path / ".out.partial.jsonl"):
        Path(planted).symlink_to(victim)
    assert coopledger(db, "backup", str(out)).exit_code == 0
    assert coopledger(db, "export", "--out", str(out)).exit_code == 0
    assert victim.read_text() == "precious"
    assert len(out.read_bytes().splitlines()) == SEED_EVENTS
    leftovers = [path.name for path in tmp_path.iterdir() if "partial" in path.name and not path.is_symlink()]
    assert leftovers == []


def test_special_files_are_refused_as_targets(db: Path, tmp_path: Path) -> None:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    assert (
        one_line(coopledger(db, "backup", str(pipe)))
        == f"{pipe}: not a regular file; give the path of a file to write"
    )
    assert one_line(coopledger(db, "export", "--out", str(pipe))).endswith(
        "not a regular file; give the path of a file to write"
    )
    assert pipe.is_fifo()


def test_nul_characters_are_refused_on_input(db: Path, tmp_path: Path) -> None:
    before = coopledger(db, "digest").stdout
    with_nul = '{"type": "MeetingHeld", "occurred_on": "2020", "data": {"meeting": "m", "parties": ["KOR", "JPN"], "venue": "Seoul\\u0000"}}'
    assert one_line(coopledger(db, "append", with_nul)) == (
        "data.venue: contains a NUL character (U+0000), which the ledger cannot store"
    )
    assert one_line(
        coopledger(db, "meet", "m", "--party", "KOR", "--party", "JPN", "--on", "2020", "--note", "a\x00b")
    ) == ("note: contains a NUL character (U+0000), which the ledger cannot store")
    assert coopledger(db, "digest").stdout == before


def test_insert_or_replace_cannot_swap_a_recorded_event(db: Path) -> None:
    with sqlite3.connect(db) as connection, pytest.raises(sqlite3.IntegrityError, match="cannot be changed"):
        connection.execute(
            "INSERT OR REPLACE INTO stored_events SELECT originator_id, originator_version, topic,"
            " replace(state, '2019', '2020') FROM stored_events WHERE originator_version = 9"
        )
    verified(db)


HUGE = "99999999999999999999999"


def test_numbers_out_of_range_are_usage_errors(db: Path) -> None:
    before = coopledger(db, "digest").stdout
    result = coopledger(db, "log", "--since-position", HUGE)
    assert result.exit_code == 2 and "is not in the range 0<=x<=9007199254740992" in result.stderr
    assert one_line(coopledger(db, "retract", HUGE, "--reason", "x")) == (
        "data.event: a position is a whole number from 1 to 9007199254740991"
    )
    assert one_line(coopledger(db, "show", HUGE), code=1) == f"no event {HUGE} in the ledger"
    assert one_line(coopledger(db, "verify", "--digest", f"{HUGE}:{'0' * 64}")).startswith("--digest")
    assert coopledger(db, "digest").stdout == before


@pytest.mark.parametrize("setting", ["abc", "0", HUGE, "١٢"])
def test_a_bad_lock_timeout_is_a_usage_error(db: Path, setting: str) -> None:
    assert one_line(coopledger(db, "append", FRESH, env={"COOPLEDGER_LOCK_TIMEOUT": setting})) == (
        f"COOPLEDGER_LOCK_TIMEOUT={setting!r}: expected a whole number of seconds, 1 to 86400"
    )


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://[::1",
        "postgresql://u@127.0.0.1/db?connect_timeout=abc",
        "postgresql://u@127.0.0.1/db?bogus=1",
    ],
)
def test_a_malformed_url_is_a_usage_error(url: str) -> None:
    for args in (("state", "KOR", "JPN"), ("append", FRESH)):
        assert "not a PostgreSQL URL libpq can read" in one_line(coopledger(url, *args))


def test_a_server_that_never_answers_is_an_error_within_ten_seconds() -> None:
    """A local listener that accepts connections and never says a word, on 127.0.0.1 only."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held: list[socket.socket] = []
    threading.Thread(target=lambda: held.append(listener.accept()[0]), daemon=True).start()
    url = f"postgresql+psycopg://nobody@127.0.0.1:{listener.getsockname()[1]}/ledger"
    start = time.monotonic()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "coopledger", "--db", url, "state", "KOR", "JPN"],
            cwd=ROOT,
            capture_output=True,
            timeout=30,
        )
    finally:
        listener.close()
    assert time.monotonic() - start < 15
    assert result.returncode == 2
    assert result.stderr.decode().startswith(
        "Error: cannot use the ledger at postgresql+psycopg://nobody@127.0.0.1:"
    )
    assert result.stderr.decode().count("\n") == 1


# --- an unreadable event: one line naming it, in every query


def test_a_corrupted_project_event_is_one_line_of_the_iati_export(db: Path, tmp_path: Path) -> None:
    with sqlite3.connect(db) as connection:
        ((launched,),) = connection.execute("SELECT position FROM coopledger_log WHERE key = 'ltp/launched'")
    corrupt(db, launched, b'"data":{', b'"data":[')
    out = tmp_path / "export.xml"
    iati = ("export", "--format", "iati", "--reporting-org", "XX-TEST", "--out", str(out))
    assert one_line(coopledger(db, *iati), code=1) == (
        f"position {launched}: the stored event cannot be read; run `coopledger verify`"
    )
    assert not out.exists()


def test_a_full_temporary_directory_is_one_line_of_the_csv_export(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Full(io.BytesIO):
        """A temporary file on a disk with no room left."""

        def write(self, data: Any) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(exports.tempfile, "TemporaryFile", Full)
    out = tmp_path / "tables"
    assert one_line(coopledger(db, "export", "--format", "csv", "--out", str(out))) == (
        f"--out {out}: the rows cannot wait in {tempfile.gettempdir()} (No space left on device);"
        " set TMPDIR to a directory with room"
    )
    assert not out.exists()


def corrupt(db: Path, position: int, old: bytes, new: bytes) -> None:
    with sqlite3.connect(db) as connection:
        connection.execute("DROP TRIGGER coopledger_events_no_update")
        (state,) = connection.execute(
            "SELECT state FROM stored_events WHERE originator_version = ?", (position,)
        ).fetchone()
        assert old in state
        connection.execute(
            "UPDATE stored_events SET state = ? WHERE originator_version = ?",
            (state.replace(old, new), position),
        )


@pytest.mark.parametrize(
    "corruption",
    [(b'"number":23', b'"number":"23"'), (b'{"data"', b'{"dat\xff'), (b'"data":{', b'"data":[')],
)
def test_a_corrupted_event_is_one_line_in_every_query(
    db: Path, tmp_path: Path, corruption: tuple[bytes, bytes]
) -> None:
    answered = coopledger(db, "state", "KOR", "CHN", "--as-of", "2020", "--json").output
    corrupt(db, JCEC_23, *corruption)
    unreadable = f"position {JCEC_23}: the stored event cannot be read; run `coopledger verify`"
    # `state` reads each thing's snapshot, made when the event was recorded (verify vouches for
    # both): it answers as before and reads no event but those that possibly happened by then.
    assert coopledger(db, "state", "KOR", "CHN", "--as-of", "2020", "--json").output == answered
    assert one_line(coopledger(db, "verify"), code=1).startswith(f"position {JCEC_23}: ")
    for args in (
        ("state", "KOR", "CHN", "--as-of", "2020", "--known-at", "2100-01-01"),
        ("state", "KOR", "CHN", "--as-of", "2020", "--exact"),
        ("history", "KOR", "CHN"),
        ("log",),
        ("log", "--json"),
        ("show", str(JCEC_23)),
        ("timeline", "KOR", "CHN", "--out", str(tmp_path / "kor-chn.svg")),
        ("changes", "KOR", "CHN", "--since", "2000-01-01", "--as-of", "2020"),
        ("changes", "KOR", "CHN", "--since", "2000-01-01", "--as-of", "2020", "--json"),
    ):
        assert one_line(coopledger(db, *args), code=1) == unreadable, args
    # The CSV export's table of events reads every event; the IATI export reads only each
    # project's founding and funding events (the meeting's is not one of them: as `state`, it
    # answers from the snapshots, which verify vouches for).
    out = tmp_path / "export.csv"
    csv = coopledger(db, "export", "--format", "csv", "--as-of", "2020", "--out", str(out))
    assert one_line(csv, code=1) == unreadable
    assert not out.exists()
    iati = ("export", "--format", "iati", "--as-of", "2020", "--reporting-org", "XX-TEST")
    assert coopledger(db, *iati, "--out", str(tmp_path / "export.xml")).exit_code == 0
    assert one_line(coopledger(db, "export"), code=1).startswith(f"position {JCEC_23}: ")
    assert one_line(coopledger(db, "export", "--out", str(tmp_path / "all.jsonl")), code=1).startswith(
        f"position {JCEC_23}: "
    )
    assert one_line(coopledger(db, "verify"), code=1).startswith(f"position {JCEC_23}: ")
    assert not (tmp_path / "all.jsonl").exists() and not (tmp_path / "kor-chn.svg").exists()


def test_a_corrupted_event_of_a_thing_that_falls_due_is_named_by_verify_not_upcoming(db: Path) -> None:
    """`upcoming` reads each thing's snapshot as of the day (made when its events were
    recorded; verify vouches for them), not its events: it answers as before, and verify names
    the damaged event."""
    asked = [
        ("upcoming", "--as-of", "2018-12-01", "--within", "P2Y", "--json"),
        ("upcoming", "--party", "JPN"),
    ]
    before = [coopledger(db, *args).output for args in asked]
    corrupt(db, JCEC_19_SCHEDULED, b'"parties":["KOR","JPN"]', b'"parties":"KOR"')
    assert [coopledger(db, *args).output for args in asked] == before
    assert all("rok-japan-jcec-19" in answer for answer in before)
    assert one_line(coopledger(db, "verify"), code=1).startswith(f"position {JCEC_19_SCHEDULED}: ")

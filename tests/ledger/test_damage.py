"""A SQLite ledger whose file is damaged byte by byte, as a disk, a copy or a hand with a hex
editor can damage it: every command says so in one line and exits 1, a failed check (SPEC
section 5), never 2 as if the command were misused, and never prints the damaged bytes."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from support import SEEDS, coopledger


def _has_dbstat() -> bool:
    with closing(sqlite3.connect(":memory:")) as db:
        try:
            db.execute("SELECT 1 FROM dbstat LIMIT 1")
        except sqlite3.OperationalError:
            return False
    return True


# The tests find the pages of a table with SQLite's dbstat table, which some builds leave out.
pytestmark = pytest.mark.skipif(not _has_dbstat(), reason="this Python's SQLite has no dbstat table")


@pytest.fixture
def ledger_file(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.sqlite"
    assert coopledger(str(path), "import", str(SEEDS)).returncode == 0
    return path


def pages_of(path: Path, table: str) -> list[int]:
    """The pages (numbered from 1) that hold a table or an index."""
    with closing(sqlite3.connect(path)) as db:
        return [page for (page,) in db.execute("SELECT pageno FROM dbstat WHERE name = ?", (table,))]


def page_size(path: Path) -> int:
    with closing(sqlite3.connect(path)) as db:
        return int(db.execute("PRAGMA page_size").fetchone()[0])


def damage(path: Path, table: str, needle: bytes, replacement: bytes) -> int:
    """Bytes replaced, where they stand on the pages of one table only; how many places."""
    assert len(needle) == len(replacement)
    size, pages = page_size(path), set(pages_of(path, table))
    data = bytearray(path.read_bytes())
    places = 0
    start = data.find(needle)
    while start >= 0:
        if start // size + 1 in pages:
            data[start : start + len(needle)] = replacement
            places += 1
        start = data.find(needle, start + 1)
    path.write_bytes(bytes(data))
    return places


def says_damaged(path: Path, *command: str) -> str:
    done = coopledger(str(path), *command)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stdout == ""
    line = done.stderr.strip()
    assert "\n" not in line and f"the ledger at {path} is damaged" in line, line
    return line


def test_verify_finds_a_damaged_index_that_no_comparison_of_rows_reads(ledger_file: Path) -> None:
    """The index from an event's position to the snapshots it made is read by `state`, never by
    the comparisons of rows: with its pages zeroed, every table still reads the same, and before
    verify asked SQLite to check its own pages it said ok."""
    size = page_size(ledger_file)
    data = bytearray(ledger_file.read_bytes())
    for page in pages_of(ledger_file, "coopledger_snapshots_position"):
        data[(page - 1) * size : page * size] = bytes(size)
    ledger_file.write_bytes(bytes(data))
    says_damaged(ledger_file, "verify")
    says_damaged(ledger_file, "state", "KOR", "CHN", "--as-of", "2019")


def test_text_that_is_not_utf8_is_damage_and_its_bytes_are_not_printed(ledger_file: Path) -> None:
    name = b"National Institute for Environmental Studies"
    bad = b"National Institute for Environmental Stud\xff\x1b["
    assert damage(ledger_file, "coopledger_things", name, bad) > 0
    line = says_damaged(ledger_file, "state", "NIES", "NIER", "--as-of", "2025")
    assert "UTF-8" in line and "\x1b" not in line and "\ufffd" not in line


def test_a_stored_state_that_is_not_json_is_named_by_verify_and_mended_by_rebuild(ledger_file: Path) -> None:
    """SQLite's check of its pages evaluates the index of meeting numbers, which reads each
    meeting's state as JSON: text that is no longer JSON must not stop it there, since verify's
    comparison of rows names the row, and `rebuild`, which the message offers, mends it."""
    assert damage(ledger_file, "coopledger_things", b'"held":{', b'"held":[') > 0
    done = coopledger(str(ledger_file), "verify")
    assert done.returncode == 1
    assert done.stderr.startswith("Error: coopledger_things has a row that differs for meeting ")
    assert done.stderr.strip().endswith("`coopledger rebuild` remakes it")
    assert coopledger(str(ledger_file), "rebuild").returncode == 0
    assert coopledger(str(ledger_file), "verify").stdout.startswith("ok: ")


def test_damage_in_the_read_model_is_mended_by_rebuild_as_the_message_says(ledger_file: Path) -> None:
    name = b"National Institute for Environmental Studies"
    damage(ledger_file, "coopledger_things", name, name.replace(b"Studies", b"Stud\xff\xfe\xfd"))
    assert "`coopledger rebuild` remakes the read model" in says_damaged(ledger_file, "verify")
    assert coopledger(str(ledger_file), "rebuild").returncode == 0
    assert coopledger(str(ledger_file), "verify").stdout.startswith("ok: ")

"""Integrity under load, faults and tampering (SPEC section 5), on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from coopledger.events import parse_edtf
from coopledger.ledger.application import Ledger
from coopledger.ledger.store import locate
from support import ROOT, SEED_EVENTS, SEEDS


def spawn(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "workers.py"), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


def outcomes(process: subprocess.Popen[bytes]) -> list[dict[str, Any]]:
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr.decode()
    return [orjson.loads(line) for line in stdout.splitlines()]


def positions_and_keys(ledger: Ledger) -> tuple[list[int], list[str]]:
    envelopes = list(ledger.audit())
    return [e["position"] for e in envelopes], [e["key"] for e in envelopes]


def test_concurrent_writers_record_every_acknowledged_event_exactly_once(db_url: str) -> None:
    """8 processes x 50 appends, all starting on a brand-new store at the same moment."""
    start = time.time() + 3
    workers = [spawn("append", db_url, f"w{n}", "50", str(start)) for n in range(8)]
    acknowledged = [outcome for worker in workers for outcome in outcomes(worker)]
    assert len(acknowledged) == 400
    ledger = Ledger(locate(db_url))
    try:
        positions, keys = positions_and_keys(ledger)
        assert positions == list(range(1, 401))
        assert sorted(keys) == sorted(o["key"] for o in acknowledged)
        recorded = {e["key"]: (e["position"], e["id"]) for e in ledger.audit()}
        assert all(recorded[o["key"]] == (o["position"], o["id"]) for o in acknowledged)
        assert ledger.verify().events == 400
    finally:
        ledger.close()


def test_writers_racing_for_one_meeting_number_one_wins(ledger: Ledger, db_url: str) -> None:
    ledger.append(
        {
            "type": "SeriesEstablished",
            "occurred_on": "1993",
            "data": {"series": "jc", "title": "Joint Committee", "parties": ["KOR", "CHN"]},
        }
    )
    start = time.time() + 3
    racers = [spawn("race", db_url, f"r{n}", str(start)) for n in range(6)]
    results = [outcome for racer in racers for outcome in outcomes(racer)]
    winners = [r for r in results if "won" in r]
    assert len(winners) == 1 and winners[0]["won"] == 2
    for loser in (r for r in results if "error" in r):
        assert loser["error"].startswith(
            "data.number: meeting 24 of series 'jc' is already recorded as 'jc-24-by-r"
        )
    assert ledger.verify().events == 2


def test_a_writer_that_cannot_get_in_says_busy_and_writes_nothing(ledger: Ledger, db_url: str) -> None:
    ledger.init()
    digest = ledger.digest()
    command = [
        sys.executable,
        "-m",
        "coopledger",
        "--db",
        db_url,
        "append",
        '{"type": "MeetingHeld", "occurred_on": "2020", "data": {"meeting": "m", "parties": ["KOR", "JPN"]}}',
    ]
    with hold_write_lock(db_url):
        result = subprocess.run(
            command,
            cwd=ROOT,
            capture_output=True,
            timeout=60,
            env={**os.environ, "COOPLEDGER_LOCK_TIMEOUT": "1"},
        )
    assert result.returncode == 2
    assert result.stderr.decode().endswith("is busy with another writer; try again\n")
    assert result.stderr.decode().count("\n") == 1
    assert ledger.digest() == digest


class hold_write_lock:  # a context manager, named as it reads at the call
    """Hold the ledger's write lock from another connection, as a slow writer would."""

    def __init__(self, db_url: str):
        self.db_url = db_url
        self.connection: Any = None

    def __enter__(self) -> None:
        if "://" in self.db_url:
            import psycopg

            self.connection = psycopg.connect(self.db_url.replace("+psycopg", ""))
            self.connection.execute("SELECT position FROM coopledger_head FOR UPDATE")
        else:
            import sqlite3

            self.connection = sqlite3.connect(self.db_url, isolation_level=None)
            self.connection.execute("BEGIN IMMEDIATE")

    def __exit__(self, *exc: object) -> None:
        self.connection.rollback()
        self.connection.close()


def test_importing_one_file_from_several_processes_records_each_event_once(
    ledger: Ledger, db_url: str
) -> None:

    ledger.init()
    start = time.time() + 3
    importers = [spawn("import", db_url, str(SEEDS), str(start)) for _ in range(4)]
    reports = [outcome for importer in importers for outcome in outcomes(importer)]
    assert sorted(r["recorded"] for r in reports) == [0, 0, 0, SEED_EVENTS]
    assert sorted(r["duplicates"] for r in reports) == [0, SEED_EVENTS, SEED_EVENTS, SEED_EVENTS]
    assert ledger.verify().events == SEED_EVENTS
    assert ledger.import_lines(SEEDS.open("rb")).duplicates == SEED_EVENTS


def test_kill_9_at_any_moment_leaves_the_ledger_before_or_after(
    ledger: Ledger, db_url: str, tmp_path: Path
) -> None:
    """Real processes killed at random points of an import, many rounds: all or nothing."""
    import random

    random.seed(9)
    batch = tmp_path / "batch.jsonl"
    rounds, size = 12, 300
    ledger.init()
    command = [sys.executable, "-m", "coopledger", "--db", db_url, "import", str(batch)]
    expected = 0
    for round_ in range(rounds):
        batch.write_bytes(
            b"".join(
                orjson.dumps(
                    {
                        "type": "MeetingHeld",
                        "occurred_on": "2020",
                        "key": f"{round_}/{n}",
                        "data": {"meeting": f"m-{round_}-{n}", "parties": ["KOR", "JPN"]},
                    }
                )
                + b"\n"
                for n in range(size)
            )
        )
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(random.uniform(0.2, 1.6))
        process.kill()
        process.wait()
        count = ledger.verify().events
        assert count in (expected, expected + size), f"round {round_}: {count} events after the kill"
        expected = count
        # What a killed import left undone, a new one completes: keys make it idempotent.
        assert ledger.import_lines(batch.open("rb")).recorded in (0, size)
        expected = ledger.verify().events
    assert expected == rounds * size


class Tamper:
    """Someone with write access to the database, working behind the ledger's back."""

    def __init__(self, db_url: str):
        self.connection: Any
        self.postgres = "://" in db_url
        if self.postgres:
            import psycopg

            self.connection = psycopg.connect(db_url.replace("+psycopg", ""), autocommit=True)
            self.connection.execute("ALTER TABLE coopledger_events DISABLE TRIGGER USER")
        else:
            import sqlite3

            self.connection = sqlite3.connect(db_url, isolation_level=None)
            self.connection.execute("DROP TRIGGER coopledger_events_no_update")
            self.connection.execute("DROP TRIGGER coopledger_events_no_delete")

    def run(self, statement: str, params: tuple[Any, ...] = ()) -> list[Any]:
        table = "coopledger_events" if self.postgres else "stored_events"
        sql = statement.replace("{events}", table)
        cursor = self.connection.execute(sql.replace("?", "%s") if self.postgres else sql, params)
        return cursor.fetchall() if cursor.description else []

    def edit(self, version: int, old: bytes, new: bytes) -> None:
        (state,) = self.run("SELECT state FROM {events} WHERE originator_version = ?", (version,))[0]
        assert old in bytes(state)
        self.run(
            "UPDATE {events} SET state = ? WHERE originator_version = ?",
            (bytes(state).replace(old, new), version),
        )

    def close(self) -> None:
        self.connection.close()


def seeded(db_url: str) -> Ledger:

    ledger = Ledger(locate(db_url))
    ledger.import_lines(SEEDS.open("rb"))
    return ledger


TAMPERING = {
    "a changed payload": (
        lambda t: t.edit(9, b"2029-03-31", b"2030-03-31"),
        "position 9: the hash does not match the event and the chain before it",
    ),
    "a changed envelope field": (
        lambda t: t.edit(30, b'"recorded_by":"', b'"recorded_by":"x'),
        "position 30: the hash does not match the event and the chain before it",
    ),
    "a deleted event": (
        lambda t: t.run("DELETE FROM {events} WHERE originator_version = 40"),
        "position 40: missing (the next stored event is 41)",
    ),
    "a deleted last event": (
        lambda t: t.run(f"DELETE FROM {{events}} WHERE originator_version = {SEED_EVENTS}"),
        f"position {SEED_EVENTS}: the ledger head says {SEED_EVENTS}:",
    ),
    "swapped events": (
        lambda t: [
            t.run("UPDATE {events} SET originator_version = -1 WHERE originator_version = 20"),
            t.run("UPDATE {events} SET originator_version = 20 WHERE originator_version = 21"),
            t.run("UPDATE {events} SET originator_version = 21 WHERE originator_version = -1"),
        ],
        "position 20: the stored event says it is position 21",
    ),
    "an inserted event": (
        lambda t: [
            t.run(
                "UPDATE {events} SET originator_version = originator_version + 1000 WHERE originator_version >= 50"
            ),
            t.run(
                "UPDATE {events} SET originator_version = originator_version - 999 WHERE originator_version >= 1050"
            ),
            t.run(
                "INSERT INTO {events} (originator_id, originator_version, topic, state)"
                " SELECT originator_id, 50, topic, state FROM {events} WHERE originator_version = 49"
            ),
        ],
        "position 50: the stored event says it is position 49",
    ),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_verify_names_the_first_bad_position(db_url: str, case: str) -> None:
    change, message = TAMPERING[case]
    ledger = seeded(db_url)
    try:
        assert ledger.verify().events == SEED_EVENTS
        tampering = Tamper(db_url)
        change(tampering)
        tampering.close()
        with pytest.raises(Exception, match="^" + message.replace("(", r"\(").replace(")", r"\)")) as raised:
            ledger.verify()
        assert type(raised.value).__name__ == "VerificationFailed"
    finally:
        ledger.close()


def test_an_earlier_digest_catches_a_truncated_tail_or_a_rewritten_history(
    db_url: str, tmp_path: Path
) -> None:
    ledger = seeded(db_url)
    try:
        digest = ledger.digest()
        # Someone removes the last events and the head with them: the chain alone looks whole.
        tampering = Tamper(db_url)
        tampering.run("DELETE FROM {events} WHERE originator_version > 70")
        tampering.close()
        ledger.rebuild()
        assert ledger.verify().events == 70
        with pytest.raises(
            Exception, match=rf"^position 71: missing; the digest {SEED_EVENTS}:\w+ names a longer ledger"
        ):
            ledger.verify(digest)
    finally:
        ledger.close()
    # A restored older copy with events recomputed so the chain holds: the digest still tells.
    other = seeded(str(tmp_path / "older.sqlite"))
    try:
        ledger_digest = other.digest()
        from coopledger.ledger.chain import GENESIS, link

        tampering = Tamper(str(tmp_path / "older.sqlite"))
        previous = GENESIS
        for version, state in tampering.run(
            "SELECT originator_version, state FROM {events} ORDER BY originator_version"
        ):
            envelope = orjson.loads(state)
            if version == 60:
                envelope["recorded_by"] = "someone else"
            envelope["hash"] = previous = link(previous, envelope)
            tampering.run(
                "UPDATE {events} SET state = ? WHERE originator_version = ?",
                (orjson.dumps(envelope), version),
            )
        tampering.close()
        other.rebuild()
        assert other.verify().events == SEED_EVENTS
        with pytest.raises(
            Exception, match=rf"^position {SEED_EVENTS}: does not match the digest {ledger_digest}"
        ):
            other.verify(ledger_digest)
        with pytest.raises(Exception, match=r"^position 60: does not match the digest 60:"):
            other.verify("60:" + "0" * 64)
    finally:
        other.close()


def test_state_is_unchanged_by_a_kill_during_append(ledger: Ledger, db_url: str) -> None:

    ledger.import_lines(SEEDS.open("rb"))
    before = ledger.state("KOR", "CHN", parse_edtf("2030"))
    command = [
        sys.executable,
        "-m",
        "coopledger",
        "--db",
        db_url,
        "append",
        '{"type": "ProjectCompleted", "occurred_on": "2025", "data": {"project": "clean-sky-project"}}',
    ]
    for delay in (0.05, 0.15, 0.25, 0.35, 0.45):
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.kill()
        process.wait()
        count = ledger.verify().events
        assert count in (SEED_EVENTS, SEED_EVENTS + 1)
        if count == SEED_EVENTS + 1:
            break
        assert ledger.state("KOR", "CHN", parse_edtf("2030")) == before


def test_a_backup_taken_while_writers_run_restores_identically(
    ledger: Ledger, db_url: str, tmp_path: Path
) -> None:

    ledger.import_lines(SEEDS.open("rb"))
    start = time.time() + 2
    writers = [spawn("append", db_url, f"w{n}", "40", str(start)) for n in range(2)]
    time.sleep(max(0.0, start - time.time()) + 0.3)
    backup = tmp_path / "backup.jsonl"
    taken = ledger.backup(backup)
    for writer in writers:
        outcomes(writer)
    assert SEED_EVENTS <= taken.events <= SEED_EVENTS + 80
    lines = backup.read_bytes().splitlines()
    assert len(lines) == taken.events
    restored = Ledger(locate(str(tmp_path / "restored.sqlite")), actor="someone else")
    try:
        assert restored.restore(backup.open("rb")).digest == taken.digest
        assert restored.verify(taken.digest).digest == taken.digest
        assert list(restored.export()) == lines
        # The original kept growing; the copy is the ledger as it stood at the backup.
        assert ledger.verify(taken.digest).events == SEED_EVENTS + 80
        with pytest.raises(Exception, match="restore needs an empty ledger"):
            restored.restore(backup.open("rb"))
    finally:
        restored.close()


def test_a_backup_line_that_breaks_the_chain_is_refused_by_line(ledger: Ledger, tmp_path: Path) -> None:

    ledger.import_lines(SEEDS.open("rb"))
    backup = tmp_path / "backup.jsonl"
    ledger.backup(backup)
    lines = backup.read_bytes().splitlines()
    lines[4] = lines[4].replace(b'"recorded_by":"', b'"recorded_by":"x')
    restored = Ledger(locate(str(tmp_path / "restored.sqlite")))
    try:
        with pytest.raises(
            Exception, match=r"^line 5: hash: does not match the event and the chain before it"
        ):
            restored.restore(lines)
        with pytest.raises(Exception, match=r"^no ledger at"):
            restored.digest()
    finally:
        restored.close()


@pytest.mark.postgres
def test_an_appender_role_can_append_but_never_rewrite(postgres_url: str) -> None:
    import uuid

    import psycopg

    role = f"appender_{uuid.uuid4().hex[:8]}"
    owner = Ledger(locate(postgres_url))
    owner.import_lines(SEEDS.open("rb"))
    admin = psycopg.connect(postgres_url.replace("+psycopg", ""), autocommit=True)
    admin.execute(f"CREATE ROLE {role} LOGIN")
    try:
        owner.grant_appender(role)
        as_role = postgres_url.replace("postgres@", f"{role}@")
        clerk = Ledger(locate(as_role), actor=role)
        try:
            assert (
                clerk.append(
                    {
                        "type": "MeetingHeld",
                        "occurred_on": "2020",
                        "data": {"meeting": "m", "parties": ["KOR", "JPN"]},
                    }
                ).position
                == SEED_EVENTS + 1
            )
            assert clerk.verify().events == SEED_EVENTS + 1
        finally:
            clerk.close()
        with psycopg.connect(as_role.replace("+psycopg", ""), autocommit=True) as connection:
            for statement, refusal in [
                ("UPDATE coopledger_events SET topic = 'x'", "permission denied"),
                ("DELETE FROM coopledger_events", "permission denied"),
                ("TRUNCATE coopledger_events", "permission denied"),
                ("ALTER TABLE coopledger_events DISABLE TRIGGER USER", "must be owner"),
                ("DROP TRIGGER coopledger_events_no_change ON coopledger_events", "must be owner"),
                ("DROP TABLE coopledger_events", "must be owner"),
            ]:
                with pytest.raises(psycopg.Error, match=refusal):
                    connection.execute(statement)
    finally:
        owner.close()
        admin.execute(f"DROP OWNED BY {role}")
        admin.execute(f"DROP ROLE {role}")
        admin.close()

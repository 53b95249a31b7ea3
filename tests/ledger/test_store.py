"""The store on a SQLite file and on PostgreSQL: immutability, all-or-nothing, retraction rules."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, uuid5

import orjson
import pytest
from coopledger.events import parse_edtf
from coopledger.ledger import beyond_library, files
from coopledger.ledger.application import Ledger
from coopledger.ledger.errors import LedgerError, LineError, Rejected, StoreMissing
from coopledger.ledger.files import made_whole
from coopledger.ledger.store import LEDGER_ID, locate
from support import SEED_EVENTS, SEEDS, event


@contextmanager
def raw(db_url: str) -> Iterator[Any]:
    """A plain DB-API connection to the ledger's database, as its own tools would have."""
    if "://" in db_url:
        import psycopg

        with psycopg.connect(db_url.replace("+psycopg", ""), autocommit=True) as connection:
            yield connection
    else:
        lite = sqlite3.connect(db_url, isolation_level=None)
        try:
            yield lite
        finally:
            lite.close()


def events_table(db_url: str) -> str:
    return "coopledger_events" if "://" in db_url else "stored_events"


def snapshot(ledger: Ledger) -> tuple[Any, ...]:
    """Everything a user can see of a ledger."""
    return (
        ledger.digest(),
        list(ledger.audit()),
        ledger.relationships(parse_edtf("2100").day),
        ledger.state("KOR", "CHN", parse_edtf("2100")),
        ledger.history("KOR", "JPN"),
    )


def test_the_database_refuses_to_change_or_remove_recorded_events(ledger: Ledger, db_url: str) -> None:
    ledger.import_lines(SEEDS.open("rb"))
    table = events_table(db_url)
    statements = [f"UPDATE {table} SET topic = 'x'", f"DELETE FROM {table}"]
    if "://" in db_url:
        statements.append(f"TRUNCATE {table}")
    with raw(db_url) as connection:
        for statement in statements:
            with pytest.raises(Exception, match="recorded events cannot be changed or removed"):
                connection.execute(statement)
    assert ledger.verify().events == SEED_EVENTS


def test_stored_payloads_are_plain_json_readable_by_the_database(ledger: Ledger, db_url: str) -> None:
    ledger.import_lines(SEEDS.open("rb"))
    table = events_table(db_url)
    text = "convert_from(state, 'UTF8')" if "://" in db_url else "CAST(state AS TEXT)"
    with raw(db_url) as connection:
        (payload,) = connection.execute(f"SELECT {text} FROM {table} WHERE originator_version = 9").fetchone()
    envelope = orjson.loads(payload)
    assert envelope["position"] == 9 and envelope["data"]["instrument"] == "nies-nier-mou-2024"


def test_an_import_is_all_or_nothing_and_names_the_line(ledger: Ledger) -> None:
    ledger.import_lines(SEEDS.open("rb"))
    before = snapshot(ledger)
    lines = [
        b'{"type": "MeetingHeld", "occurred_on": "2019-11", "data": {"meeting": "a", "parties": ["KOR", "CHN"]}}',
        b"",
        b'{"type": "MeetingHeld", "occurred_on": "2019-11", "data": {"meeting": "b", "parties": ["KOE", "CHN"]}}',
    ]
    with pytest.raises(
        LineError, match=r"^line 3: data.parties\[0\]: unknown party 'KOE' \(did you mean KOR"
    ):
        ledger.import_lines(lines)
    assert snapshot(ledger) == before
    # Positions stay gapless after the rollback, on every backend.
    assert ledger.append(orjson.loads(lines[0])).position == SEED_EVENTS + 1


def test_a_rejected_event_leaves_the_ledger_unchanged(ledger: Ledger) -> None:
    ledger.import_lines(SEEDS.open("rb"))
    before = snapshot(ledger)
    bad = [
        {
            "type": "InstrumentExtended",
            "occurred_on": "2025",
            "data": {"instrument": "nies-nier-mou-2024", "expires_on": "2028"},
        },
        {
            "type": "MeetingHeld",
            "occurred_on": "2019",
            "data": {"meeting": "x", "parties": ["KOR", "CHN"], "series": "rok-china-jcec", "number": 23},
        },
        {"type": "InstrumentSigned", "occurred_on": "2019-02-29", "data": {}},
        {
            "type": "ProjectLaunched",
            "occurred_on": "2019",
            "data": {"project": "clean-sky-project", "title": "t", "parties": ["KOR", "CHN"]},
        },
        {
            "type": "PartyRegistered",
            "occurred_on": "2019",
            "data": {"party": "NIER", "name": "n", "kind": "agency"},
        },
    ]
    for value in bad:
        with pytest.raises(Rejected):
            ledger.append(value)
    assert snapshot(ledger) == before


def test_a_key_recorded_with_other_content_is_an_error(ledger: Ledger) -> None:
    ledger.import_lines(SEEDS.open("rb"))
    with pytest.raises(
        Rejected,
        match=r"^key: 'clean-sky-project/launched' is already recorded at position \d+ with different content",
    ):
        ledger.append(
            {
                "type": "ProjectLaunched",
                "occurred_on": "2017-06",
                "key": "clean-sky-project/launched",
                "data": {"project": "clean-sky-project", "title": "Clean Sky", "parties": ["KOR", "CHN"]},
            }
        )


def test_retraction_rules(ledger: Ledger) -> None:
    ledger.import_lines(SEEDS.open("rb"))
    position = lambda key: next(e["position"] for e in ledger.audit() if e.get("key") == key)
    scope = position("clean-sky-project/broadened-2019-01")
    launched = position("clean-sky-project/launched")
    with pytest.raises(
        Rejected, match=rf"data.event: event {scope} depends on project 'clean-sky-project'; retract it first"
    ):
        ledger.append({"type": "EventRetracted", "data": {"event": launched, "reason": "r"}})
    scope_id = ledger.show(str(scope))[0]["id"]
    retraction = ledger.append(
        {"type": "EventRetracted", "data": {"event": scope_id, "reason": "not broadened"}}
    )
    retracted_by = ledger.show(str(scope))[1]
    assert retracted_by is not None and retracted_by["position"] == retraction.position
    with pytest.raises(Rejected, match=rf"data.event: event {scope} is already retracted"):
        ledger.append({"type": "EventRetracted", "data": {"event": scope, "reason": "again"}})
    with pytest.raises(Rejected, match="retractions cannot be retracted"):
        ledger.append({"type": "EventRetracted", "data": {"event": retraction.position, "reason": "undo"}})
    with pytest.raises(Rejected, match=r"data\.event: no event 999 in the ledger"):
        ledger.append({"type": "EventRetracted", "data": {"event": 999, "reason": "r"}})
    # With its dependent retracted, the launch can go, and its id can be used afresh.
    ledger.append({"type": "EventRetracted", "data": {"event": launched, "reason": "wrong date"}})
    assert "clean-sky-project" not in {
        p["project"] for p in ledger.state("KOR", "CHN", parse_edtf("2019"))["projects"]
    }
    ledger.append(
        {
            "type": "ProjectLaunched",
            "occurred_on": "2017-06",
            "data": {"project": "clean-sky-project", "title": "Clean Sky", "parties": ["KOR", "CHN"]},
        }
    )
    projects = {p["project"]: p for p in ledger.state("KOR", "CHN", parse_edtf("2019"))["projects"]}
    assert projects["clean-sky-project"]["launched_on"] == "2017-06"
    kept = snapshot(ledger)
    ledger.rebuild()
    assert snapshot(ledger) == kept


def test_a_retraction_within_one_import_sees_the_events_before_it(ledger: Ledger) -> None:
    lines = [
        b'{"type": "ProjectLaunched", "occurred_on": "2017-05", "data": {"project": "p", "title": "t", "parties": ["KOR", "CHN"]}}',
        b'{"type": "ProjectExtended", "occurred_on": "2018", "data": {"project": "p", "planned_end": "2022"}}',
        b'{"type": "EventRetracted", "data": {"event": 2, "reason": "typo"}}',
        b'{"type": "ProjectExtended", "occurred_on": "2018", "data": {"project": "p", "planned_end": "2021"}}',
    ]
    assert ledger.import_lines(lines).recorded == 4
    assert ledger.state("KOR", "CHN", parse_edtf("2019"))["projects"][0]["planned_end"] == "2021"


def test_queries_never_create_a_store(db_url: str) -> None:
    ledger = Ledger(locate(db_url))
    try:
        with pytest.raises(StoreMissing, match="no ledger at"):
            ledger.state("KOR", "JPN", parse_edtf("2020"))
        assert ledger.init() == "created"
        assert ledger.init() == "current"
        assert ledger.state("KOR", "JPN", parse_edtf("2020"))["instruments"] == []
        with pytest.raises(LedgerError, match="KOR and ROK are the same party"):
            ledger.state("KOR", "ROK", parse_edtf("2020"))
    finally:
        ledger.close()


def _as_an_earlier_version_left_it(db_url: str) -> None:
    """The read model as version 1 laid it out: entities instead of things, no earliest days."""
    import psycopg

    statements = [
        "DROP TABLE coopledger_read_model",
        "DROP TABLE coopledger_things",
        "DROP TABLE coopledger_thing_events",
        "ALTER TABLE coopledger_relationship_events DROP COLUMN earliest",
        "CREATE TABLE coopledger_entities (kind TEXT, slug TEXT, state TEXT)",
        """INSERT INTO coopledger_entities VALUES ('meeting', 'rok-china-jcec-23', '{"held": 65}')""",
    ]
    if "://" in db_url:
        with psycopg.connect(db_url.replace("+psycopg", ""), autocommit=True) as connection:
            for statement in statements:
                connection.execute(statement)
    else:
        with closing(sqlite3.connect(db_url, isolation_level=None)) as connection:
            for statement in statements:
                connection.execute(statement)


def test_a_read_model_of_an_earlier_version_is_rebuilt_before_it_is_used(ledger: Ledger, db_url: str) -> None:
    ledger.import_lines(SEEDS.open("rb"))
    before = ledger.state("KOR", "CHN", parse_edtf("2019-01"))
    _as_an_earlier_version_left_it(db_url)
    # Queries read the read model; they never rebuild it, and say how.
    with pytest.raises(
        LedgerError, match=r"was written by an earlier version of coopledger; `coopledger rebuild`"
    ):
        ledger.state("KOR", "CHN", parse_edtf("2019-01"))
    assert ledger.verify().events == SEED_EVENTS  # the events need no read model
    # A write first brings the read model up to date, in its own transaction: the rules see
    # the whole ledger again, and a rejected write leaves the store as it was.
    with pytest.raises(
        LedgerError, match=r"data.meeting: meeting 'rok-china-jcec-23' is already held \(position 65\)"
    ):
        ledger.append(
            {
                "type": "MeetingHeld",
                "occurred_on": "2019-01-23",
                "data": {
                    "meeting": "rok-china-jcec-23",
                    "parties": ["KOR", "CHN"],
                    "series": "rok-china-jcec",
                },
            }
        )
    with pytest.raises(LedgerError, match="earlier version"):
        ledger.state("KOR", "CHN", parse_edtf("2019-01"))
    assert ledger.rebuild() == SEED_EVENTS
    assert ledger.state("KOR", "CHN", parse_edtf("2019-01")) == before


@pytest.mark.parametrize("day", ["2017-12-31", "2100-12-31"])
def test_the_events_of_many_things_are_counted_at_once_as_one_by_one(ledger: Ledger, day: str) -> None:
    """`state` reads how many events shape each thing of a pair by a day in one query (its keys
    as JSON, in each database's dialect): the same counts as one query a thing."""
    ledger.import_lines(SEEDS.read_bytes().splitlines())
    db = ledger.queries.db
    with db.reading() as cursor:
        keys = [tuple(key) for key in cursor.rows("SELECT DISTINCT kind, slug FROM coopledger_thing_events")]
        one_by_one = {key: cursor.rows(db.statements["thing_count"], (*key, day))[0][0] for key in keys}
        listed = orjson.dumps([*keys, ["instrument", "no-such-thing"]]).decode()
        at_once = {
            (kind, slug): count
            for kind, slug, count in cursor.rows(db.statements["thing_counts"], (listed, day))
        }
    assert len(keys) > 30 and any(one_by_one.values())
    assert at_once == {key: count for key, count in one_by_one.items() if count}


def test_the_ledger_id_is_the_uuid5_of_its_name() -> None:
    assert uuid5(NAMESPACE_URL, "https://coopledger.example/ledger") == LEDGER_ID


def first_write(db: Path) -> int:
    """Record one event into a ledger at `db`; how many events it then verifies."""
    ledger = Ledger(locate(str(db)))
    try:
        ledger.append(
            event("PartyRegistered", "2024-01", party="NIER", name="N", kind="agency", country="KOR")
        )
        return ledger.verify().events
    finally:
        ledger.close()


def test_a_ledger_made_meanwhile_by_another_process_is_not_replaced(tmp_path: Path) -> None:
    db = tmp_path / "ledger.sqlite"
    with (
        pytest.raises(LedgerError, match="a file took that name while the ledger was being made"),
        made_whole(db) as staged,
    ):
        assert staged is not None
        with closing(sqlite3.connect(staged)) as mine:
            mine.execute("CREATE TABLE mine (x)")
        db.write_bytes(b"theirs")
    assert db.read_bytes() == b"theirs"
    assert [path.name for path in tmp_path.iterdir()] == ["ledger.sqlite"]


def test_what_a_killed_maker_of_a_ledger_left_is_cleared_by_the_next(tmp_path: Path) -> None:
    db = tmp_path / "ledger.sqlite"
    prefix = files._prefix(db)
    assert prefix.startswith(".ledger.sqlite.")
    left = [f"{prefix}.0123456789abcdef.new", f"{prefix}.0123456789abcdef.new-wal", f"{prefix}.lock"]
    kept = [".ledger.sqlite.backup", f"{files._prefix(tmp_path / 'other.sqlite')}.0123456789abcdef.new"]
    for name in left + kept:
        (tmp_path / name).write_bytes(b"x")
    first_write(db)
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([*kept, "ledger.sqlite"])


def test_a_link_to_a_ledger_not_yet_made_makes_it_where_it_points(tmp_path: Path) -> None:
    link, target = tmp_path / "link.sqlite", tmp_path / "elsewhere" / "ledger.sqlite"
    link.symlink_to(target)
    assert first_write(link) == 1
    assert link.is_symlink() and sorted(path.name for path in target.parent.iterdir()) == ["ledger.sqlite"]


def test_a_ledger_being_made_holds_up_no_other_ledger_of_its_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COOPLEDGER_LOCK_TIMEOUT", "1")
    with made_whole(tmp_path / "long-import.sqlite") as staged:
        assert staged is not None
        assert first_write(tmp_path / "other.sqlite") == 1
        with (
            pytest.raises(LedgerError, match="being made by another writer"),
            made_whole(tmp_path / "long-import.sqlite"),
        ):
            pass  # the same name waits, and gives up after the lock timeout


def test_a_new_ledger_is_written_without_the_log_and_takes_its_name_in_wal_mode(tmp_path: Path) -> None:
    """Its first write is one transaction, which in WAL mode would append every page to the log
    and look each one up there: the file being made keeps its journal in memory instead."""
    db = tmp_path / "ledger.sqlite"
    seen: list[list[str]] = []

    def progress(_: int) -> None:
        if not seen:  # inside the write transaction, its schema made
            seen.append(sorted(path.name.rsplit(".", 1)[-1] for path in tmp_path.iterdir()))

    ledger = Ledger(locate(str(db)))
    try:
        ledger.import_lines(SEEDS.read_bytes().splitlines(), progress)
    finally:
        ledger.close()
    assert seen == [["lock", "new"]]  # the file being made, and no new-wal or new-journal beside it
    assert [path.name for path in tmp_path.iterdir()] == ["ledger.sqlite"]
    assert db.read_bytes()[18:20] == b"\x02\x02"  # the header's WAL mode, as every ledger's
    ledger = Ledger(locate(str(db)))
    try:
        assert ledger.verify().events == SEED_EVENTS
    finally:
        ledger.close()


def test_a_new_ledger_still_being_read_takes_no_name(tmp_path: Path) -> None:
    """A connection still reading the file being made keeps it from being put in WAL mode: the
    maker says so in one line and leaves nothing behind."""
    db = tmp_path / "ledger.sqlite"
    with (
        pytest.raises(LedgerError, match="the new ledger is still in use; nothing was written"),
        made_whole(db) as staged,
    ):
        assert staged is not None
        reader = sqlite3.connect(staged, isolation_level=None)
        reader.execute("CREATE TABLE t (x)")
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM t").fetchone()
    reader.close()
    assert list(tmp_path.iterdir()) == []


def test_a_file_another_connection_holds_keeps_the_log(tmp_path: Path) -> None:
    """SQLite leaves WAL only for a file no other connection has open; otherwise the write
    goes on through the log, as any other."""
    db = tmp_path / "ledger.sqlite"
    with closing(sqlite3.connect(db, isolation_level=None)) as mine:
        mine.execute("PRAGMA journal_mode=WAL")
        mine.execute("CREATE TABLE t (x)")
        with closing(sqlite3.connect(db, isolation_level=None)) as other:
            other.execute("SELECT count(*) FROM t").fetchone()
            beyond_library.journal_in_memory(mine.cursor())
            assert mine.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            mine.execute("INSERT INTO t VALUES (1)")
            assert other.execute("SELECT count(*) FROM t").fetchone() == (1,)
        beyond_library.journal_in_memory(mine.cursor())  # alone now
        assert mine.execute("PRAGMA journal_mode").fetchone() == ("memory",)


def test_a_ledger_with_a_long_name_is_made_too(tmp_path: Path) -> None:
    db = tmp_path / ("\u00e9" * 116 + ".sqlite")  # 239 bytes: its -wal companion is within 255
    assert first_write(db) == 1
    assert [path.name for path in tmp_path.iterdir()] == [db.name]


@pytest.mark.postgres
def test_a_statement_run_to_be_replanned_is_never_prepared(postgres_url: str) -> None:
    """psycopg prepares a statement it has run five times, and PostgreSQL may then keep one plan
    for it, made from the tables' sizes at the time: a statement that must be planned for the
    tables as they are (a thing's events, read within a long import) is never prepared."""
    ledger = Ledger(locate(postgres_url))
    try:
        ledger.import_lines(SEEDS.read_bytes().splitlines())
        statement = ledger.store.statements["shaping"]
        prepared = (
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'SELECT (SELECT e.state%'"
        )
        for replan, expected in ((True, 0), (False, 1)):
            with ledger.store.writing() as cursor:
                for _ in range(8):
                    cursor.rows(statement, (ledger.store.ledger_id, "instrument", "none"), replan=replan)
                assert cursor.rows(prepared) == [(expected,)]
    finally:
        ledger.close()

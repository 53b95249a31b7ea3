"""`verify` vouches for the answers (SPEC section 5): the read model, the rules and the events
attacked the way they were found — with the database's own tools (sqlite3, psycopg), as the
tables' owner and as the appender role — on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import orjson
import pytest
from coopledger.events import parse_edtf
from coopledger.ledger import rules
from coopledger.ledger.application import Ledger
from coopledger.ledger.chain import GENESIS, seal
from coopledger.ledger.errors import LedgerError, VerificationFailed
from coopledger.ledger.hashes import Hashes
from coopledger.ledger.store import LEDGER_ID, locate
from coopledger.projections.readmodel import TABLES
from hypothesis import given
from hypothesis import strategies as st
from support import SEED_EVENTS, SEEDS

# Positions in the example ledger.
JCEC = 60  # SeriesEstablished rok-china-jcec
CLEAN_SKY = 61  # ProjectLaunched clean-sky-project, key "clean-sky-project/launched"
JCEC_23 = 65  # MeetingHeld rok-china-jcec-23, number 23 of rok-china-jcec


class Owner:
    """The owner of the database at its own tools, behind the ledger's back."""

    def __init__(self, db_url: str):
        self.postgres = "://" in db_url
        if self.postgres:
            import psycopg

            self.connection: Any = psycopg.connect(db_url.replace("+psycopg", ""), autocommit=True)
        else:
            import sqlite3

            self.connection = sqlite3.connect(db_url, isolation_level=None)
        self.events = "coopledger_events" if self.postgres else "stored_events"

    def run(self, statement: str, params: tuple[Any, ...] = ()) -> list[Any]:
        statement = statement.replace("{events}", self.events)
        cursor = self.connection.execute(statement.replace("?", "%s") if self.postgres else statement, params)
        return cursor.fetchall() if cursor.description else []

    def unguard(self) -> None:
        """Remove what protects the read model and the events: the owner's power over the schema."""
        if self.postgres:
            for table in (*TABLES, self.events, "coopledger_contracts", "coopledger_read_model"):
                self.run(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        else:
            for (name,) in self.run("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
                self.run(f"DROP TRIGGER {name}")

    def refused(self, statement: str, params: tuple[Any, ...] = ()) -> str:
        """The database's refusal of a statement."""
        with pytest.raises(Exception) as raised:
            self.run(statement, params)
        return str(raised.value)

    def close(self) -> None:
        self.connection.close()


@pytest.fixture
def seeded(ledger: Ledger) -> Ledger:
    ledger.import_lines(SEEDS.open("rb"))
    return ledger


@pytest.fixture
def owner(db_url: str) -> Iterator[Owner]:
    opened = Owner(db_url)
    yield opened
    opened.close()


def fails(ledger: Ledger) -> str:
    with pytest.raises(VerificationFailed) as raised:
        ledger.verify()
    return str(raised.value)


# --- 1. the read model is guarded, and verified


READ_MODEL_EDITS = [
    "UPDATE coopledger_things SET state = replace(state, '\"number\":23', '\"number\":22') WHERE kind = 'meeting'",
    f"DELETE FROM coopledger_relationship_events WHERE position = {JCEC_23}",
    f"UPDATE coopledger_log SET retracted_by = {SEED_EVENTS} WHERE position = {JCEC_23}",
    f"DELETE FROM coopledger_log WHERE position = {CLEAN_SKY}",
    "INSERT INTO coopledger_things (kind, slug, state) VALUES ('instrument', 'forged', '{}')",
    "UPDATE coopledger_head SET recorded_at = '2000-01-01T00:00:00.000000Z'",
    f"DELETE FROM coopledger_thing_events WHERE position = {JCEC_23}",
    "UPDATE coopledger_snapshots SET state = NULL WHERE kind = 'project'",
    "DELETE FROM coopledger_snapshots WHERE kind = 'series'",
    "UPDATE coopledger_things SET slug = 'elsewhere' WHERE kind = 'series'",
    "UPDATE coopledger_snapshots SET slug = 'elsewhere' WHERE kind = 'series'",
    "INSERT INTO coopledger_snapshots SELECT kind, slug, '2999-01-01', position, shaped, founded_day,"
    " founded_position, state FROM coopledger_snapshots WHERE kind = 'meeting'",
]


@pytest.mark.parametrize("edit", READ_MODEL_EDITS)
def test_the_database_refuses_read_model_edits_behind_the_ledgers_back(
    seeded: Ledger, owner: Owner, edit: str
) -> None:
    assert "written only by the append path of the ledger" in owner.refused(edit) or (
        not owner.postgres and "no such function: written_by_coopledger" in owner.refused(edit)
    )
    assert seeded.verify().events == SEED_EVENTS


def test_the_guards_stand_after_an_import_or_a_rebuild_whether_it_commits_or_fails(
    seeded: Ledger, owner: Owner
) -> None:
    """On SQLite an import or a rebuild drops the guards inside its own transaction and lays
    them again before it commits (`beyond_library.sqlite_guards_lifted`)."""
    triggers = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
    before = owner.run(triggers) if not owner.postgres else []
    good = b'{"type":"PartyRegistered","occurred_on":"2020","data":{"party":"NEW","name":"New"}}\n'
    with pytest.raises(LedgerError):  # a line refused after a good one: nothing is written
        seeded.import_lines([good, b'{"type": "MeetingHeld"}\n'])
    seeded.rebuild()
    if not owner.postgres:
        assert owner.run(triggers) == before
    assert "written only by the append path of the ledger" in owner.refused(READ_MODEL_EDITS[0]) or (
        not owner.postgres and "no such function: written_by_coopledger" in owner.refused(READ_MODEL_EDITS[0])
    )
    assert seeded.verify().events == SEED_EVENTS


def test_the_sqlite_read_model_refuses_insert_or_replace(seeded: Ledger, owner: Owner) -> None:
    if owner.postgres:
        pytest.skip("INSERT OR REPLACE is SQLite's")
    assert "no such function" in owner.refused(
        "INSERT OR REPLACE INTO coopledger_things (kind, slug, state) VALUES ('series', 'rok-china-jcec', '{}')"
    )
    assert "recorded events cannot be changed or removed" in owner.refused(
        "INSERT OR REPLACE INTO {events} SELECT * FROM {events} WHERE originator_version = 3"
    )
    assert "recorded events cannot be changed or removed" in owner.refused(
        "INSERT OR REPLACE INTO {events} (rowid, originator_id, originator_version, topic, state)"
        " SELECT 5, originator_id, 99, topic, state FROM {events} WHERE originator_version = 3"
    )
    assert seeded.verify().events == SEED_EVENTS


# What an owner who removed the guards edits, and what verify then names.
UNGUARDED = {
    "a meeting's number": (
        "UPDATE coopledger_things SET state = replace(state, '\"number\":23', '\"number\":22')"
        " WHERE slug = 'rok-china-jcec-23'",
        "coopledger_things has a row that differs for meeting 'rok-china-jcec-23'",
    ),
    "a relationship's meeting removed": (
        f"DELETE FROM coopledger_relationship_events WHERE position = {JCEC_23} AND relationship = 'CHN~KOR'",
        "coopledger_relationship_events differs for the relationship CHN~KOR",
    ),
    "a project removed from a relationship": (
        f"UPDATE coopledger_relationship_events SET relationship = 'CHN~JPN' WHERE position = {CLEAN_SKY}",
        "coopledger_relationship_events differs for the relationship CHN~JPN",
    ),
    "a log row retracted": (
        f"UPDATE coopledger_log SET retracted_by = {SEED_EVENTS}, retracted_at = 'x' WHERE position = {JCEC_23}",
        f"coopledger_log says wrongly whether position {JCEC_23} is retracted, and when",
    ),
    "a log row's key removed": (
        f"UPDATE coopledger_log SET key = NULL WHERE position = {CLEAN_SKY}",
        f"coopledger_log has a row that differs for position {CLEAN_SKY}",
    ),
    "a thing forged": (
        "INSERT INTO coopledger_things (kind, slug, state) VALUES ('instrument', 'forged', '{}')",
        "coopledger_things has a row for instrument 'forged', which no event makes",
    ),
    "a thing removed": (
        "DELETE FROM coopledger_things WHERE kind = 'number' AND slug = 'rok-china-jcec#23'",
        "coopledger_things has no row for number 'rok-china-jcec#23'",
    ),
    "a link to a thing removed": (
        f"DELETE FROM coopledger_thing_events WHERE position = {JCEC_23} AND kind = 'series'",
        "coopledger_thing_events differs for series 'rok-china-jcec'",
    ),
    "a project's snapshot changed": (
        "UPDATE coopledger_snapshots SET state = replace(state, 'Clean Sky', 'Dirty Sky')"
        f" WHERE slug = 'clean-sky-project' AND position = {CLEAN_SKY}",
        "coopledger_snapshots has a row that differs for project 'clean-sky-project'",
    ),
    "a meeting's snapshot removed": (
        "DELETE FROM coopledger_snapshots WHERE slug = 'rok-china-jcec-24'",
        "coopledger_snapshots has a row that differs for meeting 'rok-china-jcec-24'",
    ),
    "a snapshot forged": (
        "INSERT INTO coopledger_snapshots VALUES ('series', 'zz-forged', '2019-01-01', 1, 1, NULL, NULL, NULL)",
        "coopledger_snapshots has a row for series 'zz-forged', which no event makes",
    ),
    "the snapshots cleared": (
        "DELETE FROM coopledger_snapshots",
        "coopledger_snapshots has no row for instrument",
    ),
    "the head's time": (
        "UPDATE coopledger_head SET recorded_at = '2000-01-01T00:00:00.000000Z'",
        "coopledger_head says the last event was recorded at 2000-01-01T00:00:00.000000Z",
    ),
}


@pytest.mark.parametrize("case", list(UNGUARDED))
def test_verify_names_the_read_model_table_and_thing_that_differ(
    seeded: Ledger, owner: Owner, case: str
) -> None:
    edit, named = UNGUARDED[case]
    before = seeded.state("KOR", "CHN", parse_edtf("2020"))
    owner.unguard()
    owner.run(edit)
    assert fails(seeded).startswith(named)
    assert fails(seeded).endswith("; the events are intact: `coopledger rebuild` remakes it")
    seeded.rebuild()
    assert seeded.verify().events == SEED_EVENTS
    assert seeded.state("KOR", "CHN", parse_edtf("2020")) == before


def test_a_state_read_from_a_lying_snapshot_is_caught(seeded: Ledger, owner: Owner) -> None:
    """`state` reads each thing's snapshot: one changed with the database's tools changes the
    answer, and verify names it."""
    owner.unguard()
    owner.run(
        "UPDATE coopledger_snapshots SET state = replace(state, 'Clean Sky', 'Dirty Sky')"
        " WHERE slug = 'clean-sky-project'"
    )
    titles = [p["title"] for p in seeded.state("KOR", "CHN", parse_edtf("2020"))["projects"]]
    assert any(title.startswith("Dirty Sky") for title in titles)
    assert "coopledger_snapshots has a row that differs for project 'clean-sky-project'" in fails(seeded)
    seeded.rebuild()
    titles = [p["title"] for p in seeded.state("KOR", "CHN", parse_edtf("2020"))["projects"]]
    assert any(title.startswith("Clean Sky") for title in titles)


def test_a_snapshot_that_cannot_be_read_is_an_error_not_a_traceback(seeded: Ledger, owner: Owner) -> None:
    owner.unguard()
    owner.run("UPDATE coopledger_snapshots SET state = '{' WHERE slug = 'clean-sky-project'")
    with pytest.raises(
        VerificationFailed, match="coopledger_snapshots: a row of project 'clean-sky-project'"
    ):
        seeded.state("KOR", "CHN", parse_edtf("2020"))


def test_a_state_that_lies_is_caught(seeded: Ledger, owner: Owner) -> None:
    """The attack as found: a meeting count changed with the database's tools."""
    held = seeded.state("KOR", "CHN", parse_edtf("2020"))["meetings"]["held"]
    owner.unguard()
    owner.run(f"DELETE FROM coopledger_relationship_events WHERE position = {JCEC_23}")
    assert seeded.state("KOR", "CHN", parse_edtf("2020"))["meetings"]["held"] == held - 1
    assert "coopledger_relationship_events differs for the relationship" in fails(seeded)


# --- 3. an edited read model cannot make an append accept what the ledger refuses

DUPLICATE_NUMBER = {
    "type": "MeetingHeld",
    "occurred_on": "2019-02",
    "data": {"meeting": "jcec-23-again", "parties": ["KOR", "CHN"], "series": "rok-china-jcec", "number": 23},
}
DUPLICATE_KEY = {
    "type": "ProjectLaunched",
    "occurred_on": "2018",
    "key": "clean-sky-project/launched",
    "data": {"project": "other-sky", "title": "Other", "parties": ["KOR", "CHN"]},
}


def test_the_rows_the_rules_ask_cannot_be_edited(seeded: Ledger, owner: Owner) -> None:
    for edit in (
        "DELETE FROM coopledger_things WHERE kind = 'number'",
        f"UPDATE coopledger_log SET key = NULL WHERE position = {CLEAN_SKY}",
        f"DELETE FROM coopledger_log WHERE position = {CLEAN_SKY}",
    ):
        owner.refused(edit)
    with pytest.raises(LedgerError, match="meeting 23 of series 'rok-china-jcec' is already recorded"):
        seeded.append(DUPLICATE_NUMBER)
    with pytest.raises(
        LedgerError, match=f"'clean-sky-project/launched' is already recorded at position {CLEAN_SKY}"
    ):
        seeded.append(DUPLICATE_KEY)
    assert seeded.verify().events == SEED_EVENTS


def test_a_meeting_number_is_held_by_the_database_too(seeded: Ledger, owner: Owner) -> None:
    """Even with the guards removed and the row the rule asks deleted, the meeting's own row
    keeps its number: a unique index refuses the duplicate, and the ledger stays as it was."""
    owner.unguard()
    owner.run("DELETE FROM coopledger_things WHERE kind = 'number'")
    digest = seeded.digest()
    with pytest.raises(
        LedgerError, match=r"refused the change: .*(UNIQUE constraint failed|coopledger_held_numbers)"
    ):
        seeded.append(DUPLICATE_NUMBER)
    assert seeded.digest() == digest
    seeded.rebuild()
    assert seeded.verify().events == SEED_EVENTS
    with pytest.raises(LedgerError, match="meeting 23 of series 'rok-china-jcec' is already recorded"):
        seeded.append(DUPLICATE_NUMBER)


# --- 4. verify decodes and validates every event, and replays the rules


def rewrite(owner: Owner, position: int, change: Callable[[dict[str, Any]], None]) -> None:
    """Rewrite one event and recompute the chain after it (and the head): what only an owner can."""
    owner.unguard()
    previous = GENESIS
    for version, state in owner.run(
        "SELECT originator_version, state FROM {events} ORDER BY originator_version"
    ):
        envelope = orjson.loads(bytes(state))
        if version == position:
            change(envelope)
        if version >= position:
            envelope.pop("hash")
            envelope["hash"], stored = seal(previous, envelope)
            owner.run(
                "UPDATE {events} SET state = ?, topic = ? WHERE originator_version = ?",
                (stored, f"events:{envelope['type']}", version),
            )
        previous = envelope["hash"]
    owner.run("UPDATE coopledger_head SET hash = ?", (previous,))


REWRITES = {
    "a number that is text": (
        JCEC_23,
        lambda e: e["data"].update(number="23"),
        "not a valid event: data.number: expected a whole number, got a string",
    ),
    "one party": (
        CLEAN_SKY,
        lambda e: e["data"].update(parties=["KOR"]),
        "the rules refuse it: data.parties: needs two or more parties",
    ),
    "an unknown field": (
        CLEAN_SKY,
        lambda e: e["data"].update(budget=5),
        "not a valid event: data.budget: unknown field for ProjectLaunched",
    ),
    "an alias stored for a party": (
        CLEAN_SKY,
        lambda e: e["data"].update(parties=["ROK", "CHN"]),
        "not a valid event: data: not in the form the ledger stores",
    ),
    "an unknown party": (
        CLEAN_SKY,
        lambda e: e["data"].update(parties=["KOR", "NOPE"]),
        "not a valid event: data.parties[1]: unknown party 'NOPE' (states are ISO 3166 codes like KOR;"
        " register any other party first: coopledger party add)",
    ),
    "a recording time that goes back": (
        JCEC_23,
        lambda e: e.update(recorded_at="2001-01-01T00:00:00.000000Z"),
        "recorded at 2001-01-01T00:00:00.000000Z, before the event before it",
    ),
    "a recording time that is no time": (
        JCEC_23,
        lambda e: e.update(recorded_at="yesterday"),
        "recorded_at 'yesterday' is not a recording time",
    ),
    "a second series of the same id": (
        CLEAN_SKY,
        lambda e: e.update(
            type="SeriesEstablished",
            data={"series": "rok-china-jcec", "title": "Again", "parties": ["KOR", "CHN"]},
        ),
        f"the rules refuse it: data.series: series 'rok-china-jcec' is already recorded (position {JCEC})",
    ),
}


@pytest.mark.parametrize("case", list(REWRITES))
def test_verify_refuses_a_rewritten_event_whose_chain_was_recomputed(
    seeded: Ledger, owner: Owner, case: str
) -> None:
    position, change, message = REWRITES[case]
    rewrite(owner, position, change)
    assert fails(seeded).startswith(f"position {position}: {message}")


def test_verify_replays_the_rules_in_position_order(seeded: Ledger, owner: Owner) -> None:
    """An event that the rules refuse, forged in with a correct chain, is found."""
    owner.unguard()
    events = owner.events
    (state,) = owner.run(f"SELECT state FROM {events} WHERE originator_version = {JCEC}")[0]
    head = owner.run("SELECT position, hash, recorded_at FROM coopledger_head")[0]
    envelope = orjson.loads(bytes(state))
    envelope.update(id=str(uuid.uuid4()), position=head[0] + 1, recorded_at=head[2])
    envelope.pop("hash")
    envelope["hash"], stored = seal(head[1], envelope)
    owner.run(
        f"INSERT INTO {events} (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)",
        (LEDGER_ID.hex if not owner.postgres else LEDGER_ID, head[0] + 1, "events:SeriesEstablished", stored),
    )
    owner.run("UPDATE coopledger_head SET position = ?, hash = ?", (head[0] + 1, envelope["hash"]))
    assert fails(seeded) == (
        f"position {SEED_EVENTS + 1}: the rules refuse it: data.series: series 'rok-china-jcec'"
        f" is already recorded (position {JCEC})"
    )


# --- the contract version: older events, older rules


def written_by_an_older_version(ledger: Ledger, owner: Owner, upgraded: bool, monkeypatch: Any) -> int:
    """Append, as an earlier version would, a held meeting that does not match its schedule (a
    rule contract 2 added); when `upgraded`, the store then records that contract 2 applies from
    the next event on. Returns the meeting's position."""
    ledger.import_lines(SEEDS.open("rb"))
    monkeypatch.setattr(rules, "check", partial(rules.check, contract=1))
    held = {
        "type": "MeetingHeld",
        "occurred_on": "2019-11",
        "data": {
            "meeting": "rok-china-jcec-24",
            "parties": ["KOR", "CHN"],
            "series": "rok-china-jcec",
            "number": 25,
        },
    }
    position = ledger.append(held).position
    monkeypatch.undo()
    if upgraded:
        owner.unguard()
        owner.run("DELETE FROM coopledger_contracts")
        owner.run("INSERT INTO coopledger_contracts VALUES (2, ?)", (position + 1,))
    return position


def test_an_older_ledger_that_a_stricter_rule_refuses_is_a_warning(
    ledger: Ledger, owner: Owner, monkeypatch: Any
) -> None:
    position = written_by_an_older_version(ledger, owner, upgraded=True, monkeypatch=monkeypatch)
    verified = ledger.verify()
    assert verified.events == position and verified.warned == 1
    assert verified.warnings == (
        (
            position,
            "data.number: meeting 'rok-china-jcec-24' was scheduled with number 24 (position 74), not 25;"
            " record a different meeting under a new id (recorded before contract 2, which refuses it)",
        ),
    )


def test_after_the_upgrade_the_stricter_rule_is_an_error(
    ledger: Ledger, owner: Owner, monkeypatch: Any
) -> None:
    position = written_by_an_older_version(ledger, owner, upgraded=False, monkeypatch=monkeypatch)
    assert fails(ledger).startswith(f"position {position}: the rules refuse it: data.number: meeting")


def test_a_store_made_by_an_earlier_version_records_when_it_was_upgraded(
    seeded: Ledger, owner: Owner
) -> None:
    owner.unguard()
    owner.run("DROP TABLE coopledger_contracts")
    assert seeded.init() == "upgraded"
    assert owner.run("SELECT contract, from_position FROM coopledger_contracts") == [(2, SEED_EVENTS + 1)]
    assert seeded.init() == "current"
    assert "written only by the append path" in owner.refused(
        "UPDATE coopledger_things SET state = '{}' WHERE kind = 'series'"
    ) or "no such function" in owner.refused(
        "UPDATE coopledger_things SET state = '{}' WHERE kind = 'series'"
    )
    assert "is never changed" in owner.refused("UPDATE coopledger_contracts SET from_position = 1")


def test_verify_streams_with_progress(seeded: Ledger) -> None:
    steps: list[int] = []
    assert seeded.verify(progress=steps.append).events == SEED_EVENTS
    assert sum(steps) == SEED_EVENTS


def test_verify_with_little_memory_compares_a_thing_after_its_last_retraction(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long verify compares and forgets things no later event touches; a retraction refolds
    the things its event shaped, so it touches them too (found on a 1M-event ledger: a retracted
    amendment was compared before its retraction and reported as a differing row)."""
    from coopledger.ledger import verify

    monkeypatch.setattr(verify, "THINGS_KEPT", 4)
    signed = {"type": "InstrumentSigned", "occurred_on": "2018-05-30"}
    for n in range(3):
        ledger.append(
            {
                **signed,
                "data": {"instrument": f"mou-{n}", "kind": "mou", "title": "t", "parties": ["KOR", "JPN"]},
            }
        )
    amended = ledger.append(
        {"type": "InstrumentAmended", "occurred_on": "2019", "data": {"instrument": "mou-0", "summary": "s"}}
    )
    for n in range(3, 12):  # enough other things for the fold to compare and forget mou-0
        ledger.append(
            {
                **signed,
                "data": {"instrument": f"mou-{n}", "kind": "mou", "title": "t", "parties": ["KOR", "CHN"]},
            }
        )
    ledger.append(
        {"type": "EventRetracted", "occurred_on": "2020", "data": {"event": amended.position, "reason": "r"}}
    )
    assert ledger.verify().events == 14


# --- 2. the PostgreSQL appender role can append and read, nothing more


@pytest.fixture
def appender(postgres_url: str) -> Iterator[tuple[Ledger, Any, str]]:
    """The example ledger, its owner's ledger and a connection as an appender role, and the role's URL."""
    import psycopg

    role = f"appender_{uuid.uuid4().hex[:8]}"
    owner = Ledger(locate(postgres_url))
    owner.import_lines(SEEDS.open("rb"))
    admin = psycopg.connect(postgres_url.replace("+psycopg", ""), autocommit=True)
    admin.execute(f"CREATE ROLE {role} LOGIN")
    owner.grant_appender(role)
    as_role = postgres_url.replace("postgres@", f"{role}@")
    connection = psycopg.connect(as_role.replace("+psycopg", ""), autocommit=True)
    try:
        yield owner, connection, as_role
    finally:
        connection.close()
        owner.close()
        admin.execute(f"DROP OWNED BY {role}")
        admin.execute(f"DROP ROLE {role}")
        admin.close()


@pytest.mark.postgres
@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE coopledger_things SET state = '{}' WHERE kind = 'series'",
        "DELETE FROM coopledger_things WHERE kind = 'number'",
        f"DELETE FROM coopledger_relationship_events WHERE position = {JCEC_23}",
        f"UPDATE coopledger_log SET retracted_by = {SEED_EVENTS} WHERE position = {JCEC_23}",
        f"DELETE FROM coopledger_log WHERE position = {CLEAN_SKY}",
        "UPDATE coopledger_head SET position = 3",
        "TRUNCATE coopledger_thing_events",
        "INSERT INTO coopledger_things VALUES ('instrument', 'forged', '{}')",
        "UPDATE coopledger_snapshots SET shaped = 9 WHERE kind = 'series'",
        "DELETE FROM coopledger_snapshots WHERE kind = 'meeting'",
        "INSERT INTO coopledger_snapshots VALUES ('series', 'forged', '2019-01-01', 1, 1, NULL, NULL, NULL)",
        f"INSERT INTO coopledger_log (position, id, type, recorded_at, parties) VALUES ({SEED_EVENTS + 1}, 'x', 'T', '', '')",
        "UPDATE coopledger_contracts SET from_position = 1000",
        "UPDATE coopledger_things SET state = state",
        "UPDATE coopledger_things SET slug = 'elsewhere' WHERE kind = 'series'",
        "INSERT INTO coopledger_things SELECT kind, slug, '{}' FROM coopledger_things WHERE kind = 'series'"
        " ON CONFLICT (kind, slug) DO UPDATE SET state = excluded.state",
        "SET coopledger.rebuilding = 'on'; DELETE FROM coopledger_relationship_events",
    ],
)
def test_an_appender_cannot_write_the_read_model(appender: tuple[Ledger, Any, str], edit: str) -> None:
    import psycopg

    owner, connection, _ = appender
    with pytest.raises(
        psycopg.Error, match=r"permission denied|written only by the append path|never changed"
    ):
        connection.execute(edit)
    assert owner.verify().events == SEED_EVENTS


@pytest.mark.postgres
def test_an_appender_appends_and_verifies_through_the_ledger(appender: tuple[Ledger, Any, str]) -> None:
    _, _, as_role = appender
    clerk = Ledger(locate(as_role), actor="clerk")
    try:
        assert clerk.append(
            DUPLICATE_NUMBER | {"data": {**DUPLICATE_NUMBER["data"], "number": 25}}
        ).position == (SEED_EVENTS + 1)
        retraction = {"type": "EventRetracted", "data": {"event": SEED_EVENTS + 1, "reason": "test"}}
        assert clerk.append(retraction).position == SEED_EVENTS + 2
        assert clerk.verify().events == SEED_EVENTS + 2
        with pytest.raises(LedgerError, match="refused the change: permission denied"):
            clerk.rebuild()
    finally:
        clerk.close()


@pytest.mark.postgres
def test_a_row_slipped_in_by_an_appender_cannot_block_the_ledger(appender: tuple[Ledger, Any, str]) -> None:
    import psycopg

    owner, connection, _ = appender
    with pytest.raises(psycopg.Error, match="an event is recorded only by the ledger"):
        connection.execute(
            "INSERT INTO coopledger_events (originator_id, originator_version, topic, state) VALUES (%s, %s, %s, %s)",
            (LEDGER_ID, SEED_EVENTS + 1, "events:MeetingHeld", b"poison"),
        )
    assert owner.append(DUPLICATE_NUMBER | {"data": {**DUPLICATE_NUMBER["data"], "number": 25}}).position == (
        SEED_EVENTS + 1
    )
    assert owner.verify().events == SEED_EVENTS + 1


@pytest.mark.postgres
def test_an_appender_cannot_hold_the_ledger_beyond_its_transaction(
    appender: tuple[Ledger, Any, str], monkeypatch: Any
) -> None:
    from coopledger.ledger.store import _WRITE_LOCK

    owner, connection, _ = appender
    connection.execute("SELECT pg_advisory_lock(%s)", (_WRITE_LOCK,))  # for its whole session
    monkeypatch.setenv("COOPLEDGER_LOCK_TIMEOUT", "2")
    assert owner.append(DUPLICATE_NUMBER | {"data": {**DUPLICATE_NUMBER["data"], "number": 25}}).position == (
        SEED_EVENTS + 1
    )


def forge(connection: Any, change: Callable[[dict[str, Any]], None]) -> int:
    """Append by hand as the appender: a chain-valid event, its log row and the head, in one
    transaction, as the ledger would, but without its rules. Returns its position."""
    position, hash_, recorded_at = connection.execute(
        "SELECT position, hash, recorded_at FROM coopledger_head"
    ).fetchone()
    envelope = {
        "id": str(uuid.uuid4()),
        "position": position + 1,
        "type": "SeriesEstablished",
        "occurred_on": "2019",
        "data": {"series": "forged-series", "title": "Forged", "parties": ["KOR", "CHN"]},
        "recorded_at": recorded_at,
        "recorded_by": "clerk",
    }
    change(envelope)
    envelope["hash"], stored = seal(hash_, envelope)
    with connection.transaction():
        connection.execute(
            "INSERT INTO coopledger_events (originator_id, originator_version, topic, state) VALUES (%s, %s, %s, %s)",
            (LEDGER_ID, position + 1, f"events:{envelope['type']}", stored),
        )
        connection.execute(
            "INSERT INTO coopledger_log (position, id, type, recorded_at, parties) VALUES (%s, %s, %s, %s, '')",
            (position + 1, envelope["id"], envelope["type"], envelope["recorded_at"]),
        )
        connection.execute(
            "UPDATE coopledger_head SET position = %s, hash = %s, recorded_at = %s",
            (position + 1, envelope["hash"], envelope["recorded_at"]),
        )
    return position + 1


@pytest.mark.postgres
@pytest.mark.parametrize(
    "case",
    [
        (
            lambda e: e["data"].update(series="rok-china-jcec"),
            f"the rules refuse it: data.series: series 'rok-china-jcec' is already recorded (position {JCEC})",
        ),
        (
            lambda e: e.update(recorded_at="2001-01-01T00:00:00.000000Z"),
            "recorded at 2001-01-01T00:00:00.000000Z, before the event before it",
        ),
        (
            lambda e: e.update(occurred_on="2999"),
            "the rules refuse it: occurred_on: 2999 has not happened yet",
        ),
    ],
)
def test_verify_finds_an_event_forged_by_an_appender(appender: tuple[Ledger, Any, str], case: Any) -> None:
    owner, connection, _ = appender
    change, message = case
    position = forge(connection, change)
    assert fails(owner).startswith(f"position {position}: {message}")


@pytest.mark.postgres
def test_an_appender_cannot_upgrade_a_store_made_by_an_earlier_version(
    appender: tuple[Ledger, Any, str],
) -> None:
    owner, _, as_role = appender
    import psycopg

    with psycopg.connect(owner.location.url.replace("+psycopg", ""), autocommit=True) as admin:  # type: ignore[union-attr]
        admin.execute("DROP TABLE coopledger_contracts")
    clerk = Ledger(locate(as_role), actor="clerk")
    try:
        with pytest.raises(LedgerError, match="its owner must bring it up to date first"):
            clerk.append(DUPLICATE_NUMBER | {"data": {**DUPLICATE_NUMBER["data"], "number": 25}})
    finally:
        clerk.close()
    assert owner.init() == "upgraded"


@pytest.mark.postgres
def test_init_lays_the_guards_of_an_earlier_version_anew(appender: tuple[Ledger, Any, str]) -> None:
    """Stores made before 2026-12-04 guard things and snapshots with a trigger a row: this version
    writes under them, and `init`, run by the owner, replaces them with the guards checked once a
    statement (an appender cannot, and its appends go on meanwhile)."""
    import psycopg

    owner, connection, as_role = appender
    with psycopg.connect(owner.location.url.replace("+psycopg", ""), autocommit=True) as admin:  # type: ignore[union-attr]
        for table in ("things", "snapshots"):
            for verb in ("added", "changed", "deleted", "rekeyed"):
                admin.execute(f"DROP TRIGGER coopledger_guard_{table}_{verb} ON coopledger_{table}")
        admin.execute(  # what an earlier version made, in name and kind (its check left out)
            "CREATE FUNCTION coopledger_guard_thing() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RETURN coalesce(NEW, OLD); END $$"
        )
        admin.execute(
            "CREATE TRIGGER coopledger_guard_thing BEFORE INSERT OR UPDATE OR DELETE ON coopledger_things"
            " FOR EACH ROW EXECUTE FUNCTION coopledger_guard_thing()"
        )

        def triggers() -> set[str]:
            query = "SELECT tgname FROM pg_trigger WHERE tgrelid = 'coopledger_things'::regclass"
            return {name for (name,) in admin.execute(query).fetchall()}

        clerk = Ledger(locate(as_role), actor="clerk")
        try:
            number = DUPLICATE_NUMBER | {
                "data": {**DUPLICATE_NUMBER["data"], "meeting": "jcec-24", "number": 24}
            }
            assert clerk.append(number).position == SEED_EVENTS + 1
            assert "coopledger_guard_thing" in triggers()  # a write leaves them as they are
            with pytest.raises(LedgerError, match="its owner must bring it up to date first"):
                clerk.init()
        finally:
            clerk.close()
        assert owner.init() == "guarded"
        laid = triggers()
        functions = admin.execute("SELECT count(*) FROM pg_proc WHERE proname = 'coopledger_guard_thing'")
        assert functions.fetchone() == (0,)
    assert "coopledger_guard_thing" not in laid
    assert {"coopledger_guard_things_added", "coopledger_guard_things_rekeyed"} <= laid
    with pytest.raises(psycopg.Error, match="written only by the append path"):
        connection.execute("DELETE FROM coopledger_things WHERE kind = 'number'")
    assert owner.init() == "current"
    assert owner.append(DUPLICATE_NUMBER | {"data": {**DUPLICATE_NUMBER["data"], "number": 25}}).position == (
        SEED_EVENTS + 2
    )
    assert owner.verify().events == SEED_EVENTS + 2


@pytest.mark.postgres
def test_granting_a_role_that_does_not_exist_is_one_line(postgres_url: str) -> None:
    owner = Ledger(locate(postgres_url))
    try:
        owner.init()
        with pytest.raises(LedgerError, match=r"^role 'nobody_here' does not exist: create it first"):
            owner.grant_appender("nobody_here")
    finally:
        owner.close()


def test_the_postgresql_guards_keep_plans_that_read_indexes(postgres_url: str) -> None:
    """A plan cached while an import's tables were small scanned them whole for every row after
    (10,000 events: 50 s), and planning every call anew cost more than the checks (20,000
    events: 12.4 s against 6.9 s): each guard's kept plans read the tables' indexes."""
    import psycopg

    owner = Ledger(locate(postgres_url))
    try:
        owner.init()
        with psycopg.connect(postgres_url.replace("+psycopg", "")) as connection:
            settings = dict(
                connection.execute(
                    "SELECT proname, proconfig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                    " WHERE (proname LIKE 'coopledger!_guard!_%' ESCAPE '!' OR proname = 'coopledger_projected')"
                    " AND nspname = current_schema()"
                ).fetchall()
            )
        assert "coopledger_guard_shaped" in settings
        assert all("enable_seqscan=off" in (config or []) for config in settings.values()), settings
    finally:
        owner.close()


# --- successions and memberships: their rows are vouched for too


def _event(type_: str, occurred_on: str, **data: Any) -> dict[str, Any]:
    return {"type": type_, "occurred_on": occurred_on, "data": data}


SUCCESSION = [
    *(
        _event("PartyRegistered", "2010", party=p, name=f"Agency {p}", kind="agency", country="KOR")
        for p in ("OLD-A", "NEW-B", "NEW-C", "LATER-D")
    ),
    _event("InstrumentSigned", "2015", instrument="mou-a", kind="mou", title="t", parties=["OLD-A", "JPN"]),
    _event("MeetingHeld", "2016-03-02", meeting="m-1", parties=["OLD-A", "JPN", "NEW-C"]),
    _event("PartySucceeded", "2018-06-01", party="OLD-A", successors=["NEW-B", "NEW-C"]),
    # Back-filled after the succession: taken over all the same.
    _event("InstrumentSigned", "2017", instrument="mou-b", kind="mou", title="t", parties=["OLD-A", "JPN"]),
    _event("PartySucceeded", "2020-01-10", party="NEW-B", successors=["LATER-D"]),
    _event("MeetingHeld", "2021-03-02", meeting="m-2", parties=["LATER-D", "CHN"]),
    _event(
        "InstrumentSigned",
        "2013-10-10",
        instrument="minamata",
        kind="treaty",
        title="t",
        parties=["JPN", "KOR"],
    ),
    _event("PartyJoined", "2016-02-02", party="VNM", instrument="minamata", action="accession"),
    _event("PartyWithdrew", "2019-03-01", party="KOR", instrument="minamata", effective_on="2020-03-01"),
]


def test_successions_and_their_retraction_are_verified(ledger: Ledger, owner: Owner) -> None:
    positions = [ledger.append(value).position for value in SUCCESSION]
    assert ledger.verify().events == len(SUCCESSION)
    ledger.append({"type": "EventRetracted", "data": {"event": positions[8], "reason": "in error"}})
    ledger.append({"type": "EventRetracted", "data": {"event": positions[12], "reason": "in error"}})
    assert ledger.verify().events == len(SUCCESSION) + 2
    assert ledger.rebuild() == len(SUCCESSION) + 2
    assert ledger.verify().events == len(SUCCESSION) + 2
    owner.unguard()
    owner.run("UPDATE coopledger_relationship_events SET via = 'NEW-C' WHERE via = 'OLD-A'")
    assert "coopledger_relationship_events differs for the relationship" in fails(ledger)


def test_a_read_model_version_row_is_verified(seeded: Ledger, owner: Owner) -> None:
    assert "is never changed" in owner.refused("UPDATE coopledger_read_model SET version = 7")
    owner.unguard()
    owner.run("UPDATE coopledger_read_model SET version = 7")
    # Queries refuse a read model of another version; verify vouches for the events alone.
    assert seeded.verify().checked == {"chain": SEED_EVENTS, "decoded": SEED_EVENTS}


@pytest.mark.postgres
def test_an_appender_records_and_retracts_a_succession(appender: tuple[Ledger, Any, str]) -> None:
    owner, _, as_role = appender
    clerk = Ledger(locate(as_role), actor="clerk")
    try:
        positions = [clerk.append(value).position for value in SUCCESSION]
        clerk.append({"type": "EventRetracted", "data": {"event": positions[8], "reason": "in error"}})
        clerk.append({"type": "EventRetracted", "data": {"event": positions[12], "reason": "in error"}})
    finally:
        clerk.close()
    assert owner.verify().events == SEED_EVENTS + len(SUCCESSION) + 2


BACK_DATED = [
    _event(
        "InstrumentSigned", "2015-04", instrument="air-mou", kind="mou", title="t", parties=["KOR", "JPN"]
    ),
    _event("InstrumentAmended", "2019", instrument="air-mou", summary="later"),
    _event("InstrumentAmended", "2016-02-02", instrument="air-mou", summary="earlier, recorded later"),
    _event("PartyJoined", "2017", party="CHN", instrument="air-mou", action="accession"),
]


@pytest.mark.postgres
def test_an_appender_remakes_the_snapshots_of_a_back_dated_or_retracted_event(
    appender: tuple[Ledger, Any, str],
) -> None:
    """An event dated before a thing's latest snapshot, and a retraction, make its snapshots
    again: the appender may, for the thing its transaction changes, and nothing else."""
    owner, connection, as_role = appender
    clerk = Ledger(locate(as_role), actor="clerk")
    try:
        positions = [clerk.append(value).position for value in BACK_DATED]
        clerk.append({"type": "EventRetracted", "data": {"event": positions[3], "reason": "in error"}})
        (mou,) = (
            i
            for i in clerk.state("KOR", "JPN", parse_edtf("2020"))["instruments"]
            if i["instrument"] == "air-mou"
        )
        assert [a["summary"] for a in mou["amendments"]] == ["earlier, recorded later", "later"]
        assert [m["party"] for m in mou["members"]] == ["KOR", "JPN"]  # the joining retracted
    finally:
        clerk.close()
    assert owner.verify().events == SEED_EVENTS + len(BACK_DATED) + 1
    import psycopg

    with pytest.raises(psycopg.Error, match="written only by the append path"):
        connection.execute("DELETE FROM coopledger_snapshots WHERE slug = 'air-mou'")


@given(st.lists(st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1)), st.integers(1, 8))
def test_the_set_of_folded_keys_holds_exactly_what_was_added(values: list[int], pending: int) -> None:
    """verify's compact set of key hashes (a sorted array and a small pending set, merged when
    that fills) answers as a set would, across merges and repeated values."""
    hashes = Hashes()
    hashes.PENDING = pending  # merge often
    for value in values:
        hashes.add(value)
    assert len(hashes) == len(set(values))
    assert all(value in hashes for value in values)
    assert list(hashes.sorted) == sorted(hashes.sorted)
    assert all(value + 1 in hashes for value in values if value + 1 in values)
    assert not any(value + 1 in hashes for value in values if value + 1 not in values)

"""The command line: exact output streams and exit codes."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from coopledger.cli import cli
from support import SEED_EVENTS, SEEDS, coopledger


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    db = str(tmp_path / "ledger.sqlite")

    def invoke(*args: str, input: str | bytes | None = None, db: str = db) -> Result:
        return CliRunner().invoke(cli, ["--db", db, "--actor", "ana", *args], input=input)

    return invoke


@pytest.fixture
def seeded(run):  # type: ignore[no-untyped-def]
    assert run("import", str(SEEDS)).exit_code == 0
    return run


def commands() -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    with click.Context(cli) as ctx:
        for name in cli.list_commands(ctx):
            found.append((name,))
            command = cli.get_command(ctx, name)
            if isinstance(command, click.Group):
                found.extend((name, sub) for sub in command.list_commands(ctx))
    return found


@pytest.mark.parametrize("path", commands())
def test_every_command_has_help_with_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output


def test_import_then_state_as_of_a_day(seeded) -> None:  # type: ignore[no-untyped-def]
    result = seeded("state", "KOR", "US", "--as-of", "2012-03-15")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[:8] == [
        "KOR~USA as of 2012-03-15",
        "Instruments:",
        "  IN_FORCE   kor-usa-environmental-cooperation-mou-1987 (mou) KOR, USA: Environmental Cooperation MOU between Korea and the United States",
        "             signed 1987-03, in force from 1987-03",
        "             members: KOR, USA: signature 1987-03",
        "  IN_FORCE   kor-usa-environmental-cooperation-agreement (agreement) KOR, USA: Korea-US Environmental Cooperation Agreement",
        "             signed 2012-01-23, in force from 2012-03-15",
        "             members: KOR, USA: signature 2012-01-23, bound 2012-03-15 by entry_into_force",
    ]


def test_state_json_has_the_spec_shape(seeded) -> None:  # type: ignore[no-untyped-def]
    state = json.loads(seeded("state", "kor", "jpn", "--as-of", "2017-06-30", "--json").stdout)
    assert list(state) == [
        "relationship",
        "as_of",
        "known_at",
        "instruments",
        "projects",
        "meetings",
        "possibly",
        "party_names",
    ]
    assert (state["relationship"], state["as_of"], state["known_at"]) == ("JPN~KOR", "2017-06-30", None)
    assert list(state["meetings"]) == ["held", "last", "next", "overdue", "postponed", "series"]
    # A trilateral training announced for 2014 and not known to have been held is overdue, not next.
    assert state["meetings"]["next"] is None
    assert state["meetings"]["overdue"][0] == {
        "meeting": "tripartite-joint-environment-training-2014",
        "announced_on": "2014",
        "planned_for": "2014",
    }
    # Instruments and projects carry what SPEC section 6 lists (and a few fields more, see README).
    instrument = state["instruments"][0]
    assert list(instrument) == [
        "instrument",
        "kind",
        "title",
        "parties",
        "multilateral",
        "signed_on",
        "in_force_from",
        "expires_on",
        "until_terminated",
        "status",
        "extensions",
        "amendments",
        "renewal",
        "current_term_ends",
        "notice_by",
        "supersedes",
        "superseded_by",
        "terminated_on",
        "members",
    ]
    assert list(instrument["members"][0]) == [
        "party",
        "action",
        "joined_on",
        "joining_pending",
        "bound_on",
        "bound_by",
        "withdrew_on",
        "withdrawal_pending",
    ]
    assert list(state["projects"][0]) == [
        "project",
        "title",
        "parties",
        "multilateral",
        "launched_on",
        "planned_start",
        "planned_end",
        "status",
        "scope_changes",
        "funding",
        "disbursed",
        "spent",
        "completed_on",
        "terminated_on",
        "members",
        "participants",
    ]
    assert list(state["meetings"]["series"][0]) == [
        "series",
        "title",
        "held",
        "last_number",
        "suspended_since",
        "withdrawn_since",
        "members",
    ]


def test_append_prints_position_and_id_and_a_duplicate_is_not_an_error(run) -> None:  # type: ignore[no-untyped-def]
    event = '{"type": "InstrumentSigned", "occurred_on": "2024-03-19", "key": "k", "data": {"instrument": "a", "kind": "mou", "title": "t", "parties": ["KOR", "JPN"]}}'
    first = run("append", "--json", event)
    assert first.exit_code == 0
    recorded = json.loads(first.stdout)
    assert (recorded["position"], recorded["duplicate"]) == (1, False)
    again = run("append", input=event)
    assert again.exit_code == 0
    assert again.stdout == f"duplicate of position 1 {recorded['id']}: not recorded again\n"


def test_bad_input_exits_2_with_one_line_naming_the_field(run) -> None:  # type: ignore[no-untyped-def]
    cases = [
        (
            (
                "append",
                '{"type": "InstrumentSigned", "occurred_on": "2024", "data": {"instrument": "a", "kind": "mou", "title": "t", "parties": ["KOE", "JPN"]}}',
            ),
            "Error: data.parties[0]: unknown party 'KOE' (did you mean KOR?)\n",
        ),
        (
            ("append", '{"type": "InstrumentSigned", "occurred_on": "2019-02-29", "data": {}}'),
            "Error: occurred_on: '2019-02-29' is not a calendar date\n",
        ),
        (
            ("append", "{not json"),
            "Error: event: not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)\n",
        ),
        (("state", "KOR", "JPN"), None),
    ]
    for args, stderr in cases:
        result = run(*args)
        assert result.exit_code == 2, result.output
        if stderr:
            assert result.stderr == stderr


def test_queries_on_a_missing_store_exit_2_and_create_nothing(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "missing.sqlite")
    result = run("state", "KOR", "JPN", db=db)
    assert (result.exit_code, result.stderr) == (
        2,
        f"Error: no ledger at {db}: create it with `coopledger init` or record an event\n",
    )
    assert not Path(db).exists()


def test_a_refused_write_on_a_missing_store_leaves_no_file(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "new" / "deeper" / "ledger.sqlite"
    sign = ("sign", "mou", "--kind", "mou", "--title", "MOU", "--party", "KOR", "--party", "CHN")
    bad_lines = tmp_path / "bad.jsonl"
    bad_lines.write_bytes(b'{"type": "SeriesEstablished", "occurred_on": "1993", "data": {}}\n')
    for args in (
        (*sign, "--on", "2019-0X-00"),  # a date the library cannot read
        (*sign[:-1], "ZZZ", "--on", "2019-01"),  # an unknown party
        ("import", str(bad_lines)),
    ):
        result = run(*args, db=str(db))
        assert result.exit_code == 2 and result.stderr.startswith("Error: "), (args, result.output)
        assert not (tmp_path / "new").exists(), args
    assert run(*sign, "--on", "2019-01", "--dry-run", db=str(db)).exit_code == 0
    assert not (tmp_path / "new").exists()

    # The write that succeeds makes the ledger, whole: no write-ahead log or temporary beside it.
    assert run(*sign, "--on", "2019-01", db=str(db)).exit_code == 0
    assert [path.name for path in db.parent.iterdir()] == ["ledger.sqlite"]
    assert run("verify", db=str(db)).stdout.startswith("ok: 1 events verified")
    assert "IN_FORCE   mou (mou) KOR, CHN: MOU" in run("state", "KOR", "CHN", db=str(db)).stdout
    (tmp_path / "a-file").write_text("")
    result = run("init", db=str(tmp_path / "a-file" / "ledger.sqlite"))
    assert (result.exit_code, result.stderr) == (
        2,
        f"Error: {tmp_path / 'a-file'}: not a directory, so no ledger can be made in it\n",
    )
    empty = tmp_path / "empty" / "ledger.sqlite"
    assert run("init", db=str(empty)).stdout == f"created the ledger at {empty}\n"
    assert [path.name for path in empty.parent.iterdir()] == ["ledger.sqlite"]


def test_a_project_past_its_planned_end_is_active_and_says_its_end_has_passed(seeded) -> None:  # type: ignore[no-untyped-def]
    after = seeded("state", "KOR", "USA", "--as-of", "2020").stdout
    assert "ACTIVE     kor-usa-work-program-2013-2015" in after
    assert "launched 2013-02-14, to end 2015 (passed, no completion recorded)" in after
    on_the_day = seeded("state", "KOR", "USA", "--as-of", "2015").stdout  # 2015 counts to its last day
    assert "launched 2013-02-14, to end 2015\n" in on_the_day


def test_import_errors_name_the_line_and_record_nothing(seeded, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"type": "MeetingHeld", "occurred_on": "2019-11", "data": {"meeting": "x", "parties": ["KOR", "CHN"]}}\n'
        '{"type": "MeetingHeld", "occurred_on": "2019-11", "data": {"meeting": "y", "parties": ["KOR", "CHN"], "number": 1.5}}\n'
    )
    digest = seeded("digest").stdout
    result = seeded("import", str(bad))
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: line 2: data.number: expected a whole number, got a float\n",
    )
    assert seeded("digest").stdout == digest
    again = seeded("import", str(SEEDS))
    assert again.stdout == f"imported 0 events, {SEED_EVENTS} duplicates skipped\n"


def test_a_file_saved_with_a_byte_order_mark_and_crlf_line_ends_imports(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Editors on Windows save UTF-8 with a byte order mark and CRLF line ends; files put together
    with `cat` may carry a mark on a later line too. Neither is part of the JSON."""
    lines = SEEDS.read_bytes().splitlines()
    saved = tmp_path / "saved.jsonl"
    saved.write_bytes(
        b"\xef\xbb\xbf" + b"\r\n".join(lines[:10]) + b"\r\n\xef\xbb\xbf" + b"\r\n".join(lines[10:])
    )
    result = run("import", str(saved))
    assert (result.exit_code, result.stdout) == (
        0,
        f"imported {SEED_EVENTS} events (positions 1-{SEED_EVENTS}), 0 duplicates skipped\n",
    )
    assert run("import", str(SEEDS)).stdout == f"imported 0 events, {SEED_EVENTS} duplicates skipped\n"


def test_bad_arguments_fail_before_the_ledger_opens(run) -> None:  # type: ignore[no-untyped-def]
    result = run("state", "KOR", "JPN", "--as-of", "2019-13-45")
    assert result.exit_code == 2
    assert "Invalid value for '--as-of'" in result.stderr and "is not an EDTF date" in result.stderr
    result = run("history", "KOR", "JPN", "--known-at", "yesterday")
    assert result.exit_code == 2 and "Invalid value for '--known-at'" in result.stderr


def test_log_show_and_history(seeded) -> None:  # type: ignore[no-untyped-def]
    log = seeded("log", "--type", "InstrumentEnteredIntoForce").stdout.splitlines()
    assert len(log) == 1 and log[0].endswith(
        "ana  InstrumentEnteredIntoForce  kor-usa-environmental-cooperation-agreement entered into force"
    )
    entries = json.loads(seeded("log", "--json", "--party", "vnm", "--since-position", "35").stdout)
    assert [e["position"] for e in entries] == [36, 37, 38, 39, 40, 41]
    assert set(entries[0]) == {
        "id",
        "position",
        "type",
        "occurred_on",
        "data",
        "source",
        "note",
        "key",
        "recorded_at",
        "recorded_by",
        "hash",
    }
    shown = seeded("show", "9")
    assert shown.exit_code == 0
    assert shown.stdout.splitlines()[0] == (
        "position 9  InstrumentSigned  nies-nier-mou-2024 (mou) NIES, NIER: MOU for joint research on waste recycling, expires 2029-03-31"
    )
    assert "  source.publisher: National Institute for Environmental Studies, Japan" in shown.stdout
    assert shown.stdout.endswith("not retracted\n")
    missing = seeded("show", "999")
    assert (missing.exit_code, missing.stderr) == (1, "Error: no event 999 in the ledger\n")
    retract = seeded(
        "append", '{"type": "EventRetracted", "data": {"event": 10, "reason": "duplicate entry"}}'
    )
    assert retract.stdout.startswith(f"recorded position {SEED_EVENTS + 1} ")
    history = seeded("history", "NIES", "NIER", "--exact").stdout.splitlines()
    assert history[-1].endswith("[RETRACTED: duplicate entry]")
    items = json.loads(
        seeded("history", "NIES", "NIER", "--json", "--from", "2024-03", "--to", "2024-03").stdout
    )
    assert [(e["position"], e["retracted"], e["multilateral"]) for e in items] == [
        (9, False, False),
        (10, True, False),
    ]
    assert items[1]["reason"] == "duplicate entry"


def test_verify_digest_and_tampering(seeded, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    digest = seeded("digest").stdout.strip()
    assert digest.startswith(f"{SEED_EVENTS}:")
    assert (
        seeded("verify", "--digest", digest).stdout == f"ok: {SEED_EVENTS} events verified; digest {digest}\n"
    )
    connection = sqlite3.connect(tmp_path / "ledger.sqlite")
    connection.execute("DROP TRIGGER coopledger_events_no_update")
    connection.execute(
        "UPDATE stored_events SET state = replace(state, '2029-03-31', '2030-03-31') WHERE originator_version = 9"
    )
    connection.commit()
    connection.close()
    result = seeded("verify")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: position 9: the hash does not match the event and the chain before it\n",
    )


def test_relationships_rebuild_and_export(seeded, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    listed = json.loads(seeded("relationships", "--as-of", "2019-01-31", "--json").stdout)
    jpn_kor = next(r for r in listed if r["relationship"] == "JPN~KOR")
    assert (jpn_kor["instruments"], jpn_kor["first"]) == (2, "1993")  # as entered
    before = seeded("state", "KOR", "CHN", "--json", "--as-of", "2020").stdout
    assert seeded("rebuild").stdout == f"rebuilt the read model from {SEED_EVENTS} events\n"
    assert seeded("state", "KOR", "CHN", "--json", "--as-of", "2020").stdout == before
    out = tmp_path / "out.jsonl"
    assert seeded("export", "--out", str(out)).exit_code == 0
    lines = out.read_bytes().splitlines()
    assert len(lines) == SEED_EVENTS and json.loads(lines[0])["position"] == 1
    assert seeded("init").stdout == f"the ledger at {tmp_path / 'ledger.sqlite'} already exists\n"


def test_verify_and_digest_speak_json_too(seeded) -> None:  # type: ignore[no-untyped-def]
    digest = json.loads(seeded("digest", "--json").stdout)
    assert digest["position"] == SEED_EVENTS and len(digest["hash"]) == 64
    verified = json.loads(seeded("verify", "--json").stdout)
    checked = verified.pop("checked")
    assert verified == {
        "ok": True,
        "events": SEED_EVENTS,
        "digest": f"{SEED_EVENTS}:{digest['hash']}",
        "warnings": [],
        "warned": 0,
    }
    # Every event through every check, and every row of every read-model table compared.
    assert {
        name: checked[name] for name in ("chain", "decoded", "recording_times", "rules")
    } == dict.fromkeys(("chain", "decoded", "recording_times", "rules"), SEED_EVENTS)
    assert (checked["coopledger_head"], checked["coopledger_log"]) == (1, SEED_EVENTS)
    assert min(checked[table] for table in ("coopledger_relationship_events", "coopledger_things")) > 0


def test_files_that_cannot_be_written_and_impossible_filters_are_one_line_errors(
    seeded, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    nowhere = tmp_path / "missing" / "out.jsonl"
    for args, message in (
        (
            ("export", "--out", str(nowhere)),
            f"--out {nowhere}: cannot write there (No such file or directory)",
        ),
        (("backup", str(nowhere)), f"{nowhere}: cannot write there (No such file or directory)"),
        (("history", "KOR", "CHN", "--from", "2019", "--to", "2018"), "--from 2019 is after --to 2018"),
        (
            ("log", "--type", "MeetingHled"),
            "--type 'MeetingHled': not an event type (did you mean MeetingHeld?)",
        ),
    ):
        result = seeded(*args)
        assert (result.exit_code, result.stderr) == (2, f"Error: {message}\n"), args
    assert seeded("log", "--type", "Nope").stderr.startswith(
        "Error: --type 'Nope': not an event type (one of PartyRegistered, "
    )
    assert not nowhere.parent.exists()


def test_export_to_a_file_is_written_whole(seeded, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "all.jsonl"
    assert seeded("export", "--out", str(out)).exit_code == 0
    assert out.read_bytes() == seeded("export").stdout_bytes
    assert len(out.read_bytes().splitlines()) == SEED_EVENTS
    assert [path.name for path in tmp_path.iterdir() if "partial" in path.name] == []


def test_the_wheel_installs_only_the_coopledger_package(tmp_path: Path) -> None:
    """The repository keeps events/, ledger/, projections/ and cli.py at its top; the wheel holds
    them inside one import package, so nothing generic (`events`, `cli`) lands in site-packages."""
    import subprocess
    import sys
    import zipfile

    from support import ROOT

    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("coopledger-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names} == {"coopledger", wheel.name.split("-py")[0] + ".dist-info"}
    assert "coopledger/cli.py" in names and "coopledger/events/catalog.py" in names
    assert "coopledger/web.py" in names and "coopledger/templates/state.html" in names
    assert not any(name.startswith(("coopledger/tests/", "coopledger/bench/")) for name in names)


def test_python_m_coopledger_runs_the_command_line() -> None:
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "coopledger", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("Usage: coopledger")


def test_sign_says_on_stderr_when_an_agreement_stays_signed_until_its_entry_into_force(run) -> None:  # type: ignore[no-untyped-def]
    signed = run(
        "sign",
        "kor-usa",
        "--kind",
        "agreement",
        "--title",
        "A",
        "--party",
        "KOR",
        "--party",
        "USA",
        "--on",
        "2012-01-23",
    )
    assert signed.exit_code == 0
    assert signed.stdout == "recorded position 1: InstrumentSigned kor-usa (agreement) KOR, USA: A\n"
    assert signed.stderr == (
        "note: kor-usa (agreement) stays signed, not in force, until its entry into force is recorded "
        "(coopledger enter-into-force kor-usa --on DATE)\n"
    )
    for quiet in (
        ["mou", "--kind", "mou"],
        ["plan", "--kind", "action_plan"],
        ["talks", "--kind", "communique"],
        ["dated", "--kind", "treaty", "--in-force-from", "2013"],
    ):
        result = run("sign", *quiet, "--title", "T", "--party", "KOR", "--party", "USA", "--on", "2012")
        assert (result.exit_code, result.stderr) == (0, ""), quiet


def test_join_and_withdraw_show_in_state_and_history(run) -> None:  # type: ignore[no-untyped-def]
    run(
        "sign",
        "net",
        "--kind",
        "mou",
        "--title",
        "Network",
        "--party",
        "KOR",
        "--party",
        "JPN",
        "--on",
        "2010",
    )
    joined = run("join", "Mongolia", "--instrument", "net", "--action", "membership", "--on", "2015-05-02")
    assert joined.stdout == "recorded position 2: PartyJoined MNG joined instrument net by membership\n"
    withdrew = run(
        "withdraw",
        "MNG",
        "--instrument",
        "net",
        "--on",
        "2019-03",
        "--effective-on",
        "2020",
        "--reason",
        "budget",
    )
    assert withdrew.stdout == (
        "recorded position 3: PartyWithdrew MNG withdrew from instrument net, effective 2020, reason: budget\n"
    )
    assert run("state", "KOR", "MNG", "--as-of", "2019-06").stdout.splitlines()[1:5] == [
        "Instruments:",
        "  IN_FORCE   net (mou) KOR, JPN: Network",
        "             signed 2010, in force from 2010",
        "             members: KOR, JPN: signature 2010; MNG: membership 2015-05-02, withdrawal pending: withdrawing 2020 (notice given)",
    ]
    assert (
        run("state", "KOR", "MNG", "--as-of", "2020").stdout.splitlines()[2]
        == "  WITHDRAWN  net (mou) KOR, JPN: Network"
    )
    assert [line.split()[2] for line in run("history", "JPN", "MNG").stdout.splitlines()] == [
        "PartyJoined",
        "PartyWithdrew",
    ]
    refused = run("withdraw", "MNG", "--instrument", "net", "--on", "2021")
    assert (refused.exit_code, refused.stderr) == (
        2,
        "Error: data.party: MNG is not a member of instrument 'net' on 2021\n",
    )
    assert run("join", "MNG", "--action", "membership", "--on", "2021").stderr == (
        "Error: data: give exactly one of instrument, series or project\n"
    )


def _run_closed(tmp_path: Path, args: tuple[str, ...], closing: str) -> tuple[Any, bool]:
    """A command run on the seeded ledger with a standard stream closed (`closing`: `>&-`, `<&-`):
    how it ended, and whether the ledger file is unchanged."""
    import subprocess
    import sys

    db = tmp_path / "ledger.sqlite"
    assert coopledger(str(db), "import", str(SEEDS)).returncode == 0
    before = db.read_bytes()
    done = subprocess.run(
        f'"{sys.executable}" -m coopledger --db "{db}" --actor ana {" ".join(args)} {closing}',
        shell=True,
        capture_output=True,
        text=True,
        env={**os.environ, "COOPLEDGER_NO_DAEMON": "1"},
    )
    return done, db.read_bytes() == before


SIGNED = ("sign", "kor-chn-mou-x", "--kind", "mou", "--title", "X", "--party", "KOR", "--party", "CHN")


@pytest.mark.parametrize("args", [("state", "KOR", "CHN", "--json"), (*SIGNED, "--on", "2020-01-01")])
def test_a_command_with_its_standard_output_closed_does_nothing_and_says_so(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    """An answer or a receipt nobody can read is not given: the command says why and writes nothing."""
    done, unchanged = _run_closed(tmp_path, args, ">&-")
    assert (done.returncode, done.stderr) == (1, "coopledger: standard output is closed; nothing done\n")
    assert unchanged


@pytest.mark.parametrize("args", [("import", "-"), ("append",), ("append", "--file", "-")])
def test_a_command_reading_standard_input_closed_says_so_and_writes_nothing(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    done, unchanged = _run_closed(tmp_path, args, "<&-")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.endswith(
        "Error: standard input is closed; give the input in a file or on standard input\n"
    )
    assert unchanged


def test_json_is_written_as_utf8_bytes_whatever_the_output_encoding(tmp_path: Path) -> None:
    """JSON goes out as orjson's UTF-8 bytes (RFC 8259), once, with one newline, whatever the
    encoding of the output's text layer (here ASCII, which has no Hangul)."""
    db = str(tmp_path / "ledger.sqlite")
    signed = {
        "type": "InstrumentSigned",
        "occurred_on": "2019-05-20",
        "data": {
            "instrument": "kor-jpn-hangul",
            "kind": "mou",
            "title": "환경 협력 MOU — Umweltabkommen",
            "parties": ["KOR", "JPN"],
        },
    }
    assert coopledger(db, "append", json.dumps(signed)).returncode == 0
    command = [sys.executable, "-m", "coopledger", "--db", db, "state", "KOR", "JPN", "--as-of", "2020"]
    environment = {**os.environ, "PYTHONIOENCODING": "ascii", "COOPLEDGER_NO_DAEMON": "1"}
    done = subprocess.run([*command, "--json"], capture_output=True, env=environment)
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(b"}\n") and not done.stdout.endswith(b"\n\n")
    assert json.loads(done.stdout.decode("utf-8"))["instruments"][0]["title"] == signed["data"]["title"]
    assert "환경 협력".encode() in done.stdout

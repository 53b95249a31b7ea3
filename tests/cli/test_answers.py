"""Honest answers on the command line: retracted keys, changes, upcoming, and the small ones."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from coopledger import render
from coopledger.cli import cli
from coopledger.events import parse_edtf
from coopledger.ledger.application import Ledger
from coopledger.ledger.store import locate
from support import SEED_EVENTS, SEEDS, event


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


# --- every field of `state --json` appears in the text form


def leaves(value: Any, name: str = "") -> Iterator[tuple[str, str]]:
    """(field, text) for every value in a JSON answer that the text must show: strings and
    numbers as they are, a true flag as its field's name, and the keys of maps of currencies
    or parties."""
    if isinstance(value, bool):
        if value:
            yield name, name.replace("_", " ")
    elif isinstance(value, str | int | float):
        yield name, str(value)
    elif isinstance(value, list):
        for item in value:
            yield from leaves(item, name)
    elif isinstance(value, dict):
        for key, field in value.items():
            if name in MAPS:
                yield name, key
            yield from leaves(field, key)


MAPS = {"funding", "disbursed", "spent", "party_names", "names"}


def blocks(lines: list[str]) -> dict[str, str]:
    """Each instrument's and project's lines in the text: its header and the details under it."""
    found: dict[str, str] = {}
    current = None
    for line in lines:
        header = re.match(r"  [A-Z_]+ +(\S+)", line)
        if header:
            current = header[1]
            found[current] = line
        elif current and line.startswith(" " * 13):
            found[current] += "\n" + line
        else:
            current = None
    return found


def assert_text_shows_json(state: dict[str, Any]) -> None:
    text = "\n".join(render.state_text(state))
    things = blocks(text.splitlines())
    for kind in ("instruments", "projects"):
        for thing in state[kind]:
            block = things[thing[kind[:-1]]].lower()
            for name, shown in leaves(thing):
                assert shown.lower() in block, (state["relationship"], thing[kind[:-1]], name, shown)
    rest = {name: value for name, value in state.items() if name not in ("instruments", "projects")}
    for name, shown in leaves(rest):
        assert shown.lower() in text.lower(), (state["relationship"], name, shown)


def test_the_text_of_every_state_in_the_example_ledger_shows_all_its_json(tmp_path: Path) -> None:
    ledger = Ledger(locate(str(tmp_path / "ledger.sqlite")), actor="ana")
    ledger.import_lines(SEEDS.open("rb"))
    # What the example ledger lacks: extensions, amendments, ends, a postponement, a suspension.
    for value in [
        event("InstrumentExtended", "2025-01", instrument="nies-nier-mou-2024", expires_on="2030"),
        event("InstrumentExtended", "2025-06", instrument="nies-nier-mou-2024", expires_on="2035-12-31"),
        event(
            "InstrumentAmended",
            "2021-03",
            instrument="kor-usa-environmental-cooperation-mou-1987",
            summary="Adds marine litter",
        ),
        event("InstrumentTerminated", "2025-02", instrument="kor-usa-environmental-cooperation-agreement"),
        event("ProjectExtended", "2015-06", project="kor-usa-work-program-2013-2015", planned_end="2016-06"),
        event("ProjectCompleted", "2016-07", project="kor-usa-work-program-2013-2015"),
        event("ProjectTerminated", "2021", project="clean-sky-project", reason="funding ended"),
        event("MeetingPostponed", "2019-01-30", meeting="rok-china-working-level-2019-02"),
        event("SeriesSuspended", "2020-03", series="rok-china-jcec", reason="pandemic"),
    ]:
        ledger.append(value)
    try:
        listed = ledger.relationships(parse_edtf("2100").day)
        for as_of in ("2100", "2019-01", "2017-05-15", "2012"):
            for exact in (False, True):
                for item in listed:
                    a, b = item["relationship"].split("~")
                    assert_text_shows_json(ledger.state(a, b, parse_edtf(as_of), exact=exact))
        known = ledger.state("KOR", "USA", parse_edtf("2100"), known="2100-01-01T00:00:00.000000Z")
        assert_text_shows_json(known)
    finally:
        ledger.close()


def test_fields_the_text_has_no_words_for_are_shown_too() -> None:
    # Fields a later version adds (membership, renewal, funding kinds) are shown one a line.
    state = {
        "relationship": "KOR~USA",
        "as_of": "2030",
        "known_at": None,
        "instruments": [
            {
                "instrument": "a", "kind": "agreement", "title": "A", "parties": ["KOR", "USA"],
                "multilateral": False, "signed_on": "2012", "in_force_from": None, "expires_on": "2024",
                "status": "in_force", "extensions": [], "amendments": [],
                "members": [
                    {"party": "KOR", "action": "signature", "joined_on": "2012", "bound_on": "2012-03-15",
                     "bound_by": "entry_into_force", "withdrew_on": None, "withdrawal_pending": False},
                    {"party": "USA", "action": "accession", "joined_on": "2013-02", "bound_on": None,
                     "bound_by": None, "withdrew_on": "2029", "withdrawal_pending": True},
                ],
                "renewal": {"term": "P5Y", "notice": "P6M"},
                "current_term_ends": "2034-12-31",
                "notice_by": "2034-01-01",
                "supersedes": "older",
                "until_terminated": True,
            }
        ],
        "projects": [
            {
                "project": "p", "title": "P", "parties": ["KOR", "USA"], "multilateral": False,
                "launched_on": "2013", "planned_end": None, "status": "completed", "scope_changes": [],
                "funding": {"USD": "600000"}, "disbursed": {"KRW": "1250.5"}, "spent": {},
                "participants": [{"party": "KOR", "role": "funding"}, {"party": "USA", "role": "implementing"}],
                "completed_on": "2016-07", "planned_start": "2013-03",
            }
        ],
        "meetings": {
            "held": 0, "last": None, "next": None, "overdue": [], "postponed": [], "series": [],
            "cancelled": [{"meeting": "m", "cancelled_on": "2015-03"}],
        },
        "possibly": [],
        "party_names": {"KOR": "South Korea", "USA": "United States"},
        "lang": "ko",
    }  # fmt: skip
    assert_text_shows_json(state)
    text = list(render.state_text(state))
    # Members, renewal and participants have words of their own; a field without any is named.
    assert any("withdrawal pending: withdrawing 2029" in line for line in text)
    assert any("renews itself every P5Y unless notice is given P6M before" in line for line in text)
    assert "             participants: KOR (funding), USA (implementing)" in text
    assert "  cancelled: meeting m, cancelled on 2015-03" in text
    assert text[-1] == "Lang: ko"


# --- changes and upcoming


def recorded_at(run, position: int) -> str:  # type: ignore[no-untyped-def]
    return str(json.loads(run("show", str(position), "--json").stdout)["event"]["recorded_at"])


def test_changes_says_what_changed_in_the_answer_and_who_recorded_what(seeded) -> None:  # type: ignore[no-untyped-def]
    since = recorded_at(seeded, SEED_EVENTS)
    extend = ("extend", "nies-nier-mou-2024", "--expires-on", "2034-03-31", "--on", "2025-01")
    assert seeded(*extend, actor="bob").exit_code == 0
    rename = ("party", "rename", "NIER", "--name", "NIER, renamed", "--on", "2025-02")
    assert seeded(*rename, actor="carol").exit_code == 0
    seminar = json.loads(seeded("show", "nies-nier-seminar-2024/held", "--json").stdout)["event"]
    assert (
        seeded("retract", str(seminar["position"]), "--reason", "not a meeting", actor="dan").exit_code == 0
    )
    retracted_at = recorded_at(seeded, SEED_EVENTS + 3)
    result = seeded("changes", "NIES", "NIER", "--since", since, "--as-of", "2030")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:9] == [
        f"NIER~NIES as of 2030: changes from {since} to now",
        "Added: none",
        "Removed: none",
        "Changed:",
        "  instrument nies-nier-mou-2024 expires on: 2029-03-31 -> 2034-03-31",
        "  instrument nies-nier-mou-2024 status: expired -> in_force",
        "  instrument nies-nier-mou-2024 extensions: none -> expires on 2034-03-31, occurred on 2025-01",
        "  meetings held: 2 -> 1",
        "  meetings last: meeting nies-nier-seminar-2024, occurred on 2024-03-19, venue NIES, Japan"
        " -> meeting tpm-1, occurred on 2004, number 1, series tpm",
    ]
    assert lines[9:] == [
        "  party NIER name: National Institute of Environmental Research -> NIER, renamed",
        "Recorded:",
        f"      {SEED_EVENTS + 1}  {recorded_at(seeded, SEED_EVENTS + 1)}  bob  InstrumentExtended  nies-nier-mou-2024 extended to 2034-03-31",
        f"      {SEED_EVENTS + 2}  {recorded_at(seeded, SEED_EVENTS + 2)}  carol  PartyRenamed  NIER renamed: NIER, renamed",
        "Retracted:",
        f"      {seminar['position']}  MeetingHeld  nies-nier-seminar-2024 NIES, NIER, Intellectual Information-Exchange Seminar, at NIES, Japan",
        f"          retracted by position {SEED_EVENTS + 3} at {retracted_at} by dan: not a meeting",
    ]
    found = json.loads(
        seeded("changes", "NIES", "NIER", "--since", since, "--as-of", "2030", "--json").stdout
    )
    assert list(found) == [
        "relationship", "as_of", "since", "until", "added", "removed", "changed", "recorded", "retracted",
    ]  # fmt: skip
    assert found["retracted"][0]["retraction"]["recorded_by"] == "dan"
    # A date is the start of its day: since today, everything above; until today, nothing.
    today = since[:10]
    assert seeded("changes", "NIES", "NIER", "--since", "2000-01-01", "--until", today).stdout.splitlines()[1:] == [
        "Added: none", "Removed: none", "Changed: none", "Recorded: none", "Retracted: none",
    ]  # fmt: skip
    bad = seeded("changes", "NIES", "NIER", "--since", today, "--until", "2000-01-01")
    assert (bad.exit_code, bad.stderr) == (
        2,
        f"Error: --since {today}T00:00:00.000000Z is not before --until 2000-01-01T00:00:00.000000Z\n",
    )
    assert seeded("changes", "NIES", "NIER").exit_code == 2  # --since is required


def test_upcoming_lists_what_falls_due_by_date(seeded) -> None:  # type: ignore[no-untyped-def]
    result = seeded("upcoming", "--as-of", "2019-01", "--within", "1y", "--party", "China")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "2014-12-31  overdue     tripartite-joint-environment-training-2014 (KOR, CHN, JPN) planned for 2014, not known to have been held",
        "2015-12-31  overdue     tpm-joint-workshop-2015 (CRAES, NIES, NIER) planned for 2015, not known to have been held: Tripartite Presidents Meeting among CRAES, NIES and NIER",
        "2019-01-24  overdue     rok-china-kma-visit-2019-01-24 (CHN~KOR) planned for 2019-01-24, not known to have been held",
        "2019-02-28  meeting     rok-china-working-level-2019-02 (CHN~KOR) planned for 2019-02",
        "2019-12-31  meeting     rok-china-emm-2019 (CHN~KOR) planned for 2019-41",
        "2019-12-31  meeting     rok-china-jcec-24 (CHN~KOR) planned for 2019-41: 24th ROK-China Joint Committee on Environmental Cooperation",
        "2019-12-31  meeting     temm-21 (KOR, CHN, JPN) planned for 2019-41: 21st Tripartite Environment Ministers Meeting among Korea, China and Japan (TEMM)",
    ]
    rows = json.loads(seeded("upcoming", "--as-of", "2028-12", "--json").stdout)
    expiry = next(row for row in rows if row["what"] == "expiry")
    assert expiry == {
        "date": "2029-03-31",
        "as_entered": "2029-03-31",
        "what": "expiry",
        "relationship": "NIER~NIES",
        "parties": ["NIES", "NIER"],
        "id": "nies-nier-mou-2024",
        "title": "MOU for joint research on waste recycling",
    }
    assert [row["date"] for row in rows] == sorted(row["date"] for row in rows)
    assert seeded("upcoming", "--as-of", "1990", "--within", "P1Y").stdout == "nothing falls due within P1Y\n"
    bad = seeded("upcoming", "--within", "soon")
    assert (
        bad.exit_code == 2
        and "'soon': write days, weeks, months or years, e.g. 180d, 26w, 6m or 1y" in bad.stderr
    )
    assert seeded("upcoming", "--party", "Korea").exit_code == 2


def test_a_long_state_shows_its_counts_by_status_and_its_20_most_recent_things_in_text(
    run, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Text summarises a long list (counts by status, the 20 most recently signed, a line saying
    so); --all lists every one; JSON always has every one."""
    signed = [
        event(
            "InstrumentSigned",
            f"{year}-06" if year % 2 else f"{year}-03-15",  # dates as entered, not one format
            instrument=f"mou-{year}",
            kind="mou",
            title=f"MOU of {year}",
            parties=["KOR", "JPN"],
        )
        for year in (2003, 2001, 2002, *range(2004, 2026))  # recorded out of date order
    ]
    ended = event("InstrumentTerminated", "2010-01-01", instrument="mou-2005")
    lines = tmp_path / "many.jsonl"
    lines.write_text("".join(json.dumps(e) + "\n" for e in (*signed, ended)))
    assert run("import", str(lines)).exit_code == 0

    text = run("state", "KOR", "JPN", "--as-of", "2030").stdout
    assert "Instruments: 25 (24 in force, 1 terminated)" in text
    assert "listed: the 20 most recently signed of 25; --all lists every one" in text
    listed = re.findall(r"^  [A-Z_]+ +(mou-\d+)", text, re.MULTILINE)
    assert listed == [f"mou-{year}" for year in range(2006, 2026)]
    every = run("state", "KOR", "JPN", "--as-of", "2030", "--all").stdout
    assert "listed:" not in every and every.startswith("JPN~KOR as of 2030\nInstruments:\n")
    assert sorted(re.findall(r"^  [A-Z_]+ +(mou-\d+)", every, re.MULTILINE)) == [
        f"mou-{year}" for year in range(2001, 2026)
    ]
    assert (
        len(json.loads(run("state", "KOR", "JPN", "--as-of", "2030", "--json").stdout)["instruments"]) == 25
    )
    state = json.loads(run("state", "KOR", "JPN", "--as-of", "2030", "--json").stdout)
    titles = [str(t.title) for t in render.state_tables(state) if hasattr(t, "title")]
    assert (
        "Instruments: 25 (24 in force, 1 terminated); the 20 most recently signed of 25; --all lists every one"
        in titles
    )
    assert "Instruments" in [
        str(t.title) for t in render.state_tables(state, every=True) if hasattr(t, "title")
    ]


def test_a_long_list_of_overdue_meetings_is_cut_to_the_20_most_recently_planned(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scheduled = [
        event(
            "MeetingScheduled",
            f"{year - 1}-12-01",
            meeting=f"visit-{year}",
            parties=["KOR", "JPN"],
            planned_for=f"{year}-02-01",
        )
        for year in range(1990, 2015)
    ]
    lines = tmp_path / "scheduled.jsonl"
    lines.write_text("".join(json.dumps(e) + "\n" for e in scheduled))
    assert run("import", str(lines)).exit_code == 0

    text = run("state", "KOR", "JPN", "--as-of", "2020").stdout
    assert "  overdue: 25 meetings; listed: the 20 most recently planned of 25; --all lists every one" in text
    assert re.findall(r"overdue: (visit-\d+)", text) == [f"visit-{year}" for year in range(1995, 2015)]
    every = run("state", "KOR", "JPN", "--as-of", "2020", "--all").stdout
    assert len(re.findall(r"overdue: visit-\d+", every)) == 25 and "listed:" not in every
    assert (
        len(json.loads(run("state", "KOR", "JPN", "--as-of", "2020", "--json").stdout)["meetings"]["overdue"])
        == 25
    )

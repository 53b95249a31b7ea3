"""CSV and IATI exports, read back with a CSV reader and validated against the official IATI
activity schema 2.03 (tests/data/iati-2.03) with lxml.

The example files under examples/ are what the example ledger exports as of 2024-12-31:
    coopledger --db x.sqlite --actor coopledger import examples/seeds.jsonl
    coopledger --db x.sqlite export --format csv --as-of 2024-12-31 --out examples/csv
    coopledger --db x.sqlite export --format iati --reporting-org XX-EXAMPLE
        --reporting-org-name 'Example reporting organisation' --as-of 2024-12-31 --out examples/iati-activities.xml
"""

from __future__ import annotations

import csv
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from support import ROOT, SEED_EVENTS, SEEDS, coopledger

EXAMPLES = ROOT / "examples"
SCHEMA = ROOT / "tests" / "data" / "iati-2.03" / "iati-activities-schema.xsd"
KINDS = ("instruments", "members", "meetings", "projects", "funding", "events")
# What differs from one import to the next: ids, recording times and the hashes over them.
VARYING = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d{4}-\d\d-\d\dT[\d:.]+Z|[0-9a-f]{64}"
)
IATI = "http://www.w3.org/XML/1998/namespace"


@cache
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA)))


def valid(xml: bytes) -> etree._Element:
    document = etree.fromstring(xml)
    assert schema().validate(document), schema().error_log
    return document


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.DictReader(file))


def loaded(value: str) -> Any:
    """A cell read back: JSON text for numbers, booleans and nested values, else the text itself."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def as_cell(value: Any) -> Any:
    return "" if value is None else value


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("exports") / "example.sqlite")
    assert coopledger(db, "import", str(SEEDS), actor="coopledger").returncode == 0
    return db


def export_csv(db: str, out: Path, *args: str) -> dict[str, list[dict[str, str]]]:
    result = coopledger(db, "export", "--format", "csv", "--out", str(out), *args)
    assert result.returncode == 0, result.stderr
    return {kind: read(out / f"{kind}.csv") for kind in KINDS}


def test_the_example_csv_files_are_what_the_example_ledger_exports(example: str, tmp_path: Path) -> None:
    fresh = export_csv(example, tmp_path / "csv", "--as-of", "2024-12-31")
    for kind in KINDS:
        checked_in = read(EXAMPLES / "csv" / f"{kind}.csv")
        assert [{k: VARYING.sub("…", v) for k, v in row.items()} for row in fresh[kind]] == [
            {k: VARYING.sub("…", v) for k, v in row.items()} for row in checked_in
        ], kind
    assert len(fresh["events"]) == SEED_EVENTS
    assert len(fresh["instruments"]) == 15 and len(fresh["projects"]) == 15


def test_rows_are_the_json_objects_of_state(example: str, tmp_path: Path) -> None:
    """Columns are the keys of the --json objects, nested values as JSON text, dates as entered."""
    tables = export_csv(example, tmp_path / "csv", "--as-of", "2019-01")
    state = json.loads(
        coopledger(example, "state", "KOR", "CHN", "--as-of", "2019-01", "--exact", "--json").stdout
    )
    for kind, id_ in (("projects", "project"), ("instruments", "instrument")):
        rows = {row[id_]: row for row in tables[kind]}
        assert state[kind]
        for thing in state[kind]:
            row = rows[thing[id_]]
            assert list(row) == list(thing)
            assert {k: v if isinstance(thing[k], str) else loaded(v) for k, v in row.items()} == {
                k: as_cell(v) for k, v in thing.items()
            }
    assert loaded(rows["temm-14-joint-communique"]["parties"]) == ["KOR", "CHN", "JPN"]
    projects = {row["project"]: row for row in tables["projects"]}
    assert projects["kor-vnm-green-growth-climate"]["launched_on"] == "2011~"  # as entered


def test_funding_members_meetings_and_events(example: str, tmp_path: Path) -> None:
    tables = export_csv(example, tmp_path / "csv", "--as-of", "2024-12-31")
    assert [
        (r["project"], r["kind"], r["amount"], r["currency"], r["occurred_on"]) for r in tables["funding"]
    ] == [
        ("korea-asean-forest-restoration", "commitment", "300000", "USD", "2011-07/2012-06"),
        ("korea-asean-forest-restoration", "commitment", "300000", "USD", "2012-07/2013-06"),
        ("korea-asean-forest-restoration", "expenditure", "300000", "USD", "2013-06"),
    ]
    members = [(r["kind"], r["id"], r["party"]) for r in tables["members"]]
    assert ("instrument", "nies-nier-mou-2024", "NIER") in members
    assert ("series", "rok-china-jcec", "CHN") in members
    meetings = {row["meeting"]: row for row in tables["meetings"]}
    assert meetings["rok-china-jcec-23"]["status"] == "held"
    assert meetings["rok-china-jcec-23"]["venue"] == "Lotte Hotel, Seoul"
    assert meetings["tripartite-joint-environment-training-2014"]["status"] == "overdue"
    events = tables["events"]
    assert [int(e["position"]) for e in events] == list(range(1, SEED_EVENTS + 1))
    assert list(events[0])[:4] == ["position", "id", "type", "occurred_on"]
    assert loaded(events[0]["data"])["party"] == "NIES"


def test_the_tables_follow_the_as_of_day(example: str, tmp_path: Path) -> None:
    early = export_csv(example, tmp_path / "2016", "--as-of", "2016")
    late = export_csv(example, tmp_path / "2024", "--as-of", "2024-12-31")
    assert len(early["projects"]) < len(late["projects"])
    assert all(e["occurred_on"] <= "2016-12-31" or "/" in e["occurred_on"] for e in early["events"])
    nothing = export_csv(example, tmp_path / "1900", "--as-of", "1900")
    for kind in KINDS:  # a header, no rows
        assert nothing[kind] == []
        assert (tmp_path / "1900" / f"{kind}.csv").read_text(encoding="utf-8-sig").count("\n") == 1


def test_text_survives_a_spreadsheet(tmp_path: Path) -> None:
    """UTF-8 (with a byte order mark), quotes, commas and new lines; a formula is written as text."""
    db = str(tmp_path / "l.sqlite")
    title = '=HYPERLINK("http://evil.example","click"), 한중 "환경" 협력\nline two'
    launched = {
        "type": "ProjectLaunched",
        "occurred_on": "2020-03",
        "data": {"project": "p", "title": title, "parties": ["KOR", "CHN"], "planned_end": "2022"},
    }
    assert coopledger(db, "append", json.dumps(launched)).returncode == 0
    tables = export_csv(db, tmp_path / "csv")
    assert tables["projects"][0]["title"] == "'" + title
    assert (tmp_path / "csv" / "projects.csv").read_bytes().startswith(b"\xef\xbb\xbfproject,")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--format", "csv"], "--format csv writes one file per kind: name a directory with --out DIR"),
        (["--format", "csv", "--out", "{file}"], "not a directory"),
        (["--format", "csv", "--out", "{dir}", "--as-of", "2019-13"], "'2019-13' is not an EDTF date"),
        (["--as-of", "2019"], "--as-of: a jsonl export holds every event"),
        (["--format", "iati"], "--reporting-org REF: give it with --format iati"),
        (["--format", "csv", "--out", "{dir}", "--reporting-org", "X"], "--reporting-org REF: give it with"),
        (
            ["--format", "iati", "--reporting-org", "XX EXAMPLE"],
            "--reporting-org 'XX EXAMPLE': expected an identifier",
        ),
        (["--format", "xml"], "Invalid value for '--format'"),
    ],
)
def test_bad_export_options_are_refused(example: str, tmp_path: Path, args: list[str], says: str) -> None:
    (tmp_path / "file").write_text("")
    given = [a.format(file=tmp_path / "file", dir=tmp_path / "out") for a in args]
    result = coopledger(example, "export", *given)
    assert result.returncode == 2 and says in result.stderr
    assert not (tmp_path / "out").exists() and result.stdout == ""


def test_the_example_iati_file_is_valid_and_what_the_ledger_exports(example: str, tmp_path: Path) -> None:
    checked_in = (EXAMPLES / "iati-activities.xml").read_bytes()
    document = valid(checked_in)
    assert document.get("version") == "2.03" and len(document) == 15
    out = tmp_path / "iati.xml"
    result = coopledger(
        example, "export", "--format", "iati", "--reporting-org", "XX-EXAMPLE",
        "--reporting-org-name", "Example reporting organisation", "--as-of", "2024-12-31", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == checked_in


def activity(document: etree._Element, identifier: str) -> etree._Element:
    (found,) = [a for a in document if a.findtext("iati-identifier") == identifier]
    return found


def test_iati_activities_hold_titles_roles_dates_status_and_transactions(db_url: str, tmp_path: Path) -> None:
    events = [
        {"type": "ProjectLaunched", "occurred_on": "2017-05", "data": {
            "project": "clean-sky", "title": "Clean Sky <joint> & research", "parties": ["KOR", "CHN"],
            "planned_end": "2020", "titles": {"ko": "청천 프로젝트", "zh": "晴天计划"},
            "funding": [{"amount": "1000000", "currency": "KRW", "source": "MOE"}]}},
        {"type": "ProjectFunded", "occurred_on": "2018-41", "data": {
            "project": "clean-sky", "amount": "1250.5", "currency": "USD"}},
        {"type": "ProjectExtended", "occurred_on": "2019-12-01", "data": {"project": "clean-sky", "planned_end": "2021-06"}},
        {"type": "ProjectCompleted", "occurred_on": "2021-06", "data": {"project": "clean-sky"}},
        {"type": "ProjectLaunched", "occurred_on": "2015-02-03", "data": {
            "project": "stopped", "title": "Stopped", "parties": ["JPN", "KOR", "CHN"]}},
        {"type": "ProjectTerminated", "occurred_on": "2016~", "data": {"project": "stopped", "reason": "funding"}},
    ]  # fmt: skip
    for event in events:
        result = coopledger(db_url, "append", json.dumps(event))
        assert result.returncode == 0, result.stderr
    out = tmp_path / "iati.xml"

    def exported(as_of: str) -> etree._Element:
        args = ["--format", "iati", "--reporting-org", "XX-1", "--as-of", as_of, "--out", str(out)]
        result = coopledger(db_url, "export", *args)
        assert result.returncode == 0, result.stderr
        return valid(out.read_bytes())

    document = exported("2024")
    sky = activity(document, "XX-1-clean-sky")
    narratives = sky.find("title").findall("narrative")
    assert [(n.get(f"{{{IATI}}}lang"), n.text) for n in narratives] == [
        (None, "Clean Sky <joint> & research"),
        ("ko", "청천 프로젝트"),
        ("zh", "晴天计划"),
    ]
    assert sky.get(f"{{{IATI}}}lang") == "en"
    assert sky.find("reporting-org").get("ref") == "XX-1"
    assert [(o.get("role"), o.findtext("narrative")) for o in sky.findall("participating-org")] == [
        ("4", "South Korea"),
        ("4", "China"),
    ]
    assert sky.find("activity-status").get("code") == "4"
    assert [(d.get("type"), d.get("iso-date")) for d in sky.findall("activity-date")] == [
        ("2", "2017-05-01"),  # a start: its earliest day
        ("3", "2021-06-30"),  # the extended planned end: its latest day
        ("4", "2021-06-30"),
    ]
    transactions = [
        (t.find("transaction-type").get("code"), t.find("transaction-date").get("iso-date"),
         t.findtext("value"), t.find("value").get("currency"), t.find("value").get("value-date"))
        for t in sky.findall("transaction")
    ]  # fmt: skip
    assert transactions == [
        ("2", "2017-05-31", "1000000", "KRW", "2017-05-31"),
        ("2", "2018-12-31", "1250.5", "USD", "2018-12-31"),
    ]
    assert sky.find("transaction/provider-org/narrative").text == "MOE"
    stopped = activity(document, "XX-1-stopped")
    assert stopped.find("activity-status").get("code") == "5"
    assert [(d.get("type"), d.get("iso-date")) for d in stopped.findall("activity-date")] == [
        ("2", "2015-02-03"),
        ("4", "2016-12-31"),
    ]
    before = exported("2018-06")  # before the second grant, the extension and the completion
    sky = activity(before, "XX-1-clean-sky")
    assert sky.find("activity-status").get("code") == "2"
    assert [d.get("type") for d in sky.findall("activity-date")] == ["2", "3"]
    assert sky.findall("activity-date")[1].get("iso-date") == "2020-12-31"
    assert len(sky.findall("transaction")) == 1
    assert activity(before, "XX-1-stopped").find("activity-status").get("code") == "5"


def test_a_retracted_funding_is_in_neither_export_and_its_retraction_is_listed(
    db_url: str, tmp_path: Path
) -> None:
    events = [
        {"type": "ProjectLaunched", "occurred_on": "2017-05", "data": {
            "project": "clean-sky", "title": "Clean Sky", "parties": ["KOR", "CHN"]}},
        {"type": "ProjectFunded", "occurred_on": "2018", "data": {
            "project": "clean-sky", "amount": "70", "currency": "USD", "kind": "disbursement"}},
        {"type": "ProjectFunded", "occurred_on": "2019", "data": {
            "project": "clean-sky", "amount": "80", "currency": "USD"}},
    ]  # fmt: skip
    for event in events:
        assert coopledger(db_url, "append", json.dumps(event)).returncode == 0
    funded = int(coopledger(db_url, "digest").stdout.split(":")[0]) - 1  # the first funding
    assert coopledger(db_url, "retract", str(funded), "--reason", "twice").returncode == 0
    tables = export_csv(db_url, tmp_path / "csv", "--as-of", "2024")
    assert [(r["amount"], r["position"]) for r in tables["funding"]] == [("80", str(funded + 1))]
    assert [(e["type"], e["retracted"]) for e in tables["events"]] == [
        ("ProjectLaunched", "false"),
        ("ProjectFunded", "true"),
        ("ProjectFunded", "false"),
        ("EventRetracted", "false"),
    ]
    out = tmp_path / "iati.xml"
    args = ["--format", "iati", "--reporting-org", "XX-1", "--as-of", "2024", "--out", str(out)]
    assert coopledger(db_url, "export", *args).returncode == 0
    sky = activity(valid(out.read_bytes()), "XX-1-clean-sky")
    assert [t.findtext("value") for t in sky.findall("transaction")] == ["80"]


def test_an_iati_file_needs_a_project(tmp_path: Path) -> None:
    db = str(tmp_path / "l.sqlite")
    assert coopledger(db, "init").returncode == 0
    result = coopledger(db, "export", "--format", "iati", "--reporting-org", "XX-1", "--as-of", "2020")
    assert result.returncode == 1 and "no projects as of 2020" in result.stderr

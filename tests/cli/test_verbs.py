"""The friendly verbs: one option per field, and every field reaches the recorded event."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from coopledger.cli import VERBS, cli
from coopledger.events import EVENT_TYPES
from coopledger.events.verbs import PARTY_VERBS
from msgspec.structs import fields
from support import SEED_EVENTS, SEEDS

SOURCE = [
    "--source-title",
    "Press release",
    "--source-url",
    "https://example.org/pr",
    "--source-publisher",
    "Ministry",
    "--source-published-on",
    "2020-01-02",
    "--source-page",
    "4",
]

# verb, its arguments (every option of its event type given), and the data expected in the event
STORY: list[tuple[str, list[str], dict[str, Any]]] = [
    (
        "party add",
        [
            "KEITI",
            "--name",
            "Korea Environmental Industry and Technology Institute",
            "--kind",
            "agency",
            "--country",
            "KR",
            "--alias",
            "KEITI-KR",
            "--name-in",
            "ko=한국환경산업기술원",
            "--on",
            "2009",
        ],
        {
            "party": "KEITI",
            "name": "Korea Environmental Industry and Technology Institute",
            "kind": "agency",
            "country": "KOR",
            "aliases": ["KEITI-KR"],
            "names": {"ko": "한국환경산업기술원"},
        },
    ),
    (
        "sign",
        [
            "Green-MOU",
            "--kind",
            "agreement",
            "--title",
            "Green agreement",
            "--party",
            "KEITI",
            "--party",
            "jpn",
            "--signatory",
            "Kim|Director|KEITI",
            "--signatory",
            "Sato",
            "--in-force-from",
            "2020-03",
            "--expires-on",
            "2025-12-31",
            "--extension-terms",
            "by consent",
            "--area",
            "waste",
            "--area",
            "water",
            "--place",
            "Seoul",
            "--under",
            "nies-nier-mou-2024",
            "--title-in",
            "ja=グリーン協定",
            "--renewal",
            "P5Y,P6M",
            "--supersedes",
            "rok-japan-environmental-cooperation-agreement",
            "--on",
            "2020-01-15",
        ],
        {
            "instrument": "green-mou",
            "kind": "agreement",
            "title": "Green agreement",
            "parties": ["KEITI", "JPN"],
            "signatories": [{"name": "Kim", "title": "Director", "party": "KEITI"}, {"name": "Sato"}],
            "in_force_from": "2020-03",
            "expires_on": "2025-12-31",
            "extension_terms": "by consent",
            "areas": ["waste", "water"],
            "place": "Seoul",
            "under": "nies-nier-mou-2024",
            "titles": {"ja": "グリーン協定"},
            "renewal": {"term": "P5Y", "notice": "P6M"},
            "supersedes": "rok-japan-environmental-cooperation-agreement",
        },
    ),
    (
        "amend",
        ["green-mou", "--summary", "Adds air", "--on", "2020-06"],
        {"instrument": "green-mou", "summary": "Adds air"},
    ),
    (
        "extend",
        ["green-mou", "--expires-on", "2040", "--basis", "article 9", "--on", "2024"],
        {"instrument": "green-mou", "expires_on": "2040", "basis": "article 9"},
    ),
    (
        "sign",
        ["treaty-x", "--kind", "treaty", "--title", "T", "--party", "KOR", "--party", "JPN", "--on", "2020"],
        {"instrument": "treaty-x", "kind": "treaty", "title": "T", "parties": ["KOR", "JPN"]},
    ),
    (
        "enter-into-force",
        ["treaty-x", "--party", "KOR", "--party", "JPN", "--on", "2021-02-01"],
        {"instrument": "treaty-x", "parties": ["KOR", "JPN"]},
    ),
    (
        "terminate",
        ["treaty-x", "--reason", "superseded", "--effective-on", "2022-06", "--on", "2022"],
        {"instrument": "treaty-x", "reason": "superseded", "effective_on": "2022-06"},
    ),
    (
        "establish-series",
        [
            "green-jc",
            "--title",
            "Green Joint Committee",
            "--party",
            "KOR",
            "--party",
            "JPN",
            "--under",
            "green-mou",
            "--cadence",
            "annual",
            "--hosts",
            "alternating",
            "--title-in",
            "ko=녹색 공동위원회",
            "--on",
            "2020-02",
        ],
        {
            "series": "green-jc",
            "title": "Green Joint Committee",
            "parties": ["KOR", "JPN"],
            "under": "green-mou",
            "cadence": "annual",
            "hosts": "alternating",
            "titles": {"ko": "녹색 공동위원회"},
        },
    ),
    (
        "schedule",
        [
            "green-jc-1",
            "--party",
            "KOR",
            "--party",
            "JPN",
            "--planned-for",
            "2020-41",
            "--series",
            "green-jc",
            "--number",
            "1",
            "--venue",
            "Tokyo",
            "--host",
            "JPN",
            "--on",
            "2020-03",
        ],
        {
            "meeting": "green-jc-1",
            "parties": ["KOR", "JPN"],
            "planned_for": "2020-41",
            "series": "green-jc",
            "number": 1,
            "venue": "Tokyo",
            "host": "JPN",
        },
    ),
    (
        "meet",
        [
            "green-jc-1",
            "--party",
            "KOR",
            "--party",
            "JPN",
            "--series",
            "green-jc",
            "--number",
            "1",
            "--title",
            "1st meeting",
            "--venue",
            "Tokyo",
            "--host",
            "JPN",
            "--format",
            "hybrid",
            "--chair",
            "Sato|Minister|JPN",
            "--head",
            "Kim|DG|KOR",
            "--observer",
            "CHN",
            "--topic",
            "waste",
            "--outcome",
            "work plan",
            "--on",
            "2020-11-03/2020-11-04",
        ],
        {
            "meeting": "green-jc-1",
            "parties": ["KOR", "JPN"],
            "series": "green-jc",
            "number": 1,
            "title": "1st meeting",
            "venue": "Tokyo",
            "host": "JPN",
            "format": "hybrid",
            "chairs": [{"name": "Sato", "title": "Minister", "party": "JPN"}],
            "heads_of_delegation": [{"name": "Kim", "title": "DG", "party": "KOR"}],
            "observers": ["CHN"],
            "topics": ["waste"],
            "outcomes": ["work plan"],
        },
    ),
    (
        "launch",
        [
            "green-lab",
            "--title",
            "Green lab",
            "--party",
            "KOR",
            "--party",
            "JPN",
            "--under",
            "green-mou",
            "--planned-start",
            "2020-06",
            "--planned-end",
            "2023",
            "--participant",
            "KOR:funding",
            "--participant",
            "jpn:implementing",
            "--funding",
            "600000 USD",
            "--funding",
            "1250.5 EUR Green Fund",
            "--title-in",
            "en-GB=Green laboratory",
            "--on",
            "2020-04",
        ],
        {
            "project": "green-lab",
            "title": "Green lab",
            "parties": ["KOR", "JPN"],
            "under": "green-mou",
            "planned_start": "2020-06",
            "planned_end": "2023",
            "participants": [{"party": "KOR", "role": "funding"}, {"party": "JPN", "role": "implementing"}],
            "funding": [
                {"amount": "600000", "currency": "USD"},
                {"amount": "1250.5", "currency": "EUR", "source": "Green Fund"},
            ],
            "titles": {"en-GB": "Green laboratory"},
        },
    ),
    (
        "fund",
        [
            "green-lab",
            "--amount",
            "100",
            "--currency",
            "usd",
            "--kind",
            "disbursement",
            "--source",
            "KOICA",
            "--on",
            "2021",
        ],
        {
            "project": "green-lab",
            "amount": "100",
            "currency": "USD",
            "kind": "disbursement",
            "source": "KOICA",
        },
    ),
    (
        "rescope",
        ["green-lab", "--summary", "Adds plastics", "--on", "2021-05"],
        {"project": "green-lab", "summary": "Adds plastics"},
    ),
    (
        "extend-project",
        ["green-lab", "--planned-end", "2025", "--on", "2022"],
        {"project": "green-lab", "planned_end": "2025"},
    ),
    (
        "complete",
        ["green-lab", "--summary", "Report out", "--on", "2024-06"],
        {"project": "green-lab", "summary": "Report out"},
    ),
    (
        "launch",
        ["side-lab", "--title", "Side lab", "--party", "KOR", "--party", "JPN", "--on", "2020-04"],
        {"project": "side-lab", "title": "Side lab", "parties": ["KOR", "JPN"]},
    ),
    (
        "terminate-project",
        ["side-lab", "--reason", "no funds", "--on", "2021"],
        {"project": "side-lab", "reason": "no funds"},
    ),
    (
        "party rename",
        [
            "keiti",
            "--name",
            "Green Institute",
            "--alias",
            "GREEN-I",
            "--name-in",
            "ko=녹색원",
            "--on",
            "2023",
        ],
        {"party": "KEITI", "name": "Green Institute", "aliases": ["GREEN-I"], "names": {"ko": "녹색원"}},
    ),
    (
        "suspend-series",
        ["green-jc", "--reason", "pause", "--on", "2021"],
        {"series": "green-jc", "reason": "pause"},
    ),
    (
        "resume-series",
        ["green-jc", "--reason", "again", "--on", "2022"],
        {"series": "green-jc", "reason": "again"},
    ),
    (
        "schedule",
        ["green-jc-2", "--party", "KOR", "--party", "JPN", "--planned-for", "2022-10", "--on", "2022-03"],
        {"meeting": "green-jc-2", "parties": ["KOR", "JPN"], "planned_for": "2022-10"},
    ),
    (
        "postpone",
        ["green-jc-2", "--planned-for", "2023-03", "--reason", "typhoon", "--on", "2022-09"],
        {"meeting": "green-jc-2", "planned_for": "2023-03", "reason": "typhoon"},
    ),
    (
        "cancel",
        ["green-jc-2", "--reason", "budget", "--on", "2023-01"],
        {"meeting": "green-jc-2", "reason": "budget"},
    ),
    (
        "party add",
        ["KEITI2", "--name", "Green Two", "--kind", "agency", "--on", "2023"],
        {"party": "KEITI2", "name": "Green Two", "kind": "agency"},
    ),
    (
        "party succeed",
        ["keiti", "--successor", "keiti2", "--on", "2024"],
        {"party": "KEITI", "successors": ["KEITI2"]},
    ),
    (
        "extend",
        ["green-mou", "--until-terminated", "--on", "2024-06"],
        {"instrument": "green-mou", "until_terminated": True},
    ),
    (
        "join",
        [
            "chn",
            "--instrument",
            "green-mou",
            "--action",
            "accession",
            "--effective-on",
            "2021-01",
            "--on",
            "2020-12",
        ],
        {"party": "CHN", "instrument": "green-mou", "action": "accession", "effective_on": "2021-01"},
    ),
    (
        "join",
        ["CHN", "--series", "green-jc", "--action", "membership", "--on", "2021"],
        {"party": "CHN", "series": "green-jc", "action": "membership"},
    ),
    (
        "join",
        ["CHN", "--project", "green-lab", "--action", "membership", "--on", "2021"],
        {"party": "CHN", "project": "green-lab", "action": "membership"},
    ),
    (
        "withdraw",
        ["CHN", "--instrument", "green-mou", "--reason", "budget", "--effective-on", "2023", "--on", "2022"],
        {"party": "CHN", "instrument": "green-mou", "reason": "budget", "effective_on": "2023"},
    ),
    ("withdraw", ["CHN", "--series", "green-jc", "--on", "2022-06"], {"party": "CHN", "series": "green-jc"}),
    (
        "withdraw",
        ["CHN", "--project", "green-lab", "--on", "2022-06"],
        {"party": "CHN", "project": "green-lab"},
    ),
]


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    db = str(tmp_path / "ledger.sqlite")
    assert CliRunner().invoke(cli, ["--db", db, "import", str(SEEDS)]).exit_code == 0

    def invoke(*args: str) -> Any:
        return CliRunner().invoke(cli, ["--db", db, "--actor", "clerk", *args])

    return invoke


def test_the_story_covers_every_verb_and_every_field() -> None:
    verbs = {verb for verb, _, _ in STORY}
    assert verbs >= set(VERBS) - {"retract"} | {f"party {verb}" for verb in PARTY_VERBS}
    for type_, cls in EVENT_TYPES.items():
        if type_ == "EventRetracted":
            continue
        given = set().union(*(data for verb, _, data in STORY if _type(verb) == type_))
        assert given == {field.name for field in fields(cls)}, type_


def _type(verb: str) -> str:
    return PARTY_VERBS[verb.split()[1]][0] if verb.startswith("party ") else VERBS[verb][0]


def test_every_field_reaches_the_recorded_event(run) -> None:  # type: ignore[no-untyped-def]
    for number, (verb, args, data) in enumerate(STORY, start=SEED_EVENTS + 1):
        key = f"story/{number}"
        result = run(*verb.split(), *args, *SOURCE, "--note", f"note {number}", "--key", key)
        assert result.exit_code == 0, (verb, result.output)
        assert result.stdout.startswith(f"recorded position {number}: {_type(verb)} "), result.stdout
        event = json.loads(run("show", str(number), "--json").stdout)["event"]
        assert event["data"] == data, verb
        assert (event["note"], event["key"], event["recorded_by"]) == (f"note {number}", key, "clerk")
        assert event["source"] == {
            "title": "Press release",
            "url": "https://example.org/pr",
            "publisher": "Ministry",
            "published_on": "2020-01-02",
            "page": "4",
        }
    retracted = run("retract", str(SEED_EVENTS + 12), "--reason", "recorded twice", "--json")
    assert json.loads(retracted.stdout)["event"]["data"]["reason"] == "recorded twice"
    assert run("show", str(SEED_EVENTS + 12)).stdout.splitlines()[-1].endswith(": recorded twice")


def test_a_dry_run_checks_and_shows_the_event_but_records_nothing(run) -> None:  # type: ignore[no-untyped-def]
    digest = run("digest").stdout
    result = run("extend", "nies-nier-mou-2024", "--expires-on", "2034-03-31", "--on", "2026-05", "--dry-run")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert (
        lines[0]
        == f"would record position {SEED_EVENTS + 1}: InstrumentExtended nies-nier-mou-2024 extended to 2034-03-31"
    )
    assert lines[-1] == "(dry run: nothing recorded)"
    assert run("digest").stdout == digest
    refused = run("extend", "nies-nier-mou-2024", "--expires-on", "2020", "--on", "2026-05", "--dry-run")
    assert (refused.exit_code, refused.stderr) == (
        2,
        "Error: data.expires_on: 2020 is not after the current expiry (2029-03-31)\n",
    )


def test_bad_options_fail_before_the_ledger_opens(run) -> None:  # type: ignore[no-untyped-def]
    missing = run("sign", "x", "--kind", "mou", "--party", "KOR", "--party", "JPN", "--on", "2020")
    assert missing.exit_code == 2 and "Missing option '--title'" in missing.stderr
    wrong = run("sign", "x", "--kind", "memo", "--title", "t", "--party", "KOR", "--on", "2020")
    assert wrong.exit_code == 2 and "'memo' is not one of 'mou', 'agreement'" in wrong.stderr
    person = run("meet", "m", "--party", "KOR", "--party", "JPN", "--head", "|x", "--on", "2020")
    assert person.exit_code == 2 and "write NAME|TITLE|PARTY" in person.stderr
    grant = run(
        "launch", "p", "--title", "t", "--party", "KOR", "--party", "JPN", "--funding", "5", "--on", "2020"
    )
    assert grant.exit_code == 2 and "write AMOUNT CURRENCY [SOURCE]" in grant.stderr

"""The Python API (coopledger.open) and the command line give the same answers on the example ledger."""

from __future__ import annotations

import json
import re
from pathlib import Path

import coopledger
import pytest
from click.testing import CliRunner
from coopledger.cli import cli
from support import SEED_EVENTS, SEEDS


@pytest.fixture
def example(tmp_path: Path) -> str:
    db = str(tmp_path / "example.sqlite")
    assert CliRunner().invoke(cli, ["--db", db, "import", str(SEEDS)]).exit_code == 0
    return db


def cli_json(db: str, *args: str) -> object:
    result = CliRunner().invoke(cli, ["--db", db, *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_api_and_the_cli_give_equal_answers(example: str) -> None:
    with coopledger.open(example) as ledger:
        for a, b, as_of in (
            ("KOR", "CHN", "2019-01"),
            ("JPN", "KOR", "2017-06-30"),
            ("nier", "NIES", "2024"),
        ):
            assert ledger.state(a, b, as_of=as_of).to_dict() == cli_json(
                example, "state", a, b, "--as-of", as_of
            )
        assert ledger.state("KOR", "CHN", as_of="2019", exact=True).to_dict() == cli_json(
            example, "state", "KOR", "CHN", "--as-of", "2019", "--exact"
        )
        history = [event.to_dict() for event in ledger.history("KOR", "CHN", start="2019-01", end="2019-01")]
        assert history == cli_json(example, "history", "KOR", "CHN", "--from", "2019-01", "--to", "2019-01")
        rows = [row.to_dict() for row in ledger.relationships(as_of="2019-01-31")]
        assert rows == cli_json(example, "relationships", "--as-of", "2019-01-31")
        assert ledger.verify().to_dict() == cli_json(example, "verify")


def test_answers_read_as_attributes_and_take_dates_as_python_values(example: str) -> None:
    from datetime import date

    with coopledger.open(example) as ledger:
        state = ledger.state("KOR", "CHN", as_of=date(2019, 1, 31))
        assert state.relationship == "CHN~KOR" and state.as_of == "2019-01-31"
        assert state.meetings["last"]["meeting"] == "rok-china-jcec-23"
        assert ledger.verify().events == SEED_EVENTS
        first = ledger.history("KOR", "CHN")[0]
        assert (first.position, first.retracted) == (first.to_dict()["position"], False)


def test_to_dict_is_a_copy_and_released_is_the_answer_itself(example: str) -> None:
    with coopledger.open(example) as ledger:
        state = ledger.state("KOR", "CHN", as_of="2019-01")
        copied = state.to_dict()
        copied["instruments"].clear()
        copied["meetings"]["held"] = -1
        assert state.instruments and state.meetings["held"] != -1  # the answer as it was
        assert state.released() == state.to_dict()
        assert state.released()["meetings"] is state.meetings  # not copied: the command line's


def test_append_from_python_records_and_reports_duplicates(example: str) -> None:
    event = {
        "type": "MeetingHeld",
        "occurred_on": "2019-11-04",
        "key": "k/1",
        "data": {"meeting": "m-1", "parties": ["Republic of Korea", "China"]},
    }
    with coopledger.open(example, actor="analyst") as ledger:
        appended = ledger.append(event)
        assert (appended.position, appended.duplicate) == (SEED_EVENTS + 1, False)
        assert ledger.append(json.dumps(event)).duplicate is True
        assert ledger.history("KOR", "CHN")[-1].recorded_by == "analyst"


def test_the_readme_python_example_prints_what_it_shows(example: str, tmp_path: Path) -> None:
    import doctest
    import os

    from support import ROOT

    text = (ROOT / "README.md").read_text().split("\n## From Python", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```python\n(.*?)```", text, re.S)
    Path(example).rename(tmp_path / "example.sqlite")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        test = doctest.DocTestParser().get_doctest(block, {}, "README", "README.md", 0)
        runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
        runner.run(test)
    finally:
        os.chdir(cwd)
    assert runner.failures == 0 and runner.tries > 0


def test_a_date_asked_in_another_scripts_digits_is_answered_in_ascii(example: str) -> None:
    """Events keep their dates in ASCII digits (EDTF's); so do answers to a date asked in full-width
    or Arabic-Indic digits: the same day, named as a program reading the JSON can parse it."""
    asked, written = "\uff12\uff10\uff11\uff19-01", "2019-01"
    answer = cli_json(example, "state", "KOR", "CHN", "--as-of", asked)
    assert answer == cli_json(example, "state", "KOR", "CHN", "--as-of", written)
    assert answer["as_of"] == written  # type: ignore[index]
    history = cli_json(
        example, "history", "KOR", "CHN", "--from", asked, "--to", "\u0662\u0660\u0661\u0669-01"
    )
    assert history == cli_json(example, "history", "KOR", "CHN", "--from", written, "--to", written)
    with coopledger.open(example) as ledger:
        assert ledger.state("KOR", "CHN", as_of=asked).as_of == written


def test_a_datetime_asks_for_its_own_day_and_a_date_is_known_at_its_end(example: str) -> None:
    from datetime import date, datetime

    with coopledger.open(example) as ledger:
        state = ledger.state("KOR", "CHN", as_of=datetime(2019, 1, 31, 23, 30))
        assert state.as_of == "2019-01-31"  # not 2019-01-31T23:30:00, which is no day
        assert state.to_dict() == ledger.state("KOR", "CHN", as_of="2019-01-31").to_dict()
        known = ledger.state("KOR", "CHN", as_of="2019", known_at=date(2099, 1, 1)).to_dict()
        assert known == cli_json(
            example, "state", "KOR", "CHN", "--as-of", "2019", "--known-at", "2099-01-01"
        )


@pytest.mark.parametrize(
    ("call", "says"),
    [
        (lambda ledger: ledger.state("KOR", "CHN", as_of=2019), "as_of: expected EDTF text"),
        (lambda ledger: ledger.state("KOR", None), "b: expected a party's id"),
        (lambda ledger: ledger.state("KOR", "CHN", known_at=1546300800), "known_at: expected ISO 8601"),
        (lambda ledger: ledger.history("KOR", "CHN", start=2019), "start: expected EDTF text"),
        (lambda ledger: ledger.history("KOR", "CHN", end=2019.5), "end: expected EDTF text"),
        (lambda ledger: ledger.relationships(as_of=20190131), "as_of: expected EDTF text"),
    ],
)
def test_a_value_of_the_wrong_type_is_a_type_error_naming_the_argument(example: str, call, says: str) -> None:
    with coopledger.open(example) as ledger, pytest.raises(TypeError, match=says):
        call(ledger)

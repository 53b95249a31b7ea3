"""An import reads its lines a page at a time and asks the store once a page which keys and ids
are recorded: duplicates, refusals and restores read the same across pages as within one."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from coopledger.ledger import importer
from coopledger.ledger.application import Ledger
from coopledger.ledger.errors import BadLines, LineError
from coopledger.ledger.store import Cursor, locate
from coopledger.ledger.writer import named
from coopledger.projections import readmodel as sql
from support import SEED_EVENTS, SEEDS, event


@pytest.fixture(autouse=True, params=[("PAGE", 3), ("PAGE_BYTES", 1)], ids=["3 lines", "1 byte"])
def small_pages(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of 3 lines, or of as many as make 1 byte (a line a page)."""
    monkeypatch.setattr(importer, *request.param)


def project(name: str, key: str | None = None) -> bytes:
    value = event("ProjectLaunched", "2020-01-01", project=name, title=name, parties=["KOR", "CHN"])
    if key is not None:
        value["key"] = key
    return orjson.dumps(value)


def test_duplicates_are_found_in_the_ledger_and_in_the_import_on_any_page(ledger: Ledger) -> None:
    first = ledger.import_lines([project(f"p{n}", f"k{n}") for n in range(1, 5)])
    assert (first.recorded, first.duplicates) == (4, 0)
    again = [
        project("p3", "k3"),  # recorded before: a duplicate
        project("p5", "k5"),
        b"  ",  # blank: skipped
        project("p1", "k1"),  # recorded before, on the next page
        project("p6", "k6"),
        project("p5", "k5"),  # recorded by this import, two pages back
        project("p7"),  # no key
    ]
    report = ledger.import_lines(again)
    assert (report.recorded, report.duplicates) == (3, 3)
    with pytest.raises(BadLines) as refused:
        ledger.import_lines([project("p8", "k8"), project("p1x", "k1"), project("p9", "k\x00")])
    assert [str(error) for error in refused.value.errors] == [
        "line 2: key: 'k1' is already recorded at position 1 with different content",
        "line 3: key: contains a NUL character (U+0000), which the ledger cannot store",
    ]
    assert ledger.import_lines([project("p8", "k8")]).recorded == 1  # the refused import wrote nothing


@pytest.mark.parametrize("given", [["k1"], {"k": 1}, 7])
def test_a_key_or_id_of_any_json_type_is_the_line_s_own_error(ledger: Ledger, given: object) -> None:
    line = orjson.loads(project("p1"))
    for field in ("key", "id"):
        with pytest.raises(BadLines) as refused:
            ledger.import_lines([project("p0"), orjson.dumps({**line, field: given})])
        assert [error.line for error in refused.value.errors] == [2]


def test_an_id_given_twice_in_a_backup_is_refused_across_pages(ledger: Ledger, tmp_path: Path) -> None:
    source = Ledger(locate(str(tmp_path / "source.sqlite")), actor="tester")
    source.import_lines([project(f"p{n}", f"k{n}") for n in range(1, 6)])
    backup = tmp_path / "backup.jsonl"
    source.backup(backup)
    digest = source.digest()
    source.close()
    lines = backup.read_bytes().splitlines()
    copied = orjson.loads(lines[4])
    copied["id"] = orjson.loads(lines[0])["id"]  # line 5 gives the id of line 1, a page before
    with pytest.raises(LineError, match=f"^line 5: id: '{copied['id']}' appears twice in the backup$"):
        ledger.restore([*lines[:4], orjson.dumps(copied)])
    ledger.restore(lines)  # the refused restore wrote nothing; pages restore as one
    assert ledger.digest() == digest


@pytest.mark.parametrize("batched", [False, True], ids=["each when asked", "a page at once"])
def test_the_things_a_page_names_are_read_at_once_where_lookups_are_round_trips(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch, batched: bool
) -> None:
    """On PostgreSQL each lookup of a thing is a round trip: an import reads the things that a
    page's events name in one query, and looks up one by one only those it did not guess. The
    read model is the one a fresh fold of the events makes either way (`verify`)."""
    one_by_one: Counter[str] = Counter()  # lookups of a thing at a time, by kind of thing
    at_once = ledger.store.statements["things_of"]
    rows = Cursor.rows

    def counted(self: Cursor, statement: str, params: Any = (), *args: Any, **kwargs: Any) -> Any:
        if statement in (sql.THING, sql.LAST_SNAPSHOT):
            one_by_one[params[0]] += 1
        elif statement == at_once:
            one_by_one["(a page at once)"] += 1
        return rows(self, statement, params, *args, **kwargs)

    monkeypatch.setattr(Cursor, "rows", counted)
    monkeypatch.setattr(type(ledger.store), "lookups_batched", batched)
    report = ledger.import_lines(SEEDS.read_bytes().splitlines())
    assert report.recorded == SEED_EVENTS
    named_kinds = {"instrument", "project", "series", "meeting"}  # always named by the data
    if batched:
        assert one_by_one["(a page at once)"] and not named_kinds & set(one_by_one)
        # What is left is what the data does not name as such: meetings' numbers in their
        # series, and parties written by a name or an alias.
        assert set(one_by_one) <= {"(a page at once)", "number", "alias", "party"}
    else:
        assert not one_by_one["(a page at once)"] and sum(one_by_one[kind] for kind in named_kinds) > 50
    assert ledger.verify().events == SEED_EVENTS


def test_what_an_event_appears_to_name_is_guessed_from_its_data_as_given() -> None:
    data = {
        "instrument": "mou-1",
        "parties": ["kor", "NIER", 3, "a\x00b"],
        "series": "jcec",
        "supersedes": "mou-0",
        "title": "not a thing",
    }
    assert sorted(named(data)) == [
        ("instrument", "mou-0"),
        ("instrument", "mou-1"),
        ("party", "KOR"),
        ("party", "NIER"),
        ("series", "jcec"),
    ]
    assert list(named(None)) == list(named(["instrument"])) == []

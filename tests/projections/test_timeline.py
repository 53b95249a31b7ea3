"""The timeline: the pure fold into lanes, and the pictures drawn from the seed story."""

from __future__ import annotations

import random
import struct
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from coopledger.events import parse_edtf
from coopledger.ledger.application import Ledger
from coopledger.ledger.store import locate
from coopledger.projections.relationship import Entry, Pair
from coopledger.projections.timeline import Bar, Lane, Mark, Timeline, build, draw
from support import SEEDS, entry, retraction

AS_OF = parse_edtf("2030-12-31")
KOR_CHN = ["KOR", "CHN"]


def lanes(
    entries: list[Entry], as_of: str = "2030-12-31", known_at: str | None = None, exact: bool = False
) -> dict[str, Lane]:
    timeline = build("KOR–CHN", entries, parse_edtf(as_of), known_at, exact)
    return {lane.key: lane for lane in timeline.lanes}


def spans(lane: Lane) -> list[tuple[str, str | None, str]]:
    return [(bar.start.text, bar.end.text if bar.end else None, bar.phase) for bar in lane.bars]


def signed(position: int = 1, on: str = "2012-01-23", **data: Any) -> Entry:
    fields = {"instrument": "a", "kind": "agreement", "title": "Agreement", "parties": KOR_CHN} | data
    return entry(position, "InstrumentSigned", on, **fields)


def test_an_extension_is_a_segment_of_its_own() -> None:
    entries = [
        signed(expires_on="2015-12-31"),
        entry(2, "InstrumentEnteredIntoForce", "2012-03-15", instrument="a"),
        entry(3, "InstrumentExtended", "2015-06", instrument="a", expires_on="2020-12-31"),
        entry(4, "InstrumentExtended", "2020-06", instrument="a", expires_on="2025-12-31"),
    ]
    assert spans(lanes(entries)["a"]) == [
        ("2012-01-23", "2012-03-15", "signed"),
        ("2012-03-15", "2015-12-31", "in_force"),
        ("2015-12-31", "2020-12-31", "extension"),
        ("2020-12-31", "2025-12-31", "extension"),
    ]
    # As of 2016 the second extension had not happened.
    assert [bar.phase for bar in lanes(entries, "2016")["a"].bars] == ["signed", "in_force", "extension"]


def test_an_mou_is_in_force_from_signing_and_without_expiry_runs_on() -> None:
    mou = signed(kind="mou", on="2017-05")
    assert spans(lanes([mou])["a"]) == [("2017-05", None, "in_force")]


def test_termination_cuts_the_bar_and_is_marked() -> None:
    entries = [
        signed(kind="mou", expires_on="2020"),
        entry(2, "InstrumentExtended", "2019", instrument="a", expires_on="2025"),
        entry(3, "InstrumentTerminated", "2018-06-30", instrument="a"),
    ]
    lane = lanes(entries)["a"]
    assert spans(lane) == [("2012-01-23", "2018-06-30", "in_force")]
    assert lane.marks == (Mark(parse_edtf("2018-06-30"), "terminated"),)


def test_projects_run_to_their_planned_end_extended_or_to_their_actual_end() -> None:
    launched = entry(
        1,
        "ProjectLaunched",
        "2013-02-14",
        project="p",
        title="Work program",
        parties=KOR_CHN,
        planned_end="2015",
    )
    extended = entry(2, "ProjectExtended", "2015-06", project="p", planned_end="2017")
    completed = entry(3, "ProjectCompleted", "2016-03", project="p")
    assert spans(lanes([launched, extended])["p"]) == [
        ("2013-02-14", "2015", "running"),
        ("2015", "2017", "extension"),
    ]
    assert spans(lanes([launched, extended, completed])["p"]) == [
        ("2013-02-14", "2015", "running"),
        ("2015", "2016-03", "extension"),
    ]
    assert lanes([launched, extended, completed])["p"].marks == ()
    terminated = entry(3, "ProjectTerminated", "2014", project="p")
    assert [m.kind for m in lanes([launched, terminated])["p"].marks] == ["terminated"]


def test_a_retracted_event_is_absent_unless_known_before_its_retraction() -> None:
    later = "2025-01-01T00:00:00.000000Z"
    extended = entry(2, "InstrumentExtended", "2015-06", instrument="a", expires_on="2020-12-31")
    retracted = Entry(extended.event, True, False, retraction(3, 2, later).event)
    launched = entry(4, "ProjectLaunched", "2014", project="p", title="Gone", parties=KOR_CHN)
    gone = Entry(launched.event, True, False, retraction(5, 4, later).event)
    shown = lanes([signed(expires_on="2015-12-31"), retracted, gone])
    assert list(shown) == ["a"] and [bar.phase for bar in shown["a"].bars] == ["signed"]
    before = lanes([signed(expires_on="2015-12-31"), retracted, gone], known_at="2024-06-01T00:00:00.000000Z")
    assert list(before) == ["a", "p"] and [bar.phase for bar in before["a"].bars] == ["signed", "extension"]


def test_meetings_held_are_marks_numbered_and_announced_ones_not_held_are_hollow() -> None:
    entries = [
        entry(1, "SeriesEstablished", "199X", series="jcec", title="Joint Committee", parties=KOR_CHN),
        entry(2, "MeetingHeld", "2019-01-23", meeting="jcec-23", parties=KOR_CHN, series="jcec", number=23),
        entry(
            3,
            "MeetingScheduled",
            "2019-01-23",
            meeting="jcec-24",
            parties=KOR_CHN,
            planned_for="2019-41",
            series="jcec",
            number=24,
        ),
        entry(4, "MeetingScheduled", "2019-01-23", meeting="wl", parties=KOR_CHN, planned_for="2019-02"),
        entry(5, "MeetingHeld", "2019-02-20", meeting="wl", parties=KOR_CHN),
    ]
    shown = lanes(entries)
    assert list(shown) == ["jcec", ""]
    jcec = shown["jcec"]
    assert jcec.label == "Joint Committee"
    assert [(m.on.text, m.kind, m.label) for m in jcec.marks] == [
        ("2019-01-23", "held", "23"),
        ("2019-41", "announced", "24"),
    ]
    assert shown[""].label == "Other meetings"
    assert shown[""].marks == (Mark(parse_edtf("2019-02-20"), "held"),)
    # The series runs from its establishment, a date known only to the decade.
    assert spans(jcec) == [("199X", None, "series")]
    # Held once the announcement is followed by the meeting, as of the day it was held.
    assert [m.kind for m in lanes(entries, "2019-02-19")[""].marks] == ["announced"]


def test_an_imprecise_date_keeps_its_range() -> None:
    launched = entry(1, "ProjectLaunched", "2019-41", project="p", title="t", parties=KOR_CHN)
    start = lanes([launched])["p"].bars[0].start
    assert (start.earliest.isoformat(), start.latest.isoformat()) == ("2019-07-01", "2019-12-31")
    held = entry(2, "MeetingHeld", "2012-06-10/2012-06-27", meeting="m", parties=KOR_CHN)
    on = lanes([held])[""].marks[0].on
    assert (on.earliest.isoformat(), on.latest.isoformat()) == ("2012-06-10", "2012-06-27")


def test_exact_leaves_out_what_rolls_up_from_agencies() -> None:
    rolled = entry(
        2,
        "ProjectLaunched",
        "2017-12-12",
        exact=False,
        project="tpm",
        title="Joint research",
        parties=["CRAES", "NIES", "NIER"],
    )
    assert [(key, lane.exact) for key, lane in lanes([signed(), rolled]).items()] == [
        ("a", True),
        ("tpm", False),
    ]
    assert list(lanes([signed(), rolled], exact=True)) == ["a"]


def test_a_file_that_is_neither_svg_nor_png_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"timeline.pdf: a timeline is drawn as SVG or PNG"):
        draw(build("KOR–CHN", [signed()], AS_OF, None, False), tmp_path / "timeline.pdf")
    assert not (tmp_path / "timeline.pdf").exists()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    ledger = Ledger(locate(str(tmp_path_factory.mktemp("seeds") / "ledger.sqlite")), actor="tester")
    ledger.import_lines(SEEDS.open("rb"))
    yield ledger
    ledger.close()


def svg_texts(path: Path) -> list[str]:
    root = ET.parse(path).getroot()
    return ["".join(text.itertext()) for text in root.iter("{http://www.w3.org/2000/svg}text")]


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_the_seed_story_drawn_korea_and_china(seeded: Ledger, tmp_path: Path) -> None:
    timeline = seeded.timeline("kor", "PRC", parse_edtf("2019-01-31"))
    assert timeline.relationship == "KOR–CHN"
    draw(timeline, tmp_path / "kor-chn.svg")
    texts = svg_texts(tmp_path / "kor-chn.svg")
    assert "KOR–CHN as of 2019-01-31" in texts
    assert {
        "Clean Sky Project: joint research on fine dust",
        "ROK-China Joint Committee on Environmental Cooperation",
    } <= set(texts)
    assert {"23", "24", "12", "14"} <= set(texts)  # Joint Committee and TEMM numbers
    assert "meeting announced, not held" in texts
    draw(timeline, tmp_path / "kor-chn.png")
    width, height = png_size(tmp_path / "kor-chn.png")
    assert width == 1300 and 400 < height < 1500


def test_the_seed_story_drawn_for_two_institutes(seeded: Ledger, tmp_path: Path) -> None:
    timeline = seeded.timeline("NIES", "NIER", parse_edtf("2024-04"), exact=True)
    assert [lane.key for lane in timeline.lanes] == ["nies-nier-mou-2024", "tpm-joint-research", "tpm", ""]
    draw(timeline, tmp_path / "nies-nier.svg")
    texts = svg_texts(tmp_path / "nies-nier.svg")
    assert "MOU for joint research on waste recycling" in texts
    assert "NIES–NIER as of 2024-04 (this pair only, no rollup)" in texts
    draw(timeline, tmp_path / "nies-nier.png")
    assert png_size(tmp_path / "nies-nier.png")[0] == 1300


def test_the_picture_names_the_parties_as_of_its_day(seeded: Ledger, tmp_path: Path) -> None:
    """A renamed ministry (MEP, Ministry of Environmental Protection until March 2018) is drawn
    under its name of the day, its id kept in the title."""
    for day, name in (
        ("2017", "Ministry of Environmental Protection"),
        ("2019", "Ministry of Ecology and Environment"),
    ):
        timeline = seeded.timeline("MEE", "NIER", parse_edtf(day))
        assert timeline.relationship == "MEP–NIER"
        assert timeline.names == f"{name} – National Institute of Environmental Research"
        draw(timeline, tmp_path / f"{day}.svg")
        assert timeline.names in svg_texts(tmp_path / f"{day}.svg")


def synthetic(events: int, seed: int = 7) -> list[Entry]:
    """A busy relationship: instruments extended and terminated, projects, numbered meetings."""
    pick = random.Random(seed)
    entries: list[Entry] = []
    series = [f"series-{n}" for n in range(4)]
    for n, name in enumerate(series):
        entries.append(
            entry(
                len(entries) + 1,
                "SeriesEstablished",
                f"19{80 + n}",
                series=name,
                title=f"Joint committee {n}",
                parties=KOR_CHN,
            )
        )
    numbers = dict.fromkeys(series, 0)
    while len(entries) < events:
        position, year = len(entries) + 1, pick.randrange(1985, 2024)
        on = pick.choice(
            [
                f"{year}",
                f"{year}-{pick.randrange(1, 13):02d}",
                f"{year}-0{pick.randrange(1, 10)}-1{pick.randrange(0, 10)}",
                f"{year}-41",
            ]
        )
        roll = pick.random()
        if roll < 0.25:
            expires: dict[str, Any] = (
                {"expires_on": f"{year + pick.randrange(2, 10)}"} if pick.random() < 0.7 else {}
            )
            entries.append(
                signed(
                    position,
                    on,
                    instrument=f"i{position}",
                    kind=pick.choice(["mou", "agreement"]),
                    title=f"Instrument number {position} on a long subject of cooperation between the parties",
                    **expires,
                )
            )
            if expires and pick.random() < 0.5:
                expires_on = int(expires["expires_on"])
                entries.append(
                    entry(
                        position + 1,
                        "InstrumentExtended",
                        f"{expires_on - 1}",
                        instrument=f"i{position}",
                        expires_on=f"{expires_on + 5}",
                    )
                )
        elif roll < 0.5:
            entries.append(
                entry(
                    position,
                    "ProjectLaunched",
                    on,
                    project=f"p{position}",
                    title=f"Project {position}",
                    parties=KOR_CHN,
                    planned_end=f"{year + 3}",
                )
            )
        else:
            name = pick.choice(series)
            numbers[name] += 1
            kind = "MeetingHeld" if pick.random() < 0.9 else "MeetingScheduled"
            fields: dict[str, Any] = {"planned_for": on} if kind == "MeetingScheduled" else {}
            entries.append(
                entry(
                    position,
                    kind,
                    on,
                    meeting=f"m{position}",
                    parties=KOR_CHN,
                    series=name,
                    number=numbers[name],
                    **fields,
                )
            )
    return entries


def test_a_busy_relationship_draws_taller(tmp_path: Path) -> None:
    small = build("KOR–CHN", synthetic(12), AS_OF, None, False)
    busy = build("KOR–CHN", synthetic(300), AS_OF, None, False)
    assert len(busy.lanes) > 100
    draw(small, tmp_path / "small.png")
    draw(busy, tmp_path / "busy.png")
    draw(busy, tmp_path / "busy.svg")
    assert png_size(tmp_path / "busy.png")[1] > 3 * png_size(tmp_path / "small.png")[1]
    assert "Joint committee 3" in svg_texts(tmp_path / "busy.svg")


def test_a_relationship_in_which_nothing_counts_yet_still_draws(tmp_path: Path) -> None:
    draw(build("KOR–CHN", [signed()], parse_edtf("2011"), None, False), tmp_path / "empty.svg")
    assert "nothing counts yet" in svg_texts(tmp_path / "empty.svg")


def test_the_picture_is_the_same_each_time(tmp_path: Path) -> None:
    timeline = Timeline(
        "KOR–CHN",
        AS_OF,
        None,
        False,
        (Lane("instrument", "a", "A", True, (Bar(parse_edtf("2012"), None, "in_force"),)),),
    )
    draw(timeline, tmp_path / "one.svg")
    draw(timeline, tmp_path / "two.svg")
    assert (tmp_path / "one.svg").read_bytes() == (tmp_path / "two.svg").read_bytes()


def test_the_timeline_command_draws_the_picture_asked_for(tmp_path: Path) -> None:
    from click.testing import CliRunner
    from coopledger.cli import cli

    db = str(tmp_path / "ledger.sqlite")
    assert CliRunner().invoke(cli, ["--db", db, "import", str(SEEDS)]).exit_code == 0
    out = tmp_path / "korea-china.svg"
    result = CliRunner().invoke(
        cli, ["--db", db, "timeline", "KOR", "CHN", "--as-of", "2019-01-31", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert (
        result.stdout == f"drew KOR–CHN as of 2019-01-31 (1 instrument, 8 projects, 13 meetings) to {out}\n"
    )
    assert "Clean Sky Project: joint research on fine dust" in svg_texts(out)
    png = tmp_path / "korea-china.png"
    args = ["--db", db, "timeline", "KOR", "CHN", "--exact", "--known-at", "2000-01-01", "--out", str(png)]
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert png_size(png)[0] == 1300
    refused = CliRunner().invoke(
        cli, ["--db", db, "timeline", "KOR", "CHN", "--out", str(tmp_path / "k.pdf")]
    )
    assert refused.exit_code == 2
    assert "'k.pdf': name the picture FILE.svg or FILE.png" in refused.stderr
    unknown = CliRunner().invoke(
        cli, ["--db", db, "timeline", "KOE", "CHN", "--out", str(tmp_path / "k.svg")]
    )
    assert (unknown.exit_code, unknown.stderr) == (2, "Error: unknown party 'KOE' (did you mean KOR?)\n")
    assert not (tmp_path / "k.pdf").exists() and not (tmp_path / "k.svg").exists()
    nowhere = tmp_path / "missing" / "k.png"
    unwritable = CliRunner().invoke(cli, ["--db", db, "timeline", "KOR", "CHN", "--out", str(nowhere)])
    assert (unwritable.exit_code, unwritable.stderr) == (
        2,
        f"Error: --out {nowhere}: cannot write there (No such file or directory)\n",
    )
    pictures = sorted(path.name for path in tmp_path.iterdir() if not path.name.startswith("ledger.sqlite"))
    assert pictures == ["korea-china.png", "korea-china.svg"]


def test_labels_cut_to_fit_stay_distinct(tmp_path: Path) -> None:
    long = "Memorandum of Understanding on Environmental Cooperation between the Ministries, {}"
    entries = [
        signed(1, instrument="mou-2008", kind="mou", title=long.format(2008)),
        signed(2, instrument="mou-2012", kind="mou", title=long.format(2012)),
        signed(3, instrument="a", kind="mou", title="Agreement"),
        signed(4, instrument="b", kind="mou", title="Agreement"),
    ]
    draw(build("KOR–CHN", entries, AS_OF, None, False), tmp_path / "labels.svg")
    texts = svg_texts(tmp_path / "labels.svg")
    cut = [text for text in texts if text.startswith("Memorandum")]
    assert len(cut) == 2 and cut[0] != cut[1] and all("…" in text and len(text) <= 56 for text in cut)
    assert [text[-4:] for text in cut] == ["2008", "2012"]
    assert {"Agreement (a)", "Agreement (b)"} <= set(texts)


def test_bars_run_while_both_sides_of_the_pair_are_members_and_renewals_continue() -> None:
    pair = Pair.of("CHN~KOR", {}.get, exact=False)

    def drawn(entries: list[Entry], as_of: str) -> dict[str, Lane]:
        timeline = build("KOR–CHN", entries, parse_edtf(as_of), None, False, pair=pair)
        return {lane.key: lane for lane in timeline.lanes}

    treaty = signed(kind="mou", parties=["KOR", "CHN", "JPN"], on="2010-01-01")
    out = entry(2, "PartyWithdrew", "2014-01-01", party="CHN", instrument="a", effective_on="2015-01-01")
    back = entry(3, "PartyJoined", "2018-01-01", party="CHN", instrument="a", action="accession")
    assert spans(drawn([treaty, out, back], "2020")["a"]) == [
        ("2010-01-01", "2015-01-01", "in_force"),
        ("2018-01-01", None, "in_force"),
    ]
    # Joining only pending: not in the pair yet, no lane.
    late = entry(
        2, "PartyJoined", "2010-06-01", party="VNM", instrument="a", action="accession", effective_on="2011"
    )
    vnm = Pair.of("KOR~VNM", {}.get, exact=False)
    assert build("KOR–VNM", [treaty, late], parse_edtf("2011-06"), None, False, pair=vnm).lanes == ()
    assert len(build("KOR–VNM", [treaty, late], parse_edtf("2011"), None, False, pair=vnm).lanes) == 1
    # An MOU that renews itself every two years runs on, one bar a term, to the current one.
    renewing = signed(kind="mou", on="2010-01-01", expires_on="2012-12-31", renewal={"term": "P2Y"})
    assert spans(drawn([renewing], "2017-06")["a"]) == [
        ("2010-01-01", "2012-12-31", "in_force"),
        ("2012-12-31", "2014-12-31", "renewal"),
        ("2014-12-31", "2016-12-31", "renewal"),
        ("2016-12-31", "2018-12-31", "renewal"),
    ]
    stopped = entry(2, "InstrumentTerminated", "2015-01", instrument="a", effective_on="2015-06-30")
    assert spans(drawn([renewing, stopped], "2017-06")["a"])[-1] == ("2014-12-31", "2015-06-30", "renewal")


def test_a_superseded_instrument_ends_when_its_successor_takes_effect_and_a_planned_project_waits() -> None:
    old = signed(kind="mou", on="1987-03")
    new = entry(
        2,
        "InstrumentSigned",
        "2012-01-23",
        instrument="b",
        kind="agreement",
        title="B",
        parties=KOR_CHN,
        supersedes="a",
    )
    force = entry(3, "InstrumentEnteredIntoForce", "2012-03-15", instrument="b")
    assert spans(lanes([old, new, force])["a"]) == [("1987-03", "2012-03-15", "in_force")]
    assert spans(lanes([old, new])["a"]) == [("1987-03", None, "in_force")]
    planned = entry(
        1,
        "ProjectLaunched",
        "2014-03",
        project="p",
        title="P",
        parties=KOR_CHN,
        planned_start="2015",
        planned_end="2017",
    )
    assert spans(lanes([planned])["p"]) == [("2014-03", "2015", "planned"), ("2015", "2017", "running")]


def test_a_picture_as_of_the_calendar_s_last_year_is_drawn(tmp_path: Path) -> None:
    renewing = signed(kind="mou", on="2010-01-01", expires_on="2012-12-31", renewal={"term": "P4000Y"})
    timeline = build(
        "KOR–CHN", [renewing], parse_edtf("9999"), None, False, pair=Pair.of("CHN~KOR", {}.get, False)
    )
    assert spans(timeline.lanes[0]) == [
        ("2010-01-01", "2012-12-31", "in_force"),
        ("2012-12-31", None, "renewal"),
    ]
    draw(timeline, tmp_path / "far.svg")
    assert (tmp_path / "far.svg").read_bytes().startswith(b"<?xml")

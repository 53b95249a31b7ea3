"""Properties over generated ledgers: a rejected event changes nothing; the read model rebuilt
is the one kept; export then import into an empty ledger gives the same state and history;
`state` read from the things' snapshots is the fold of their events, and so are the exports."""

from __future__ import annotations

import contextlib
import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import orjson
from coopledger import exports
from coopledger.events import EventRetracted, ProjectLaunched, parse_edtf
from coopledger.ledger import importer, transaction
from coopledger.ledger.application import Ledger
from coopledger.ledger.errors import LedgerError
from coopledger.ledger.queries import readable
from coopledger.ledger.store import SQLiteDatabase, locate
from coopledger.projections import relationship as folds
from coopledger.projections.readmodel import TABLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

STATES = ["KOR", "JPN", "CHN", "VNM", "ROK", "KOE"]  # an alias and a typo among them
AGENCIES = ["NIER", "NIES", "CRAES"]
SLUGS = ["a", "b", "c"]
years = st.integers(min_value=1990, max_value=2030)


@st.composite
def dates(draw: st.DrawFn) -> str:
    year = draw(years)
    form = draw(st.sampled_from(["year", "month", "day", "day", "season", "interval", "approximate", "bad"]))
    month, day = draw(st.integers(1, 12)), draw(st.integers(1, 28))
    return {
        "year": f"{year}",
        "month": f"{year}-{month:02}",
        "day": f"{year}-{month:02}-{day:02}",
        "season": f"{year}-41",
        "interval": f"{year}-{month:02}/{year + 1}",
        "approximate": f"{year}~",
        "bad": draw(st.sampled_from([f"{year}-02-30", f"{year}/..", "soon", f"{year + 1}/{year}"])),
    }[form]


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    party = lambda: draw(st.sampled_from(STATES + AGENCIES))
    parties = draw(
        st.one_of(
            st.lists(st.sampled_from(STATES[:4]), min_size=2, max_size=3, unique=True),
            st.lists(st.sampled_from(STATES + AGENCIES), min_size=1, max_size=3),
        )
    )
    slug = draw(st.sampled_from(SLUGS))
    type_ = draw(
        st.sampled_from(
            [
                "PartyRegistered",
                "InstrumentSigned",
                "InstrumentEnteredIntoForce",
                "InstrumentExtended",
                "InstrumentTerminated",
                "SeriesEstablished",
                "MeetingScheduled",
                "MeetingHeld",
                "ProjectLaunched",
                "ProjectFunded",
                "ProjectExtended",
                "ProjectCompleted",
                "EventRetracted",
                "PartyJoined",
                "PartyJoined",
                "PartyWithdrew",
            ]
        )
    )
    thing = {draw(st.sampled_from(["instrument", "series", "project"])): slug}
    maybe = lambda field, value: {field: value} if draw(st.booleans()) else {}
    forms: dict[str, dict[str, Any]] = {
        "PartyRegistered": {
            "party": draw(st.sampled_from(AGENCIES)),
            "name": "n",
            "kind": "agency",
            "country": draw(st.sampled_from(["KOR", "JPN", "CHN"])),
        },
        "InstrumentSigned": {
            "instrument": slug,
            "kind": draw(st.sampled_from(["mou", "agreement", "treaty", "communique", "action_plan"])),
            "title": "t",
            "parties": parties,
            "expires_on": draw(dates()),
            **maybe("renewal", {"term": draw(st.sampled_from(["P1Y", "P6M", "P0Y"]))}),
            **maybe("supersedes", draw(st.sampled_from(SLUGS))),
        },
        "InstrumentEnteredIntoForce": {"instrument": slug, **maybe("parties", parties[:1])},
        "InstrumentExtended": {
            "instrument": slug,
            **maybe("expires_on", draw(dates())),
            **maybe("until_terminated", True),
        },
        "InstrumentTerminated": {"instrument": slug, **maybe("effective_on", draw(dates()))},
        "PartyJoined": {
            "party": party(),
            **thing,
            "action": draw(st.sampled_from(["signature", "ratification", "accession", "membership"])),
            **maybe("effective_on", draw(dates())),
        },
        "PartyWithdrew": {"party": party(), **thing, **maybe("effective_on", draw(dates()))},
        "SeriesEstablished": {"series": slug, "title": "s", "parties": parties},
        "MeetingScheduled": {
            "meeting": slug,
            "parties": parties,
            "planned_for": draw(dates()),
            "host": party(),
        },
        "MeetingHeld": {
            "meeting": draw(st.sampled_from([*SLUGS, "d", "e"])),
            "parties": parties,
            "series": slug,
            "number": draw(st.integers(1, 3)),
        },
        "ProjectLaunched": {
            "project": slug,
            "title": "p",
            "parties": parties,
            "planned_end": draw(dates()),
            **maybe("planned_start", draw(dates())),
            **maybe("participants", [{"party": party(), "role": "funding"}]),
        },
        "ProjectFunded": {
            "project": slug,
            "amount": draw(st.sampled_from(["100", "0.5", 7, 1.5, "-1"])),
            "currency": draw(st.sampled_from(["USD", "KRW", "XXX1"])),
            **maybe("kind", draw(st.sampled_from(["disbursement", "expenditure", "gift"]))),
        },
        "ProjectExtended": {"project": slug, "planned_end": draw(dates())},
        "ProjectCompleted": {"project": slug},
        "EventRetracted": {"event": draw(st.integers(1, 12)), "reason": "r"},
    }
    data = forms[type_]
    value: dict[str, Any] = {"type": type_, "data": data}
    if type_ != "EventRetracted":
        value["occurred_on"] = draw(dates())
    if draw(st.booleans()):
        value["key"] = draw(st.sampled_from(["k1", "k2", "k3"]))
    return value


def read_model(path: Path) -> list[Any]:
    """Every read-model table's rows, in the order of `TABLES`."""
    connection = sqlite3.connect(path)
    try:
        return [connection.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall() for table in TABLES]
    finally:
        connection.close()


def views(ledger: Ledger) -> list[Any]:
    found: list[Any] = []
    for item in ledger.relationships(parse_edtf("2100").day):
        a, b = item["relationship"].split("~")
        found.append(ledger.state(a, b, parse_edtf("2100")))
        found.append(
            [
                {
                    k: v
                    for k, v in e.items()
                    if k not in ("recorded_at", "recorded_by", "hash", "imported_from")
                }
                for e in ledger.history(a, b)
            ]
        )
    return found


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(events(), min_size=5, max_size=30))
def test_rejected_events_change_nothing_and_export_import_round_trips(batch: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "ledger.sqlite"
        ledger = Ledger(locate(str(path)), actor="p")
        ledger.init()
        try:
            for value in batch:
                before = (ledger.digest(), read_model(path))
                try:
                    ledger.append(value)
                except LedgerError:
                    assert (ledger.digest(), read_model(path)) == before
            ledger.verify()
            # The read model rebuilt from the events is the one kept at append time.
            kept = read_model(path)
            ledger.rebuild()
            assert read_model(path) == kept
            exported = list(ledger.export())
            copy = Ledger(locate(str(Path(directory) / "copy.sqlite")), actor="q")
            try:
                report = copy.import_lines(line + b"\n" for line in exported)
                assert report.recorded == len(exported)
                assert views(copy) == views(ledger)
                copy.verify()
                # Importing the export again records nothing: every id is already there (those of
                # retracted events are counted apart).
                again = copy.import_lines(exported)
                retracted = sum(b'"type":"EventRetracted"' in line for line in exported)
                assert (again.recorded, again.duplicates, again.retracted) == (
                    0,
                    len(exported) - retracted,
                    retracted,
                )
            finally:
                copy.close()
        finally:
            ledger.close()


# Coherent ledgers: things founded, then changed, joined and left, on days before and after
# their founding, recorded in any order, some retracted.
MEMBERS = ["KOR", "JPN", "CHN", "VNM", "NIER", "NIES"]
FOUNDING = {"instrument": "InstrumentSigned", "project": "ProjectLaunched", "series": "SeriesEstablished"}


@st.composite
def days(draw: st.DrawFn) -> str:
    year = draw(st.integers(2000, 2012))
    month, day = draw(st.integers(1, 12)), draw(st.integers(1, 28))
    forms = [
        f"{year}",
        f"{year}-{month:02}",
        f"{year}-{month:02}-{day:02}",
        f"{year}-21",
        f"{year}-{month:02}/{year + 1}",
    ]
    return draw(st.sampled_from(forms))


@st.composite
def founding(draw: st.DrawFn, kind: str, slug: str) -> dict[str, Any]:
    parties = draw(st.lists(st.sampled_from(MEMBERS), min_size=2, max_size=3, unique=True))
    data: dict[str, Any] = {kind: slug, "title": slug, "parties": parties}
    if kind == "instrument":
        data.update(kind=draw(st.sampled_from(["mou", "treaty", "agreement"])), expires_on=draw(days()))
        superseded = draw(st.sampled_from([None, *(s for s in ["a", "b", "c"] if s != slug)]))
        if superseded:
            data["supersedes"] = superseded
    elif kind == "project":
        data["planned_end"] = draw(days())
        data["funding"] = draw(st.lists(st.just({"amount": "100.5", "currency": "EUR"}), max_size=1))
    return {"type": FOUNDING[kind], "occurred_on": draw(days()), "data": data}


@st.composite
def change(draw: st.DrawFn, kind: str, slug: str, founders: list[str]) -> dict[str, Any]:
    party = draw(st.sampled_from(MEMBERS))
    leaving = draw(st.sampled_from([*founders, party]))
    action = draw(st.sampled_from(["accession", "membership", "signature", "ratification"]))
    forms: list[tuple[str, dict[str, Any]]] = [
        ("PartyJoined", {"party": party, kind: slug, "action": action}),
        ("PartyJoined", {"party": party, kind: slug, "action": action}),
        ("PartyWithdrew", {"party": leaving, kind: slug}),
        ("PartyWithdrew", {"party": leaving, kind: slug}),
    ]
    if kind == "instrument":
        forms += [
            ("InstrumentAmended", {"instrument": slug, "summary": "a"}),
            ("InstrumentExtended", {"instrument": slug, "expires_on": draw(days())}),
            ("InstrumentEnteredIntoForce", {"instrument": slug}),
            ("InstrumentTerminated", {"instrument": slug}),
        ]
    elif kind == "project":
        forms += [
            ("ProjectScopeChanged", {"project": slug, "summary": "s"}),
            ("ProjectExtended", {"project": slug, "planned_end": draw(days())}),
            ("ProjectCompleted", {"project": slug}),
            ("ProjectFunded", {"project": slug, "amount": "7", "currency": "USD", "kind": "disbursement"}),
            ("ProjectFunded", {"project": slug, "amount": "3", "currency": "KRW"}),
        ]
    else:
        forms += [("SeriesSuspended", {"series": slug}), ("SeriesResumed", {"series": slug})]
    type_, data = draw(st.sampled_from(forms))
    return {"type": type_, "occurred_on": draw(days()), "data": data}


@st.composite
def meeting(draw: st.DrawFn, slug: str) -> list[dict[str, Any]]:
    parties = draw(st.lists(st.sampled_from(MEMBERS), min_size=2, max_size=3, unique=True))
    data = {"meeting": slug, "parties": parties, "planned_for": draw(days())}
    planned = {"type": "MeetingScheduled", "occurred_on": draw(days()), "data": data}
    then = draw(
        st.sampled_from(
            [
                ("MeetingHeld", {"meeting": slug, "parties": parties}),
                ("MeetingPostponed", {"meeting": slug, "planned_for": draw(days())}),
                ("MeetingCancelled", {"meeting": slug}),
                None,
            ]
        )
    )
    return [planned] + ([{"type": then[0], "occurred_on": draw(days()), "data": then[1]}] if then else [])


@st.composite
def ledgers(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Events of a few things in a drawn order (a change recorded before its thing is founded
    is refused), with retractions of drawn positions."""
    lines: list[dict[str, Any]] = []
    for kind in FOUNDING:
        for slug in draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=2, unique=True)):
            founded = draw(founding(kind, slug))
            lines.append(founded)
            lines += draw(st.lists(change(kind, slug, founded["data"]["parties"]), max_size=6))
    for slug in draw(st.lists(st.sampled_from(["m1", "m2", "m3"]), max_size=3, unique=True)):
        lines += draw(meeting(slug))
    lines = draw(st.permutations(lines))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(lines)))
        retraction = {
            "type": "EventRetracted",
            "data": {"event": draw(st.integers(3, 3 + at)), "reason": "r"},
        }
        lines.insert(at, retraction)
    agencies = (("NIER", "KOR"), ("NIES", "JPN"))
    return [
        *(
            {
                "type": "PartyRegistered",
                "occurred_on": "1990",
                "data": {"party": p, "name": p, "kind": "agency", "country": c},
            }
            for p, c in agencies
        ),
        *lines,
    ]


@contextlib.contextmanager
def tiny_caches() -> Iterator[None]:
    """An import that flushes every 3 lines, keeping 4 things in memory between flushes and
    listing every key after 2 misses."""
    kept = transaction.CACHE_LIMIT, transaction.MISSES_BEFORE_LISTING, importer.PAGE
    transaction.CACHE_LIMIT, transaction.MISSES_BEFORE_LISTING, importer.PAGE = 4, 2, 3
    try:
        yield
    finally:
        transaction.CACHE_LIMIT, transaction.MISSES_BEFORE_LISTING, importer.PAGE = kept


@contextlib.contextmanager
def lookups_batched(batched: bool) -> Iterator[None]:
    """An import that reads the things of each page at once (`Transaction.prefetch`), as on
    PostgreSQL, or each when asked, as on SQLite."""
    kept = SQLiteDatabase.lookups_batched
    SQLiteDatabase.lookups_batched = batched
    try:
        yield
    finally:
        SQLiteDatabase.lookups_batched = kept


@contextlib.contextmanager
def ledger_of(batch: list[dict[str, Any]]) -> Iterator[tuple[Ledger, str]]:
    """A new ledger in a temporary directory with each event of a batch appended (those the
    rules refuse left out), and that directory."""
    with tempfile.TemporaryDirectory() as directory:
        ledger = Ledger(locate(str(Path(directory) / "ledger.sqlite")), actor="p")
        ledger.init()
        try:
            for value in batch:
                with contextlib.suppress(LedgerError):
                    ledger.append(value)
            yield ledger, directory
        finally:
            ledger.close()


# Pairs of the generated ledgers: states, organisations, and an alias.
PAIRS = [
    ("KOR", "JPN"),
    ("JPN", "CHN"),
    ("KOR", "CHN"),
    ("VNM", "KOR"),
    ("NIER", "JPN"),
    ("NIES", "CHN"),
    ("NIER", "NIES"),
    ("ROK", "VNM"),
]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ledgers(), st.lists(st.dates(date(1999, 1, 1), date(2015, 12, 31)), min_size=1, max_size=4))
def test_state_from_snapshots_is_the_fold_of_the_events(
    batch: list[dict[str, Any]], days: list[date]
) -> None:
    with ledger_of(batch) as (ledger, directory):
        ledger.verify()  # the snapshots kept at append time are those made again from the events
        queries = ledger.queries
        snapshots = queries._from_snapshots
        for a, b in PAIRS:
            for day in days:
                as_of = parse_edtf(day.isoformat())
                try:
                    read = queries.state(a, b, as_of)
                except LedgerError:
                    continue  # a party not registered in this ledger
                queries._from_snapshots = lambda *args: None  # the fold answers
                try:
                    assert queries.state(a, b, as_of) == read
                finally:
                    queries._from_snapshots = snapshots
        # The same events imported in one transaction (snapshots made again within it when
        # an event is back-dated or retracted) give the same rows.
        copy = Ledger(locate(str(Path(directory) / "copy.sqlite")), actor="q")
        try:
            copy.import_lines(line + b"\n" for line in ledger.export())
            copy.verify()
            snapshots_table = TABLES.index("coopledger_snapshots")
            imported, appended = (
                read_model(Path(directory) / name) for name in ("copy.sqlite", "ledger.sqlite")
            )
            assert imported[snapshots_table] == appended[snapshots_table]
        finally:
            copy.close()
        # And with caches that overflow at every flush (things evicted, their keys listed), the
        # things of each page read at once or each when asked: the same rows in every table but
        # those of recording times (the head and the log).
        derived = slice(TABLES.index("coopledger_relationship_events"), None)
        assert TABLES[derived] == TABLES[2:]
        for batched in (False, True):
            name = f"small-{batched}.sqlite"
            small = Ledger(locate(str(Path(directory) / name)), actor="q")
            try:
                with tiny_caches(), lookups_batched(batched):
                    small.import_lines(line + b"\n" for line in ledger.export())
                assert read_model(Path(directory) / name)[derived] == imported[derived]
            finally:
                small.close()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=200).map(str.encode))
def test_any_bytes_as_an_import_line_are_recorded_or_refused_by_line(line: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        ledger = Ledger(locate(str(Path(directory) / "l.sqlite")))
        try:
            try:
                ledger.import_lines([b"\n", line.replace(b"\n", b" ")])
            except LedgerError as error:
                assert str(error).startswith("line 2: ")
                assert "\n" not in str(error)
            else:  # a byte order mark before a line is not part of its JSON
                json = line.removeprefix(b"\xef\xbb\xbf")
                assert not json.strip() or orjson.loads(json)
        finally:
            ledger.close()


def folded_tables(ledger: Ledger, day: date) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    """The CSV tables of a ledger as a fold of every one of its events gives them (what the
    exports gave before they read snapshots), and each project's launch and funding."""
    recorded = [readable(position, state) for position, _, state in ledger.queries.stored_states()]
    retractions = {r.data.event: r for r in recorded if isinstance(r.data, EventRetracted)}
    entries = [
        folds.Entry(r, True, len(getattr(r.data, "parties", ())) > 2, retractions.get(r.id)) for r in recorded
    ]
    folded = folds.fold(entries, day)
    name = ledger.queries.namer()
    tables: dict[str, list[Any]] = {kind: [] for kind in exports.KINDS}
    add = lambda kind, row: tables[kind].append(row)
    for kind in ("instrument", "project"):
        for state in folded.of(kind):
            view = folds.whole_view(state, day, folded.things.get)
            add(f"{kind}s", view)
            exports._members(kind, view[kind], view, view[exports.FOUNDED_ON[kind]], add)
    for series in folded.of("series"):
        exports._members(
            "series", series.series, {"parties": list(series.parties)}, series.established_on.text, add
        )
    tables["meetings"] = [exports.meeting_view(m, day) for m in folded.of("meeting")]
    counted = [entry.event for entry in folds.counted(entries, day)]
    grants = list(exports.funding(counted))
    tables["funding"] = [grant for _, grant in grants]
    items = folds.history([e for e in entries if e.event.day is not None], end=day, name=name)
    shown = {item["id"] for item in items}
    items += [
        {**e.retraction.envelope, "multilateral": False, "retracted": False}
        for e in entries
        if e.retraction is not None and e.event.id in shown
    ]
    tables["events"] = [
        {**{k: item[k] for k in exports.ENVELOPE_ORDER if k in item}, **item}
        for item in sorted(items, key=lambda item: item["position"])
    ]
    projects = {
        r.data.project: (r.position, [g for e, g in grants if g["project"] == r.data.project])
        for r in counted
        if isinstance(r.data, ProjectLaunched)
    }
    return tables, projects


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ledgers(),
    # Days on which events count (the edge of each table), and any others.
    st.lists(
        days().map(lambda text: parse_edtf(text).day) | st.dates(date(1999, 1, 1)), min_size=1, max_size=3
    ),
)
def test_the_exports_are_the_fold_of_every_event(batch: list[dict[str, Any]], days: list[date]) -> None:
    with ledger_of(batch) as (ledger, _):
        for day in days:
            tables: dict[str, list[Any]] = {kind: [] for kind in exports.KINDS}
            projects: dict[str, Any] = {}
            with ledger.queries.whole_ledger(day) as whole:
                exports.csv_tables(whole, lambda kind, row, tables=tables: tables[kind].append(row))
                for snapshot in whole.things("project"):
                    assert snapshot.founded is not None
                    grants = [grant for _, grant in exports.funding(whole.funding(snapshot.state.project))]
                    projects[snapshot.state.project] = (snapshot.founded[1], grants)
            expected, launches = folded_tables(ledger, day)
            assert tables == expected
            assert projects == launches  # what each IATI activity is made of

"""Exports for other systems: the ledger's things as of a day as CSV tables and as IATI activities.

They read the whole ledger as of a day a thing or an event at a time (`ledger.whole`): each
thing from its latest snapshot by the day, which is the fold of its own events, so a CSV row
holds what `state --json` shows of the thing and an IATI activity what its project's events
say; rows are written as they are made, never all held at once.
"""

from __future__ import annotations

import contextlib
import csv
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import IO, Any
from xml.etree import ElementTree as ET

import orjson

from .events import Edtf, ProjectFunded, ProjectLaunched, Recorded
from .ledger.errors import NotFound
from .ledger.heap import uncollected
from .ledger.whole import Whole
from .projections import relationship as folds
from .projections.meetings import Meeting

KINDS = ("instruments", "members", "meetings", "projects", "funding", "events")
# The header of a kind with no rows (the columns of a row come from its object's keys).
EMPTY_COLUMNS = {
    "instruments": ["instrument", "kind", "title", "parties", "signed_on", "status"],
    "members": ["kind", "id", "party", "action", "joined_on"],
    "meetings": ["meeting", "parties", "series", "number", "status"],
    "projects": ["project", "title", "parties", "launched_on", "status"],
    "funding": ["project", "kind", "amount", "currency", "source", "occurred_on", "position"],
    "events": ["position", "id", "type", "occurred_on", "data", "recorded_at", "recorded_by"],
}
ENVELOPE_ORDER = ("position", "id", "type", "occurred_on", "data", "source", "note", "key", "recorded_at")
# How each kind of thing with members names those it was founded with, when its object lists none.
FOUNDING_ACTIONS = {"instrument": "signature", "project": "membership", "series": "membership"}
FOUNDED_ON = {"instrument": "signed_on", "project": "launched_on"}  # the field of its founding day

Add = Callable[[str, dict[str, Any]], None]  # a row of a kind's table


# --- CSV: one table per kind, one row per thing, as of a day


@uncollected
def csv_tables(ledger: Whole, add: Add) -> None:
    """Every kind's rows as of the ledger's day, each given to `add` as it is made: the objects
    of `state --json` (for the whole ledger), the membership periods, each meeting, each
    funding transaction, and every event by position."""
    day = ledger.day
    for kind in ("instrument", "project"):
        for snapshot in ledger.things(kind):
            view = folds.whole_view(snapshot.state, day, ledger.thing)
            add(f"{kind}s", view)
            _members(kind, view[kind], view, view[FOUNDED_ON[kind]], add)
    for snapshot in ledger.things("series"):
        series = snapshot.state
        _members("series", series.series, {"parties": list(series.parties)}, series.established_on.text, add)
    for snapshot in ledger.things("meeting"):
        add("meetings", meeting_view(snapshot.state, day))
    for _, grant in funding(ledger.funding()):
        add("funding", grant)
    for item in _events(ledger.entries(), day, ledger.name):
        add("events", item)


def meeting_view(meeting: Meeting, as_of: date) -> dict[str, Any]:
    """One meeting as of a day: held, cancelled, postponed (no new date), overdue or scheduled."""
    announced, held = meeting.announced, meeting.held
    if held:
        status = "held"
    elif meeting.cancelled_on:
        status = "cancelled"
    elif meeting.put_off:
        status = "postponed"
    else:
        status = "overdue" if meeting.overdue(as_of) else "scheduled"
    return {
        "meeting": meeting.meeting,
        "parties": list(meeting.parties),
        "series": meeting.series,
        "number": meeting.number,
        "status": status,
        "held_on": held.occurred_on.text if held else None,
        "venue": held.venue if held else None,
        "announced_on": announced.announced_on.text if announced else None,
        "planned_for": announced.planned_for.text if announced else None,
        "host": announced.host if announced else None,
        "postponed_on": meeting.postponed_on.text if meeting.postponed_on else None,
        "cancelled_on": meeting.cancelled_on.text if meeting.cancelled_on else None,
    }


def _members(kind: str, id_: str, view: dict[str, Any], founded_on: str, add: Add) -> None:
    """One row per membership period of an instrument, project or series: the thing's `members`
    where its object has them, else its first members as named at its founding."""
    action = FOUNDING_ACTIONS[kind]
    members = view.get("members") or [
        {"party": party, "action": action, "joined_on": founded_on} for party in view["parties"]
    ]
    for member in members:
        add("members", {"kind": kind, "id": id_, **member})


def funding(counted: Iterable[Recorded]) -> Iterator[tuple[Recorded, dict[str, Any]]]:
    """Each funding transaction of the launches and fundings that count (by day then position):
    those given at a project's launch (commitments) and each `ProjectFunded` after it, with the
    event that records it."""
    launched: set[str] = set()
    for recorded in counted:
        event = recorded.data
        if isinstance(event, ProjectLaunched):
            launched.add(event.project)
            given = [(g, "commitment") for g in event.funding]
        elif isinstance(event, ProjectFunded) and event.project in launched:
            given = [(event, getattr(event, "kind", None) or "commitment")]
        else:
            continue
        for grant, kind in given:
            yield (
                recorded,
                {
                    "project": event.project,
                    "kind": kind,
                    "amount": folds.decimal_text(grant.amount),
                    "currency": grant.currency,
                    "source": grant.source,
                    "occurred_on": recorded.envelope["occurred_on"],
                    "position": recorded.position,
                },
            )


def _events(entries: Iterable[folds.Entry], as_of: date, name: folds.Namer) -> Iterator[dict[str, Any]]:
    """Every event whose day is on or before the day, as `history --json` shows it (retracted ones
    marked), and the retractions of those events; by position (`entries` are)."""
    shown: set[int] = set()  # the positions of the retractions of events shown
    for entry in entries:
        event = entry.event
        if event.day is not None and event.day <= as_of:
            item = folds.history_item(entry, None, name)
            if entry.retraction is not None:
                shown.add(entry.retraction.position)
        elif event.position in shown:
            item = {**event.envelope, "multilateral": False, "retracted": False}
        else:
            continue
        # The envelope's fields in the order the SPEC gives them (stored envelopes sort their keys).
        yield {**{k: item[k] for k in ENVELOPE_ORDER if k in item}, **item}


# Cells a spreadsheet would read as a formula: a leading quote makes them text.
_FORMULA = re.compile(r"[=+\-@\t\r]")


def cell(value: Any) -> str:
    """A CSV cell: text as is (dates as entered), numbers as digits, nested values as JSON text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return f"'{value}" if _FORMULA.match(value) else value
    return orjson.dumps(value).decode()


class Table:
    """One CSV table as its rows are made: the rows wait in an unnamed temporary file (in the
    system's temporary directory, TMPDIR) as JSON lines, because the columns are known only
    once every row is (every key, in the order they first appear); then it is written out
    with a header."""

    def __init__(self, kind: str):
        self.kind = kind
        self.rows = 0
        self._columns: dict[str, None] = {}
        self._spool: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed by `close`)

    def add(self, row: dict[str, Any]) -> None:
        self._columns.update(dict.fromkeys(row))
        self._spool.write(orjson.dumps(row) + b"\n")
        self.rows += 1

    def write(self, target: IO[str]) -> None:
        """The table as CSV: a header, then a row each."""
        columns = list(self._columns) or EMPTY_COLUMNS[self.kind]
        writer = csv.writer(target, lineterminator="\r\n")
        writer.writerow(columns)
        self._spool.seek(0)
        for line in self._spool:
            row = orjson.loads(line)
            writer.writerow([cell(row.get(column)) for column in columns])

    def close(self) -> None:
        with contextlib.suppress(OSError):  # what it still held is not wanted (a full disk, say)
            self._spool.close()


# --- IATI activity standard 2.03: one activity per project

IATI_VERSION = "2.03"
ROLES = {"funding": "1", "accountable": "2", "extending": "3", "implementing": "4"}
STATUSES = {"planned": "1", "active": "2", "withdrawn": "2", "completed": "4", "terminated": "5"}
TRANSACTION_TYPES = {"commitment": "2", "disbursement": "3", "expenditure": "4"}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# What XML 1.0 cannot hold at all (other control characters): left out of the text.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@uncollected
def iati_activities(
    ledger: Whole,
    as_of: Edtf,
    reporting_org: str,
    org_type: str,
    org_name: str,
    write: Callable[[bytes], None],
) -> int:
    """The ledger's projects as of its day as an `iati-activities` document (IATI 2.03), given to
    `write` a piece at a time (nothing before the first activity); how many activities."""
    count = 0
    for snapshot in ledger.things("project"):
        view = folds.whole_view(snapshot.state, ledger.day, ledger.thing)
        assert snapshot.founded is not None  # the things read are those founded by the day
        launch = ledger.event(snapshot.founded[1])
        grants = list(funding(ledger.funding(view["project"])))
        activity = ET.Element("iati-activity", {XML_LANG: "en"})
        _text(activity, "iati-identifier", f"{reporting_org}-{view['project']}")
        org = ET.SubElement(activity, "reporting-org", {"ref": reporting_org, "type": org_type})
        _narrative(org, org_name)
        _activity(activity, view, launch, grants, ledger.day, ledger.name)
        ET.indent(activity, level=1)
        write((b"" if count else IATI_HEAD) + b"\n  " + ET.tostring(activity, encoding="utf-8"))
        count += 1
    if not count:
        raise NotFound(f"no projects as of {as_of.text}: an IATI file holds at least one activity")
    write(b"\n</iati-activities>\n")
    return count


IATI_HEAD = f"<?xml version='1.0' encoding='utf-8'?>\n<iati-activities version=\"{IATI_VERSION}\">".encode()


def _activity(
    activity: ET.Element,
    view: dict[str, Any],
    launch: Recorded,
    grants: list[tuple[Recorded, dict[str, Any]]],
    as_of: date,
    name: folds.Namer,
) -> None:
    launched = launch.data
    assert isinstance(launched, ProjectLaunched)
    title = ET.SubElement(activity, "title")
    _narrative(title, view["title"])
    for tag, text in sorted((launched.titles or {}).items()):
        if tag != "en":
            _narrative(title, text, tag)
    description = ET.SubElement(activity, "description", {"type": "1"})
    said = f"{view['title']}. Parties: {', '.join(name(p, as_of) for p in view['parties'])}."
    said += "".join(f" Scope changed {c['occurred_on']}: {c['summary']}." for c in view["scope_changes"])
    _narrative(description, said)
    roles = {p["party"]: p["role"] for p in view.get("participants") or []}
    for party in [*roles, *(p for p in view["parties"] if p not in roles)]:
        # A party with no recorded role is listed as implementing: a joint project's parties carry it out.
        org = ET.SubElement(activity, "participating-org", {"role": ROLES[roles.get(party, "implementing")]})
        _narrative(org, name(party, as_of))
    ET.SubElement(activity, "activity-status", {"code": STATUSES.get(view["status"], "2")})
    for code, day in _dates(view, launch, as_of):
        ET.SubElement(activity, "activity-date", {"type": code, "iso-date": day.isoformat()})
    for recorded, grant in grants:
        _transaction(activity, recorded, grant)


def _dates(view: dict[str, Any], launch: Recorded, as_of: date) -> list[tuple[str, date]]:
    """IATI activity dates: planned start (1), actual start (2), planned end (3), actual end (4);
    a start as its earliest possible day, an end as its latest."""
    from .events import parse_edtf

    planned_start: Edtf | None = getattr(launch.data, "planned_start", None)
    assert launch.occurred_on is not None
    dates: list[tuple[str, date]] = []
    if planned_start:
        dates.append(("1", planned_start.earliest))
    if view["status"] != "planned":
        started = planned_start if planned_start and planned_start.day <= as_of else launch.occurred_on
        dates.append(("2", started.earliest))
    if view["planned_end"]:
        dates.append(("3", parse_edtf(view["planned_end"]).latest))
    ended = view.get("ended_on") or view.get("completed_on") or view.get("terminated_on")
    if ended:
        dates.append(("4", parse_edtf(ended).latest))
    return dates


def _transaction(activity: ET.Element, recorded: Recorded, grant: dict[str, Any]) -> None:
    """A commitment (2), disbursement (3) or expenditure (4), dated the day it counts from."""
    assert recorded.day is not None
    day = recorded.day.isoformat()
    transaction = ET.SubElement(activity, "transaction")
    ET.SubElement(transaction, "transaction-type", {"code": TRANSACTION_TYPES[grant["kind"]]})
    ET.SubElement(transaction, "transaction-date", {"iso-date": day})
    _text(transaction, "value", grant["amount"], {"currency": grant["currency"], "value-date": day})
    if grant["source"]:
        _narrative(ET.SubElement(transaction, "provider-org"), grant["source"])


def _text(parent: ET.Element, tag: str, text: str, attributes: dict[str, str] | None = None) -> None:
    ET.SubElement(parent, tag, attributes or {}).text = _NOT_XML.sub("", text)


def _narrative(parent: ET.Element, text: str, lang: str | None = None) -> None:
    _text(parent, "narrative", text, {XML_LANG: lang} if lang else None)

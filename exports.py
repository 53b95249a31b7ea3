"""Exports for other systems: the ledger's things as of a day as CSV tables and as IATI activities.

Pure functions of the ledger's entries (every event with its retraction, `Queries.ledger_entries`):
they fold them with the same folds as `state`, so a CSV row holds what `state --json` shows of
the thing, and an IATI activity what its project's events say.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from datetime import date
from typing import Any
from xml.etree import ElementTree as ET

import orjson

from .events import Edtf, ProjectFunded, ProjectLaunched, Recorded
from .ledger.errors import NotFound
from .ledger.heap import uncollected
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


# --- CSV: one table per kind, one row per thing, as of a day


@uncollected
def csv_tables(
    entries: list[folds.Entry], as_of: Edtf, name: folds.Namer | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Every kind's rows as of a day: the objects of `state --json` (for the whole ledger), the
    membership periods, each meeting, each funding transaction, and every event by position."""
    folded = folds.fold(entries, as_of.day)
    things = folds.things_view(folded, as_of.day)
    return {
        "instruments": things["instruments"],
        "members": _members(things, folded),
        "meetings": [meeting_view(m, as_of.day) for m in folded.of("meeting")],
        "projects": things["projects"],
        "funding": [grant for _, grant in funding(entries, as_of.day)],
        "events": _events(entries, as_of.day, name),
    }


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


def _members(things: dict[str, list[dict[str, Any]]], folded: folds.Folded) -> list[dict[str, Any]]:
    """One row per membership period of each instrument, project and series: the thing's
    `members` where its object has them, else its first members as named at its founding."""
    rows: list[dict[str, Any]] = []
    founded = [
        *(("instrument", i["instrument"], i, "signature", i["signed_on"]) for i in things["instruments"]),
        *(("project", p["project"], p, "membership", p["launched_on"]) for p in things["projects"]),
        *(
            ("series", s.series, {"parties": list(s.parties)}, "membership", s.established_on.text)
            for s in folded.of("series")
        ),
    ]
    for kind, id_, view, action, founded_on in founded:
        members = view.get("members") or [
            {"party": party, "action": action, "joined_on": founded_on} for party in view["parties"]
        ]
        rows += [{"kind": kind, "id": id_, **member} for member in members]
    return rows


def funding(entries: Iterable[folds.Entry], as_of: date) -> list[tuple[Recorded, dict[str, Any]]]:
    """Every funding transaction that counts as of a day, by day then position: those given at a
    project's launch (commitments) and each `ProjectFunded`, with the event that records it."""
    grants: list[tuple[Recorded, dict[str, Any]]] = []
    launched: set[str] = set()
    for entry in folds.counted(entries, as_of):
        event = entry.event.data
        if isinstance(event, ProjectLaunched):
            launched.add(event.project)
            given = [(g, "commitment") for g in event.funding]
        elif isinstance(event, ProjectFunded) and event.project in launched:
            given = [(event, getattr(event, "kind", None) or "commitment")]
        else:
            continue
        for grant, kind in given:
            grants.append(
                (
                    entry.event,
                    {
                        "project": event.project,
                        "kind": kind,
                        "amount": folds.decimal_text(grant.amount),
                        "currency": grant.currency,
                        "source": grant.source,
                        "occurred_on": entry.event.envelope["occurred_on"],
                        "position": entry.event.position,
                    },
                )
            )
    return grants


def _events(entries: list[folds.Entry], as_of: date, name: folds.Namer | None) -> list[dict[str, Any]]:
    """Every event whose day is on or before the day, as `history --json` shows it (retracted ones
    marked), and the retractions of those events; by position."""
    items = folds.history([e for e in entries if e.event.day is not None], end=as_of, name=name)
    shown = {item["id"] for item in items}
    retractions = [e.retraction for e in entries if e.retraction is not None and e.event.id in shown]
    items += [{**r.envelope, "multilateral": False, "retracted": False} for r in retractions]
    # The envelope's fields in the order the SPEC gives them (stored envelopes sort their keys).
    ordered = [{**{k: item[k] for k in ENVELOPE_ORDER if k in item}, **item} for item in items]
    return sorted(ordered, key=lambda item: item["position"])


# Cells a spreadsheet would read as a formula: a leading quote makes them text.
_FORMULA = re.compile(r"[=+\-@\t\r]")


def cell(value: Any) -> str:
    """A CSV cell: text as is (dates as entered), numbers as digits, nested values as JSON text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return f"'{value}" if _FORMULA.match(value) else value
    return orjson.dumps(value).decode()


def csv_text(kind: str, rows: list[dict[str, Any]]) -> str:
    """One table: a header of every key of its rows in the order they first appear, a row each."""
    columns = list(dict.fromkeys(key for row in rows for key in row)) or EMPTY_COLUMNS[kind]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([cell(row.get(column)) for column in columns] for row in rows)
    return out.getvalue()


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
    entries: list[folds.Entry],
    as_of: Edtf,
    reporting_org: str,
    org_type: str,
    org_name: str,
    name: folds.Namer,
) -> bytes:
    """The ledger's projects as of a day as an `iati-activities` document (IATI 2.03)."""
    folded = folds.fold(entries, as_of.day)
    views = {view["project"]: view for view in folds.things_view(folded, as_of.day)["projects"]}
    launches = {
        entry.event.data.project: entry.event
        for entry in folds.counted(entries, as_of.day)
        if isinstance(entry.event.data, ProjectLaunched)
    }
    grants: dict[str, list[tuple[Recorded, dict[str, Any]]]] = {}
    for recorded, grant in funding(entries, as_of.day):
        grants.setdefault(grant["project"], []).append((recorded, grant))
    if not views:
        raise NotFound(f"no projects as of {as_of.text}: an IATI file holds at least one activity")
    root = ET.Element("iati-activities", {"version": IATI_VERSION})
    for project, view in views.items():
        activity = ET.SubElement(root, "iati-activity", {XML_LANG: "en"})
        _text(activity, "iati-identifier", f"{reporting_org}-{project}")
        org = ET.SubElement(activity, "reporting-org", {"ref": reporting_org, "type": org_type})
        _narrative(org, org_name)
        _activity(activity, view, launches[project], grants.get(project, []), as_of.day, name)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


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

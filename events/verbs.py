"""What the command line's words mean in events: each verb's event type, its options and the event
they make; the days a query's dates stand for; the names of event types."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from msgspec import Struct
from msgspec.structs import FieldInfo, fields

from .catalog import EVENT_TYPES, IN_FORCE_ON_SIGNING, STATEMENTS, Funding, Participant, Person, Renewal
from .dates import DateError, Duration, Edtf, parse_duration, today
from .fields import Names, Yes

# verb: (event type, the field given as the argument, help)
VERBS: dict[str, tuple[str, str, str]] = {
    "sign": ("InstrumentSigned", "instrument", "Record an instrument (MOU, agreement, ...) signed."),
    "enter-into-force": (
        "InstrumentEnteredIntoForce",
        "instrument",
        "Record an instrument entering into force.",
    ),
    "extend": ("InstrumentExtended", "instrument", "Record an instrument extended to a new expiry."),
    "amend": ("InstrumentAmended", "instrument", "Record an amendment of an instrument."),
    "terminate": (
        "InstrumentTerminated",
        "instrument",
        "Record an instrument terminated (for everyone; a party leaving it withdraws).",
    ),
    "join": (
        "PartyJoined",
        "party",
        "Record a party joining an instrument, series or project: its signature, ratification, "
        "acceptance, approval, accession or membership (a signatory's ratification binds it).",
    ),
    "withdraw": (
        "PartyWithdrew",
        "party",
        "Record a party withdrawing from an instrument, series or project, given notice on --on "
        "and taking effect on --effective-on; the others carry on.",
    ),
    "establish-series": ("SeriesEstablished", "series", "Record a series of meetings established."),
    "suspend-series": ("SeriesSuspended", "series", "Record a series of meetings suspended."),
    "resume-series": ("SeriesResumed", "series", "Record a suspended series of meetings resumed."),
    "schedule": ("MeetingScheduled", "meeting", "Record a meeting announced (or rescheduled)."),
    "postpone": (
        "MeetingPostponed",
        "meeting",
        "Record a meeting postponed: to its new date (--planned-for) or, not yet known, without one.",
    ),
    "cancel": (
        "MeetingCancelled",
        "meeting",
        "Record a meeting cancelled: it will not take place as that meeting.",
    ),
    "meet": ("MeetingHeld", "meeting", "Record a meeting held."),
    "launch": ("ProjectLaunched", "project", "Record a joint project launched."),
    "fund": ("ProjectFunded", "project", "Record funding given to a project."),
    "rescope": ("ProjectScopeChanged", "project", "Record a project's scope broadened or changed."),
    "extend-project": ("ProjectExtended", "project", "Record a project extended to a new planned end."),
    "complete": ("ProjectCompleted", "project", "Record a project completed."),
    "terminate-project": ("ProjectTerminated", "project", "Record a project ended early."),
    "retract": ("EventRetracted", "event", "Retract an event recorded by mistake (by position or id)."),
}
# The verbs of the `party` group.
PARTY_VERBS: dict[str, tuple[str, str, str]] = {
    "add": ("PartyRegistered", "party", "Register a party that is not a state."),
    "rename": (
        "PartyRenamed",
        "party",
        "Record a party's new name (the id stays; the old name holds before).",
    ),
    "succeed": (
        "PartySucceeded",
        "party",
        "Record a party succeeded by others (a merger or reorganisation): they take over its relationships.",
    ),
}
EXAMPLES = {
    "sign": "coopledger sign nies-nier-mou-2024 --kind mou --title 'MOU on waste recycling' "
    "--party NIES --party NIER --on 2024-03-19 --expires-on 2029-03-31 --renewal P5Y,P6M",
    "enter-into-force": "coopledger enter-into-force kor-usa-agreement --on 2012-03-15",
    "extend": "coopledger extend nies-nier-mou-2024 --expires-on 2034-03-31 --on 2029-05",
    "amend": "coopledger amend nies-nier-mou-2024 --summary 'Adds plastics' --on 2025-02",
    "terminate": "coopledger terminate nies-nier-mou-2024 --reason 'Notice given' --on 2030-01 "
    "--effective-on 2030-07",
    "join": "coopledger join VNM --instrument minamata-convention --action ratification --on 2017-06-23 "
    "--effective-on 2017-09-21",
    "withdraw": "coopledger withdraw USA --instrument paris-agreement --on 2019-11-04 "
    "--effective-on 2020-11-04 --reason 'Notice under Article 28'",
    "establish-series": "coopledger establish-series rok-china-jcec --title 'ROK-China Joint Committee' "
    "--party KOR --party CHN --on 199X",
    "suspend-series": "coopledger suspend-series rok-china-jcec --reason 'Paused' --on 2020-03",
    "resume-series": "coopledger resume-series rok-china-jcec --on 2022-11",
    "postpone": "coopledger postpone rok-china-jcec-24 --planned-for 2020-41 --on 2019-11-20",
    "cancel": "coopledger cancel tpm-joint-workshop-2015 --reason 'No budget' --on 2015-03",
    "schedule": "coopledger schedule rok-china-jcec-24 --party KOR --party CHN --planned-for 2019-41 "
    "--series rok-china-jcec --number 24 --host CHN --on 2019-01-23",
    "meet": "coopledger meet rok-china-jcec-23 --party KOR --party CHN --series rok-china-jcec --number 23 "
    "--venue 'Lotte Hotel, Seoul' --head 'Kwon Sei-joong|Director-General|KOR' --on 2019-01-23",
    "launch": "coopledger launch clean-sky-project --title 'Clean Sky Project' --party KOR --party CHN "
    "--participant NIER:implementing --funding '600000 USD' --planned-start 2017-06 --on 2017-05",
    "fund": "coopledger fund korea-asean-forest-restoration --amount 300000 --currency USD "
    "--kind disbursement --on 2012-07/2013-06",
    "rescope": "coopledger rescope clean-sky-project --summary 'Adds fine dust trajectories' --on 2019-01-23",
    "extend-project": "coopledger extend-project clean-sky-project --planned-end 2025 --on 2022",
    "complete": "coopledger complete clean-sky-project --summary 'Final report published' --on 2025-06",
    "terminate-project": "coopledger terminate-project clean-sky-project --reason 'Funding ended' --on 2021",
    "retract": "coopledger retract 12 --reason 'Recorded twice'",
    "party rename": "coopledger party rename MEP --name 'Ministry of Ecology and Environment' "
    "--name-in 'zh=生态环境部' --alias MEE --on 2018-03",
    "party succeed": "coopledger party succeed KOEM --successor KECO --on 2020-04",
    "party add": "coopledger party add NIER --name 'National Institute of Environmental Research' "
    "--kind agency --country KOR --on 2024-03-29",
}
# How a list field is written as a repeated option, and what each field means.
SINGULAR = {
    "parties": "party",
    "aliases": "alias",
    "areas": "area",
    "topics": "topic",
    "outcomes": "outcome",
    "signatories": "signatory",
    "heads_of_delegation": "head",
    "funding": "funding",
    "chairs": "chair",
    "observers": "observer",
    "names": "name_in",
    "titles": "title_in",
    "successors": "successor",
    "participants": "participant",
}
FIELD_HELP = {
    "kind": "What it is",
    "title": "Its title",
    "parties": "A party",
    "signatories": "A signatory",
    "in_force_from": "In force from (EDTF)",
    "expires_on": "Expires on (EDTF)",
    "extension_terms": "How it may be extended",
    "areas": "An area of cooperation",
    "place": "Where",
    "under": "The instrument it comes under",
    "basis": "On what basis",
    "summary": "What changed",
    "reason": "Why",
    "cadence": "How often (e.g. annual)",
    "hosts": "Who hosts (e.g. alternating)",
    "planned_for": "When it is planned (EDTF)",
    "series": "The series it belongs to",
    "number": "Its number in the series",
    "venue": "Where it is held",
    "host": "The hosting party",
    "heads_of_delegation": "A head of delegation",
    "topics": "A topic discussed",
    "outcomes": "An outcome",
    "planned_end": "Planned end (EDTF)",
    "funding": "A grant",
    "amount": "The amount, a decimal",
    "currency": "ISO 4217 code, e.g. USD",
    "source": "Who pays",
    "name": "Its full name",
    "country": "The state it belongs to",
    "aliases": "Another id for it",
    "format": "How it met",
    "chairs": "A chair",
    "observers": "An observing party",
    "successors": "A party that succeeds it",
    "names": "Its name in another language, written TAG=NAME (e.g. ko=환경부)",
    "titles": "Its title in another language, written TAG=TITLE (e.g. ko=…)",
    "renewal": "It renews itself for TERM at each expiry unless notice is given NOTICE before, "
    "written TERM[,NOTICE] in ISO 8601 (e.g. P5Y,P6M)",
    "supersedes": "The instrument it replaces (superseded once this one takes effect)",
    "until_terminated": "It continues in force until terminated (after --expires-on, if given)",
    "effective_on": "When it takes effect, if not on the day it occurred (EDTF)",
    "instrument": "The instrument",
    "project": "The project",
    "action": "How the party joins (signature binds an agreement, treaty or protocol only once ratified)",
    "planned_start": "When it is to start (EDTF)",
    "participants": "A participant and its IATI role, written PARTY:ROLE (e.g. KOICA:funding)",
}
# The source's fields, in the order the options are listed.
SOURCE = ("title", "url", "publisher", "published_on", "page")


class Option(Struct, frozen=True):
    """One option of a verb: the keyword it fills and how it is written.

    `kind` is how the value is read: str, int, Edtf (a date, checked when the event is),
    Person, Funding, Renewal, Participant, Names, Yes (a flag), or the tuple of words a field allows.
    """

    flag: str
    name: str
    help: str
    kind: Any = str
    many: bool = False
    required: bool = False


def options(type_: str, subject: str) -> list[Option]:
    """Every option of the verb that records type_, in the order --help lists them."""
    envelope = [
        Option(
            "--on",
            "on",
            "When it happened (EDTF: 2024-03-19, 2017-05, 2019-41, 2012~).",
            Edtf,
            required=type_ != "EventRetracted",  # as the envelope requires occurred_on
        ),
        Option("--note", "note", "A note kept with the event."),
        Option("--key", "key", "An idempotency key: recording it again changes nothing."),
    ]
    source = [
        Option(
            f"--source-{name.replace('_', '-')}", f"source_{name}", f"The source's {name.replace('_', ' ')}."
        )
        for name in SOURCE
    ]
    cls = EVENT_TYPES[type_]
    hints = get_type_hints(cls)
    data = [_field(field, hints[field.name]) for field in fields(cls) if field.name != subject]
    return envelope + source + data


def _field(field: FieldInfo, hint: Any) -> Option:
    """The option for one field of an event: a list field is a repeated option."""
    name = field.name
    many = get_origin(hint) is tuple
    if many:
        inner = get_args(hint)[0]
    elif get_origin(hint) in (Union, UnionType):  # an optional field: X | None
        inner = next(arg for arg in get_args(hint) if arg is not type(None))
    else:
        inner = hint
    kind = get_args(inner) if get_origin(inner) is Literal else inner
    explained = FIELD_HELP.get(name, name.replace("_", " ").capitalize())
    return Option(
        "--" + SINGULAR.get(name, name).replace("_", "-"),
        name,
        f"{explained}{' (repeat the option for each)' if many else ''}.",
        kind
        if isinstance(kind, tuple) or kind in (int, Edtf, Person, Funding, Names, Renewal, Participant, Yes)
        else str,
        many or inner is Names,
        field.required,
    )


def event_value(type_: str, subject: str, given: dict[str, Any]) -> dict[str, Any]:
    """The event, as `append` reads it, that a verb's options describe; options not given are left out."""
    given = dict(given)
    source = {name: given.pop(f"source_{name}") for name in SOURCE}
    envelope = {"occurred_on": given.pop("on"), "note": given.pop("note"), "key": given.pop("key")}
    data = {subject: given.pop(subject), **given}
    value: dict[str, Any] = {
        "type": type_,
        "data": {k: _json(k, v) for k, v in data.items() if v is not None and v is not False and v != ()},
    }
    value.update((name, field) for name, field in envelope.items() if field is not None)
    source = {name: field for name, field in source.items() if field is not None}
    if source:
        value["source"] = source
    return value


def _json(name: str, value: Any) -> Any:
    """An option's value as the event holds it: repeated options a list, names in languages an object."""
    if name in ("names", "titles"):
        return dict(value)
    return list(value) if isinstance(value, tuple) else value


def parse_name_in(text: str) -> tuple[str, str]:
    """A name in another language written TAG=NAME, e.g. 'ko=환경부'."""
    tag, equals, name = text.partition("=")
    if not equals or not tag.strip() or not name.strip():
        raise ValueError(f"{text!r}: write TAG=NAME, e.g. 'ko=환경부'")
    return tag.strip(), name.strip()


def parse_renewal(text: str) -> dict[str, str]:
    """A renewal written TERM[,NOTICE], e.g. 'P5Y,P6M' (checked with the event)."""
    term, _, notice = (part.strip() for part in text.partition(","))
    if not term:
        raise ValueError(f"{text!r}: write TERM[,NOTICE], e.g. 'P5Y,P6M'")
    return {"term": term} | ({"notice": notice} if notice else {})


def parse_participant(text: str) -> dict[str, str]:
    """A participant written PARTY:ROLE, e.g. 'KOICA:funding' (checked with the event)."""
    party, colon, role = (part.strip() for part in text.rpartition(":"))
    if not colon or not party or not role:
        raise ValueError(f"{text!r}: write PARTY:ROLE, e.g. 'KOICA:funding'")
    return {"party": party, "role": role}


def warning(event: dict[str, Any]) -> str | None:
    """What a recorded event leaves open that the person recording it should know."""
    data = event["data"]
    kind = data.get("kind")
    if (
        event["type"] == "InstrumentSigned"
        and kind not in IN_FORCE_ON_SIGNING | STATEMENTS
        and not data.get("in_force_from")
    ):
        return (
            f"note: {data['instrument']} ({kind}) stays signed, not in force, until its entry into force "
            f"is recorded (coopledger enter-into-force {data['instrument']} --on DATE)"
        )
    return None


def parse_person(text: str) -> dict[str, str]:
    """A signatory or head of delegation written NAME|TITLE|PARTY (title and party may be left out)."""
    parts = text.split("|")
    if not parts[0].strip() or len(parts) > 3:
        raise ValueError(f"{text!r}: write NAME|TITLE|PARTY, e.g. 'Dr. Osako|Director|NIES'")
    return {key: field for key, field in zip(("name", "title", "party"), parts, strict=False) if field}


def parse_funding(text: str) -> dict[str, str]:
    """A grant written AMOUNT CURRENCY [SOURCE], e.g. '300000 USD Korea-ASEAN Special Cooperation Fund'."""
    parts = text.split(maxsplit=2)
    if len(parts) < 2:
        raise ValueError(f"{text!r}: write AMOUNT CURRENCY [SOURCE], e.g. '300000 USD'")
    grant = {"amount": parts[0], "currency": parts[1]}
    return grant | ({"source": parts[2]} if len(parts) == 3 else {})


# How the options of structured fields are written, and read.
WRITTEN: dict[Any, tuple[str, Callable[[str], Any]]] = {
    Person: ("NAME|TITLE|PARTY", parse_person),
    Funding: ("AMOUNT CURRENCY [SOURCE]", parse_funding),
    Names: ("TAG=NAME", parse_name_in),
    Renewal: ("TERM[,NOTICE]", parse_renewal),
    Participant: ("PARTY:ROLE", parse_participant),
}


def as_of_day(as_of: Edtf | None) -> date:
    """The day a count "as of" a date runs to: the day it had certainly happened; today if none."""
    return (as_of or today()).day


def period(start: Edtf | None, end: Edtf | None) -> tuple[date | None, date | None]:
    """The days --from start --to end cover: from start's earliest day to the day end had certainly come."""
    since, until = (start.earliest if start else None), (end.day if end else None)
    if since and until and since > until:
        raise DateError(f"--from {start} is after --to {end}")
    return since, until


def parse_within(text: str) -> Duration:
    """--within: days, weeks, months or years (180d, 26w, 6m, 1y), or an ISO 8601 duration (P6M)."""
    short = re.fullmatch(r"(\d+)([dwmy])", text.strip().lower())
    try:
        return parse_duration(f"P{short[1]}{short[2].upper()}" if short else text.strip().upper())
    except DateError as error:
        raise DateError(f"{text!r}: write days, weeks, months or years, e.g. 180d, 26w, 6m or 1y") from error


def unknown_type(name: str) -> str | None:
    """Why name is not an event type, with the closest one; None when it is one."""
    if name in EVENT_TYPES:
        return None
    from difflib import get_close_matches

    close = get_close_matches(name, EVENT_TYPES, n=1, cutoff=0.5)
    hint = f"did you mean {close[0]}?" if close else f"one of {', '.join(EVENT_TYPES)}"
    return f"not an event type ({hint})"

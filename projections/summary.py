"""One-line summaries of stored events, for the audit log and history."""

from __future__ import annotations

from typing import Any


def ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def _meeting(data: dict[str, Any]) -> str:
    text = data["meeting"]
    if data.get("number"):
        text += f" ({ordinal(data['number'])} of {data['series']})"
    elif data.get("series"):
        text += f" (of {data['series']})"
    return text


def _with(text: str, data: dict[str, Any], *details: tuple[str, str]) -> str:
    extra = [f"{label} {data[name]}".strip() for name, label in details if data.get(name)]
    return ", ".join([text, *extra])


def _thing(data: dict[str, Any]) -> str:
    """The instrument, series or project a joining or withdrawal names."""
    return next(f"{kind} {data[kind]}" for kind in ("instrument", "series", "project") if data.get(kind))


def summary(envelope: dict[str, Any]) -> str:
    data = envelope["data"]
    parties = ", ".join(data.get("parties", ()))
    match envelope["type"]:
        case "PartyRegistered":
            country = f", {data['country']}" if data.get("country") else ""
            return f"{data['party']}: {data['name']} ({data['kind']}{country})"
        case "PartySucceeded":
            return f"{data['party']} succeeded by {', '.join(data['successors'])}"
        case "PartyRenamed":
            return f"{data['party']} renamed: {data['name']}"
        case "InstrumentSigned":
            renewal = data.get("renewal")
            return _with(
                f"{data['instrument']} ({data['kind']}) {parties}: {data['title']}",
                data | ({"renews": renewal["term"]} if renewal else {}),
                ("expires_on", "expires"),
                ("renews", "renews itself every"),
                ("supersedes", "supersedes"),
            )
        case "InstrumentEnteredIntoForce":
            return f"{data['instrument']} entered into force" + (f" for {parties}" if parties else "")
        case "InstrumentExtended":
            until = " until terminated" if data.get("until_terminated") else ""
            fixed = f" to {data['expires_on']}" if data.get("expires_on") else ""
            return f"{data['instrument']} extended{fixed}{', then' if fixed and until else ''}{until}"
        case "InstrumentAmended":
            return f"{data['instrument']} amended: {data['summary']}"
        case "InstrumentTerminated":
            return _with(
                f"{data['instrument']} terminated", data, ("effective_on", "effective"), ("reason", "reason:")
            )
        case "PartyJoined":
            return _with(
                f"{data['party']} joined {_thing(data)} by {data['action']}",
                data,
                ("effective_on", "effective"),
            )
        case "PartyWithdrew":
            return _with(
                f"{data['party']} withdrew from {_thing(data)}",
                data,
                ("effective_on", "effective"),
                ("reason", "reason:"),
            )
        case "SeriesEstablished":
            return f"{data['series']} {parties}: {data['title']}"
        case "SeriesSuspended":
            return _with(f"{data['series']} suspended", data, ("reason", "reason:"))
        case "SeriesResumed":
            return _with(f"{data['series']} resumed", data, ("reason", "reason:"))
        case "MeetingPostponed":
            return _with(
                f"{data['meeting']} postponed"
                + (f" to {data['planned_for']}" if data.get("planned_for") else ", no new date"),
                data,
                ("reason", "reason:"),
            )
        case "MeetingCancelled":
            return _with(f"{data['meeting']} cancelled", data, ("reason", "reason:"))
        case "MeetingScheduled":
            return _with(
                f"{_meeting(data)} {parties} planned for {data['planned_for']}",
                data,
                ("venue", "at"),
                ("host", "host"),
            )
        case "MeetingHeld":
            return _with(f"{_meeting(data)} {parties}", data, ("title", ""), ("venue", "at"))
        case "ProjectLaunched":
            return _with(
                f"{data['project']} {parties}: {data['title']}",
                data,
                ("planned_start", "from"),
                ("planned_end", "until"),
            )
        case "ProjectScopeChanged":
            return f"{data['project']} scope: {data['summary']}"
        case "ProjectExtended":
            return f"{data['project']} extended to {data['planned_end']}"
        case "ProjectFunded":
            verb = {"disbursement": "disbursed", "expenditure": "spent"}.get(data.get("kind", ""), "funded")
            return _with(
                f"{data['project']} {verb} {data['amount']} {data['currency']}", data, ("source", "by")
            )
        case "ProjectCompleted":
            return _with(f"{data['project']} completed", data, ("summary", ""))
        case "ProjectTerminated":
            return _with(f"{data['project']} terminated", data, ("reason", "reason:"))
        case "EventRetracted":
            return f"retracts {data['event']}: {data['reason']}"
    return envelope["type"]

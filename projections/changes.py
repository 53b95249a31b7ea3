"""What changed between two answers to the same `state` question: things added, removed, and each
top-level field changed, compared whole (SPEC section 6, `changes`)."""

from __future__ import annotations

from typing import Any

Thing = tuple[str, str | None]  # (kind, id); the meetings summary has no id


def things(state: dict[str, Any]) -> dict[Thing, dict[str, Any]]:
    """The things of a state answer by kind and id: instruments, projects, series, the meetings
    summary (without its series, which are things of their own) and each party's name."""
    meetings = state["meetings"]
    found: dict[Thing, dict[str, Any]] = {
        **{("instrument", i["instrument"]): i for i in state["instruments"]},
        **{("project", p["project"]): p for p in state["projects"]},
        **{("series", s["series"]): s for s in meetings["series"]},
        ("meeting", None): {name: value for name, value in meetings.items() if name != "series"},
    }
    for party, name in state.get("party_names", {}).items():
        found[("party", party)] = {"name": name}
    return found


def difference(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Things added and removed between two answers, and each field of a thing that changed.

    A party named in only one of the answers is neither added nor removed: it is named because
    of a thing, and the thing is.
    """
    old, new = things(before), things(after)
    return {
        "added": [
            {"kind": kind, "id": id_} for kind, id_ in new if (kind, id_) not in old and kind != "party"
        ],
        "removed": [
            {"kind": kind, "id": id_} for kind, id_ in old if (kind, id_) not in new and kind != "party"
        ],
        "changed": [
            {
                "kind": key[0],
                "id": key[1],
                "field": field,
                "before": old[key].get(field),
                "after": now.get(field),
            }
            for key, now in new.items()
            if key in old
            for field in dict.fromkeys([*now, *old[key]])
            if old[key].get(field) != now.get(field)
        ],
    }

"""Every event type of the catalog is handled everywhere an event's meaning is written: its fold,
its rule, its verb, its one-line summary and the README. A type cannot be half-added."""

from __future__ import annotations

import inspect

import pytest
from coopledger.events import EVENT_TYPES, Event
from coopledger.events.verbs import PARTY_VERBS, VERBS
from coopledger.ledger import rules
from coopledger.projections import summary
from coopledger.projections.things import FOLDS
from support import ROOT

TYPES = sorted(EVENT_TYPES)


@pytest.mark.parametrize("type_", TYPES)
def test_each_type_shapes_a_thing_through_its_kind_fold(type_: str) -> None:
    cls = EVENT_TYPES[type_]
    if type_ == "EventRetracted":  # takes an event back out: the folds run again without it
        assert cls.subject is None
        return
    # A joining or withdrawal names an instrument, a series or a project: each of their folds.
    kinds = [cls.subject] if isinstance(cls.subject, str) else ["instrument", "series", "project"]
    names = [base.__name__ for base in cls.__mro__ if issubclass(base, Event) and base is not Event]
    for kind in kinds:
        assert kind in FOLDS, f"{type_} names a {kind}, which no fold keeps"
        source = inspect.getsource(FOLDS[kind][1])
        assert any(name in source for name in names), f"the {kind} fold does not handle {type_}"


@pytest.mark.parametrize("type_", TYPES)
def test_each_type_has_its_rule(type_: str) -> None:
    if type_ == "EventRetracted":  # checked by the writer, against the event it retracts
        return
    assert rules._check.dispatch(EVENT_TYPES[type_]) is not rules._check.dispatch(Event), type_


@pytest.mark.parametrize("type_", TYPES)
def test_each_type_has_a_verb_a_summary_and_a_place_in_the_readme(type_: str) -> None:
    assert type_ in {verb[0] for verb in (*VERBS.values(), *PARTY_VERBS.values())}, f"no verb records {type_}"
    assert f'case "{type_}"' in inspect.getsource(summary.summary), f"no one-line summary of {type_}"
    readme = (ROOT / "README.md").read_text()
    assert f"`{type_}`" in readme.split("### Events", 1)[1], f"the README's event catalog lacks {type_}"

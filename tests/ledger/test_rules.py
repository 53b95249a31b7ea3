"""The append-time rules, checked against entities folded in memory: no database."""

from __future__ import annotations

from typing import Any

import pytest
from coopledger.events import FieldError, Recorded, parse_edtf, parse_event
from coopledger.ledger import rules
from coopledger.ledger.errors import Rejected
from coopledger.projections.things import Key, evolve, subjects
from support import AGREEMENT, COMPLETED, HELD_24, MOU, NIER, PROJECT, SERIES, event

SCHEDULED_20 = event(
    "MeetingScheduled",
    "2019-01-10",
    meeting="jc-20",
    parties=["KOR", "JPN"],
    planned_for="2019-05",
    series="jc",
    number=20,
)


class Entities(dict[Key, Any]):
    """Entities as the ledger would hold them after recording some events."""

    def record(self, value: dict[str, Any]) -> None:
        draft = parse_event(
            value, rules.party_resolver(self.get, lambda: [k[1] for k in self if k[0] == "party"])
        )
        rules.check(draft, self.get)
        envelope = {"id": f"id-{len(self)}", "position": len(self) + 1, **draft.content}
        recorded = Recorded(len(self) + 1, draft.type, draft.occurred_on, draft.data, envelope)
        for key in subjects(draft.data):
            self[key] = evolve(key, self.get(key), recorded)


@pytest.mark.parametrize(
    ("before", "value", "message"),
    [
        (
            [],
            event("InstrumentSigned", "2024", instrument="x", kind="mou", title="t", parties=["KOE", "JPN"]),
            r"data.parties\[0\]: unknown party 'KOE' \(did you mean KOR",
        ),
        (
            [],
            event("InstrumentSigned", "2024", instrument="x", kind="mou", title="t", parties=["KOR", "ROK"]),
            r"data.parties\[1\]: names KOR twice",
        ),
        (
            [],
            event("InstrumentSigned", "2024", instrument="x", kind="mou", title="t", parties=["KOR"]),
            r"data.parties: needs two or more parties",
        ),
        ([MOU and NIER, MOU], MOU, r"data.instrument: instrument 'mou' is already recorded \(position \d+\)"),
        (
            [NIER],
            event(
                "InstrumentSigned",
                "2024-03-19",
                instrument="y",
                kind="mou",
                title="t",
                parties=["NIER", "JPN"],
                expires_on="2024-03-01",
            ),
            r"data.expires_on: 2024-03-01 is not after the signing day \(2024-03-19\)",
        ),
        (
            [NIER, MOU],
            event("InstrumentExtended", "2025", instrument="mou", expires_on="2028"),
            r"data.expires_on: 2028 is not after the current expiry \(2029-03-31\)",
        ),
        (
            [NIER, MOU],
            event("InstrumentExtended", "2025", instrument="nope", expires_on="2040"),
            r"data.instrument: no instrument 'nope' in the ledger",
        ),
        (
            [NIER, MOU],
            event("InstrumentExtended", "2020", instrument="mou", expires_on="2040"),
            r"occurred_on: 2020 is before its signing \(2024-03-19\)",
        ),
        (
            [NIER, MOU, event("InstrumentTerminated", "2026", instrument="mou")],
            event("InstrumentExtended", "2026-10", instrument="mou", expires_on="2040"),
            r"data.instrument: instrument 'mou' has been terminated",
        ),
        (
            [NIER, {**MOU, "data": {**MOU["data"], "in_force_from": "2024-04-01"}}],
            event("InstrumentEnteredIntoForce", "2024-04", instrument="mou"),
            r"data.instrument: instrument 'mou' is already in force from 2024-04-01",
        ),
        (
            [AGREEMENT, event("InstrumentEnteredIntoForce", "2012-03-15", instrument="kor-usa")],
            event("InstrumentEnteredIntoForce", "2012-04", instrument="kor-usa"),
            r"is already in force",
        ),
        (
            [SERIES, HELD_24],
            event("MeetingHeld", "2020", meeting="other", parties=["KOR", "JPN"], series="jc", number=24),
            r"data.number: meeting 24 of series 'jc' is already recorded as 'jc-24'",
        ),
        ([SERIES, HELD_24], HELD_24, r"data.meeting: meeting 'jc-24' is already held"),
        (
            [],
            event("MeetingHeld", "2020", meeting="m", parties=["KOR", "JPN"], number=3),
            r"data.number: a meeting number needs a series",
        ),
        (
            [],
            event(
                "MeetingScheduled",
                "2020",
                meeting="m",
                parties=["KOR", "JPN"],
                planned_for="2021",
                series="none",
            ),
            r"data.series: no series 'none' in the ledger",
        ),
        (
            [SERIES],
            event("MeetingHeld", "1990", meeting="m", parties=["KOR", "JPN"], series="jc"),
            r"occurred_on: 1990 is before the series was established \(1993-01-01\)",
        ),
        (
            [PROJECT, COMPLETED],
            event("ProjectExtended", "2021", project="clean-sky", planned_end="2025"),
            r"data.project: project 'clean-sky' has ended",
        ),
        (
            [PROJECT],
            event("ProjectExtended", "2018", project="clean-sky", planned_end="2019"),
            r"data.planned_end: 2019 is not after the current planned end \(2020-12-31\)",
        ),
        (
            [],
            event("ProjectFunded", "2018", project="clean-sky", amount="5", currency="USD"),
            r"data.project: no project 'clean-sky' in the ledger",
        ),
        (
            [NIER],
            event("PartyRegistered", "2024", party="nier-kr", name="x", kind="agency"),
            r"data.party: 'NIER-KR' is already a registered party id or alias",
        ),
        (
            [],
            event("PartyRegistered", "2024", party="ROK", name="x", kind="agency"),
            r"data.party: 'ROK' already names the state KOR; states need no registration",
        ),
        (
            [],
            event("PartyRegistered", "2024", party="X1", name="x", kind="agency", country="ZZ"),
            r"data.country: 'ZZ' is not an ISO 3166-1 country code",
        ),
        # Facts cannot lie in the future: an announcement is dated when it was made.
        (
            [SERIES],
            event("MeetingHeld", "2999-01-02", meeting="jc-99", parties=["KOR", "JPN"], series="jc"),
            r"occurred_on: 2999-01-02 has not happened yet",
        ),
        # A meeting held fulfils its announcement: series and number must agree.
        (
            [SERIES, SCHEDULED_20],
            event(
                "MeetingHeld", "2019-05-02", meeting="jc-20", parties=["KOR", "JPN"], series="jc", number=21
            ),
            r"data.number: meeting 'jc-20' was scheduled with number 20 \(position \d+\), not 21",
        ),
        (
            [SERIES, SCHEDULED_20, event("MeetingCancelled", "2019-04", meeting="jc-20")],
            event(
                "MeetingHeld", "2019-05-02", meeting="jc-20", parties=["KOR", "JPN"], series="jc", number=20
            ),
            r"data.meeting: meeting 'jc-20' was cancelled on 2019-04; record a meeting that takes its place under a new id",
        ),
        (
            [SERIES, SCHEDULED_20, event("MeetingCancelled", "2019-04", meeting="jc-20")],
            event(
                "MeetingScheduled",
                "2019-04-10",
                meeting="jc-20",
                parties=["KOR", "JPN"],
                planned_for="2019-09",
            ),
            r"data.meeting: meeting 'jc-20' was cancelled on 2019-04",
        ),
        (
            [],
            event("MeetingPostponed", "2019-04", meeting="jc-20"),
            r"data.meeting: no meeting 'jc-20' has been scheduled",
        ),
        (
            [SERIES, SCHEDULED_20],
            event("MeetingPostponed", "2018-12", meeting="jc-20"),
            r"occurred_on: 2018-12 is before it was announced \(2019-01-10\)",
        ),
        (
            [
                SERIES,
                SCHEDULED_20,
                event("MeetingHeld", "2019-05-02", meeting="jc-20", parties=["KOR", "JPN"]),
            ],
            event("MeetingCancelled", "2019-06", meeting="jc-20"),
            r"data.meeting: meeting 'jc-20' is already held \(position \d+\)",
        ),
        (
            [SERIES, SCHEDULED_20, event("MeetingCancelled", "2019-04", meeting="jc-20")],
            event("MeetingPostponed", "2019-04-20", meeting="jc-20", planned_for="2019-10"),
            r"data.meeting: meeting 'jc-20' was cancelled on 2019-04",
        ),
        (
            [],
            event("SeriesSuspended", "2019", series="jc"),
            r"data.series: no series 'jc' in the ledger",
        ),
        (
            [SERIES, event("SeriesSuspended", "2015", series="jc")],
            event("SeriesSuspended", "2016", series="jc"),
            r"data.series: series 'jc' is suspended since 2015",
        ),
        (
            [SERIES],
            event("SeriesResumed", "2016", series="jc"),
            r"data.series: series 'jc' is not suspended",
        ),
    ],
)
def test_a_rule_broken_is_named_by_its_field(
    before: list[dict[str, Any]], value: dict[str, Any], message: str
) -> None:
    entities = Entities()
    for earlier in before:
        entities.record(earlier)
    with pytest.raises((Rejected, FieldError), match=message):
        entities.record(value)


def test_aliases_and_alpha_2_codes_resolve_to_one_party() -> None:
    entities = Entities()
    entities.record(NIER)
    entities.record(
        event("InstrumentSigned", "2024", instrument="a", kind="mou", title="t", parties=["nier-kr", "jp"])
    )
    assert entities[("instrument", "a")].parties == ("NIER", "JPN")


def test_an_expired_instrument_extended_is_renewed_and_a_later_expiry_is_required() -> None:
    entities = Entities()
    old = event(
        "InstrumentSigned",
        "2015-03-19",
        instrument="old",
        kind="mou",
        title="t",
        parties=["KOR", "JPN"],
        expires_on="2020-03-31",
    )
    for value in (old, event("InstrumentExtended", "2021", instrument="old", expires_on="2026-03-31")):
        entities.record(value)
    assert str(entities[("instrument", "old")].expiry) == "2026-03-31"


def test_imprecise_dates_are_refused_only_when_certainly_reversed() -> None:
    entities = Entities()
    entities.record(
        event("InstrumentSigned", "2017-05", instrument="m", kind="mou", title="t", parties=["KOR", "CHN"])
    )
    # May 2017 may have been the 31st or the 1st: an amendment of 2017-05-02 is possible.
    entities.record(event("InstrumentAmended", "2017-05-02", instrument="m", summary="s"))
    with pytest.raises(Rejected, match="before its signing"):
        entities.record(event("InstrumentAmended", "2017-04-30", instrument="m", summary="s"))


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("Japan", "JPN"),
        ("Republic of Korea", "KOR"),
        ("South Korea", "KOR"),
        ("Viet Nam", "VNM"),
        ("Vietnam", "VNM"),
        ("Mongolia", "MNG"),
        ("Korea, DPR", "PRK"),
        ("united states of america", "USA"),
    ],
)
def test_a_state_can_be_written_by_name(written: str, code: str) -> None:
    entities = Entities()
    entities.record(
        event("InstrumentSigned", "2024", instrument="a", kind="mou", title="t", parties=[written, "FRA"])
    )
    assert entities[("instrument", "a")].parties == (code, "FRA")


def test_an_ambiguous_or_mistyped_name_lists_candidates() -> None:
    entities = Entities()
    with pytest.raises(
        FieldError,
        match=r"data.parties\[0\]: 'Korea' names no single party: did you mean PRK \(North Korea\) or KOR \(South Korea\)\?",
    ):
        entities.record(
            event("InstrumentSigned", "2024", instrument="a", kind="mou", title="t", parties=["Korea", "JPN"])
        )
    with pytest.raises(
        FieldError, match=r"'Mongolai' names no single party: did you mean MNG \(Mongolia\)\?"
    ):
        entities.record(
            event(
                "InstrumentSigned", "2024", instrument="a", kind="mou", title="t", parties=["Mongolai", "JPN"]
            )
        )


def test_a_state_is_never_registered_as_a_party() -> None:
    entities = Entities()
    with pytest.raises(Rejected, match=r"data.party: 'MONGOLIA' already names the state MNG"):
        entities.record(event("PartyRegistered", "2024", party="MONGOLIA", name="Mongolia", kind="other"))
    with pytest.raises(
        Rejected, match=r"data.name: 'Mongolia' is the state MNG; states need no registration"
    ):
        entities.record(event("PartyRegistered", "2024", party="MN-GOV", name="Mongolia", kind="other"))


def test_a_renamed_party_keeps_its_id_and_gains_its_new_aliases() -> None:
    entities = Entities()
    entities.record(NIER)
    with pytest.raises(Rejected, match=r"data.party: KOR is a state: its name is the one ISO 3166 gives it"):
        entities.record(event("PartyRenamed", "2025", party="KOR", name="Korea"))
    with pytest.raises(
        Rejected, match=r"data.aliases\[0\]: 'NIER-KR' is already a registered party id or alias"
    ):
        entities.record(event("PartyRenamed", "2025", party="NIER", name="NIER 2", aliases=["NIER-KR"]))
    entities.record(
        event(
            "PartyRenamed",
            "2025",
            party="nier",
            name="National Institute of Environmental Research 2",
            aliases=["NIER2"],
        )
    )
    entities.record(
        event("InstrumentSigned", "2025", instrument="a", kind="mou", title="t", parties=["nier2", "JPN"])
    )
    assert entities[("instrument", "a")].parties == ("NIER", "JPN")
    assert (
        entities[("party", "NIER")].name_on(parse_edtf("2025-12-31").day)
        == "National Institute of Environmental Research 2"
    )


TREATY = event(
    "InstrumentSigned", "2013-10-10", instrument="t", kind="treaty", title="T", parties=["JPN", "KOR", "CHN"]
)
NETWORK = event("SeriesEstablished", "2000", series="net", title="Network", parties=["KOR", "JPN"])


def joined(party: str, on: str, action: str = "accession", **data: Any) -> dict[str, Any]:
    return event("PartyJoined", on, party=party, action=action, **({"instrument": "t"} | data))


def withdrew(party: str, on: str, **data: Any) -> dict[str, Any]:
    return event("PartyWithdrew", on, party=party, **({"instrument": "t"} | data))


@pytest.mark.parametrize(
    ("before", "value", "message"),
    [
        # Joining: exactly one thing, there and live, the party not in on the effective day.
        (
            [TREATY],
            event("PartyJoined", "2014", party="VNM", action="accession"),
            r"^data: give exactly one of",
        ),
        (
            [TREATY, NETWORK],
            joined("VNM", "2014", series="net"),
            r"^data: give exactly one of instrument, series or project",
        ),
        ([], joined("VNM", "2014"), r"data.instrument: no instrument 't' in the ledger"),
        (
            [TREATY],
            joined("VNM", "2013-10-09"),
            r"occurred_on: 2013-10-09 is before its signing \(2013-10-10\)",
        ),
        (
            [TREATY],
            joined("VNM", "2014", effective_on="2013-09"),
            r"data.effective_on: 2013-09 is before its signing \(2013-10-10\)",
        ),
        (
            [NETWORK],
            joined("VNM", "1999", instrument=None, series="net"),
            r"before the series was established",
        ),
        (
            [TREATY, event("InstrumentTerminated", "2020", instrument="t", effective_on="2021-01-01")],
            joined("VNM", "2021-01-01"),
            r"data.instrument: instrument 't' was terminated before 2021-01-01",
        ),
        (
            [
                event(
                    "InstrumentSigned",
                    "2010",
                    instrument="t",
                    kind="mou",
                    title="M",
                    parties=["KOR", "JPN"],
                    expires_on="2015",
                )
            ],
            joined("VNM", "2016"),
            r"data.instrument: instrument 't' was expired before 2016",
        ),
        (
            [TREATY, joined("VNM", "2015-05", effective_on="2015-08")],
            joined("VNM", "2015-09"),
            r"data.party: VNM is already a member of instrument 't' on 2015-09 \(since 2015-08 by accession, position \d+\)",
        ),
        (
            [TREATY, joined("VNM", "2015")],
            joined("VNM", "2016", action="ratification"),
            r"data.action: VNM is a member of instrument 't' on 2016 \(since 2015 by accession, position \d+, bound by its accession\), not a signatory",
        ),
        (
            [TREATY, joined("KOR", "2014", action="ratification")],
            joined("KOR", "2015", action="approval"),
            r"data.action: KOR is a member .* bound by its ratification\), not a signatory whose approval is still to come",
        ),
        (
            [TREATY, withdrew("KOR", "2015"), joined("KOR", "2018")],
            joined("KOR", "2017", action="membership"),
            r"data.effective_on: KOR joins instrument 't' on 2018 \(position \d+\); a joining on 2017 before it would leave two memberships open",
        ),
        # Withdrawing: a member with no notice given, leaving two or more.
        ([TREATY], withdrew("VNM", "2015"), r"data.party: VNM is not a member of instrument 't' on 2015"),
        (
            [TREATY, joined("VNM", "2015-06")],
            withdrew("VNM", "2015-03"),
            r"VNM is not a member of instrument 't' on 2015-03",
        ),
        (
            [TREATY, withdrew("KOR", "2015", effective_on="2016")],
            withdrew("KOR", "2015-06"),
            r"data.party: KOR has already given notice \(2015\) of its withdrawal from instrument 't', effective 2016",
        ),
        (
            [TREATY, joined("VNM", "2015-06-01")],
            withdrew("VNM", "2015-06-01"),
            r"data.effective_on: 2015-06-01 is not after its joining \(2015-06-01\)",
        ),
        (
            [TREATY, joined("KOR", "2016", action="ratification", effective_on="2016-06")],
            withdrew("KOR", "2016-01", effective_on="2016-03"),
            r"data.effective_on: 2016-03 is not after its joining \(2016-06\)",
        ),
        (
            [TREATY, withdrew("CHN", "2015")],
            withdrew("JPN", "2016"),
            r"data.party: instrument 't' would have fewer than two members from 2016-12-31; record its end instead",
        ),
        (
            [NETWORK],
            withdrew("JPN", "2016", instrument=None, series="net"),
            r"series 'net' would have fewer than two members",
        ),
        # Signing: renewal needs an expiry; the superseded instrument there, live, sharing a party.
        (
            [],
            event(
                "InstrumentSigned",
                "2020",
                instrument="m",
                kind="mou",
                title="M",
                parties=["KOR", "JPN"],
                renewal={"term": "P5Y"},
            ),
            r"data.renewal: needs expires_on",
        ),
        (
            [],
            event(
                "InstrumentSigned",
                "2020",
                instrument="m",
                kind="mou",
                title="M",
                parties=["KOR", "JPN"],
                expires_on="2025",
                renewal={"term": "5 years"},
            ),
            r"data.renewal.term: '5 years' is not an ISO 8601 duration",
        ),
        (
            [],
            event(
                "InstrumentSigned",
                "2020",
                instrument="m",
                kind="mou",
                title="M",
                parties=["KOR", "JPN"],
                supersedes="t",
            ),
            r"data.supersedes: no instrument 't' in the ledger",
        ),
        (
            [TREATY, event("InstrumentTerminated", "2015", instrument="t")],
            event(
                "InstrumentSigned",
                "2020",
                instrument="m",
                kind="mou",
                title="M",
                parties=["KOR", "JPN"],
                supersedes="t",
            ),
            r"data.supersedes: instrument 't' was terminated \(2015\)",
        ),
        # Entry into force: not of a statement, once, for members.
        (
            [
                event(
                    "InstrumentSigned",
                    "2020",
                    instrument="d",
                    kind="declaration",
                    title="D",
                    parties=["KOR", "JPN"],
                )
            ],
            event("InstrumentEnteredIntoForce", "2021", instrument="d"),
            r"a declaration: adopted when signed, never in force",
        ),
        (
            [TREATY, event("InstrumentEnteredIntoForce", "2017-08-16", instrument="t")],
            event("InstrumentEnteredIntoForce", "2018", instrument="t"),
            r"data.instrument: instrument 't' is already in force from 2017-08-16",
        ),
        (
            [TREATY],
            event("InstrumentEnteredIntoForce", "2017-08-16", instrument="t", parties=["JPN", "VNM"]),
            r"data.parties\[1\]: VNM is not a member of instrument 't' on 2017-08-16",
        ),
        (
            [TREATY],
            event("InstrumentEnteredIntoForce", "2017-08-16", instrument="t", parties=["JPN", "JPN"]),
            r"data.parties\[1\]: names JPN twice",
        ),
        # Extension: a new expiry or until terminated; terminations not before the signing.
        (
            [TREATY],
            event("InstrumentExtended", "2020", instrument="t"),
            r"data.expires_on: required: the new expiry, or until_terminated",
        ),
        (
            [TREATY],
            event("InstrumentExtended", "2020", instrument="t", until_terminated=False),
            r"data.until_terminated: expected true, or leave the field out; got false",
        ),
        (
            [TREATY],
            event("InstrumentTerminated", "2020", instrument="t", effective_on="2012"),
            r"data.effective_on: 2012 is before its signing \(2013-10-10\)",
        ),
        (
            [TREATY, event("InstrumentTerminated", "2020", instrument="t", effective_on="2021")],
            event("InstrumentTerminated", "2020-06", instrument="t"),
            r"data.instrument: instrument 't' has been terminated",
        ),
        # Projects: participants among the parties, in IATI roles; a start before the end.
        (
            [],
            event(
                "ProjectLaunched",
                "2020",
                project="p",
                title="P",
                parties=["KOR", "JPN"],
                participants=[{"party": "CHN", "role": "funding"}],
            ),
            r"data.participants\[0\].party: CHN is not one of the project's parties",
        ),
        (
            [],
            event(
                "ProjectLaunched",
                "2020",
                project="p",
                title="P",
                parties=["KOR", "JPN"],
                participants=[{"party": "KOR", "role": "donor"}],
            ),
            r"data.participants\[0\].role: 'donor' is not one of: funding, accountable, extending, implementing",
        ),
        (
            [],
            event(
                "ProjectLaunched",
                "2020",
                project="p",
                title="P",
                parties=["KOR", "JPN"],
                planned_start="2023",
                planned_end="2022",
            ),
            r"data.planned_end: 2022 is not after the planned start \(2023-12-31\)",
        ),
        (
            [PROJECT],
            event("ProjectFunded", "2018", project="clean-sky", amount="5", currency="USD", kind="grant"),
            r"data.kind: 'grant' is not one of: commitment, disbursement, expenditure",
        ),
        (
            [PROJECT, COMPLETED],
            event("PartyJoined", "2021", project="clean-sky", party="JPN", action="membership"),
            r"data.project: project 'clean-sky' was completed on 2020-06 before 2021",
        ),
    ],
)
def test_membership_and_life_cycle_rules_name_their_field(
    before: list[dict[str, Any]], value: dict[str, Any], message: str
) -> None:
    entities = Entities()
    for earlier in before:
        entities.record(earlier)
    with pytest.raises((Rejected, FieldError), match=message):
        entities.record(value)


def test_a_withdrawn_party_rejoins_and_a_signatory_ratifies_within_its_period() -> None:
    entities = Entities()
    for value in (
        TREATY,
        withdrew("KOR", "2015"),
        joined("KOR", "2016", action="signature"),
        joined("KOR", "2017", action="ratification"),
        withdrew("KOR", "2018"),
        joined("KOR", "2019", action="approval"),
    ):
        entities.record(value)
    periods = [
        (m.action, m.act, m.joined_on.text, m.withdrew_on)
        for m in entities[("instrument", "t")].members
        if m.party == "KOR"
    ]
    assert [(a, act, on, w.text if w else None) for a, act, on, w in periods] == [
        ("signature", None, "2013-10-10", "2015"),
        ("signature", "ratification", "2016", "2018"),
        ("approval", "approval", "2019", None),
    ]

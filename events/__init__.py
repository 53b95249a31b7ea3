"""The event catalog of coopledger. Stored topics name `events:<Type>`, resolved here."""

from events.catalog import (
    EVENT_TYPES,
    IN_FORCE_ON_SIGNING,
    Event,
    EventRetracted,
    Funding,
    InstrumentAmended,
    InstrumentEnteredIntoForce,
    InstrumentExtended,
    InstrumentSigned,
    InstrumentTerminated,
    MeetingHeld,
    MeetingScheduled,
    PartyRegistered,
    Person,
    ProjectCompleted,
    ProjectExtended,
    ProjectFunded,
    ProjectLaunched,
    ProjectScopeChanged,
    ProjectTerminated,
    SeriesEstablished,
)
from events.dates import DateError, Edtf, parse_edtf
from events.envelope import Draft, Recorded, decode, parse_event, parse_json
from events.fields import FieldError

__all__ = [
    "EVENT_TYPES", "IN_FORCE_ON_SIGNING", "DateError", "Draft", "Edtf", "Event", "EventRetracted",
    "FieldError", "Funding", "InstrumentAmended", "InstrumentEnteredIntoForce",
    "InstrumentExtended", "InstrumentSigned", "InstrumentTerminated", "MeetingHeld",
    "MeetingScheduled", "PartyRegistered", "Person", "ProjectCompleted", "ProjectExtended",
    "ProjectFunded", "ProjectLaunched", "ProjectScopeChanged", "ProjectTerminated",
    "Recorded", "SeriesEstablished", "decode", "parse_edtf", "parse_event", "parse_json",
]

"""The coopledger application: the only layer that knows eventsourcing and the database."""

from ledger.application import ImportReport, Ledger, Verified, known_at, utc_now
from ledger.errors import LedgerError, NotFound, VerificationFailed
from ledger.store import Location, locate
from ledger.writer import Outcome

__all__ = [
    "ImportReport",
    "Ledger",
    "LedgerError",
    "Location",
    "NotFound",
    "Outcome",
    "VerificationFailed",
    "Verified",
    "known_at",
    "locate",
    "utc_now",
]

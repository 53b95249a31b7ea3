"""Errors the ledger reports to the person at the terminal: what was wrong, and where."""

from __future__ import annotations


class LedgerError(Exception):
    """Bad input, an unknown party or a rejected event: nothing was written."""

    exit_code = 2


class Rejected(LedgerError):
    """An event that breaks a rule of the ledger; `field` names the part at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


class Stricter(Rejected):
    """A rule version 2 of the SPEC added: an event recorded before a store kept that version may
    break it (`verify` warns, naming the position)."""


class LineError(LedgerError):
    """A rejected line of an import: the message starts with `line N:`."""

    def __init__(self, line: int, message: str):
        super().__init__(f"line {line}: {message}")
        self.line = line


class StoreMissing(LedgerError):
    """A query on a ledger that has not been created."""


class Unavailable(LedgerError):
    """The database cannot be reached or opened."""


class Busy(LedgerError):
    """Another writer held the ledger for longer than we wait."""


class NotFound(LedgerError):
    """A lookup that finds nothing."""

    exit_code = 1


class VerificationFailed(LedgerError):
    """The stored events do not match their hash chain."""

    exit_code = 1

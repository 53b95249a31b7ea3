"""Errors the ledger reports to the person at the terminal: what was wrong, and where."""

from __future__ import annotations

from typing import Any


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


class RetractedKey(Rejected):
    """A key (or id) of an event that was retracted: the correction needs a key of its own."""

    def __init__(self, kind: str, value: str, position: int, retraction: dict[str, Any]):
        LedgerError.__init__(
            self,
            f"{kind} {value!r} is event #{position}, retracted on {retraction['recorded_at']} "
            f"({retraction['data']['reason']}); record the correction under a new {kind}",
        )
        self.field = kind


class LineError(LedgerError):
    """A rejected line of an import: the message starts with `line N:`."""

    def __init__(self, line: int, message: str):
        super().__init__(f"line {line}: {message}")
        self.line = line


class BadLines(LineError):
    """The rejected lines of an import, one a line (the first says `line N:`); nothing was imported."""

    def __init__(self, errors: list[LineError], stopped: bool):
        lines = [str(error) for error in errors]
        if stopped:
            lines.append(f"stopped reading at {len(errors)} bad lines; nothing was imported")
        elif len(errors) > 1:
            lines.append(f"{len(errors)} bad lines; nothing was imported")
        LedgerError.__init__(self, "\n".join(lines))
        self.line, self.errors = errors[0].line, errors


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


class Damaged(VerificationFailed):
    """The database file itself is damaged (a malformed page, text that is not UTF-8, stored JSON
    that is not JSON): a failed check, not bad usage, so that whoever runs `verify` from a script
    is told the record is not intact."""

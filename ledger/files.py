"""Files the ledger writes (backups, exports, pictures): whole or not at all, through a fresh
temporary file beside the target, never over the ledger itself or onto a device or pipe."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from .errors import LedgerError
from .store import Location

# What SQLite keeps beside a ledger file.
_COMPANIONS = ("", "-wal", "-shm", "-journal")


def ledger_files(location: Location) -> list[Path]:
    """The files a ledger lives in: none for a server."""
    if location.path is None:
        return []
    return [location.path.with_name(location.path.name + suffix) for suffix in _COMPANIONS]


def write_whole(path: Path, write: Callable[[Path], None], name: str, keep: Iterable[Path] = ()) -> None:
    """Write a file through a temporary of its own beside it, then move it into place.

    The temporary has a fresh, unpredictable name (created with O_EXCL, so never a symlink
    planted in advance); the target may not be one of the files to `keep` (the ledger's, also
    through a symlink) nor anything but a regular file. `name` starts each error message.
    """
    if path.exists() and not path.is_file():
        raise LedgerError(f"{name}: not a regular file; give the path of a file to write")
    if any(_same(path, kept) for kept in keep):
        raise LedgerError(f"{name}: that is the ledger itself; write the copy somewhere else")
    import tempfile  # here, not at the top: it costs every command, `state` included, ~10 ms

    try:
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.stem}.", suffix=f".partial{path.suffix}"
        )
        os.close(handle)
    except OSError as error:
        raise LedgerError(f"{name}: cannot write there ({error.strerror or error})") from None
    try:
        write(Path(temporary))
        with open(temporary, "rb+") as written:  # on disk before it takes the target's name
            os.fsync(written.fileno())
        os.replace(temporary, path)
    except OSError as error:
        raise LedgerError(f"{name}: cannot write there ({error.strerror or error})") from None
    finally:
        Path(temporary).unlink(missing_ok=True)


def _same(path: Path, kept: Path) -> bool:
    if os.path.realpath(path) == os.path.realpath(kept):
        return True
    try:
        return path.exists() and kept.exists() and os.path.samefile(path, kept)
    except OSError:
        return False

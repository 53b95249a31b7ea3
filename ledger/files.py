"""Files the ledger writes (backups, exports, pictures): whole or not at all, through a fresh
temporary file beside the target, never over the ledger itself or onto a device or pipe."""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from .beyond_library import busy
from .errors import Busy, LedgerError
from .store import Location, lock_timeout

# What SQLite keeps beside a ledger file.
_COMPANIONS = ("", "-wal", "-shm", "-journal")


def ledger_files(location: Location) -> list[Path]:
    """The files a ledger lives in: none for a server."""
    if location.path is None:
        return []
    return [location.path.with_name(location.path.name + suffix) for suffix in _COMPANIONS]


@contextmanager
def made_whole(path: Path) -> Iterator[Path | None]:
    """A SQLite ledger that is not there yet, made under a temporary name beside `path` and
    linked into place only when the write that makes it succeeds: a refused write, or a dry
    run, leaves no file and no directory behind. None when, once this process may make it,
    another has made it already: the write then goes to that ledger as to any other.

    Processes making the same ledger take turns (a lock file beside it, `.NAME.DIGEST.lock`, there
    only while one is made), so that all of them write into the one ledger. Linking never
    replaces a file: if another program put a file at `path` meanwhile, this write is undone
    and says so. The temporary file, its companions, and the directories made for it are
    removed whatever happens.
    """
    path = Path(os.path.realpath(path))  # a symbolic link not yet pointing at a file: its target
    made = [parent for parent in path.parents if not parent.exists()]  # the deepest first
    prefix = _prefix(path)
    lock = path.with_name(f"{prefix}.lock")
    with _locked(path, lock) as alone:
        ok = False
        try:
            if path.exists():
                ok = True
                yield None
                return
            if alone:  # a file staged for this name now was left by a maker that was killed
                left = re.compile(rf"{re.escape(prefix)}\.[0-9a-f]{{16}}\.new(-wal|-shm|-journal)?")
                for leftover in path.parent.iterdir():
                    if left.fullmatch(leftover.name):
                        leftover.unlink(missing_ok=True)
            staged = path.with_name(f"{prefix}.{os.urandom(8).hex()}.new")
            try:
                yield staged
                # Every connection to it is closed: fold the write-ahead log into the file
                # itself, which alone takes the ledger's name, in WAL mode as every ledger is
                # (its first write kept its journal in memory instead: `journal_in_memory`).
                with closing(sqlite3.connect(staged, isolation_level=None)) as connection:
                    try:
                        connection.execute("PRAGMA journal_mode=WAL")
                        in_use = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                    except sqlite3.OperationalError as error:
                        if not busy(error):
                            raise
                        in_use = True  # a connection still reading it keeps it from changing mode
                if in_use:
                    raise LedgerError(f"{path}: the new ledger is still in use; nothing was written")
                _link(staged, path)
                _synced(path.parent)  # the new name outlives a crash, as the events in it do
                ok = True
            finally:
                for companion in _COMPANIONS:
                    staged.with_name(staged.name + companion).unlink(missing_ok=True)
        finally:
            if not ok:  # while the lock is held: a maker waiting for it finds the directory gone
                lock.unlink(missing_ok=True)
                for directory in made:
                    try:
                        directory.rmdir()
                    except OSError:
                        break  # not empty: something else was put there meanwhile


@contextmanager
def _locked(path: Path, lock: Path) -> Iterator[bool]:
    """Hold the lock on making a ledger at `path` (its directory made if need be), the file
    `lock` beside it, waiting for it as a writer waits for the ledger: True. The lock file goes
    when the lock is let go. Where the system or the file system has no such locks, nothing is
    held: False."""
    try:
        import fcntl
    except ImportError:  # not a POSIX system
        _make(path.parent)
        yield False
        return
    deadline = time.monotonic() + lock_timeout()
    while True:
        _make(path.parent)
        try:
            # Read-only and as open as the umask lets SQLite make files: another user of a shared
            # directory can wait on it too (a lock needs no write access).
            handle = os.open(lock, os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW, 0o666)
        except OSError as error:
            raise LedgerError(f"{path}: cannot make a ledger there ({error.strerror or error})") from None
        try:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise Busy(f"{path} is being made by another writer; try again") from None
                    time.sleep(0.01)
                except OSError:  # a file system without locks
                    lock.unlink(missing_ok=True)
                    yield False
                    return
            try:
                current = os.path.samestat(os.fstat(handle), os.stat(lock, follow_symlinks=False))
            except FileNotFoundError:
                current = False
            if current:  # not let go and removed by the maker this one waited for
                try:
                    yield True
                finally:
                    lock.unlink(missing_ok=True)  # still held: a maker waiting on it tries again
                return
        finally:
            os.close(handle)


def _prefix(path: Path) -> str:
    """How the files of a ledger being made begin: `.NAME.` and a digest of the name, the name
    cut short so that every such file name stays within what a file system takes (255 bytes)."""
    import hashlib  # here, not at the top: only a ledger being made needs it

    name = path.name.encode()
    digest = hashlib.blake2b(name, digest_size=4).hexdigest()
    return f".{name[:100].decode(errors='ignore')}.{digest}"


def _synced(directory: Path) -> None:
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    except OSError:
        pass  # a system that cannot sync a directory
    finally:
        os.close(handle)


def _make(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise LedgerError(f"{directory}: not a directory, so no ledger can be made in it") from None
    except OSError as error:
        raise LedgerError(f"{directory}: cannot make a ledger there ({error.strerror or error})") from None


def _link(staged: Path, path: Path) -> None:
    """Give the made ledger its name, unless a file has taken that name meanwhile."""
    taken = LedgerError(f"{path}: a file took that name while the ledger was being made; nothing was written")
    try:
        os.link(staged, path)
    except FileExistsError:
        raise taken from None
    except OSError as error:  # a file system without hard links: rename, after one more look
        if path.exists():
            raise taken from None
        try:
            os.rename(staged, path)
        except OSError:
            raise LedgerError(f"{path}: cannot make a ledger there ({error.strerror or error})") from None


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

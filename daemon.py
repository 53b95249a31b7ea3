"""`coopledger daemon`: a process that has imported every module a command needs and forks one
process per command that `launch.py` hands it, so that a command costs its own work and not
Python's imports (most of a quick command's time: docs/performance.md).

The forked process is the command as the user ran it: their arguments, working directory and
environment, their standard input, output and error (passed as file descriptors over the
socket, so that a terminal is still a terminal and a pipe still a pipe), in a session of its own
with no controlling terminal; its exit status goes back to the waiting `coopledger`. It reads
and writes the ledger exactly as a process started from scratch would: nothing of one command
outlives it, and the daemon itself never opens a ledger. The socket is in a folder only its user
can enter, and the daemon answers only processes of its own user. When the project's code or an
installed package changes after it started, it answers "stale" (the command then runs on its
own, as without a daemon) and starts itself again with the new code."""

from __future__ import annotations

import contextlib
import fcntl
import gc
import importlib
import marshal
import os
import pkgutil
import selectors
import signal
import socket
import struct
import sys
import sysconfig
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import click

from . import launch

PRELOADED = (  # what commands import when they need it, beyond the project's own modules
    "eventsourcing.sqlite",
    "eventsourcing.postgres",
    "psycopg.rows",
    "psycopg.conninfo",
    "platformdirs",
    "fcntl",
    "hashlib",
    "tempfile",
    "difflib",
    "traceback",
)


MAX_REQUEST = 16 << 20  # bytes: far more than Linux lets arguments and environment take together


class DaemonError(Exception):
    """The daemon cannot start: its message says why and where."""


def preload() -> None:
    """Import the project's modules and the libraries its commands import on demand."""
    package = sys.modules[__package__]
    for module in pkgutil.iter_modules(package.__path__):
        if not module.ispkg and module.name != "__main__":
            importlib.import_module(f"{__package__}.{module.name}")
    for name in ("events", "ledger", "projections"):
        subpackage = importlib.import_module(f"{__package__}.{name}")
        for module in pkgutil.walk_packages(subpackage.__path__, f"{subpackage.__name__}."):
            importlib.import_module(module.name)
    for name in PRELOADED:
        importlib.import_module(name)


def code_files() -> list[str]:
    """The files whose change makes the imported code stale: the project's loaded modules, its
    page templates, and the folders packages are installed in (an install or upgrade changes them)."""
    files = [
        module.__file__
        for name, module in list(sys.modules.items())
        if name.partition(".")[0] == __package__ and getattr(module, "__file__", None)
    ]
    files += [str(path) for path in (Path(__file__).parent / "templates").glob("*.html")]
    files += {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    return sorted(files)


def signature(files: list[str]) -> tuple[tuple[str, int, int], ...]:
    """Each file's modification time and size (-1 for one that is gone)."""
    stamps = []
    for file in files:
        try:
            status = os.stat(file)
            stamps.append((file, status.st_mtime_ns, status.st_size))
        except OSError:
            stamps.append((file, -1, -1))
    return tuple(stamps)


def listen(path: str) -> tuple[socket.socket, int]:
    """Bind the install's socket in a folder private to the user, holding the lock that makes
    its daemon the only one (released by the system however the daemon ends); refuse if another holds it."""
    folder = os.path.dirname(path)
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError as error:
        raise DaemonError(f"{folder}: cannot make the daemon's folder ({error.strerror})") from None
    if not launch.private(folder):
        raise DaemonError(
            f"{folder}: not this user's own folder closed to others; remove it or set COOPLEDGER_DAEMON_DIR"
        )
    if len(path.encode()) > 107:
        raise DaemonError(f"{path}: too long for a socket's name; set COOPLEDGER_DAEMON_DIR to a shorter one")
    lock = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(lock)
        raise DaemonError(f"{path}: a daemon of this install already answers there") from None
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        if os.path.lexists(path):  # left by a daemon that was killed: none can be using it now
            os.unlink(path)
        listener.bind(path)
        listener.listen(64)
    except OSError as error:
        listener.close()
        os.close(lock)
        raise DaemonError(f"{path}: cannot listen there ({error.strerror})") from None
    return listener, lock


class Daemon:
    """The accepting loop: one forked process per command, its exit status sent back when it ends."""

    def __init__(self, listener: socket.socket, lock: int, say: Callable[[str], None]):
        self.listener, self.lock, self.say = listener, lock, say
        self.path = listener.getsockname()
        self.code = code_files()  # listed once: the daemon imports nothing more after preloading
        self.signature = signature(self.code)
        self.running: dict[int, socket.socket] = {}  # pid → the connection of its waiting client
        self.stopping = self.restart = False
        self.selector = selectors.DefaultSelector()
        self.wake_read, self.wake_write = os.pipe()
        os.set_blocking(self.wake_write, False)
        self.selector.register(self.listener, selectors.EVENT_READ, self.accept)
        self.selector.register(self.wake_read, selectors.EVENT_READ, self.woken)

    def run(self) -> None:
        """Serve until SIGINT or SIGTERM, then wait for the commands still running and remove the socket."""
        previous = signal.set_wakeup_fd(self.wake_write)
        woken_by = (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM)  # through the wake-up pipe
        handlers = {sig: signal.signal(sig, lambda *_: None) for sig in woken_by}
        self.say(f"coopledger daemon: commands of this install start here ({self.path}); Ctrl-C stops it")
        try:
            while not self.stopping or self.running:
                for key, _ in self.selector.select():
                    if self.selector.get_map().get(key.fd) is key:  # not let go by a handler before it
                        key.data(key.fileobj)
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
            signal.set_wakeup_fd(previous)
            self.close()
            os.close(self.lock)  # after the socket is gone: the next daemon may bind it
        if self.restart:
            self.say("the code changed since the daemon started: starting again with the new code")
            os.execv(sys.executable, [sys.executable, "-m", __package__, "daemon"])

    def close(self) -> None:
        if self.listener.fileno() >= 0:
            self.selector.unregister(self.listener)
            self.listener.close()
            if os.path.exists(self.path):
                os.unlink(self.path)

    def woken(self, _: object) -> None:
        for number in os.read(self.wake_read, 512):
            if number not in (signal.SIGINT, signal.SIGTERM):
                continue
            if not self.stopping or self.restart:  # the first: no new commands; the running ones end
                self.stopping, self.restart = True, False
                self.close()
                if self.running:
                    running = len(self.running)
                    self.say(f"stopping once {running} running command(s) end; Ctrl-C again ends them")
            else:  # the second: end them
                for pid in self.running:
                    os.kill(pid, signal.SIGTERM)
        self.reap()

    def reap(self) -> None:
        while self.running:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                return
            client = self.running.pop(pid, None)
            if client is not None:
                code = os.waitstatus_to_exitcode(status)
                with contextlib.suppress(OSError):  # the client is gone: nobody to tell
                    client.sendall(launch.EXITED + code.to_bytes(4, "big", signed=True))
                if client.fileno() in self.selector.get_map():
                    self.selector.unregister(client)
                client.close()

    def accept(self, _: object) -> None:
        client, _address = self.listener.accept()
        try:
            taken = self.take(client)
        except (OSError, ValueError, EOFError, TypeError) as error:
            self.say(f"a request was refused: {error}")
            taken = False
        if not taken:
            client.close()

    def take(self, client: socket.socket) -> bool:
        """Read a client's request and fork its command; False if it was not taken."""
        _pid, uid, _gid = struct.unpack("3i", client.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
        if uid != os.getuid():
            raise ValueError(f"a process of user {uid} asked; only user {os.getuid()}'s are answered")
        client.settimeout(5)
        size, fds, _flags, _address = socket.recv_fds(client, 4, 3)
        if len(size) != 4 or len(fds) != 3:
            for fd in fds:
                os.close(fd)
            raise ValueError("a request without its size and three standard streams")
        try:
            length = int.from_bytes(size, "big")
            if length > MAX_REQUEST:
                raise ValueError(f"a request of {length:,} bytes")
            asked = checked(marshal.loads(launch.receive(client, length)))
            if signature(self.code) != self.signature:
                client.sendall(launch.STALE + bytes(4))
                self.stopping = self.restart = True
                self.close()
                return False
            pid = os.fork()
            if pid == 0:  # the command's process: it never returns to the daemon's loop
                try:
                    self.forget()
                    run_command(client, fds, *asked)
                finally:
                    os._exit(1)
        finally:
            for fd in fds:
                os.close(fd)
        client.settimeout(None)
        self.running[pid] = client
        self.selector.register(client, selectors.EVENT_READ, self.gone)
        try:
            client.sendall(launch.STARTED + pid.to_bytes(4, "big"))
        except OSError:  # the client is gone already
            self.gone(client)
        return True

    def gone(self, client: socket.socket) -> None:
        """The waiting client closed its end (it was killed): end its command as its own death would."""
        self.selector.unregister(client)
        for pid, waiting in self.running.items():
            if waiting is client:
                os.kill(pid, signal.SIGTERM)

    def forget(self) -> None:
        """In a forked process: close the daemon's files. The epoll instance is shared with the
        daemon, so it is closed first: unregistering a file here would unregister it there."""
        files = [key.fileobj for key in self.selector.get_map().values()]
        self.selector.close()
        for file in files:
            file.close() if isinstance(file, socket.socket) else os.close(file)
        os.close(self.wake_write)
        os.close(self.lock)


def checked(request: object) -> tuple[list[str], str, dict[str, str], int, tuple[tuple[str, str], ...]]:
    """A request's fields (launch.request), each of the type the command's process needs."""
    if not isinstance(request, tuple) or len(request) != 6:
        raise ValueError("not a request of coopledger's")
    protocol, argv, cwd, environment, umask, streams = request
    if protocol != launch.PROTOCOL:
        raise ValueError(f"protocol {protocol!r} asked, {launch.PROTOCOL} spoken")
    strings = lambda values: all(isinstance(value, str) for value in values)
    if not (
        isinstance(argv, list)
        and strings(argv)
        and isinstance(cwd, str)
        and isinstance(environment, dict)
        and strings(environment)
        and strings(environment.values())
        and isinstance(umask, int)
        and isinstance(streams, tuple)
        and len(streams) == 3
        and all(isinstance(stream, tuple) and len(stream) == 2 and strings(stream) for stream in streams)
    ):
        raise ValueError("a request whose fields are not those of a command")
    return argv, cwd, environment, umask, streams


def run_command(
    client: socket.socket,
    fds: list[int],
    argv: list[str],
    cwd: str,
    environment: dict[str, str],
    umask: int,
    streams: tuple,
) -> None:
    """In the forked process: become the client's command, run it, tell the client its exit
    status (the daemon tells it if it is killed instead) and exit with it."""
    os.setsid()  # no controlling terminal: the daemon's is not the user's
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGCHLD, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    code = 1
    try:
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        for fd in fds:
            os.close(fd)
        os.chdir(cwd)
        os.umask(umask)
        os.environ.clear()
        os.environ.update(environment)
        time.tzset()
        sys.argv = argv
        sys.stdin = sys.__stdin__ = standard_stream(0, "r", *streams[0])
        sys.stdout = sys.__stdout__ = standard_stream(1, "w", *streams[1])
        sys.stderr = sys.__stderr__ = standard_stream(2, "w", *streams[2])
        from .cli import main

        main()
        code = 0
    except SystemExit as exit_:
        code = exit_code(exit_)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                code = code or 120  # as Python does when its output cannot be flushed at exit
        with contextlib.suppress(OSError):  # said here too, so that it arrives if the daemon is gone
            client.sendall(launch.EXITED + code.to_bytes(4, "big", signed=True))
        os._exit(code)


def standard_stream(fd: int, mode: str, encoding: str, errors: str) -> TextIO:
    """A standard stream over fd, opened as Python opens its own on Linux: no newline translation,
    standard error and a terminal line-buffered."""
    stream = open(fd, mode, encoding=encoding, errors=errors, newline="\n", closefd=False)  # noqa: SIM115
    if mode == "w":
        stream.reconfigure(line_buffering=fd == 2 or os.isatty(fd))
    return stream


def exit_code(exit_: SystemExit) -> int:
    """The status Python gives a process for this SystemExit."""
    if exit_.code is None:
        return 0
    if isinstance(exit_.code, int):
        return exit_.code & 0xFF
    print(exit_.code, file=sys.stderr)
    return 1


def serve(say: Callable[[str], None]) -> None:
    """`coopledger daemon`: listen on this install's socket, preload, serve until stopped."""
    path = launch.socket_path()
    listener, lock = listen(path)
    try:
        preload()
        gc.freeze()  # a full collection in a forked command then skips (and copies) none of this
        daemon = Daemon(listener, lock, say)
    except BaseException:
        listener.close()
        os.unlink(path)
        os.close(lock)
        raise
    daemon.run()


@click.command(name="daemon")
def command() -> None:
    """Keep every module a command needs imported, and start each command of this install
    from here: it then answers without Python's start-up cost. Ctrl-C stops it.

    Example: coopledger daemon &
    """
    try:
        serve(click.echo)
    except DaemonError as error:
        raise click.ClickException(str(error)) from None

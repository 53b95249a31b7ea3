"""The command line's entry point. A command goes to this install's `coopledger daemon` when one
is running: the daemon forks a process that has every module imported already, gives it this
process's standard input, output and error, working directory, arguments and environment, and
this process waits for its exit status. Otherwise, or when the daemon cannot take it, the command
runs here as usual. This module imports nothing that Python has not loaded at start-up but two
small modules of the standard library written in C, so that a command through the daemon costs
little more than Python's own start."""

import _signal
import _socket
import binascii
import io
import marshal
import os
import sys

PROTOCOL = 2
STALE, STARTED, EXITED = b"S", b"P", b"X"
STOPPED = "coopledger: the daemon stopped before the command ended; its outcome is unknown\n"


def daemon_folder() -> str:
    """The folder of this user's daemon sockets: COOPLEDGER_DAEMON_DIR, else one in the user's
    runtime directory, else one in /tmp named for the user."""
    if folder := os.environ.get("COOPLEDGER_DAEMON_DIR"):
        return os.path.abspath(folder)
    if runtime := os.environ.get("XDG_RUNTIME_DIR"):
        return os.path.join(runtime, "coopledger")
    return f"/tmp/coopledger-{os.getuid()}"


def socket_path() -> str:
    """The socket of this install's daemon: one per user, Python environment (`python`, `python3`
    and the console script of one virtualenv alike) and package directory, so that two installs
    (two virtualenvs, two checkouts) never answer for each other."""
    install = f"{sys.prefix}\0{os.path.dirname(os.path.abspath(__file__))}".encode()
    return os.path.join(daemon_folder(), f"{binascii.crc32(install):08x}.sock")


def private(folder: str) -> bool:
    """Whether the folder is this user's own and closed to everyone else."""
    try:
        status = os.stat(folder)
    except OSError:
        return False
    return status.st_uid == os.getuid() and not status.st_mode & 0o077


def request() -> bytes:
    """What the daemon's process needs to run the command as this process would."""
    streams = tuple((stream.encoding, stream.errors) for stream in (sys.stdin, sys.stdout, sys.stderr))
    umask = os.umask(0o077)  # read by setting it: set back at once
    os.umask(umask)
    return marshal.dumps((PROTOCOL, sys.argv, os.getcwd(), dict(os.environ), umask, streams))


def receive(connection: _socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the daemon closed the connection")
        data += chunk
    return data


def through_daemon() -> int | None:
    """Run the command in a process forked by the daemon and return its exit status; None if no
    daemon took it (none running, another install's, or its code changed since it started, or a
    standard stream of this process is closed: the socket would take its descriptor's number)."""
    if os.environ.get("COOPLEDGER_NO_DAEMON") or not private(daemon_folder()):
        return None
    if sys.stdin is None or sys.stdout is None or sys.stderr is None:
        return None
    connection = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        connection.connect(socket_path())
        body = request()
        fds = b"".join(fd.to_bytes(4, sys.byteorder) for fd in (0, 1, 2))
        connection.sendmsg(
            [len(body).to_bytes(4, "big"), body], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, fds)]
        )
        answer = receive(connection, 5)
    except OSError:
        connection.close()
        return None
    if answer[:1] not in (STARTED, EXITED):  # EXITED: the command ended before the daemon said it began
        connection.close()
        return None
    while answer[:1] == STARTED:
        pid = int.from_bytes(answer[1:], "big")
        try:
            answer = receive(connection, 5)
        except KeyboardInterrupt:  # Ctrl-C reaches this process, the terminal's: pass it on
            os.kill(pid, _signal.SIGINT)
        except OSError:
            sys.stderr.write(STOPPED)
            return 1
    status = int.from_bytes(answer[1:], "big", signed=True)
    if status < 0:  # the command was killed by a signal: so is this process, as its caller expects
        if -status != _signal.SIGKILL:  # whose handling cannot be changed, nor needs to be
            _signal.signal(-status, _signal.SIG_DFL)
        os.kill(os.getpid(), -status)
        return 128 - status  # a signal whose default is not to end a process: as a shell says it
    return status


class _ClosedInput(io.RawIOBase):
    """Standard input when the command was started with it closed: reading it is a usage error."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: object) -> int:
        import click

        raise click.UsageError("standard input is closed; give the input in a file or on standard input")


def main() -> None:
    if sys.stdout is None:  # started with its standard output closed: an answer would be lost unsaid
        if sys.stderr is not None:
            sys.stderr.write("coopledger: standard output is closed; nothing done\n")
        sys.exit(1)
    status = through_daemon()
    if status is not None:
        sys.exit(status)
    if sys.stdin is None:
        sys.stdin = io.TextIOWrapper(io.BufferedReader(_ClosedInput()))
    from .cli import main as run_here

    run_here()

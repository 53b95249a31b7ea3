"""`coopledger daemon`: a command forked from the daemon answers as it would on its own — the
same output, errors and exit status, in the caller's working directory, with the caller's
environment and standard streams — and the daemon steps aside when it cannot answer so."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import ROOT, SEEDS, address, run_tutorial

# A caller that says whether the daemon took its command (its exit status) or not (None).
CALLER = "import sys; from coopledger import launch; print('taken', launch.through_daemon(), file=sys.stderr)"


def coopledger(*args: str, **options: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "coopledger", *args], capture_output=True, text=True, **options
    )  # type: ignore[call-overload, no-any-return]


def taken(*args: str, **options: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CALLER, *args], capture_output=True, text=True, **options)  # type: ignore[call-overload, no-any-return]


def start_daemon() -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "coopledger", "daemon"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline() if process.stdout else ""
    if "commands of this install start here" not in line:
        process.kill()
        raise AssertionError(
            f"the daemon did not start: {line}{process.stderr.read() if process.stderr else ''}"
        )
    return process


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COOPLEDGER_DAEMON_DIR", str(tmp_path / "daemon"))
    monkeypatch.delenv("COOPLEDGER_NO_DAEMON", raising=False)
    return tmp_path / "daemon"


@pytest.fixture
def daemon(folder: Path) -> Iterator[subprocess.Popen[str]]:
    process = start_daemon()
    yield process
    process.terminate()  # waits for the commands it runs
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.terminate()  # ends them
        process.wait(timeout=10)


def on_its_own() -> dict[str, str]:
    return {**os.environ, "COOPLEDGER_NO_DAEMON": "1"}


def test_a_command_through_the_daemon_answers_as_it_would_on_its_own(
    daemon: subprocess.Popen[str], tmp_path: Path
) -> None:
    db = str(tmp_path / "ledger.sqlite")
    imported = taken("--db", db, "import", str(SEEDS))
    assert imported.returncode == 0 and "taken 0" in imported.stderr, imported.stderr
    assert imported.stdout.startswith("imported 77 events")
    asked = [
        ["state", "KOR", "CHN", "--as-of", "2019-01"],
        ["state", "KOR", "CHN", "--as-of", "2019-01", "--json"],
        ["state", "KOR", "XXX"],  # refused: exit 2, one line on stderr
        ["show", "999"],
        ["verify"],
        ["sign", "x", "--kind", "mou", "--party", "KOR", "--party", "CHN", "--on", "2019-02-30"],
        ["--help"],
    ]
    for args in asked:
        through, alone = coopledger("--db", db, *args), coopledger("--db", db, *args, env=on_its_own())
        assert (through.returncode, through.stdout, through.stderr) == (
            alone.returncode,
            alone.stdout,
            alone.stderr,
        ), args
        assert "taken" in taken("--db", db, *args).stderr
    assert taken("--db", db, "state", "KOR", "XXX").stderr.endswith("taken 2\n")
    for name in ("python3", f"python{sys.version_info[0]}.{sys.version_info[1]}"):  # the same environment
        other = Path(sys.executable).with_name(name)
        if other.exists():
            asked = subprocess.run([other, "-c", CALLER, "--db", db, "log"], capture_output=True, text=True)
            assert "taken 0" in asked.stderr, name


def test_a_command_with_a_closed_standard_stream_answers_as_on_its_own(
    daemon: subprocess.Popen[str], tmp_path: Path
) -> None:
    """A closed stream's descriptor number would go to the daemon's socket: such a command is not
    sent to the daemon (it once read its own socket as standard input, and waited for ever)."""
    db = str(tmp_path / "ledger.sqlite")
    assert coopledger("--db", db, "import", str(SEEDS)).returncode == 0
    command = f'"{sys.executable}" -m coopledger --db "{db}"'
    for closing in (f"{command} import - <&-", f"{command} state KOR CHN --json >&-", f"{command} log 2>&-"):
        through = subprocess.run(closing, shell=True, capture_output=True, text=True, timeout=60)
        alone = subprocess.run(
            closing, shell=True, capture_output=True, text=True, timeout=60, env=on_its_own()
        )
        assert (through.returncode, through.stdout, through.stderr) == (
            alone.returncode,
            alone.stdout,
            alone.stderr,
        ), closing
    assert alone.returncode == 0 and alone.stdout  # the last: only standard error closed, answered


def test_the_readme_tutorial_through_the_daemon_prints_what_the_readme_shows(
    daemon: subprocess.Popen[str], tmp_path: Path
) -> None:
    forked = set()

    def watch() -> None:  # which commands the daemon forked, looked at every 20 ms
        while daemon.poll() is None and not done.is_set():
            forked.update(children(daemon.pid))
            time.sleep(0.02)

    done = threading.Event()
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        run_tutorial(tmp_path, dict(os.environ))
    finally:
        done.set()
        watcher.join()
    assert forked  # the commands went through it


def test_the_command_runs_in_the_callers_directory_with_its_environment_and_input(
    daemon, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    work = tmp_path / "work"
    work.mkdir()
    seeds = SEEDS.read_text()
    environment = {
        **os.environ,
        "COOPLEDGER_DB": "here.sqlite",
        "COOPLEDGER_ACTOR": "ana",
        "TZ": "Asia/Seoul",
    }
    imported = taken("import", "-", cwd=work, env=environment, input=seeds)
    assert "taken 0" in imported.stderr, imported.stderr
    assert (work / "here.sqlite").exists()  # the caller's directory and COOPLEDGER_DB
    shown = coopledger("show", "1", cwd=work, env=environment)
    assert "recorded_by: ana" in shown.stdout, shown.stdout
    alone = coopledger("show", "1", cwd=work, env={**environment, "COOPLEDGER_NO_DAEMON": "1"})
    assert shown.stdout == alone.stdout
    masked = {"preexec_fn": lambda: os.umask(0o027)}
    assert "taken 0" in taken("--db", "masked.sqlite", "init", cwd=work, **masked).stderr
    coopledger("--db", "alone.sqlite", "init", cwd=work, env=on_its_own(), **masked)
    assert (work / "masked.sqlite").stat().st_mode == (work / "alone.sqlite").stat().st_mode == 0o100640


def answers(site: str) -> bool:
    try:
        with urllib.request.urlopen(site, timeout=5):
            return True
    except OSError:
        return False


def gone(site: str) -> bool:
    deadline = time.monotonic() + 10
    while answers(site):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def interrupted(command: list[str], environment: dict[str, str]) -> tuple[int, str]:
    """Start `serve`, check it answers, press Ctrl-C; its exit status and what it said on stderr."""
    server = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment
    )
    site = address(server)
    assert answers(site)
    server.send_signal(signal.SIGINT)  # as the terminal sends it to the caller
    code = server.wait(timeout=10)
    assert gone(site)
    return code, server.stderr.read() if server.stderr else ""


def test_ctrl_c_reaches_the_command_and_a_killed_caller_ends_it(
    daemon: subprocess.Popen[str], tmp_path: Path
) -> None:
    db = str(tmp_path / "ledger.sqlite")
    assert coopledger("--db", db, "import", str(SEEDS)).returncode == 0
    command = [sys.executable, "-m", "coopledger", "--db", db, "serve", "--port", "0"]
    assert interrupted(command, dict(os.environ)) == interrupted(command, on_its_own())

    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    site = address(server)
    server.kill()
    server.wait(timeout=10)
    assert gone(site)  # the daemon ended the command of a caller that died

    before = set(children(daemon.pid))  # the command just ended may still be on its way out
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    site = address(server)
    deadline = time.monotonic() + 5
    while not (forked := set(children(daemon.pid)) - before) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(forked) == 1, (forked, before, said(daemon))
    os.kill(forked.pop(), signal.SIGKILL)
    assert server.wait(timeout=10) == -signal.SIGKILL  # its caller ends as the command did


def serve_new_ledger(tmp_path: Path) -> tuple[str, subprocess.Popen[str], str]:
    """`serve` of a new ledger, started as a user starts it: the ledger, the caller, its address."""
    db = str(tmp_path / "ledger.sqlite")
    assert coopledger("--db", db, "init").returncode == 0
    command = [sys.executable, "-m", "coopledger", "--db", db, "serve", "--port", "0"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return db, server, address(server)


def test_stopping_the_daemon_waits_for_its_commands_and_a_second_stop_ends_them(
    daemon: subprocess.Popen[str], tmp_path: Path
) -> None:
    db, server, site = serve_new_ledger(tmp_path)
    daemon.terminate()
    assert "stopping once 1 running command(s) end" in (daemon.stdout.readline() if daemon.stdout else "")
    assert "taken None" in taken("--db", db, "log").stderr  # no new command goes to it
    assert answers(site) and daemon.poll() is None
    daemon.terminate()
    assert server.wait(timeout=10) == -signal.SIGTERM  # its command ended, and so did its caller
    assert daemon.wait(timeout=10) == 0


def test_a_command_outlives_a_killed_daemon_and_its_caller_still_gets_its_status(
    daemon: subprocess.Popen[str], tmp_path: Path
) -> None:
    _, server, site = serve_new_ledger(tmp_path)
    daemon.kill()
    daemon.wait(timeout=10)
    assert answers(site) and server.poll() is None
    server.send_signal(signal.SIGINT)
    assert server.wait(timeout=10) == 1  # as serve ends on Ctrl-C on its own: "Aborted!", exit 1
    assert "Aborted!" in (server.stderr.read() if server.stderr else "")


def test_many_quick_commands_are_each_run_once_and_through_the_daemon(daemon: subprocess.Popen[str]) -> None:
    # A quick command may end (and say so) before the daemon has said it started: the caller must
    # take that as its end, not fall back and run it a second time; and the daemon, handling a
    # caller's end and its command's in one turn, must go on.
    callers = (
        "import os, sys; from coopledger import launch; sys.argv = ['coopledger', '--version'];"
        "os.dup2(os.open(os.devnull, os.O_WRONLY), 1);"
        "print(sorted({launch.through_daemon() for _ in range(200)}, key=str), file=sys.stderr)"
    )
    two = [
        subprocess.Popen([sys.executable, "-c", callers], stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    assert [caller.communicate(timeout=120)[1].strip() for caller in two] == ["[0]", "[0]"]
    assert daemon.poll() is None


def test_requests_that_are_not_a_commands_are_refused_and_the_daemon_goes_on(
    daemon: subprocess.Popen[str], tmp_path: Path
) -> None:
    import marshal
    import socket

    (path,) = (tmp_path / "daemon").glob("*.sock")
    streams = [(("utf-8", "strict"),) * 3]
    for size, body, fds in [
        (None, b"hello", []),  # no size, no streams
        (5, b"\xff\x00garbage", [0, 1, 2]),  # not marshal
        (None, marshal.dumps((2, "argv")), [0, 1, 2]),  # not the shape of a request
        (None, marshal.dumps((2, ["x", 1], "/", {}, 0, *streams)), [0, 1, 2]),  # an argument not a string
        (None, marshal.dumps((99, [], "/", {}, 0, *streams)), [0, 1, 2]),  # another protocol
        (1 << 30, b"", [0, 1, 2]),  # a gigabyte announced
    ]:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(str(path))
            header = (len(body) if size is None else size).to_bytes(4, "big")
            if fds:
                socket.send_fds(client, [header + body], fds)
            else:
                client.sendall(body)
            client.settimeout(10)
            with contextlib.suppress(ConnectionResetError):  # closed with some of it unread
                assert client.recv(5) == b""  # closed without an answer
    assert daemon.poll() is None
    assert "taken 0" in taken("--db", str(tmp_path / "ledger.sqlite"), "init").stderr


def said(daemon: subprocess.Popen[str]) -> str:
    """What the daemon has printed so far, without waiting for more."""
    if daemon.stdout is None:
        return ""
    os.set_blocking(daemon.stdout.fileno(), False)
    return daemon.stdout.read() or ""


def children(pid: int) -> list[int]:
    """The processes whose parent is pid (Linux's /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_changed_code_is_not_answered_by_the_daemon_that_started_before_it(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A copy of the package, an install of its own: changing it leaves other daemons alone.
    copy = tmp_path / "install" / "coopledger"
    skipped = (".*", "tests", "bench", "docs", "examples", "build", "__pycache__", "*.egg-info", "*.sqlite*")
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*skipped))
    monkeypatch.setenv("PYTHONPATH", str(copy.parent))
    daemon = start_daemon()
    try:
        db = str(tmp_path / "ledger.sqlite")
        assert "taken 0" in taken("--db", db, "init").stderr
        (copy / "templates" / "state.html").write_text((copy / "templates" / "state.html").read_text() + "\n")
        stale = taken("--db", db, "state", "KOR", "CHN")
        assert stale.returncode == 0 and "taken None" in stale.stderr  # it ran on its own
        assert "starting again with the new code" in (daemon.stdout.readline() if daemon.stdout else "")
        assert "commands of this install start here" in (daemon.stdout.readline() if daemon.stdout else "")
        assert "taken 0" in taken("--db", db, "state", "KOR", "CHN").stderr
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)


def test_one_daemon_an_install_in_a_folder_closed_to_others(
    daemon: subprocess.Popen[str], folder: Path, tmp_path: Path
) -> None:
    second = coopledger("daemon", env=on_its_own())
    assert second.returncode == 1 and "a daemon of this install already answers there" in second.stderr
    db = str(tmp_path / "ledger.sqlite")
    folder.chmod(0o755)
    try:
        assert "taken None" in taken("--db", db, "init").stderr  # not through a folder others can enter
        assert coopledger("--db", db, "init").returncode == 0  # but on its own
    finally:
        folder.chmod(0o700)
    assert "taken 0" in taken("--db", db, "log").stderr


def test_a_folder_open_to_others_is_refused_and_a_stopped_daemon_leaves_no_socket(folder: Path) -> None:
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    refused = coopledger("daemon")
    assert refused.returncode == 1 and "closed to others" in refused.stderr
    folder.chmod(0o700)
    process = start_daemon()
    assert list(folder.glob("*.sock"))
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    assert not list(folder.glob("*.sock"))

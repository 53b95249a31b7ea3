"""Measure coopledger on this machine, every figure beside its target, in one run.

    python bench/run.py [--events 100000] [--big 1000000] [--repeat 7] [--postgres URL]

with the python of a virtualenv where coopledger is installed regularly (`pip install .`), not
editable: an editable install's finder runs in every process, `python -c pass` included.

Generates synthetic ledgers with bench/generate.py (cached in --workdir), then times whole
`coopledger` processes: import, state, append, rebuild, verify, with peak memory, against
a raw SQLite floor and a naive eventsourcing_sqlalchemy save measured in the same run; then the
quick questions again with `coopledger daemon` running. A ratio of two commands (to `python -c
pass`, PostgreSQL's append to SQLite's) is the median of their ratios run by run, in turn.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
COOPLEDGER = [sys.executable, "-m", "coopledger"]


@dataclass
class Run:
    seconds: float
    peak_mib: float
    stdout: bytes


def run(command: list[str], env: dict[str, str] | None = None) -> Run:
    """Run a whole process to completion: its wall time and its own peak resident memory."""
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, cwd=HERE.parent, env=env)
        _, status, usage = os.wait4(process.pid, 0)  # the usage of this process alone
        seconds = time.perf_counter() - start
        stdout.seek(0)
        stderr.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{stderr.read().decode()}")
        return Run(seconds, usage.ru_maxrss / 1024, stdout.read())


def generated(workdir: Path, events: int, seed: int) -> Path:
    path = workdir / f"ledger-{events}-{seed}.jsonl"
    if not path.exists():
        partial = path.with_suffix(".partial")
        subprocess.run(
            [
                sys.executable,
                str(HERE / "generate.py"),
                "--events",
                str(events),
                "--seed",
                str(seed),
                "--out",
                str(partial),
            ],
            check=True,
        )
        partial.rename(path)
    return path


def fresh(path: Path) -> Path:
    for leftover in path.parent.glob(path.name + "*"):
        leftover.unlink()
    return path


def raw_floor(lines_file: Path, workdir: Path) -> float:
    """Plain sqlite3 executemany of the same lines into one table, one transaction, WAL, FULL."""
    lines = lines_file.read_bytes().splitlines()
    connection = sqlite3.connect(fresh(workdir / "floor.sqlite"), isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("CREATE TABLE lines (id INTEGER PRIMARY KEY, line BLOB NOT NULL)")
    start = time.perf_counter()
    connection.execute("BEGIN")
    connection.executemany("INSERT INTO lines (line) VALUES (?)", ((line,) for line in lines))
    connection.execute("COMMIT")
    seconds = time.perf_counter() - start
    connection.close()
    return len(lines) / seconds


NAIVE = """
import sys, time, orjson
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

class Record(Aggregate):
    @event("Recorded")
    def record(self, line: dict) -> None:
        pass

class Naive(Application):
    pass

env = {"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": "sqlite:///" + sys.argv[2]}
app = Naive(env=env)
lines = open(sys.argv[1], "rb").read().splitlines()
start = time.perf_counter()
for first in range(0, len(lines), 100):  # 100 events an aggregate, saved as eventsourcing's examples do
    record = Record()
    for line in lines[first:first + 100]:
        record.record(orjson.loads(line))
    app.save(record)
print(len(lines) / (time.perf_counter() - start))
"""


def naive_save(lines_file: Path, workdir: Path) -> float:
    """The same events saved by a naive eventsourcing_sqlalchemy application: no checks, no views."""
    db = fresh(workdir / "naive.sqlite")
    result = run([sys.executable, "-c", NAIVE, str(lines_file), str(db)])
    return float(result.stdout)


def relationships(db: str) -> list[dict]:
    listed = run([*COOPLEDGER, "--db", db, "relationships", "--as-of", "2100", "--json"]).stdout
    return sorted(orjson.loads(listed), key=lambda r: -r["events"])


def median_seconds(command: list[str], repeat: int, env: dict[str, str] | None = None) -> float:
    return statistics.median(run(command, env).seconds for _ in range(repeat))


PASS = [sys.executable, "-c", "pass"]


Command = list[str] | Callable[[], list[str]]  # a function makes it anew for each run (an append)


def paired(
    a: Command, b: Command, repeat: int, env: dict[str, str] | None = None
) -> tuple[float, float, float]:
    """Two commands run in turn, B then A, `repeat` times: A's and B's median times, and the
    median of the ratios A/B pair by pair. A ratio of two medians timed minutes apart moves
    with the machine's speed (`python -c pass` took 48 ms at the start of one run and 25 ms at
    its end, which turned a 4.1x into a 2.1x). A command given as a function is made anew for
    each run: the same append would be refused."""
    make_a = a if callable(a) else lambda: a
    make_b = b if callable(b) else lambda: b
    pairs = [(run(make_b(), env).seconds, run(make_a(), env).seconds) for _ in range(repeat)]
    return (
        statistics.median(ta for _, ta in pairs),
        statistics.median(tb for tb, _ in pairs),
        statistics.median(ta / tb for tb, ta in pairs),
    )


def against_pass(command: Command, repeat: int, env: dict[str, str] | None = None) -> tuple[float, float]:
    """A command's median time and its median ratio to a `python -c pass` run just before it."""
    seconds, _, times = paired(command, PASS, repeat, env)
    return seconds, times


@contextmanager
def daemon_running(workdir: Path) -> Iterator[dict[str, str]]:
    """`coopledger daemon` running for this install; yields the environment of the commands it takes."""
    env = {name: value for name, value in os.environ.items() if name != "COOPLEDGER_NO_DAEMON"}
    env["COOPLEDGER_DAEMON_DIR"] = str(workdir / "daemon")
    command = [*COOPLEDGER, "daemon"]
    daemon = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env, cwd=HERE.parent)
    try:
        line = daemon.stdout.readline() if daemon.stdout else ""
        if "commands of this install start here" not in line:
            raise SystemExit(f"the daemon did not start: {line}")
        yield env
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)


def append_command(db: str) -> list[str]:
    event = {
        "type": "MeetingHeld",
        "occurred_on": "2025-06-01",
        "key": f"bench/{uuid.uuid4()}",
        "data": {"meeting": f"bench-{uuid.uuid4().hex[:12]}", "parties": ["KOR", "JPN"]},
    }
    return [*COOPLEDGER, "--db", db, "--actor", "bench", "append", orjson.dumps(event).decode()]


def serve_page(db: str, relationship: str, as_of: str, repeat: int) -> tuple[float, float]:
    """Start `coopledger serve` on a ledger and ask it for a relationship's page (its HTML, whole):
    the first answer's time and the median of `repeat` more. The timeline picture is a request
    of its own, made by the browser after the page."""
    import urllib.request

    server = subprocess.Popen(
        [*COOPLEDGER, "--db", db, "serve", "--port", "0"], stdout=subprocess.PIPE, text=True, cwd=HERE.parent
    )
    try:
        line = server.stdout.readline() if server.stdout else ""
        if "http://" not in line:
            raise SystemExit(f"serve did not start: {line}")
        site = "http://" + line.split("http://", 1)[1].split("/", 1)[0]

        def fetch() -> float:
            start = time.perf_counter()
            with urllib.request.urlopen(f"{site}/r/{relationship}?as_of={as_of}", timeout=120) as response:
                response.read()
            return time.perf_counter() - start

        first = fetch()
        return first, statistics.median(fetch() for _ in range(repeat))
    finally:
        server.terminate()
        server.wait(timeout=30)


@dataclass
class Figure:
    name: str
    measured: str
    target: str
    ok: bool | None


def report(figures: list[Figure], command: str) -> str:
    width = max(len(f.name) for f in figures)
    lines = [
        f"coopledger benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}: "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}",
        f"reproduce: {command}",
        "",
        f"{'figure':<{width}}  {'measured':>28}  {'target':<34}  ok",
    ]
    for figure in figures:
        verdict = "-" if figure.ok is None else ("yes" if figure.ok else "NO")
        lines.append(f"{figure.name:<{width}}  {figure.measured:>28}  {figure.target:<34}  {verdict}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="events in the import test")
    parser.add_argument("--big", type=int, default=1_000_000, help="events in the big ledger")
    parser.add_argument("--small", type=int, default=1_000, help="events in the small ledger")
    parser.add_argument("--repeat", type=int, default=7, help="runs of each whole-process query")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument(
        "--workdir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "coopledger-bench"
    )
    parser.add_argument(
        "--postgres",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
        help="server for the PostgreSQL figures ('' to skip them)",
    )
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    os.environ["COOPLEDGER_NO_DAEMON"] = "1"  # each figure a process on its own, but where said
    import coopledger

    if Path(coopledger.__file__).resolve().parent == HERE.parent:
        # An editable install's finder runs at every start-up: it adds ~15 ms here to `python -c
        # pass` as to every command, and so flatters each ratio to pass (state 4.2x, not 8.8x).
        # A regular install also leaves the modules compiled, as a user has them.
        raise SystemExit(
            "bench/run.py: coopledger is imported from this checkout (an editable install), whose"
            " start-up cost would flatter every ratio to `python -c pass`; time a regular install:"
            " python3 -m venv /tmp/bench-venv && /tmp/bench-venv/bin/pip install -q . &&"
            " /tmp/bench-venv/bin/python bench/run.py"
        )
    command = "python bench/run.py " + " ".join(sys.argv[1:])
    figures: list[Figure] = []

    def figure(name: str, measured: str, target: str, ok: bool | None) -> None:
        figures.append(Figure(name, measured, target, ok))
        print(f"  {name}: {measured}", flush=True)

    print(f"generating ledgers (cached in {args.workdir})", flush=True)
    medium = generated(args.workdir, args.events, args.seed)
    big = generated(args.workdir, args.big, args.seed)
    small = generated(args.workdir, args.small, args.seed)

    print("python -c pass", flush=True)
    bare = median_seconds(PASS, args.repeat)
    figure(
        "python -c pass (the floor of a whole process)",
        f"{1000 * bare:.0f} ms median",
        "(information: each ratio pairs its own)",
        None,
    )

    # What any command costs before coopledger's own code: the libraries it imports.
    libraries, times = against_pass(
        [sys.executable, "-c", "import click, msgspec, orjson, sqlite3"], args.repeat
    )
    figure(
        "python -c 'import click, msgspec, orjson, sqlite3'",
        f"{1000 * libraries:.0f} ms = {times:.1f} x pass",
        "(a command's floor)",
        None,
    )

    print("import", flush=True)
    floor = raw_floor(medium, args.workdir)
    db = str(fresh(args.workdir / "import.sqlite"))
    imported = run([*COOPLEDGER, "--db", db, "import", str(medium)])
    rate = args.events / imported.seconds
    figure(f"import {args.events:,} events (SQLite)", f"{rate:,.0f} events/s", "(for the ratios)", None)
    figure("raw SQLite floor, same lines", f"{floor:,.0f} rows/s", "(for the ratio)", None)
    figure("import / raw floor", f"{100 * rate / floor:.1f} %", "(information)", None)
    naive = naive_save(medium, args.workdir)
    figure("naive eventsourcing_sqlalchemy save", f"{naive:,.0f} events/s", "(the naive peer)", None)
    figure("import / naive save", f"{rate / naive:.2f} x", ">= 1.5 x", rate >= 1.5 * naive)

    print("big and small ledgers", flush=True)
    big_db = str(fresh(args.workdir / "big.sqlite"))
    loaded = run([*COOPLEDGER, "--db", big_db, "import", str(big)])
    figure(
        f"import {args.big:,} events (SQLite)",
        f"{args.big / loaded.seconds:,.0f} events/s",
        "(information)",
        None,
    )
    small_db = str(fresh(args.workdir / "small.sqlite"))
    run([*COOPLEDGER, "--db", small_db, "import", str(small)])

    print("queries", flush=True)
    busy = relationships(big_db)
    small_rels = {r["relationship"]: r for r in relationships(small_db)}
    shared = [r for r in busy if r["relationship"] in small_rels]
    typical = shared[len(shared) // 2] if shared else busy[len(busy) // 2]
    a, b = typical["relationship"].split("~")
    as_of, known_at = ["--as-of", "2020-06-30"], ["--known-at", "2100-01-01"]
    big_state, times = against_pass([*COOPLEDGER, "--db", big_db, "state", a, b, *as_of], args.repeat)
    _, small_state, big_to_small = paired(
        [*COOPLEDGER, "--db", big_db, "state", a, b, *as_of],
        [*COOPLEDGER, "--db", small_db, "state", a, b, *as_of],
        args.repeat,
    )
    events_in = (
        f"{typical['events']} vs {small_rels.get(typical['relationship'], {}).get('events', 0)} events"
    )
    figure(
        f"state {a} {b} on {args.big:,} events",
        f"{1000 * big_state:.0f} ms = {times:.1f} x pass",
        "<= 2.5 x python -c pass",
        times <= 2.5,
    )
    figure(
        f"state {a} {b} on {args.small:,} events",
        f"{1000 * small_state:.0f} ms median",
        "(for the ratio)",
        None,
    )
    figure(
        f"state big / small ({events_in})",
        f"{big_to_small:.2f} x",
        "<= 1.5 x",
        big_to_small <= 1.5,
    )
    known, times = against_pass([*COOPLEDGER, "--db", big_db, "state", a, b, *as_of, *known_at], args.repeat)
    figure(
        f"state {a} {b} --known-at (fold path)",
        f"{1000 * known:.0f} ms = {times:.1f} x pass",
        "no worse than docs/performance.md",
        None,
    )
    top_a, top_b = busy[0]["relationship"].split("~")
    busiest = f"busiest, {busy[0]['events']:,} events"
    for form, limit in (("--json", 20), ("text", 4)):
        asked = [
            *COOPLEDGER,
            "--db",
            big_db,
            "state",
            top_a,
            top_b,
            *as_of,
            *([form] if form == "--json" else []),
        ]
        top, times = against_pass(asked, min(args.repeat, 3))
        figure(
            f"state {top_a} {top_b} {form} ({busiest})",
            f"{1000 * top:.0f} ms = {times:.1f} x pass",
            f"<= {limit} x python -c pass",
            times <= limit,
        )
    first, page = serve_page(big_db, f"{a}~{b}", "2020-06-30", args.repeat)
    figure(f"serve /r/{a}~{b} on {args.big:,} events", f"{1000 * page:.0f} ms median", "(information)", None)
    figure("serve, its first page after start-up", f"{1000 * first:.0f} ms", "(information)", None)
    appends, times = against_pass(lambda: append_command(big_db), args.repeat)
    figure(
        f"append one event on {args.big:,}",
        f"{1000 * appends:.0f} ms = {times:.1f} x pass",
        "(information)",
        None,
    )

    print("rebuild and verify", flush=True)
    total = args.big + args.repeat
    rebuilt = run([*COOPLEDGER, "--db", big_db, "rebuild"])
    figure(
        f"rebuild {total:,} events",
        f"{total / rebuilt.seconds:,.0f} events/s",
        ">= 50,000 events/s",
        total / rebuilt.seconds >= 50_000,
    )
    verified = run([*COOPLEDGER, "--db", big_db, "verify"])
    figure(
        f"verify {total:,} events",
        f"{total / verified.seconds:,.0f} events/s",
        ">= 50,000 events/s",
        total / verified.seconds >= 50_000,
    )
    for name, measured in (("import", loaded), ("rebuild", rebuilt), ("verify", verified)):
        figure(
            f"peak memory, {name} of {args.big:,}",
            f"{measured.peak_mib:.0f} MiB",
            "<= 200 MB",
            measured.peak_mib * 1.048576 <= 200,
        )

    print("whole-ledger commands", flush=True)
    exported = run(
        [*COOPLEDGER, "--db", big_db, "export", "--format", "csv", "--out", str(args.workdir / "csv")]
    )
    drawn = run(
        [*COOPLEDGER, "--db", big_db, "timeline", top_a, top_b, "--out", str(args.workdir / "busy.svg")]
    )
    for name, measured in (
        (f"export --format csv of {total:,} events", exported),
        (f"timeline {top_a} {top_b} ({busiest})", drawn),
    ):
        figure(name, f"{measured.seconds:.1f} s, peak {measured.peak_mib:.0f} MiB", "(information)", None)

    with postgres(args, medium, figure, db) as postgres_db:
        print("with coopledger daemon running", flush=True)
        asked = {
            f"state {a} {b} on {args.big:,} events": (["state", a, b, *as_of], 2.5),
            f"state {a} {b} --known-at (fold path)": (["state", a, b, *as_of, *known_at], None),
            f"state {top_a} {top_b} --json ({busiest})": (["state", top_a, top_b, *as_of, "--json"], 20),
            f"state {top_a} {top_b} text ({busiest})": (["state", top_a, top_b, *as_of], 4),
        }
        daemon_figures(args, figure, big_db, asked, db, postgres_db)
    print()
    print(report(figures, command))


def daemon_figures(  # type: ignore[no-untyped-def]
    args: argparse.Namespace,
    figure,
    big_db: str,
    asked: dict[str, tuple[list[str], float | None]],
    sqlite_db: str,
    postgres_db: str | None,
) -> None:
    """The same questions with `coopledger daemon` running: each command is then forked from a
    process that has imported everything, and costs its own work (launch.py, daemon.py)."""
    with daemon_running(args.workdir) as warm:
        bare = median_seconds(PASS, args.repeat)
        figure("python -c pass, again (information)", f"{1000 * bare:.0f} ms median", "", None)
        for name, (question, limit) in asked.items():
            repeat = args.repeat if limit is None or limit < 10 else min(args.repeat, 3)
            seconds, times = against_pass([*COOPLEDGER, "--db", big_db, *question], repeat, warm)
            figure(
                f"{name}, daemon running",
                f"{1000 * seconds:.0f} ms = {times:.1f} x pass",
                f"<= {limit} x python -c pass" if limit else "(information)",
                times <= limit if limit else None,
            )
        sqlite_append, times = against_pass(lambda: append_command(sqlite_db), args.repeat, warm)
        if postgres_db:
            appends, _, ratio = paired(
                lambda: append_command(postgres_db), lambda: append_command(sqlite_db), args.repeat, warm
            )
            figure(
                f"PostgreSQL append one event on {args.events:,}, daemon running",
                f"{1000 * appends:.0f} ms = {ratio:.2f} x SQLite's",
                "<= 2 x SQLite's on the same ledger",
                ratio <= 2,
            )
        figure(
            f"SQLite append one event on {args.events:,}, daemon running",
            f"{1000 * sqlite_append:.0f} ms = {times:.1f} x pass",
            "(for the ratio)",
            None,
        )


@contextmanager
def postgres(args: argparse.Namespace, medium: Path, figure, sqlite_db: str) -> Iterator[str | None]:  # type: ignore[no-untyped-def]
    """The PostgreSQL figures; yields the ledger they were measured on (None: no server), dropped after."""
    if not args.postgres:
        yield None
        return
    import psycopg

    plain = args.postgres.replace("+psycopg", "")
    try:
        admin = psycopg.connect(plain, autocommit=True, connect_timeout=3)
    except psycopg.Error as error:
        figure("PostgreSQL", f"skipped: {str(error).splitlines()[0]}", "", None)
        yield None
        return
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin.execute(f"CREATE SCHEMA {schema}")
    db = f"{args.postgres}{'&' if '?' in args.postgres else '?'}options=-csearch_path%3D{schema}"
    try:
        print("postgresql", flush=True)
        imported = run([*COOPLEDGER, "--db", db, "import", str(medium)])
        rate = args.events / imported.seconds
        figure(
            f"PostgreSQL import {args.events:,} events",
            f"{rate:,.0f} events/s",
            ">= 15,000 events/s",
            rate >= 15_000,
        )
        appends, sqlite_append, ratio = paired(
            lambda: append_command(db), lambda: append_command(sqlite_db), args.repeat
        )
        figure(
            f"PostgreSQL append one event on {args.events:,}",
            f"{1000 * appends:.0f} ms = {ratio:.2f} x SQLite's",
            "<= 2 x SQLite's on the same ledger",
            ratio <= 2,
        )
        figure(
            f"SQLite append one event on {args.events:,}",
            f"{1000 * sqlite_append:.0f} ms",
            "(for the ratio)",
            None,
        )
        busy = relationships(db)
        a, b = busy[len(busy) // 2]["relationship"].split("~")
        seconds = median_seconds(
            [*COOPLEDGER, "--db", db, "state", a, b, "--as-of", "2020-06-30"], args.repeat
        )
        figure(f"PostgreSQL state {a} {b}", f"{1000 * seconds:.0f} ms median", "(information)", None)
        yield db
    finally:
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()


if __name__ == "__main__":
    main()

"""The web view over HTTP: a real `coopledger serve` process, asked with an HTTP client.

Its JSON is what the command line prints with --json; bad dates are 400 pages saying what is
wrong; unknown parties and events 404; names and aliases redirect to the canonical pair; it
escapes what it prints and writes nothing.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from coopledger.ledger.queries import Queries
from coopledger.ledger.store import locate
from support import HOSTILE_TITLE, SEED_EVENTS, SEEDS, build_ledger, coopledger, served


def get(site: str, path: str, **params: str) -> httpx.Response:
    return httpx.get(site + path, params=params or None, follow_redirects=False, timeout=30)


def cli_json(db: str, *args: str) -> object:
    result = coopledger(db, *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_api_answers_what_the_command_line_prints(site: str, ledger_file: str) -> None:
    state = get(site, "/api/r/JPN~KOR", as_of="2019-01").json()
    assert state == cli_json(ledger_file, "state", "JPN", "KOR", "--as-of", "2019-01")
    known = get(site, "/api/r/CHN~KOR", as_of="2019", known_at="2000-01-01", exact="1").json()
    assert known == cli_json(
        ledger_file, "state", "CHN", "KOR", "--as-of", "2019", "--known-at", "2000-01-01", "--exact"
    )
    assert known["instruments"] == known["projects"] == []  # nothing was recorded in 2000
    history = get(site, "/api/r/JPN~KOR/history").json()
    assert history == cli_json(ledger_file, "history", "JPN", "KOR")
    assert get(site, "/api/").json() == cli_json(ledger_file, "relationships")
    assert get(site, "/api/e/65").json() == cli_json(ledger_file, "show", "65")


def test_the_answer_changes_with_the_date(site: str) -> None:
    before = get(site, "/api/r/CHN~KOR", as_of="2016").json()
    after = get(site, "/api/r/CHN~KOR", as_of="2019-01").json()
    assert len(before["projects"]) < len(after["projects"])
    page = get(site, "/r/CHN~KOR", as_of="2016").text
    assert 'as of <span id="as-of">2016</span>' in page and "clean-sky-project" not in page
    assert "clean-sky-project" in get(site, "/r/CHN~KOR", as_of="2019-01").text
    # A date in full-width digits is the same day, named in ASCII as an event names its dates.
    assert get(site, "/api/r/CHN~KOR", as_of="\uff12\uff10\uff11\uff19-01").json() == after


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/r/KOR~JPN", "/r/JPN~KOR"),
        ("/r/kor~jpn", "/r/JPN~KOR"),
        ("/r/ROK~Japan", "/r/JPN~KOR"),
        ("/r/Republic%20of%20Korea~JP/history", "/r/JPN~KOR/history"),
        ("/api/r/South%20Korea~JPN", "/api/r/JPN~KOR"),
        ("/r/KOR~JPN?as_of=2019-01&exact=1", "/r/JPN~KOR?as_of=2019-01&exact=1"),
    ],
)
def test_a_pair_written_otherwise_redirects_to_its_canonical_url(site: str, path: str, location: str) -> None:
    response = httpx.get(site + path, follow_redirects=False, timeout=30)
    assert response.status_code == 302
    assert response.headers["location"] == location


@pytest.mark.parametrize(
    ("path", "params", "says"),
    [
        ("/r/JPN~KOR", {"as_of": "2019-13"}, "as_of: '2019-13' is not an EDTF date"),
        ("/r/JPN~KOR", {"as_of": "2019-02-29"}, "as_of: '2019-02-29' is not a calendar date"),
        ("/r/JPN~KOR", {"as_of": "1994/.."}, "open interval"),
        (
            "/r/JPN~KOR",
            {"known_at": "yesterday"},
            "known_at 'yesterday': expected an ISO 8601 date or timestamp",
        ),
        ("/r/JPN~KOR/history", {"from": "2020", "to": "2019"}, "from 2020 is after to 2019"),
        ("/r/JPN~KOR/history", {"to": "20x9"}, "to: '20x9'"),
        ("/", {"as_of": "soon"}, "as_of: 'soon'"),
        ("/r/JPN~KOR~CHN", {}, "name a relationship as two parties, A~B"),
        ("/r/KOR~ROK", {}, "are the same party"),
        ("/r/JPN~KOR/timeline.svg", {"as_of": "2019-00"}, "as_of: '2019-00'"),
        ("/r/JPN~%00", {}, "contains a control character"),
        ("/r/JPN~KOR", {"as_of": "2019\n"}, "contains a control character"),
    ],
)
def test_a_bad_request_is_a_400_page_saying_what_is_wrong(
    site: str, path: str, params: dict[str, str], says: str
) -> None:
    response = get(site, path, **params)
    assert response.status_code == 400
    assert "text/html" in response.headers["content-type"]
    assert says in response.text.replace("&#39;", "'")
    api = get(site, "/api" + path, **params) if not path.endswith(".svg") else None
    if api is not None:
        assert api.status_code == 400 and says in api.json()["error"]


@pytest.mark.parametrize("path", ["/r/JPN~KOR", "/api/r/JPN~KOR", "/r/KOR~JPN", "/", "/r/JPN~KOR/history"])
def test_a_parameter_given_twice_is_refused_not_answered_for_the_last(site: str, path: str) -> None:
    response = httpx.get(
        site + path, params=[("as_of", "2019"), ("exact", "1"), ("as_of", "2020")], timeout=30
    )
    assert response.status_code == 400
    assert "as_of: given 2 times; give it once" in response.text


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/r/JPN~XYZ", "unknown party 'XYZ'"),
        ("/r/Korea~JPN", "names no single party"),
        ("/e/9999", "no event 9999"),
        ("/e/00000000-0000-0000-0000-000000000000", "no event"),
        ("/api/e/9999", "no event 9999"),
        ("/api/r/JPN~XYZ", "unknown party 'XYZ'"),
    ],
)
def test_an_unknown_party_or_event_is_a_404(site: str, path: str, says: str) -> None:
    response = httpx.get(site + path, timeout=30)
    assert response.status_code == 404
    assert says in response.text.replace("&#39;", "'")


def test_two_known_parties_without_events_get_an_empty_answer(site: str) -> None:
    response = get(site, "/r/BRA~FRA")
    assert response.status_code == 200 and 'Instruments <span class="dim">(0)</span>' in response.text
    assert get(site, "/api/r/BRA~FRA").json()["instruments"] == []
    assert get(site, "/r/BRA~FRA/history").status_code == 200


def test_a_space_in_a_timestamp_reads_as_plus(site: str) -> None:
    """`+09:00` typed into a URL unencoded arrives as a space."""
    plus = httpx.get(site + "/api/r/JPN~KOR?known_at=2030-01-01T09:00:00%2B09:00", timeout=30).json()
    space = httpx.get(site + "/api/r/JPN~KOR?known_at=2030-01-01T09:00:00+09:00", timeout=30).json()
    assert plus == space and plus["known_at"] == "2030-01-01T00:00:00.000000Z"


def test_everything_printed_is_escaped(site: str) -> None:
    state = get(site, "/r/JPN~KOR", as_of="2020-12-31").text
    assert "<script" not in state and "onerror=alert(1)>" not in state
    assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;" in state
    history = get(site, "/r/JPN~KOR/history", **{"from": "2020"}).text
    assert "<script" not in history and "<b>" not in history and "<i>note" not in history
    assert "javascript:" not in history  # a source URL that is not http(s) is shown, never linked
    assert "RETRACTED: &lt;script&gt;alert(3)&lt;/script&gt; recorded twice" in history
    assert "<u>" not in history
    event = get(site, "/api/r/JPN~KOR/history", **{"from": "2020"}).json()[0]
    assert event["data"]["title"] == HOSTILE_TITLE
    page = get(site, f"/e/{event['position']}").text
    assert "<script" not in page and 'href="javascript' not in page


def test_pages_carry_a_policy_that_runs_no_script(site: str) -> None:
    for path in ("/", "/r/JPN~KOR", "/r/JPN~KOR/history", "/e/1", "/r/JPN~KOR/timeline.svg", "/r/X~Y"):
        policy = httpx.get(site + path, timeout=30).headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy


def test_the_timeline_is_an_svg_picture(site: str) -> None:
    response = get(site, "/r/KOR~CHN/timeline.svg", as_of="2019-01-31")
    assert response.status_code == 200 and response.headers["content-type"] == "image/svg+xml"
    assert b"<svg" in response.content[:1000] and "CHN–KOR as of 2019-01-31".encode() in response.content


def test_relationships_are_filtered_by_party(site: str) -> None:
    page = get(site, "/", party="Viet Nam").text
    assert "KOR~VNM" in page and "JPN~KOR" not in page
    assert get(site, "/", party="Nowhere").status_code == 404


def test_it_writes_nothing(site: str, ledger_file: str) -> None:
    digest = coopledger(ledger_file, "digest").stdout
    for path in ("/", "/r/JPN~KOR", "/r/JPN~KOR/history", "/e/1", "/r/JPN~KOR/timeline.svg"):
        assert httpx.post(site + path, timeout=30).status_code == 405
    assert coopledger(ledger_file, "digest").stdout == digest
    assert coopledger(ledger_file, "verify").returncode == 0


def test_its_connection_cannot_write(db_url: str) -> None:
    """The store is opened read-only: the database itself refuses a write on that connection."""
    assert coopledger(db_url, "import", str(SEEDS)).returncode == 0
    queries = Queries(locate(db_url), read_only=True)
    try:
        assert queries.digest().startswith(f"{SEED_EVENTS}:")
        with pytest.raises(Exception, match=r"(?i)read.?only"), queries.db.reading() as cursor:
            cursor.run("CREATE TABLE coopledger_intruder (a INTEGER)")
    finally:
        queries.close()


@pytest.mark.postgres
def test_it_serves_a_postgresql_ledger(postgres_url: str) -> None:
    build_ledger(postgres_url)
    with served(postgres_url) as site:
        state = get(site, "/api/r/JPN~KOR", as_of="2019-01").json()
        assert state == cli_json(postgres_url, "state", "JPN", "KOR", "--as-of", "2019-01")
        assert get(site, "/r/JPN~KOR/history").status_code == 200
        assert get(site, "/r/ROK~JPN").headers["location"] == "/r/JPN~KOR"
        assert get(site, "/r/JPN~KOR", as_of="2019-13").status_code == 400
        assert get(site, "/r/JPN~%00").status_code == 400  # PostgreSQL cannot even compare a NUL
        assert get(site, "/e/%00").status_code == 400


def test_serve_refuses_a_missing_store_and_a_busy_port(tmp_path: Path, ledger_file: str) -> None:
    missing = coopledger(str(tmp_path / "none.sqlite"), "serve", "--port", "0")
    assert missing.returncode == 2 and "no ledger at" in missing.stderr
    assert not (tmp_path / "none.sqlite").exists()
    with served(ledger_file) as site:
        port = site.rsplit(":", 1)[1]
        busy = coopledger(ledger_file, "serve", "--port", port)
    assert busy.returncode == 2 and f"--port {port}: cannot listen there" in busy.stderr


def test_the_web_view_reads_without_eventsourcing(ledger_file: str) -> None:
    """Like every query, the web view reads with the database's own driver, on a ledger in WAL mode."""
    assert sqlite3.connect(ledger_file).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    script = (
        "import sys; from coopledger.web import app; from coopledger.ledger.store import locate; "
        f"app(locate({ledger_file!r})); assert 'eventsourcing' not in sys.modules, 'eventsourcing loaded'"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_state_page_says_when_a_project_ended(tmp_path: Path) -> None:
    db = str(tmp_path / "ended.sqlite")
    for event in (
        {
            "type": "ProjectLaunched",
            "occurred_on": "2015",
            "data": {"project": "p-done", "title": "Done", "parties": ["KOR", "JPN"]},
        },
        {"type": "ProjectCompleted", "occurred_on": "2018-03", "data": {"project": "p-done"}},
        {
            "type": "ProjectLaunched",
            "occurred_on": "2016",
            "data": {"project": "p-cut", "title": "Cut", "parties": ["KOR", "JPN"]},
        },
        {
            "type": "ProjectTerminated",
            "occurred_on": "2017-05",
            "data": {"project": "p-cut", "reason": "funds"},
        },
    ):
        assert coopledger(db, "append", json.dumps(event)).returncode == 0
    with served(db) as url:
        page = get(url, "/r/JPN~KOR", as_of="2019").text
    assert "completed 2018-03" in page and "terminated 2017-05" in page


def test_a_project_past_its_planned_end_says_so(site: str) -> None:
    """It stays `active` until its completion is recorded (SPEC); the page says its end has passed."""
    assert get(site, "/api/r/KOR~USA", as_of="2020").json()["projects"][0]["status"] == "active"
    assert "ends 2015 (passed, no completion recorded)" in get(site, "/r/KOR~USA", as_of="2020").text
    assert "(passed" not in get(site, "/r/KOR~USA", as_of="2015").text


def test_a_page_shows_a_right_to_left_override_escaped_and_the_api_as_recorded(tmp_path: Path) -> None:
    """HTML escapes markup but not the reordering of what is read: a title with a right-to-left
    override would show its words in another order on the page. The page shows the override as
    its escape; the API's JSON carries the title as recorded."""
    db = str(tmp_path / "ledger.sqlite")
    title = "Agreement \u202eTLR\u202c on \u2067isolated\u2069 air"
    signed = {
        "type": "InstrumentSigned",
        "occurred_on": "2019-05-20",
        "data": {"instrument": "rlo", "kind": "mou", "title": title, "parties": ["KOR", "JPN"]},
    }
    assert coopledger(db, "append", json.dumps(signed)).returncode == 0
    with served(db) as site:
        page = get(site, "/r/JPN~KOR", as_of="2020").text
        event = get(site, "/e/1").text
        answer = get(site, "/api/r/JPN~KOR", as_of="2020").json()
    for html in (page, event):
        assert "Agreement \\u202eTLR\\u202c on \\u2067isolated\\u2069 air" in html
        assert not any(c in html for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    assert answer["instruments"][0]["title"] == title

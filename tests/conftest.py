"""Fixtures: a fresh ledger on a SQLite file and, where reachable, on PostgreSQL.

PostgreSQL tests use COOPLEDGER_TEST_POSTGRES_URL (default: the local server, database test),
each in a schema of its own. Where the server cannot be reached they skip with the reason,
unless COOPLEDGER_REQUIRE_POSTGRES=1 (as in .ci/run), when they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from coopledger.ledger.application import Ledger
from coopledger.ledger.store import locate

POSTGRES_URL = os.environ.get(
    "COOPLEDGER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("COOPLEDGER_REQUIRE_POSTGRES") == "1"


def _postgres_problem() -> str | None:
    import psycopg

    try:
        with psycopg.connect(POSTGRES_URL.replace("+psycopg", ""), connect_timeout=3):
            return None
    except psycopg.Error as error:
        return str(error).strip().splitlines()[0]


@pytest.fixture(scope="session")
def postgres_server() -> str:
    problem = _postgres_problem()
    if problem:
        message = f"PostgreSQL at {POSTGRES_URL} is unreachable: {problem}"
        if REQUIRE_POSTGRES:
            pytest.fail(message + " (COOPLEDGER_REQUIRE_POSTGRES=1)")
        pytest.skip(message)
    return POSTGRES_URL


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a new, empty schema, dropped afterwards."""
    import psycopg

    schema = f"test_{uuid.uuid4().hex[:12]}"
    plain = postgres_server.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in postgres_server else "?"
    yield f"{postgres_server}{separator}options=-csearch_path%3D{schema}"
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return str(tmp_path / "ledger.sqlite")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """The --db of a new, empty ledger, once per backend."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")


@pytest.fixture
def ledger(db_url: str) -> Iterator[Ledger]:
    opened = Ledger(locate(db_url), actor="tester")
    yield opened
    opened.close()

"""coopledger: an event-sourced ledger of international cooperation.

From Python, open a ledger and ask it what the command line asks::

    import coopledger

    with coopledger.open("example.sqlite") as ledger:
        state = ledger.state("KOR", "CHN", as_of="2019-01")
        state.meetings["next"]  # a field of the answer
        state.to_dict()  # exactly what `coopledger state KOR CHN --as-of 2019-01 --json` prints
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: every command imports this module
if TYPE_CHECKING:
    from pathlib import Path

    from .ledger.api import Ledger

__all__ = ["open"]


def open(url_or_path: str | Path | None = None, actor: str | None = None) -> Ledger:
    """Open the ledger at a SQLite file path or a postgresql+psycopg:// URL."""
    from .ledger.api import open_ledger

    return open_ledger(url_or_path, actor)

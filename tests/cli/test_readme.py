"""The README tutorial's commands, run as a user would, print what the README shows."""

from __future__ import annotations

import os
from pathlib import Path

from support import run_tutorial


def test_the_tutorial_prints_what_the_readme_shows(tmp_path: Path) -> None:
    run_tutorial(tmp_path, dict(os.environ))

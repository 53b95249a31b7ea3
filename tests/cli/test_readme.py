"""The README tutorial's commands, run as a user would, print what the README shows."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from support import ROOT

# What differs from one run to the next: ids, recording times and the hashes over them.
VARYING = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d{4}-\d\d-\d\dT[\d:.]+Z|[0-9a-f]{64}"
)


def tutorial() -> list[tuple[str, list[str]]]:
    """Each `$ command` of the tutorial with the lines shown after it."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Tutorial", 1)[1].split("\n## ", 1)[0]
    steps: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", section, re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            else:
                steps[-1][1].append(line)
    return steps


def test_the_tutorial_prints_what_the_readme_shows(tmp_path: Path) -> None:
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("COOPLEDGER_DB", None)
    exports: list[str] = []
    steps = tutorial()
    assert len(steps) >= 10
    for command, shown in steps:
        if command.startswith("export "):
            exports.append(command)
            continue
        script = "; ".join([*exports, f"{command} 2>&1"])
        result = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
        printed = result.stdout.rstrip("\n").splitlines()
        assert [VARYING.sub("…", line) for line in printed] == [VARYING.sub("…", line) for line in shown], (
            command
        )
        assert (result.returncode == 0) == (not any(line.startswith("Error:") for line in shown)), command
    pictures = [path for path in tmp_path.iterdir() if path.suffix == ".png"]
    assert pictures and all(path.read_bytes().startswith(b"\x89PNG") for path in pictures)

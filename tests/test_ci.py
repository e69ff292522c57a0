""".ci/run judges the test run as CI must: no test run is a failure, and every stage says how long it took.

The script runs for real in a copy of .ci/run, with stand-ins on PATH for the tools it calls (venv, pip, ruff,
lint-imports, pytest) so that each case takes a moment instead of a full CI run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README_COMMAND = "QT_QPA_PLATFORM=offscreen python -m pytest"

FAKE_PYTHON = """\
#!/usr/bin/env bash
# python -m venv DIR | -m pip ... | -c CODE | -m pytest: pytest prints $FAKE_PYTEST_OUTPUT, exits $FAKE_PYTEST_STATUS
if [ "$1 $2" = "-m venv" ]; then
  mkdir -p "$3/bin" && echo "export PATH=\\"$FAKE_BIN:\\$PATH\\"" > "$3/bin/activate"
elif [ "$1 $2" = "-m pytest" ]; then
  printf '%b\\n' "$FAKE_PYTEST_OUTPUT"
  exit "$FAKE_PYTEST_STATUS"
fi
"""


def run_ci(tmp_path: Path, pytest_output: str, pytest_status: int) -> subprocess.CompletedProcess[str]:
    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy(ROOT / ".ci" / "run", repo / ".ci" / "run")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in {
        "python3": FAKE_PYTHON,
        "python": FAKE_PYTHON,
        "ruff": "#!/bin/sh\n",
        "lint-imports": "#!/bin/sh\n",
    }.items():
        (bin_dir / name).write_text(body)
        (bin_dir / name).chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "FAKE_BIN": str(bin_dir),
        "FAKE_PYTEST_OUTPUT": pytest_output,
        "FAKE_PYTEST_STATUS": str(pytest_status),
    }
    return subprocess.run(
        ["bash", str(repo / ".ci" / "run")], capture_output=True, text=True, env=env, timeout=60
    )


def test_a_green_run_prints_each_stage_and_its_time(tmp_path: Path) -> None:
    done = run_ci(tmp_path, "...\n==== 812 passed, 3 skipped in 401.2s ====", 0)
    assert done.returncode == 0, done.stderr
    stages = re.findall(r"^-- (.+): \d+ s$", done.stdout, re.MULTILINE)
    assert stages == ["setup: venv and install", "ruff", "import contracts", "tests (README's command)"]
    assert re.search(r"^CI finished in \d+ s$", done.stdout, re.MULTILINE)


@pytest.mark.parametrize(
    ("output", "status", "reason"),
    [
        ("==== no tests ran in 0.5s ====", 5, "pytest collected no test to run (exit 5)"),
        ("==== 12 skipped in 0.5s ====", 0, "pytest passed no test: ==== 12 skipped in 0.5s ===="),
        ("==== 800 deselected in 2.0s ====", 0, "pytest passed no test"),
        ("==== 1 failed, 811 passed in 400.0s ====", 1, ""),
    ],
)
def test_a_run_that_tested_nothing_or_failed_fails_ci(tmp_path: Path, output: str, status: int, reason: str) -> None:
    done = run_ci(tmp_path, output, status)
    assert done.returncode != 0
    assert reason in done.stderr
    # The failing stage still reports its time, and the run says it failed.
    assert "-- tests (README's command): " in done.stdout
    assert re.search(r"^CI FAILED in \d+ s$", done.stdout, re.MULTILINE)


def test_ci_runs_readmes_test_command_with_the_options_from_pyproject() -> None:
    """README's command is what CI runs; parallelism and the slowest-tests list come from pyproject's addopts,
    so a developer running README's command gets the same run."""
    import tomllib

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert README_COMMAND in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "export QT_QPA_PLATFORM=offscreen" in ci and "python -m pytest 2>&1 | tee" in ci
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())
    addopts = options["tool"]["pytest"]["ini_options"]["addopts"]
    assert "-n auto" in addopts and "--durations=15" in addopts
    assert any(dep.startswith("pytest-xdist") for dep in options["project"]["optional-dependencies"]["test"])
    assert textwrap.dedent(ci).count("python -m pytest") == 1

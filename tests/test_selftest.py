"""`snowml-desktop --self-test`: passes on a working install, and fails with exit 1 and one line saying why.

The passing run and one failing run are real processes from the source tree (what CI runs in the installed
bundle); the other failures are shown in-process, each by breaking exactly one thing.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import keyring
import pytest
from keyring.errors import KeyringError

from snowml_desktop import selftest
from snowml_desktop.core.errors import InvalidInput

SELF_TEST = [sys.executable, "-m", "snowml_desktop.app", "--self-test"]


def _run(env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        SELF_TEST,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env or {})},
    )


@pytest.mark.slow
def test_self_test_passes_and_leaves_the_users_folders_alone(_isolated_home: Path) -> None:
    result = _run()
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("self-test passed"), result.stdout
    assert "RANDOM_FOREST_1" in lines[0] and "offscreen platform" in lines[0]
    assert "the procedures' code zip" in lines[0]
    assert result.stderr == ""
    # conftest points the user's folders here; only the log may be written.
    assert sorted(p.name for p in _isolated_home.iterdir()) == ["logs"]


@pytest.mark.slow
def test_a_connector_without_its_arrow_reader_fails_the_self_test(tmp_path: Path) -> None:
    """What a frozen bundle missing the connector's compiled Arrow module does, reproduced from the source tree."""
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\nsys.modules['snowflake.connector.nanoarrow_arrow_iterator'] = None\n"
    )
    result = _run({"PYTHONPATH": str(tmp_path)})
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    assert lines[0].startswith("self-test FAILED: the Snowflake connector cannot read query results")
    assert "Failed to import ArrowResult" in lines[0] and "details in" in lines[0]


def test_a_module_missing_from_the_install_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    # Imported first, so that only the import by name fails (the connector's compiled Arrow reader imports
    # snow_logging too, and a cursor module imported without it would stay broken for the later tests).
    importlib.import_module("snowflake.connector.cursor")
    monkeypatch.setitem(sys.modules, "snowflake.connector.snow_logging", None)
    with pytest.raises(selftest.SelfTestFailed, match=r"^cannot import snowflake\.connector\.snow_logging: "):
        selftest.check_imports([])


def test_the_connectors_arrow_warning_alone_fails_the_imports() -> None:
    message = "Failed to import ArrowResult. No Apache Arrow result set format can be used. ImportError: x"
    with pytest.raises(
        selftest.SelfTestFailed, match="cannot read query results: Failed to import ArrowResult"
    ):
        selftest.check_imports([message])


def test_the_connector_log_is_captured_at_every_level() -> None:
    import logging

    with selftest.connector_log() as messages:
        logging.getLogger("snowflake.connector.cursor").debug("Failed to import pyarrow")
    logging.getLogger("snowflake.connector.cursor").warning("after the check")
    assert messages == ["Failed to import pyarrow"]


def test_the_procedures_zip_runs_from_this_installation(tmp_path: Path) -> None:
    selftest.check_procedures_zip(tmp_path)  # raises SelfTestFailed with the reason otherwise


def test_a_module_missing_from_the_procedures_zip_fails_the_self_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from snowml_desktop.engines.snowflake import setup

    complete = setup.code_files()
    monkeypatch.setattr(setup, "code_files", lambda: [p for p in complete if p.name != "udf.py"])
    with pytest.raises(
        selftest.SelfTestFailed,
        match=r"^the procedures' code zip does not run: ImportError: cannot import name 'udf'",
    ):
        selftest.check_procedures_zip(tmp_path)


def test_an_install_without_the_sources_fails_the_self_test(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from snowml_desktop.engines.snowflake import setup

    monkeypatch.setattr(setup, "code_files", lambda: [tmp_path / "snowml_desktop" / "__init__.py"])
    with pytest.raises(
        selftest.SelfTestFailed, match=r"^cannot build the Snowflake procedures' code zip: This installation"
    ):
        selftest.check_procedures_zip(tmp_path)


def test_the_environment_is_temporary_and_the_keyring_refuses(_isolated_home: Path) -> None:
    before = {name: os.environ.get(name) for name in ("SNOWML_HOME", "SNOWML_CONFIG_DIR", "SNOWFLAKE_HOME")}
    previous = keyring.get_keyring()
    with selftest.isolated_environment() as root:
        assert all(Path(os.environ[name]).is_relative_to(root) for name in before)
        with pytest.raises(KeyringError):
            keyring.get_password("snowml-desktop", "someone")
    assert not root.exists()
    assert {name: os.environ.get(name) for name in before} == before
    assert keyring.get_keyring() is previous


@pytest.mark.qt_log_ignore("propagateSizeHints")
def test_a_failing_job_in_the_gui_gives_its_reason(qapp, monkeypatch: pytest.MonkeyPatch) -> None:
    from snowml_desktop.engines.local.engine import LocalEngine

    def refuse(self, request, *, task=None):  # noqa: ANN001, ANN202 - stands in for an engine that fails
        raise InvalidInput("The target DIAGNOSIS has a single class.", hint="Pick another target.")

    monkeypatch.setattr(LocalEngine, "train", refuse)
    lines: list[str] = []
    code = selftest.run_self_test(out=lines.append, log_file=Path("/logs/snowml-desktop.log"))
    assert code == 1
    assert lines == [
        "self-test FAILED: Train Random Forest on PATIENTS failed: The target DIAGNOSIS has a single class. "
        "Pick another target. (details in /logs/snowml-desktop.log)"
    ]

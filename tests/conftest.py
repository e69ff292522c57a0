"""Fixtures shared by every test: an isolated workspace and settings store per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or writes the real user's data, config or Snowflake connections."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("SNOWML_HOME", str(home / "workspace"))
    monkeypatch.setenv("SNOWML_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("SNOWFLAKE_HOME", str(home / "snowflake"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "xdg-data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "xdg-cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "xdg-state"))
    monkeypatch.setenv("SNOWML_LOG_DIR", str(home / "logs"))
    return home


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A fresh, not yet created, local workspace folder."""
    return tmp_path / "workspace"


@pytest.fixture
def local_engine(workspace: Path) -> Iterator:
    """A LocalEngine on a fresh workspace (seeded with the demo files), closed after the test."""
    from snowml_desktop.engines.local.engine import LocalEngine

    engine = LocalEngine(workspace)
    try:
        yield engine
    finally:
        engine.close()


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> int:
    """Local scoring in batches of 200 rows, so a demo table of a few hundred rows spans several batches
    and keeps two workers busy (as a table of millions does with the real batch size)."""
    import dataclasses

    from snowml_desktop.engines.local import engine, models

    rows = 200
    monkeypatch.setattr(models, "BATCH_ROWS", rows)
    capabilities = dataclasses.replace(engine.LocalEngine.capabilities, rows_per_worker=rows)
    monkeypatch.setattr(engine.LocalEngine, "capabilities", capabilities)
    return rows

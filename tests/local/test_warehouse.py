"""The local warehouse state kept in APP.SETTINGS."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from snowml_desktop.core.errors import InvalidInput
from snowml_desktop.engines.local import catalog
from snowml_desktop.engines.local.warehouse import LocalWarehouse
from snowml_desktop.engines.local.workspace import Workspace


@pytest.fixture
def warehouse(workspace: Path):
    ws = Workspace.open(workspace)
    with ws.cursor() as cur:
        catalog.ensure_schema(cur)
    yield LocalWarehouse(ws)
    ws.close()


def test_defaults(warehouse: LocalWarehouse) -> None:
    state = warehouse.state()
    assert (state.name, state.size, state.type, state.state) == ("LOCAL_WH", "X-Small", "STANDARD", "LOCAL")
    assert state.workers == 1
    assert state.credits_per_hour == 1.0


def test_set_size_and_type_persist(warehouse: LocalWarehouse, workspace: Path) -> None:
    state = warehouse.set(size="small", type="snowpark_optimized")
    assert (state.size, state.type, state.credits_per_hour) == ("Small", "SNOWPARK-OPTIMIZED", 3.0)
    assert state.workers == min(2, __import__("os").cpu_count() or 1)
    assert warehouse.set(size="MEDIUM").type == "SNOWPARK-OPTIMIZED"  # type untouched


def test_unknown_size_or_type_changes_nothing(warehouse: LocalWarehouse) -> None:
    with pytest.raises(InvalidInput, match="size"):
        warehouse.set(size="Huge", type="STANDARD")
    with pytest.raises(InvalidInput, match="type"):
        warehouse.set(size="Large", type="GPU")
    assert warehouse.state().size == "X-Small"


def test_type_switch_is_restored_even_on_error(warehouse: LocalWarehouse) -> None:
    with pytest.raises(RuntimeError), warehouse.type_switched("SNOWPARK-OPTIMIZED") as state:
        assert state.type == "SNOWPARK-OPTIMIZED"
        assert warehouse.state().type == "SNOWPARK-OPTIMIZED"
        raise RuntimeError("fit failed")
    assert warehouse.state().type == "STANDARD"


def test_overlapping_switches_restore_the_type_from_before_the_first(warehouse: LocalWarehouse) -> None:
    first, second = (warehouse.type_switched("SNOWPARK-OPTIMIZED") for _ in range(2))
    first.__enter__()
    second.__enter__()  # a second training, on another job thread, starts while the first runs
    first.__exit__(None, None, None)  # the first finishes first
    assert warehouse.state().type == "SNOWPARK-OPTIMIZED"  # the second still runs
    second.__exit__(None, None, None)
    assert warehouse.state().type == "STANDARD"


_KILLED_DURING_A_SWITCH = """
import os, signal, sys
from pathlib import Path
from snowml_desktop.engines.local import catalog
from snowml_desktop.engines.local.warehouse import LocalWarehouse
from snowml_desktop.engines.local.workspace import Workspace
ws = Workspace.open(Path(sys.argv[1]))
with ws.cursor() as cur:
    catalog.ensure_schema(cur)
with LocalWarehouse(ws).type_switched("SNOWPARK-OPTIMIZED"):
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_switch_left_by_a_killed_process_is_undone_when_the_workspace_opens(workspace: Path) -> None:
    src = str(Path(__file__).resolve().parents[2] / "src")
    done = subprocess.run(
        [sys.executable, "-c", _KILLED_DURING_A_SWITCH, str(workspace)],
        env={**os.environ, "PYTHONPATH": src},
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL
    ws = Workspace.open(workspace)
    try:
        with ws.cursor() as cur:
            catalog.ensure_schema(cur)
            assert catalog.get_setting(cur, "warehouse.type", "") == "SNOWPARK-OPTIMIZED"  # as the kill left it
        assert LocalWarehouse(ws).state().type == "STANDARD"
    finally:
        ws.close()

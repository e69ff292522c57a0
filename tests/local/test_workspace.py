"""The workspace folder and database, and the LocalEngine's connection-level behaviour."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from snowml_desktop.core.demo_data import DEMO_FILES
from snowml_desktop.core.errors import ConnectionFailed, InvalidInput, NotFound
from snowml_desktop.core.memory import MIN_MEMORY_LIMIT, default_memory_limit
from snowml_desktop.engines.local.workspace import Workspace

SRC = str(Path(__file__).resolve().parents[2] / "src")


def test_open_creates_folders_database_schemas_and_demo_files(workspace):
    with Workspace.open(workspace) as ws:
        assert ws.root == workspace.resolve()
        assert ws.db_path == ws.root / "warehouse.duckdb" and ws.db_path.is_file()
        assert sorted(p.name for p in ws.stage_dir("LOAD_DATA").iterdir()) == sorted(DEMO_FILES)
        assert ws.stage_dir("MODELS").is_dir()
        with ws.cursor() as cur:
            schemas = {r[0] for r in cur.execute("SELECT schema_name FROM duckdb_schemas()").fetchall()}
    assert {"DATA", "APP"} <= schemas


def test_root_defaults_to_snowml_home(monkeypatch, tmp_path):
    monkeypatch.setenv("SNOWML_HOME", str(tmp_path / "home-ws"))
    with Workspace.open() as ws:
        assert ws.root == (tmp_path / "home-ws").resolve()


def test_reopening_does_not_reseed_files_the_user_removed(workspace):
    with Workspace.open(workspace) as ws:
        (ws.stage_dir("LOAD_DATA") / "CHURN.csv").unlink()
    with Workspace.open(workspace) as ws:
        assert not (ws.stage_dir("LOAD_DATA") / "CHURN.csv").exists()


def test_stage_names_are_normalized_and_unknown_stages_refused(workspace):
    with Workspace.open(workspace) as ws:
        assert ws.stage_dir("load_data") == ws.stage_dir("@LOAD_DATA") == ws.root / "stages" / "LOAD_DATA"
        with pytest.raises(NotFound, match="no stage 'elsewhere'"):
            ws.stage_dir("elsewhere")
        with pytest.raises(NotFound):
            ws.stage_dir('"load_data"')  # quoted: exact, lower-case, so a different stage


def test_table_ref_quotes_canonical_names(workspace):
    with Workspace.open(workspace) as ws:
        assert ws.table_ref("SALES") == '"DATA"."SALES"'
        assert ws.table_ref('a"b') == '"DATA"."a""b"'


def test_cursor_after_close_fails_clearly_and_close_is_idempotent(workspace):
    ws = Workspace.open(workspace)
    ws.close()
    ws.close()
    assert ws.closed
    with pytest.raises(ConnectionFailed, match="closed"):
        ws.cursor()


def test_interrupt_stops_a_running_query_on_another_thread(workspace):
    with Workspace.open(workspace) as ws:
        cur = ws.cursor()
        errors: list[BaseException] = []

        def run() -> None:
            try:
                cur.execute("SELECT count(*) FROM range(100000000000) t(i) WHERE i % 7 = 3").fetchall()
            except duckdb.Error as exc:
                errors.append(exc)

        thread = threading.Thread(target=run)
        thread.start()
        time.sleep(0.3)
        ws.interrupt()
        thread.join(timeout=10)
        cur.close()
    assert not thread.is_alive()
    assert errors and isinstance(errors[0], duckdb.InterruptException)


def test_a_second_process_gets_a_clear_connection_failed(workspace):
    with Workspace.open(workspace):
        code = (
            "import sys\n"
            "from snowml_desktop.core.errors import ConnectionFailed\n"
            "from snowml_desktop.engines.local.workspace import Workspace\n"
            "try:\n"
            f"    Workspace.open(__import__('pathlib').Path({str(workspace)!r}))\n"
            "except ConnectionFailed as exc:\n"
            "    print(exc); sys.exit(3)\n"
        )
        env = {**os.environ, "PYTHONPATH": SRC}
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
        )
    assert done.returncode == 3, done.stderr
    assert "in use by another snowml process" in done.stdout
    assert f"(pid {os.getpid()})" in done.stdout
    assert "--workspace" in done.stdout


def test_an_unusable_folder_fails_clearly(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ConnectionFailed, match="Cannot create the workspace folder"):
        Workspace.open(blocker / "ws")


def test_a_damaged_database_file_fails_clearly(workspace):
    (workspace / "stages").mkdir(parents=True)
    (workspace / "warehouse.duckdb").write_bytes(b"this is not a duckdb file at all" * 200)
    with pytest.raises(ConnectionFailed, match="warehouse.duckdb"):
        Workspace.open(workspace)


# --- LocalEngine, connection level -----------------------------------------------------------------------
def test_describe_and_capabilities(local_engine, workspace):
    info = local_engine.describe()
    assert (info.engine, info.account, info.schema) == ("local", "Local", "DATA")
    assert info.database == workspace.name and info.workspace == workspace.resolve()
    assert info.warehouse.size == "X-Small"
    caps = local_engine.capabilities
    assert caps.local and caps.supports_cancel and caps.supports_upload and caps.supports_snowpark_optimized
    assert not caps.supports_zero_copy_clone


def test_engine_close_is_idempotent(workspace):
    from snowml_desktop.engines.local.engine import LocalEngine

    engine = LocalEngine(workspace)
    engine.close()
    engine.close()
    assert engine.workspace.closed


def test_activity_is_emitted_also_for_failures_and_delegated_calls(local_engine):
    seen = []
    local_engine.add_activity_listener(seen.append)
    local_engine.list_models()
    with pytest.raises(NotFound):
        local_engine.drop_table("nothing_here")
    local_engine.warehouse()
    assert [(a.operation, a.ok) for a in seen] == [
        ("list_models", True),
        ("drop_table", False),
        ("warehouse", True),
    ]
    assert seen[1].detail == "nothing_here" and seen[1].seconds >= 0


def test_cancel_all_interrupts_running_queries(local_engine):
    from snowml_desktop.core.errors import Cancelled
    from snowml_desktop.engines.local import demo

    errors: list[BaseException] = []

    def run() -> None:
        try:
            local_engine.create_demo_table("BIG", demo.CHUNK_ROWS)
        except Cancelled as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.5)
    local_engine.cancel_all()
    thread.join(timeout=30)
    assert errors, "the generation was not cancelled"
    assert [t.name for t in local_engine.list_tables()] == []


# --- leftovers of killed uploads, privacy -----------------------------------------------------------------
_HOLD_OPEN = (
    "import sys\n"
    "from pathlib import Path\n"
    "from snowml_desktop.engines.local.workspace import Workspace\n"
    "ws = Workspace.open(Path(sys.argv[1]))\n"
    "(ws.stage_dir('LOAD_DATA') / '.big.csv.k2j4.part').write_bytes(b'half an upload')\n"
    "print('ready', flush=True)\n"
    "sys.stdin.read()\n"
)


def test_parts_of_a_killed_upload_are_swept_but_not_while_another_process_uploads(workspace):
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_OPEN, str(workspace)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": SRC},
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        part = workspace / "stages" / "LOAD_DATA" / ".big.csv.k2j4.part"
        with pytest.raises(ConnectionFailed, match="in use"):
            Workspace.open(workspace)
        assert part.exists()  # the upload of the running process is left alone
    finally:
        holder.kill()  # kill -9 in the middle of the "upload"
        holder.wait(timeout=60)
    with Workspace.open(workspace) as ws:
        names = {p.name for p in ws.stage_dir("LOAD_DATA").iterdir()}
    assert part.name not in names and set(DEMO_FILES) <= names


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_the_workspace_is_private_to_its_user_also_when_made_before(workspace):
    def modes() -> dict[str, int]:
        paths = [workspace, workspace / "stages", workspace / "stages" / "LOAD_DATA", workspace / "stages" / "MODELS"]
        return {
            **{str(p.relative_to(workspace.parent)): p.stat().st_mode & 0o777 for p in paths},
            "warehouse.duckdb": (workspace / "warehouse.duckdb").stat().st_mode & 0o777,
        }

    old_umask = os.umask(0o022)
    try:
        Workspace.open(workspace).close()
        assert set(modes().values()) <= {0o700, 0o600} and modes()["warehouse.duckdb"] == 0o600
        for path in workspace.rglob("*"):  # as an older version left it
            path.chmod(0o755 if path.is_dir() else 0o644)
        workspace.chmod(0o755)
        Workspace.open(workspace).close()
    finally:
        os.umask(old_umask)
    assert modes()["warehouse.duckdb"] == 0o600
    assert {mode for name, mode in modes().items() if name != "warehouse.duckdb"} == {0o700}


# --- memory limit and spilling ---------------------------------------------------------------------------


def _physical_memory() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _setting(ws: Workspace, name: str) -> str:
    with ws.cursor() as cur:
        return cur.execute("SELECT current_setting(?)", [name]).fetchone()[0]


def test_duckdb_gets_the_default_memory_limit_and_spills_into_a_private_workspace_folder(workspace):
    with Workspace.open(workspace) as ws:
        assert ws.memory_limit == default_memory_limit() < 0.8 * _physical_memory()  # DuckDB's own default
        assert _setting(ws, "memory_limit") == f"{ws.memory_limit / 2**20:.1f} MiB"
        assert _setting(ws, "temp_directory") == str(ws.root / ".spill") == str(ws.spill_dir)
        assert ws.spill_dir.is_dir()
        if os.name != "nt":
            assert ws.spill_dir.stat().st_mode & 0o777 == 0o700
        # Scoring's positional join relies on it: never turned off to save memory.
        assert _setting(ws, "preserve_insertion_order") is True


def test_the_memory_limit_given_at_open_reaches_duckdb(workspace):
    with Workspace.open(workspace, 768 * 2**20) as ws:
        assert _setting(ws, "memory_limit") == "768.0 MiB"


def test_a_memory_limit_below_the_minimum_is_refused_before_anything_is_created(workspace):
    with pytest.raises(InvalidInput, match=r"memory limit of 128 MiB is too little.*at least 256 MiB"):
        Workspace.open(workspace, 128 * 2**20)
    assert not workspace.exists()


def test_spill_files_a_killed_process_left_are_removed_at_open(workspace):
    Workspace.open(workspace).close()
    leftover = workspace / ".spill" / "duckdb_temp_4242_0_storage_DEFAULT-0.tmp"
    leftover.write_bytes(b"\0" * 1024)
    with Workspace.open(workspace) as ws:
        assert list(ws.spill_dir.iterdir()) == []


def test_data_larger_than_the_limit_is_spilled_to_the_workspace_and_queries_on_it_complete(workspace):
    """384 MB of text in a temporary table under a 256 MiB limit: DuckDB keeps the excess in the workspace's
    spill folder (its own accounting says so too), and a query over all of it returns the right answer."""
    with Workspace.open(workspace, MIN_MEMORY_LIMIT) as ws, ws.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE big AS SELECT i, repeat(md5(i::VARCHAR), 8) AS s FROM range(1500000) t(i)"
        )
        spilled = cur.execute("SELECT sum(temporary_storage_bytes) FROM duckdb_memory()").fetchone()[0]
        assert spilled > 0
        assert any(path.name.startswith("duckdb_temp") for path in ws.spill_dir.iterdir())
        assert cur.execute("SELECT count(*), sum(length(s)) FROM big").fetchone() == (1_500_000, 384_000_000)

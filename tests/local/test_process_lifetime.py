"""A `snowml` process killed with SIGKILL: its worker processes end with it, and the warehouse type it had
switched for an optimized training is back the next time the workspace opens."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from snowml_desktop.engines.base import TrainRequest
from snowml_desktop.engines.local.engine import LocalEngine

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")

SRC = str(Path(__file__).resolve().parents[2] / "src")
START_SECONDS = 120  # for the workers to start on a busy machine
GONE_SECONDS = 30  # for them to end after their owner; left alone they would fit or wait for minutes


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            parents[int(entry.name)] = stat[1]
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")  # a zombie has ended; only its entry is left


def _workers_of(pid: int) -> set[int]:
    """The spawned worker processes (not the resource tracker) below ``pid``."""
    workers = set()
    for child in _descendants(pid):
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                workers.add(child)
        except FileNotFoundError:
            continue
    return workers


def _kill_while_workers_run(workspace: Path, *args: str, workers: int) -> set[int]:
    """Start `snowml ARGS`, SIGKILL it once ``workers`` worker processes run; return every process it had
    started (workers and the multiprocessing resource tracker)."""
    cli = subprocess.Popen(
        [sys.executable, "-m", "snowml_desktop.cli", "--workspace", str(workspace), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": SRC},
    )
    try:
        deadline = time.monotonic() + START_SECONDS
        while len(_workers_of(cli.pid)) < workers:
            assert cli.poll() is None, f"snowml ended before its workers ran: {cli.stderr.read().decode()}"
            assert time.monotonic() < deadline, "the workers never started"
            time.sleep(0.05)
        started = _descendants(cli.pid)
        os.kill(cli.pid, signal.SIGKILL)
    finally:
        cli.kill()
        cli.wait(timeout=60)
        cli.stderr.close()
    return started


def _wait_until_gone(pids: set[int]) -> set[int]:
    deadline = time.monotonic() + GONE_SECONDS
    while (alive := {pid for pid in pids if _alive(pid)}) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    workspace = tmp_path_factory.mktemp("lifetime") / "workspace"
    engine = LocalEngine(workspace)
    try:
        engine.create_demo_table("SMALL", 2_000, seed=1)
        engine.create_demo_table("BIG", 600_000, seed=2)
        model = engine.train(TrainRequest(table="SMALL", target="CHURNED", params={"n_estimators": 20}))
    finally:
        engine.close()
    return workspace, model.name


def test_scoring_workers_end_with_a_killed_cli(trained) -> None:
    workspace, model = trained
    started = _kill_while_workers_run(
        workspace, "score", "--model", model, "--table", "BIG", "--size", "small", workers=min(2, os.cpu_count() or 1)
    )
    assert started and not _wait_until_gone(started)


def test_a_killed_optimized_training_ends_its_worker_and_the_type_is_restored(trained) -> None:
    workspace, _ = trained
    started = _kill_while_workers_run(
        workspace, "train", "BIG", "--target", "CHURNED", "--optimized", "--param", "n_estimators=300", workers=1
    )
    assert started and not _wait_until_gone(started)
    engine = LocalEngine(workspace)
    try:
        assert engine.warehouse().type == "STANDARD"
    finally:
        engine.close()


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the folds run in processes only with several cores")
def test_a_killed_cross_validated_training_ends_its_fit_processes(trained) -> None:
    """The training worker fits the folds in processes of its own: they end with it, so with the CLI."""
    workspace, _ = trained
    started = _kill_while_workers_run(
        workspace, "train", "BIG", "--target", "CHURNED", "--cv", "5", workers=1 + min(2, os.cpu_count() or 1)
    )
    assert started and not _wait_until_gone(started)


def test_workers_started_from_a_finished_job_thread_stay_warm(trained, tmp_path) -> None:
    """The GUI scores on pool threads that end when idle; Linux's parent-death signal follows the thread
    that started a process, so the warm workers must not go with that thread."""
    import shutil
    import threading

    from snowml_desktop.engines.base import ScoreRequest

    workspace = tmp_path / "copy"
    shutil.copytree(trained[0], workspace)
    engine = LocalEngine(workspace)
    try:
        errors: list[BaseException] = []

        def job() -> None:
            try:
                engine.score(ScoreRequest(model=trained[1], table="SMALL", output="FIRST", size="small"))
            except BaseException as exc:  # reported below
                errors.append(exc)

        thread = threading.Thread(target=job)
        thread.start()
        thread.join(timeout=START_SECONDS)
        assert not thread.is_alive() and not errors
        pids = set(engine.models._pool.worker_pids())
        run = engine.score(ScoreRequest(model=trained[1], table="SMALL", output="SECOND", size="small"))
        assert run.rows == 2_000 and set(engine.models._pool.worker_pids()) == pids
        assert all(_alive(pid) for pid in pids)
    finally:
        engine.close()

"""A `snowml` process killed with SIGKILL: its worker processes end with it, and the warehouse type it had
switched for an optimized training is back the next time the workspace opens."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from snowml_desktop.core.errors import EngineError, ResourceExhausted
from snowml_desktop.engines.base import CompareRequest, TrainRequest
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


def _fit_processes(owner: int) -> set[int]:
    """The fit processes below ``owner``: spawned workers whose parent is itself a spawned worker."""
    workers = _workers_of(owner)
    return {pid for pid in workers if (stat := _stat(pid)) is not None and stat[1] in workers}


def _kill_a_fit_process(owner: int, killed: list[int], stop: threading.Event) -> None:
    deadline = time.monotonic() + START_SECONDS
    while not stop.is_set() and time.monotonic() < deadline:
        if fits := _fit_processes(owner):
            pid = min(fits)
            os.kill(pid, signal.SIGKILL)  # as the kernel's out-of-memory killer would
            killed.append(pid)
            return
        time.sleep(0.05)


def _with_a_fit_process_killed(run: Callable[[], object]) -> tuple[EngineError, list[int]]:
    killed: list[int] = []
    stop = threading.Event()
    killer = threading.Thread(target=_kill_a_fit_process, args=(os.getpid(), killed, stop))
    killer.start()
    try:
        with pytest.raises(EngineError) as info:
            run()
    finally:
        stop.set()
        killer.join()
    return info.value, killed


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the folds run in processes only with several cores")
@pytest.mark.parametrize("what", ["train", "compare"])
def test_a_fit_process_that_dies_is_explained(trained, what) -> None:
    """A fit process killed mid-run (as by the out-of-memory killer): the training or comparison fails with
    what happened, during which fits, and what to change; not the executor's BrokenProcessPool."""
    workspace, _ = trained
    engine = LocalEngine(workspace)
    try:
        if what == "train":
            request = TrainRequest(table="BIG", target="CHURNED", cv_folds=5, params={"n_estimators": 50})
            error, killed = _with_a_fit_process_killed(lambda: engine.train(request))
            where = "Random Forest cross-validation fold"
        else:
            compare = CompareRequest(table="BIG", target="CHURNED", methods=["random_forest", "gradient_boosting"])
            error, killed = _with_a_fit_process_killed(lambda: engine.compare(compare))
            where = "Random Forest fold"
    finally:
        engine.close()
    assert killed, "no fit process was seen"
    assert isinstance(error, ResourceExhausted)
    assert error.message.startswith("A fitting process ended unexpectedly while fitting ")
    assert where in error.message and "ran out of memory" in error.message
    assert "fewer cross-validation folds" in error.hint and "Details are in the log" in error.hint
    assert "BrokenProcessPool" not in str(error) and "terminated abruptly" not in str(error)

"""The jobs layer: plain functions run on pool threads, outcomes delivered on the GUI thread."""

from __future__ import annotations

import threading
import time

import pytest
from pytestqt.qtbot import QtBot

from snowml_desktop.core.errors import Cancelled, InvalidInput
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.jobs import ErrorInfo, JobHandle, JobManager, JobState

WAIT_MS = 10_000


@pytest.fixture
def manager() -> JobManager:
    jobs = JobManager(max_threads=4)
    yield jobs
    jobs.cancel_all()
    jobs.wait_idle(WAIT_MS)


def record(handle: JobHandle) -> list[tuple]:
    """Everything a handle emits, with whether it arrived on the GUI (main) thread."""
    events: list[tuple] = []

    def on_gui() -> bool:
        return threading.current_thread() is threading.main_thread()

    handle.progress.connect(lambda f, s: events.append(("progress", f, s, on_gui())))
    handle.succeeded.connect(lambda r: events.append(("succeeded", r, on_gui())))
    handle.failed.connect(lambda e: events.append(("failed", e, on_gui())))
    handle.cancelled.connect(lambda: events.append(("cancelled", on_gui())))
    handle.finished.connect(lambda: events.append(("finished", on_gui())))
    return events


def wait_for_cancel(task: TaskContext) -> None:
    """A job that runs until cancelled (or fails the test after 10 s)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        task.check()
        task.token._event.wait(0.005)
    raise AssertionError("the job was never cancelled")


def test_success_reports_progress_then_result_on_gui_thread(qtbot: QtBot, manager: JobManager) -> None:
    def job(task: TaskContext) -> str:
        task.report(0.5, "half way")
        return threading.current_thread().name

    handle = manager.submit("Demo", job)
    events = record(handle)
    assert handle.state == JobState.QUEUED or handle.state == JobState.RUNNING
    with qtbot.waitSignal(handle.finished, timeout=WAIT_MS):
        pass
    assert events[0] == ("progress", 0.5, "half way", True)
    kind, worker_thread, on_gui = events[1]
    assert (kind, on_gui) == ("succeeded", True)
    assert worker_thread != threading.main_thread().name
    assert events[2:] == [("finished", True)]
    assert handle.state == JobState.SUCCEEDED and handle.result == worker_thread
    assert handle.fraction == 1.0 and handle.elapsed >= 0 and manager.running() == []


def test_engine_error_becomes_error_info(qtbot: QtBot, manager: JobManager) -> None:
    def job(task: TaskContext) -> None:
        raise InvalidInput("Column AGE is missing.", hint="Pick another table.")

    handle = manager.submit("Train", job)
    with qtbot.waitSignal(handle.failed, timeout=WAIT_MS) as blocker:
        pass
    error = blocker.args[0]
    assert isinstance(error, ErrorInfo)
    assert error.message == "Column AGE is missing. Pick another table."
    assert error.code == "invalid_input"
    assert "Traceback" in error.details and "InvalidInput" in error.details
    assert handle.state == JobState.FAILED and handle.error == error


def test_bug_is_reported_without_its_text(qtbot: QtBot, manager: JobManager) -> None:
    def job(task: TaskContext) -> None:
        {}["secret internals"]

    handle = manager.submit("Score", job)
    with qtbot.waitSignal(handle.failed, timeout=WAIT_MS) as blocker:
        pass
    error = blocker.args[0]
    assert error.message == "Unexpected error in Score: KeyError"
    assert error.code == "unexpected"
    assert "secret internals" in error.details


def test_cancel_sets_token_runs_engine_callback_and_ends_cancelled(qtbot: QtBot, manager: JobManager) -> None:
    interrupted = threading.Event()

    def job(task: TaskContext) -> None:
        task.token.on_cancel(interrupted.set)  # what an engine does to interrupt running SQL
        task.report(0.1, "running")
        wait_for_cancel(task)

    handle = manager.submit("Long", job)
    events = record(handle)
    qtbot.waitUntil(lambda: handle.state == JobState.RUNNING, timeout=WAIT_MS)
    with qtbot.waitSignal(handle.finished, timeout=WAIT_MS):
        handle.cancel()
        assert interrupted.is_set()
    assert [e[0] for e in events if e[0] != "progress"] == ["cancelled", "finished"]
    assert handle.state == JobState.CANCELLED and handle.result is None
    handle.cancel()  # a no-op once ended
    assert handle.state == JobState.CANCELLED


def test_cancel_before_start_never_runs_the_function(qtbot: QtBot) -> None:
    jobs = JobManager(max_threads=1)
    release = threading.Event()
    ran = []
    blocker_job = jobs.submit("Busy", lambda task: release.wait(WAIT_MS / 1000))
    queued = jobs.submit("Queued", lambda task: ran.append(True))
    events = record(queued)
    with qtbot.waitSignal(queued.finished, timeout=WAIT_MS):
        queued.cancel()
        assert events == []  # never emitted from inside cancel()
    release.set()
    with qtbot.waitSignal(blocker_job.finished, timeout=WAIT_MS):
        pass
    assert ran == [] and queued.state == JobState.CANCELLED
    assert [e[0] for e in events] == ["cancelled", "finished"]


def test_failure_is_not_emitted_inside_submit(qtbot: QtBot, manager: JobManager) -> None:
    handle = manager.submit("Instant", lambda task: (_ for _ in ()).throw(InvalidInput("no")))
    events = record(handle)  # connected after submit returned: nothing may be lost
    with qtbot.waitSignal(handle.finished, timeout=WAIT_MS):
        pass
    assert [e[0] for e in events] == ["failed", "finished"]


def test_same_key_supersedes_and_drops_stale_results(qtbot: QtBot, manager: JobManager) -> None:
    release = threading.Event()

    def slow(task: TaskContext) -> str:
        release.wait(WAIT_MS / 1000)  # ignores cancellation on purpose: its result must still not arrive
        return "stale"

    first = manager.submit("Preview", slow, key="analyze:preview")
    stale = record(first)
    qtbot.waitUntil(lambda: first.state == JobState.RUNNING, timeout=WAIT_MS)
    second = manager.submit("Preview", lambda task: "fresh", key="analyze:preview")
    fresh = record(second)
    assert first.cancel_requested and first.superseded
    with qtbot.waitSignal(second.finished, timeout=WAIT_MS):
        pass
    release.set()
    qtbot.waitUntil(lambda: first.done, timeout=WAIT_MS)
    assert stale == []
    assert first.state == JobState.CANCELLED and first.result is None
    assert [e[0] for e in fresh] == ["succeeded", "finished"] and second.result == "fresh"


def test_one_write_job_per_table_the_second_waits(qtbot: QtBot, manager: JobManager) -> None:
    log: list[str] = []
    release = threading.Event()

    def first_write(task: TaskContext) -> None:
        log.append("first start")
        release.wait(WAIT_MS / 1000)
        log.append("first end")

    def second_write(task: TaskContext) -> None:
        log.append("second start")

    first = manager.submit("Load CHURN", first_write, writes="CHURN")
    second = manager.submit("Append CHURN", second_write, writes="CHURN")
    other = manager.submit("Load SALES", lambda task: log.append("other table"), writes="SALES")
    with qtbot.waitSignal(other.finished, timeout=WAIT_MS):
        pass
    assert second.state == JobState.QUEUED and "Load CHURN" in second.stage
    release.set()
    with qtbot.waitSignal(second.finished, timeout=WAIT_MS):
        pass
    assert [e for e in log if e != "other table"] == ["first start", "first end", "second start"]
    assert first.state == second.state == JobState.SUCCEEDED


def test_cancelling_a_waiting_writer_leaves_the_table_to_the_next(qtbot: QtBot, manager: JobManager) -> None:
    release = threading.Event()
    ran: list[str] = []
    first = manager.submit("W1", lambda task: release.wait(WAIT_MS / 1000), writes="T")
    waiting = manager.submit("W2", lambda task: ran.append("W2"), writes="T")
    third = manager.submit("W3", lambda task: ran.append("W3"), writes="T")
    with qtbot.waitSignal(waiting.cancelled, timeout=WAIT_MS):
        waiting.cancel()
    release.set()
    with qtbot.waitSignal(third.finished, timeout=WAIT_MS):
        pass
    assert ran == ["W3"] and first.state == JobState.SUCCEEDED


def test_cancelled_raise_without_request_is_a_failure(qtbot: QtBot, manager: JobManager) -> None:
    handle = manager.submit("Odd", lambda task: (_ for _ in ()).throw(Cancelled()))
    with qtbot.waitSignal(handle.finished, timeout=WAIT_MS):
        pass
    assert handle.state == JobState.FAILED and handle.error.code == "cancelled"


def test_wait_idle_times_out_then_succeeds(qtbot: QtBot, manager: JobManager) -> None:
    release = threading.Event()
    manager.submit("Blocked", lambda task: release.wait(WAIT_MS / 1000))
    assert manager.wait_idle(30) is False
    assert len(manager.running()) == 1
    release.set()
    assert manager.wait_idle(WAIT_MS) is True
    assert manager.running() == []


def test_progress_is_throttled(qtbot: QtBot, manager: JobManager) -> None:
    def chatty(task: TaskContext) -> None:
        for i in range(20_000):
            task.report(i / 20_000, "rows")

    handle = manager.submit("Chatty", chatty)
    events = record(handle)
    with qtbot.waitSignal(handle.finished, timeout=WAIT_MS):
        pass
    progress = [e for e in events if e[0] == "progress"]
    assert 1 <= len(progress) < 200


def test_context_run_without_engine_fails_cleanly(qtbot: QtBot, bare_context) -> None:
    handle = bare_context.run("Tables", lambda engine, task: engine.list_tables())
    with qtbot.waitSignal(handle.failed, timeout=WAIT_MS) as blocker:
        pass
    assert blocker.args[0].code == "connection_failed"
    assert "Not connected" in blocker.args[0].message


def test_context_run_uses_the_engine_and_changing_it_cancels_jobs(qtbot: QtBot, bare_context) -> None:
    class StubEngine:
        """Stands in for an engine: records close(); the jobs layer needs nothing else."""

        kind = "stub"

        def __init__(self) -> None:
            self.closed = threading.Event()

        def cancel_all(self) -> None:
            pass

        def close(self) -> None:
            self.closed.set()

    first, second = StubEngine(), StubEngine()
    bare_context.set_engine(first, "one")
    running = bare_context.run("Long", lambda engine, task: wait_for_cancel(task))
    qtbot.waitUntil(lambda: running.state == JobState.RUNNING, timeout=WAIT_MS)
    with qtbot.waitSignal(bare_context.engine_changed, timeout=WAIT_MS) as changed:
        bare_context.set_engine(second, "two")
    assert changed.args == [second] and bare_context.engine is second
    with qtbot.waitSignal(running.cancelled, timeout=WAIT_MS):
        pass
    assert bare_context.jobs.wait_idle(WAIT_MS)
    assert first.closed.is_set() and not second.closed.is_set()
    handle = bare_context.run("Which", lambda engine, task: engine)
    with qtbot.waitSignal(handle.succeeded, timeout=WAIT_MS) as result:
        pass
    assert result.args == [second]


def test_reference_cycles_are_freed_on_the_gui_thread_only(qtbot: QtBot, manager: JobManager) -> None:
    import gc

    assert not gc.isenabled()  # the job manager handed cycle collection to the GUI thread's timer
    freed_on: list[threading.Thread] = []

    class Node:
        def __init__(self) -> None:
            self.me = self  # a cycle: only the cyclic collector can free it

        def __del__(self) -> None:
            freed_on.append(threading.current_thread())

    def churn(task: TaskContext) -> int:
        # Enough cyclic garbage on a worker thread to cross every collection threshold many times over.
        for _ in range(50_000):
            Node()
        return 0

    handle = manager.submit("make garbage", churn)
    with qtbot.waitSignal(handle.finished, timeout=WAIT_MS):
        pass
    qtbot.waitUntil(lambda: len(freed_on) >= 49_000, timeout=WAIT_MS)
    assert set(freed_on) == {threading.main_thread()}


def test_full_collections_follow_the_interpreters_quarter_rule(manager: JobManager) -> None:
    """A full collection walks every object of the app (a GUI stall), so, as in CPython, it runs only once
    the objects that reached the oldest generation since the last one are a quarter of those it kept; until
    then the middle generation is collected. Garbage kept meanwhile is freed by the next full one."""
    import gc
    import weakref

    from snowml_desktop.jobs import collector

    gui = collector._running
    assert gui is not None  # started by the job manager
    thresholds = gc.get_threshold()

    class Node:
        def __init__(self) -> None:
            self.me = self

    def make_due(generation: int) -> None:
        """Move the young survivors into the oldest generation and make ``generation`` due."""
        for _ in range(thresholds[2] + 1):  # each middle collection moves its survivors on, and counts
            gc.collect(1)
        if generation == 1:
            for _ in range(thresholds[1] + 1):
                gc.collect(0)

    def full_collections() -> int:
        return gc.get_stats()[2]["collections"]

    def tracked() -> int:
        return len(gc.get_objects()) + gc.get_freeze_count()

    everything = [[] for _ in range(tracked())]  # doubles the objects: a full collection is due
    make_due(2)
    before = full_collections()
    gui.collect_due()
    assert full_collections() == before + 1
    kept = tracked()

    cycle = Node()
    freed = weakref.ref(cycle)
    few = [[] for _ in range(kept // 10)]
    make_due(2)
    make_due(1)
    del cycle  # garbage now, in the oldest generation
    middle = gc.get_stats()[1]["collections"]
    gui.collect_due()
    assert full_collections() == before + 1  # a tenth more objects: no full collection
    assert gc.get_stats()[1]["collections"] == middle + 1
    assert freed() is not None

    many = [[] for _ in range(kept // 3)]
    make_due(2)
    gui.collect_due()
    assert full_collections() == before + 2
    assert freed() is None
    del everything, few, many

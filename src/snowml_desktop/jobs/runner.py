"""The Qt side of background work: run plain ``fn(task)`` functions on worker threads.

A job is a plain function taking a :class:`~snowml_desktop.core.tasks.TaskContext`; it has no Qt in it and
can be tested with a bare ``TaskContext()``. :class:`JobManager` runs it on a ``QThreadPool`` and a
:class:`JobHandle` reports what happens, always on the GUI thread (the thread that called ``submit``).

Contract of a handle's public signals:

- ``progress(fraction, stage)`` zero or more times (throttled to about 20 per second);
- then exactly one of ``succeeded(result)``, ``failed(ErrorInfo)`` or ``cancelled()``;
- then ``finished()``, always last and exactly once.

None of them is emitted from inside ``submit``; the caller always has time to connect.

Cancellation: :meth:`JobHandle.cancel` sets the task's ``CancelToken`` (engines then interrupt their SQL or
worker processes). A job that had not started is cancelled at once. A running job ends as *cancelled* when
its function raises (``Cancelled`` or anything else) after the cancel; if the function returns normally
anyway, its work is done and the job *succeeded*.

Keys: a job submitted with the ``key`` of a job still active supersedes it. The old job is cancelled and
its public signals are disconnected first, so its results never arrive (the Jobs dock follows it through
``changed``, which is never disconnected).

Writes: ``writes`` names the canonical table a job writes. At most one write job per table runs at a
time; a second one *queues* (state ``queued``, stage "Waiting for ...") and starts when the first ends.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal, Slot

from snowml_desktop.core.errors import EngineError
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.jobs import collector

__all__ = ["ErrorInfo", "JobHandle", "JobManager", "JobState"]

log = logging.getLogger(__name__)


class JobState:
    """The states a job goes through: queued -> running -> succeeded | failed | cancelled."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    ENDED = frozenset({SUCCEEDED, FAILED, CANCELLED})


def guard_pyside_refcounts() -> bool:
    """Work around PySide6 6.12.0 on CPython < 3.12, which returns ``None`` (every void C++ method, e.g.
    ``setText``, ``processEvents``) and ``True`` (``SignalInstance.emit``) without a new reference. Each such
    call drops one reference to a singleton, and the interpreter aborts ("none_dealloc"/"bool_dealloc")
    within seconds of GUI use. When the leak is detected, ``None``, ``True`` and ``False`` get a huge
    reference count so they never reach zero (what CPython 3.12 does by making them immortal).

    Returns True when the guard was applied. Idempotent; a no-op on fixed PySide6 releases and on
    CPython >= 3.12. The real fix is a PySide6 release without the bug (see the project's report)."""
    if sys.version_info >= (3, 12) or getattr(guard_pyside_refcounts, "applied", False):
        return False

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(3):
        probe.ping.emit()
        probe.setObjectName("probe")
    leaked = sys.getrefcount(None) < none_before or sys.getrefcount(True) < true_before
    if leaked:
        import ctypes

        for value in (None, True, False):
            ctypes.c_ssize_t.from_address(id(value)).value += 1 << 40
        log.debug("Applied the PySide6 refcount guard")
    guard_pyside_refcounts.applied = leaked  # type: ignore[attr-defined]
    return leaked


guard_pyside_refcounts()

#: Minimum seconds between two progress signals from one job; keeps a chatty job from flooding the GUI.
PROGRESS_INTERVAL = 0.05


@dataclass(frozen=True)
class ErrorInfo:
    """Why a job failed, for people: ``message`` to show, ``details`` (a traceback) only under "Details".

    ``code`` is the ``EngineError.code`` of an expected failure, or "unexpected" for a bug.
    """

    message: str
    details: str
    code: str

    @classmethod
    def from_exception(cls, job_name: str, exc: BaseException) -> ErrorInfo:
        details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        if isinstance(exc, EngineError):
            return cls(str(exc), details, exc.code)
        return cls(f"Unexpected error in {job_name}: {type(exc).__name__}", details, "unexpected")


class _Relay(QObject):
    """Carries a worker thread's news to the GUI thread (it lives there; connections are queued)."""

    progress = Signal(float, str)
    started = Signal()
    done = Signal(str, object)  # outcome state, result or ErrorInfo


class JobHandle(QObject):
    """One submitted job as seen from the GUI thread. See the module docstring for the signal contract."""

    progress = Signal(float, str)
    succeeded = Signal(object)
    failed = Signal(object)  # ErrorInfo
    cancelled = Signal()
    finished = Signal()
    #: Any change of state, stage or progress; for the Jobs dock. Never disconnected by supersession.
    changed = Signal()

    _ids = itertools.count(1)

    def __init__(self, name: str, key: str | None, writes: str | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.id = next(self._ids)
        self.name = name
        self.key = key
        self.writes = writes
        self.state = JobState.QUEUED
        self.fraction = 0.0
        self.stage = ""
        self.result: Any = None
        self.error: ErrorInfo | None = None
        self.superseded = False
        self.task = TaskContext()
        self._started: float | None = None
        self._ended: float | None = None
        self._cancel_hook: Callable[[JobHandle], None] | None = None
        self._done_hook: Callable[[JobHandle, str, Any], None] | None = None
        self.setObjectName(f"job_{self.id}")

    def __repr__(self) -> str:
        return f"<JobHandle #{self.id} {self.name!r} {self.state}>"

    @property
    def elapsed(self) -> float:
        """Seconds spent running (frozen once the job ended; 0 while queued)."""
        if self._started is None:
            return 0.0
        end = self._ended if self._ended is not None else time.monotonic()
        return end - self._started

    @property
    def done(self) -> bool:
        return self.state in JobState.ENDED

    @property
    def cancel_requested(self) -> bool:
        return self.task.token.cancelled

    def cancel(self) -> None:
        """Ask the job to stop. Safe to call at any time, any number of times; a no-op once ended."""
        if self.done or self.task.token.cancelled:
            return
        log.info("Cancelling job %r", self.name)
        self.stage = "Cancelling…" if self.state == JobState.RUNNING else self.stage
        # Callbacks registered by the engine (interrupting SQL) run here, on the calling thread.
        self.task.token.cancel()
        if self._cancel_hook is not None:
            self._cancel_hook(self)
        self.changed.emit()

    # --- called by the manager, on the GUI thread --------------------------------------------------
    def _disconnect_public(self) -> None:
        for signal in (self.progress, self.succeeded, self.failed, self.cancelled, self.finished):
            with contextlib.suppress(RuntimeError, TypeError), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # PySide warns when nothing was connected
                signal.disconnect()

    @Slot()
    def _on_started(self) -> None:
        if self.done:
            return
        self.state = JobState.RUNNING
        self._started = time.monotonic()
        self.changed.emit()

    @Slot(float, str)
    def _on_progress(self, fraction: float, stage: str) -> None:
        if self.done:
            return
        self.fraction = fraction
        if not self.task.token.cancelled:
            self.stage = stage
        self.progress.emit(fraction, stage)
        self.changed.emit()

    @Slot(str, object)
    def _on_done(self, state: str, payload: Any) -> None:
        if self._done_hook is not None:
            self._done_hook(self, state, payload)

    def _end(self, state: str, payload: Any = None) -> None:
        """Move to a final state and emit the outcome, then ``finished``. Runs once."""
        if self.done:
            return
        now = time.monotonic()
        if self._started is None:
            self._started = now
        self._ended = now
        self.state = state
        if state == JobState.SUCCEEDED:
            self.result, self.fraction = payload, 1.0
        elif state == JobState.FAILED:
            self.error = payload
        log.info("Job %r %s after %.2f s", self.name, state, self.elapsed)
        self.changed.emit()
        if state == JobState.SUCCEEDED:
            self.succeeded.emit(payload)
        elif state == JobState.FAILED:
            self.failed.emit(payload)
        else:
            self.cancelled.emit()
        self.finished.emit()


class _Runnable(QRunnable):
    """Runs one job function on a pool thread and reports through a relay; never raises."""

    def __init__(self, handle: JobHandle, fn: Callable[[TaskContext], Any], relay: _Relay) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the manager keeps it until the relay's "done" arrives
        self._name = handle.name
        self._task = handle.task
        self._fn = fn
        self._relay = relay
        self._last_progress = 0.0
        self._task.progress = self._report

    def _report(self, fraction: float, stage: str) -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - self._last_progress < PROGRESS_INTERVAL:
            return
        self._last_progress = now
        self._relay.progress.emit(fraction, stage)

    def run(self) -> None:
        fn, self._fn = self._fn, None  # hold the function (and the engine it closes over) only while running
        if self._task.token.cancelled:
            self._relay.done.emit(JobState.CANCELLED, None)
            return
        self._relay.started.emit()
        state, payload = self._call(fn)
        del fn
        self._relay.done.emit(state, payload)

    def _call(self, fn: Callable[[TaskContext], Any]) -> tuple[str, Any]:
        try:
            return JobState.SUCCEEDED, fn(self._task)
        except BaseException as exc:  # noqa: BLE001 - a job must never take the worker thread down
            if self._task.token.cancelled:
                log.debug("Job %r ended by cancel: %r", self._name, exc)
                return JobState.CANCELLED, None
            info = ErrorInfo.from_exception(self._name, exc)
            if info.code == "unexpected":
                log.error("Unexpected error in job %r\n%s", self._name, info.details)
            else:
                log.warning("Job %r failed: %s", self._name, info.message)
            return JobState.FAILED, info


class JobManager(QObject):
    """Submits jobs to a thread pool and tracks them. Create and use it on the GUI thread only."""

    job_added = Signal(object)  # JobHandle

    def __init__(self, parent: QObject | None = None, *, max_threads: int = 6) -> None:
        super().__init__(parent)
        collector.ensure_running()  # cycles holding Qt objects must never be freed on a worker thread
        self.pool = QThreadPool(self)
        # Jobs mostly wait on a database (GIL released), so more threads than cores keep cheap refreshes
        # from queueing behind a long training run.
        self.pool.setMaxThreadCount(max_threads)
        self._active: dict[int, tuple[JobHandle, _Runnable | None, _Relay | None]] = {}
        self._by_key: dict[str, JobHandle] = {}
        self._writers: dict[str, JobHandle] = {}
        self._waiting: dict[str, list[tuple[JobHandle, Callable[[TaskContext], Any]]]] = {}

    def submit(
        self,
        name: str,
        fn: Callable[[TaskContext], Any],
        *,
        key: str | None = None,
        writes: str | None = None,
    ) -> JobHandle:
        """Run ``fn(task)`` in the background and return its handle (see the module docstring).

        ``key``: supersede (cancel and disconnect) an active job with the same key. ``writes``: the canonical
        name of a table the job writes; it waits for another active writer of that table to end first.
        """
        if key is not None and (previous := self._by_key.get(key)) is not None and not previous.done:
            self._supersede(previous)
        handle = JobHandle(name, key, writes)
        handle._cancel_hook = self._on_cancel_requested
        handle._done_hook = self._on_done
        if key is not None:
            self._by_key[key] = handle
        writer = self._writers.get(writes) if writes is not None else None
        if writer is not None and not writer.done:
            handle.stage = f"Waiting for “{writer.name}” to finish writing {writes}"
            self._active[handle.id] = (handle, None, None)
            self._waiting.setdefault(writes, []).append((handle, fn))
        else:
            if writes is not None:
                self._writers[writes] = handle
            self._start(handle, fn)
        log.info("Job %r submitted (key=%s, writes=%s)", name, key, writes)
        self.job_added.emit(handle)
        return handle

    def running(self) -> list[JobHandle]:
        """Jobs queued or running, oldest first (superseded ones included until their worker ends)."""
        return [handle for handle, _, _ in self._active.values()]

    def cancel_all(self) -> None:
        for handle in self.running():
            handle.cancel()

    def wait_idle(self, timeout_ms: int) -> bool:
        """Process events until every job has ended (its signals delivered), or the timeout passes.

        Returns True when idle. Meant for shutdown and tests; it re-enters the event loop.
        """
        from PySide6.QtCore import QCoreApplication, QEventLoop

        deadline = time.monotonic() + timeout_ms / 1000
        while self._active:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.pool.waitForDone(int(min(left, 0.02) * 1000))
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        return True

    # --- internals (GUI thread) --------------------------------------------------------------------
    def _start(self, handle: JobHandle, fn: Callable[[TaskContext], Any]) -> None:
        relay = _Relay()
        queued = Qt.ConnectionType.QueuedConnection
        relay.started.connect(handle._on_started, queued)
        relay.progress.connect(handle._on_progress, queued)
        relay.done.connect(handle._on_done, queued)
        runnable = _Runnable(handle, fn, relay)
        self._active[handle.id] = (handle, runnable, relay)
        self.pool.start(runnable)

    def _supersede(self, previous: JobHandle) -> None:
        log.info("Job %r superseded by a newer one with key %r", previous.name, previous.key)
        previous.superseded = True
        previous._disconnect_public()
        previous.cancel()

    def _on_cancel_requested(self, handle: JobHandle) -> None:
        """End at once a job that has not started: waiting for a table lock, or still in the pool queue."""
        entry = self._active.get(handle.id)
        if entry is None:
            return
        _, runnable, _ = entry
        if runnable is None:
            for waiting in self._waiting.values():
                waiting[:] = [(h, f) for h, f in waiting if h is not handle]
        elif not self.pool.tryTake(runnable):
            return  # running: it ends when the function notices the token
        # Deliver from the event loop, never from inside cancel(): callers may still be connecting.
        QTimer.singleShot(0, self, lambda h=handle: self._on_done(h, JobState.CANCELLED, None))

    def _on_done(self, handle: JobHandle, state: str, payload: Any) -> None:
        if self._active.pop(handle.id, None) is None:
            return
        if handle.superseded and state == JobState.SUCCEEDED:
            state, payload = JobState.CANCELLED, None  # nobody wants a superseded result
        if handle.key is not None and self._by_key.get(handle.key) is handle:
            del self._by_key[handle.key]
        self._release_write(handle)
        handle._end(state, payload)

    def _release_write(self, handle: JobHandle) -> None:
        table = handle.writes
        if table is None or self._writers.get(table) is not handle:
            return
        del self._writers[table]
        waiting = self._waiting.get(table)
        if waiting:
            next_handle, fn = waiting.pop(0)
            self._writers[table] = next_handle
            next_handle.stage = ""
            self._start(next_handle, fn)
            next_handle.changed.emit()
        if not waiting:
            self._waiting.pop(table, None)

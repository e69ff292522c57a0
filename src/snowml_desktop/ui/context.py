"""What every panel shares: the current engine, the jobs, the settings, and app-wide change signals.

Panels never open connections or run engine calls themselves; they call :meth:`AppContext.run`, which
runs ``fn(engine, task)`` as a background job on the engine that was current when the job was submitted.
When the connection changes, jobs still running on the old engine are cancelled, and the old engine is
closed (in a job) once the last of them has ended.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QSettings, Signal

from snowml_desktop.core.connections import LOCAL, AskSecret
from snowml_desktop.core.errors import Cancelled, ConnectionFailed, EngineError
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.jobs.runner import ErrorInfo, JobHandle, JobManager
from snowml_desktop.ui.settings import Keys, open_settings

if TYPE_CHECKING:
    from snowml_desktop.engines.base import Engine

__all__ = ["AppContext"]

log = logging.getLogger(__name__)

#: Seconds a retired engine waits for its last jobs before it is closed anyway.
RETIRE_TIMEOUT = 60.0


class _Lease:
    """Counts the jobs using one engine, so that it is closed only once none of them runs any more."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.handles: list[JobHandle] = []
        self._users = 0
        self._retired = False
        self._cond = threading.Condition()

    def acquire(self) -> bool:
        """Start using the engine (worker thread). False once the engine was retired."""
        with self._cond:
            if self._retired:
                return False
            self._users += 1
            return True

    def release(self) -> None:
        with self._cond:
            self._users -= 1
            self._cond.notify_all()

    def retire(self) -> None:
        """No new job may start on the engine; cancel the ones submitted (GUI thread)."""
        with self._cond:
            self._retired = True
        for handle in self.handles:
            handle.cancel()
        self.handles.clear()

    def wait_unused(self, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._users == 0, timeout)


class AppContext(QObject):
    """The shared state of one main window. Create and use it on the GUI thread.

    Signals: ``engine_changed(Engine | None)`` (None while connecting or disconnected);
    ``tables_changed()``, ``models_changed(name)`` ("" when several changed), ``runs_changed()`` — emitted by
    panels after a job changed data, so that other panels refresh; ``navigate_requested(panel key,
    argument)``; ``connecting(name)`` and ``connection_failed(name, ErrorInfo)`` for the connection bar.
    """

    engine_changed = Signal(object)
    tables_changed = Signal()
    models_changed = Signal(str)
    runs_changed = Signal()
    navigate_requested = Signal(str, object)
    connecting = Signal(str)
    connection_failed = Signal(str, object)

    def __init__(
        self,
        settings: QSettings | None = None,
        *,
        jobs: JobManager | None = None,
        workspace: Path | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        if settings is None:
            settings = open_settings()
        self.settings = settings
        self.jobs = jobs if jobs is not None else JobManager(self)
        #: Overrides the local workspace of the "local" connection (the --workspace option).
        self.workspace_override = workspace
        self._engine: Engine | None = None
        self._lease: _Lease | None = None
        self._connection: str | None = None
        self._connect_job: JobHandle | None = None
        #: Panels with a refresh due at the next event-loop turn (see ``Panel.refresh_soon``).
        self.refreshing_panels: weakref.WeakSet[QObject] = weakref.WeakSet()

    # --- state ---------------------------------------------------------------------------------------
    @property
    def engine(self) -> Engine | None:
        """The current engine, or None while connecting or disconnected."""
        return self._engine

    @property
    def connection_name(self) -> str | None:
        """The profile name of the current (or opening) connection."""
        return self._connection

    @property
    def idle(self) -> bool:
        """No job queued or running, and no panel refresh about to submit one."""
        return not self.jobs.running() and not any(p.refresh_due for p in self.refreshing_panels)

    @property
    def connecting_now(self) -> bool:
        return self._connect_job is not None and not self._connect_job.done

    # --- jobs ----------------------------------------------------------------------------------------
    def run(
        self,
        name: str,
        fn: Callable[[Engine, TaskContext], Any],
        *,
        key: str | None = None,
        writes: str | None = None,
    ) -> JobHandle:
        """Run ``fn(engine, task)`` as a job on the current engine; see ``JobManager.submit`` for ``key``
        and ``writes``. With no engine connected, the job fails with a ``connection_failed`` ErrorInfo."""
        lease = self._lease
        if lease is None:
            return self.jobs.submit(name, _not_connected, key=key, writes=writes)
        engine = lease.engine

        def job(task: TaskContext) -> Any:
            if not lease.acquire():
                raise Cancelled("The connection changed before this job started; nothing was done.")
            try:
                return fn(engine, task)
            finally:
                lease.release()

        handle = self.jobs.submit(name, job, key=key, writes=writes)
        lease.handles = [h for h in lease.handles if not h.done]
        lease.handles.append(handle)
        return handle

    # --- connections ---------------------------------------------------------------------------------
    def set_engine(self, engine: Engine | None, name: str | None = None) -> None:
        """Make ``engine`` current (None: disconnect). The previous engine's jobs are cancelled and it is
        closed in the background once they have ended."""
        if engine is self._engine:
            return
        old = self._lease
        self._lease = _Lease(engine) if engine is not None else None
        self._engine = engine
        if name is not None:
            self._connection = name
        if old is not None:
            self._retire(old)
        log.info("Engine changed to %s", getattr(engine, "kind", None))
        self.engine_changed.emit(engine)

    def connect_to(
        self, profile_name: str, *, ask: AskSecret | None = None, passcode: str | None = None
    ) -> JobHandle:
        """Open the connection ``profile_name`` in a job and make it current when it opens.

        ``ask(profile, kind)`` supplies secrets the keyring does not hold (typed by the user; called on the
        worker thread, so it must only read prepared values); ``passcode`` is an MFA code for this login.

        Emits ``engine_changed(None)`` at once, then ``engine_changed(engine)`` on success or
        ``connection_failed(name, ErrorInfo)`` on failure (the app then stays disconnected). A newer call
        cancels an older one still opening; an engine opened too late is closed, never made current.
        """
        if self._connect_job is not None:
            self._connect_job.cancel()
        self._connection = profile_name
        self.set_engine(None)
        self.connecting.emit(profile_name)
        workspace = self.local_workspace() if profile_name.strip().lower() == LOCAL else None
        handle = self.jobs.submit(
            f"Connect to {profile_name}",
            lambda task: open_connection(profile_name, workspace, task, ask=ask, passcode=passcode),
        )
        self._connect_job = handle
        handle.succeeded.connect(lambda engine, h=handle: self._on_connected(h, profile_name, engine))
        handle.failed.connect(lambda error, h=handle: self._on_connect_failed(h, profile_name, error))
        return handle

    def local_workspace(self) -> Path | None:
        """The workspace the local engine opens: --workspace, else the one set in the connection manager,
        else None (the engine's default: SNOWML_HOME or the user data folder)."""
        if self.workspace_override is not None:
            return self.workspace_override
        from snowml_desktop.core import connections

        try:
            chosen = connections.get_profile(LOCAL).workspace
        except Exception:  # noqa: BLE001 - a corrupt settings file must not stop the app opening
            log.exception("Could not read the local connection's workspace")
            return None
        return Path(chosen) if chosen else None

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel every job, wait up to ``timeout_ms`` for them to end, and close the engine (app exit).
        Returns False when some job did not end in time (its engine is then left to the process exit)."""
        if self._connect_job is not None:
            self._connect_job.cancel()
        self.jobs.cancel_all()
        lease, self._lease, self._engine = self._lease, None, None
        if lease is not None:
            lease.retire()
        idle = self.jobs.wait_idle(timeout_ms)
        if lease is not None and idle:
            _close_quietly(lease.engine)
        return idle

    # --- internals -----------------------------------------------------------------------------------
    def _retire(self, lease: _Lease) -> None:
        lease.retire()

        def close(task: TaskContext) -> None:
            lease.engine.cancel_all()
            if not lease.wait_unused(RETIRE_TIMEOUT):
                log.warning("Closing an engine whose jobs did not end within %.0f s", RETIRE_TIMEOUT)
            lease.engine.close()

        self.jobs.submit("Close previous connection", close)

    def _on_connected(self, handle: JobHandle, name: str, engine: Engine) -> None:
        if handle is not self._connect_job:
            self.jobs.submit("Close unused connection", lambda task: engine.close())
            return
        self._connect_job = None
        self.settings.setValue(Keys.LAST_CONNECTION, name)
        self.set_engine(engine, name)

    def _on_connect_failed(self, handle: JobHandle, name: str, error: ErrorInfo) -> None:
        if handle is self._connect_job:
            self._connect_job = None
            self.connection_failed.emit(name, error)


def _not_connected(task: TaskContext) -> None:
    raise ConnectionFailed(
        "Not connected to a warehouse yet.",
        hint="Wait for the connection to open, or choose one in the connection bar.",
    )


def open_connection(
    name: str,
    workspace: Path | None,
    task: TaskContext,
    *,
    ask: AskSecret | None = None,
    passcode: str | None = None,
    replay_journal: bool = True,
) -> Engine:
    """Open the engine for connection ``name`` (call it on a worker thread); close it again and raise
    Cancelled if the task was cancelled meanwhile. The local engine gets the memory limit saved with the
    local connection. Raises what ``engines.open_engine`` raises (``replay_journal``: see there), and
    InvalidInput for a saved memory limit that is not a size."""
    from snowml_desktop.engines import open_engine

    task.report(0.1, f"Opening {name}…")
    memory_limit = _local_memory_limit() if name.strip().lower() == LOCAL else None
    engine = open_engine(
        name,
        workspace=workspace,
        memory_limit=memory_limit,
        ask=ask,
        passcode=passcode,
        replay_journal=replay_journal,
    )
    if task.token.cancelled:
        _close_quietly(engine)
        raise Cancelled()
    return engine


def _local_memory_limit() -> int | None:
    """The memory limit saved with the local connection (bytes), None for the default. Raises InvalidInput
    for a saved value that is not a size."""
    from snowml_desktop.core import connections

    try:
        profile = connections.get_profile(LOCAL)
    except EngineError:  # as for the workspace: a corrupt settings file must not stop the app opening
        log.exception("Could not read the local connection's memory limit")
        return None
    return connections.local_memory_limit(profile)


def _close_quietly(engine: Engine) -> None:
    try:
        engine.close()
    except Exception:  # noqa: BLE001 - closing is best effort; the process may be exiting
        log.exception("Closing the engine failed")

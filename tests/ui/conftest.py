"""Strict fixtures for GUI tests: no job left running, no window left open, fresh settings and keyring.

A QApplication is created by pytest-qt's ``qapp`` fixture, never at import time.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError
from PySide6.QtCore import QCoreApplication, QSettings, QThreadPool
from PySide6.QtWidgets import QApplication

from snowml_desktop.jobs.runner import JobManager

JOB_TIMEOUT_MS = 15_000


class MemoryKeyring(KeyringBackend):
    """An in-memory stand-in for the OS keyring service (the only thing faked: a system service)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.store.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Every GUI test gets an empty keyring; secrets written by a test can be inspected through it."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def _fresh_settings(qapp: QApplication, tmp_path: Path) -> Iterator[None]:
    """Any QSettings made from organization/application names also lands in the test's tmp folder."""
    QCoreApplication.setOrganizationName("snowml-test")
    QCoreApplication.setApplicationName("snowml-desktop-test")
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp_path / "qsettings"))
    yield


@pytest.fixture(autouse=True)
def _no_leftover_jobs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[JobManager]]:
    """Fail a test that leaves background work running (after cancelling it, so others are not hit)."""
    managers: list[JobManager] = []
    original = JobManager.__init__

    def recording_init(self: JobManager, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)
        managers.append(self)

    monkeypatch.setattr(JobManager, "__init__", recording_init)
    yield managers
    leftovers = []
    for manager in managers:
        try:
            jobs = manager.running()
        except RuntimeError:  # the C++ object is already gone, and its jobs with it
            continue
        if jobs or manager.pool.activeThreadCount():
            leftovers.extend(repr(job) for job in jobs)
            manager.cancel_all()
            manager.wait_idle(JOB_TIMEOUT_MS)
    pool = QThreadPool.globalInstance()
    if pool.activeThreadCount():
        leftovers.append(f"{pool.activeThreadCount()} QThreadPool.globalInstance() task(s)")
        pool.waitForDone(JOB_TIMEOUT_MS)
    if leftovers:
        pytest.fail(f"The test left background work running: {', '.join(leftovers)}")


@pytest.fixture(autouse=True)
def _no_leftover_windows(qapp: QApplication) -> Iterator[None]:
    """Fail a test that leaves a top-level window open (pytest-qt closes widgets given to addWidget
    before this check runs)."""
    yield
    QApplication.processEvents()
    open_windows = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
    for window in open_windows:
        window.close()
    if open_windows:
        names = ", ".join(f"{type(w).__name__}({w.objectName()!r})" for w in open_windows)
        pytest.fail(f"The test left top-level windows open: {names}")


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    """A fresh, migrated GUI settings store."""
    from snowml_desktop.ui.settings import open_settings

    return open_settings(tmp_path / "gui.ini")


@pytest.fixture
def app_context(settings: QSettings, workspace: Path) -> Iterator:
    """An AppContext connected to a real LocalEngine on a fresh workspace; shut down after the test."""
    from snowml_desktop.engines.local.engine import LocalEngine
    from snowml_desktop.ui.context import AppContext

    ctx = AppContext(settings, workspace=workspace)
    ctx.set_engine(LocalEngine(workspace), "local")
    try:
        yield ctx
    finally:
        ctx.shutdown(JOB_TIMEOUT_MS)


@pytest.fixture
def bare_context(settings: QSettings, workspace: Path) -> Iterator:
    """An AppContext with no engine (nothing heavy is imported)."""
    from snowml_desktop.ui.context import AppContext

    ctx = AppContext(settings, workspace=workspace)
    try:
        yield ctx
    finally:
        ctx.shutdown(JOB_TIMEOUT_MS)

"""The setup prompt: what an engine's one-time setup creates, the privileges it needs, its SQL, and a button
to run it.

:class:`SetupWatcher` asks the engine for its setup plan in a job each time the app connects and, when
setup is needed, opens a non-modal :class:`SetupDialog` (the window stays usable). File > Snowflake setup…
opens the dialog on demand; on an engine that needs no setup it says so. Running setup is a job with
progress and Cancel; on success the dialog closes and the panels refresh.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from snowml_desktop.ui.panels.base import Panel
from snowml_desktop.ui.widgets.job_status import JobStatus

if TYPE_CHECKING:
    from snowml_desktop.core.tasks import TaskContext
    from snowml_desktop.engines.base import Engine, SetupPlan
    from snowml_desktop.jobs.runner import ErrorInfo, JobHandle
    from snowml_desktop.ui.context import AppContext

__all__ = ["SetupDialog", "SetupWatcher"]

_name = Panel.name_widget


class SetupDialog(QDialog):
    """Shows a setup plan and runs setup. Given no plan, it asks the engine for one in a job first.

    ``setup_finished(plan)`` is emitted (with the plan after the run) just before the dialog closes on a
    successful run. A failed run shows its message and leaves the dialog open to try again."""

    setup_finished = Signal(object)

    def __init__(self, ctx: AppContext, plan: SetupPlan | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.plan: SetupPlan | None = None
        self._setup_job: JobHandle | None = None
        self.setObjectName("dialog_setup")
        self.setAccessibleName("Snowflake setup")
        self.setWindowTitle("Snowflake setup")
        self.setModal(False)
        self.resize(720, 520)

        self.reason = _name(QLabel(), "setup_reason", "Why setup is needed")
        self.reason.setWordWrap(True)
        self.objects = _name(QListWidget(), "setup_objects", "Objects setup creates")
        self.privileges = _name(QListWidget(), "setup_privileges", "Privileges setup needs")
        for view in (self.objects, self.privileges):
            view.setWordWrap(True)
        self.sql_toggle = _name(QPushButton("Show SQL"), "setup_show_sql", "Show the SQL setup runs")
        self.sql_toggle.setCheckable(True)
        self.sql = _name(QPlainTextEdit(), "setup_sql", "SQL setup runs")
        self.sql.setReadOnly(True)
        self.sql.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.sql.setVisible(False)
        self.status = JobStatus("setup_status", "Setup", self, cancel_text="Cancel setup")
        self.run_button = _name(QPushButton("Run setup"), "setup_run", "Run setup")
        self.run_button.setDefault(True)
        self.close_button = _name(QPushButton("Not now"), "setup_not_now", "Not now")

        buttons = QHBoxLayout()
        buttons.addWidget(self.sql_toggle)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.run_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.reason)
        for title, view, stretch in (
            ("It creates:", self.objects, 2),
            ("The role needs:", self.privileges, 2),
        ):
            label = QLabel(title)
            label.setBuddy(view)
            layout.addWidget(label)
            layout.addWidget(view, stretch)
        layout.addWidget(self.sql, 3)
        layout.addWidget(self.status)
        layout.addLayout(buttons)

        self.sql_toggle.toggled.connect(self._toggle_sql)
        self.run_button.clicked.connect(self.run_setup)
        self.close_button.clicked.connect(self.reject)
        if plan is not None:
            self.show_plan(plan)
        else:
            self.check()

    # --- actions ---------------------------------------------------------------------------------------
    def check(self) -> JobHandle:
        """Ask the engine for its plan in a job (the dialog waits with Run setup disabled)."""
        self.reason.setText("Checking what setup needs…")
        self.run_button.setEnabled(False)
        handle = self.ctx.run("Check setup", _plan, key="setup_dialog")
        self.status.track(handle, "Checking what setup needs…")
        handle.succeeded.connect(self.show_plan)
        handle.failed.connect(self._on_check_failed)
        return handle

    def run_setup(self) -> JobHandle:
        """Run setup in a job with progress; see the class docstring for the outcomes."""
        self.run_button.setEnabled(False)
        self.close_button.setEnabled(False)
        handle = self.ctx.run("Snowflake setup", _run, key="setup_dialog")
        self._setup_job = handle
        self.status.track(handle, "Running setup…")
        handle.succeeded.connect(self._on_done)
        handle.failed.connect(self._on_run_failed)
        handle.cancelled.connect(self._on_cancelled)
        return handle

    def show_plan(self, plan: SetupPlan) -> None:
        self.plan = plan
        self.reason.setText(plan.reason)
        self._fill(self.objects, plan.objects, "Nothing to create.")
        self._fill(self.privileges, plan.privileges, "No privileges needed.")
        self.sql.setPlainText("\n".join(s if s.startswith("--") else f"{s};" for s in plan.statements))
        self.sql_toggle.setEnabled(bool(plan.statements))
        self.run_button.setEnabled(plan.needed)
        self.close_button.setText("Not now" if plan.needed else "Close")
        self.close_button.setAccessibleName(self.close_button.text())
        if not plan.needed:
            self.status.show_success("Nothing to set up.")

    @property
    def running(self) -> bool:
        """Setup is running (a plan check is not: closing the dialog simply drops it)."""
        return self._setup_job is not None and not self._setup_job.done

    def reject(self) -> None:
        """Esc, the title bar's close and "Not now": while setup runs, cancel it and stay open to show the
        outcome."""
        if self.running:
            self.status.cancel()
            return
        super().reject()

    def dismiss(self) -> None:
        """Close at once, cancelling a running setup (the connection changed: the plan is stale)."""
        if self._setup_job is not None:
            self._setup_job.cancel()
        super().reject()

    # --- outcomes --------------------------------------------------------------------------------------
    def _on_done(self, plan: SetupPlan) -> None:
        self.show_plan(plan)
        # Setup created the catalog, runs and data schema: every panel reloads what it shows.
        self.ctx.tables_changed.emit()
        self.ctx.models_changed.emit("")
        self.ctx.runs_changed.emit()
        self.setup_finished.emit(plan)
        self.accept()

    def _on_check_failed(self, error: ErrorInfo) -> None:
        self.reason.setText("What setup needs is unknown.")
        self.status.show_error(error, "Could not check setup: ")

    def _on_run_failed(self, error: ErrorInfo) -> None:
        self.status.show_error(error, "Setup failed: ")
        self.run_button.setEnabled(True)
        self.close_button.setEnabled(True)

    def _on_cancelled(self) -> None:
        self.status.show_note(
            "Setup was cancelled. What it already created stays; running setup again completes it."
        )
        self.run_button.setEnabled(True)
        self.close_button.setEnabled(True)

    # --- internals -------------------------------------------------------------------------------------
    @staticmethod
    def _fill(view: QListWidget, items: list[str], empty: str) -> None:
        view.clear()
        view.addItems(items or [empty])

    def _toggle_sql(self, shown: bool) -> None:
        self.sql.setVisible(shown)
        self.sql_toggle.setText("Hide SQL" if shown else "Show SQL")


class SetupWatcher(QObject):
    """Checks setup whenever the app connects and opens the dialog when setup is needed.

    ``dialog`` is the one dialog open (None when none is); a new connection closes it, since its plan
    was for the previous engine. ``setup_finished(plan)`` repeats the dialog's signal."""

    setup_finished = Signal(object)

    def __init__(self, ctx: AppContext, window: QWidget) -> None:
        super().__init__(window)
        self.ctx = ctx
        self._window = window
        self.dialog: SetupDialog | None = None
        ctx.engine_changed.connect(self._on_engine_changed)
        if ctx.engine is not None:  # connected before the window was built
            self._on_engine_changed(ctx.engine)

    def open_dialog(self) -> SetupDialog:
        """Open (or bring forward) the dialog; it checks the current engine's plan itself."""
        if self.dialog is not None:
            self.dialog.raise_()
            self.dialog.activateWindow()
            return self.dialog
        return self._show(SetupDialog(self.ctx, None, self._window))

    def _on_engine_changed(self, engine: Engine | None) -> None:
        if self.dialog is not None:
            self.dialog.dismiss()
        if engine is None:
            return
        handle = self.ctx.run("Check setup", _plan, key="setup_check")
        handle.succeeded.connect(self._on_checked)

    def _on_checked(self, plan: SetupPlan) -> None:
        if plan.needed and self.dialog is None:
            self._show(SetupDialog(self.ctx, plan, self._window))

    def _show(self, dialog: SetupDialog) -> SetupDialog:
        self.dialog = dialog
        dialog.setup_finished.connect(self.setup_finished)
        dialog.finished.connect(self._on_dialog_finished)
        dialog.show()
        return dialog

    def _on_dialog_finished(self, _result: int) -> None:
        # Only one dialog exists at a time, and a dismissed one finishes before the next is made.
        dialog, self.dialog = self.dialog, None
        if dialog is not None:
            dialog.deleteLater()


def _plan(engine: Engine, task: TaskContext) -> SetupPlan:
    return engine.plan_setup()


def _run(engine: Engine, task: TaskContext) -> SetupPlan:
    return engine.run_setup(task=task)

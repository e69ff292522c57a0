"""Automate…: score the new rows of a table on a schedule.

On Snowflake the dialog creates a schedule (a stream and a task, see ``engines.snowflake.schedules``) and
lists the account's schedules with Suspend, Resume, Run now, Drop and their run history. Locally no process
runs while the app is closed, so it writes the entry for the OS scheduler the user picks (crontab line,
systemd timer, Windows Task Scheduler, launchd) running ``snowml ... score --incremental``: shown to copy,
and saved only to files the user chooses — never installed. Every engine call runs in a job.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from snowml_desktop.core import schedules
from snowml_desktop.core.errors import EngineError, InvalidInput
from snowml_desktop.core.sizes import SIZES
from snowml_desktop.engines.base import ScheduleRequest
from snowml_desktop.ui.panels.base import Panel
from snowml_desktop.ui.widgets.job_status import JobStatus

if TYPE_CHECKING:
    from snowml_desktop.core.tasks import TaskContext
    from snowml_desktop.engines.base import Engine, Schedule, ScheduleRun
    from snowml_desktop.jobs.runner import ErrorInfo, JobHandle
    from snowml_desktop.ui.context import AppContext

__all__ = ["ScheduleDialog", "default_scheduler"]

_name = Panel.name_widget
DEFAULT_CRON = "0 2 * * *"
_COLUMNS = ("Name", "State", "Cron (UTC)", "Model", "Table", "Output", "Compute", "Reason")


def default_scheduler(platform: str = sys.platform) -> str:
    """The scheduler this OS has: schtasks on Windows, launchd on macOS, a crontab line elsewhere."""
    if platform.startswith("win"):
        return "schtasks"
    if platform == "darwin":
        return "launchd"
    return "cron"


def _workspace_and_check(
    engine: Engine, model: str, table: str, output: str, task: TaskContext
) -> tuple[Path, bool]:
    """The workspace folder and whether ``output`` exists; raises InvalidInput when the table cannot be scored."""
    missing = engine.check_scoring_input(model, table)
    if missing:
        raise InvalidInput(f"Table {table} lacks the model's feature columns: {', '.join(missing)}.")
    workspace = engine.describe().workspace
    if workspace is None:  # the dialog picks its mode from capabilities; this is a safety net
        raise InvalidInput("This connection has no local workspace.")
    return workspace, output in {t.name for t in engine.list_tables()}


class ScheduleDialog(QDialog):
    """The Automate… dialog for one model, input table and output table (see the module docstring)."""

    def __init__(
        self, ctx: AppContext, model: str, table: str, output: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.model, self.table, self.output_table = model, table, output
        engine = ctx.engine
        self.local = engine is None or engine.capabilities.local
        self.workspace: Path | None = None
        self.output_exists = False
        self.schedules: list[Schedule] = []
        self.setObjectName("dialog_schedule")
        self.setAccessibleName("Automate scoring")
        self.setWindowTitle("Automate scoring")
        self.setModal(False)
        self.resize(760, 560)

        self.intro = _name(QLabel(), "schedule.intro", "What the schedule does")
        self.intro.setWordWrap(True)
        self.cron = _name(QLineEdit(DEFAULT_CRON), "schedule.cron", "Cron schedule")
        self.cron.setToolTip("Five fields: minute hour day-of-month month day-of-week")
        self.cron_note = _name(QLabel(), "schedule.cron_note", "Schedule check")
        self.cron_note.setWordWrap(True)
        self.status = JobStatus("schedule_status", "Schedule", self)
        self.close_button = _name(QPushButton("Close"), "schedule.close", "Close")
        self.close_button.clicked.connect(self.reject)
        form = QFormLayout()
        form.addRow("Schedule (cron):", self.cron)
        form.addRow("", self.cron_note)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(form)
        if self.local:
            self._build_local(form, layout)
        else:
            self._build_snowflake(form, layout)
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)
        self.cron.textChanged.connect(self._on_cron_changed)
        self._on_cron_changed()

    # --- local: OS scheduler text ----------------------------------------------------------------------
    def _build_local(self, form: QFormLayout, layout: QVBoxLayout) -> None:
        self.intro.setText(
            f"Score the rows added to {self.table} since the last run with {self.model}, appending them to "
            f"{self.output_table}. The app is not running then, so your system's scheduler runs the "
            "command below; nothing is installed for you."
        )
        self.scheduler = _name(QComboBox(), "schedule.scheduler", "Scheduler")
        for key in schedules.SCHEDULERS:
            self.scheduler.addItem(schedules.SCHEDULER_LABELS[key], key)
        self.scheduler.setCurrentIndex(schedules.SCHEDULERS.index(default_scheduler()))
        self.job_name = _name(QLineEdit(f"snowml-{self.model.lower()}"), "schedule.job_name", "Job name")
        self.text = _name(QPlainTextEdit(), "schedule.text", "Scheduler entry")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.copy_button = _name(QPushButton("Copy"), "schedule.copy", "Copy the scheduler entry")
        self.save_button = _name(QPushButton("Save to files…"), "schedule.save", "Save the scheduler entry")
        form.addRow("Scheduler:", self.scheduler)
        form.addRow("Job name:", self.job_name)
        layout.addWidget(self.text, 1)
        row = QHBoxLayout()
        row.addWidget(self.copy_button)
        row.addWidget(self.save_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.scheduler.currentIndexChanged.connect(self._render)
        self.job_name.textChanged.connect(self._render)
        self.copy_button.clicked.connect(self.copy_text)
        self.save_button.clicked.connect(self.save_files)
        self.scheduler_text: schedules.SchedulerText | None = None
        handle = self.ctx.run(
            "Check the schedule's input",
            lambda engine, task: _workspace_and_check(
                engine, self.model, self.table, self.output_table, task
            ),
            key="schedule_dialog",
        )
        self.status.track(handle, "Checking the model and table…")
        handle.succeeded.connect(self._on_workspace)
        handle.failed.connect(lambda error: self.status.show_error(error, "Cannot automate: "))

    def _on_workspace(self, found: tuple[Path, bool]) -> None:
        self.workspace, self.output_exists = found
        if self.output_exists:  # said now: at 2 a.m. nobody reads a refusal
            self.status.show_note(
                f"{self.output_table} exists: the first scheduled run replaces it with every scored row of "
                f"{self.table}; later runs append only new rows."
            )
        else:
            self.status.show_success("Copy the entry, or save it and install it as shown.")
        self._render()

    def _render(self, *_: object) -> None:
        """Rebuild the scheduler text (pure and instant) from the fields; errors are shown, not raised."""
        self.scheduler_text = None
        if self.workspace is None:
            return
        try:
            command = schedules.score_command(
                schedules.snowml_program(),
                str(self.workspace),
                self.model,
                self.table,
                self.output_table,
                overwrite=self.output_exists,
            )
            self.scheduler_text = schedules.scheduler_text(
                self.scheduler.currentData(),
                schedules.parse_cron(self.cron.text()),
                command,
                self.job_name.text(),
            )
        except InvalidInput as exc:
            self.text.setPlainText("")
            self.cron_note.setText(str(exc))
        else:
            self.text.setPlainText(self.scheduler_text.as_text())
        self.copy_button.setEnabled(self.scheduler_text is not None)
        self.save_button.setEnabled(self.scheduler_text is not None)

    def copy_text(self) -> None:
        if self.scheduler_text is not None:
            QGuiApplication.clipboard().setText(self.scheduler_text.as_text())
            self.status.show_success("Copied.")

    def save_files(self) -> list[Path]:
        """Write the entry's files (or, for a one-line entry, a text file) into a folder the user picks."""
        if self.scheduler_text is None:
            return []
        folder = QFileDialog.getExistingDirectory(self, "Save the scheduler files in")
        if not folder:
            return []
        files = self.scheduler_text.files or {f"{self.job_name.text()}.txt": self.scheduler_text.as_text()}
        written = []
        try:
            for name, content in files.items():
                path = Path(folder) / name
                path.write_text(content, encoding="utf-8")
                written.append(path)
        except OSError as exc:
            self.status.show_note(f"Could not save in {folder}: {exc.strerror or exc}.")
            return written
        self.status.show_success(f"Saved {', '.join(p.name for p in written)} in {folder}. Install as shown.")
        return written

    # --- Snowflake: streams and tasks ------------------------------------------------------------------
    def _build_snowflake(self, form: QFormLayout, layout: QVBoxLayout) -> None:
        self.intro.setText(
            f"Create a stream on {self.table} and a task that scores its new rows with {self.model} into "
            f"{self.output_table} on the schedule (UTC), skipping runs when nothing was added. Each run is "
            "recorded in Inference Runs."
        )
        self.serverless = _name(
            QCheckBox("Serverless (Snowflake-managed compute)"), "schedule.serverless", "Serverless"
        )
        self.size = _name(QComboBox(), "schedule.size", "Initial size for serverless runs")
        for size in SIZES[:6]:
            self.size.addItem(size.label, size.label)
        self.size.setEnabled(False)
        self.serverless.toggled.connect(self.size.setEnabled)
        self.create_button = _name(QPushButton("Create schedule"), "schedule.create", "Create the schedule")
        self.create_button.setDefault(True)
        form.addRow("Compute:", self.serverless)
        form.addRow("Initial size:", self.size)
        self.table_view = _name(QTableWidget(0, len(_COLUMNS)), "schedule.list", "Schedules")
        self.table_view.setHorizontalHeaderLabels(list(_COLUMNS))
        self.table_view.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table_view.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table_view.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table_view.horizontalHeader().setStretchLastSection(True)
        self.history = _name(QPlainTextEdit(), "schedule.history", "Run history")
        self.history.setReadOnly(True)
        self.action_buttons: dict[str, QPushButton] = {}
        actions = QHBoxLayout()
        actions.addWidget(self.create_button)
        actions.addStretch(1)
        for key, text in (
            ("suspend", "Suspend"),
            ("resume", "Resume"),
            ("run", "Run now"),
            ("history", "History"),
            ("drop", "Drop"),
        ):
            button = _name(QPushButton(text), f"schedule.{key}", f"{text} the selected schedule")
            button.clicked.connect(lambda _=False, k=key: self.act(k))
            self.action_buttons[key] = button
            actions.addWidget(button)
        layout.addLayout(actions)
        layout.addWidget(self.table_view, 2)
        layout.addWidget(self.history, 1)
        self.create_button.clicked.connect(self.create)
        self.table_view.itemSelectionChanged.connect(self._update_actions)
        self.refresh()

    def request(self) -> ScheduleRequest:
        serverless = self.serverless.isChecked()
        return ScheduleRequest(
            self.model,
            self.table,
            self.output_table,
            self.cron.text(),
            self.size.currentData() if serverless else None,
            serverless,
        )

    def create(self) -> JobHandle:
        request = self.request()
        self.create_button.setEnabled(False)
        handle = self.ctx.run(
            "Create schedule", lambda engine, task: engine.create_schedule(request), key="schedule_dialog"
        )
        self.status.track(handle, "Checking privileges and creating the stream and task…")
        handle.succeeded.connect(lambda s: self._after(f"Created {s.name}; it runs at {s.cron} UTC."))
        handle.failed.connect(self._on_failed)
        return handle

    def refresh(self) -> JobHandle:
        handle = self.ctx.run(
            "List schedules", lambda engine, task: engine.list_schedules(), key="schedule_list"
        )
        handle.succeeded.connect(self._show_schedules)
        handle.failed.connect(lambda error: self.status.show_error(error, "Could not list schedules: "))
        return handle

    def selected(self) -> Schedule | None:
        rows = {i.row() for i in self.table_view.selectedIndexes()}
        return self.schedules[rows.pop()] if len(rows) == 1 else None

    def act(self, action: str) -> JobHandle | None:
        """Suspend, resume, run now, show the history of, or drop the selected schedule, in a job."""
        schedule = self.selected()
        if schedule is None:
            return None
        name = schedule.name
        calls: dict[str, Any] = {
            "suspend": lambda e, t: e.set_schedule_state(name, False, "Suspended from the app."),
            "resume": lambda e, t: e.set_schedule_state(name, True),
            "run": lambda e, t: e.run_schedule_now(name),
            "history": lambda e, t: e.schedule_history(name),
            "drop": lambda e, t: e.drop_schedule(name),
        }
        handle = self.ctx.run(f"Schedule {action}", calls[action], key="schedule_dialog")
        self.status.track(handle, f"{self.action_buttons[action].text()}: {name}…")
        if action == "history":
            handle.succeeded.connect(self._show_history)
        else:
            done = {"suspend": "Suspended", "resume": "Resumed", "run": "Started a run of", "drop": "Dropped"}
            handle.succeeded.connect(lambda _r: self._after(f"{done[action]} {name}."))
        handle.failed.connect(self._on_failed)
        return handle

    def _after(self, message: str) -> None:
        self.status.show_success(message)
        self.create_button.setEnabled(True)
        self.ctx.runs_changed.emit()
        self.refresh()

    def _on_failed(self, error: ErrorInfo) -> None:
        self.status.show_error(error, "")
        self.create_button.setEnabled(True)

    def _show_schedules(self, found: list[Schedule]) -> None:
        self.schedules = list(found)
        self.table_view.setRowCount(len(found))
        for row, s in enumerate(found):
            compute = f"serverless {s.size or ''}".strip() if s.serverless else (s.warehouse or "")
            for column, value in enumerate(
                (s.name, s.state, s.cron, s.model, s.table, s.output, compute, s.reason or "")
            ):
                self.table_view.setItem(row, column, QTableWidgetItem(value))
        self._update_actions()

    def _show_history(self, runs: list[ScheduleRun]) -> None:
        lines = [
            f"{r.scheduled:%Y-%m-%d %H:%M} {r.state}" + (f": {r.error}" if r.error else "")
            if r.scheduled
            else r.state
            for r in runs
        ]
        self.history.setPlainText("\n".join(lines) or "No runs in the last 7 days.")
        self.status.show_success(f"{len(runs)} runs.")

    def _update_actions(self) -> None:
        schedule = self.selected()
        for key, button in self.action_buttons.items():
            enabled = schedule is not None
            if key == "suspend":
                enabled = enabled and schedule.state == "started"
            if key == "resume":
                enabled = enabled and schedule.state != "started"
            button.setEnabled(bool(enabled))

    # --- shared ----------------------------------------------------------------------------------------
    def _on_cron_changed(self, *_: object) -> None:
        try:
            schedules.parse_cron(self.cron.text())
        except EngineError as exc:
            self.cron_note.setText(str(exc))
            valid = False
        else:
            self.cron_note.setText(
                "Times are UTC." if not self.local else "Times are your computer's local time."
            )
            valid = True
        if self.local:
            self._render()
        else:
            self.create_button.setEnabled(valid)

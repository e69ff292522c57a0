"""The Jobs dock: every job of the session with its progress, stage, elapsed time, Cancel, and outcome.

Running and queued jobs come first, then finished ones, each newest first; a row is one line, so a small
dock still shows several. Quick housekeeping (a refresh that ended well within :data:`QUICK_SECONDS`) is
hidden unless "Show quick refreshes" is checked. A failed job shows its message; the technical details are
behind "Details". Finished rows beyond :data:`MAX_ROWS` are dropped, oldest first.

The dock must stay cheap when a burst of jobs starts or ends together (a scoring is followed by several
refreshes): job changes only mark rows, and one short single-shot timer per dock adds and refreshes the
marked rows in one pass, with painting held meanwhile. Rows never change size as a job moves on (the
Cancel button and the progress bar keep their room when hidden), so no change relayouts the list.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from snowml_desktop.core.records import InferenceRun, ModelRecord
from snowml_desktop.engines.base import (
    ClassBalance,
    ConnectionInfo,
    Correlation,
    Histogram,
    LoadResult,
    TableProfile,
)
from snowml_desktop.jobs.runner import JobHandle, JobManager, JobState
from snowml_desktop.ui.icons import icon
from snowml_desktop.ui.widgets.elided_label import ElidedLabel
from snowml_desktop.ui.wording import for_gui, plural

__all__ = ["JobRow", "JobsDock", "format_seconds", "is_housekeeping", "summarize_result"]

MAX_ROWS = 200
#: A refresh that ended within this many seconds is housekeeping, hidden by default.
QUICK_SECONDS = 1.0
#: How long job changes are collected before the dock shows them (short enough to look immediate).
COALESCE_MS = 40
_STATUS_ICONS = {
    JobState.SUCCEEDED: "success",
    JobState.FAILED: "error",
    JobState.CANCELLED: "cancel",
    JobState.RUNNING: "runs",
    JobState.QUEUED: "runs",
}


def format_seconds(seconds: float) -> str:
    """``<0.1 s``, ``0.4 s``, ``12.3 s``, ``2 min 05 s``, ``1 h 02 min``."""
    if seconds < 0.05:
        return "<0.1 s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def summarize_result(result: object) -> str:
    """A short, human description of a job's result for the dock (the panel shows the real thing).

    A result may describe itself with a ``summary()`` method (the panels' own check results do)."""
    if result is None:
        return "Done"
    summary = getattr(result, "summary", None)
    if callable(summary):
        return str(summary())
    if isinstance(result, str):
        return result if len(result) <= 80 else result[:77] + "…"
    if isinstance(result, LoadResult):
        return f"{result.rows_loaded:,} rows loaded into {result.table}, {result.rows_rejected:,} rejected"
    if isinstance(result, ModelRecord):
        return f"Model {result.name} saved"
    if isinstance(result, InferenceRun):
        return f"{result.rows:,} rows scored into {result.output_table} ({result.status.lower()})"
    if isinstance(result, TableProfile):
        return f"{plural(result.rows, 'row')}, {plural(len(result.columns), 'column')} profiled"
    if isinstance(result, Histogram):
        parts = len(result.counts)
        unit = plural(parts, "bin") if result.kind == "numeric" else plural(parts, "category", "categories")
        return f"Histogram of {result.column}: {unit}"
    if isinstance(result, ClassBalance):
        return f"{result.column}: {plural(len(result.labels) + bool(result.other), 'class', 'classes')}"
    if isinstance(result, Correlation):
        return f"Correlation of {plural(len(result.columns), 'numeric column')}"
    if isinstance(result, ConnectionInfo):
        return f"Connected to {result.account}"
    if isinstance(result, (list, tuple, set, dict)):
        return plural(len(result), "item")
    shape = getattr(result, "shape", None)
    if isinstance(shape, tuple) and len(shape) == 2:
        return f"{plural(shape[0], 'row')} × {plural(shape[1], 'column')}"
    return "Done"


def is_housekeeping(handle: JobHandle) -> bool:
    """A quick refresh the user did not ask to watch: a keyed read that succeeded (or was replaced by a newer
    request) within :data:`QUICK_SECONDS`. Failures, user cancels, writes and slow jobs always show."""
    if not handle.done or handle.key is None or handle.writes is not None:
        return False
    ended_well = handle.state == JobState.SUCCEEDED or (handle.state == JobState.CANCELLED and handle.superseded)
    return ended_well and handle.elapsed < QUICK_SECONDS


class JobRow(QFrame):
    """One job in the dock. Its dock calls :meth:`refresh` after the handle's ``changed`` signal (which
    supersession never cuts), collected with other changes."""

    def __init__(self, handle: JobHandle, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.handle = handle
        self.setObjectName(f"job_row_{handle.id}")
        self.setAccessibleName(f"Job {handle.name}")
        self.setFrameShape(QFrame.Shape.StyledPanel)

        self.status = QLabel()
        self.status.setObjectName("job_status_icon")
        self.status.setAccessibleName("Job status")
        self.title = ElidedLabel(handle.name)  # a long job name is elided, never widens the dock
        self.title.setObjectName("job_name")
        self.title.setAccessibleName("Job name")
        self.title.setToolTip(handle.name)
        self.title.setMinimumWidth(60)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.elapsed = QLabel()
        self.elapsed.setObjectName("job_elapsed")
        self.elapsed.setAccessibleName("Elapsed time")
        # Wide enough for "59 min 59 s": a ticking time never changes the row's layout.
        self.elapsed.setMinimumWidth(self.elapsed.fontMetrics().horizontalAdvance("59 min 59 s") + 4)
        self.elapsed.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.progress = QProgressBar()
        self.progress.setObjectName("job_progress")
        self.progress.setAccessibleName(f"Progress of {handle.name}")
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setFixedSize(110, 10)
        self.stage = ElidedLabel()  # one line; the whole text is its tooltip
        self.stage.setObjectName("job_stage")
        self.stage.setAccessibleName("Stage")
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.cancel_button.setObjectName("job_cancel")
        self.cancel_button.setAccessibleName(f"Cancel {handle.name}")
        self.cancel_button.setIcon(icon("cancel"))
        for widget in (self.cancel_button, self.progress):
            policy = widget.sizePolicy()
            policy.setRetainSizeWhenHidden(True)  # hiding it when the job ends must not relayout the list
            widget.setSizePolicy(policy)
        self._shown_state: str | None = None
        self.details_button = QToolButton()
        self.details_button.setObjectName("job_details")
        self.details_button.setAccessibleName("Details")
        self.details_button.setText("Details")
        self.details_button.setCheckable(True)
        self.details_button.setVisible(False)
        policy = self.details_button.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.details_button.setSizePolicy(policy)
        self.details = QPlainTextEdit()
        self.details.setObjectName("job_details_text")
        self.details.setAccessibleName("Technical details")
        self.details.setReadOnly(True)
        self.details.setMaximumHeight(140)
        self.details.setVisible(False)

        line = QHBoxLayout()
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(self.status)
        line.addWidget(self.title, 2)
        line.addWidget(self.stage, 3)
        line.addWidget(self.progress)
        line.addWidget(self.elapsed)
        line.addWidget(self.details_button)
        line.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.setSpacing(2)
        layout.addLayout(line)
        layout.addWidget(self.details)

        self.cancel_button.clicked.connect(handle.cancel)
        self.details_button.toggled.connect(self.details.setVisible)
        self.refresh()

    def refresh(self) -> None:
        handle = self.handle
        if handle.state != self._shown_state:
            self._shown_state = handle.state
            self.status.setPixmap(icon(_STATUS_ICONS[handle.state]).pixmap(16, 16))
            self.status.setToolTip(handle.state.capitalize())
            self.cancel_button.setVisible(not handle.done)
            self.progress.setVisible(not handle.done)
        self.update_elapsed()
        self.progress.setValue(round(handle.fraction * 1000))
        self.cancel_button.setEnabled(not handle.cancel_requested)
        if handle.state == JobState.SUCCEEDED:
            self.stage.setText(summarize_result(handle.result))
        elif handle.state == JobState.FAILED and handle.error is not None:
            self.stage.setText(for_gui(handle.error.message))
            self.details.setPlainText(handle.error.details)
            self.details_button.setVisible(bool(handle.error.details))
        elif handle.state == JobState.CANCELLED:
            self.stage.setText("Replaced by a newer request" if handle.superseded else "Cancelled")
        else:
            self.stage.setText(
                handle.stage or ("Waiting to start" if handle.state == JobState.QUEUED else "")
            )

    def update_elapsed(self) -> None:
        handle = self.handle
        shown = handle.done or handle.state == JobState.RUNNING
        self.elapsed.setText(format_seconds(handle.elapsed) if shown else "")


class JobsDock(QDockWidget):
    """Lists the jobs of a :class:`JobManager` as they are submitted."""

    def __init__(self, jobs: JobManager, parent: QWidget | None = None) -> None:
        super().__init__("Jobs", parent)
        self.setObjectName("dock_jobs")
        self.setAccessibleName("Jobs")
        self.jobs = jobs
        self._rows: list[JobRow] = []
        self._new: list[JobHandle] = []  # submitted, row not built yet
        self._dirty: dict[JobHandle, None] = {}  # changed since the last pass, in order
        self._pass = QTimer(self)
        self._pass.setSingleShot(True)
        self._pass.setInterval(COALESCE_MS)
        self._pass.timeout.connect(self.flush)

        self.clear_button = QPushButton("Clear finished")
        self.clear_button.setObjectName("jobs_clear_finished")
        self.clear_button.setAccessibleName("Clear finished jobs")
        self.cancel_all_button = QPushButton("Cancel all")
        self.cancel_all_button.setObjectName("jobs_cancel_all")
        self.cancel_all_button.setAccessibleName("Cancel all jobs")
        self.show_quick = QCheckBox("Show quick refreshes")
        self.show_quick.setObjectName("jobs_show_quick")
        self.show_quick.setAccessibleName("Show quick refreshes")
        self.show_quick.setToolTip(
            f"List reads that ended within {QUICK_SECONDS:g} s too (table lists, previews, status checks)"
        )
        self.summary = QLabel("No jobs yet")
        self.summary.setObjectName("jobs_summary")
        self.summary.setAccessibleName("Jobs summary")

        self._list = QWidget()
        self._list_layout = QVBoxLayout(self._list)
        self._list_layout.setContentsMargins(2, 2, 2, 2)
        self._list_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setObjectName("jobs_list")
        scroll.setAccessibleName("Job list")
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._list)
        scroll.setMinimumHeight(self.fontMetrics().height() * 3)  # the dock may be made small

        bar = QHBoxLayout()
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.show_quick)
        bar.addWidget(self.cancel_all_button)
        bar.addWidget(self.clear_button)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(scroll, 1)
        self.setWidget(body)

        self.clear_button.clicked.connect(self.clear_finished)
        self.show_quick.toggled.connect(self._arrange)
        self.cancel_all_button.clicked.connect(jobs.cancel_all)
        jobs.job_added.connect(self.add_job)
        # Elapsed times tick while something runs; the timer stops when all is idle.
        self._ticker = QTimer(self)
        self._ticker.setInterval(500)
        self._ticker.timeout.connect(self._tick)

    @staticmethod
    def default_area() -> Qt.DockWidgetArea:
        return Qt.DockWidgetArea.BottomDockWidgetArea

    def rows(self) -> list[JobRow]:
        """Rows in the order shown (running first, then finished; newest first in each), up to date; hidden
        housekeeping rows included."""
        self.flush()
        return list(self._rows)

    def row_for(self, handle: JobHandle) -> JobRow | None:
        """The row of ``handle``, up to date (None once it was dropped)."""
        self.flush()
        return next((row for row in self._rows if row.handle is handle), None)

    def add_job(self, handle: JobHandle) -> None:
        self._new.append(handle)
        handle.changed.connect(lambda h=handle: self._mark(h))
        self._pass.start()

    def _mark(self, handle: JobHandle) -> None:
        self._dirty[handle] = None
        if not self._pass.isActive():
            self._pass.start()

    def flush(self) -> None:
        """Show what changed since the last pass: new rows first, then changed ones (one repaint)."""
        self._pass.stop()
        if not self._new and not self._dirty:
            return
        new, self._new = self._new, []
        dirty, self._dirty = self._dirty, {}
        self._list.setUpdatesEnabled(False)
        try:
            for handle in new:
                self._rows.insert(0, JobRow(handle, self._list))
                dirty.pop(handle, None)  # built from its current state
            for row in self._rows:
                if row.handle in dirty:
                    row.refresh()
            self._trim()
            self._arrange()
        finally:
            self._list.setUpdatesEnabled(True)
        self._update_summary()
        if any(not row.handle.done for row in self._rows):
            self._ticker.start()

    def visible_rows(self) -> list[JobRow]:
        """The rows a user sees, in order."""
        return [row for row in self.rows() if not row.isHidden()]

    def _arrange(self) -> None:
        """Running jobs first, then finished ones (each newest first); housekeeping hidden unless asked."""
        ordered = [r for r in self._rows if not r.handle.done] + [r for r in self._rows if r.handle.done]
        if ordered != self._rows or self._list_layout.count() != len(ordered) + 1:
            self._rows = ordered
            for row in ordered:
                self._list_layout.removeWidget(row)
            for index, row in enumerate(ordered):
                self._list_layout.insertWidget(index, row)
        show_quick = self.show_quick.isChecked()
        for row in self._rows:
            # now, not at the next event-loop turn: callers may look at it at once
            row.setVisible(show_quick or not is_housekeeping(row.handle))
        self._update_summary()

    def clear_finished(self) -> None:
        self.flush()
        for row in [r for r in self._rows if r.handle.done]:
            self._remove(row)
        self._update_summary()

    def _trim(self) -> None:
        finished = [r for r in self._rows if r.handle.done]
        while len(self._rows) > MAX_ROWS and finished:
            self._remove(finished.pop())

    def _remove(self, row: JobRow) -> None:
        self._rows.remove(row)
        row.setParent(None)
        row.deleteLater()

    def _tick(self) -> None:
        active = [r for r in self._rows if not r.handle.done]
        for row in active:
            row.update_elapsed()
        if not active:
            self._ticker.stop()

    def _update_summary(self) -> None:
        active = sum(1 for r in self._rows if not r.handle.done)
        failed = sum(1 for r in self._rows if r.handle.state == JobState.FAILED)
        parts = [f"{active} running" if active else "Idle"]
        if failed:
            parts.append(f"{failed} failed")
        quick = sum(1 for r in self._rows if is_housekeeping(r.handle))
        if quick and not self.show_quick.isChecked():
            parts.append(f"{plural(quick, 'quick refresh', 'quick refreshes')} hidden")
        self.summary.setText(" · ".join(parts))
        self.cancel_all_button.setEnabled(active > 0)
        self.clear_button.setEnabled(len(self._rows) > active)

"""The base of the six panels, and a way to run one panel alone for development.

A panel is a ``QWidget`` with a ``key`` (load, analyze, train, catalog, inference, runs), a ``title`` and an
``icon`` name (see ``ui.icons``; use the key). It holds no business logic: it asks the engine through
``ctx.run(...)`` jobs and updates itself in ``_on_<event>`` handlers. The main window calls
:meth:`Panel.shown` whenever the panel is navigated to (which runs the refreshes put off while it was
hidden, then :meth:`Panel.on_shown`) and :meth:`Panel.on_navigate` with an argument from
``ctx.navigate_requested`` (e.g. a model name for the catalog).

Refreshes triggered by app-wide change signals go through :meth:`Panel.refresh_soon`: a burst of signals
(a scoring emits ``runs_changed`` and ``tables_changed`` together) becomes one job per refresh, and a panel
hidden behind another section refreshes only once it is shown again.

Every interactive child needs a stable ``objectName`` and an ``accessibleName`` (tests walk the tree);
``Panel.name_widget`` sets both in one call.

Run a panel alone: ``python -m snowml_desktop.ui.panels.train`` with, at the bottom of the module,
``if __name__ == "__main__": preview(TrainPanel)``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ClassVar, TypeVar

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QStackedWidget, QWidget

from snowml_desktop.jobs.runner import guard_pyside_refcounts

if TYPE_CHECKING:
    from snowml_desktop.ui.context import AppContext

__all__ = ["Panel", "preview"]

W = TypeVar("W", bound=QWidget)

guard_pyside_refcounts()  # panels may be imported (and tested) before the jobs layer


class Panel(QWidget):
    """One section of the main window. Subclasses set the three class attributes."""

    key: ClassVar[str]
    title: ClassVar[str]
    icon: ClassVar[str]

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName(f"panel_{self.key}")
        self.setAccessibleName(f"{self.title} panel")
        # refresh -> the refresh that also does its work (skip the first when both are due).
        self._due: dict[Callable[[], object], Callable[[], object] | None] = {}
        self._stale: dict[Callable[[], object], Callable[[], object] | None] = {}
        self._due_timer = QTimer(self)
        self._due_timer.setSingleShot(True)
        self._due_timer.setInterval(0)
        self._due_timer.timeout.connect(self._run_due)

    def on_screen(self) -> bool:
        """False while another section of the main window is shown; a panel on its own is always on screen."""
        stack = self.parentWidget()
        return not isinstance(stack, QStackedWidget) or stack.currentWidget() is self

    def refresh_soon(
        self, refresh: Callable[[], object], *, covered_by: Callable[[], object] | None = None
    ) -> None:
        """Call ``refresh`` once at the next event-loop turn (repeated requests collapse into one), or, while
        the panel is hidden, when it is next shown. ``covered_by``: a refresh that does this one's work too;
        when both are due only that one runs."""
        if self.on_screen():
            self._due[refresh] = covered_by
            self.ctx.refreshing_panels.add(self)
            self._due_timer.start()
        else:
            self._stale[refresh] = covered_by

    def shown(self) -> None:
        """The main window navigated to this panel: run the refreshes put off while hidden, then
        :meth:`on_shown`."""
        self._due.update(self._stale)
        self._stale.clear()
        if self._due:
            self.ctx.refreshing_panels.add(self)
            self._due_timer.start()
        self.on_shown()

    @property
    def refresh_due(self) -> bool:
        """A refresh will run at the next event-loop turn (see :attr:`AppContext.idle`)."""
        return bool(self._due)

    def _run_due(self) -> None:
        due, self._due = self._due, {}
        if self.ctx.engine is None:  # disconnected meanwhile: the next engine_changed refreshes
            return
        if not self.on_screen():  # the user moved on before it ran: wait until shown again
            self._stale.update(due)
            return
        for refresh, covered_by in due.items():
            if covered_by is None or covered_by not in due:
                refresh()

    def on_shown(self) -> None:
        """Called each time the panel is navigated to: refresh cheaply (through ``ctx.run`` jobs)."""

    def on_navigate(self, argument: object) -> None:
        """Called with the argument of ``ctx.navigate_requested(self.key, argument)``, after ``on_shown``."""

    @staticmethod
    def name_widget(widget: W, object_name: str, accessible_name: str, tooltip: str | None = None) -> W:
        """Give ``widget`` its stable object name and accessible name (and a tooltip); returns it."""
        widget.setObjectName(object_name)
        widget.setAccessibleName(accessible_name)
        if tooltip:
            widget.setToolTip(tooltip)
        return widget


def preview(panel_class: type[Panel], argv: Sequence[str] | None = None) -> int:
    """Show ``panel_class`` alone in a window on the local engine (SNOWML_HOME or the default workspace),
    with the Jobs dock, for development. Returns the application's exit code."""
    from PySide6.QtWidgets import QApplication, QMainWindow

    from snowml_desktop.ui.context import AppContext
    from snowml_desktop.ui.jobs_dock import JobsDock

    app = QApplication.instance() or QApplication(list(argv if argv is not None else sys.argv))
    ctx = AppContext()
    window = QMainWindow()
    panel = panel_class(ctx)
    window.setCentralWidget(panel)
    window.addDockWidget(JobsDock.default_area(), JobsDock(ctx.jobs, window))
    window.setWindowTitle(f"{panel_class.title} — snowml-desktop preview")
    window.resize(1100, 750)
    ctx.engine_changed.connect(lambda engine: engine is not None and panel.on_shown())
    window.show()
    ctx.connect_to("local")
    code = app.exec()
    ctx.shutdown()
    return code

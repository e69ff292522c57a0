"""The base of the six panels, and a way to run one panel alone for development.

A panel is a ``QWidget`` with a ``key`` (load, analyze, train, catalog, inference, runs), a ``title`` and an
``icon`` name (see ``ui.icons``; use the key). It holds no business logic: it asks the engine through
``ctx.run(...)`` jobs and updates itself in ``_on_<event>`` handlers. The main window calls
:meth:`Panel.on_shown` whenever the panel is navigated to and :meth:`Panel.on_navigate` with an argument
from ``ctx.navigate_requested`` (e.g. a model name for the catalog).

Every interactive child needs a stable ``objectName`` and an ``accessibleName`` (tests walk the tree);
``Panel.name_widget`` sets both in one call.

Run a panel alone: ``python -m snowml_desktop.ui.panels.train`` with, at the bottom of the module,
``if __name__ == "__main__": preview(TrainPanel)``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, TypeVar

from PySide6.QtWidgets import QWidget

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

"""Every interactive widget has a stable objectName and an accessible name, and names are unique.

"Interactive" means something a user can click, type in, pick from or navigate: buttons, combo boxes,
line edits, spin boxes, item views, tab widgets and text areas. A label given an objectName is named on
purpose (a status line, a count, a note) and must carry an accessible name too. The parts Qt builds inside such a widget
(a combo box's popup list, a table's header, a line edit's clear button) belong to it and are skipped,
as are the parts Qt adds itself under ``qt_`` names (dock title buttons, toolbar overflow).
Repeated rows (one per job or notice) are checked as their own scope.
"""

from __future__ import annotations

from collections import Counter

import pytest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollBar,
    QTabBar,
    QTabWidget,
    QTextEdit,
    QWidget,
)

from snowml_desktop.ui.connection_dialog import ConnectionDialog
from snowml_desktop.ui.jobs_dock import JobRow
from snowml_desktop.ui.login_prompt import LoginNeeds, LoginPrompt
from snowml_desktop.ui.main_window import MainWindow
from snowml_desktop.ui.notices import Notice
from snowml_desktop.ui.setup_dialog import SetupDialog

from .model_fixtures import load_demo, settle, train_demo

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")

INTERACTIVE = (
    QAbstractButton,
    QComboBox,
    QLineEdit,
    QAbstractSpinBox,
    QAbstractItemView,
    QTabWidget,
    QPlainTextEdit,
    QTextEdit,
)
#: Widgets whose children are their own machinery, not separate controls.
COMPOSITE = (QComboBox, QLineEdit, QAbstractSpinBox, QAbstractItemView, QPlainTextEdit, QTextEdit, QTabBar)
#: Widgets repeated once per item, checked separately.
REPEATED = (JobRow, Notice)


def interactive_widgets(root: QWidget) -> list[QWidget]:
    """Interactive descendants of ``root`` that are controls of their own (see the module docstring)."""
    found = []
    for widget in root.findChildren(QWidget):
        if not _is_named_control(widget):
            continue
        if widget.objectName().startswith("qt_"):
            continue  # Qt's own parts (dock title buttons, menu bar overflow) with Qt's accessibility
        if _inside(widget, root, COMPOSITE) or _inside(widget, root, REPEATED):
            continue
        found.append(widget)
    return found


def _is_named_control(widget: QWidget) -> bool:
    if isinstance(widget, QLabel):
        return bool(widget.objectName())
    return isinstance(widget, INTERACTIVE) and not isinstance(widget, QScrollBar)


def _inside(widget: QWidget, root: QWidget, kinds: tuple[type, ...]) -> bool:
    parent = widget.parentWidget()
    while parent is not None and parent is not root:
        if isinstance(parent, kinds):
            return True
        parent = parent.parentWidget()
    return False


def problems(root: QWidget) -> list[str]:
    widgets = interactive_widgets(root)
    issues = [
        f"{type(w).__name__} {w.objectName()!r} ({getattr(w, 'text', lambda: '')()!r}): "
        f"{'no objectName' if not w.objectName() else 'no accessibleName'}"
        for w in widgets
        if not w.objectName() or not w.accessibleName()
    ]
    counts = Counter(w.objectName() for w in widgets if w.objectName())
    issues += [f"objectName {name!r} used {n} times" for name, n in counts.items() if n > 1]
    spoken = Counter(w.accessibleName() for w in widgets if w.accessibleName())
    issues += [f"accessibleName {name!r} used {n} times" for name, n in spoken.items() if n > 1]
    return issues


def test_every_control_of_the_window_and_its_panels_is_named(qtbot, app_context):
    load_demo(app_context, "BREAST_CANCER.csv")
    train_demo(app_context)
    window = MainWindow(app_context)
    qtbot.addWidget(window)
    window.show()
    window.ensure_all_panels()
    for key in ("load", "analyze", "train", "catalog", "inference", "runs"):
        window.navigate(key)
        settle(qtbot, app_context)
    window.ctx.run("Fail on purpose", lambda engine, task: engine.preview("NO_SUCH_TABLE"))
    settle(qtbot, app_context)
    assert len(interactive_widgets(window)) > 80  # the walk really sees the panels
    assert problems(window) == [], problems(window)
    rows = window.jobs_dock.rows()
    notices = window.notices.notices()
    assert rows and notices
    for repeated in [*rows, *notices]:
        assert problems(repeated) == []


def test_every_control_of_the_connection_manager_and_login_prompt_is_named(qtbot, bare_context):
    dialog = ConnectionDialog(bare_context)
    qtbot.addWidget(dialog)
    dialog.add_button.click()
    assert len(interactive_widgets(dialog)) > 20
    assert problems(dialog) == []

    from snowml_desktop.core.connections import ConnectionProfile

    profile = ConnectionProfile(name="dev", kind="snowflake", source="app", account="a", user="u")
    prompt = LoginPrompt(profile, LoginNeeds(("password",), True, False))
    qtbot.addWidget(prompt)
    assert problems(prompt) == []


def test_every_control_of_the_setup_dialog_is_named(qtbot, bare_context):
    from snowml_desktop.engines.base import SetupPlan

    plan = SetupPlan(
        True,
        "The app schema has not been set up in this database yet.",
        ["schemas SNOWML and DATA in database DB"],
        ["CREATE SCHEMA on database DB"],
        ['CREATE SCHEMA IF NOT EXISTS "DB"."SNOWML"'],
    )
    dialog = SetupDialog(bare_context, plan)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.sql_toggle.click()
    # The walk sees the dialog's own controls (and the job status line's, which problems() checks too).
    assert {"setup_objects", "setup_privileges", "setup_show_sql", "setup_sql", "setup_run"} <= {
        w.objectName() for w in interactive_widgets(dialog)
    }
    assert problems(dialog) == []


def test_the_login_prompt_is_wide_enough_for_its_title(qtbot):
    """Issue 10, item 20: the title "Log in to <connection>" was cut by the dialog's narrow width."""
    from snowml_desktop.core.connections import ConnectionProfile

    profile = ConnectionProfile(
        name="analytics-production-eu-central", kind="snowflake", source="app", account="a", user="u"
    )
    prompt = LoginPrompt(profile, LoginNeeds(("password",), True, False))
    qtbot.addWidget(prompt)
    prompt.show()
    qtbot.waitExposed(prompt)
    title = prompt.fontMetrics().horizontalAdvance(prompt.windowTitle())
    assert prompt.width() >= title + 120
    prompt.close()

"""Write ``docs/ui.md``: the ``objectName`` and accessible name of every interactive or named widget of the
main window, its docks, each panel, the Train panel's parameter editors and the connection manager.

    python scripts/ui_names.py            # rewrite docs/ui.md
    python scripts/ui_names.py --check    # exit 1 (and list the differences) when docs/ui.md is stale

The names are read from the real widgets (offscreen, on a throw-away workspace, not connected), so the
document cannot drift from the code: ``tests/test_ui_names.py`` fails when it does.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from screenshots import DEMO_APP_PROFILE, REPO, Session, demo_session, pause, wait_until

DOC = REPO / "docs" / "ui.md"
#: The job run to document a Jobs dock row and an error notice; shown as <job name> in the document.
SAMPLE_JOB = "Sample job"
SAMPLE_ERROR = "Sample failure"
INTERNAL_PREFIXES = ("qt_", "_q_")
_JOB_ID = re.compile(r"^(job_row_)\d+$")

HEADER = """\
# Widget names for automation

Every interactive widget has a stable `objectName` and an accessible name (what screen readers and UI
automation tools such as Qt's accessibility bridge, `pywinauto` or AT-SPI see). Find one in a test with
`window.findChild(QWidget, "train.train")`.

Generated from the real widgets by `python scripts/ui_names.py`; `tests/test_ui_names.py` fails when this
file is out of date (run the script to refresh it). Rows are in widget-tree order. A name shown as
*(none)* is a gap to fix in the code. `<id>` stands for a job's number, `<job name>` for its name and
`<connection>` for a connection's name.
"""


@dataclass(frozen=True)
class Row:
    object_name: str
    accessible_name: str
    kind: str

    def markdown(self) -> str:
        name = f"`{self.object_name}`" if self.object_name else "*(none)*"
        accessible = _cell(self.accessible_name) if self.accessible_name else "*(none)*"
        return f"| {name} | {accessible} | {self.kind} |"


def _cell(text: str) -> str:
    """``text`` for a Markdown table cell (``<job name>`` must not read as an HTML tag)."""
    return text.replace("|", "\\|").replace("<", "\\<").replace(">", "\\>").replace("\n", " ")


def _qt() -> Any:
    """The widget classes the walk distinguishes (imported late: the QApplication must come first)."""
    from PySide6 import QtWidgets as W

    from snowml_desktop.ui.widgets.charts import ChartView

    interactive = (
        W.QAbstractButton,
        W.QComboBox,
        W.QLineEdit,
        W.QAbstractSpinBox,
        W.QAbstractItemView,
        W.QTabWidget,
        W.QTextEdit,
        W.QPlainTextEdit,
        W.QAbstractSlider,
        W.QGraphicsView,
    )
    # Composite widgets documented as one unit: their inner parts are Qt's or pyqtgraph's business.
    leaves = (*interactive, W.QLabel, W.QProgressBar, W.QTabBar, W.QMenuBar, W.QMenu, ChartView)
    leaves = tuple(kind for kind in leaves if kind is not W.QTabWidget)
    return W, interactive, leaves


def walk(root: Any, skip: Iterable[Any] = ()) -> list[Row]:
    """Rows for ``root`` and its descendants in tree order, not entering ``skip`` widgets, other
    windows, Qt's own parts (``qt_*`` names) or the inside of a leaf widget (a button, a view, a chart)."""
    W, interactive, leaves = _qt()
    skipped = {id(widget) for widget in skip}
    rows: list[Row] = []

    def visit(widget: Any) -> None:
        if id(widget) in skipped or isinstance(widget, W.QScrollBar):
            return
        name = widget.objectName()
        internal = name.startswith(INTERNAL_PREFIXES)
        if not internal and (name or isinstance(widget, interactive)):
            row = Row(_JOB_ID.sub(r"\1<id>", name), widget.accessibleName(), type(widget).__name__)
            if row not in rows:
                rows.append(row)
        if isinstance(widget, leaves):
            return
        for child in widget.children():
            if isinstance(child, W.QWidget) and not child.isWindow():
                visit(child)

    visit(root)
    return [_generic(row) for row in rows]


def _generic(row: Row) -> Row:
    accessible = row.accessible_name.replace(SAMPLE_JOB, "<job name>")
    return Row(row.object_name, accessible.replace(DEMO_APP_PROFILE["name"], "<connection>"), row.kind)


def action_rows(window: Any) -> list[str]:
    """Markdown rows of the window's named actions: object name, text, shortcut."""
    from PySide6.QtGui import QAction, QKeySequence

    rows = []
    for action in window.findChildren(QAction):
        name = action.objectName()
        if name and not name.startswith(INTERNAL_PREFIXES):
            text = action.text().replace("&", "")
            shortcut = action.shortcut().toString(QKeySequence.SequenceFormat.PortableText)
            rows.append(f"| `{name}` | {_cell(text)} | {f'`{shortcut}`' if shortcut else ''} |")
    return rows


def parameter_rows(train: Any) -> list[str]:
    """Markdown rows of the Train panel's parameter editors, for every method (they are rebuilt when the
    method changes, so each method is chosen in turn and the original choice restored)."""
    original = train.method_combo.currentIndex()
    rows = []
    for index in range(train.method_combo.count()):
        train.method_combo.setCurrentIndex(index)
        method = train.method_combo.itemText(index)
        for row in walk(train.params):
            if row.object_name != train.params.objectName():
                rows.append(f"| {_cell(method)} {row.markdown()}")
    train.method_combo.setCurrentIndex(original)
    return rows


def _section(title: str, rows: list[Row]) -> list[str]:
    return [
        f"## {title}",
        "",
        "| objectName | Accessible name | Kind |",
        "| --- | --- | --- |",
        *(row.markdown() for row in rows),
        "",
    ]


def document(session: Session) -> str:
    """The whole of ``docs/ui.md`` for the window of ``session`` (every panel built, not connected)."""
    from snowml_desktop.core import connections
    from snowml_desktop.core.errors import InvalidInput
    from snowml_desktop.ui.connection_dialog import ConnectionDialog
    from snowml_desktop.ui.login_prompt import SECRET_LABELS, LoginNeeds, LoginPrompt
    from snowml_desktop.ui.main_window import PANELS

    window, ctx = session.window, session.ctx

    def fail(task: Any) -> None:
        raise InvalidInput(SAMPLE_ERROR, hint="Nothing to fix: this job documents the Jobs dock.")

    handle = ctx.jobs.submit(SAMPLE_JOB, fail)  # a finished, failed job: its row and its notice
    wait_until(lambda: handle.done and not ctx.jobs.running(), "the sample job to end")
    pause(50)  # its signals reach the dock and the notice area

    panels = [window.panel(spec.key) for spec in PANELS]
    docks = [window.jobs_dock, window.activity_dock]
    lines = [HEADER]
    lines += _section("Main window", walk(window, skip=[*panels, *docks]))
    for dock in docks:
        lines += _section(f"{dock.windowTitle()} dock", walk(dock))
    for spec, panel in zip(PANELS, panels, strict=True):
        lines += _section(f"{spec.title} panel", walk(panel))
    train = window.panel("train")
    lines += [
        "## Train Model parameters",
        "",
        f"Rebuilt for the chosen method; named `{train.params.objectName() or 'train.param'}.<parameter>`.",
        "",
        "| Method | objectName | Accessible name | Kind |",
        "| --- | --- | --- | --- |",
        *parameter_rows(train),
        "",
    ]
    dialog = ConnectionDialog(ctx, window)
    try:
        lines += _section("Connection manager (dialog)", walk(dialog))
    finally:
        dialog.deleteLater()
    # Every field the login prompt can ask for (it shows only those the login lacks).
    profile = connections.get_profile(DEMO_APP_PROFILE["name"])
    prompt = LoginPrompt(profile, LoginNeeds(tuple(SECRET_LABELS), passcode=True, keyring=True), window)
    try:
        lines += _section("Login prompt (dialog, before connecting)", walk(prompt))
    finally:
        prompt.deleteLater()
    lines += [
        "## Menu actions",
        "",
        "| objectName | Text | Shortcut |",
        "| --- | --- | --- |",
        *action_rows(window),
        "",
    ]
    return "\n".join(lines)


def generate() -> str:
    """``docs/ui.md`` as the current code would have it."""
    with (
        tempfile.TemporaryDirectory(prefix="snowml-ui-names-") as tmp,
        demo_session(Path(tmp), connect=False) as session,
    ):
        return document(session)


def differences(expected: str, actual: str) -> list[str]:
    """Lines the document lacks ("missing: ...") and lines it has that the widgets do not ("stale: ...")."""
    want, have = expected.splitlines(), actual.splitlines()
    missing = [f"missing: {line}" for line in want if line not in have]
    stale = [f"stale: {line}" for line in have if line not in want]
    return missing + stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate docs/ui.md from the real widgets.")
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when docs/ui.md is stale")
    args = parser.parse_args(argv)
    text = generate()
    if args.check:
        current = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
        problems = differences(text, current)
        for line in problems:
            print(line)
        return 1 if problems or text != current else 0
    DOC.write_text(text, encoding="utf-8")
    print(DOC)
    return 0


if __name__ == "__main__":
    sys.exit(main())

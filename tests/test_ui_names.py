"""docs/ui.md lists the names of the real widgets (regenerate it with ``python scripts/ui_names.py``)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def ui_names(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(REPO / "scripts"))
    return importlib.import_module("ui_names")


@pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform's note about dock size hints
def test_docs_ui_md_is_up_to_date(qapp, ui_names):
    expected = ui_names.generate()
    current = ui_names.DOC.read_text(encoding="utf-8")
    problems = ui_names.differences(expected, current)
    assert not problems, "docs/ui.md is out of date; run python scripts/ui_names.py\n" + "\n".join(problems)
    assert current == expected, (
        "docs/ui.md has the right rows in the wrong order; run python scripts/ui_names.py"
    )


def test_walk_lists_named_and_unnamed_interactive_widgets_but_not_qt_internals(qapp, ui_names):
    from PySide6.QtWidgets import QComboBox, QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget

    root = QWidget()
    root.setObjectName("root")
    layout = QVBoxLayout(root)
    named = QPushButton("Go")
    named.setObjectName("demo.go")
    named.setAccessibleName("Go now")
    combo = QComboBox()  # interactive but unnamed: a gap the document shows
    combo.setEditable(True)  # its inner line edit is Qt's, not listed
    caption = QLabel("Just a caption")  # unnamed, not interactive: not listed
    readout = QLabel("42")
    readout.setObjectName("demo.readout")
    tabs = QTabWidget()
    tabs.setObjectName("demo.tabs")
    page_button = QPushButton("Inside a tab")
    page_button.setObjectName("demo.inside")
    tabs.addTab(page_button, "Page")
    for widget in (named, combo, caption, readout, tabs):
        layout.addWidget(widget)

    rows = ui_names.walk(root)

    assert [(r.object_name, r.accessible_name, r.kind) for r in rows] == [
        ("root", "", "QWidget"),
        ("demo.go", "Go now", "QPushButton"),
        ("", "", "QComboBox"),
        ("demo.readout", "", "QLabel"),
        ("demo.tabs", "", "QTabWidget"),
        ("demo.inside", "", "QPushButton"),
    ]
    assert rows[2].markdown() == "| *(none)* | *(none)* | QComboBox |"
    root.deleteLater()


def test_differences_name_missing_and_stale_rows(ui_names):
    assert ui_names.differences("a\n| `x` |\n", "a\n| `y` |\n") == ["missing: | `x` |", "stale: | `y` |"]

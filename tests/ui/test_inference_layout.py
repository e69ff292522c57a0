"""The Inference panel's left column never scrolls sideways and its action row stays in view, whatever the
table's or model's name and however long the recommendation, at 1280 × 820 and 1024 × 700."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication, QComboBox, QScrollArea

from snowml_desktop.engines.base import ScoreRequest, TrainRequest
from snowml_desktop.jobs.runner import ErrorInfo
from snowml_desktop.ui.main_window import MainWindow

from .model_fixtures import load_demo, settle, sql

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")

#: 66 characters, no break opportunity but underscores.
LONG_TABLE = "BREAST_CANCER_SCREENING_RESULTS_FROM_THE_QUARTERLY_REGIONAL_REVIEW"


@pytest.fixture
def window(qtbot, app_context):
    window = MainWindow(app_context)
    window.ensure_all_panels()
    window.show()
    qtbot.waitExposed(window)
    settle(qtbot, app_context)
    yield window
    app_context.jobs.cancel_all()
    settle(qtbot, app_context)
    window.close()


def _fully_visible(widget, scroll: QScrollArea | None = None) -> bool:
    """``widget`` is shown whole: inside the window and, when in ``scroll``, inside its viewport."""
    window = widget.window()
    top_left = widget.mapTo(window, widget.rect().topLeft())
    inside = QRect(top_left, widget.size())
    if not window.rect().contains(inside):
        return False
    if scroll is not None and scroll.isAncestorOf(widget):
        viewport = scroll.viewport()
        view = QRect(viewport.mapTo(window, viewport.rect().topLeft()), viewport.size())
        return view.contains(inside)
    return True


@pytest.mark.slow
@pytest.mark.parametrize("size", [(1280, 820), (1024, 700)])
def test_the_left_column_never_scrolls_sideways_and_run_stays_in_view(
    qtbot, window, size, small_batches, tmp_path
):
    load_demo(window.ctx)
    sql(window.ctx, f'CREATE TABLE "DATA"."{LONG_TABLE}" AS SELECT * FROM "DATA"."BREAST_CANCER"')
    record = window.ctx.engine.train(TrainRequest(LONG_TABLE, "DIAGNOSIS", method="logistic_regression"))
    for warehouse in ("X-Small", "Small"):  # past runs at two sizes: a recommended size is shown
        window.ctx.engine.score(ScoreRequest(record.name, LONG_TABLE, size=warehouse, overwrite=True))
    window.resize(*size)
    window.navigate("inference", record.name)
    panel = window.panel("inference")
    settle(qtbot, window.ctx)
    window.notices.show_error("Score", ErrorInfo("The warehouse was suspended. " * 6, "", "engine_error"))
    QApplication.processEvents()
    assert panel.recommendation.text().startswith("Recommended for ")
    assert LONG_TABLE in panel.check_label.text() and LONG_TABLE in panel.output_note.text()
    window.grab().save(str(tmp_path / f"inference-{size[0]}.png"))  # to look at when it fails
    assert (window.width(), window.height()) == size
    for scroll in panel.findChildren(QScrollArea):
        assert not scroll.horizontalScrollBar().isVisible(), scroll.objectName()
    scroll = panel.form_scroll
    # Every child shrinks to the column: nothing is cut off at its right edge either.
    assert scroll.widget().width() <= scroll.viewport().width()
    for button in (panel.run_button, panel.open_run, panel.automate_button, panel.check_drift):
        assert button.isVisible() and _fully_visible(button, scroll), button.objectName()


@pytest.mark.parametrize("size", [(1280, 820), (1024, 700)])
def test_no_panel_column_scrolls_sideways_with_a_long_table_name(qtbot, window, size, tmp_path):
    """The other panels with a scrolling column (Train Model's form, the threshold view, the Jobs dock)
    neither, with a 66-character table name chosen and an error notice showing."""
    load_demo(window.ctx)
    sql(window.ctx, f'CREATE TABLE "DATA"."{LONG_TABLE}" AS SELECT * FROM "DATA"."BREAST_CANCER"')
    window.ctx.tables_changed.emit()
    window.resize(*size)
    for key in ("load", "analyze", "train", "catalog", "inference", "runs"):
        window.navigate(key)
        settle(qtbot, window.ctx)
        panel = window.panel(key)
        for combo in panel.findChildren(QComboBox):
            if combo.findText(LONG_TABLE) >= 0:
                combo.setCurrentText(LONG_TABLE)
        settle(qtbot, window.ctx)
        window.notices.show_error("Train", ErrorInfo("The warehouse was suspended. " * 6, "", "engine_error"))
        QApplication.processEvents()
        window.grab().save(str(tmp_path / f"{key}-{size[0]}.png"))
        assert (window.width(), window.height()) == size, key
        for scroll in window.findChildren(QScrollArea):
            if scroll.isVisible() and scroll.widget() is not None:
                assert not scroll.horizontalScrollBar().isVisible(), (key, scroll.objectName())

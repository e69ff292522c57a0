"""The Compare methods dialog on real widgets and a real LocalEngine."""

from __future__ import annotations

from PySide6.QtCore import Qt

from snowml_desktop.core.methods import METHODS
from snowml_desktop.engines.base import CompareRequest
from snowml_desktop.ui.compare_dialog import CompareDialog

from .model_fixtures import JOB_MS, load_demo, settle


def _dialog(qtbot, ctx, methods: set[str]) -> CompareDialog:
    dialog = CompareDialog(ctx, CompareRequest("BREAST_CANCER", "DIAGNOSIS", methods=[], seed=7))
    qtbot.addWidget(dialog)
    for i in range(dialog.methods.count()):
        item = dialog.methods.item(i)
        wanted = item.data(Qt.ItemDataRole.UserRole) in methods
        item.setCheckState(Qt.CheckState.Checked if wanted else Qt.CheckState.Unchecked)
    return dialog


def test_compare_on_the_same_folds_then_keep_the_best(qtbot, app_context) -> None:
    load_demo(app_context)
    dialog = _dialog(qtbot, app_context, {"logistic_regression", "gaussian_nb"})
    dialog.folds.setValue(3)
    dialog.resize(1024, 640)
    dialog.run_button.click()
    settle(qtbot, app_context)
    assert dialog.table.rowCount() == 2 and "3 folds" in dialog.status.text()
    labels = {dialog.table.item(r, 0).text() for r in range(2)}
    assert labels == {METHODS["logistic_regression"].label, METHODS["gaussian_nb"].label}
    assert " ± " in dialog.table.item(0, 1).text()
    assert dialog.curves.line_count() == (2, 2)
    best = dialog._comparison.best()
    assert dialog.table.selectionModel().selectedRows()[0].row() == dialog._comparison.results.index(best)
    assert dialog.keep_button.isEnabled()
    with qtbot.waitSignal(dialog.model_kept, timeout=JOB_MS) as kept:
        dialog.keep_button.click()
    settle(qtbot, app_context)
    record = app_context.engine.get_model(kept.args[0])
    assert record.method == best.method and record.options["cv_folds"] == 3 and record.options["seed"] == 7
    assert "Kept as" in dialog.status.text()


def test_no_method_chosen_is_explained(qtbot, app_context) -> None:
    load_demo(app_context)
    dialog = _dialog(qtbot, app_context, set())
    dialog.run_button.click()
    settle(qtbot, app_context)
    assert "Choose at least one method" in dialog.status.text()
    assert (
        dialog.table.rowCount() == 0 and not dialog.keep_button.isEnabled() and dialog.run_button.isEnabled()
    )

"""The whole issue-3 workflow in the real MainWindow, by the panels' own code paths, on a LocalEngine:
upload (file dialog path and drop) -> load -> analyze -> train two methods -> catalog -> score at two sizes -> runs."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from snowml_desktop.ui.main_window import MainWindow

from .model_fixtures import JOB_MS, drop_files, settle


# The offscreen platform plugin warns about a shown main window's dock size hints; harmless.
@pytest.mark.qt_log_ignore("propagateSizeHints")
@pytest.mark.slow
def test_whole_workflow(qtbot, app_context, tmp_path, monkeypatch):
    from snowml_desktop.core.demo_data import breast_cancer_frames

    path = tmp_path / "patients.csv"
    breast_cancer_frames()[0].to_csv(path, index=False)
    window = MainWindow(app_context)
    qtbot.addWidget(window)
    window.show()
    ctx = app_context

    # Upload by the Load panel's dialog code path, then load.
    window.navigate("load")
    load = window.panel("load")
    settle(qtbot, ctx)
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(lambda *a, **k: ([str(path)], "")))
    qtbot.mouseClick(load.upload_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: load.selected_file() == "patients.csv", timeout=JOB_MS)
    with qtbot.waitSignal(ctx.tables_changed, timeout=JOB_MS):
        qtbot.mouseClick(load.load_button, Qt.MouseButton.LeftButton)
    assert load.last_result().table == "PATIENTS"

    # And by dropping a file onto the stage's file list.
    dropped = tmp_path / "patients_dropped.csv"
    breast_cancer_frames()[0].head(50).to_csv(dropped, index=False)
    drop_files(load.files, [dropped])
    qtbot.waitUntil(lambda: load.selected_file() == "patients_dropped.csv", timeout=JOB_MS)
    assert load.table_edit.canonical() == "PATIENTS_DROPPED"
    with qtbot.waitSignal(ctx.tables_changed, timeout=JOB_MS):
        qtbot.mouseClick(load.load_button, Qt.MouseButton.LeftButton)
    assert load.last_result().rows_loaded == 50
    load.files.select_file("patients.csv")
    load.table_edit.setText("PATIENTS")
    load.mode_combo.setCurrentIndex(load.mode_combo.findData("replace"))
    with qtbot.waitSignal(ctx.tables_changed, timeout=JOB_MS):
        qtbot.mouseClick(load.load_button, Qt.MouseButton.LeftButton)
    assert load.last_result().table == "PATIENTS"

    # Analyze it.
    qtbot.mouseClick(load.analyze_button, Qt.MouseButton.LeftButton)
    settle(qtbot, ctx)
    assert window.current_key() == "analyze"
    analyze = window.panel("analyze")
    assert analyze.current_table() == "PATIENTS"
    assert {"PATIENTS", "PATIENTS_DROPPED"} <= set(analyze.table_names())
    qtbot.waitUntil(lambda: analyze.balance_chart.message() == "", timeout=JOB_MS)
    engine_balance = ctx.engine.class_balance("PATIENTS", "DIAGNOSIS")
    assert analyze.balance_chart.bars() == list(
        zip(engine_balance.labels, [float(c) for c in engine_balance.counts], strict=True)
    )

    # Train two methods; each success jumps to the catalog.
    window.navigate("train", "PATIENTS")
    train = window.panel("train")
    settle(qtbot, ctx)
    assert train.target_combo.currentText() == "DIAGNOSIS"
    names = []
    for method, params in (("random_forest", {"n_estimators": 10}), ("logistic_regression", {})):
        window.navigate("train")
        train.method_combo.setCurrentIndex(train.method_combo.findData(method))
        train.params.set_values(params)
        with qtbot.waitSignal(ctx.models_changed, timeout=JOB_MS) as changed:
            qtbot.mouseClick(train.train_button, Qt.MouseButton.LeftButton)
        names.append(changed.args[0])
        settle(qtbot, ctx)
        assert window.current_key() == "catalog"

    # The catalog shows both, and the engine's confusion matrix.
    catalog = window.panel("catalog")
    qtbot.waitUntil(lambda: sorted(catalog.model_names()) == sorted(names), timeout=JOB_MS)
    assert catalog.selected_name() == names[1]
    catalog.select_model(names[0])
    assert catalog.confusion.counts() == ctx.engine.get_model(names[0]).confusion_matrix

    # Score at two sizes from the Inference panel; the timing graph gets two points.
    qtbot.mouseClick(catalog.score_button, Qt.MouseButton.LeftButton)
    settle(qtbot, ctx)
    inference = window.panel("inference")
    assert window.current_key() == "inference"
    assert inference.model_combo.currentText() == names[0]
    assert inference.table_combo.currentText() == "PATIENTS"
    qtbot.waitUntil(inference.run_button.isEnabled, timeout=JOB_MS)
    inference.set_compare_sizes(["X-Small", "Small"])
    qtbot.mouseClick(inference.compare_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not inference.busy, timeout=JOB_MS)
    settle(qtbot, ctx)
    qtbot.waitUntil(lambda: len(inference.timing.points()) == 2, timeout=JOB_MS)

    # Open the run.
    qtbot.mouseClick(inference.open_run, Qt.MouseButton.LeftButton)
    settle(qtbot, ctx)
    runs = window.panel("runs")
    assert window.current_key() == "runs"
    assert runs.selected_run_id() == inference.last_run.run_id
    assert runs.confusion.counts() == inference.last_run.confusion_matrix
    assert "PREDICTION" in runs.preview_model.headers()

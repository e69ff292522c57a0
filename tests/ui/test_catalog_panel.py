"""Model Catalog panel: lists models, shows the engine's evaluation numbers, deletes after asking."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from snowml_desktop.ui.panels.catalog import CatalogPanel, usage_text

from .model_fixtures import load_demo, make_odd_tables, settle, sql, train_demo


@pytest.fixture
def panel(qtbot, app_context):
    load_demo(app_context)
    widget = CatalogPanel(app_context)
    qtbot.addWidget(widget)
    return widget


def test_empty_catalog(qtbot, panel):
    panel.on_shown()
    settle(qtbot, panel.ctx)
    assert panel.model_names() == []
    assert not panel.delete_button.isEnabled()
    assert panel.top_chart.message()


@pytest.mark.slow
def test_models_listed_and_confusion_numbers_equal_the_engine(qtbot, panel):
    forest = train_demo(panel.ctx)
    logistic = train_demo(panel.ctx, "logistic_regression")
    panel.on_navigate(forest.name)
    settle(qtbot, panel.ctx)
    assert sorted(panel.model_names()) == sorted([forest.name, logistic.name])
    assert panel.selected_name() == forest.name
    header = panel.table.horizontalHeaderItem
    assert header(3).text() == "AUC" and "ROC curve" in header(3).toolTip()  # short header, full name as tip
    engine_record = panel.ctx.engine.get_model(forest.name)
    assert panel.confusion.counts() == engine_record.confusion_matrix
    assert panel.per_class.rowCount() == len(engine_record.classes)
    assert panel.curves.line_count() == (1, 1)
    assert len(panel.importance.bars()) > 0
    assert engine_record.artifact_sha256 in panel.info.toPlainText()
    assert f"snowml score --model {forest.name} --table BREAST_CANCER" in panel.usage.toPlainText()
    panel.select_model(logistic.name)
    assert panel.confusion.counts() == panel.ctx.engine.get_model(logistic.name).confusion_matrix
    panel.metric_combo.setCurrentIndex(panel.metric_combo.findData("accuracy"))
    assert {label for label, _ in panel.top_chart.bars()} == {forest.name, logistic.name}


@pytest.mark.slow
def test_sorting_by_metric_column(qtbot, panel):
    names = [train_demo(panel.ctx).name, train_demo(panel.ctx, "gaussian_nb").name]
    panel.refresh()
    settle(qtbot, panel.ctx)
    panel.table.sortByColumn(1, panel.table.horizontalHeader().sortIndicatorOrder().AscendingOrder)
    accuracies = [panel.ctx.engine.get_model(n).metrics["accuracy"] for n in panel.model_names()]
    assert accuracies == sorted(accuracies) and sorted(panel.model_names()) == sorted(names)


def test_delete_asks_and_removes(qtbot, panel, monkeypatch):
    record = train_demo(panel.ctx)
    panel.on_shown()
    settle(qtbot, panel.ctx)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Cancel)
    panel.delete_selected()
    settle(qtbot, panel.ctx)
    assert panel.model_names() == [record.name]
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    panel.delete_selected()
    settle(qtbot, panel.ctx)
    qtbot.waitUntil(lambda: panel.model_names() == [])
    assert panel.ctx.engine.list_models() == []


def test_usage_on_snowflake_names_the_udf(panel):
    record = train_demo(panel.ctx)
    from dataclasses import replace

    caps = replace(panel.ctx.engine.capabilities, local=False)
    text = usage_text(record, caps)
    assert f'"PREDICT_{record.name}"(' in text and 'CAST("MEAN_RADIUS" AS FLOAT)' in text.upper()


@pytest.mark.slow
def test_model_with_an_all_null_column_and_odd_training_tables(qtbot, panel):
    make_odd_tables(panel.ctx)
    sql(panel.ctx, 'CREATE TABLE "DATA"."BC_HOLE" AS SELECT * FROM "DATA"."BREAST_CANCER"')
    sql(panel.ctx, 'UPDATE "DATA"."BC_HOLE" SET "MEAN_RADIUS" = NULL')
    from snowml_desktop.core.errors import InvalidInput
    from snowml_desktop.engines.base import TrainRequest

    for table in ("BC_EMPTY", "BC_NAN", "BC_SINGLE"):  # nothing to catalog: the engine refuses
        with pytest.raises(InvalidInput):
            panel.ctx.engine.train(TrainRequest(table, "DIAGNOSIS"))
    record = panel.ctx.engine.train(TrainRequest("BC_HOLE", "DIAGNOSIS", method="logistic_regression"))
    panel.on_shown()
    settle(qtbot, panel.ctx)
    assert panel.model_names() == [record.name]
    assert panel.selected_name() == record.name
    assert "MEAN_RADIUS: every value is missing" in panel.info.toPlainText()
    assert panel.confusion.counts() == record.confusion_matrix
    assert panel.per_class.rowCount() == len(record.classes)
    assert record.artifact_sha256 in panel.info.toPlainText()
    assert f"--model {record.name}" in panel.usage.toPlainText()


def test_details_follow_the_selection_when_a_new_model_lands_on_the_selected_row(qtbot, panel):
    """Train A (the catalog opens on A), then train B: B takes A's row in the newest-first table, so the
    row selection does not change; the detail pane must still show B (issue 10, item 14)."""
    first = train_demo(panel.ctx)
    panel.on_navigate(first.name)
    settle(qtbot, panel.ctx)
    panel.table.sortByColumn(7, panel.table.horizontalHeader().sortIndicatorOrder().DescendingOrder)
    assert panel.selected_name() == first.name and first.name in panel.header.text()
    second = train_demo(panel.ctx, "logistic_regression")
    panel.ctx.models_changed.emit(second.name)
    panel.on_navigate(second.name)
    settle(qtbot, panel.ctx)
    assert panel.selected_name() == second.name
    assert second.name in panel.header.text() and first.name not in panel.header.text()
    assert panel.confusion.counts() == second.confusion_matrix
    assert second.name in panel.info.toPlainText()
    assert panel.selected_model().name == second.name


def test_parameters_read_as_the_form_showed_them_and_the_auto_search_is_a_table_and_chart(qtbot, panel):
    """No JSON blobs (issue 10, item 19): "max_depth 0" reads "no limit", options use the form's words,
    and an Auto model's search history is a table of trials with an optimisation-history chart."""
    forest = train_demo(panel.ctx, "random_forest", n_estimators=10, max_depth=0)
    auto = train_demo(panel.ctx, "auto", trials=4, timeout_seconds=60, max_rows=300, search_folds=2)
    panel.on_navigate(forest.name)
    settle(qtbot, panel.ctx)
    info = panel.info.toPlainText()
    assert "Max depth: no limit" in info and '"max_depth"' not in info and "{" not in info
    assert "Drop duplicate rows before splitting: no" in info
    assert not panel.tabs.isTabVisible(panel.tabs.indexOf(panel.search))
    panel.select_model(auto.name)
    assert panel.tabs.isTabVisible(panel.tabs.indexOf(panel.search))
    history = auto.options["search"]["history"]
    assert panel.search.table.rowCount() == len(history) == 4
    assert "history" not in panel.info.toPlainText()
    scores = [h["score"] for h in history if h["score"] is not None]
    best = panel.search.best_so_far()
    assert best == sorted(best) and best[-1] == max(scores)
    assert "4 trials" in panel.search.summary.text()


def test_informational_notes_are_not_warnings(qtbot, panel):
    from snowml_desktop.core.records import ModelWarning
    from snowml_desktop.ui.model_notes import model_notes, title_of

    record = train_demo(panel.ctx)
    record.warnings = [
        ModelWarning("id_columns_excluded", "ID looks like an identifier and was left out."),
        ModelWarning(
            "duplicate_leakage",
            "3 test row(s) duplicate training rows. Train with dedupe to drop duplicates before splitting.",
        ),
    ]
    panel._set_models([record])
    text = panel.warnings.text()
    assert "duplicate_leakage" not in text and "Test rows repeat training rows" in text
    assert "dedupe" not in text and "Drop duplicate rows before splitting" in text
    assert "1 warning" in text and "1 note" in text
    assert model_notes(record).notes[0].code == "id_columns_excluded"
    record.warnings = record.warnings[:1]
    panel._set_models([record])
    name_cell = panel.table.item(0, 0)
    assert not name_cell.text().startswith("⚠")  # a note alone is no warning
    assert title_of(record.warnings[0]) in panel.warnings.text()


def test_threshold_tab_saves_the_threshold_used_by_scoring(qtbot, panel):
    from snowml_desktop.core import threshold as th

    record = train_demo(panel.ctx, "logistic_regression")
    panel.on_navigate(record.name)
    settle(qtbot, panel.ctx)
    view = panel.threshold
    assert view.save.isEnabled() and "Positive class" in view.note.text()
    view.preset.setCurrentIndex(view.preset.findData("max_f1"))
    view.apply_preset.click()
    view.save.click()
    settle(qtbot, panel.ctx)
    chosen = th.choose(record.curves["scores"], "max_f1").threshold
    assert panel.ctx.engine.get_model(record.name).threshold == pytest.approx(chosen)
    assert "scoring runs from now on use it" in panel.status.text()
    assert f"saved threshold {chosen:.4g}" in view.note.text()  # the refreshed record is shown
    view.clear.click()
    settle(qtbot, panel.ctx)
    assert panel.ctx.engine.get_model(record.name).threshold is None


def test_top_models_rank_one_table_and_target_with_leaky_models_last(qtbot, panel):
    load_demo(panel.ctx, "CHURN.csv")
    forest = train_demo(panel.ctx)
    sql(
        panel.ctx,
        'CREATE TABLE "DATA"."BC_TWICE" AS SELECT * FROM "DATA"."BREAST_CANCER" '
        'UNION ALL SELECT * FROM "DATA"."BREAST_CANCER"',
    )
    from snowml_desktop.engines.base import TrainRequest

    leaky = panel.ctx.engine.train(
        TrainRequest("BC_TWICE", "DIAGNOSIS", method="random_forest", params={"n_estimators": 10})
    )
    assert any(w.code == "duplicate_leakage" for w in leaky.warnings)
    churn = panel.ctx.engine.train(TrainRequest("CHURN", "CHURNED", method="gaussian_nb"))
    panel.on_navigate(churn.name)
    settle(qtbot, panel.ctx)
    assert panel.scope_combo.currentData() == ("CHURN", "CHURNED")
    assert [label for label, _ in panel.top_chart.bars()] == [churn.name]
    panel.select_model(forest.name)
    assert panel.scope_combo.currentData() == ("BREAST_CANCER", "DIAGNOSIS")
    assert [label for label, _ in panel.top_chart.bars()] == [forest.name]
    panel.select_model(leaky.name)
    assert panel.scope_combo.currentData() == ("BC_TWICE", "DIAGNOSIS")
    assert [label for label, _ in panel.top_chart.bars()] == [f"⚠ {leaky.name}"]

"""Train Model panel on a real LocalEngine: screening, training two methods, cancel, errors, odd inputs."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from snowml_desktop.core.methods import METHODS
from snowml_desktop.ui.panels.train import TrainPanel, guess_target

from .model_fixtures import JOB_MS, load_demo, settle


@pytest.fixture
def panel(qtbot, app_context):
    load_demo(app_context, "BREAST_CANCER.csv", "CHURN.csv")
    widget = TrainPanel(app_context)
    qtbot.addWidget(widget)
    widget.on_shown()
    settle(qtbot, app_context)
    return widget


def choose(qtbot, panel, table: str, target: str | None = None) -> None:
    panel.table_combo.setCurrentText(table)
    settle(qtbot, panel.ctx)
    if target is not None:
        panel.target_combo.setCurrentText(target)
        settle(qtbot, panel.ctx)


def train(qtbot, panel):
    with qtbot.waitSignal(panel.ctx.models_changed, timeout=JOB_MS) as changed:
        handle = panel.start_training()
        assert handle is not None
    settle(qtbot, panel.ctx)
    return changed.args[0]


def test_guess_target():
    assert guess_target(["A", "DIAGNOSIS", "B"]) == "DIAGNOSIS"
    assert guess_target(["A", "B"]) == "B"
    assert guess_target([]) is None


def test_screening_lists_excluded_columns_with_reasons(qtbot, panel):
    choose(qtbot, panel, "CHURN")
    assert panel.target_combo.currentText() == "CHURNED"
    excluded = dict(panel.excluded_columns())
    assert excluded["CHURNED"] == "the target"
    assert "identifier" in excluded["CUSTOMER_ID"]
    assert "CUSTOMER_ID" not in panel.selected_features()
    assert "2 class" in panel.target_info.text()
    assert panel.train_button.isEnabled()


@pytest.mark.slow
def test_train_two_methods_and_jump_to_catalog(qtbot, panel):
    choose(qtbot, panel, "BREAST_CANCER", "DIAGNOSIS")
    navigations = []
    panel.ctx.navigate_requested.connect(lambda key, arg: navigations.append((key, arg)))
    panel.params.set_values({"n_estimators": 10})
    first = train(qtbot, panel)
    panel.method_combo.setCurrentIndex(panel.method_combo.findData("logistic_regression"))
    assert panel.method_description.text() == METHODS["logistic_regression"].description
    second = train(qtbot, panel)
    assert first.startswith("RANDOM_FOREST") and second.startswith("LOGISTIC_REGRESSION")
    assert navigations == [("catalog", first), ("catalog", second)]
    record = panel.ctx.engine.get_model(first)
    assert record.params["n_estimators"] == 10
    assert "Trained" in panel.status.text()


def test_unchecking_features_trains_on_the_rest(qtbot, panel):
    choose(qtbot, panel, "BREAST_CANCER", "DIAGNOSIS")
    panel._check_all(False)
    assert not panel.train_button.isEnabled() and "feature" in panel.blocker.text()
    item = panel.features_list.item(0)
    item.setCheckState(Qt.CheckState.Checked)
    panel.method_combo.setCurrentIndex(panel.method_combo.findData("gaussian_nb"))
    assert not panel.class_weight.isEnabled()
    name = train(qtbot, panel)
    assert panel.ctx.engine.get_model(name).feature_names == [item.data(Qt.ItemDataRole.UserRole)]


def test_cancel_training_leaves_no_model_and_panel_usable(qtbot, panel):
    choose(qtbot, panel, "CHURN", "CHURNED")
    panel.params.set_values({"n_estimators": 3000})
    handle = panel.start_training()
    with qtbot.waitSignal(handle.progress, timeout=JOB_MS):
        pass
    # While it trains, nothing that describes the training can be changed (issue 10, item 20).
    editors = [
        panel.features_list,
        panel.features_all,
        panel.test_size,
        panel.seed,
        panel.cv_folds,
        panel.dedupe,
        panel.keep_clone,
        panel.method_combo,
        *panel.params.findChildren(QWidget),
    ]
    assert editors and not any(w.isEnabled() for w in editors if w.isVisibleTo(panel))
    with qtbot.waitSignal(handle.cancelled, timeout=JOB_MS):
        panel.status.cancel_button.click()
    settle(qtbot, panel.ctx)
    assert "cancelled" in panel.status.text()
    assert panel.ctx.engine.list_models() == []
    assert panel.train_button.isEnabled() and panel.table_combo.isEnabled()
    assert panel.seed.isEnabled() and panel.params.isEnabled() and panel.features_list.isEnabled()


def test_engine_error_shows_message_and_panel_stays_usable(qtbot, panel):
    choose(qtbot, panel, "BREAST_CANCER", "DIAGNOSIS")
    panel.ctx.engine.drop_table("BREAST_CANCER")  # gone between screening and training
    handle = panel.start_training()
    with qtbot.waitSignal(handle.failed, timeout=JOB_MS):
        pass
    settle(qtbot, panel.ctx)
    assert panel.status.text().startswith("Training failed: ")
    assert "BREAST_CANCER" in panel.status.text()
    assert panel.status.details_toggle.isVisible() or not panel.isVisible()
    assert panel.train_button.isEnabled()


def test_single_class_empty_and_all_nan_inputs(qtbot, panel):
    engine = panel.ctx.engine
    import pandas as pd

    path = engine.describe().workspace / "odd.csv"
    pd.DataFrame({"A": [1.0, 2.0, 3.0, 4.0], "B": [None] * 4, "Y": ["x"] * 4}).to_csv(path, index=False)
    engine.upload([path])
    from snowml_desktop.engines.base import LoadRequest

    engine.load(LoadRequest("LOAD_DATA", "odd.csv", "ODD"))
    panel.ctx.tables_changed.emit()
    settle(qtbot, panel.ctx)
    choose(qtbot, panel, "ODD", "Y")
    assert not panel.train_button.isEnabled()
    assert "only one class" in panel.blocker.text()
    assert "every value is missing" in dict(panel.excluded_columns())["B"]
    choose(qtbot, panel, "ODD", "B")  # all-NaN target
    assert not panel.train_button.isEnabled() and panel.blocker.text()


def test_options_reach_the_request_and_unavailable_options_say_why(qtbot, panel):
    import dataclasses

    choose(qtbot, panel, "BREAST_CANCER", "DIAGNOSIS")
    panel.method_combo.setCurrentIndex(panel.method_combo.findData("logistic_regression"))
    assert panel.method_description.text() == METHODS["logistic_regression"].description
    panel.test_size.setValue(0.3)
    panel.seed.setValue(7)
    panel.cv_folds.setValue(3)
    panel.class_weight.setCurrentText("Balanced")
    panel.dedupe.setChecked(True)
    panel.keep_clone.setChecked(True)
    request = panel.train_request()
    assert (request.method, request.test_size, request.seed, request.cv_folds) == (
        "logistic_regression",
        0.3,
        7,
        3,
    )
    assert (request.class_weight, request.dedupe, request.keep_clone) == ("balanced", True, True)
    assert set(request.params) == {p.name for p in METHODS["logistic_regression"].params}

    engine = panel.ctx.engine
    if engine.capabilities.supports_snowpark_optimized:
        panel.optimized.setChecked(True)
        assert panel.train_request().optimized
        assert "credits/hour" in panel.optimized_info.text()
    # An engine that cannot switch warehouses: the option is off, disabled, and says why.
    engine.capabilities = dataclasses.replace(
        engine.capabilities, supports_snowpark_optimized=False, snowpark_optimized_reason="No such warehouse."
    )
    panel._apply_capabilities()
    assert not panel.optimized.isEnabled() and not panel.optimized.isChecked()
    assert panel.optimized_info.text() == "Unavailable: No such warehouse."
    assert not panel.train_request().optimized


@pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform's note when the dialog opens
def test_compare_methods_opens_on_the_form_and_keeps_a_row_as_a_model(qtbot, panel):
    from PySide6.QtCore import Qt

    choose(qtbot, panel, "BREAST_CANCER", "DIAGNOSIS")
    panel.method_combo.setCurrentIndex(panel.method_combo.findData("decision_tree"))
    panel.params.set_values({"max_depth": 3})
    panel.cv_folds.setValue(3)
    dialog = panel.open_compare()
    assert dialog is not None and "decision_tree" in dialog.chosen_methods()
    for i in range(dialog.methods.count()):  # the tree and logistic regression only
        item = dialog.methods.item(i)
        keep = item.data(Qt.ItemDataRole.UserRole) in {"decision_tree", "logistic_regression"}
        item.setCheckState(Qt.CheckState.Checked if keep else Qt.CheckState.Unchecked)
    assert dialog.folds.value() == 3
    dialog.run_button.click()
    settle(qtbot, panel.ctx)
    tree = next(r for r in dialog._comparison.results if r.method == "decision_tree")
    assert tree.params["max_depth"] == 3  # the form's parameters travel with its method
    dialog.table.selectRow(dialog._comparison.results.index(tree))
    navigations = []
    panel.ctx.navigate_requested.connect(lambda key, arg: navigations.append((key, arg)))
    dialog.keep_button.click()
    settle(qtbot, panel.ctx)
    ((key, name),) = navigations
    assert key == "catalog" and panel.ctx.engine.get_model(name).params["max_depth"] == 3
    dialog.close()

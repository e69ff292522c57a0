"""The Drift view on real widgets, fed by drift reports from a real LocalEngine."""

from __future__ import annotations

import dataclasses

from snowml_desktop.engines.base import ScoreRequest
from snowml_desktop.ui.widgets.drift_view import DriftView

from .model_fixtures import load_demo, sql, train_demo


def test_features_by_psi_and_the_selected_feature_bins(qtbot, app_context) -> None:
    load_demo(app_context)
    model = train_demo(app_context, "logistic_regression")
    sql(
        app_context,
        'CREATE TABLE "DATA"."WIDER" AS SELECT * REPLACE (MEAN_AREA * 2 AS MEAN_AREA) FROM "DATA"."BREAST_CANCER"',
    )
    report = app_context.engine.check_drift(model.name, "WIDER")
    view = DriftView()
    qtbot.addWidget(view)
    view.resize(1024, 420)
    view.set_report(report)
    assert view.features()[0] == "MEAN_AREA" and view.table.item(0, 2).text().startswith("⚠ high")
    assert view.chart.shares() == (report.features[0].expected, report.features[0].actual)
    assert "High drift" in view.summary.text() and "also appear" not in view.summary.text()
    view.table.selectRow(3)
    assert view.chart.shares()[1] == report.features[3].actual
    assert view.chart.plot_item.titleLabel.text.startswith(report.features[3].feature)


def test_a_run_dict_and_no_report(qtbot, app_context) -> None:
    load_demo(app_context, "BREAST_CANCER.csv", "BREAST_CANCER_NEW_PATIENTS.csv")
    model = train_demo(app_context, "logistic_regression")
    run = app_context.engine.score(
        ScoreRequest(model.name, "BREAST_CANCER_NEW_PATIENTS", "SCORED", "X-Small", True)
    )
    view = DriftView()
    qtbot.addWidget(view)
    view.set_report(run.drift)
    assert "Predicted classes (test rows → now)" in view.summary.text()
    assert len(view.features()) == len(model.features)
    view.set_report(app_context.engine.check_drift(model.name, "BREAST_CANCER"))
    assert "483 rows also appear in the training table BREAST_CANCER" in view.summary.text()
    view.set_report(None, "This run has no drift check.")
    assert view.summary.text() == "This run has no drift check." and view.table.rowCount() == 0
    assert view.chart.message().startswith("Select a feature")
    empty = dataclasses.replace(app_context.engine.check_drift(model.name, "SCORED"), features=[])
    view.set_report(empty)
    assert view.table.rowCount() == 0 and "No features to compare" in view.summary.text()


def test_a_sampled_training_profile_is_said_in_the_verdict(qtbot, app_context, monkeypatch) -> None:
    from snowml_desktop.core import drift

    monkeypatch.setattr(drift, "PROFILE_SAMPLE_ROWS", 300)
    load_demo(app_context)
    model = train_demo(app_context, "logistic_regression")
    view = DriftView()
    qtbot.addWidget(view)
    view.set_report(app_context.engine.check_drift(model.name, "BREAST_CANCER"))
    assert "bin edges come from a sample of 300 of its 483 rows" in view.summary.text()
    # A run's stored report (JSON) keeps it.
    run = app_context.engine.score(ScoreRequest(model.name, "BREAST_CANCER", "SCORED", "X-Small", True))
    view.set_report(run.drift)
    assert "sample of 300 of its 483 rows" in view.summary.text()

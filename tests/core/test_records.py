import json
from datetime import datetime

from snowml_desktop.core.records import (
    INFERENCE_RUNS_COLUMNS,
    MODELS_CATALOG_COLUMNS,
    Feature,
    InferenceRun,
    ModelRecord,
    ModelWarning,
    model_from_row,
    model_to_row,
    record_to_json,
    run_from_row,
    run_to_row,
)


def _record() -> ModelRecord:
    return ModelRecord(
        name="RANDOM_FOREST_1",
        created=datetime(2026, 1, 2, 3, 4, 5),
        method="random_forest",
        source_table="CHURN",
        training_table="CHURN_CLONE_RANDOM_FOREST_1",
        target="CHURNED",
        features=[Feature("TENURE", "numeric", "DOUBLE"), Feature("PLAN", "categorical", "VARCHAR")],
        classes=["No", "Yes"],
        params={"n_estimators": 100},
        options={"test_size": 0.2},
        metrics={"accuracy": 0.9, "roc_auc": float("nan")},
        per_class=[],
        confusion_matrix=[[5, 1], [0, 4]],
        curves={"roc": [], "pr": []},
        feature_importance=[],
        cv=None,
        warnings=[ModelWarning("duplicate_leakage", "3 test rows repeat training rows")],
        excluded_columns=[],
        artifact_path="MODELS/RANDOM_FOREST_1.joblib",
        artifact_sha256="ab" * 32,
        library_versions={"scikit-learn": "1.9"},
        train_seconds=1.5,
        warehouse_size="X-Small",
        warehouse_type="STANDARD",
        rows_total=10,
        rows_train=8,
        rows_test=2,
    )


def test_model_row_has_exactly_the_catalog_columns_and_round_trips() -> None:
    record = _record()
    row = model_to_row(record)
    assert list(row) == [c for c, _ in MODELS_CATALOG_COLUMNS]
    assert json.loads(row["METRICS"]) == {"accuracy": 0.9, "roc_auc": None}  # NaN is not JSON
    back = model_from_row(row)
    assert back.features == record.features and back.warnings == record.warnings
    assert back.metrics["roc_auc"] is None and back.name == "RANDOM_FOREST_1"


def test_rows_decode_already_parsed_json_and_any_key_case() -> None:
    row = {k.lower(): v for k, v in model_to_row(_record()).items()}
    row["features"] = json.loads(row["features"])
    assert model_from_row(row).feature_names == ["TENURE", "PLAN"]


def test_run_row_round_trips() -> None:
    run = InferenceRun(
        3,
        datetime(2026, 1, 1),
        "M_1",
        "T",
        "T_M_1_INF",
        100,
        2.0,
        1.5,
        "Small",
        "STANDARD",
        2,
        0.001,
        metrics={"accuracy": 1.0},
        confusion_matrix=[[1]],
        classes=["a"],
    )
    row = run_to_row(run)
    assert list(row) == [c for c, _ in INFERENCE_RUNS_COLUMNS]
    assert run_from_row(row) == run
    assert record_to_json(run)["created"] == "2026-01-01T00:00:00"

"""train_model end to end on small real data sets: every method, label types, outputs' shapes, warnings."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from snowml_desktop.core.concurrent_fits import ProcessPool
from snowml_desktop.core.errors import Cancelled
from snowml_desktop.core.methods import METHODS
from snowml_desktop.core.preprocessing import coerce_features
from snowml_desktop.core.records import Feature, dumps
from snowml_desktop.core.scoring import predict
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.core.training import TrainSpec, train_model
from snowml_desktop.engines.local.workers import fit_processes  # the engine's: they die with their owner

CONCRETE = [key for key in METHODS if key != "auto"]
METRIC_KEYS = {
    "accuracy",
    "balanced_accuracy",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "precision_weighted",
    "recall_weighted",
    "f1_weighted",
    "roc_auc",
    "average_precision",
}


def _check_shapes(outcome, n_classes: int) -> None:
    assert set(outcome.metrics) == METRIC_KEYS
    assert len(outcome.classes) == n_classes
    assert [row["label"] for row in outcome.per_class] == outcome.classes
    assert len(outcome.confusion_matrix) == n_classes
    assert all(len(row) == n_classes for row in outcome.confusion_matrix)
    assert sum(map(sum, outcome.confusion_matrix)) == outcome.rows_test
    assert outcome.rows_train + outcome.rows_test == outcome.rows_total
    expected_curves = 1 if n_classes == 2 else n_classes
    assert len(outcome.curves["roc"]) == expected_curves and len(outcome.curves["pr"]) == expected_curves
    for curve in outcome.curves["roc"]:
        assert len(curve["fpr"]) == len(curve["tpr"]) <= 200
        assert curve["fpr"][0] == 0.0 and curve["tpr"][-1] == 1.0
    names = {f.name for f in outcome.features}
    assert {row["feature"] for row in outcome.feature_importance} == names
    importances = [row["importance"] for row in outcome.feature_importance]
    assert importances == sorted(importances, reverse=True)
    json.loads(dumps([outcome.metrics, outcome.per_class, outcome.curves, outcome.params, outcome.classes]))


@pytest.mark.parametrize("method", CONCRETE)
def test_every_method_binary(breast_cancer: pd.DataFrame, method: str) -> None:
    outcome = train_model(breast_cancer, TrainSpec(target="target", method=method))
    _check_shapes(outcome, 2)
    assert outcome.method == method
    assert outcome.classes == [0, 1] and all(type(c) is int for c in outcome.classes)
    assert outcome.metrics["accuracy"] > 0.85
    assert outcome.metrics["roc_auc"] > 0.85
    assert outcome.rows_test == 114 and outcome.rows_total == 569
    assert outcome.fit_seconds > 0


@pytest.mark.parametrize("method", CONCRETE)
def test_every_method_multiclass(wine: pd.DataFrame, method: str) -> None:
    outcome = train_model(wine, TrainSpec(target="target", method=method, test_size=0.3))
    _check_shapes(outcome, 3)
    assert outcome.metrics["accuracy"] > 0.75
    assert outcome.metrics["roc_auc"] is not None


def test_params_are_used_and_reported(iris: pd.DataFrame) -> None:
    outcome = train_model(
        iris, TrainSpec(target="target", method="rf", params={"n_estimators": "7", "max_depth": 3})
    )
    assert outcome.params["n_estimators"] == 7 and outcome.params["max_depth"] == 3
    forest = outcome.pipeline.named_steps["model"]
    assert len(forest.estimators_) == 7 and forest.max_depth == 3


def test_string_labels_categoricals_and_missing_values(churn: pd.DataFrame) -> None:
    outcome = train_model(churn, TrainSpec(target="CHURN", method="logistic_regression", cv_folds=3))
    assert outcome.classes == ["no", "yes"]
    kinds = {f.name: (f.kind, f.sql_type) for f in outcome.features}
    assert kinds == {
        "TENURE": ("numeric", "BIGINT"),
        "MONTHLY": ("numeric", "DOUBLE"),
        "CONTRACT": ("categorical", "VARCHAR"),
        "REGION": ("categorical", "VARCHAR"),
        "SENIOR": ("categorical", "BOOLEAN"),
    }
    assert outcome.excluded_columns == [
        {"column": "CUSTOMER_ID", "reason": "a different value on every row, like an identifier"}
    ]
    assert "id_columns_excluded" in {w.code for w in outcome.warnings}
    assert outcome.cv["folds"] == 3 and len(outcome.cv["scores"]) == 3 and outcome.cv["metric"] == "accuracy"
    assert 0.5 < outcome.cv["mean"] <= 1 and outcome.cv["std"] >= 0
    labels, proba = predict(outcome.pipeline, churn.head(20), outcome.features)
    assert set(labels) <= {"no", "yes"} and proba.dtype == np.float64 and (proba >= 0.5).all()


def test_bool_labels_keep_their_type(breast_cancer: pd.DataFrame) -> None:
    frame = breast_cancer.assign(target=breast_cancer["target"].astype(bool))
    outcome = train_model(frame, TrainSpec(target="target", method="nb"))
    assert outcome.classes == [False, True] and all(type(c) is bool for c in outcome.classes)
    labels, _ = predict(outcome.pipeline, frame.head(5), outcome.features)
    assert labels.dtype == bool


def test_arrow_backed_and_nullable_frames(churn: pd.DataFrame) -> None:
    arrow = churn.convert_dtypes(dtype_backend="pyarrow")
    outcome = train_model(arrow, TrainSpec(target="CHURN", method="dt", params={"max_depth": 4}))
    assert outcome.classes == ["no", "yes"]
    assert {f.name: f.sql_type for f in outcome.features}["SENIOR"] == "BOOLEAN"
    labels, _ = predict(outcome.pipeline, churn.head(10), outcome.features)  # numpy-backed at scoring
    assert len(labels) == 10


def test_float_labels_with_integer_values_become_ints(iris: pd.DataFrame) -> None:
    outcome = train_model(
        iris.assign(target=iris["target"].astype(float)), TrainSpec(target="target", method="lr")
    )
    assert outcome.classes == [0, 1, 2]


def test_case_insensitive_target_and_explicit_features(iris: pd.DataFrame) -> None:
    frame = iris.rename(columns=lambda c: c.upper().replace(" ", "_").replace("(", "").replace(")", ""))
    outcome = train_model(
        frame, TrainSpec(target="target", features=["sepal_length_cm", "PETAL_WIDTH_CM"], method="nb")
    )
    assert [f.name for f in outcome.features] == ["SEPAL_LENGTH_CM", "PETAL_WIDTH_CM"]


def test_class_weight_balanced_reaches_the_estimator(churn: pd.DataFrame) -> None:
    outcome = train_model(churn, TrainSpec(target="CHURN", method="gb", class_weight="balanced"))
    assert outcome.pipeline.named_steps["model"].class_weight == "balanced"


def test_class_imbalance_warning(breast_cancer: pd.DataFrame) -> None:
    rare = breast_cancer[breast_cancer["target"] == 0].head(25)
    frame = pd.concat([breast_cancer[breast_cancer["target"] == 1], rare])
    outcome = train_model(frame, TrainSpec(target="target", method="lr"))
    warning = next(w for w in outcome.warnings if w.code == "class_imbalance")
    assert "25" in warning.message and "balanced" in warning.message


def test_missing_targets_are_dropped_with_a_count(iris: pd.DataFrame) -> None:
    frame = iris.astype({"target": "float64"})
    frame.loc[[0, 60, 120], "target"] = np.nan
    outcome = train_model(frame, TrainSpec(target="target", method="nb"))
    warning = next(w for w in outcome.warnings if w.code == "missing_target_dropped")
    assert "3 row" in warning.message
    assert outcome.rows_train + outcome.rows_test == 147 and outcome.rows_total == 150


def test_duplicate_leakage_detected_and_dedupe_removes_it(iris: pd.DataFrame) -> None:
    doubled = pd.concat([iris, iris], ignore_index=True)
    leaky = train_model(doubled, TrainSpec(target="target", method="dt"))
    warning = next(w for w in leaky.warnings if w.code == "duplicate_leakage")
    assert "%" in warning.message and "dedupe" in warning.message

    clean = train_model(doubled, TrainSpec(target="target", method="dt", dedupe=True))
    codes = {w.code for w in clean.warnings}
    assert "duplicate_leakage" not in codes
    dropped = next(w for w in clean.warnings if w.code == "duplicates_dropped")
    expected = len(doubled) - len(iris.drop_duplicates())
    assert f"{expected:,} duplicate" in dropped.message
    assert clean.rows_train + clean.rows_test == len(iris.drop_duplicates())


def test_progress_reaches_every_stage_in_order(churn: pd.DataFrame) -> None:
    seen: list[tuple[float, str]] = []
    task = TaskContext(progress=lambda fraction, text: seen.append((fraction, text)))
    train_model(churn, TrainSpec(target="CHURN", method="rf", params={"n_estimators": 10}, cv_folds=2), task)
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    text = " | ".join(t for _, t in seen)
    for stage in ("Preparing", "Fitting", "Cross-validating", "Evaluating", "feature importance"):
        assert stage in text


def test_cancel_between_stages(churn: pd.DataFrame) -> None:
    task = TaskContext()

    def cancel_when_fitting(fraction: float, text: str) -> None:
        if text.startswith("Fitting"):
            task.token.cancel()

    task.progress = cancel_when_fitting
    with pytest.raises(Cancelled):
        train_model(churn, TrainSpec(target="CHURN", method="rf"), task)


def test_features_are_records_features(iris: pd.DataFrame) -> None:
    outcome = train_model(iris, TrainSpec(target="target", method="nb"))
    assert all(isinstance(f, Feature) for f in outcome.features)
    assert outcome.search is None and outcome.cv is None


def test_convergence_problems_become_a_warning(breast_cancer: pd.DataFrame) -> None:
    outcome = train_model(breast_cancer, TrainSpec(target="target", method="lr", params={"max_iter": 10}))
    warning = next(w for w in outcome.warnings if w.code == "not_converged")
    assert "max_iter" in warning.message
    clean = train_model(breast_cancer, TrainSpec(target="target", method="lr"))
    assert "not_converged" not in {w.code for w in clean.warnings}


def test_target_leak_suspected(iris: pd.DataFrame) -> None:
    leaky = iris.assign(SPECIES=iris["target"].map({0: "setosa", 1: "versicolor", 2: "virginica"}))
    outcome = train_model(leaky, TrainSpec(target="target", method="nb"))
    warning = next(w for w in outcome.warnings if w.code == "target_leak_suspected")
    assert "SPECIES (100.0 %)" in warning.message and "petal" not in warning.message
    clean = train_model(iris, TrainSpec(target="target", method="nb"))
    assert "target_leak_suspected" not in {w.code for w in clean.warnings}


def test_threads_build_forests_in_parallel_but_score_single_threaded(iris: pd.DataFrame) -> None:
    spec = TrainSpec(target="target", method="rf", params={"n_estimators": 8}, threads=2)
    outcome = train_model(iris, spec)
    assert outcome.pipeline.named_steps["model"].n_jobs == 1
    single = train_model(iris, TrainSpec(target="target", method="rf", params={"n_estimators": 8}))
    assert outcome.metrics == single.metrics  # same seed, same forest, whatever the threads


def test_cancel_between_cv_folds(churn: pd.DataFrame) -> None:
    task = TaskContext()
    folds_seen: list[str] = []

    def cancel_at_second_fold(fraction: float, text: str) -> None:
        if text.startswith("Cross-validating"):
            folds_seen.append(text)
            if text.startswith("Cross-validating: 2 of"):
                task.token.cancel()

    task.progress = cancel_at_second_fold
    with pytest.raises(Cancelled):
        train_model(churn, TrainSpec(target="CHURN", method="nb", cv_folds=5), task)
    assert folds_seen == ["Cross-validating: 1 of 5 folds done", "Cross-validating: 2 of 5 folds done"]


@pytest.mark.parametrize("cv_threads, processes", [(1, None), (2, None), (2, fit_processes)])
def test_cv_scores_are_sklearn_cross_validate_on_the_training_rows(
    churn: pd.DataFrame, cv_threads: int, processes: ProcessPool | None
) -> None:
    from sklearn.model_selection import StratifiedKFold, cross_validate

    from snowml_desktop.core.training import make_pipeline, prepare_data, split_data

    # 20 rows per tree: the forest is capped (max_samples) on these ~380-row folds, as on big tables.
    params = {"n_estimators": 10, "max_samples": 20}
    spec = TrainSpec(
        target="CHURN",
        method="rf",
        params=params,
        cv_folds=4,
        seed=3,
        cv_threads=cv_threads,
        cv_processes=processes,
    )
    outcome = train_model(churn, spec)

    data = prepare_data(churn, spec, [])
    x_train, _, y_train, _ = split_data(data, spec)
    pipeline = make_pipeline(
        "random_forest", outcome.params, data.features, y_train, class_weight=None, seed=3
    )
    assert pipeline.named_steps["model"].max_samples == 20
    capped = next(w for w in outcome.warnings if w.code == "rows_per_tree_capped")
    assert (
        f"bootstrap of 20 of the {len(y_train)} training rows" in capped.message
        and "max_samples=0" in capped.message
    )
    folds = StratifiedKFold(n_splits=4, shuffle=True, random_state=3)
    expected = cross_validate(pipeline, x_train, y_train, cv=folds, scoring="accuracy")["test_score"]
    assert outcome.cv["scores"] == pytest.approx(list(expected), abs=1e-12)
    assert outcome.cv["mean"] == pytest.approx(float(np.mean(expected)))
    assert outcome.cv["std"] == pytest.approx(float(np.std(expected)))


@pytest.mark.parametrize("processes", [None, fit_processes], ids=["threads", "processes"])
def test_folds_at_once_give_the_model_and_figures_of_folds_in_turn(
    churn: pd.DataFrame, processes: ProcessPool | None
) -> None:
    spec = TrainSpec(target="CHURN", method="rf", params={"n_estimators": 8}, cv_folds=5)
    serial = train_model(churn, spec)
    assert "rows_per_tree_capped" not in {w.code for w in serial.warnings}  # 480 rows: below the cap
    seen: list[str] = []
    task = TaskContext(progress=lambda fraction, text: seen.append(text))
    at_once = TrainSpec(**{**spec.__dict__, "cv_threads": 2, "cv_processes": processes})
    parallel = train_model(churn, at_once, task)
    rows = coerce_features(churn, serial.features)
    assert np.array_equal(parallel.pipeline.predict_proba(rows), serial.pipeline.predict_proba(rows))
    assert list(parallel.pipeline.classes_) == list(serial.pipeline.classes_) == parallel.classes
    assert parallel.cv == serial.cv and parallel.metrics == serial.metrics
    # Not feature_importance: its repeats follow a time budget (evaluation.IMPORTANCE_SECONDS), so two runs
    # on a busy machine may differ; the identical models above are what it is computed from.
    assert parallel.pipeline.named_steps["model"].n_jobs == 1
    done = [t for t in seen if t.startswith("Cross-validating")]
    assert done == [f"Cross-validating: {i} of 5 folds done" for i in range(1, 6)]  # one report per fold


@pytest.mark.parametrize("processes", [None, fit_processes], ids=["threads", "processes"])
def test_convergence_is_reported_for_the_final_fit_when_folds_run_at_once(
    breast_cancer: pd.DataFrame, processes: ProcessPool | None
) -> None:
    at_once = {"cv_folds": 3, "cv_threads": 2, "cv_processes": processes}
    spec = TrainSpec(target="target", method="lr", params={"max_iter": 10}, **at_once)
    outcome = train_model(breast_cancer, spec)
    assert "not_converged" in {w.code for w in outcome.warnings}
    clean = train_model(breast_cancer, TrainSpec(target="target", method="lr", **at_once))
    assert "not_converged" not in {w.code for w in clean.warnings}


def test_cv_threads_must_be_a_positive_whole_number(iris: pd.DataFrame) -> None:
    from snowml_desktop.core.errors import InvalidInput

    with pytest.raises(
        InvalidInput, match="Cross-validation threads must be a whole number of at least 1; got 0"
    ):
        train_model(iris, TrainSpec(target="target", method="nb", cv_folds=2, cv_threads=0))

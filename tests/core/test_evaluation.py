"""Metrics from a confusion matrix agree with scikit-learn; curves are bounded; importance is sensible."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    precision_recall_fscore_support,
    roc_auc_score,
)

from snowml_desktop.core.evaluation import (
    MAX_CURVE_POINTS,
    confusion,
    metrics_from_confusion,
    probability_metrics,
)


@pytest.mark.parametrize(
    ("classes", "seed"),
    [([0, 1], 0), (["a", "b", "c"], 1), ([False, True], 2), (["x", "y", "z", "w"], 3)],
)
def test_metrics_from_confusion_match_sklearn(classes: list, seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = np.array(classes)
    # The last class never occurs in y_true: zero_division and balanced-accuracy rules both matter.
    y_true = labels[rng.integers(0, len(classes) - 1, 300)]
    y_pred = np.where(rng.random(300) < 0.7, y_true, labels[rng.integers(0, len(classes), 300)])
    matrix = confusion(classes, y_true, y_pred)
    metrics, per_class = metrics_from_confusion(classes, matrix)

    assert metrics["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred))
    with pytest.warns(UserWarning):  # sklearn warns about the class absent from y_true
        assert metrics["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y_true, y_pred))
    for average in ("macro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(
            y_true, y_pred, labels=labels, average=average, zero_division=0
        )
        assert metrics[f"precision_{average}"] == pytest.approx(p)
        assert metrics[f"recall_{average}"] == pytest.approx(r)
        assert metrics[f"f1_{average}"] == pytest.approx(f)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    assert [row["label"] for row in per_class] == classes
    assert [row["precision"] for row in per_class] == pytest.approx(list(p))
    assert [row["recall"] for row in per_class] == pytest.approx(list(r))
    assert [row["f1"] for row in per_class] == pytest.approx(list(f))
    assert [row["support"] for row in per_class] == list(s)
    assert "roc_auc" not in metrics


def test_metrics_from_confusion_edge_cases() -> None:
    metrics, per_class = metrics_from_confusion(["a", "b"], [[0, 0], [0, 0]])
    assert metrics["accuracy"] == 0.0 and per_class[0]["support"] == 0
    with pytest.raises(ValueError):
        metrics_from_confusion(["a", "b", "c"], [[1, 2], [3, 4]])


def test_confusion_rows_are_truth_columns_predictions() -> None:
    assert confusion(["n", "y"], np.array(["n", "n", "y"]), np.array(["y", "n", "y"])) == [[1, 1], [0, 1]]


def test_curves_downsampled_with_endpoints_and_auc_matches() -> None:
    rng = np.random.default_rng(0)
    y = np.where(rng.random(5000) < 0.4, "pos", "neg").astype(object)
    score = rng.random(5000) + (y == "pos") * 0.3
    proba = np.column_stack([1 - score / score.max(), score / score.max()])
    metrics, curves = probability_metrics(["neg", "pos"], y, proba)
    assert metrics["roc_auc"] == pytest.approx(roc_auc_score(y == "pos", proba[:, 1]))
    roc, pr = curves["roc"][0], curves["pr"][0]
    assert roc["label"] == "pos" and pr["label"] == "pos"
    assert len(roc["fpr"]) == len(roc["tpr"]) == MAX_CURVE_POINTS
    assert (roc["fpr"][0], roc["tpr"][0], roc["fpr"][-1], roc["tpr"][-1]) == (0.0, 0.0, 1.0, 1.0)
    assert len(pr["recall"]) <= MAX_CURVE_POINTS and pr["recall"][-1] == 0.0 and pr["precision"][-1] == 1.0


def test_probability_metrics_none_when_a_class_is_missing() -> None:
    y = np.array(["a", "a", "b", "b"], dtype=object)
    proba = np.full((4, 3), 1 / 3)
    metrics, curves = probability_metrics(["a", "b", "c"], y, proba)
    assert metrics == {"roc_auc": None, "average_precision": None}
    assert [c["label"] for c in curves["roc"]] == ["a", "b"]


def _signal_frame(rows: int = 600):
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"NOISE": rng.normal(size=rows), "SIGNAL": rng.normal(size=rows), "CAT": "k"})
    frame["CAT"] = rng.choice(["a", "b"], rows).astype(object)
    y = np.where(frame["SIGNAL"] > 0, "pos", "neg").astype(object)
    return frame, y


def test_permutation_importance_ranks_the_signal_first(monkeypatch: pytest.MonkeyPatch) -> None:
    from snowml_desktop.core import evaluation
    from snowml_desktop.core.records import Feature
    from snowml_desktop.core.training import make_pipeline

    frame, y = _signal_frame()
    features = [
        Feature("NOISE", "numeric", "DOUBLE"),
        Feature("SIGNAL", "numeric", "DOUBLE"),
        Feature("CAT", "categorical", "VARCHAR"),
    ]
    pipeline = make_pipeline("logistic_regression", {}, features, y, class_weight=None, seed=0).fit(frame, y)
    # A budget no machine reaches: how many repeats and rows run must not depend on how busy the machine is
    # (tests run in parallel workers), or two seeded runs differ.
    monkeypatch.setattr(evaluation, "IMPORTANCE_SECONDS", 1e9)
    table = evaluation.permutation_importance_table(pipeline, frame, y, seed=0)
    assert [row["feature"] for row in table][0] == "SIGNAL"
    assert table[0]["importance"] > 0.3 and abs(table[-1]["importance"]) < 0.05
    assert table == evaluation.permutation_importance_table(pipeline, frame, y, seed=0)  # seeded

    # A tiny time budget cuts repeats and rows but still ranks every feature.
    monkeypatch.setattr(evaluation, "IMPORTANCE_SECONDS", 1e-6)
    small = evaluation.permutation_importance_table(pipeline, frame, y, seed=0)
    assert {row["feature"] for row in small} == {"NOISE", "SIGNAL", "CAT"} and small[0]["feature"] == "SIGNAL"


def test_multiclass_metrics_are_one_vs_rest_macro_like_sklearn() -> None:
    from sklearn.metrics import average_precision_score
    from sklearn.preprocessing import label_binarize

    rng = np.random.default_rng(4)
    classes = ["a", "b", "c"]
    y = np.array(classes, dtype=object)[rng.integers(0, 3, 400)]
    proba = rng.dirichlet([1, 1, 1], 400) + label_binarize(y, classes=classes) * 0.5
    proba /= proba.sum(axis=1, keepdims=True)
    metrics, curves = probability_metrics(classes, y, proba)
    assert metrics["roc_auc"] == pytest.approx(roc_auc_score(y, proba, multi_class="ovr", labels=classes))
    expected_ap = average_precision_score(label_binarize(y, classes=classes), proba, average="macro")
    assert metrics["average_precision"] == pytest.approx(expected_ap)
    assert [c["label"] for c in curves["pr"]] == classes

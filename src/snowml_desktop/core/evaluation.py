"""Model evaluation: metrics from a confusion matrix, probability metrics and curves, permutation importance.

Shapes follow the ``ModelRecord`` docstring in ``core.records``. :func:`metrics_from_confusion` is the
single definition of the label metrics: training uses it on the test split, and engines use it on a
confusion matrix they computed in SQL, so both report identical numbers. It matches scikit-learn's
``precision_recall_fscore_support(..., labels=classes, zero_division=0)`` and ``balanced_accuracy_score``
(which averages recall over the classes present in the true labels).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from snowml_desktop.core.records import json_safe

log = logging.getLogger(__name__)

#: Points kept per ROC / PR curve.
MAX_CURVE_POINTS = 200
#: Test rows used for permutation importance; enough for stable ranks, bounded for speed.
IMPORTANCE_ROWS = 1000
#: Rough time budget of permutation importance; slow predictors get fewer repeats and rows.
IMPORTANCE_SECONDS = 2.0
MIN_IMPORTANCE_ROWS = 200
#: Rows, and values (rows x input columns), predicted per call when scoring shuffled copies: bounds the
#: memory of the stacked copies for wide inputs too (50,000 rows of 10,000 columns were 12 GB).
_BATCH_ROWS = 50_000
_BATCH_VALUES = 5_000_000


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = numerator / denominator
    return np.where(denominator > 0, out, 0.0)


def metrics_from_confusion(classes: list, matrix: list[list[int]]) -> tuple[dict, list[dict]]:
    """(metrics, per_class) from an n x n confusion matrix (rows = true class, columns = predicted).

    ``metrics`` holds accuracy, balanced_accuracy and macro/weighted precision, recall and F1 (no
    probability-based metrics); ``per_class`` is ``[{"label", "precision", "recall", "f1", "support"}]``
    in ``classes`` order. Undefined ratios count as 0 (zero_division=0). Raises ValueError when the
    matrix is not n x n for n classes.
    """
    cm = (
        np.asarray(matrix, dtype=np.float64).reshape(len(classes), len(classes))
        if classes
        else np.zeros((0, 0))
    )
    if cm.shape != (len(classes), len(classes)):
        raise ValueError(f"confusion matrix shape {cm.shape} does not match {len(classes)} classes")
    tp = np.diag(cm)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    precision = _ratio(tp, predicted)
    recall = _ratio(tp, support)
    f1 = _ratio(2 * tp, support + predicted)
    total = cm.sum()
    present = support > 0
    weights = support / total if total > 0 else np.zeros_like(support)
    metrics = {
        "accuracy": float(tp.sum() / total) if total > 0 else 0.0,
        "balanced_accuracy": float(recall[present].mean()) if present.any() else 0.0,
        "precision_macro": float(precision.mean()) if len(classes) else 0.0,
        "recall_macro": float(recall.mean()) if len(classes) else 0.0,
        "f1_macro": float(f1.mean()) if len(classes) else 0.0,
        "precision_weighted": float((precision * weights).sum()),
        "recall_weighted": float((recall * weights).sum()),
        "f1_weighted": float((f1 * weights).sum()),
    }
    per_class = [
        {
            "label": json_safe(label),
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, label in enumerate(classes)
    ]
    return metrics, per_class


def confusion(classes: list, y_true: np.ndarray, y_pred: np.ndarray) -> list[list[int]]:
    """n x n counts, rows = true class, columns = predicted, in ``classes`` order (other labels ignored)."""
    import pandas as pd

    n = len(classes)
    true_codes = pd.Categorical(list(y_true), categories=list(classes)).codes
    pred_codes = pd.Categorical(list(y_pred), categories=list(classes)).codes
    keep = (true_codes >= 0) & (pred_codes >= 0)
    flat = np.bincount(true_codes[keep].astype(np.int64) * n + pred_codes[keep], minlength=n * n)
    return flat.reshape(n, n).astype(int).tolist()


def _downsample(*series: np.ndarray, limit: int = MAX_CURVE_POINTS) -> list[list[float]]:
    """Keep at most ``limit`` evenly spaced points of parallel arrays, always with both endpoints."""
    n = len(series[0])
    if n > limit:
        index = np.unique(np.linspace(0, n - 1, limit).round().astype(int))
        series = tuple(s[index] for s in series)
    return [[float(v) for v in s] for s in series]


def probability_metrics(classes: list, y_true: np.ndarray, proba: np.ndarray) -> tuple[dict, dict]:
    """({"roc_auc", "average_precision"}, curves) from predicted probabilities (columns in ``classes``
    order). Binary: the positive class is ``classes[1]``; multiclass: one-vs-rest, macro-averaged over the
    classes present in ``y_true``. A metric that cannot be computed (a class absent from the test rows)
    is None and its curve is left out."""
    from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_curve

    curves: dict[str, list] = {"roc": [], "pr": []}
    targets = [1] if len(classes) == 2 else range(len(classes))
    aucs, aps = [], []
    for i in targets:
        positive = np.asarray(y_true == classes[i])
        if positive.all() or not positive.any():
            continue
        fpr, tpr, _ = roc_curve(positive, proba[:, i])
        precision, recall, _ = precision_recall_curve(positive, proba[:, i])
        roc_auc = float(auc(fpr, tpr))
        ap = float(average_precision_score(positive, proba[:, i]))
        aucs.append(roc_auc)
        aps.append(ap)
        fpr_s, tpr_s = _downsample(fpr, tpr)
        recall_s, precision_s = _downsample(recall, precision)
        label = json_safe(classes[i])
        curves["roc"].append({"label": label, "fpr": fpr_s, "tpr": tpr_s, "auc": roc_auc})
        curves["pr"].append({"label": label, "recall": recall_s, "precision": precision_s, "ap": ap})
    complete = len(aucs) == len(targets)
    metrics = {
        "roc_auc": float(np.mean(aucs)) if complete else None,
        "average_precision": float(np.mean(aps)) if complete else None,
    }
    return metrics, curves


def _fit_budget(frame: Any, y: np.ndarray, seconds_per_row: float, rng: Any) -> tuple[Any, np.ndarray, int]:
    """Fewer repeats, then fewer rows, so that slow predictors (SVC, KNN) stay within the time budget."""
    width = frame.shape[1]
    affordable = IMPORTANCE_SECONDS / max(seconds_per_row, 1e-9)  # predicted rows the budget pays for
    for repeats in (5, 3, 2):
        if len(frame) * width * repeats <= affordable:
            return frame, y, repeats
    rows = max(MIN_IMPORTANCE_ROWS, int(affordable / (width * 2)))
    if rows < len(frame):
        keep = np.sort(rng.choice(len(frame), size=rows, replace=False))
        frame, y = frame.iloc[keep].reset_index(drop=True), y[keep]
    return frame, y, 2


def permutation_importance_table(
    pipeline: Any, frame: Any, y: np.ndarray, *, seed: int, max_rows: int = IMPORTANCE_ROWS
) -> list[dict]:
    """``[{"feature", "importance", "std"}]`` sorted descending: the mean drop in accuracy when one input
    column is shuffled (over a few repeats), on at most ``max_rows`` test rows.

    Same definition as scikit-learn's ``permutation_importance``, but the shuffled copies are stacked and
    predicted in a few large batches: one predict call per column and repeat costs ~50x more in overhead
    than the prediction itself on test-sized data.
    """
    import pandas as pd

    from snowml_desktop.core.scoring import predict_with_proba

    if len(frame) == 0 or frame.shape[1] == 0:
        return []
    rng = np.random.default_rng(seed)
    if len(frame) > max_rows:
        rows = np.sort(rng.choice(len(frame), size=max_rows, replace=False))
        frame, y = frame.iloc[rows], y[rows]
    frame = frame.reset_index(drop=True)
    started = time.perf_counter()
    baseline = float(np.mean(predict_with_proba(pipeline, frame)[0] == y))
    seconds_per_row = (time.perf_counter() - started) / len(frame)
    rows_measured = len(frame)
    frame, y, repeats = _fit_budget(frame, y, seconds_per_row, rng)
    n = len(frame)
    if n < rows_measured:  # the budget cut rows: the baseline must be on the same rows
        baseline = float(np.mean(predict_with_proba(pipeline, frame)[0] == y))
    jobs = [(column, repeat) for column in frame.columns for repeat in range(repeats)]
    per_batch = max(1, min(_BATCH_ROWS, _BATCH_VALUES // frame.shape[1]) // n)
    scores: dict[Any, list[float]] = {column: [] for column in frame.columns}
    for start in range(0, len(jobs), per_batch):
        batch = jobs[start : start + per_batch]
        # One array per column, tiled, then the shuffled blocks written in: copying and concatenating a
        # frame per job costs width x jobs in pandas overhead (minutes for a thousand columns).
        stacked = {column: np.tile(frame[column].to_numpy(), len(batch)) for column in frame.columns}
        for i, (column, _) in enumerate(batch):
            stacked[column][i * n : (i + 1) * n] = frame[column].to_numpy()[rng.permutation(n)]
        copies = pd.DataFrame(
            {column: pd.Series(values, dtype=frame[column].dtype) for column, values in stacked.items()},
            columns=frame.columns,
        )
        labels = predict_with_proba(pipeline, copies)[0]
        for i, (column, _) in enumerate(batch):
            scores[column].append(float(np.mean(labels[i * n : (i + 1) * n] == y)))
    table = [
        {"feature": str(column), "importance": baseline - float(np.mean(s)), "std": float(np.std(s))}
        for column, s in scores.items()
    ]
    return sorted(table, key=lambda row: row["importance"], reverse=True)

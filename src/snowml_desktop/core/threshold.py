"""The decision threshold of a binary model: the held-out scores kept at training, the metrics at every
threshold, the presets a user picks from, and the labels a threshold gives.

The positive class is ``classes[1]`` (as for the ROC and PR curves); a row is labelled positive when the
probability of the positive class is at least the threshold (scikit-learn's ``FixedThresholdClassifier``
convention). A model without a saved threshold keeps labelling rows with the most probable class.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from snowml_desktop.core.errors import InvalidInput

#: Held-out rows whose scores are kept with a model (a stratified sample when the test split is larger).
MAX_KEPT_SCORES = 2000
PRESETS = ("default", "max_f1", "max_balanced_accuracy", "target_recall", "min_cost")


@dataclass(frozen=True)
class Costs:
    """What each outcome costs (any unit); correct answers usually cost nothing."""

    false_positive: float = 1.0
    false_negative: float = 1.0
    true_positive: float = 0.0
    true_negative: float = 0.0


@dataclass(frozen=True)
class ThresholdPoint:
    threshold: float
    tp: int
    fp: int
    tn: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def specificity(self) -> float:
        return self.tn / (self.tn + self.fp) if self.tn + self.fp else 0.0

    @property
    def f1(self) -> float:
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp else 0.0

    @property
    def balanced_accuracy(self) -> float:
        return (self.recall + self.specificity) / 2

    def cost(self, costs: Costs) -> float:
        return (
            self.fp * costs.false_positive
            + self.fn * costs.false_negative
            + self.tp * costs.true_positive
            + self.tn * costs.true_negative
        )

    def confusion_matrix(self) -> list[list[int]]:
        """Rows = true class, columns = predicted, in ``classes`` order (negative first)."""
        return [[self.tn, self.fp], [self.fn, self.tp]]


def kept_scores(classes: Sequence[Any], y_true: np.ndarray, proba: np.ndarray, *, seed: int) -> dict | None:
    """``{"positive", "truth": [0/1 ...], "score": [...]}`` for a binary model's test rows (at most
    MAX_KEPT_SCORES, stratified), or None for a multiclass model."""
    if len(classes) != 2 or len(y_true) == 0:
        return None
    truth = (np.asarray(y_true) == classes[1]).astype(np.int8)
    score = np.asarray(proba, dtype=np.float64)[:, 1]
    if len(truth) > MAX_KEPT_SCORES:
        from sklearn.model_selection import train_test_split

        keep, _ = train_test_split(
            np.arange(len(truth)), train_size=MAX_KEPT_SCORES, stratify=truth, random_state=seed
        )
        keep = np.sort(keep)
        truth, score = truth[keep], score[keep]
    return {"positive": classes[1], "truth": truth.tolist(), "score": np.round(score, 6).tolist()}


def sweep(scores: dict) -> list[ThresholdPoint]:
    """The counts at every distinct kept score as threshold (plus one above the highest: nothing positive),
    highest threshold first."""
    truth, score = _arrays(scores)
    order = np.argsort(-score, kind="stable")
    truth, score = truth[order], score[order]
    last = np.r_[np.nonzero(np.diff(score))[0], len(score) - 1]  # the last row of each distinct score
    tp = np.cumsum(truth)[last]
    fp = (last + 1) - tp
    positives, negatives = int(truth.sum()), int(len(truth) - truth.sum())
    points = [ThresholdPoint(float(np.nextafter(score[0], np.inf)), 0, 0, negatives, positives)]
    points += [
        ThresholdPoint(float(score[i]), int(t), int(f), negatives - int(f), positives - int(t))
        for i, t, f in zip(last, tp, fp, strict=True)
    ]
    return points


def at(scores: dict, threshold: float) -> ThresholdPoint:
    """The counts when rows with a score of at least ``threshold`` are labelled positive."""
    truth, score = _arrays(scores)
    predicted = score >= threshold
    tp = int((predicted & (truth == 1)).sum())
    fp = int((predicted & (truth == 0)).sum())
    return ThresholdPoint(
        float(threshold), tp, fp, int((truth == 0).sum()) - fp, int((truth == 1).sum()) - tp
    )


def choose(
    scores: dict, preset: str, *, target_recall: float | None = None, costs: Costs | None = None
) -> ThresholdPoint:
    """The point a preset picks: "default" 0.5; "max_f1"; "max_balanced_accuracy"; "target_recall" (the highest
    threshold whose recall reaches ``target_recall``); "min_cost" (the lowest total ``costs``). Ties go to the
    higher threshold. Raises InvalidInput for an unknown preset or a missing or out-of-range argument."""
    if preset == "default":
        return at(scores, 0.5)
    points = sweep(scores)
    if preset == "max_f1":
        return max(points, key=lambda p: p.f1)
    if preset == "max_balanced_accuracy":
        return max(points, key=lambda p: p.balanced_accuracy)
    if preset == "target_recall":
        if target_recall is None or not 0.0 < target_recall <= 1.0:
            raise InvalidInput(f"A target recall must be above 0 and at most 1; got {target_recall!r}.")
        return next(p for p in points if p.recall >= target_recall)
    if preset == "min_cost":
        if costs is None:
            raise InvalidInput("A cost matrix is needed to pick the cheapest threshold.")
        return min(points, key=lambda p: p.cost(costs))
    raise InvalidInput(f"Unknown threshold preset {preset!r}.", hint=f"Use one of: {', '.join(PRESETS)}.")


def check_threshold(value: Any, classes: Sequence[Any]) -> float | None:
    """``value`` as a threshold for a model with ``classes`` (None clears it); raises InvalidInput for a
    multiclass model or a value outside [0, 1]."""
    if value is None:
        return None
    if len(classes) != 2:
        raise InvalidInput(
            f"A decision threshold applies to binary models; this one has {len(classes)} classes.",
            hint="Multiclass models label each row with its most probable class.",
        )
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"A threshold must be a number between 0 and 1; got {value!r}.") from None
    if not 0.0 <= number <= 1.0:
        raise InvalidInput(f"A threshold must be between 0 and 1; got {number:g}.")
    return number


def apply(classes: Sequence[Any], proba: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """(labels, probability of each label) of a binary model's ``proba`` (columns in ``classes`` order)."""
    positive = np.asarray(proba, dtype=np.float64)[:, 1] >= threshold
    labels = np.asarray(classes)[positive.astype(np.intp)]
    return labels, np.where(positive, proba[:, 1], proba[:, 0]).astype(np.float64)


def _arrays(scores: dict) -> tuple[np.ndarray, np.ndarray]:
    truth = np.asarray(scores["truth"], dtype=np.int8)
    score = np.asarray(scores["score"], dtype=np.float64)
    if len(truth) == 0 or len(truth) != len(score):
        raise InvalidInput("This model kept no held-out scores to choose a threshold from.")
    return truth, score

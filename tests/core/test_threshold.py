"""core.threshold against scikit-learn's metrics computed from scratch at each threshold."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, confusion_matrix, f1_score, precision_score, recall_score

from snowml_desktop.core import threshold as th
from snowml_desktop.core.errors import InvalidInput


@pytest.fixture
def scores() -> dict:
    rng = np.random.default_rng(3)
    truth = (rng.random(400) < 0.3).astype(int)
    score = np.clip(0.35 * truth + rng.normal(0.35, 0.2, 400), 0, 1).round(2)  # ties on purpose
    return {"positive": "yes", "truth": truth.tolist(), "score": score.tolist()}


def test_every_sweep_point_matches_sklearn(scores: dict) -> None:
    truth, score = np.array(scores["truth"]), np.array(scores["score"])
    points = th.sweep(scores)
    assert len(points) == len(np.unique(score)) + 1
    assert [p.threshold for p in points] == sorted((p.threshold for p in points), reverse=True)
    assert points[0].tp == points[0].fp == 0 and points[-1].tn == points[-1].fn == 0
    for p in points:
        predicted = (score >= p.threshold).astype(int)
        assert p.confusion_matrix() == confusion_matrix(truth, predicted, labels=[0, 1]).tolist()
        assert p.precision == pytest.approx(precision_score(truth, predicted, zero_division=0))
        assert p.recall == pytest.approx(recall_score(truth, predicted, zero_division=0))
        assert p.f1 == pytest.approx(f1_score(truth, predicted, zero_division=0))
        assert p.balanced_accuracy == pytest.approx(balanced_accuracy_score(truth, predicted))
        assert th.at(scores, p.threshold) == p


def test_presets_pick_the_best_point(scores: dict) -> None:
    points = th.sweep(scores)
    assert th.choose(scores, "default").threshold == 0.5
    assert th.choose(scores, "max_f1").f1 == max(p.f1 for p in points)
    best = th.choose(scores, "max_balanced_accuracy")
    assert best.balanced_accuracy == max(p.balanced_accuracy for p in points)
    recall = th.choose(scores, "target_recall", target_recall=0.9)
    assert recall.recall >= 0.9
    assert all(p.recall < 0.9 for p in points if p.threshold > recall.threshold)  # the highest such threshold
    costs = th.Costs(false_positive=1.0, false_negative=5.0)
    cheapest = th.choose(scores, "min_cost", costs=costs)
    assert cheapest.cost(costs) == min(p.fp + 5 * p.fn for p in points)
    # Missing a miss costs five false alarms: the cheapest threshold is lower than F1's.
    assert cheapest.threshold < th.choose(scores, "max_f1").threshold


@pytest.mark.parametrize(
    ("preset", "kwargs", "message"),
    [
        ("target_recall", {}, "target recall"),
        ("target_recall", {"target_recall": 1.5}, "target recall"),
        ("min_cost", {}, "cost matrix"),
        ("magic", {}, "Unknown threshold preset"),
    ],
)
def test_bad_preset_arguments(scores: dict, preset: str, kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        th.choose(scores, preset, **kwargs)


def test_kept_scores_are_bounded_and_stratified() -> None:
    rng = np.random.default_rng(0)
    y = np.where(rng.random(10_000) < 0.1, "yes", "no")
    proba = rng.random((10_000, 2))
    kept = th.kept_scores(["no", "yes"], y, proba, seed=1)
    assert kept["positive"] == "yes" and len(kept["truth"]) == th.MAX_KEPT_SCORES
    assert abs(np.mean(kept["truth"]) - np.mean(y == "yes")) < 0.001
    small = th.kept_scores(["no", "yes"], y[:50], proba[:50], seed=1)
    assert small["truth"] == (y[:50] == "yes").astype(int).tolist()
    assert small["score"] == pytest.approx(proba[:50, 1], abs=1e-6)
    assert th.kept_scores([1, 2, 3], y, rng.random((10_000, 3)), seed=1) is None


def test_apply_labels_like_at_counts(scores: dict) -> None:
    score = np.array(scores["score"])
    proba = np.column_stack([1 - score, score])
    labels, probability = th.apply(["no", "yes"], proba, 0.42)
    point = th.at(scores, 0.42)
    assert int((labels == "yes").sum()) == point.tp + point.fp
    assert np.allclose(probability, np.where(labels == "yes", score, 1 - score))


@pytest.mark.parametrize(
    ("value", "classes", "message"),
    [(0.3, [1, 2, 3], "binary models"), ("x", [0, 1], "a number"), (1.2, [0, 1], "between 0 and 1")],
)
def test_check_threshold_refuses(value: object, classes: list, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        th.check_threshold(value, classes)
    assert th.check_threshold("0.25", [0, 1]) == 0.25 and th.check_threshold(None, [1, 2, 3]) is None

"""Auto: a bounded, seeded Optuna search whose winner is refit and evaluated like any method."""

from __future__ import annotations

import pandas as pd
import pytest

from snowml_desktop.core.errors import Cancelled
from snowml_desktop.core.methods import METHODS
from snowml_desktop.core.search import candidate_methods
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.core.training import TrainSpec, train_model


def test_auto_is_bounded_by_trials_and_deterministic(breast_cancer: pd.DataFrame) -> None:
    spec = TrainSpec(target="target", method="auto", params={"trials": "3", "search_folds": 2}, seed=5)
    first = train_model(breast_cancer, spec)
    assert first.search["trials"] == 3 and len(first.search["history"]) == 3
    assert first.search["metric"] == "balanced_accuracy"
    assert first.method in METHODS and first.method != "auto"
    scores = [h["score"] for h in first.search["history"] if h["score"] is not None]
    assert first.search["best_score"] == max(scores)
    best = max(first.search["history"], key=lambda h: h["score"] or -1)
    assert first.method == best["method"]
    assert all(first.params[k] == v for k, v in best["params"].items())  # winner's params, defaults filled
    assert first.metrics["accuracy"] > 0.8

    second = train_model(breast_cancer, spec)

    def trials(outcome) -> list:
        return [{k: v for k, v in h.items() if k != "seconds"} for h in outcome.search["history"]]

    assert trials(second) == trials(first)
    assert second.method == first.method and second.metrics == first.metrics


def test_auto_reports_trials_and_can_be_cancelled_between_them(iris: pd.DataFrame) -> None:
    seen: list[str] = []
    task = TaskContext()

    def progress(fraction: float, text: str) -> None:
        seen.append(text)
        if "trial 2 of" in text:
            task.token.cancel()

    task.progress = progress
    with pytest.raises(Cancelled):
        train_model(iris, TrainSpec(target="target", method="auto", params={"trials": 10}), task)
    assert any("trial 1 of 10" in t for t in seen)
    assert not any("Fitting" in t for t in seen)


def test_class_weight_limits_the_candidates() -> None:
    weighted = candidate_methods("balanced", 1000)
    assert "gaussian_nb" not in weighted and "knn" not in weighted and "random_forest" in weighted
    assert "svc" not in candidate_methods(None, 50_000) and "knn" in candidate_methods(None, 1000)


def test_auto_with_class_weight_and_roc_auc(iris: pd.DataFrame) -> None:
    outcome = train_model(
        iris,
        TrainSpec(
            target="target", method="auto", class_weight="balanced", params={"trials": 2, "metric": "roc_auc"}
        ),
    )
    assert outcome.search["metric"] == "roc_auc" and outcome.method not in ("gaussian_nb", "knn")


def test_auto_stops_at_the_timeout(iris: pd.DataFrame) -> None:
    params = {"trials": 1000, "timeout_seconds": 1}
    outcome = train_model(iris, TrainSpec(target="target", method="auto", params=params))
    assert 1 <= outcome.search["trials"] < 1000
    assert outcome.search["seconds"] < 10

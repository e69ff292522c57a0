"""The Auto method: an Optuna TPE search across methods and their main hyper-parameters.

Each trial picks a method and its settings, and is scored by stratified k-fold cross-validation
(``search_folds``) on a stratified sample of at most ``max_rows`` training rows. The search stops after
``trials`` trials or once ``timeout_seconds`` have passed (checked between trials and between the folds
of a trial, so the search overruns by at most one fold's fit), and is deterministic for a given seed (the sampler is seeded) when it stops on the trial count.
Methods that cannot use the requested class weighting are left out, as are SVC and KNN when the sample
is larger than 20 000 rows (their cost grows with the square of the rows). A trial whose estimator fails
on the data is recorded with score None and skipped; after the first trials, a trial scoring below the
median of earlier trials on its first folds is stopped early (Optuna's median pruner) to save time. The
test rows are never seen by the search.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from snowml_desktop.core.errors import EngineError
from snowml_desktop.core.methods import METHODS
from snowml_desktop.core.records import Feature, json_safe
from snowml_desktop.core.scoring import predict_with_proba
from snowml_desktop.core.tasks import TaskContext

log = logging.getLogger(__name__)

_QUADRATIC_METHODS = ("svc", "knn")
#: Trials run in full before the median pruner may stop a trial after its first folds.
_PRUNE_AFTER_TRIALS = 5
_QUADRATIC_MAX_ROWS = 20_000


@dataclass
class SearchResult:
    method: str
    params: dict[str, Any]
    #: {"trials", "best_score", "metric", "methods", "rows", "folds", "seconds",
    #:  "history": [{"method", "params", "score", "seconds"}]}  (score None: the trial failed on this
    #:  data, was stopped early as clearly worse than the median of earlier trials ("pruned": True), or
    #:  was cut by the timeout ("timed_out": True))
    summary: dict[str, Any]


def _suggest(trial: Any, method: str) -> dict[str, Any]:
    """The searched parameters of ``method`` (others keep their defaults). Names are prefixed per method
    because Optuna needs one distribution per name."""

    def f(name: str, low: float, high: float, log: bool = False) -> float:
        return trial.suggest_float(f"{method}.{name}", low, high, log=log)

    def i(name: str, low: int, high: int, log: bool = False) -> int:
        return trial.suggest_int(f"{method}.{name}", low, high, log=log)

    def c(name: str, choices: tuple) -> Any:
        return trial.suggest_categorical(f"{method}.{name}", choices)

    if method == "logistic_regression":
        return {"C": f("C", 1e-3, 1e2, log=True)}
    if method == "gaussian_nb":
        return {"var_smoothing": f("var_smoothing", 1e-12, 1e-3, log=True)}
    if method == "random_forest":
        return {
            "n_estimators": i("n_estimators", 50, 300, log=True),
            "max_depth": i("max_depth", 2, 24),
            "min_samples_leaf": i("min_samples_leaf", 1, 20, log=True),
            "max_features": c("max_features", ("sqrt", "log2", "all")),
        }
    if method == "decision_tree":
        return {
            "max_depth": i("max_depth", 2, 20),
            "min_samples_leaf": i("min_samples_leaf", 1, 50, log=True),
            "criterion": c("criterion", ("gini", "entropy")),
        }
    if method == "svc":
        return {"C": f("C", 1e-2, 1e2, log=True), "kernel": c("kernel", ("rbf", "linear"))}
    if method == "knn":
        return {
            "n_neighbors": i("n_neighbors", 1, 50, log=True),
            "weights": c("weights", ("uniform", "distance")),
        }
    if method == "gradient_boosting":
        return {
            "learning_rate": f("learning_rate", 0.01, 0.3, log=True),
            "max_iter": i("max_iter", 50, 300, log=True),
            "max_leaf_nodes": i("max_leaf_nodes", 8, 64, log=True),
            "l2_regularization": f("l2_regularization", 1e-6, 10.0, log=True),
        }
    raise ValueError(method)


def candidate_methods(class_weight: str | None, rows: int) -> list[str]:
    """Concrete methods the search may pick for this class weighting and sample size."""
    keys = [
        k
        for k, spec in METHODS.items()
        if k != "auto" and (class_weight is None or spec.supports_class_weight)
    ]
    if rows > _QUADRATIC_MAX_ROWS:
        keys = [k for k in keys if k not in _QUADRATIC_METHODS]
    return keys


def _sample(x: pd.DataFrame, y: np.ndarray, max_rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    if len(y) <= max_rows:
        return x, y
    from sklearn.model_selection import train_test_split

    try:
        x, _, y, _ = train_test_split(x, y, train_size=max_rows, random_state=seed, stratify=y)
    except ValueError:  # a class too rare to stratify: a plain random sample still bounds the cost
        x, _, y, _ = train_test_split(x, y, train_size=max_rows, random_state=seed)
    return x, y


def _score(metric: str, classes: np.ndarray, y_true: np.ndarray, pipeline: Any, x: pd.DataFrame) -> float:
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, roc_auc_score

    if metric == "roc_auc":
        proba = pipeline.predict_proba(x)
        if len(classes) == 2:
            return float(roc_auc_score(y_true == classes[1], proba[:, 1]))
        return float(roc_auc_score(y_true, proba, multi_class="ovr", labels=classes))
    labels, _ = (
        predict_with_proba(pipeline, x) if hasattr(pipeline, "predict_proba") else (pipeline.predict(x), None)
    )
    if metric == "accuracy":
        return float(accuracy_score(y_true, labels))
    if metric == "f1_macro":
        return float(f1_score(y_true, labels, average="macro", zero_division=0))
    return float(balanced_accuracy_score(y_true, labels))


def search_method(
    x: pd.DataFrame,
    y: np.ndarray,
    features: list[Feature],
    params: dict[str, Any],
    *,
    class_weight: str | None,
    seed: int,
    task: TaskContext,
    threads: int = 1,
) -> SearchResult:
    """Run the search on training rows ``x``/``y`` with Auto's coerced ``params``. Returns the winning
    method and its parameters. Raises Cancelled, EngineError when no trial succeeded."""
    import optuna
    from sklearn.model_selection import StratifiedKFold

    from snowml_desktop.core.training import make_pipeline

    x, y = _sample(x, y, params["max_rows"], seed)
    classes = np.unique(y)
    smallest = int(np.unique(y, return_counts=True)[1].min())
    folds = StratifiedKFold(
        n_splits=max(2, min(params["search_folds"], smallest)), shuffle=True, random_state=seed
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a class with one training row: it sits in one fold, which is fine
        splits = list(folds.split(x, y))
    methods = candidate_methods(class_weight, len(y))
    metric, trials = params["metric"], params["trials"]
    history: list[dict[str, Any]] = []

    def objective(trial: Any) -> float:
        task.check()
        method = trial.suggest_categorical("method", methods)
        chosen = _suggest(trial, method)
        entry: dict[str, Any] = {"method": method, "params": json_safe(chosen), "score": None}
        history.append(entry)
        started_trial = time.monotonic()
        try:
            return _run_trial(trial, method, chosen, entry)
        finally:
            entry["seconds"] = round(time.monotonic() - started_trial, 3)

    def _run_trial(trial: Any, method: str, chosen: dict[str, Any], entry: dict[str, Any]) -> float:
        scores = []
        for train_index, test_index in splits:
            task.check()
            if time.monotonic() > deadline:  # Optuna checks its timeout only between trials
                entry["timed_out"] = True
                trial.study.stop()
                raise optuna.TrialPruned()
            try:
                pipeline = make_pipeline(
                    method,
                    chosen,
                    features,
                    y[train_index],
                    class_weight=class_weight,
                    seed=seed,
                    probability=metric == "roc_auc",
                    threads=threads,
                )
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    pipeline.fit(x.iloc[train_index], y[train_index])
                scores.append(_score(metric, classes, y[test_index], pipeline, x.iloc[test_index]))
            except (ValueError, ArithmeticError, MemoryError) as exc:
                log.info("Auto trial %s with %s failed: %s", method, chosen, exc)
                raise optuna.TrialPruned() from exc
            trial.report(float(np.mean(scores)), len(scores))
            if trial.should_prune():  # clearly worse than earlier trials after these folds: save the rest
                entry["pruned"] = True
                raise optuna.TrialPruned()
        entry["score"] = float(np.mean(scores))
        return entry["score"]

    def progress(study: Any, trial: Any) -> None:
        best = _best(history)
        best_text = f"; best {best['method']} {best['score']:.3f}" if best else ""
        task.report(len(history) / trials, f"Auto search: trial {len(history)} of {trials}{best_text}")

    # Optuna logs each failed or cancelled trial as a warning; failures are logged here instead.
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=_PRUNE_AFTER_TRIALS),
    )
    task.report(0.0, f"Auto search: {trials} trials over {len(methods)} methods")
    started = time.monotonic()
    deadline = started + params["timeout_seconds"]
    study.optimize(objective, n_trials=trials, timeout=params["timeout_seconds"], callbacks=[progress])
    best = _best(history)
    if best is None:
        raise EngineError(
            "Auto search found no method that fits this data.", hint="Pick a method explicitly."
        )
    summary = {
        "trials": len(history),
        "best_score": best["score"],
        "metric": metric,
        "methods": methods,
        "rows": len(y),
        "folds": len(splits),
        "seconds": round(time.monotonic() - started, 3),
        "history": history,
    }
    return SearchResult(method=best["method"], params=dict(best["params"]), summary=summary)


def _best(history: list[dict[str, Any]]) -> dict[str, Any] | None:
    scored = [h for h in history if h["score"] is not None and math.isfinite(h["score"])]
    return max(scored, key=lambda h: h["score"]) if scored else None

"""Several methods compared on the same rows: one stratified split, or the same K stratified folds for every
method (Orange's Test & Score), with mean and standard deviation of each metric and ROC / PR curves from the
pooled held-out probabilities.

Every method sees exactly the same training and test rows, so the differences in the table are the methods'
own. The single-split mode uses training's own split (same seed and test size), so a row kept as a catalog
model is trained and evaluated on the rows it was compared on.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from snowml_desktop.core.concurrent_fits import ProcessPool, convergence_warnings, run_concurrently
from snowml_desktop.core.errors import EngineError, InvalidInput, ResourceExhausted
from snowml_desktop.core.evaluation import confusion, metrics_from_confusion, probability_metrics
from snowml_desktop.core.methods import check_class_weight, coerce_params, get_method
from snowml_desktop.core.records import ModelWarning, json_safe
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.core.training import (
    PreparedData,
    TrainSpec,
    check_data_fits_params,
    check_options,
    check_size,
    fit_or_explain,
    make_pipeline,
    prepare_data,
    split_data,
)

log = logging.getLogger(__name__)

#: The metrics of the comparison table, in column order.
METRICS = ("accuracy", "balanced_accuracy", "roc_auc", "average_precision", "f1_macro")
MAX_METHODS = 12


@dataclass(frozen=True)
class CompareSpec:
    """What to compare: the fields mean what they mean on ``TrainSpec``; ``cv_folds`` 0 is one split."""

    target: str
    methods: list[str]
    features: list[str] | None = None
    params: dict[str, dict] = field(default_factory=dict)  # method key -> parameters; defaults elsewhere
    cv_folds: int = 5
    test_size: float = 0.2
    seed: int = 42
    class_weight: str | None = None
    dedupe: bool = False
    threads: int = 1  # methods x folds fitted at once
    #: Starts processes for those fits (as ``TrainSpec.cv_processes``); None: threads.
    processes: ProcessPool | None = None

    def checked_methods(self) -> list[str]:
        """The method keys, after refusing (InvalidInput) an empty, repeated or too long list, Auto, a thread
        count below 1 and class weighting for a method without it."""
        if not self.methods:
            raise InvalidInput("Choose at least one method to compare.")
        keys = [get_method(m).key for m in self.methods]
        if "auto" in keys:
            raise InvalidInput(
                "Auto cannot be compared: it searches over the methods itself.",
                hint="Compare the concrete methods, or train Auto on its own.",
            )
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise InvalidInput(f"Each method can be compared once; repeated: {', '.join(repeated)}.")
        if len(keys) > MAX_METHODS:
            raise InvalidInput(f"At most {MAX_METHODS} methods can be compared at once; got {len(keys)}.")
        if self.threads < 1:
            raise InvalidInput(f"Threads must be at least 1; got {self.threads!r}.")
        for key in keys:
            check_class_weight(key, self.class_weight)
        return keys

    def train_spec(self, method: str) -> TrainSpec:
        """The training request that reproduces this comparison's setting for one method."""
        return TrainSpec(
            target=self.target,
            features=self.features,
            method=method,
            params=dict(self.params.get(method, {})),
            test_size=self.test_size,
            seed=self.seed,
            cv_folds=self.cv_folds,
            class_weight=self.class_weight,
            dedupe=self.dedupe,
        )


@dataclass
class MethodComparison:
    """One method's row: per metric ``{"mean", "std", "folds": [...]}`` (None where undefined) and the curves
    of its pooled held-out probabilities (``ModelRecord.curves`` shape); ``error`` when it could not be fitted."""

    method: str
    label: str
    params: dict[str, Any]
    metrics: dict[str, dict[str, Any]]
    curves: dict[str, list]
    fit_seconds: float
    error: str | None = None


@dataclass
class Comparison:
    target: str
    classes: list
    folds: int  # 0: one split of ``test_size``
    test_size: float
    seed: int
    rows: int
    results: list[MethodComparison]
    warnings: list[ModelWarning]

    def best(self, metric: str = "roc_auc") -> MethodComparison | None:
        """The method with the highest mean ``metric`` (accuracy where that is undefined for all)."""
        fitted = [r for r in self.results if r.error is None]
        scored = [r for r in fitted if r.metrics.get(metric, {}).get("mean") is not None]
        if not scored:
            scored, metric = fitted, "accuracy"
        return max(scored, key=lambda r: r.metrics[metric]["mean"], default=None)


def compare_methods(frame: pd.DataFrame, spec: CompareSpec, task: TaskContext | None = None) -> Comparison:
    """Fit every method of ``spec`` on the same split or folds of ``frame`` and evaluate each on the same
    held-out rows. Raises InvalidInput (bad options, unknown or repeated methods, Auto, too few rows per class),
    Cancelled. A method that scikit-learn cannot fit on this data gets an ``error`` instead of failing the rest."""
    import sklearn  # noqa: F401 - threadpool_limits limits only the runtimes already loaded
    from threadpoolctl import threadpool_limits

    task = task or TaskContext()
    methods = spec.checked_methods()
    base = spec.train_spec(methods[0])
    check_options(base)
    found: list[ModelWarning] = []
    data = prepare_data(frame, base, found)
    check_size(data, base)
    splits = _splits(data, spec)
    classes = np.unique(data.y).tolist()  # the order scikit-learn's classes_ take
    task.report(0.0, f"Comparing {len(methods)} methods on {_setting(spec)}")
    with threadpool_limits(limits=1):  # parallelism comes from fitting methods x folds at once
        fitted = _fit_all(methods, spec, data, splits, task)
    results = [_summarize(key, params, outcomes, classes) for key, params, outcomes in fitted]
    task.report(1.0, "Done")
    return Comparison(
        target=spec.target,
        classes=[json_safe(c) for c in classes],
        folds=spec.cv_folds,
        test_size=spec.test_size,
        seed=spec.seed,
        rows=len(data.y),
        results=results,
        warnings=found,
    )


def _setting(spec: CompareSpec) -> str:
    return f"the same {spec.cv_folds} folds" if spec.cv_folds >= 2 else f"one {spec.test_size:g} test split"


def _splits(data: PreparedData, spec: CompareSpec) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train index, test index) pairs shared by every method."""
    if spec.cv_folds >= 2:
        from sklearn.model_selection import StratifiedKFold

        labels, counts = np.unique(data.y, return_counts=True)
        rare = [(labels[i], int(counts[i])) for i in np.argsort(counts) if counts[i] < spec.cv_folds]
        if rare:
            listed = ", ".join(f"{json_safe(label)!r} has {count}" for label, count in rare[:5])
            raise InvalidInput(
                f"Too few rows per class for {spec.cv_folds}-fold comparison: {listed} "
                f"(each class needs at least {spec.cv_folds}).",
                hint="Use fewer folds, or one test split (0 folds).",
            )
        folds = StratifiedKFold(n_splits=spec.cv_folds, shuffle=True, random_state=spec.seed)
        return list(folds.split(data.x, data.y))
    # prepare_data numbers rows 0..n-1, so the split's index is the row positions.
    x_train, x_test, _, _ = split_data(data, spec.train_spec(spec.methods[0]))
    return [(x_train.index.to_numpy(), x_test.index.to_numpy())]


_Outcome = tuple[int, np.ndarray, np.ndarray, list, float]  # fold, true labels, proba, model classes, seconds


def _fit_all(
    methods: list[str], spec: CompareSpec, data: PreparedData, splits: list, task: TaskContext
) -> list[tuple[str, dict[str, Any], list[_Outcome] | EngineError]]:
    params = {key: coerce_params(key, spec.params.get(key, {})) for key in methods}
    jobs = [(key, i) for key in methods for i in range(len(splits))]
    calls = [partial(_fit_one, key, params[key], spec, i, splits[i]) for key, i in jobs]
    outcomes: dict[str, list[_Outcome] | EngineError] = {key: [] for key in methods}
    with convergence_warnings():  # convergence is reported when a row is kept and trained
        names = [f"{get_method(key).label} fold {i + 1} of {len(splits)}" for key, i in jobs]
        fits = run_concurrently(calls, data, spec.threads, task, processes=spec.processes, names=names)
        for done_count, (index, future) in enumerate(fits, start=1):
            key = jobs[index][0]
            _collect(outcomes, key, future)
            task.report(done_count / len(jobs), f"{get_method(key).label}: {done_count} of {len(jobs)} fits")
    return [(key, params[key], outcomes[key]) for key in methods]


def _collect(outcomes: dict, key: str, future: Future) -> None:
    if isinstance(outcomes[key], EngineError):
        return
    try:
        outcomes[key].append(future.result())
    except ResourceExhausted:  # a fit process died: the machine, not the method, is the problem
        raise
    except EngineError as exc:  # this method does not suit the data; the others go on
        outcomes[key] = exc


def _fit_one(
    key: str, params: dict, spec: CompareSpec, fold: int, split: tuple, data: PreparedData
) -> _Outcome:
    train_index, test_index = split
    y_train = data.y[train_index]
    check_data_fits_params(key, params, y_train, 0)
    pipeline = make_pipeline(
        key, params, data.features, y_train, class_weight=spec.class_weight, seed=spec.seed, threads=1
    )
    started = time.perf_counter()
    fit_or_explain(pipeline, data.x.iloc[train_index], y_train, key)
    seconds = time.perf_counter() - started
    proba = np.asarray(pipeline.predict_proba(data.x.iloc[test_index]), dtype=np.float64)
    return fold, data.y[test_index], proba, list(pipeline.classes_), seconds


def _summarize(
    key: str, params: dict[str, Any], outcomes: list[_Outcome] | EngineError, classes: list
) -> MethodComparison:
    label = get_method(key).label
    if isinstance(outcomes, EngineError):
        return MethodComparison(key, label, json_safe(params), {}, {"roc": [], "pr": []}, 0.0, str(outcomes))
    per_fold: dict[str, list] = {name: [] for name in METRICS}
    pooled_y, pooled_proba = [], []
    for _fold, y, proba, model_classes, _seconds in sorted(outcomes, key=lambda o: o[0]):
        aligned = _align(proba, model_classes, classes)
        predicted = np.asarray(classes, dtype=object)[aligned.argmax(axis=1)]
        metrics, _ = metrics_from_confusion(classes, confusion(classes, y, predicted))
        probability, _ = probability_metrics(classes, y, aligned)
        metrics.update(probability)
        for name in METRICS:
            per_fold[name].append(metrics.get(name))
        pooled_y.append(y)
        pooled_proba.append(aligned)
    _, curves = probability_metrics(classes, np.concatenate(pooled_y), np.vstack(pooled_proba))
    return MethodComparison(
        method=key,
        label=label,
        params=json_safe(params),
        metrics={name: _mean_std(values) for name, values in per_fold.items()},
        curves=curves,
        fit_seconds=float(sum(o[4] for o in outcomes)),
    )


def _align(proba: np.ndarray, model_classes: list, classes: list) -> np.ndarray:
    """Probability columns in ``classes`` order (a fold's model knows only the classes it was fitted on)."""
    out = np.zeros((len(proba), len(classes)))
    position = {c: i for i, c in enumerate(classes)}
    for j, c in enumerate(model_classes):
        out[:, position[c]] = proba[:, j]
    return out


def _mean_std(values: list) -> dict[str, Any]:
    known = [float(v) for v in values if v is not None]
    if len(known) < len(values) or not known:
        return {"mean": None, "std": None, "folds": values}
    return {"mean": float(np.mean(known)), "std": float(np.std(known)), "folds": known}


def comparison_from_json(data: dict[str, Any]) -> Comparison:
    """Inverse of ``dataclasses.asdict`` of a comparison (as a stored procedure returns it)."""
    values = dict(data)
    values["results"] = [MethodComparison(**r) for r in values["results"]]
    values["warnings"] = [ModelWarning(**w) for w in values["warnings"]]
    return Comparison(**values)

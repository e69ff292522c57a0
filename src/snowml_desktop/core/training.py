"""Train and evaluate one classifier on a pandas frame: the ML core that both engines run.

:func:`train_model` validates the target and features, plans the columns (``core.preprocessing``),
optionally drops duplicate rows, splits stratified, fits a Pipeline (preprocessing + estimator, or the
winner of the Auto search in ``core.search``), cross-validates on the training part when asked, and
evaluates on the test part (``core.evaluation``). Progress goes to the TaskContext at each stage, and a
cancel is honoured between stages, CV folds and search trials.

Warning codes (``ModelWarning.code``; stable, the GUI and CLI may key on them):

- ``missing_target_dropped``      rows without a target value were dropped (count)
- ``duplicates_dropped``          ``dedupe=True`` dropped exact duplicate rows (features + target) before
                                  splitting (count)
- ``duplicate_leakage``           test rows identical to training rows (features + target): test metrics
                                  are optimistic (count and percent)
- ``class_imbalance``             the rarest class has under 20 % of the rows of the most common one
- ``id_columns_excluded``         identifier-like columns left out (see ``core.preprocessing``)
- ``constant_columns_dropped``    columns with one value left out
- ``empty_columns_dropped``       columns with no values left out
- ``high_cardinality_excluded``   text columns with too many distinct values left out
- ``unsupported_columns_excluded`` columns of unusable types (dates, binary ...) left out
- ``not_converged``               the estimator stopped before converging (raise ``max_iter``)
- ``small_test_set``              fewer than 30 test rows: metrics are noisy
- ``target_leak_suspected``       a column with few values determines the target on >= 99 % of training
                                  rows (likely derived from the label)
- ``rows_per_tree_capped``        each random-forest tree was grown on a bootstrap of ``max_samples`` rows,
                                  fewer than the training rows (the default on big tables; 0 lifts it)

Errors (all InvalidInput, with what and how to fix): empty frame; duplicate column names; target column
missing (naming available columns and close matches); target among the features; requested features
missing; no usable feature left; continuous-looking target; a single class; a class with too few rows for
the test split or the CV folds (naming the class and its count); bad test size, CV folds, class weighting
or method parameters; a parameter the data cannot satisfy (e.g. more neighbours than training rows).
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from snowml_desktop.core.concurrent_fits import ProcessPool
from snowml_desktop.core.errors import EngineError, InvalidInput
from snowml_desktop.core.evaluation import (
    MIN_IMPORTANCE_ROWS,
    confusion,
    metrics_from_confusion,
    permutation_importance_table,
    probability_metrics,
)
from snowml_desktop.core.methods import build_estimator, check_class_weight, coerce_params, get_method
from snowml_desktop.core.preprocessing import build_preprocessor, coerce_features, encoded_width, plan_columns
from snowml_desktop.core.records import Feature, ModelWarning, json_safe
from snowml_desktop.core.scoring import predict_with_proba
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.core.threshold import kept_scores

log = logging.getLogger(__name__)

#: A numeric target with more distinct values than this is treated as continuous (not a label).
MAX_CLASSES = 100
#: A float target with non-integer values and more distinct values than this looks continuous.
_CONTINUOUS_DISTINCT = 20
_IMBALANCE_RATIO = 0.2
_SMALL_TEST = 30
# Target-leak screen: a column with few values that maps to the label on >= 99 % of rows is suspicious,
# unless the label itself is nearly constant.
_LEAK_PURITY = 0.99
_LEAK_MAX_DISTINCT = 50
_LEAK_MAX_BASELINE = 0.95
_LEAK_MIN_ROWS = 20
MAX_CV_FOLDS = 20
# Size limits checked before fitting (10,000 columns x 50 rows once ran >8 min and peaked at 12.8 GB):
# training values (rows x model inputs, one-hot columns counted; 8 bytes each per dense copy) ...
MAX_TRAINING_VALUES = 200_000_000
# ... and values predicted for permutation importance, at least features x 2 repeats x test rows (up to
# 200) x model inputs: it grows with the square of the width (2,000 numeric columns: about a minute).
MAX_IMPORTANCE_VALUES = 100_000_000


@dataclass(frozen=True)
class TrainSpec:
    """What to train: see ``engines.base.TrainRequest`` for the user-facing meaning of each field."""

    target: str
    features: list[str] | None = None
    method: str = "random_forest"
    params: dict = field(default_factory=dict)
    test_size: float = 0.2
    seed: int = 42
    cv_folds: int = 0
    class_weight: str | None = None
    dedupe: bool = False
    #: CPU threads the estimators may use (OpenMP, BLAS, random-forest tree building). 1 by default: on a
    #: busy machine more threads than free cores make OpenMP code (gradient boosting) many times slower.
    threads: int = 1
    #: With cross-validation, fits run at once: the folds and the final fit, each single-threaded (as
    #: ``CompareSpec.threads``); ``threads`` then applies only when this is 1. The local engine uses every core.
    cv_threads: int = 1
    #: Starts processes for those fits (the local engine's, which die with their owner); None: threads.
    cv_processes: ProcessPool | None = None


@dataclass
class TrainOutcome:
    """A fitted pipeline and its evaluation; JSON-shaped fields as documented on ``ModelRecord``."""

    pipeline: Any
    method: str
    params: dict[str, Any]
    search: dict | None
    features: list[Feature]
    classes: list
    metrics: dict
    per_class: list[dict]
    confusion_matrix: list[list[int]]
    curves: dict
    feature_importance: list[dict]
    cv: dict | None
    warnings: list[ModelWarning]
    excluded_columns: list[dict]
    rows_total: int
    rows_train: int
    rows_test: int
    fit_seconds: float


@dataclass
class PreparedData:
    x: pd.DataFrame
    y: np.ndarray
    features: list[Feature]
    excluded: list[dict]
    rows_total: int


# Progress fractions at the start of each stage (Auto spends most of its time searching). The final fit and the
# cross-validation folds run together, in the "fit" stage.
_STAGES = {
    False: {"fit": 0.05, "evaluate": 0.7, "importance": 0.75},
    True: {"search": 0.05, "fit": 0.7, "evaluate": 0.88, "importance": 0.9},
}


def train_model(frame: pd.DataFrame, spec: TrainSpec, task: TaskContext | None = None) -> TrainOutcome:
    """Train and evaluate ``spec.method`` on ``frame``. Raises InvalidInput (see the module docstring),
    Cancelled when ``task`` is cancelled, EngineError when the estimator fails on the data."""
    # threadpool_limits only limits runtimes already loaded: importing sklearn loads its OpenMP and BLAS.
    import sklearn  # noqa: F401
    from threadpoolctl import threadpool_limits

    for name in ("threads", "cv_threads"):
        value = getattr(spec, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            what = "Threads" if name == "threads" else "Cross-validation threads"
            raise InvalidInput(f"{what} must be a whole number of at least 1; got {value!r}.")
    with threadpool_limits(limits=spec.threads):
        return _train(frame, spec, task or TaskContext())


def _train(frame: pd.DataFrame, spec: TrainSpec, task: TaskContext) -> TrainOutcome:
    task.report(0.0, "Preparing data")
    method = get_method(spec.method)
    check_options(spec)
    check_class_weight(method.key, spec.class_weight)
    params = coerce_params(method.key, spec.params)
    found: list[ModelWarning] = []
    data = prepare_data(frame, spec, found)
    check_size(data, spec)
    split = split_data(data, spec)
    x_train, x_test, y_train, y_test = split
    found.extend(_split_warnings(x_train, x_test, y_train, y_test, spec, method.supports_class_weight))
    stages = _STAGES[method.key == "auto"]

    search = None
    concrete, estimator_params = method.key, params
    if method.key == "auto":
        from snowml_desktop.core.search import search_method

        result = search_method(
            x_train,
            y_train,
            data.features,
            params,
            class_weight=spec.class_weight,
            seed=spec.seed,
            threads=spec.threads,
            task=task.sub(stages["search"], stages["fit"]),
        )
        concrete, search = result.method, result.summary
        estimator_params = coerce_params(concrete, result.params)
    check_data_fits_params(concrete, estimator_params, y_train, spec.cv_folds)

    label = get_method(concrete).label
    doing = f" and cross-validating ({spec.cv_folds} folds)" if spec.cv_folds >= 2 else ""
    task.report(stages["fit"], f"Fitting {label}{doing}")
    fitted = _fit_and_cross_validate(
        _Fits(concrete, estimator_params, data.features, x_train, y_train, spec),
        task.sub(stages["fit"], stages["evaluate"]),
    )
    pipeline, fit_seconds, cv = fitted.pipeline, fitted.seconds, fitted.cv
    found.extend(_capped_rows_per_tree(pipeline, len(y_train)))
    if fitted.not_converged:
        found.append(
            ModelWarning(
                "not_converged",
                f"{label} stopped before converging; raise max_iter or scale the inputs.",
            )
        )
    task.report(stages["evaluate"], "Evaluating on the test rows")
    evaluation = _evaluate(pipeline, x_test, y_test, spec.seed)
    task.report(stages["importance"], "Computing feature importance")
    importance = permutation_importance_table(pipeline, x_test, y_test, seed=spec.seed)
    task.report(1.0, "Done")
    return TrainOutcome(
        pipeline=pipeline,
        method=concrete,
        params=json_safe(estimator_params),
        search=search,
        features=data.features,
        classes=evaluation["classes"],
        metrics=evaluation["metrics"],
        per_class=evaluation["per_class"],
        confusion_matrix=evaluation["confusion_matrix"],
        curves=evaluation["curves"],
        feature_importance=importance,
        cv=cv,
        warnings=found,
        excluded_columns=data.excluded,
        rows_total=data.rows_total,
        rows_train=len(y_train),
        rows_test=len(y_test),
        fit_seconds=fit_seconds,
    )


# --- validation and preparation -----------------------------------------------------------------------


def check_options(spec: TrainSpec) -> None:
    """Raise InvalidInput for a test size, fold count or seed out of range."""
    if not isinstance(spec.test_size, (int, float)) or not 0.0 < float(spec.test_size) < 1.0:
        raise InvalidInput(
            f"Test size must be a fraction between 0 and 1 (e.g. 0.2); got {spec.test_size!r}."
        )
    if (
        not isinstance(spec.cv_folds, int)
        or spec.cv_folds < 0
        or spec.cv_folds == 1
        or spec.cv_folds > MAX_CV_FOLDS
    ):
        raise InvalidInput(
            f"Cross-validation folds must be 0 (off) or between 2 and {MAX_CV_FOLDS}; got {spec.cv_folds!r}."
        )
    if not isinstance(spec.seed, int) or isinstance(spec.seed, bool) or not 0 <= spec.seed < 2**32:
        raise InvalidInput(f"Seed must be a whole number between 0 and {2**32 - 1}; got {spec.seed!r}.")


def prepare_data(frame: pd.DataFrame, spec: TrainSpec, found: list[ModelWarning]) -> PreparedData:
    """Features chosen and coerced, target values, rows without a label dropped (appending to ``found``).
    Raises InvalidInput for an empty table, an unusable target or no usable feature."""
    if frame is None or len(frame.columns) == 0 or len(frame) == 0:
        raise InvalidInput("The training table is empty.", hint="Load rows into it before training.")
    columns = [str(c) for c in frame.columns]
    duplicated = sorted(name for name, count in Counter(columns).items() if count > 1)
    if duplicated:
        raise InvalidInput(f"The training data has duplicate column names: {', '.join(duplicated)}.")
    frame = frame.set_axis(columns, axis=1)
    rows_total = len(frame)
    target = _resolve_column(spec.target, columns, what="Target column")
    candidates = _candidates(spec, target, columns)

    missing_target = frame[target].isna().to_numpy()
    if missing_target.all():
        raise InvalidInput(f"The target column {target} has no values.", hint="Pick a column with labels.")
    if missing_target.any():
        count = int(missing_target.sum())
        found.append(
            ModelWarning(
                "missing_target_dropped",
                f"Dropped {count:,} row(s) without a value in the target column {target}.",
            )
        )
        frame = frame.loc[~missing_target]
    y = _target_values(frame[target], target)

    plan = plan_columns(frame, candidates, explicit=spec.features is not None)
    found.extend(plan.warnings)
    if not plan.features:
        reasons = (
            "; ".join(f"{e['column']}: {e['reason']}" for e in plan.excluded)
            or "no columns besides the target"
        )
        raise InvalidInput(
            f"No usable feature columns are left ({reasons}).",
            hint="Choose feature columns with varying numeric or categorical values.",
        )
    x = coerce_features(frame, plan.features).reset_index(drop=True)
    if spec.dedupe:
        x, y = _dedupe(x, y, found)
    _check_classes(y, target)
    return PreparedData(x, y, plan.features, plan.excluded, rows_total)


def check_size(data: PreparedData, spec: TrainSpec) -> None:
    """Refuse, before any fit, a training too big for memory or time (see ``MAX_TRAINING_VALUES``)."""
    rows, features = len(data.x), len(data.features)
    width = encoded_width(data.x, data.features)
    test_rows = min(math.ceil(rows * float(spec.test_size)), MIN_IMPORTANCE_ROWS)
    training_values = rows * width
    importance_values = features * 2 * test_rows * width
    if training_values > MAX_TRAINING_VALUES:
        why = f"the encoded rows alone would take about {training_values * 8 / 1e9:,.1f} GB of memory"
    elif importance_values > MAX_IMPORTANCE_VALUES:
        why = (
            f"measuring each feature's importance would predict about {importance_values / 1e6:,.0f} million "
            "values, which grows with the square of the number of features"
        )
    else:
        return
    raise InvalidInput(
        f"Training on {rows:,} rows x {features:,} feature columns ({width:,} model inputs once text "
        f"categories are one-hot encoded) is too big to train: {why}.",
        hint="Choose fewer feature columns (the Train panel's feature list, or --features), for example "
        "those that correlate with the target in Analyze.",
    )


def _resolve_column(name: str, columns: list[str], *, what: str) -> str:
    if name in columns:
        return name
    folded = [c for c in columns if c.lower() == str(name).lower()]
    if len(folded) == 1:
        return folded[0]
    close = difflib.get_close_matches(str(name), columns, n=3, cutoff=0.6)
    suggestion = f" Did you mean {', '.join(close)}?" if close else ""
    shown = ", ".join(columns[:30]) + (" …" if len(columns) > 30 else "")
    raise InvalidInput(
        f"{what} {name!r} is not in the table.{suggestion}", hint=f"Available columns: {shown}."
    )


def _candidates(spec: TrainSpec, target: str, columns: list[str]) -> list[str]:
    if spec.features is None:
        return [c for c in columns if c != target]
    if isinstance(spec.features, str):
        raise InvalidInput("Features must be a list of column names, not one string.")
    requested = list(dict.fromkeys(str(f) for f in spec.features))
    if not requested:
        raise InvalidInput(
            "The feature list is empty.", hint="Name at least one feature column, or leave it unset."
        )
    resolved, missing = [], []
    for name in requested:
        try:
            resolved.append(_resolve_column(name, columns, what="Feature column"))
        except InvalidInput:
            missing.append(name)
    if missing:
        raise InvalidInput(
            f"Feature column(s) not in the table: {', '.join(missing)}.",
            hint=f"Available columns: {', '.join(columns[:30])}.",
        )
    if target in resolved:
        raise InvalidInput(
            f"The target column {target} is also listed as a feature.",
            hint="Remove it from the features: a model cannot learn a label from itself.",
        )
    return list(dict.fromkeys(resolved))


def _target_values(series: pd.Series, target: str) -> np.ndarray:
    """Labels as a numpy array keeping their type: bool, int64, float64 (non-integer labels) or str."""
    dtype = series.dtype
    if ptypes.is_bool_dtype(dtype):
        return series.to_numpy(dtype=bool)
    if ptypes.is_object_dtype(dtype):
        inferred = ptypes.infer_dtype(series, skipna=True)
        if inferred == "boolean":
            return series.to_numpy(dtype=bool)
        if inferred in ("integer", "floating", "decimal", "mixed-integer-float"):
            return _numeric_target(pd.to_numeric(series).to_numpy(dtype="float64"), target)
        return np.array([str(v) for v in series], dtype=object)
    if ptypes.is_numeric_dtype(dtype):
        return _numeric_target(series.to_numpy(dtype="float64"), target)
    return np.array([str(v) for v in series], dtype=object)


def _numeric_target(values: np.ndarray, target: str) -> np.ndarray:
    distinct = np.unique(values)
    integral = bool(np.all(np.mod(distinct, 1) == 0))
    if (not integral and len(distinct) > _CONTINUOUS_DISTINCT) or len(distinct) > MAX_CLASSES:
        raise InvalidInput(
            f"The target column {target} looks continuous ({len(distinct):,} distinct numeric values); "
            "classification needs a column of class labels.",
            hint="Pick a label column with a few classes, or bin this column into classes first.",
        )
    return values.astype(np.int64) if integral else values


def _with_target(x: pd.DataFrame, y: np.ndarray) -> pd.DataFrame:
    """Features and target side by side under positional names (no feature name can collide)."""
    both = x.set_axis(range(x.shape[1]), axis=1)
    both[x.shape[1]] = y
    return both


def _dedupe(x: pd.DataFrame, y: np.ndarray, found: list[ModelWarning]) -> tuple[pd.DataFrame, np.ndarray]:
    duplicated = _with_target(x, y).duplicated().to_numpy()
    count = int(duplicated.sum())
    if count:
        found.append(
            ModelWarning(
                "duplicates_dropped",
                f"Dropped {count:,} duplicate row(s) (same features and target) before splitting.",
            )
        )
        x, y = x.loc[~duplicated].reset_index(drop=True), y[~duplicated]
    return x, y


def _label(value: Any) -> str:
    return repr(json_safe(value))


def _check_classes(y: np.ndarray, target: str) -> None:
    labels, counts = np.unique(y, return_counts=True)
    if len(labels) < 2:
        raise InvalidInput(
            f"The target column {target} has a single class ({_label(labels[0])}); a classifier needs two or more.",
            hint="Pick another target, or add rows of the other classes.",
        )
    if len(labels) > MAX_CLASSES:
        raise InvalidInput(
            f"The target column {target} has {len(labels):,} classes (at most {MAX_CLASSES} are supported).",
            hint="Pick a label column with fewer classes.",
        )
    rare = [(labels[i], int(counts[i])) for i in np.argsort(counts) if counts[i] < 2]
    if rare:
        listed = ", ".join(f"{_label(label)} has {count} row" for label, count in rare[:5])
        raise InvalidInput(
            f"Too few rows per class in {target} for a stratified test split: {listed}; each class needs "
            "at least 2.",
            hint="Remove the rare classes, or collect more rows of them.",
        )


def split_data(
    data: PreparedData, spec: TrainSpec
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray]:
    """The stratified (x_train, x_test, y_train, y_test) split of ``spec``; raises InvalidInput when the rows
    cannot give every class a place on both sides (or in every cross-validation fold)."""
    from sklearn.model_selection import train_test_split

    n = len(data.y)
    classes = len(np.unique(data.y))
    n_test = math.ceil(spec.test_size * n)
    if n_test < classes or n - n_test < classes:
        raise InvalidInput(
            f"{n:,} rows are too few for a test size of {spec.test_size:g} with {classes} classes: the test and "
            f"training parts need at least one row of each class.",
            hint="Use a test size nearer 0.2-0.3, or more rows.",
        )
    x_train, x_test, y_train, y_test = train_test_split(
        data.x, data.y, test_size=spec.test_size, random_state=spec.seed, stratify=data.y
    )
    if spec.cv_folds >= 2:
        labels, counts = np.unique(y_train, return_counts=True)
        rare = [(labels[i], int(counts[i])) for i in np.argsort(counts) if counts[i] < spec.cv_folds]
        if rare:
            listed = ", ".join(f"{_label(label)} has {count}" for label, count in rare[:5])
            raise InvalidInput(
                f"Too few training rows per class for {spec.cv_folds}-fold cross-validation: {listed} "
                f"(each class needs at least {spec.cv_folds}).",
                hint="Use fewer folds, or turn cross-validation off.",
            )
    return x_train, x_test, y_train, y_test


def _split_warnings(
    x_train: pd.DataFrame,
    x_test: pd.DataFrame,
    y_train: np.ndarray,
    y_test: np.ndarray,
    spec: TrainSpec,
    supports_weight: bool,
) -> list[ModelWarning]:
    found = []
    leaked = _duplicate_count(x_train, x_test, y_train, y_test)
    if leaked:
        share = 100.0 * leaked / len(y_test)
        found.append(
            ModelWarning(
                "duplicate_leakage",
                f"{leaked:,} test row(s) ({share:.1f} %) duplicate training rows (same features and target), so "
                "test metrics are optimistic. Retrain with duplicate rows dropped before splitting (the dedupe option).",
            )
        )
    labels, counts = np.unique(np.concatenate([y_train, y_test]), return_counts=True)
    if counts.min() < _IMBALANCE_RATIO * counts.max():
        rare = labels[counts.argmin()]
        advice = (
            " Consider class weighting (balanced)." if spec.class_weight is None and supports_weight else ""
        )
        found.append(
            ModelWarning(
                "class_imbalance",
                f"Classes are imbalanced: {_label(rare)} has {counts.min():,} rows against {counts.max():,} for the "
                f"most common class; judge the model by balanced accuracy and per-class recall.{advice}",
            )
        )
    found.extend(_leak_suspects(x_train, y_train))
    if len(y_test) < _SMALL_TEST:
        found.append(
            ModelWarning(
                "small_test_set",
                f"Only {len(y_test)} test rows: the test metrics are noisy; use more data or CV.",
            )
        )
    return found


def _leak_suspects(x: pd.DataFrame, y: np.ndarray) -> list[ModelWarning]:
    """Warn about low-cardinality columns that alone determine the target on the training rows: usually a
    copy or consequence of the label (known only after the fact), which makes the model useless later."""
    n = len(y)
    y_codes, labels = pd.factorize(y)
    if n < _LEAK_MIN_ROWS or np.bincount(y_codes).max() > _LEAK_MAX_BASELINE * n:
        return []
    suspects = []
    for column in x.columns:
        codes, groups = pd.factorize(x[column], use_na_sentinel=False)
        if len(groups) > _LEAK_MAX_DISTINCT or len(groups) > n / 5:
            continue
        table = np.zeros((len(groups), len(labels)), dtype=np.int64)
        np.add.at(table, (codes, y_codes), 1)
        purity = table.max(axis=1).sum() / n
        if purity >= _LEAK_PURITY:
            suspects.append(f"{column} ({100 * purity:.1f} %)")
    if not suspects:
        return []
    return [
        ModelWarning(
            "target_leak_suspected",
            f"Column(s) that alone determine the target on the training rows: {', '.join(suspects)}. If "
            "they are derived from the target or only known afterwards, remove them from the features.",
        )
    ]


def _duplicate_count(
    x_train: pd.DataFrame, x_test: pd.DataFrame, y_train: np.ndarray, y_test: np.ndarray
) -> int:
    train_hashes = pd.util.hash_pandas_object(_with_target(x_train, y_train), index=False).to_numpy()
    test_hashes = pd.util.hash_pandas_object(_with_target(x_test, y_test), index=False).to_numpy()
    return int(np.isin(test_hashes, train_hashes).sum())


def check_data_fits_params(method: str, params: dict[str, Any], y_train: np.ndarray, cv_folds: int) -> None:
    """Raise InvalidInput when the parameters need more training rows than there are (KNN's neighbours)."""
    if method != "knn":
        return
    smallest = len(y_train) * (cv_folds - 1) // cv_folds if cv_folds >= 2 else len(y_train)
    if params["n_neighbors"] > smallest:
        raise InvalidInput(
            f"K-Nearest Neighbours with n_neighbors={params['n_neighbors']} needs at least that many training "
            f"rows; there are {smallest:,}.",
            hint="Lower n_neighbors.",
        )


# --- fitting and evaluation ---------------------------------------------------------------------------


def make_pipeline(
    method: str,
    params: dict[str, Any],
    features: list[Feature],
    y_train: np.ndarray,
    *,
    class_weight: str | None,
    seed: int,
    probability: bool = True,
    threads: int = 1,
) -> Any:
    """An unfitted Pipeline: the preprocessor for ``features`` then the estimator."""
    from sklearn.pipeline import Pipeline

    smallest_class = int(np.unique(y_train, return_counts=True)[1].min())
    estimator = build_estimator(
        method,
        params,
        class_weight=class_weight,
        seed=seed,
        calibration_folds=smallest_class,
        probability=probability,
        threads=threads,
        rows=len(y_train),
    )
    return Pipeline([("preprocess", build_preprocessor(features)), ("model", estimator)])


@dataclass(frozen=True)
class _Fits:
    """The final fit and the cross-validation folds of one training: what every job needs."""

    method: str
    params: dict[str, Any]
    features: list[Feature]
    x: pd.DataFrame
    y: np.ndarray
    spec: TrainSpec

    def pipeline(self, y: np.ndarray, threads: int) -> Any:
        return make_pipeline(
            self.method,
            self.params,
            self.features,
            y,
            class_weight=self.spec.class_weight,
            seed=self.spec.seed,
            threads=threads,
        )


@dataclass
class _Fitted:
    pipeline: Any
    seconds: float
    cv: dict[str, Any] | None
    not_converged: bool


def fit_or_explain(pipeline: Any, x: pd.DataFrame, y: np.ndarray, method: str) -> None:
    """Fit ``pipeline``; raises EngineError naming the method when scikit-learn rejects the data."""
    try:
        pipeline.fit(x, y)
    except (ValueError, MemoryError) as exc:  # sklearn's way of saying the data does not suit the method
        log.exception("Fitting %s failed", method)
        raise EngineError(f"{get_method(method).label} could not be fitted on this data: {exc}") from exc


def _capped_rows_per_tree(pipeline: Any, rows: int) -> list[ModelWarning]:
    """Say so when the forest's trees saw a sample of the rows: the cap is a default users may not have chosen."""
    cap = getattr(pipeline.named_steps["model"], "max_samples", None)
    if not isinstance(cap, int) or cap >= rows:
        return []
    return [
        ModelWarning(
            "rows_per_tree_capped",
            f"Each tree was grown on a bootstrap of {cap:,} of the {rows:,} training rows (max_samples), which "
            "bounds the forest's time and size; set max_samples=0 to draw as many rows as there are.",
        )
    ]


_FINAL = "final"  # the final fit's name among the jobs (the folds are numbered)


def _fit_and_cross_validate(fits: _Fits, task: TaskContext) -> _Fitted:
    """The final fit on all training rows and, when asked, the cross-validation folds (accuracy of a fresh
    pipeline per fold, preprocessing fitted on the fold's training rows only). With ``cv_threads`` above 1 the
    fits run that many at once, each on one thread; otherwise one after the other with ``threads`` each."""
    from threadpoolctl import threadpool_limits

    from snowml_desktop.core.concurrent_fits import convergence_warnings, run_concurrently

    spec = fits.spec
    splits = _cv_splits(fits.x, fits.y, spec)
    concurrent = spec.cv_threads > 1 and bool(splits)
    threads = 1 if concurrent else spec.threads
    jobs = [partial(_final_fit, threads)]
    jobs += [partial(_fold_accuracy, i, split, threads) for i, split in enumerate(splits)]
    results: list[Any] = [None] * len(jobs)
    limits = threadpool_limits(limits=1) if concurrent else contextlib.nullcontext()
    with limits, convergence_warnings() as warned:
        for done, (index, future) in enumerate(
            run_concurrently(
                jobs,
                fits,
                spec.cv_threads,
                task,
                threads_per_job=threads,
                processes=spec.cv_processes if concurrent else None,
                names=_fit_names(get_method(fits.method).label, len(splits)),
            ),
            start=1,
        ):
            results[index] = future.result()
            folds_done = sum(r is not None for r in results[1:])
            text = (
                f"Cross-validating: {folds_done} of {len(splits)} folds done"
                if index
                else f"Fitted {get_method(fits.method).label}"
            )
            task.report(done / len(jobs), text)
    pipeline, seconds = results[0]
    scores = results[1:]
    cv = None
    if scores:
        cv = {
            "folds": spec.cv_folds,
            "metric": "accuracy",
            "mean": float(np.mean(scores)),
            "std": float(np.std(scores)),
            "scores": scores,
        }
    return _Fitted(pipeline, seconds, cv, _FINAL in warned)


def _fit_names(label: str, folds: int) -> list[str]:
    """What each job of :func:`_fit_and_cross_validate` fits, for messages."""
    return [f"the final {label} fit"] + [f"{label} cross-validation fold {i} of {folds}" for i in range(1, folds + 1)]


def _cv_splits(x: pd.DataFrame, y: np.ndarray, spec: TrainSpec) -> list[tuple[np.ndarray, np.ndarray]]:
    if spec.cv_folds < 2:
        return []
    from sklearn.model_selection import StratifiedKFold

    return list(StratifiedKFold(n_splits=spec.cv_folds, shuffle=True, random_state=spec.seed).split(x, y))


def _final_fit(threads: int, fits: _Fits) -> tuple[Any, float]:
    from snowml_desktop.core.concurrent_fits import name_this_fit

    name_this_fit(_FINAL)
    pipeline = fits.pipeline(fits.y, threads)
    started = time.perf_counter()
    fit_or_explain(pipeline, fits.x, fits.y, fits.method)
    seconds = time.perf_counter() - started
    model = pipeline.named_steps["model"]
    if model.get_params().get("n_jobs") not in (None, 1):  # scoring runs one process per core instead
        model.set_params(n_jobs=1)
    return pipeline, seconds


def _fold_accuracy(fold: int, split: tuple[np.ndarray, np.ndarray], threads: int, fits: _Fits) -> float:
    from snowml_desktop.core.concurrent_fits import name_this_fit

    name_this_fit(fold)  # its convergence is reported once, for the final fit
    train_index, test_index = split
    pipeline = fits.pipeline(fits.y[train_index], threads)
    fit_or_explain(pipeline, fits.x.iloc[train_index], fits.y[train_index], fits.method)
    labels, _ = predict_with_proba(pipeline, fits.x.iloc[test_index])
    return float(np.mean(labels == fits.y[test_index]))


def _evaluate(pipeline: Any, x_test: pd.DataFrame, y_test: np.ndarray, seed: int) -> dict[str, Any]:
    model_classes = list(np.asarray(pipeline.classes_))
    proba = np.asarray(pipeline.predict_proba(x_test), dtype=np.float64)
    labels = np.asarray(pipeline.classes_)[proba.argmax(axis=1)]  # as scoring.predict labels rows
    matrix = confusion(model_classes, y_test, labels)
    metrics, per_class = metrics_from_confusion(model_classes, matrix)
    probability, curves = probability_metrics(model_classes, y_test, proba)
    metrics.update(probability)
    kept = kept_scores(model_classes, y_test, proba, seed=seed)
    if kept is not None:  # the Threshold view's data: binary models only
        curves["scores"] = json_safe(kept)
    return {
        "classes": [json_safe(c) for c in model_classes],
        "metrics": metrics,
        "per_class": per_class,
        "confusion_matrix": matrix,
        "curves": curves,
    }

"""The classification methods users pick from, their parameters, and how each becomes an estimator.

Every method has a :class:`MethodSpec` in :data:`METHODS`: a key (``random_forest``), a label for the GUI,
one line of description, its parameters (:class:`ParamSpec`, with defaults, ranges and help text) and
the model-name prefix (``RANDOM_FOREST``). The GUI builds its forms from these specs, the CLI parses
``--param NAME=VALUE`` with :func:`coerce_params`, and training turns a method plus parameters into a
scikit-learn estimator with :func:`build_estimator`.

Class weighting ("balanced") is supported by logistic regression, random forest, decision tree, SVC and
gradient boosting. Gaussian NB and KNN have no class weights; asking for them raises InvalidInput (rather
than silently re-weighting with sample weights that permutation importance and CV would not see).

Integer parameters documented as "0 = no limit" (``max_depth``) also accept ``none``.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any

from snowml_desktop.core.errors import InvalidInput

CLASS_WEIGHTS = ("balanced",)


@dataclass(frozen=True)
class ParamSpec:
    """One method parameter. ``kind`` is "int", "float", "choice" or "bool"; ``low``/``high`` bound numbers
    (inclusive); ``log`` says the range is best explored on a log scale (GUI sliders, the Auto search)."""

    name: str
    kind: str
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple = ()
    log: bool = False


@dataclass(frozen=True)
class MethodSpec:
    """A classification method as users see it."""

    key: str
    label: str
    description: str
    params: tuple[ParamSpec, ...]
    supports_class_weight: bool
    prefix: str

    def param(self, name: str) -> ParamSpec:
        for spec in self.params:
            if spec.name == name:
                return spec
        raise KeyError(name)


_MAX_DEPTH_HELP = "Maximum depth of each tree; 0 (or none) = no limit. Lower values reduce over-fitting."
#: Random forest's default cap on the rows drawn per tree. Unlimited, a 100-tree forest on 640,000 rows took about
#: 180 CPU-seconds per fit and 28M nodes (~2 GB); capped at 30,000, 11 CPU-seconds and 1.9M nodes, with a held-out
#: ROC AUC as good (figures in docs/benchmarks.md, "Cross-validation at scale").
FOREST_MAX_SAMPLES = 30_000

METHODS: dict[str, MethodSpec] = {
    spec.key: spec
    for spec in (
        MethodSpec(
            key="logistic_regression",
            label="Logistic Regression",
            description="Linear model of the class probabilities; fast, interpretable, a strong baseline.",
            params=(
                ParamSpec(
                    "C",
                    "float",
                    1.0,
                    "Inverse regularization strength; smaller = simpler model.",
                    1e-4,
                    1e4,
                    log=True,
                ),
                ParamSpec("max_iter", "int", 1000, "Maximum solver iterations.", 10, 100_000, log=True),
            ),
            supports_class_weight=True,
            prefix="LOGISTIC_REGRESSION",
        ),
        MethodSpec(
            key="gaussian_nb",
            label="Gaussian Naive Bayes",
            description="Assumes independent, normally distributed features; very fast, needs little data.",
            params=(
                ParamSpec(
                    "var_smoothing",
                    "float",
                    1e-9,
                    "Share of the largest feature variance added to all variances for stability.",
                    1e-12,
                    1.0,
                    log=True,
                ),
            ),
            supports_class_weight=False,
            prefix="GAUSSIAN_NB",
        ),
        MethodSpec(
            key="random_forest",
            label="Random Forest",
            description="Many decision trees on random subsets, voting; robust default for tabular data.",
            params=(
                ParamSpec(
                    "n_estimators",
                    "int",
                    100,
                    "Number of trees; more = steadier but slower.",
                    1,
                    5000,
                    log=True,
                ),
                ParamSpec("max_depth", "int", 0, _MAX_DEPTH_HELP, 0, 1000),
                ParamSpec(
                    "min_samples_leaf",
                    "int",
                    1,
                    "Minimum rows in a leaf; higher = smoother model.",
                    1,
                    10_000,
                    log=True,
                ),
                ParamSpec(
                    "max_features",
                    "choice",
                    "sqrt",
                    "Features considered at each split: sqrt or log2 of the count, or all.",
                    choices=("sqrt", "log2", "all"),
                ),
                ParamSpec(
                    "max_samples",
                    "int",
                    FOREST_MAX_SAMPLES,
                    f"Rows drawn (with replacement) to grow each tree; 0 = no limit (as many as the training "
                    f"rows). Tables of up to {FOREST_MAX_SAMPLES:,} training rows are unaffected; on larger ones "
                    "it bounds the time and size of the forest.",
                    0,
                    100_000_000,
                    log=True,
                ),
            ),
            supports_class_weight=True,
            prefix="RANDOM_FOREST",
        ),
        MethodSpec(
            key="decision_tree",
            label="Decision Tree",
            description="One tree of if/else rules; easy to explain, prone to over-fitting when deep.",
            # Depth 8 and 5 rows per leaf: an unlimited tree memorizes noise (churn ROC AUC 0.64 vs 0.75).
            params=(
                ParamSpec("max_depth", "int", 8, _MAX_DEPTH_HELP, 0, 1000),
                ParamSpec(
                    "min_samples_leaf",
                    "int",
                    5,
                    "Minimum rows in a leaf; higher = smoother model.",
                    1,
                    10_000,
                    log=True,
                ),
                ParamSpec(
                    "criterion",
                    "choice",
                    "gini",
                    "Split quality measure.",
                    choices=("gini", "entropy", "log_loss"),
                ),
            ),
            supports_class_weight=True,
            prefix="DECISION_TREE",
        ),
        MethodSpec(
            key="svc",
            label="Support Vector Classifier",
            description="Maximum-margin classifier with kernels; strong on small data, slow beyond ~20k rows.",
            params=(
                ParamSpec(
                    "C",
                    "float",
                    1.0,
                    "Penalty for misclassified rows; larger = tighter fit.",
                    1e-4,
                    1e4,
                    log=True,
                ),
                ParamSpec(
                    "kernel",
                    "choice",
                    "rbf",
                    "Kernel function.",
                    choices=("rbf", "linear", "poly", "sigmoid"),
                ),
                ParamSpec(
                    "gamma",
                    "choice",
                    "scale",
                    "Kernel coefficient for rbf/poly/sigmoid.",
                    choices=("scale", "auto"),
                ),
            ),
            supports_class_weight=True,
            prefix="SVC",
        ),
        MethodSpec(
            key="knn",
            label="K-Nearest Neighbours",
            description="Predicts the majority class of the closest training rows; no training, slow scoring.",
            params=(
                ParamSpec("n_neighbors", "int", 5, "Number of neighbours that vote.", 1, 1000, log=True),
                ParamSpec(
                    "weights",
                    "choice",
                    "uniform",
                    "uniform: equal votes; distance: closer rows count more.",
                    choices=("uniform", "distance"),
                ),
            ),
            supports_class_weight=False,
            prefix="KNN",
        ),
        MethodSpec(
            key="gradient_boosting",
            label="Gradient Boosting",
            description="Histogram gradient-boosted trees; usually the most accurate on tabular data.",
            params=(
                ParamSpec(
                    "learning_rate",
                    "float",
                    0.1,
                    "Shrinkage of each tree's contribution.",
                    1e-3,
                    1.0,
                    log=True,
                ),
                ParamSpec("max_iter", "int", 100, "Number of boosting rounds.", 1, 10_000, log=True),
                ParamSpec("max_leaf_nodes", "int", 31, "Maximum leaves per tree.", 2, 4096, log=True),
                ParamSpec("max_depth", "int", 0, _MAX_DEPTH_HELP, 0, 1000),
                ParamSpec("l2_regularization", "float", 0.0, "L2 penalty on leaf values.", 0.0, 1000.0),
            ),
            supports_class_weight=True,
            prefix="GRADIENT_BOOSTING",
        ),
        MethodSpec(
            key="auto",
            label="Auto",
            description="Searches the methods above and their main settings (Optuna, cross-validated).",
            params=(
                ParamSpec("trials", "int", 20, "Number of candidate models to try.", 1, 1000),
                ParamSpec(
                    "timeout_seconds",
                    "float",
                    60.0,
                    "Stop starting new trials after this many seconds.",
                    1.0,
                    86_400.0,
                ),
                ParamSpec(
                    "search_folds", "int", 3, "Cross-validation folds used to score each trial.", 2, 10
                ),
                ParamSpec(
                    "metric",
                    "choice",
                    "balanced_accuracy",
                    "Score the search maximizes.",
                    choices=("balanced_accuracy", "accuracy", "f1_macro", "roc_auc"),
                ),
                ParamSpec(
                    "max_rows",
                    "int",
                    5000,
                    "Training rows sampled (stratified) for the search; the winner is refit on all rows.",
                    100,
                    10_000_000,
                    log=True,
                ),
            ),
            supports_class_weight=True,
            prefix="AUTO",
        ),
    )
}

_ALIASES = {
    "lr": "logistic_regression",
    "logistic": "logistic_regression",
    "logreg": "logistic_regression",
    "nb": "gaussian_nb",
    "naive_bayes": "gaussian_nb",
    "rf": "random_forest",
    "dt": "decision_tree",
    "tree": "decision_tree",
    "svm": "svc",
    "k_nearest_neighbors": "knn",
    "gb": "gradient_boosting",
    "hgb": "gradient_boosting",
    "hist_gradient_boosting": "gradient_boosting",
    "optuna": "auto",
}


def _norm(text: str) -> str:
    return "_".join(text.strip().lower().replace("-", " ").replace("_", " ").split())


def _lookup() -> dict[str, str]:
    table = dict(_ALIASES)
    for spec in METHODS.values():
        for name in (spec.key, spec.label, spec.prefix):
            table[_norm(name)] = spec.key
    return table


_LOOKUP = _lookup()


def get_method(name: str) -> MethodSpec:
    """The method named by its key, label, model prefix or short alias, case-insensitively.

    Raises InvalidInput listing the valid names.
    """
    key = _LOOKUP.get(_norm(str(name)))
    if key is None:
        close = difflib.get_close_matches(_norm(str(name)), list(_LOOKUP), n=1)
        hint = f" Did you mean {_LOOKUP[close[0]]}?" if close else ""
        raise InvalidInput(
            f"Unknown method {name!r}.{hint}",
            hint=f"Valid methods: {', '.join(METHODS)} (aliases: {', '.join(sorted(_ALIASES))}).",
        )
    return METHODS[key]


def coerce_params(method: str, params: dict[str, Any]) -> dict[str, Any]:
    """Validate ``params`` for ``method`` and return them typed, merged over the method's defaults.

    Values may be strings as typed on the command line ("100", "true", "balanced"). Names match
    case-insensitively ("-" counts as "_"). Raises InvalidInput for an unknown method or parameter (listing
    the valid ones), a value of the wrong type, or one out of range.
    """
    spec = get_method(method)
    by_name = {p.name.lower(): p for p in spec.params}
    values = {p.name: p.default for p in spec.params}
    for raw_name, raw_value in (params or {}).items():
        param = by_name.get(str(raw_name).strip().lower().replace("-", "_"))
        if param is None:
            valid = ", ".join(p.name for p in spec.params) or "none"
            raise InvalidInput(
                f"Unknown parameter {raw_name!r} for {spec.label}.", hint=f"Valid parameters: {valid}."
            )
        values[param.name] = _coerce_value(spec, param, raw_value)
    return values


def _coerce_value(method: MethodSpec, param: ParamSpec, raw: Any) -> Any:
    where = f"Parameter {param.name} of {method.label}"
    if param.kind == "bool":
        return _coerce_bool(where, raw)
    if param.kind == "choice":
        text = str(raw).strip().lower()
        for choice in param.choices:
            if str(choice).lower() == text:
                return choice
        raise InvalidInput(f"{where} must be one of {', '.join(map(str, param.choices))}; got {raw!r}.")
    value = _coerce_number(where, param, raw)
    if (param.low is not None and value < param.low) or (param.high is not None and value > param.high):
        raise InvalidInput(f"{where} must be between {param.low:g} and {param.high:g}; got {value:g}.")
    return value


def _coerce_bool(where: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise InvalidInput(f"{where} must be true or false; got {raw!r}.")


def _coerce_number(where: str, param: ParamSpec, raw: Any) -> int | float:
    if isinstance(raw, bool):
        raise InvalidInput(f"{where} must be a number; got {raw!r}.")
    if raw is None or (isinstance(raw, str) and raw.strip().lower() in ("none", "null")):
        if param.kind == "int" and param.low == 0:  # "0 = no limit" parameters
            return 0
        raise InvalidInput(f"{where} needs a value.")
    try:
        value = float(raw.strip()) if isinstance(raw, str) else float(raw)
    except (TypeError, ValueError):
        raise InvalidInput(f"{where} must be a number; got {raw!r}.") from None
    if not math.isfinite(value):
        raise InvalidInput(f"{where} must be a finite number; got {raw!r}.")
    if param.kind == "int":
        if not value.is_integer():
            raise InvalidInput(f"{where} must be a whole number; got {raw!r}.")
        return int(value)
    return value


def check_class_weight(method: str, class_weight: str | None) -> None:
    """Raise InvalidInput when ``class_weight`` is unknown or the method cannot use it."""
    if class_weight is None:
        return
    if class_weight not in CLASS_WEIGHTS:
        raise InvalidInput(
            f"Unknown class weighting {class_weight!r}.", hint="Use 'balanced', or leave it unset."
        )
    spec = get_method(method)
    if not spec.supports_class_weight:
        able = ", ".join(s.label for s in METHODS.values() if s.supports_class_weight and s.key != "auto")
        raise InvalidInput(
            f"{spec.label} does not support class weighting.",
            hint=f"Turn class weighting off, or pick a method that supports it: {able}.",
        )


def _none_if_zero(value: int) -> int | None:
    return None if value == 0 else value


def _rows_per_tree(cap: int, rows: int | None) -> int | None:
    """scikit-learn's ``max_samples``: None (a bootstrap of every row, as without a cap) unless the cap is below
    the training rows (scikit-learn refuses a cap above them)."""
    return cap if cap and rows is not None and cap < rows else None


def build_estimator(
    method: str,
    params: dict[str, Any],
    *,
    class_weight: str | None = None,
    seed: int = 42,
    calibration_folds: int = 3,
    probability: bool = True,
    threads: int = 1,
    rows: int | None = None,
) -> Any:
    """An unfitted scikit-learn classifier for a concrete method with coerced ``params``.

    ``calibration_folds`` bounds the folds (at most 3) SVC uses to calibrate its probabilities; it must not
    exceed the smallest class count. ``probability=False`` builds SVC without probability calibration (for searches
    that score on predictions alone). ``threads`` sets the random forest's parallel tree building. ``rows`` is the
    number of training rows: the random forest's ``max_samples`` applies only when it is below that.
    Raises InvalidInput for "auto" or an unsupported class weighting.
    """
    spec = get_method(method)
    check_class_weight(spec.key, class_weight)
    p = coerce_params(spec.key, params)
    if spec.key == "logistic_regression":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=p["C"], max_iter=p["max_iter"], class_weight=class_weight)
    if spec.key == "gaussian_nb":
        from sklearn.naive_bayes import GaussianNB

        return GaussianNB(var_smoothing=p["var_smoothing"])
    if spec.key == "random_forest":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(
            n_estimators=p["n_estimators"],
            max_depth=_none_if_zero(p["max_depth"]),
            min_samples_leaf=p["min_samples_leaf"],
            max_features=None if p["max_features"] == "all" else p["max_features"],
            max_samples=_rows_per_tree(p["max_samples"], rows),
            class_weight=class_weight,
            random_state=seed,
            n_jobs=threads,
        )
    if spec.key == "decision_tree":
        from sklearn.tree import DecisionTreeClassifier

        return DecisionTreeClassifier(
            max_depth=_none_if_zero(p["max_depth"]),
            min_samples_leaf=p["min_samples_leaf"],
            criterion=p["criterion"],
            class_weight=class_weight,
            random_state=seed,
        )
    if spec.key == "svc":
        return _build_svc(p, class_weight, seed, calibration_folds, probability)
    if spec.key == "knn":
        from sklearn.neighbors import KNeighborsClassifier

        return KNeighborsClassifier(n_neighbors=p["n_neighbors"], weights=p["weights"])
    if spec.key == "gradient_boosting":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(
            learning_rate=p["learning_rate"],
            max_iter=p["max_iter"],
            max_leaf_nodes=p["max_leaf_nodes"],
            max_depth=_none_if_zero(p["max_depth"]),
            l2_regularization=p["l2_regularization"],
            class_weight=class_weight,
            random_state=seed,
        )
    raise InvalidInput("Auto is a search over methods, not an estimator; train it through train_model.")


def _build_svc(p: dict[str, Any], class_weight: str | None, seed: int, folds: int, probability: bool) -> Any:
    from sklearn.svm import SVC

    svc = SVC(C=p["C"], kernel=p["kernel"], gamma=p["gamma"], class_weight=class_weight, random_state=seed)
    if not probability:
        return svc
    # SVC(probability=True) is deprecated since scikit-learn 1.9; Platt scaling through a calibrator with
    # ensemble=False is the same model (one SVC on all rows plus a sigmoid fitted on out-of-fold scores).
    from sklearn.calibration import CalibratedClassifierCV

    return CalibratedClassifierCV(svc, method="sigmoid", cv=max(2, min(3, folds)), ensemble=False)

"""Method catalogue: lookup by any name, parameter coercion from CLI strings, estimator construction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV

from snowml_desktop.core.errors import InvalidInput
from snowml_desktop.core.methods import (
    FOREST_MAX_SAMPLES,
    METHODS,
    build_estimator,
    check_class_weight,
    coerce_params,
    get_method,
)

CONCRETE = [key for key in METHODS if key != "auto"]


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("random_forest", "random_forest"),
        ("Random Forest", "random_forest"),
        ("RANDOM_FOREST", "random_forest"),
        ("rf", "random_forest"),
        ("LR", "logistic_regression"),
        ("nb", "gaussian_nb"),
        ("dt", "decision_tree"),
        ("svm", "svc"),
        ("KNN", "knn"),
        ("K-Nearest Neighbours", "knn"),
        ("gb", "gradient_boosting"),
        ("hgb", "gradient_boosting"),
        ("Auto", "auto"),
    ],
)
def test_get_method_accepts_keys_labels_prefixes_and_aliases(name: str, key: str) -> None:
    assert get_method(name).key == key


def test_unknown_method_lists_valid_names() -> None:
    with pytest.raises(InvalidInput) as raised:
        get_method("random_forrest")
    text = str(raised.value)
    assert "random_forrest" in text and "random_forest" in text and "gradient_boosting" in text


def test_every_method_is_documented() -> None:
    assert set(CONCRETE) == {
        "logistic_regression",
        "gaussian_nb",
        "random_forest",
        "decision_tree",
        "svc",
        "knn",
        "gradient_boosting",
    }
    for spec in METHODS.values():
        assert spec.label and spec.description and "\n" not in spec.description
        assert spec.prefix == spec.prefix.upper()
        for param in spec.params:
            assert param.help, f"{spec.key}.{param.name} lacks help"
            assert param.kind in ("int", "float", "choice", "bool")
            assert coerce_params(spec.key, {param.name: param.default})[param.name] == param.default


def test_forest_rows_per_tree_are_capped_only_above_the_cap() -> None:
    assert FOREST_MAX_SAMPLES == 30_000
    assert build_estimator("rf", {}, rows=1_000_000).max_samples == FOREST_MAX_SAMPLES
    assert build_estimator("rf", {}, rows=FOREST_MAX_SAMPLES).max_samples is None  # a bootstrap of every row
    assert build_estimator("rf", {"max_samples": 0}, rows=1_000_000).max_samples is None  # 0 = no limit
    assert build_estimator("rf", {"max_samples": "5000"}, rows=6000).max_samples == 5000
    assert build_estimator("rf", {}).max_samples is None  # rows unknown: scikit-learn's default


def test_a_forest_below_the_cap_is_the_forest_without_one(iris: pd.DataFrame) -> None:
    x, y = iris.drop(columns="target").to_numpy(), iris["target"].to_numpy()
    capped = build_estimator("rf", {"n_estimators": 5}, rows=len(y)).fit(x, y)
    unlimited = build_estimator("rf", {"n_estimators": 5, "max_samples": 0}, rows=len(y)).fit(x, y)
    assert np.array_equal(capped.predict_proba(x), unlimited.predict_proba(x))
    smaller = build_estimator("rf", {"n_estimators": 5, "max_samples": 20}, rows=len(y)).fit(x, y)
    assert max(tree.tree_.n_node_samples[0] for tree in smaller.estimators_) <= 20  # rows that grew each tree


def test_coerce_params_types_cli_strings_and_merges_defaults() -> None:
    params = coerce_params("rf", {"n_estimators": "250", "MAX-DEPTH": "none", "max_features": "LOG2"})
    assert params == {
        "n_estimators": 250,
        "max_depth": 0,
        "min_samples_leaf": 1,
        "max_features": "log2",
        "max_samples": FOREST_MAX_SAMPLES,
    }
    assert isinstance(params["n_estimators"], int)
    assert coerce_params("logistic_regression", {"C": "0.5"})["C"] == 0.5
    assert coerce_params("gb", {"max_iter": 50.0})["max_iter"] == 50


@pytest.mark.parametrize(
    ("method", "params", "fragment"),
    [
        ("rf", {"trees": "10"}, "n_estimators"),  # unknown name: lists the valid ones
        ("rf", {"n_estimators": "ten"}, "must be a number"),
        ("rf", {"n_estimators": "2.5"}, "whole number"),
        ("rf", {"n_estimators": "0"}, "between 1"),
        ("rf", {"n_estimators": True}, "must be a number"),
        ("rf", {"max_features": "half"}, "one of sqrt, log2, all"),
        ("logistic_regression", {"C": "-1"}, "between"),
        ("logistic_regression", {"C": "nan"}, "finite"),
        ("auto", {"trials": "0"}, "between 1"),
    ],
)
def test_coerce_params_rejects_bad_values(method: str, params: dict, fragment: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        coerce_params(method, params)
    assert fragment in str(raised.value)


@pytest.mark.parametrize("method", CONCRETE)
def test_build_estimator_uses_params_and_class_weight(method: str) -> None:
    spec = get_method(method)
    weight = "balanced" if spec.supports_class_weight else None
    estimator = build_estimator(method, {}, class_weight=weight, seed=7)
    assert hasattr(estimator, "fit") and hasattr(estimator, "predict_proba")
    if weight:
        # SVC sits inside its probability calibrator
        inner = estimator.estimator if isinstance(estimator, CalibratedClassifierCV) else estimator
        assert inner.get_params()["class_weight"] == "balanced"


def test_class_weight_refused_where_unsupported() -> None:
    for method in ("gaussian_nb", "knn"):
        with pytest.raises(InvalidInput, match="does not support class weighting"):
            check_class_weight(method, "balanced")
    with pytest.raises(InvalidInput, match="Unknown class weighting"):
        check_class_weight("rf", "heavy")
    check_class_weight("gradient_boosting", "balanced")


def test_auto_is_not_an_estimator() -> None:
    with pytest.raises(InvalidInput, match="Auto"):
        build_estimator("auto", {})


def test_zero_depth_means_unlimited() -> None:
    assert build_estimator("dt", {"max_depth": 0}).max_depth is None
    assert build_estimator("dt", {"max_depth": "4"}).max_depth == 4

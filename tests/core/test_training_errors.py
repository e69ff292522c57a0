"""Every unusable request is a clear InvalidInput naming what is wrong."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from snowml_desktop.core.errors import InvalidInput
from snowml_desktop.core.training import TrainSpec, train_model


def _error(frame: pd.DataFrame, spec: TrainSpec) -> str:
    with pytest.raises(InvalidInput) as raised:
        train_model(frame, spec)
    return str(raised.value)


def test_empty_frame() -> None:
    assert "empty" in _error(pd.DataFrame({"a": [], "y": []}), TrainSpec(target="y"))
    assert "empty" in _error(pd.DataFrame(), TrainSpec(target="y"))


def test_missing_target_names_columns_and_close_matches(iris: pd.DataFrame) -> None:
    text = _error(iris, TrainSpec(target="targt"))
    assert "targt" in text and "Did you mean target" in text and "sepal length (cm)" in text


def test_target_among_features(iris: pd.DataFrame) -> None:
    text = _error(iris, TrainSpec(target="target", features=["petal width (cm)", "target"]))
    assert "target" in text and "also listed as a feature" in text


def test_unknown_features_are_named(iris: pd.DataFrame) -> None:
    text = _error(iris, TrainSpec(target="target", features=["petal width (cm)", "colour", "size"]))
    assert "colour, size" in text


def test_continuous_target(breast_cancer: pd.DataFrame) -> None:
    text = _error(breast_cancer, TrainSpec(target="mean radius"))
    assert "looks continuous" in text and "mean radius" in text


def test_single_class(iris: pd.DataFrame) -> None:
    text = _error(iris[iris["target"] == 1], TrainSpec(target="target"))
    assert "single class" in text and "1" in text


def test_all_missing_target(iris: pd.DataFrame) -> None:
    assert "no values" in _error(iris.assign(target=np.nan), TrainSpec(target="target"))


def test_too_few_rows_per_class_names_the_class(iris: pd.DataFrame) -> None:
    frame = pd.concat([iris[iris["target"] < 2], iris[iris["target"] == 2].head(1)])
    text = _error(frame, TrainSpec(target="target"))
    assert "2 has 1 row" in text and "at least 2" in text


def test_too_few_rows_for_cv_folds_names_the_class(iris: pd.DataFrame) -> None:
    frame = pd.concat([iris[iris["target"] < 2], iris[iris["target"] == 2].head(6)])
    text = _error(frame, TrainSpec(target="target", cv_folds=10))
    assert "10-fold" in text and "2 has" in text


def test_test_split_too_small_for_the_classes(iris: pd.DataFrame) -> None:
    assert "too few for a test size" in _error(iris.head(100), TrainSpec(target="target", test_size=0.01))


def test_no_usable_features_explains_each_column() -> None:
    frame = pd.DataFrame({"ID": [f"r{i}" for i in range(40)], "C": 1, "E": np.nan, "Y": ["a", "b"] * 20})
    text = _error(frame, TrainSpec(target="Y"))
    assert "No usable feature" in text and "ID" in text and "C:" in text and "E:" in text


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        (TrainSpec(target="target", test_size=0), "Test size"),
        (TrainSpec(target="target", test_size=1.5), "Test size"),
        (TrainSpec(target="target", cv_folds=1), "Cross-validation folds"),
        (TrainSpec(target="target", cv_folds=50), "Cross-validation folds"),
        (TrainSpec(target="target", seed=-1), "Seed"),
        (TrainSpec(target="target", threads=0), "Threads"),
        (
            TrainSpec(target="target", method="knn", class_weight="balanced"),
            "does not support class weighting",
        ),
        (
            TrainSpec(target="target", method="nb", class_weight="balanced"),
            "does not support class weighting",
        ),
        (TrainSpec(target="target", class_weight="heavy"), "Unknown class weighting"),
        (TrainSpec(target="target", method="boost"), "Unknown method"),
        (TrainSpec(target="target", params={"trees": 3}), "Unknown parameter"),
        (TrainSpec(target="target", method="knn", params={"n_neighbors": 500}), "n_neighbors=500"),
    ],
)
def test_bad_options(iris: pd.DataFrame, spec: TrainSpec, fragment: str) -> None:
    assert fragment in _error(iris, spec)


def test_duplicate_column_names(iris: pd.DataFrame) -> None:
    frame = iris.set_axis(["a", "a", "b", "c", "target"], axis=1)
    assert "duplicate column names: a" in _error(frame, TrainSpec(target="target"))


def _wide(columns: int, rows: int = 50, text: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(rows, columns)), columns=[f"c{j}" for j in range(columns)])
    for j in range(text):  # 12 categories each
        frame[f"t{j}"] = [f"v{i % 12}" for i in range(rows)]
    frame["y"] = np.where(np.arange(rows) % 2 == 0, "a", "b")
    return frame


def test_too_wide_for_feature_importance_is_refused_before_fitting(monkeypatch) -> None:
    from snowml_desktop.core import training

    # Width 300 x 300 x 2 repeats x 10 test rows = 1.8 million predicted values; the limit scaled down to
    # keep the test quick (the real one stops 10,000 columns x 50 rows, which ran >8 min and took 12.8 GB).
    monkeypatch.setattr(training, "MAX_IMPORTANCE_VALUES", 1_000_000, raising=False)
    fitted = []
    monkeypatch.setattr(training, "fit_or_explain", lambda *a, **k: fitted.append(1), raising=True)
    text = _error(_wide(300), TrainSpec(target="y", method="logistic_regression"))
    assert "50 rows x 300 feature columns (300 model inputs" in text
    assert "feature's importance" in text and "Choose fewer feature columns" in text
    assert not fitted


def test_one_hot_categories_count_towards_the_memory_guard(monkeypatch) -> None:
    from snowml_desktop.core import training

    monkeypatch.setattr(training, "MAX_TRAINING_VALUES", 50 * 30, raising=False)
    text = _error(_wide(2, text=3), TrainSpec(target="y", method="logistic_regression"))
    # 2 numeric inputs + 3 text columns x 12 categories.
    assert "(38 model inputs once text categories are one-hot encoded)" in text and "GB of memory" in text
    assert "Choose fewer feature columns" in text
    # Under the limits, the same frame trains.
    monkeypatch.setattr(training, "MAX_TRAINING_VALUES", 50 * 38)
    assert (
        training.train_model(_wide(2, text=3), TrainSpec(target="y", method="logistic_regression")).rows_total
        == 50
    )

"""Column plans: ID-like, constant, all-missing, high-cardinality and unsupported columns are left out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from snowml_desktop.core.preprocessing import (
    MAX_CATEGORIES,
    build_preprocessor,
    coerce_features,
    plan_columns,
)
from snowml_desktop.core.training import TrainSpec, train_model


def _frame(rows: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "ID": np.arange(1, rows + 1),
            "ACCOUNT_KEY": rng.permutation(10**6)[:rows] + 10**6,  # unique, sparse, named like a key
            "AMOUNT_CENTS": rng.permutation(10**6)[:rows],  # unique but not ID-like: a measurement
            "UUID_TEXT": [f"u-{i}" for i in range(rows)],
            "FLAT": 5,
            "BLANK": np.nan,
            "CITY": [f"city{i % 150}" for i in range(rows)],
            "WHEN": pd.date_range("2024-01-01", periods=rows),
            "SCORE": rng.normal(size=rows),
            "KIND": rng.choice(["a", "b"], rows),
            "Y": rng.choice(["p", "q"], rows),
        }
    )


def test_plan_excludes_unusable_columns_with_reasons() -> None:
    frame = _frame()
    plan = plan_columns(frame, [c for c in frame.columns if c != "Y"], explicit=False)
    assert [f.name for f in plan.features] == ["AMOUNT_CENTS", "SCORE", "KIND"]
    reasons = {e["column"]: e["reason"] for e in plan.excluded}
    assert set(reasons) == {"ID", "ACCOUNT_KEY", "UUID_TEXT", "FLAT", "BLANK", "CITY", "WHEN"}
    assert "identifier" in reasons["ID"] and "same value" in reasons["FLAT"] and "missing" in reasons["BLANK"]
    assert "150 distinct" in reasons["CITY"]
    codes = {w.code: w.message for w in plan.warnings}
    assert set(codes) == {
        "id_columns_excluded",
        "constant_columns_dropped",
        "empty_columns_dropped",
        "high_cardinality_excluded",
        "unsupported_columns_excluded",
    }
    assert "ID" in codes["id_columns_excluded"] and "UUID_TEXT" in codes["id_columns_excluded"]


def test_explicitly_requested_columns_are_still_excluded() -> None:
    frame = _frame()
    outcome = train_model(frame, TrainSpec(target="Y", features=["ID", "FLAT", "SCORE"], method="nb"))
    assert [f.name for f in outcome.features] == ["SCORE"]
    messages = " ".join(w.message for w in outcome.warnings)
    assert "even though requested" in messages and "ID" in messages and "FLAT" in messages


def test_hundred_thousand_distinct_strings_excluded_cheaply() -> None:
    rows = 100_000
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 60_000, rows)
    frame = pd.DataFrame({"CODE": [f"k{c}" for c in codes], "X": rng.normal(size=rows)})
    plan = plan_columns(frame, ["CODE", "X"], explicit=False)
    assert [f.name for f in plan.features] == ["X"]
    assert plan.warnings[0].code == "high_cardinality_excluded"


def test_one_hot_width_is_capped() -> None:
    frame = pd.DataFrame({"C": [f"v{i % 400}" for i in range(4000)]})
    plan = plan_columns(frame, ["C"], explicit=False)
    assert [f.name for f in plan.features] == ["C"]
    encoded = build_preprocessor(plan.features).fit_transform(coerce_features(frame, plan.features))
    assert encoded.shape == (4000, MAX_CATEGORIES)


@pytest.mark.parametrize("dtype", ["object", "str", "category"])
def test_categorical_dtypes_are_categorical(dtype: str) -> None:
    frame = pd.DataFrame({"C": pd.Series(["a", "b", None, "a"] * 10, dtype=dtype)})
    plan = plan_columns(frame, ["C"], explicit=False)
    assert [(f.kind, f.sql_type) for f in plan.features] == [("categorical", "VARCHAR")]
    values = coerce_features(frame, plan.features)["C"]
    assert values.dtype == object and values.isna().sum() == 10 and set(values.dropna()) == {"a", "b"}


def test_nested_values_are_unsupported() -> None:
    frame = pd.DataFrame({"TAGS": [[1, 2], [3], None, [4]] * 10, "X": np.arange(40.0) % 7})
    plan = plan_columns(frame, ["TAGS", "X"], explicit=False)
    assert [f.name for f in plan.features] == ["X"]
    assert plan.excluded[0]["column"] == "TAGS" and plan.warnings[0].code == "unsupported_columns_excluded"

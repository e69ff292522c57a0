"""Scoring raw frames: missing features, unseen categories, and dtypes that drift from training."""

from __future__ import annotations

import decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from snowml_desktop.core.errors import InvalidInput
from snowml_desktop.core.scoring import missing_features, predict
from snowml_desktop.core.training import TrainSpec, train_model


@pytest.fixture(scope="module")
def churn_model():
    from tests.core.conftest import churn_frame

    frame = churn_frame(400, seed=3)
    outcome = train_model(frame, TrainSpec(target="CHURN", method="lr"))
    return frame, outcome


def test_missing_features_are_named(churn_model) -> None:
    frame, outcome = churn_model
    assert missing_features(frame.columns, outcome.features) == []
    assert missing_features(["TENURE", "CONTRACT"], outcome.features) == ["MONTHLY", "REGION", "SENIOR"]
    with pytest.raises(InvalidInput) as raised:
        predict(outcome.pipeline, frame.drop(columns=["MONTHLY", "SENIOR"]), outcome.features)
    assert "MONTHLY, SENIOR" in str(raised.value)


def test_unseen_categories_and_missing_values_score(churn_model) -> None:
    frame, outcome = churn_model
    odd = frame.head(5).copy()
    odd["CONTRACT"] = ["lifetime", None, "month", "??", ""]
    odd["REGION"] = pd.Series([None] * 5, dtype="str")
    odd["MONTHLY"] = np.nan
    labels, proba = predict(outcome.pipeline, odd, outcome.features)
    assert list(labels) and set(labels) <= {"no", "yes"}
    assert np.isfinite(proba).all() and ((proba >= 0.5) & (proba <= 1)).all()


def test_dtype_drift_gives_identical_predictions(churn_model) -> None:
    frame, outcome = churn_model
    expected = predict(outcome.pipeline, frame, outcome.features)
    drifted = pd.DataFrame(
        {
            # DuckDB/Snowflake return types: decimals, ints for doubles, strings for numbers, arrow dtypes
            "TENURE": frame["TENURE"].astype("float64"),
            "MONTHLY": [None if pd.isna(v) else decimal.Decimal(str(v)) for v in frame["MONTHLY"]],
            "CONTRACT": pd.array(frame["CONTRACT"].tolist(), dtype=pd.ArrowDtype(pa.string())),
            "REGION": frame["REGION"].astype(object),
            "SENIOR": frame["SENIOR"].map({True: "true", False: "false"}),
            "EXTRA": 1,
        }
    )
    labels, proba = predict(outcome.pipeline, drifted, outcome.features)
    np.testing.assert_array_equal(labels, expected[0])
    np.testing.assert_allclose(proba, expected[1])

    arrow = frame.convert_dtypes(dtype_backend="pyarrow")
    np.testing.assert_array_equal(predict(outcome.pipeline, arrow, outcome.features)[0], expected[0])


def test_integer_labels_come_back_as_integers(iris: pd.DataFrame) -> None:
    outcome = train_model(iris, TrainSpec(target="target", method="nb"))
    labels, proba = predict(outcome.pipeline, iris.drop(columns="target"), outcome.features)
    assert labels.dtype.kind == "i" and proba.dtype == np.float64
    empty = predict(outcome.pipeline, iris.head(0), outcome.features)
    assert len(empty[0]) == 0 and len(empty[1]) == 0

"""The per-model vectorized scoring UDF: its handler on pandas batches as Snowflake passes them, the
artifact loading inside a UDF (import directory, sha256 check, per-process cache) and its registration.

A Snowpark local-testing session registers but cannot call a vectorized UDF taking several columns, so the
handler is called directly with batches shaped like Snowflake's (positional columns 0..n-1); the scoring
query around it is tested in test_procedures_local.py.
"""

from __future__ import annotations

import decimal
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from snowml_desktop.core.artifacts import artifact_bytes, sha256_hex
from snowml_desktop.core.errors import IntegrityError, InvalidInput, NotFound
from snowml_desktop.core.records import Feature, ModelRecord
from snowml_desktop.core.scoring import predict
from snowml_desktop.engines.snowflake import sql, udf


@pytest.fixture(scope="module")
def trained() -> Any:
    """A logistic regression on numeric, string and boolean features (the three argument types)."""
    from snowml_desktop.core.training import TrainSpec, train_model

    rng = np.random.default_rng(0)
    n = 240
    x = rng.normal(size=n)
    frame = pd.DataFrame(
        {
            "amount": x * 10 + 50,
            "visits": rng.integers(0, 20, size=n),
            "plan": rng.choice(["basic", "pro", "team"], size=n),
            "active": rng.choice([True, False], size=n),
        }
    )
    frame["churn"] = np.where(x + (frame["plan"] == "basic") * 0.8 > 0.3, "yes", "no")
    outcome = train_model(frame, TrainSpec(target="churn", method="logistic_regression"))
    return outcome, frame.drop(columns=["churn"])


@pytest.fixture(autouse=True)
def _empty_model_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(udf, "_PIPELINES", {})


def _positional(frame: pd.DataFrame, features: list[Feature]) -> pd.DataFrame:
    """A batch as Snowflake hands it to a vectorized UDF: the arguments as columns 0..n-1."""
    return frame[[f.name for f in features]].set_axis(range(len(features)), axis=1)


def _unpack(series: pd.Series) -> tuple[list, list]:
    return [o["PREDICTION"] for o in series], [o["PROBABILITY"] for o in series]


def test_feature_argument_types(trained: Any) -> None:
    outcome, _ = trained
    kinds = {f.name: (f.kind, f.sql_type) for f in outcome.features}
    assert kinds == {
        "amount": ("numeric", "DOUBLE"),
        "visits": ("numeric", "BIGINT"),
        "plan": ("categorical", "VARCHAR"),
        "active": ("categorical", "BOOLEAN"),
    }
    assert udf.argument_sql_types(outcome.features) == ["FLOAT", "FLOAT", "VARCHAR", "BOOLEAN"]


def test_handler_matches_core_scoring_and_keeps_the_batch_index(trained: Any) -> None:
    outcome, frame = trained
    handler = udf.make_vectorized_handler(outcome.pipeline, outcome.features)
    batch = _positional(frame.iloc[100:164], outcome.features)  # Snowflake batches need not start at 0
    result = handler(batch)
    expected_labels, expected_proba = predict(outcome.pipeline, frame.iloc[100:164], outcome.features)
    labels, proba = _unpack(result)
    assert list(result.index) == list(batch.index)
    assert labels == expected_labels.tolist()
    assert proba == pytest.approx(expected_proba.tolist())
    assert all(p >= 0.5 for p in proba)  # the probability of the predicted one of two classes
    json.dumps(result.tolist())  # plain Python values: a VARIANT can hold them


def test_dtype_drift_gives_the_same_predictions(trained: Any) -> None:
    """Snowflake may pass NUMBER as int64 or Decimal objects, text as pandas ``str`` or object."""
    outcome, frame = trained
    handler = udf.make_vectorized_handler(outcome.pipeline, outcome.features)
    sample = frame.iloc[:50].reset_index(drop=True)
    baseline = _unpack(handler(_positional(sample, outcome.features)))
    drifted = pd.DataFrame(
        {
            0: [decimal.Decimal(str(round(v, 6))) for v in sample["amount"]],
            1: sample["visits"].astype("float64"),
            2: sample["plan"].astype("str"),
            3: sample["active"].astype(object),
        }
    )
    labels, proba = _unpack(handler(drifted))
    assert labels == baseline[0]
    assert proba == pytest.approx(baseline[1], rel=1e-6)


def test_nulls_and_unseen_categories_are_scored(trained: Any) -> None:
    outcome, _ = trained
    handler = udf.make_vectorized_handler(outcome.pipeline, outcome.features)
    batch = pd.DataFrame(
        {
            0: [np.nan, 40.0, None, 60.0],
            1: [None, None, None, None],  # an all-null column arrives as object dtype
            2: ["enterprise", None, "basic", "никогда"],
            3: [None, True, False, None],
        }
    )
    labels, proba = _unpack(handler(batch))
    assert set(labels) <= {"yes", "no"} and len(labels) == 4
    assert all(0.5 <= p <= 1.0 for p in proba)


def test_wrong_column_count_and_empty_batch(trained: Any) -> None:
    outcome, frame = trained
    handler = udf.make_vectorized_handler(outcome.pipeline, outcome.features)
    with pytest.raises(InvalidInput, match="3 columns but the model has 4 features"):
        handler(_positional(frame.iloc[:5], outcome.features).iloc[:, :3])
    empty = handler(_positional(frame.iloc[:0], outcome.features))
    assert len(empty) == 0


# --- loading the artifact inside the UDF -----------------------------------------------------------------------
@pytest.fixture
def import_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Stands in for the folder Snowflake puts a UDF's imports into (``sys._xoptions``)."""
    folder = tmp_path / "imports"
    folder.mkdir()
    monkeypatch.setattr(sys, "_xoptions", {**sys._xoptions, "snowflake_import_directory": str(folder)})
    return folder


def test_artifact_handler_loads_once_and_checks_the_hash(trained: Any, import_dir: Path) -> None:
    outcome, frame = trained
    data = artifact_bytes(outcome.pipeline, {"model": "M_1"})
    (import_dir / "M_1.joblib").write_bytes(data)
    handler = udf.make_artifact_handler("M_1.joblib", sha256_hex(data), outcome.features)
    batch = _positional(frame.iloc[:20], outcome.features)
    first = _unpack(handler(batch))
    (import_dir / "M_1.joblib").unlink()  # cached per process: later batches do not read the file again
    assert _unpack(handler(batch)) == first
    assert first[0] == predict(outcome.pipeline, frame.iloc[:20], outcome.features)[0].tolist()


def test_tampered_artifact_is_refused_by_the_udf(trained: Any, import_dir: Path) -> None:
    outcome, frame = trained
    data = artifact_bytes(outcome.pipeline, {"model": "M_1"})
    other = artifact_bytes(outcome.pipeline, {"model": "M_1", "changed": True})  # valid, but not the one
    (import_dir / "M_1.joblib").write_bytes(other)
    handler = udf.make_artifact_handler("M_1.joblib", sha256_hex(data), outcome.features)
    with pytest.raises(IntegrityError, match="does not match the catalog"):
        handler(_positional(frame.iloc[:5], outcome.features))
    assert udf._PIPELINES == {}


def test_artifact_handler_outside_snowflake_says_so(trained: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    outcome, frame = trained
    monkeypatch.setattr(sys, "_xoptions", {})
    handler = udf.make_artifact_handler("M_1.joblib", "0" * 64, outcome.features)
    with pytest.raises(NotFound, match="not running inside a Snowflake UDF"):
        handler(_positional(frame.iloc[:5], outcome.features))


# --- registration ---------------------------------------------------------------------------------------------
class RecordingUdfs:
    """Stands in for ``session.udf`` of a real account (local testing refuses permanent UDFs)."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, dict[str, Any]]] = []

    def register(self, func: Any, **kwargs: Any) -> None:
        self.calls.append((func, kwargs))


class RecordingSession:
    def __init__(self) -> None:
        self.udf = RecordingUdfs()


def _record(outcome: Any) -> ModelRecord:
    from datetime import datetime, timezone

    return ModelRecord(
        name="LOGISTIC_REGRESSION_7",
        created=datetime.now(timezone.utc),
        method="logistic_regression",
        source_table="T",
        training_table="T",
        target="churn",
        features=list(outcome.features),
        classes=list(outcome.classes),
        params={},
        options={},
        metrics={},
        per_class=[],
        confusion_matrix=[],
        curves={},
        feature_importance=[],
        cv=None,
        warnings=[],
        excluded_columns=[],
        artifact_path='@"DB"."SNOWML"."MODELS"/LOGISTIC_REGRESSION_7.joblib',
        artifact_sha256="ab" * 32,
        library_versions={},
        train_seconds=1.0,
        warehouse_size="X-Small",
        warehouse_type="STANDARD",
        rows_total=1,
        rows_train=1,
        rows_test=0,
    )


def test_registers_a_permanent_vectorized_udf_with_typed_arguments(trained: Any) -> None:
    from snowflake.snowpark.types import (
        BooleanType,
        DoubleType,
        PandasDataFrameType,
        PandasSeriesType,
        StringType,
        VariantType,
    )

    outcome, _ = trained
    record = _record(outcome)
    session = RecordingSession()
    loc = sql.Location("DB", "SNOWML", "DATA")
    name = udf.register_model_udf(
        session,  # type: ignore[arg-type]
        record,
        record.artifact_path,
        ["scikit-learn==1.5.2", "pandas==2.2.3"],
        location=loc,
        code_imports=['@"DB"."SNOWML"."PROCEDURES"/snowml_desktop.zip'],
        stage_location='@"DB"."SNOWML"."PROCEDURES"',
    )
    assert name == '"DB"."SNOWML"."PREDICT_LOGISTIC_REGRESSION_7"'
    [(func, kwargs)] = session.udf.calls
    assert kwargs["name"] == name and kwargs["is_permanent"] and kwargs["replace"]
    assert kwargs["max_batch_size"] == udf.DEFAULT_MAX_BATCH_SIZE
    assert kwargs["input_types"] == [
        PandasDataFrameType([DoubleType(), DoubleType(), StringType(), BooleanType()])
    ]
    assert kwargs["return_type"] == PandasSeriesType(VariantType())
    assert kwargs["imports"] == [record.artifact_path, '@"DB"."SNOWML"."PROCEDURES"/snowml_desktop.zip']
    assert kwargs["packages"] == ["scikit-learn==1.5.2", "pandas==2.2.3"]
    assert kwargs["statement_params"]["QUERY_TAG"].endswith("/train")
    assert func.__annotations__ == {}  # Snowpark must not read unresolved hints as the UDF's types
    with pytest.raises(InvalidInput):
        udf.register_model_udf(session, record, record.artifact_path, [], 0, location=loc)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("classes", "type_name"),
    [
        (["no", "yes"], "StringType"),
        ([0, 1, 2], "LongType"),
        ([0.5, 1.5], "DoubleType"),
        ([False, True], "BooleanType"),
    ],
)
def test_prediction_column_takes_the_label_type(classes: list, type_name: str) -> None:
    assert type(udf.label_type(classes)).__name__ == type_name


def test_udf_name_is_derived_from_the_model() -> None:
    assert udf.udf_name("RANDOM_FOREST_3") == "PREDICT_RANDOM_FOREST_3"

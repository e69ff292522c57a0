"""A scoring worker's Arrow path gives exactly what ``core.scoring.predict`` gives on the pandas frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from snowml_desktop.core.scoring import predict
from snowml_desktop.core.training import TrainSpec, train_model
from snowml_desktop.engines.local import batch_predict


def _training_frame(rows: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    amount = rng.normal(50, 20, rows)
    amount[rng.random(rows) < 0.1] = np.nan
    plan = rng.choice(["basic", "plus", "pro", "rare"], rows, p=[0.5, 0.3, 0.1995, 0.0005]).astype(object)
    plan[rng.random(rows) < 0.1] = None
    code = rng.choice(["1", "2", "3"], rows).astype(object)  # text in training, numbers when scored
    paperless = pd.array(rng.random(rows) < 0.5, dtype="boolean")
    paperless[rng.random(rows) < 0.1] = pd.NA
    tenure = pd.array(rng.integers(0, 70, rows), dtype="Int64")
    tenure[rng.random(rows) < 0.1] = pd.NA
    score = (amount > 55).astype(float) + (plan == "pro") + (tenure.fillna(0).to_numpy() < 10)
    churned = np.where(score + rng.random(rows) > 1.2, "yes", "no")
    return pd.DataFrame(
        {
            "AMOUNT": amount,
            "PLAN": plan,
            "CODE": code,
            "PAPERLESS": paperless,
            "TENURE": tenure,
            "CHURNED": churned,
        }
    )


def _scoring_batch(rows: int = 5000) -> pa.RecordBatch:
    """Values as DuckDB hands them over: nulls, NaN, categories never seen, rare ones, booleans, and
    integers (with nulls) for a feature trained on text."""
    rng = np.random.default_rng(11)
    missing = lambda: rng.random(rows) < 0.08  # noqa: E731
    amount = rng.normal(50, 25, rows)
    amount[rng.random(rows) < 0.05] = np.nan
    plan = rng.choice(["basic", "plus", "pro", "rare", "brand new"], rows).tolist()
    code = rng.integers(1, 5, rows)
    return pa.record_batch(
        {
            "AMOUNT": pa.array(amount, mask=missing()),
            "PLAN": pa.array(plan, mask=missing()),
            "CODE": pa.array(code, mask=missing()),
            "PAPERLESS": pa.array(rng.random(rows) < 0.5, mask=missing()),
            "TENURE": pa.array(rng.integers(0, 90, rows), mask=missing()),
        }
    )


@pytest.fixture(scope="module", params=["random_forest", "logistic_regression"])
def trained(request: pytest.FixtureRequest):
    params = {"n_estimators": 10, "max_depth": 5} if request.param == "random_forest" else {}
    return train_model(_training_frame(), TrainSpec(target="CHURNED", method=request.param, params=params))


@pytest.mark.parametrize("threshold", [None, 0.3])
def test_arrow_batches_score_exactly_as_the_pandas_frame(trained, threshold) -> None:
    features = trained.features
    assert {f.name: f.kind for f in features}["CODE"] == "categorical"
    # The fast path is taken for the pipelines training builds (not the fallback to the frame).
    plan = batch_predict._plan(trained.pipeline, features)
    assert plan is not None and [b.categorical for b in plan.branches] == [False, True]
    batch = _scoring_batch()
    expected_labels, expected_proba = predict(trained.pipeline, batch.to_pandas(), features, threshold)
    labels, proba = batch_predict.predict_batch(trained.pipeline, batch, features, threshold)
    assert labels.dtype == expected_labels.dtype and labels.tolist() == expected_labels.tolist()
    assert np.array_equal(proba, expected_proba)  # bit for bit, not approximately
    if threshold is not None:  # the threshold changed some labels, so it was applied on this path too
        plain, _ = batch_predict.predict_batch(trained.pipeline, batch, features)
        assert plain.tolist() != labels.tolist()


def test_all_missing_and_empty_batches(trained) -> None:
    features = trained.features
    batch = _scoring_batch(50)
    nulls = pa.record_batch(
        {name: pa.nulls(50, batch.schema.field(name).type) for name in batch.schema.names}
    )
    for case in (nulls, batch.slice(0, 0)):
        expected = predict(trained.pipeline, case.to_pandas(), features)
        got = batch_predict.predict_batch(trained.pipeline, case, features)
        assert got[0].tolist() == expected[0].tolist() and np.array_equal(got[1], expected[1])


def test_a_missing_feature_column_is_named(trained) -> None:
    from snowml_desktop.core.errors import InvalidInput

    batch = _scoring_batch(10).drop_columns(["PLAN"])
    with pytest.raises(InvalidInput, match="PLAN"):
        batch_predict.predict_batch(trained.pipeline, batch, trained.features)


def test_a_worker_scores_every_chunk_of_a_batch_file(trained, tmp_path) -> None:
    """DuckDB hands a range of rows over in several chunks when it crosses a row group: the worker scores
    all of them, in order, exactly as the frame."""
    import pyarrow.parquet as pq

    from snowml_desktop.core.artifacts import artifact_bytes, write_artifact
    from snowml_desktop.engines.local import workers

    artifact = tmp_path / "model.joblib"
    sha256 = write_artifact(artifact, artifact_bytes(trained.pipeline, {}))
    batch = _scoring_batch(3000)
    chunks = [batch.slice(0, 1000), batch.slice(1000, 1500), batch.slice(2500)]
    workers.write_rows(pa.RecordBatchReader.from_batches(batch.schema, chunks), tmp_path / "batch.arrow")
    job = workers.ScoreJob(
        str(artifact), sha256, trained.features, str(tmp_path / "batch.arrow"), str(tmp_path / "part.parquet")
    )
    assert workers.score_batch(job) == 3000
    part = pq.read_table(tmp_path / "part.parquet")
    labels, proba = predict(trained.pipeline, batch.to_pandas(), trained.features)
    assert part["PREDICTION"].to_pylist() == labels.tolist()
    assert np.array_equal(part["PREDICTION_PROBABILITY"].to_numpy(), proba)

"""Drift on the local engine: the profile stored at training, drift on every run, on-demand checks, the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from snowml_desktop.cli import _describe_run, main
from snowml_desktop.core.errors import InvalidInput, NotFound
from snowml_desktop.engines.base import ScoreRequest, TrainRequest
from snowml_desktop.engines.local.models import LocalModels
from snowml_desktop.engines.local.workspace import Workspace


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, LocalModels, object, object]]:
    ws = Workspace.open(tmp_path_factory.mktemp("drift") / "workspace")
    stage = ws.stage_dir("LOAD_DATA")
    with ws.cursor() as cur:
        cur.execute(
            'CREATE TABLE "DATA"."BC" AS SELECT * FROM read_csv(?)', [str(stage / "BREAST_CANCER.csv")]
        )
        cur.execute(
            'CREATE TABLE "DATA"."NEW" AS SELECT * FROM read_csv(?)',
            [str(stage / "BREAST_CANCER_NEW_PATIENTS.csv")],
        )
        cur.execute(
            'CREATE TABLE "DATA"."BIGGER" AS SELECT * REPLACE (MEAN_RADIUS * 1.6 AS MEAN_RADIUS) FROM "DATA"."NEW"'
        )
    models = LocalModels(ws)
    plain = models.train(TrainRequest(table="BC", target="DIAGNOSIS", method="logistic_regression"))
    cloned = models.train(TrainRequest(table="BC", target="DIAGNOSIS", method="gaussian_nb", keep_clone=True))
    yield ws, models, plain, cloned
    models.close()
    ws.close()


def test_training_stores_a_profile_of_the_training_table(env) -> None:
    _, models, plain, _ = env
    profile = models.get_model(plain.name).drift_profile
    assert profile["rows"] == plain.rows_total
    assert set(profile["features"]) == set(plain.feature_names)
    radius = profile["features"]["MEAN_RADIUS"]
    assert (
        radius["kind"] == "numeric"
        and len(radius["edges"]) == 9
        and sum(radius["shares"]) == pytest.approx(1)
    )
    assert profile["predictions"]["classes"] == [str(c) for c in plain.classes]


def test_every_run_records_its_drift_and_the_training_overlap(env) -> None:
    _, models, plain, _ = env
    fresh = models.score(ScoreRequest(plain.name, "NEW", "NEW_SCORED", "X-Small", True))
    assert fresh.drift["rows"] == 86 and fresh.drift["overlap_rows"] == 0
    assert fresh.drift["predictions"]["classes"] == [str(c) for c in plain.classes]
    assert max(f["psi"] for f in fresh.drift["features"]) < 0.25
    stored = models.get_run(fresh.run_id)
    assert stored.drift == fresh.drift
    again = models.score(ScoreRequest(plain.name, "BC", "BC_SCORED", "X-Small", True))
    assert again.drift["overlap_rows"] == 483 and again.drift["training_table"] == "BC"


def test_on_demand_check_finds_a_shifted_feature(env) -> None:
    _, models, plain, _ = env
    report = models.check_drift(plain.name, "bigger")
    assert report.features[0].feature == "MEAN_RADIUS" and report.features[0].band == "high"
    assert report.predictions is None  # not a scored table
    assert report.band == "high" and "MEAN_RADIUS" in report.summary()


def test_exact_comparison_needs_the_clone(env) -> None:
    _, models, plain, cloned = env
    with pytest.raises(InvalidInput, match="kept no clone"):
        models.check_drift(plain.name, "BIGGER", exact=True)
    report = models.check_drift(cloned.name, "BIGGER", exact=True)
    assert report.exact and report.training_table == cloned.training_table
    radius = next(f for f in report.features if f.feature == "MEAN_RADIUS")
    assert radius.ks > 0.3


def test_cli_drift(capsys: pytest.CaptureFixture[str], workspace: Path) -> None:
    assert (
        main(
            ["--workspace", str(workspace), "--json", "load", "LOAD_DATA/BREAST_CANCER.csv", "--table", "bc"]
        )
        == 0
    )
    capsys.readouterr()
    assert (
        main(
            [
                "--workspace",
                str(workspace),
                "--json",
                "train",
                "bc",
                "--target",
                "diagnosis",
                "--method",
                "nb",
            ]
        )
        == 0
    )
    model = json.loads(capsys.readouterr().out)
    assert main(["--workspace", str(workspace), "drift", "--model", model["name"], "--table", "bc"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("BC (483 rows) against") and "Stable drift" in text and "PSI" in text
    assert main(["--workspace", str(workspace), "drift", "--model", model["name"], "--table", "nope"]) == 1
    assert "nope" in capsys.readouterr().err.lower()


def test_missing_columns_and_unknown_model(env) -> None:
    ws, models, plain, _ = env
    with ws.cursor() as cur:
        cur.execute('CREATE OR REPLACE TABLE "DATA"."NARROW" AS SELECT MEAN_RADIUS FROM "DATA"."NEW"')
    with pytest.raises(InvalidInput, match="lacks the model's feature column"):
        models.check_drift(plain.name, "NARROW")
    with pytest.raises(NotFound):
        models.check_drift("NO_SUCH_MODEL", "NEW")


def test_the_training_profile_of_a_million_rows_fits_the_smallest_memory_limit(workspace):
    """The deciles of every numeric feature as one list aggregate each: the same edges as one aggregate per
    decile, within 256 MiB, where one aggregate per decile runs out of memory (it holds each column 9x)."""
    from types import SimpleNamespace

    import duckdb

    from snowml_desktop.core import drift
    from snowml_desktop.core.memory import MIN_MEMORY_LIMIT
    from snowml_desktop.core.records import Feature
    from snowml_desktop.core.tasks import TaskContext
    from snowml_desktop.engines.local.engine import LocalEngine

    engine = LocalEngine(workspace, memory_limit=MIN_MEMORY_LIMIT)
    try:
        engine.create_demo_table("BIG", 1_000_000, seed=3)
        features = [
            Feature(c.name, "numeric" if c.kind == "numeric" else "categorical", c.sql_type)
            for c in engine.table_columns("BIG")
            if c.name not in ("CHURNED", "CUSTOMER_ID")
        ]
        outcome = SimpleNamespace(features=features, classes=[0, 1], confusion_matrix=[[1, 0], [0, 1]])
        profile = engine.models._drift_profile("BIG", outcome, TaskContext())
        assert profile is not None
        numeric = [f for f in features if f.kind == "numeric"]
        assert len(numeric) >= 5
        with engine.workspace.cursor() as cur:
            per_decile = drift.quantile_query('"DATA"."BIG"', numeric)
            with pytest.raises(duckdb.OutOfMemoryException):
                cur.execute(*per_decile)
            cur.execute("SET memory_limit = '4GiB'")
            expected = drift.edges_from(cur.execute(*per_decile).fetchone(), numeric)
        assert {
            name: entry["edges"] for name, entry in profile["features"].items() if name in expected
        } == expected
    finally:
        engine.close()


def test_a_profile_above_the_sample_threshold_comes_from_a_repeatable_sample(workspace, monkeypatch):
    """Above PROFILE_SAMPLE_ROWS the deciles come from a reservoir sample of that many rows (bounded memory
    on a table of any size): the same edges on every run, close to the exact deciles, with the row count,
    missing rates and shares still counted over every row."""
    from types import SimpleNamespace

    import numpy as np

    from snowml_desktop.core import drift
    from snowml_desktop.core.records import Feature
    from snowml_desktop.core.tasks import TaskContext
    from snowml_desktop.engines.local.engine import LocalEngine

    monkeypatch.setattr(drift, "PROFILE_SAMPLE_ROWS", 5_000)
    engine = LocalEngine(workspace)
    try:
        engine.create_demo_table("BIG", 40_000, seed=3)
        features = [
            Feature(c.name, "numeric" if c.kind == "numeric" else "categorical", c.sql_type)
            for c in engine.table_columns("BIG")
            if c.name not in ("CHURNED", "CUSTOMER_ID")
        ]
        outcome = SimpleNamespace(features=features, classes=[0, 1], confusion_matrix=[[1, 0], [0, 1]])
        first = engine.models._drift_profile("BIG", outcome, TaskContext(), seed=7)
        second = engine.models._drift_profile("BIG", outcome, TaskContext(), seed=7)
        assert first is not None and first == second
        assert first["rows"] == 40_000 and first["sample_rows"] == 5_000
        with engine.workspace.cursor() as cur:
            frame = cur.execute('SELECT * FROM "DATA"."BIG"').df()
        numeric = [f.name for f in features if f.kind == "numeric"]
        assert numeric
        differs = []
        for name in numeric:
            values = frame[name].dropna().to_numpy(dtype=float)
            edges = first["features"][name]["edges"]
            exact = sorted(set(np.percentile(values, [10 * i for i in range(1, 10)])))
            differs.append(edges != pytest.approx(exact, rel=1e-12))
            # Each sampled edge sits within 2.5 percentiles of a decile (5,000 rows: about 0.4 expected);
            # a value repeated over many rows covers the ranks from its first to its last row.
            for edge in edges:
                below, upto = float((values < edge).mean()), float((values <= edge).mean())
                assert any(below - 0.025 <= 0.1 * i <= upto + 0.025 for i in range(1, 10)), (name, edge)
            # Shares and missing rates count every row of the table against those edges.
            assert first["features"][name]["missing"] == pytest.approx(float(frame[name].isna().mean()))
            counts = np.histogram(values, bins=[-np.inf, *edges, np.inf])[0]
            assert first["features"][name]["shares"] == pytest.approx(list(counts / len(values)), abs=1e-9)
        assert any(differs)  # computed from the sample, not from every row
    finally:
        engine.close()


def test_the_drift_report_says_when_the_profile_was_sampled(capsys, workspace, monkeypatch) -> None:
    from snowml_desktop.core import drift

    monkeypatch.setattr(drift, "PROFILE_SAMPLE_ROWS", 200)
    root = ["--workspace", str(workspace)]
    assert main([*root, "load", "LOAD_DATA/BREAST_CANCER.csv", "--table", "bc"]) == 0
    capsys.readouterr()
    assert main([*root, "--json", "train", "bc", "--target", "diagnosis", "--method", "nb"]) == 0
    model = json.loads(capsys.readouterr().out)
    assert main([*root, "drift", "--model", model["name"], "--table", "bc"]) == 0
    text = capsys.readouterr().out
    assert "bin edges come from a sample of 200 of its 483 rows" in text


# --- a failed drift check ----------------------------------------------------------------------------------
def _failing_check(run, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202 - stands in for drift.check
    """The check's first statement fails in DuckDB itself, which aborts the run's transaction."""
    run("SELECT error('the drift statement failed\nsecond line')", [])


def test_a_failed_drift_check_keeps_the_run_and_records_why(env, monkeypatch: pytest.MonkeyPatch) -> None:
    from snowml_desktop.core import drift

    ws, models, plain, _ = env
    monkeypatch.setattr(drift, "check", _failing_check)
    run = models.score(ScoreRequest(plain.name, "NEW", "NEW_NO_DRIFT", "X-Small", True))
    assert run.status == "SUCCEEDED" and run.rows == 86
    reason = drift.failure_reason(run.drift)
    assert reason is not None and reason.startswith("InvalidInputException: ")
    assert "the drift statement failed" in reason and "second line" not in reason and len(reason) <= 200
    assert models.get_run(run.run_id).drift == run.drift
    with ws.cursor() as cur:
        assert cur.execute('SELECT count(*) FROM "DATA"."NEW_NO_DRIFT"').fetchone()[0] == 86
    with pytest.raises(ValueError, match="drift check failed"):
        drift.report_from_json(run.drift)
    assert f"drift: check failed: {reason}" in _describe_run(run)


def test_a_cancel_during_the_drift_check_still_cancels(env, monkeypatch: pytest.MonkeyPatch) -> None:
    from snowml_desktop.core import drift
    from snowml_desktop.core.errors import Cancelled

    ws, models, plain, _ = env

    def cancelled(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise Cancelled()

    monkeypatch.setattr(drift, "check", cancelled)
    with pytest.raises(Cancelled):
        models.score(ScoreRequest(plain.name, "NEW", "NEW_CANCELLED", "X-Small", True))
    assert models.list_runs()[0].status == "CANCELLED"
    with ws.cursor() as cur:
        tables = {r[0] for r in cur.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert "NEW_CANCELLED" not in tables

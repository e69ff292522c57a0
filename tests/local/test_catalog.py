"""The APP schema of the local engine: DDL from the shared layouts, sequences, rows in and out, crash sweep."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from snowml_desktop.core.errors import NotFound
from snowml_desktop.core.records import (
    INFERENCE_RUNS_COLUMNS,
    MODELS_CATALOG_COLUMNS,
    RUN_FAILED,
    Feature,
    InferenceRun,
    ModelRecord,
    ModelWarning,
)
from snowml_desktop.engines.local import catalog
from snowml_desktop.engines.local.models import LocalModels, new_staging_name
from snowml_desktop.engines.local.workspace import Workspace


@pytest.fixture
def ws(workspace: Path):
    opened = Workspace.open(workspace)
    yield opened
    opened.close()


@pytest.fixture
def cur(ws: Workspace):
    cursor = ws.cursor()
    catalog.ensure_schema(cursor)
    yield cursor
    cursor.close()


def _model(name: str, created: datetime) -> ModelRecord:
    return ModelRecord(
        name=name,
        created=created,
        method="random_forest",
        source_table="T",
        training_table="T",
        target="Y",
        features=[Feature("A", "numeric", "DOUBLE"), Feature("b c", "categorical", "VARCHAR")],
        classes=["no", "yes"],
        params={"n_estimators": 10},
        options={"seed": 1},
        metrics={"accuracy": 0.9, "roc_auc": None},
        per_class=[{"label": "no", "precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 3}],
        confusion_matrix=[[3, 0], [1, 2]],
        curves={"roc": [], "pr": []},
        feature_importance=[{"feature": "A", "importance": 0.5, "std": 0.1}],
        cv=None,
        warnings=[ModelWarning("class_imbalance", "few yes")],
        excluded_columns=[{"column": "ID", "reason": "id"}],
        artifact_path=f"@MODELS/{name}.joblib",
        artifact_sha256="ab" * 32,
        library_versions={"sklearn": "1"},
        train_seconds=1.5,
        warehouse_size="X-Small",
        warehouse_type="STANDARD",
        rows_total=6,
        rows_train=4,
        rows_test=2,
    )


def test_tables_follow_the_shared_column_layouts(cur) -> None:
    for table, layout in (
        (catalog.MODELS_TABLE, MODELS_CATALOG_COLUMNS),
        (catalog.RUNS_TABLE, INFERENCE_RUNS_COLUMNS),
    ):
        cur.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'APP' AND table_name = ? ORDER BY ordinal_position",
            [table],
        )
        assert cur.fetchall() == [(name, catalog.SQL_TYPES[kind]) for name, kind in layout]
    catalog.ensure_schema(cur)  # idempotent


def test_model_rows_round_trip_newest_first(cur) -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=timezone.utc)
    older, newer = _model("RF_1", now - timedelta(hours=1)), _model("RF_2", now)
    catalog.insert_model(cur, older)
    catalog.insert_model(cur, newer)
    assert [m.name for m in catalog.list_models(cur)] == ["RF_2", "RF_1"]
    assert catalog.get_model(cur, "RF_2") == newer
    assert catalog.artifact_paths(cur) == ["@MODELS/RF_1.joblib", "@MODELS/RF_2.joblib"] or sorted(
        catalog.artifact_paths(cur)
    ) == ["@MODELS/RF_1.joblib", "@MODELS/RF_2.joblib"]
    catalog.delete_model(cur, "RF_1")
    with pytest.raises(NotFound, match="RF_1"):
        catalog.get_model(cur, "RF_1")


def test_model_names_come_from_a_sequence_and_skip_taken_numbers(cur) -> None:
    first = catalog.next_model_name(cur, "RANDOM_FOREST")
    assert first == "RANDOM_FOREST_1"
    catalog.insert_model(cur, _model("LOGISTIC_REGRESSION_2", catalog.utc_now()))
    assert catalog.next_model_name(cur, "LOGISTIC_REGRESSION") == "LOGISTIC_REGRESSION_3"
    assert catalog.next_run_id(cur) == 1
    assert catalog.next_run_id(cur) == 2


def test_runs_round_trip_and_filter(cur) -> None:
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for run_id, model, table in ((1, "A_1", "T"), (2, "A_1", "U"), (3, "B_2", "T")):
        catalog.insert_run(
            cur,
            InferenceRun(
                run_id, base, model, table, f"{table}_OUT", 10, 1.0, 0.5, "Small", "STANDARD", 2, 0.001
            ),
        )
    failed = InferenceRun(
        4, base, "B_2", "T", None, 0, 0.2, 0.0, "X-Small", "STANDARD", 1, 0.0, status=RUN_FAILED, error="boom"
    )
    catalog.insert_run(cur, failed)
    assert [r.run_id for r in catalog.list_runs(cur)] == [4, 3, 2, 1]
    assert [r.run_id for r in catalog.list_runs(cur, model="A_1")] == [2, 1]
    assert [r.run_id for r in catalog.list_runs(cur, model="B_2", table="T")] == [4, 3]
    assert catalog.get_run(cur, 4) == failed
    with pytest.raises(NotFound, match="99"):
        catalog.get_run(cur, 99)


def test_settings_default_and_replace(cur) -> None:
    assert catalog.get_setting(cur, "k", "d") == "d"
    catalog.set_setting(cur, "k", "1")
    catalog.set_setting(cur, "k", "2")
    assert catalog.get_setting(cur, "k", "d") == "2"


def test_opening_sweeps_crash_leftovers(ws: Workspace) -> None:
    models_dir = ws.stage_dir("MODELS")
    staging = new_staging_name()
    with ws.cursor() as cur:
        catalog.ensure_schema(cur)
        catalog.insert_model(cur, _model("KEPT_1", catalog.utc_now()))
        cur.execute(f'CREATE TABLE "DATA"."{staging}" AS SELECT 1 AS A')
        cur.execute('CREATE TABLE "DATA"."USER_TABLE" AS SELECT 1 AS A')
    for name in ("KEPT_1.joblib", "ORPHAN_2.joblib", ".KEPT_1.joblib.tmp", "notes.txt"):
        (models_dir / name).write_bytes(b"x")

    scratch = ws.root / ".scratch" / "run-1-abc"
    scratch.mkdir(parents=True)
    (scratch / "part-00000000.parquet").write_bytes(b"x")

    LocalModels(ws).close()

    assert not scratch.exists()
    assert sorted(p.name for p in models_dir.iterdir()) == ["KEPT_1.joblib", "notes.txt"]
    with ws.cursor() as cur:
        tables = {r[0] for r in cur.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert staging not in tables
    assert "USER_TABLE" in tables

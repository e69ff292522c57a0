"""Local training: a worker process fits, the artifact and catalog row appear together or not at all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from snowml_desktop.core.artifacts import load_artifact, sha256_hex
from snowml_desktop.core.errors import AlreadyExists, Cancelled, InvalidInput, NotFound
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.engines.base import TrainRequest
from snowml_desktop.engines.local import sqlrun
from snowml_desktop.engines.local.models import STAGING_PREFIX, LocalModels
from snowml_desktop.engines.local.workspace import Workspace

FAST_RF = {"n_estimators": 5, "max_depth": 3}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, LocalModels]]:
    ws = Workspace.open(tmp_path_factory.mktemp("train") / "workspace")
    with ws.cursor() as cur:
        bc = str(ws.stage_dir("LOAD_DATA") / "BREAST_CANCER.csv")
        cur.execute('CREATE TABLE "DATA"."BC" AS SELECT * FROM read_csv(?)', [bc])
        cur.execute(
            'CREATE TABLE "DATA"."ONE_CLASS" AS SELECT * REPLACE (\'benign\' AS DIAGNOSIS) FROM "DATA"."BC"'
        )
    models = LocalModels(ws)
    yield ws, models
    models.close()
    ws.close()


def _tables(ws: Workspace) -> set[str]:
    with ws.cursor() as cur:
        return {r[0] for r in cur.execute("SELECT table_name FROM information_schema.tables").fetchall()}


def _model_files(ws: Workspace) -> list[str]:
    return sorted(p.name for p in ws.stage_dir("MODELS").iterdir())


def test_train_registers_a_complete_consistent_record(env) -> None:
    ws, models = env
    seen: list[float] = []
    record = models.train(
        TrainRequest(table="bc", target="diagnosis", method="random_forest", params=FAST_RF),
        task=TaskContext(progress=lambda f, _text: seen.append(f)),
    )
    assert record.name.startswith("RANDOM_FOREST_")
    assert (record.source_table, record.training_table, record.target) == ("BC", "BC", "DIAGNOSIS")
    assert sorted(record.classes) == ["benign", "malignant"]
    assert len(record.features) == 30 and "DIAGNOSIS" not in record.feature_names
    assert record.rows_total == record.rows_train + record.rows_test == 483
    assert sum(map(sum, record.confusion_matrix)) == record.rows_test
    assert record.options["target_sql_type"] == "VARCHAR" and record.options["keep_clone"] is False
    assert (record.warehouse_size, record.warehouse_type) == ("X-Small", "STANDARD")
    assert record.train_seconds > 0 and "scikit-learn" in record.library_versions
    assert seen == sorted(seen) and seen[-1] == 1.0
    artifact = ws.stage_dir("MODELS") / f"{record.name}.joblib"
    assert record.artifact_path == f"@MODELS/{record.name}.joblib"
    assert sha256_hex(artifact.read_bytes()) == record.artifact_sha256
    assert load_artifact(artifact, record.artifact_sha256).metadata["model"] == record.name
    assert models.get_model(record.name.lower()) == record
    assert models.list_models()[0] == record


def test_clone_and_optimized_training(env) -> None:
    ws, models = env
    record = models.train(
        TrainRequest(
            table="BC", target="DIAGNOSIS", method="logistic_regression", keep_clone=True, optimized=True
        )
    )
    clone = f"BC_CLONE_{record.name}"
    assert record.training_table == clone and record.source_table == "BC"
    assert record.warehouse_type == "SNOWPARK-OPTIMIZED" and record.options["optimized"] is True
    assert models.warehouse().type == "STANDARD"  # restored after the call
    with ws.cursor() as cur:
        assert cur.execute(f'SELECT count(*) FROM "DATA"."{clone}"').fetchall()[0][0] == 483
        (comment,) = cur.execute(
            "SELECT comment FROM duckdb_tables() WHERE table_name = ?", [clone]
        ).fetchone()
    assert sqlrun.parse_created(comment) is not None  # listed with its creation time like any table
    assert not any(t.startswith(STAGING_PREFIX) for t in _tables(ws))


def test_bad_requests_are_refused_before_anything_is_created(env) -> None:
    ws, models = env
    before = (_model_files(ws), len(models.list_models()), _tables(ws))
    with pytest.raises(NotFound, match="NOPE"):
        models.train(TrainRequest(table="nope", target="DIAGNOSIS"))
    with pytest.raises(InvalidInput, match="target column 'LABEL'"):
        models.train(TrainRequest(table="BC", target="label"))
    with pytest.raises(InvalidInput, match="also listed"):
        models.train(TrainRequest(table="BC", target="DIAGNOSIS", features=["MEAN_RADIUS", "DIAGNOSIS"]))
    with pytest.raises(InvalidInput, match="one warehouse"):
        models.train(TrainRequest(table="BC", target="DIAGNOSIS", optimized=True, optimized_mode="dedicated"))
    with pytest.raises(InvalidInput):
        models.train(TrainRequest(table="BC", target="DIAGNOSIS", method="no_such_method"))
    assert (_model_files(ws), len(models.list_models()), _tables(ws)) == before


def test_a_failing_fit_leaves_nothing_behind(env) -> None:
    ws, models = env
    before = (_model_files(ws), len(models.list_models()), _tables(ws))
    with pytest.raises(InvalidInput, match="(?i)class"):  # raised inside the worker, re-raised here
        models.train(TrainRequest(table="ONE_CLASS", target="DIAGNOSIS", keep_clone=True, params=FAST_RF))
    assert (_model_files(ws), len(models.list_models()), _tables(ws)) == before


def test_cancel_during_the_fit_kills_the_worker_and_leaves_nothing(env) -> None:
    ws, models = env
    before = (_model_files(ws), len(models.list_models()), _tables(ws))
    task = TaskContext()

    def progress(fraction: float, _text: str) -> None:
        if fraction > 0.05:  # the worker has started fitting
            task.token.cancel()

    task.progress = progress
    with pytest.raises(Cancelled):
        models.train(TrainRequest(table="BC", target="DIAGNOSIS", keep_clone=True, params=FAST_RF), task=task)
    assert (_model_files(ws), len(models.list_models()), _tables(ws)) == before


def test_an_existing_clone_name_is_not_overwritten(env) -> None:
    ws, models = env
    with ws.cursor() as cur:
        next_number = cur.execute('SELECT currval(\'"APP"."MODEL_NUMBERS"\')').fetchall()[0][0] + 1
        cur.execute(f'CREATE TABLE "DATA"."BC_CLONE_RANDOM_FOREST_{next_number}" AS SELECT 1 AS A')
    with pytest.raises(AlreadyExists, match="CLONE"):
        models.train(TrainRequest(table="BC", target="DIAGNOSIS", keep_clone=True, params=FAST_RF))
    assert not any(t.startswith(STAGING_PREFIX) for t in _tables(ws))


def test_delete_model_removes_row_and_artifact(env) -> None:
    ws, models = env
    record = models.train(TrainRequest(table="BC", target="DIAGNOSIS", method="gaussian_nb"))
    artifact = ws.stage_dir("MODELS") / f"{record.name}.joblib"
    assert artifact.exists()
    models.delete_model(record.name)
    assert not artifact.exists()
    with pytest.raises(NotFound):
        models.get_model(record.name)
    with pytest.raises(NotFound):
        models.delete_model(record.name)


def test_artifact_without_catalog_row_is_swept_on_open(env, tmp_path: Path) -> None:
    ws, _ = env
    orphan = ws.stage_dir("MODELS") / "RANDOM_FOREST_999.joblib"
    orphan.write_bytes(b"half-trained")
    LocalModels(ws).close()
    assert not orphan.exists()


def test_a_table_too_wide_to_train_is_refused_with_why(env) -> None:
    """2,400 numeric columns x 50 rows: feature importance alone would predict about 115 million values
    (it grows with the square of the width); the worker refuses before fitting and nothing is kept."""
    ws, models = env
    columns = ", ".join(f'hash(i * {j + 1}) % 1000 AS "C{j}"' for j in range(2_400))
    with ws.cursor() as cur:
        cur.execute(
            f'CREATE TABLE "DATA"."WIDE" AS SELECT {columns}, CASE WHEN i % 2 = 0 THEN \'a\' ELSE \'b\' END AS "Y" '
            "FROM range(50) r(i)"
        )
    before = len(models.list_models())
    with pytest.raises(InvalidInput) as info:
        models.train(TrainRequest(table="WIDE", target="Y", method="logistic_regression"))
    text = str(info.value)
    assert "50 rows x 2,400 feature columns (2,400 model inputs" in text and "square of the number" in text
    assert "Choose fewer feature columns" in text
    assert len(models.list_models()) == before

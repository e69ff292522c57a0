"""Incremental scoring on the local engine: only new rows are scored and appended; a replaced input table,
a changed model or a dropped output is scored in full; a foreign output is never appended to."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from snowml_desktop.core.errors import AlreadyExists, InvalidInput
from snowml_desktop.core.identifiers import qualified
from snowml_desktop.core.records import RUN_SUCCEEDED
from snowml_desktop.engines.base import ScoreRequest, TrainRequest
from snowml_desktop.engines.local import incremental
from snowml_desktop.engines.local.models import LocalModels
from snowml_desktop.engines.local.workspace import Workspace


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, LocalModels, object]]:
    ws = Workspace.open(tmp_path_factory.mktemp("incremental") / "workspace")
    stage = ws.stage_dir("LOAD_DATA")
    with ws.cursor() as cur:
        cur.execute(
            'CREATE TABLE "DATA"."BC" AS SELECT * FROM read_csv(?)', [str(stage / "BREAST_CANCER.csv")]
        )
    models = LocalModels(ws)
    model = models.train(TrainRequest(table="BC", target="DIAGNOSIS", method="logistic_regression"))
    yield ws, models, model
    models.close()
    ws.close()


@pytest.fixture()
def env(trained):
    """A fresh NEW table of 40 patients (ROW_ID 1..40) for each test."""
    ws, models, model = trained
    stage = ws.stage_dir("LOAD_DATA")
    with ws.cursor() as cur:
        cur.execute('DROP TABLE IF EXISTS "DATA"."OUT"')
        cur.execute(
            'CREATE OR REPLACE TABLE "DATA"."NEW" AS SELECT row_number() OVER () AS ROW_ID, * '
            "FROM read_csv(?) LIMIT 40",
            [str(stage / "BREAST_CANCER_NEW_PATIENTS.csv")],
        )
        incremental.ensure_table(cur)
        cur.execute(f"DELETE FROM {qualified('APP', incremental.WATERMARKS_TABLE)}")
    return ws, models, model


def _rows(ws: Workspace, sql: str) -> list[tuple]:
    with ws.cursor() as cur:
        return cur.execute(sql).fetchall()


def _append(ws: Workspace, first: int, last: int) -> None:
    """Append copies of rows ``first..last`` with new ROW_IDs (offset 1000)."""
    with ws.cursor() as cur:
        cur.execute(
            'INSERT INTO "DATA"."NEW" SELECT ROW_ID + 1000, * EXCLUDE (ROW_ID) FROM "DATA"."NEW" '
            "WHERE ROW_ID BETWEEN ? AND ?",
            [first, last],
        )


def _score(models: LocalModels, model, **kw) -> object:
    return models.score_incremental(ScoreRequest(model=model.name, table="NEW", output="OUT", **kw))


def test_first_run_scores_everything_then_only_appended_rows_are_scored_and_appended(env) -> None:
    ws, models, model = env
    first = _score(models, model)
    assert (first.status, first.rows, first.output_table) == (RUN_SUCCEEDED, 40, "OUT")
    again = _score(models, model)
    assert again.rows == 0  # nothing new
    assert _rows(ws, 'SELECT count(*) FROM "DATA"."OUT"') == [(40,)]

    _append(ws, 1, 5)
    third = _score(models, model)
    assert third.rows == 5
    out = _rows(ws, 'SELECT ROW_ID, PREDICTION FROM "DATA"."OUT" ORDER BY ROW_ID')
    assert [r[0] for r in out] == [*range(1, 41), *range(1001, 1006)]
    # each appended copy got the same prediction as its original: the positional join kept row order
    by_id = dict(out)
    assert all(by_id[1000 + i] == by_id[i] for i in range(1, 6))
    # the run's metrics describe the 5 new rows only (the table carries the target column)
    assert sum(map(sum, third.confusion_matrix)) == 5


def test_a_replaced_input_table_is_detected_and_rescored_in_full(env) -> None:
    ws, models, model = env
    _score(models, model)
    with ws.cursor() as cur:  # reloaded with other rows: 41 rows, none of them scored before
        cur.execute(
            'CREATE OR REPLACE TABLE "DATA"."NEW" AS SELECT ROW_ID + 500 AS ROW_ID, * EXCLUDE (ROW_ID) '
            'FROM (SELECT * FROM "DATA"."NEW" UNION ALL SELECT * FROM "DATA"."NEW" LIMIT 41)'
        )
    run = _score(models, model)
    assert run.rows == 41
    assert _rows(ws, 'SELECT min(ROW_ID), count(*) FROM "DATA"."OUT"') == [(501, 41)]


def test_a_reload_with_the_same_rows_in_another_order_scores_only_the_added_row(env) -> None:
    ws, models, model = env
    _score(models, model)
    with ws.cursor() as cur:  # the scored rows are all still there: scoring them again would duplicate them
        cur.execute('CREATE OR REPLACE TABLE "DATA"."NEW" AS SELECT * FROM "DATA"."NEW" ORDER BY ROW_ID DESC')
    _append(ws, 7, 7)
    assert _score(models, model).rows == 1
    assert _rows(ws, 'SELECT count(*), count(DISTINCT ROW_ID) FROM "DATA"."OUT"') == [(41, 41)]


def test_deleted_or_edited_scored_rows_force_a_full_rescore(env) -> None:
    ws, models, model = env
    _score(models, model)
    with ws.cursor() as cur:
        cur.execute('UPDATE "DATA"."NEW" SET ROW_ID = -1 WHERE ROW_ID = 3')
    assert _score(models, model).rows == 40
    with ws.cursor() as cur:
        cur.execute('DELETE FROM "DATA"."NEW" WHERE ROW_ID = 4')
    assert _score(models, model).rows == 39
    assert _rows(ws, 'SELECT count(*) FROM "DATA"."OUT"') == [(39,)]


def test_a_dropped_output_is_rebuilt_in_full(env) -> None:
    ws, models, model = env
    _score(models, model)
    with ws.cursor() as cur:
        cur.execute('DROP TABLE "DATA"."OUT"')
    assert _score(models, model).rows == 40


def test_an_output_not_written_incrementally_is_never_appended_to(env) -> None:
    ws, models, model = env
    with ws.cursor() as cur:
        cur.execute('CREATE TABLE "DATA"."OUT" AS SELECT 1 AS MINE')
    with pytest.raises(AlreadyExists, match="not written by incremental scoring"):
        _score(models, model)
    assert _rows(ws, 'SELECT * FROM "DATA"."OUT"') == [(1,)]
    run = _score(models, model, overwrite=True)  # the user allows replacing it
    assert run.rows == 40


def test_a_retrained_artifact_rescores_in_full_and_a_deleted_model_forgets_its_watermarks(env) -> None:
    ws, models, model = env
    _score(models, model)
    table = qualified("APP", incremental.WATERMARKS_TABLE)
    with ws.cursor() as cur:  # as if the model's artifact had changed since the last run
        cur.execute(f"UPDATE {table} SET ARTIFACT_SHA256 = 'old'")
    assert _score(models, model).rows == 40
    other = models.train(TrainRequest(table="BC", target="DIAGNOSIS", method="logistic_regression"))
    models.score_incremental(ScoreRequest(model=other.name, table="NEW", output="OUT2"))
    models.delete_model(other.name)
    assert _rows(ws, f"SELECT MODEL_NAME FROM {table}") == [(model.name,)]


def test_a_table_missing_features_fails_clearly_and_moves_no_watermark(env) -> None:
    ws, models, model = env
    _score(models, model)
    with ws.cursor() as cur:
        cur.execute('CREATE TABLE "DATA"."THIN" AS SELECT ROW_ID FROM "DATA"."NEW"')
    with pytest.raises(InvalidInput, match="lacks the model"):
        models.score_incremental(ScoreRequest(model=model.name, table="THIN", output="OUT"))
    table = qualified("APP", incremental.WATERMARKS_TABLE)
    assert _rows(ws, f"SELECT SOURCE_TABLE, ROWS_SCORED FROM {table}") == [("NEW", 40)]

"""Local scoring: streamed batches through a process pool, atomic output, runs logged, metrics in SQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from snowml_desktop.core.artifacts import load_artifact
from snowml_desktop.core.errors import (
    AlreadyExists,
    Cancelled,
    EngineError,
    IntegrityError,
    InvalidInput,
    NotFound,
)
from snowml_desktop.core.records import RUN_CANCELLED, RUN_FAILED, RUN_SUCCEEDED
from snowml_desktop.core.scoring import predict
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.engines.base import ScoreRequest, TrainRequest
from snowml_desktop.engines.local import models as models_module
from snowml_desktop.engines.local import scoring_pass, sqlrun
from snowml_desktop.engines.local.models import LocalModels
from snowml_desktop.engines.local.workspace import Workspace


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, LocalModels, object]]:
    ws = Workspace.open(tmp_path_factory.mktemp("score") / "workspace")
    stage = ws.stage_dir("LOAD_DATA")
    with ws.cursor() as cur:
        cur.execute(
            'CREATE TABLE "DATA"."BC" AS SELECT * FROM read_csv(?)', [str(stage / "BREAST_CANCER.csv")]
        )
        cur.execute(
            'CREATE TABLE "DATA"."NEW" AS SELECT row_number() OVER () AS ROW_ID, * FROM read_csv(?)',
            [str(stage / "BREAST_CANCER_NEW_PATIENTS.csv")],
        )
    models = LocalModels(ws)
    model = models.train(TrainRequest(table="BC", target="DIAGNOSIS", method="logistic_regression"))
    yield ws, models, model
    models.close()
    ws.close()


def _fetch(ws: Workspace, sql: str) -> list[tuple]:
    with ws.cursor() as cur:
        return cur.execute(sql).fetchall()


def _tables(ws: Workspace) -> set[str]:
    return {r[0] for r in _fetch(ws, "SELECT table_name FROM information_schema.tables")}


@pytest.mark.slow
def test_score_writes_input_plus_predictions_in_order_and_logs_the_run(env, monkeypatch) -> None:
    ws, models, model = env
    monkeypatch.setattr(models_module, "BATCH_ROWS", 16)  # several batches across two workers
    seen: list[float] = []
    run = models.score(
        ScoreRequest(model=model.name.lower(), table="new", size="Small"),
        task=TaskContext(progress=lambda f, _t: seen.append(f)),
    )
    assert run.status == RUN_SUCCEEDED and run.output_table == f"NEW_{model.name}_INF"
    assert (run.rows, run.warehouse_size, run.warehouse_type) == (86, "Small", "STANDARD")
    assert run.workers == min(2, __import__("os").cpu_count() or 1)
    assert run.total_seconds >= run.scoring_seconds > 0 and run.credits > 0
    assert seen[-1] == 1.0 and seen == sorted(seen)
    columns = _fetch(
        ws,
        "SELECT column_name, data_type FROM information_schema.columns "
        f"WHERE table_name = '{run.output_table}' ORDER BY ordinal_position",
    )
    assert columns[0] == ("ROW_ID", "BIGINT")
    assert columns[-2:] == [("PREDICTION", "VARCHAR"), ("PREDICTION_PROBABILITY", "DOUBLE")]
    with ws.cursor() as cur:  # the output records when it was made, as loaded tables do
        (comment,) = cur.execute(
            "SELECT comment FROM duckdb_tables() WHERE table_name = ?", [run.output_table]
        ).fetchone()
    assert sqlrun.parse_created(comment) is not None
    # Row for row what the pipeline predicts in memory, in input order.
    with ws.cursor() as cur:
        frame = cur.execute(f'SELECT * FROM "DATA"."{run.output_table}"').df()
    pipeline = load_artifact(ws.stage_dir("MODELS") / f"{model.name}.joblib", model.artifact_sha256).pipeline
    labels, proba = predict(pipeline, frame, model.features)
    assert list(frame["ROW_ID"]) == list(range(1, 87))
    assert list(frame["PREDICTION"]) == list(labels)
    assert frame["PREDICTION_PROBABILITY"].tolist() == pytest.approx(proba.tolist())
    # Labels were present: metrics computed in SQL and stored with the run.
    assert sum(map(sum, run.confusion_matrix)) == 86 and run.classes[:2] == model.classes
    accuracy = sum(run.confusion_matrix[i][i] for i in range(2)) / 86
    assert run.metrics["accuracy"] == pytest.approx(accuracy) and len(run.metrics["per_class"]) == 2
    assert models.get_run(run.run_id) == run
    assert models.list_runs(model=model.name)[0] == run
    assert models.list_runs(table="BC") == []


def test_a_run_starts_no_more_workers_than_it_has_batches(env, monkeypatch) -> None:
    import os

    ws, models, model = env
    models.close()  # no warm pool: the processes counted below are the ones this run started
    with ws.cursor() as cur:
        cur.execute('CREATE TABLE "DATA"."NO_ROWS" AS SELECT * FROM "DATA"."NEW" LIMIT 0')
    assert models.score(ScoreRequest(model=model.name, table="NO_ROWS", size="Small")).rows == 0
    assert models._pool.worker_pids() == []  # an empty table starts no process
    request = ScoreRequest(model=model.name, table="NEW", output="FEW_ROWS", size="Small", overwrite=True)
    run = models.score(request)  # 86 rows: one batch
    assert (run.rows, run.workers) == (86, 1) and len(models._pool.worker_pids()) == 1
    monkeypatch.setattr(models_module, "BATCH_ROWS", 16)  # six batches: the Small size's workers
    run = models.score(request)
    workers = min(2, os.cpu_count() or 1)
    assert run.workers == workers and len(models._pool.worker_pids()) == workers
    monkeypatch.setattr(models_module, "BATCH_ROWS", 65_536)  # one batch again: the warm pool serves it
    pids = models._pool.worker_pids()
    assert models.score(request).workers == 1 and models._pool.worker_pids() == pids
    assert _fetch(ws, 'SELECT count(*) FROM "DATA"."FEW_ROWS"') == [(86,)]


def test_output_exists_needs_overwrite(env) -> None:
    ws, models, model = env
    first = models.score(ScoreRequest(model=model.name, table="NEW", output="OUT_OW"))
    with pytest.raises(AlreadyExists, match="OUT_OW"):
        models.score(ScoreRequest(model=model.name, table="NEW", output="OUT_OW"))
    again = models.score(ScoreRequest(model=model.name, table="NEW", output="out_ow", overwrite=True))
    assert again.run_id > first.run_id and _fetch(ws, 'SELECT count(*) FROM "DATA"."OUT_OW"') == [(86,)]
    # Scoring an output again replaces its stale prediction columns instead of duplicating them.
    third = models.score(ScoreRequest(model=model.name, table="OUT_OW", output="OUT_OW2"))
    names = [
        r[0]
        for r in _fetch(ws, "SELECT column_name FROM information_schema.columns WHERE table_name='OUT_OW2'")
    ]
    assert names.count("PREDICTION") == 1 and third.rows == 86


def test_missing_features_are_named(env) -> None:
    ws, models, model = env
    with ws.cursor() as cur:
        cur.execute(
            'CREATE TABLE "DATA"."PARTIAL" AS SELECT * EXCLUDE (MEAN_RADIUS, WORST_AREA) FROM "DATA"."BC"'
        )
    assert models.check_scoring_input(model.name, "partial") == ["MEAN_RADIUS", "WORST_AREA"]
    assert models.check_scoring_input(model.name, "NEW") == []
    with pytest.raises(InvalidInput, match="MEAN_RADIUS, WORST_AREA"):
        models.score(ScoreRequest(model=model.name, table="PARTIAL"))
    with pytest.raises(NotFound):
        models.score(ScoreRequest(model="NO_SUCH_MODEL", table="NEW"))
    with pytest.raises(NotFound):
        models.score(ScoreRequest(model=model.name, table="NO_SUCH_TABLE"))
    assert "PARTIAL_" + model.name + "_INF" not in _tables(ws)
    failed = models.list_runs(table="PARTIAL")[0]  # a refused run is still logged, with the reason
    assert failed.status == RUN_FAILED and "MEAN_RADIUS" in failed.error and failed.output_table is None
    with pytest.raises(InvalidInput, match="being scored"):
        models.score(ScoreRequest(model=model.name, table="NEW", output="new"))


def test_a_text_column_for_a_numeric_feature_is_refused_with_the_count(env) -> None:
    ws, models, model = env
    with ws.cursor() as cur:
        # MEAN_RADIUS as text: two values that are not numbers, the rest numbers written as text.
        cur.execute(
            'CREATE TABLE "DATA"."TEXTY" AS SELECT * REPLACE (CASE WHEN ROW_ID IN (2, 5) THEN \'n/a\' '
            'ELSE MEAN_RADIUS::VARCHAR END AS MEAN_RADIUS) FROM "DATA"."NEW"'
        )
        cur.execute(
            'CREATE TABLE "DATA"."TEXT_NUMBERS" AS SELECT * REPLACE (MEAN_RADIUS::VARCHAR AS MEAN_RADIUS) '
            'FROM "DATA"."NEW"'
        )
    rows = _fetch(ws, 'SELECT count(*) FROM "DATA"."TEXTY"')[0][0]
    with pytest.raises(InvalidInput) as info:
        models.score(ScoreRequest(model=model.name, table="texty"))
    text = str(info.value)
    assert f"Column MEAN_RADIUS of table TEXTY is VARCHAR, but model {model.name} was trained on it as numbers" in text
    assert f"2 of its {rows} values cannot be converted to a number (e.g. 'n/a')" in text
    assert "--bad-numbers null" in text
    assert "TEXTY_" + model.name + "_INF" not in _tables(ws)
    assert models.list_runs(table="TEXTY")[0].status == RUN_FAILED
    # Text that holds only numbers scores as the numbers would.
    run = models.score(ScoreRequest(model=model.name, table="text_numbers"))
    assert run.status == RUN_SUCCEEDED and run.rows == rows


def test_tampered_or_deleted_artifact_is_refused_and_logged(env) -> None:
    ws, models, _ = env
    victim = models.train(TrainRequest(table="BC", target="DIAGNOSIS", method="gaussian_nb"))
    path = ws.stage_dir("MODELS") / f"{victim.name}.joblib"
    original = path.read_bytes()
    path.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    with pytest.raises(IntegrityError, match=victim.name):
        models.score(ScoreRequest(model=victim.name, table="NEW", output="TAMPERED"))
    path.unlink()
    with pytest.raises(NotFound, match=str(path).replace("\\", "\\\\")):
        models.score(ScoreRequest(model=victim.name, table="NEW", output="TAMPERED"))
    runs = models.list_runs(model=victim.name)
    assert [r.status for r in runs] == [RUN_FAILED, RUN_FAILED]
    assert "sha256" in runs[1].error and runs[0].output_table is None
    assert "TAMPERED" not in _tables(ws)


def _gappy_table(ws: Workspace, name: str) -> list[int]:
    """A table whose rowids have gaps (deleted rows, one whole batch of them); returns its ROW_IDs."""
    with ws.cursor() as cur:
        cur.execute(
            f'CREATE OR REPLACE TABLE "DATA"."{name}" AS '
            'SELECT row_number() OVER () AS ROW_ID, b.* FROM "DATA"."BC" b, range(3)'
        )
        cur.execute(f'DELETE FROM "DATA"."{name}" WHERE ROW_ID % 7 = 0 OR ROW_ID BETWEEN 100 AND 180')
        (gaps,) = cur.execute(f'SELECT max(rowid) + 1 - count(*) FROM "DATA"."{name}"').fetchone()
        assert gaps > 0
        return [r[0] for r in cur.execute(f'SELECT ROW_ID FROM "DATA"."{name}"').fetchall()]


def test_the_output_is_written_while_predicting_row_for_row_and_parts_do_not_pile_up(
    env, monkeypatch
) -> None:
    ws, models, model = env
    row_ids = _gappy_table(ws, "GAPS")
    monkeypatch.setattr(models_module, "BATCH_ROWS", 40)  # 43 ranges, one of them empty
    monkeypatch.setattr(scoring_pass, "BATCHES_PER_WRITE", 3)
    waiting: list[int] = []  # part files on disk at each output statement
    write = scoring_pass._OutputWriter.write

    def counting_write(self, batches) -> None:
        if batches:
            waiting.append(len(list(self._request.scratch.glob("part-*"))))
        write(self, batches)

    monkeypatch.setattr(scoring_pass._OutputWriter, "write", counting_write)
    run = models.score(ScoreRequest(model=model.name, table="GAPS", output="GAPS_OUT", size="Small"))
    assert run.rows == len(row_ids) and len(waiting) >= 10
    # Parts are deleted once written: never more than those in flight plus one statement's worth.
    assert max(waiting) <= run.workers * scoring_pass.BATCHES_PER_WORKER + 3
    assert not any((ws.root / ".scratch").iterdir())
    with ws.cursor() as cur:
        frame = cur.execute('SELECT * FROM "DATA"."GAPS_OUT"').df()
    pipeline = load_artifact(ws.stage_dir("MODELS") / f"{model.name}.joblib", model.artifact_sha256).pipeline
    labels, proba = predict(pipeline, frame, model.features)
    assert list(frame["ROW_ID"]) == row_ids
    assert list(frame["PREDICTION"]) == list(labels)
    assert frame["PREDICTION_PROBABILITY"].tolist() == pytest.approx(proba.tolist())


def test_a_run_cancelled_after_writing_part_of_the_output_keeps_the_old_output(env, monkeypatch) -> None:
    ws, models, model = env
    _gappy_table(ws, "GAPS2")
    monkeypatch.setattr(models_module, "BATCH_ROWS", 40)
    before = models.score(ScoreRequest(model=model.name, table="NEW", output="KEPT_OUT"))
    old = _fetch(ws, 'SELECT * FROM "DATA"."KEPT_OUT"')
    task = TaskContext()
    write = scoring_pass._OutputWriter.write
    statements: list[int] = []

    def cancelling_write(self, batches) -> None:
        write(self, batches)
        statements.append(len(batches))
        if len(statements) == 2:  # the output already holds rows of this run
            task.token.cancel()

    monkeypatch.setattr(scoring_pass._OutputWriter, "write", cancelling_write)
    request = ScoreRequest(model=model.name, table="GAPS2", output="KEPT_OUT", overwrite=True)
    with pytest.raises(Cancelled):
        models.score(request, task=task)
    assert len(statements) == 2 and _fetch(ws, 'SELECT * FROM "DATA"."KEPT_OUT"') == old
    assert [r.status for r in models.list_runs(table="GAPS2")] == [RUN_CANCELLED]
    assert models.list_runs(table="NEW")[0].run_id >= before.run_id
    assert not any((ws.root / ".scratch").iterdir())


def test_cancel_from_another_thread_leaves_no_table(env, monkeypatch) -> None:
    ws, models, model = env
    with ws.cursor() as cur:
        cur.execute('CREATE TABLE "DATA"."BIG" AS SELECT b.* FROM "DATA"."BC" b, range(200)')  # 96 600 rows
    monkeypatch.setattr(models_module, "BATCH_ROWS", 500)
    task = TaskContext()
    started = threading.Event()
    task.progress = lambda f, _t: started.set() if f > 0 else None
    canceller = threading.Thread(target=lambda: started.wait(30) and task.token.cancel())
    canceller.start()
    with pytest.raises(Cancelled):
        models.score(ScoreRequest(model=model.name, table="BIG", output="BIG_OUT"), task=task)
    canceller.join()
    assert "BIG_OUT" not in _tables(ws)
    assert models.list_runs(table="BIG")[0].status == RUN_CANCELLED
    assert not any((ws.root / ".scratch").iterdir())  # no part files left
    # The pool was killed; the next run gets a fresh one and succeeds.
    assert models.score(ScoreRequest(model=model.name, table="NEW", output="AFTER_CANCEL")).rows == 86


def test_empty_table_and_integer_target(env) -> None:
    ws, models, _ = env
    with ws.cursor() as cur:
        cur.execute(
            'CREATE TABLE "DATA"."BC_INT" AS SELECT * REPLACE '
            '(CASE WHEN DIAGNOSIS = \'malignant\' THEN 1 ELSE 0 END::BIGINT AS DIAGNOSIS) FROM "DATA"."BC"'
        )
        cur.execute('CREATE TABLE "DATA"."EMPTY" AS SELECT * FROM "DATA"."BC_INT" LIMIT 0')
    model = models.train(TrainRequest(table="BC_INT", target="DIAGNOSIS", method="decision_tree"))
    assert model.options["target_sql_type"] == "BIGINT"
    run = models.score(ScoreRequest(model=model.name, table="BC_INT", output="INT_OUT"))
    types = dict(
        _fetch(ws, "SELECT column_name, data_type FROM information_schema.columns WHERE table_name='INT_OUT'")
    )
    assert types["PREDICTION"] == "BIGINT" and run.classes == [0, 1]
    assert run.metrics["accuracy"] > 0.9
    empty = models.score(ScoreRequest(model=model.name, table="EMPTY"))
    assert empty.rows == 0 and empty.metrics is None
    assert _fetch(ws, f'SELECT count(*) FROM "DATA"."{empty.output_table}"') == [(0,)]


def test_a_worker_killed_mid_run_fails_the_run_cleanly(env, monkeypatch) -> None:
    import os
    import signal

    ws, models, model = env
    with ws.cursor() as cur:
        cur.execute('CREATE OR REPLACE TABLE "DATA"."MID" AS SELECT b.* FROM "DATA"."BC" b, range(100)')
    monkeypatch.setattr(models_module, "BATCH_ROWS", 500)
    killed: list[int] = []

    def progress(fraction: float, _text: str) -> None:
        if fraction > 0 and not killed:
            pid = models._pool.worker_pids()[0]  # a live worker of the warm pool
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    with pytest.raises(EngineError, match="worker process stopped"):
        models.score(
            ScoreRequest(model=model.name, table="MID", output="MID_OUT"), task=TaskContext(progress=progress)
        )
    assert killed and "MID_OUT" not in _tables(ws)
    assert models.list_runs(table="MID")[0].status == RUN_FAILED
    assert models.score(ScoreRequest(model=model.name, table="NEW", output="AFTER_KILL")).rows == 86


def test_cancel_all_stops_a_running_score_and_the_engine_stays_usable(env, monkeypatch) -> None:
    ws, models, model = env
    with ws.cursor() as cur:
        cur.execute('CREATE OR REPLACE TABLE "DATA"."MID2" AS SELECT b.* FROM "DATA"."BC" b, range(100)')
    monkeypatch.setattr(models_module, "BATCH_ROWS", 500)
    stopped: list[bool] = []

    def progress(fraction: float, _text: str) -> None:
        if fraction > 0 and not stopped:
            stopped.append(True)
            threading.Thread(target=models.cancel_all).start()

    with pytest.raises(EngineError, match="stopped"):
        models.score(
            ScoreRequest(model=model.name, table="MID2", output="MID2_OUT"),
            task=TaskContext(progress=progress),
        )
    assert "MID2_OUT" not in _tables(ws)
    assert models.score(ScoreRequest(model=model.name, table="NEW", output="AFTER_CANCEL_ALL")).rows == 86


def test_a_saved_threshold_labels_every_later_run_and_is_recorded(env) -> None:
    from snowml_desktop.core import threshold as th

    ws, models, model = env
    scores = models.get_model(model.name).curves["scores"]
    assert scores["positive"] == model.classes[1] and len(scores["truth"]) == model.rows_test
    plain = models.score(ScoreRequest(model.name, "NEW", "PLAIN_T", "X-Small", True))
    chosen = th.choose(scores, "target_recall", target_recall=1.0)
    try:
        saved = models.set_threshold(model.name.lower(), chosen.threshold)
        assert saved.threshold == chosen.threshold == models.get_model(model.name).threshold
        run = models.score(ScoreRequest(model.name, "NEW", "CUT_T", "X-Small", True))
        assert run.threshold == chosen.threshold and plain.threshold is None
        pipeline = load_artifact(
            ws.root / "stages" / "MODELS" / f"{model.name}.joblib", model.artifact_sha256
        )
        frame = ws.cursor().execute('SELECT * FROM "DATA"."NEW" ORDER BY ROW_ID').df()
        expected, _ = predict(pipeline.pipeline, frame, model.features, chosen.threshold)
        got = _fetch(ws, 'SELECT PREDICTION FROM "DATA"."CUT_T" ORDER BY ROW_ID')
        assert [r[0] for r in got] == expected.tolist()
        with pytest.raises(InvalidInput, match="between 0 and 1"):
            models.set_threshold(model.name, 1.5)
        assert models.set_threshold(model.name, None).threshold is None
    finally:
        models.set_threshold(model.name, None)


def test_a_threshold_is_refused_for_a_multiclass_model(tmp_path) -> None:
    from sklearn.datasets import load_iris

    ws = Workspace.open(tmp_path / "ws")
    iris = load_iris(as_frame=True).frame  # noqa: F841 - read by DuckDB's replacement scan below
    with ws.cursor() as cur:
        cur.execute('CREATE TABLE "DATA"."IRIS" AS SELECT * FROM iris')
    models = LocalModels(ws)
    try:
        model = models.train(TrainRequest(table="IRIS", target='"target"', method="gaussian_nb"))
        assert "scores" not in model.curves
        with pytest.raises(InvalidInput, match="binary models; this one has 3 classes"):
            models.set_threshold(model.name, 0.4)
        assert models.get_model(model.name).threshold is None
    finally:
        models.close()
        ws.close()


def test_an_older_workspace_gains_the_threshold_columns(tmp_path) -> None:
    import duckdb

    ws = Workspace.open(tmp_path / "ws")
    LocalModels(ws).close()
    ws.close()
    with duckdb.connect(str(tmp_path / "ws" / "warehouse.duckdb")) as con:
        con.execute('ALTER TABLE "APP"."MODELS_CATALOG" DROP COLUMN "THRESHOLD"')
        con.execute('ALTER TABLE "APP"."INFERENCE_RUNS" DROP COLUMN "THRESHOLD"')
    ws = Workspace.open(tmp_path / "ws")
    models = LocalModels(ws)
    try:
        columns = {
            r[0]
            for r in _fetch(
                ws,
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name IN ('MODELS_CATALOG', 'INFERENCE_RUNS') "
                "AND column_name = 'THRESHOLD'",
            )
        }
        assert columns == {"THRESHOLD"}
        assert (
            len(_fetch(ws, "SELECT * FROM information_schema.columns WHERE column_name = 'THRESHOLD'")) == 2
        )
    finally:
        models.close()
        ws.close()

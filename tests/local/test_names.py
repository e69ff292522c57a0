"""Table names the engine makes or reserves: internal names are refused to users, generated names stay
within the identifier limit and can be used (and dropped) like any table."""

from __future__ import annotations

import json

import pytest

from snowml_desktop.core.errors import InvalidInput
from snowml_desktop.core.identifiers import MAX_LENGTH, normalize
from snowml_desktop.engines.base import LoadRequest, ScoreRequest, TrainRequest
from snowml_desktop.engines.local.engine import LocalEngine
from snowml_desktop.engines.local.models import new_staging_name

FAST_RF = {"n_estimators": 5, "max_depth": 3}


def _data_tables(engine: LocalEngine) -> set[str]:
    with engine.workspace.cursor() as cur:
        rows = cur.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'DATA'"
        ).fetchall()
    return {r[0] for r in rows}


@pytest.mark.parametrize("name", ["__snowml_staging_mine", '"__snowml_staging_mine"', '"__SnowML_x"'])
def test_internal_names_are_refused_wherever_a_user_names_a_table(local_engine, name) -> None:
    local_engine.load(LoadRequest(stage="LOAD_DATA", file="BREAST_CANCER.csv", table="BC"))
    model = local_engine.train(TrainRequest(table="BC", target="DIAGNOSIS", params=FAST_RF))
    before = _data_tables(local_engine)
    with pytest.raises(InvalidInput, match="reserved") as load_error:
        local_engine.load(LoadRequest(stage="LOAD_DATA", file="BREAST_CANCER.csv", table=name))
    assert "__SNOWML_" in (load_error.value.hint or "")
    with pytest.raises(InvalidInput, match="reserved"):
        local_engine.score(ScoreRequest(model=model.name, table="BC", output=name))
    with pytest.raises(InvalidInput, match="reserved"):
        local_engine.create_demo_table(name, 10)
    with pytest.raises(InvalidInput, match="reserved"):
        local_engine.drop_table(name)
    assert _data_tables(local_engine) == before


def test_only_the_engines_own_staging_tables_are_swept_at_open(workspace) -> None:
    engine = LocalEngine(workspace)
    leftover = new_staging_name()
    with engine.workspace.cursor() as cur:  # as an older version let a user name a table
        cur.execute('CREATE TABLE "DATA"."__SNOWML_STAGING_MINE" AS SELECT 1 AS A')
        cur.execute(f'CREATE TABLE "DATA"."{leftover}" AS SELECT 1 AS A')  # as a crash leaves one
    engine.close()
    engine = LocalEngine(workspace)
    try:
        assert _data_tables(engine) == {"__SNOWML_STAGING_MINE"}
    finally:
        engine.close()


def test_generated_names_of_a_long_table_stay_usable(local_engine) -> None:
    long_name = "T" * MAX_LENGTH
    local_engine.load(LoadRequest(stage="LOAD_DATA", file="BREAST_CANCER.csv", table=long_name))
    model = local_engine.train(
        TrainRequest(table=long_name, target="DIAGNOSIS", params=FAST_RF, keep_clone=True)
    )
    run = local_engine.score(ScoreRequest(model=model.name, table=long_name))
    for generated in (model.training_table, run.output_table):
        assert generated != long_name and len(generated) <= MAX_LENGTH
        assert normalize(generated) == generated  # a user can type it back
        local_engine.drop_table(generated)
    assert _data_tables(local_engine) == {long_name}


def test_the_cli_refuses_an_internal_name_in_one_clear_line(workspace, capsys) -> None:
    from snowml_desktop.cli import main

    args = ["--workspace", str(workspace), "load", "LOAD_DATA/CHURN.csv", "--table", "__snowml_staging_mine"]
    assert main(args) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "reserved" in error and "__SNOWML_" in error
    assert main(["--workspace", str(workspace), "--json", "tables"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_a_table_with_a_reserved_column_name_is_refused_for_scoring(local_engine) -> None:
    local_engine.load(LoadRequest(stage="LOAD_DATA", file="BREAST_CANCER.csv", table="BC"))
    model = local_engine.train(TrainRequest(table="BC", target="DIAGNOSIS", params=FAST_RF))
    with local_engine.workspace.cursor() as cur:
        cur.execute('CREATE TABLE "DATA"."ODD" AS SELECT *, 1 AS "__SNOWML_RESULT" FROM "DATA"."BC"')
    with pytest.raises(InvalidInput, match="reserved") as info:
        local_engine.score(ScoreRequest(model=model.name, table="ODD"))
    assert "__SNOWML_RESULT" in info.value.message

"""The typed SQL builder: every statement parses with sqlglot's snowflake dialect to a real expression, or,
where sqlglot only knows a generic Command, its text is pinned against Snowflake's documentation examples."""

from __future__ import annotations

import re

import pytest
import sqlglot
from sqlglot import exp

from snowml_desktop.core import records
from snowml_desktop.core.errors import InvalidInput
from snowml_desktop.core.identifiers import qualified
from snowml_desktop.engines.snowflake import sql

HOSTILE = ['we"ird', "semi;colon --", "ünï cödé 表", "SELECT", "a'b\\c", "DROP TABLE X"]
FIXED_NAMES = {
    *sql.FILE_FORMATS,
    *(
        "TABLES",
        "COLUMNS",
        "PACKAGES",
        "ACCOUNT_USAGE",
        "SNOWFLAKE",
        "QUERY_ATTRIBUTION_HISTORY",
        "MODELS",
        "RUNS",
    ),
    *(sql.MODELS_CATALOG, sql.INFERENCE_RUNS, sql.SETUP_STATE, sql.SEQUENCE),
    *("ROWS_", "DRAWS", "BASE", "DERIVED", "SCORED"),  # the demo generator's CTEs
}
LOC = sql.Location("MY DB", "app;schema", 'da"ta')


def every_statement(name: str) -> list[sql.Statement]:
    """One of each statement the builder can emit, with ``name`` used for every table/column/object."""
    loc = sql.Location(name, name, name)
    return [
        sql.current_context(),
        sql.use_warehouse(name),
        sql.cancel_query("01b2-qid"),
        sql.roles_in_session([name, "SYSADMIN"]),
        sql.show_warehouses(name),
        sql.show_grants_on_warehouse(name),
        sql.alter_warehouse_set(
            name, size="Large", warehouse_type="SNOWPARK-OPTIMIZED", resource_constraint="memory_1x"
        ),
        sql.alter_warehouse_set(name, size="Small", generation="2", wait_for_completion=True),
        sql.suspend_warehouse(name),
        sql.resume_warehouse(name),
        sql.create_warehouse(name, size="MEDIUM", warehouse_type="SNOWPARK-OPTIMIZED", comment=name),
        sql.create_schema(loc, name, name),
        sql.create_stage(loc, name),
        sql.create_file_format(loc, "SNOWML_CSV_HEADER"),
        sql.create_file_format(loc, "SNOWML_CSV"),
        sql.create_file_format(loc, "SNOWML_PARQUET"),
        sql.create_catalog_table(loc),
        sql.create_runs_table(loc),
        sql.create_setup_state_table(loc),
        sql.read_setup_state(loc),
        sql.write_setup_state(loc, "version", '{"a": 1}'),
        sql.create_sequence(loc),
        sql.next_sequence_value(loc),
        sql.create_models_view(loc),
        sql.create_runs_view(loc),
        sql.python_packages(loc, ["scikit-learn", "pandas"]),
        sql.call_procedure(loc, "SNOWML_TRAIN", '{"table": "x"}'),
        sql.list_stage(loc, name),
        sql.put_file(loc, f"/tmp/{name}.csv", name),
        sql.remove_file(loc, name, f"{name}.joblib"),
        sql.infer_schema(loc, name, f"{name}.csv", "SNOWML_CSV_HEADER"),
        sql.create_table_columns(loc, name, [(name, "NUMBER(3, 0)"), (name + "2", "TEXT")]),
        sql.copy_into(loc, name, name, f"{name}.csv", "SNOWML_CSV_HEADER", by_name=True, force=True),
        sql.validate_load(loc, name, "01b2c3d4-0000-1234-0000-0001abcd1234"),
        sql.list_tables(loc),
        sql.column_counts(loc),
        sql.table_columns(loc, name),
        sql.preview(loc, name, 100),
        sql.profile_columns(loc, name, [(name, "numeric"), (name + "2", "text"), (name + "3", "other")]),
        sql.top_values(loc, name, name, 10),
        sql.null_and_total(loc, name, name),
        sql.numeric_range(loc, name, name),
        sql.histogram_counts(loc, name, name, 20, 0.0, 1.0),
        sql.correlation(loc, name, [name, name + "2", name + "3"]),
        sql.drop_table(loc, name),
        sql.drop_table_if_exists(loc, name),
        sql.create_table_like(loc, name + "_CLONE", name),
        sql.rename_table(loc, name + "_CLONE", name),
        sql.swap_tables(loc, name + "_CLONE", name),
        sql.clone_table(loc, name + "_CLONE", name),
        sql.comment_on_table(loc, name, name),
        sql.select_models(loc),
        sql.select_models(loc, name),
        sql.delete_model_row(loc, name),
        sql.delete_run_row(loc, 3),
        sql.select_runs(loc, model=name, table=name, run_id=3),
        sql.select_runs(loc),
        sql.drop_function(loc, name, ["FLOAT", "VARCHAR"]),
        sql.show_functions(loc, name),
        sql.query_credits(["q1", "q2"]),
        sql.update_run_credits(loc, 3, 0.25),
        sql.update_run_query_ids(loc, 3, '["q1"]'),
        sql.create_demo_churn_table(loc, name, 1000, 3, replace=True),
        sql.insert_record(loc, sql.INFERENCE_RUNS, records.INFERENCE_RUNS_COLUMNS, _run_row(name)),
    ]


def _run_row(name: str) -> dict:
    from datetime import datetime, timezone

    run = records.InferenceRun(
        3, datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc), name, name, None, 0, 1.5, 0.0, "Small",
        "STANDARD", None, 0.0, status=records.RUN_CANCELLED, error=f"{name} ? cancelled", query_ids=["q1"],
    )  # fmt: skip
    return records.run_to_row(run)


@pytest.mark.parametrize("name", ["SALES", *HOSTILE])
def test_parsed_statements_are_real_expressions_and_golden_ones_are_not(name: str) -> None:
    for statement in every_statement(name):
        assert statement.text.count("?") == len(statement.params), statement.text
        parsed = sqlglot.parse(statement.text, read="snowflake")
        assert len(parsed) == 1, f"one statement expected: {statement.text}"  # no injected second statement
        if statement.verify == sql.PARSED:
            assert not isinstance(parsed[0], exp.Command), statement.text


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_round_trip_as_identifiers(name: str) -> None:
    """Every identifier sqlglot finds is one we put there, exactly (quotes, unicode, reserved words kept)."""
    allowed = {name, name + "2", name + "3", name + "_CLONE", "INFORMATION_SCHEMA", "SNOWML_CSV_HEADER"}
    for statement in every_statement(name):
        if statement.verify != sql.PARSED:
            continue
        tree = sqlglot.parse_one(statement.text, read="snowflake")
        for table in tree.find_all(exp.Table):
            if table.name.startswith("@"):  # a stage reference: kept whole, exactly as quoted
                assert table.name == "@" + qualified(name, name, name), statement.text
                continue
            parts = [p for p in (table.catalog, table.db, table.name) if p]
            assert set(parts) <= allowed | FIXED_NAMES, statement.text
        for column in tree.find_all(exp.Column):
            if column.this.args.get("quoted") and column.name.startswith(name[:3]):
                assert column.name in allowed, statement.text


def _canon(text: str) -> str:
    """Compare with documentation examples: ignore identifier quotes/case, value quotes and layout."""
    text = re.sub(r'"((?:[^"]|"")*)"', lambda m: m.group(1).replace('""', '"'), text)
    text = re.sub(r"=\s*'([A-Za-z0-9_\-]+)'", r"= \1", text)
    return " ".join(text.upper().replace(";", "").split())


# (our statement, the documentation's example it must equal up to quoting and layout)
GOLDEN = [
    # ALTER WAREHOUSE examples (docs: SQL reference, ALTER WAREHOUSE; Snowpark-optimized warehouses)
    (sql.suspend_warehouse("my_wh"), "ALTER WAREHOUSE my_wh SUSPEND;"),
    (sql.alter_warehouse_set("my_wh", size="X-Large"), "ALTER WAREHOUSE my_wh SET WAREHOUSE_SIZE = XLARGE;"),
    (
        sql.alter_warehouse_set("so_warehouse", resource_constraint="MEMORY_1X_X86"),
        "ALTER WAREHOUSE so_warehouse SET RESOURCE_CONSTRAINT = 'MEMORY_1X_x86';",
    ),
    (
        sql.alter_warehouse_set("so_warehouse", warehouse_type="snowpark_optimized"),
        "ALTER WAREHOUSE so_warehouse SET WAREHOUSE_TYPE = 'SNOWPARK-OPTIMIZED';",
    ),
    (
        sql.alter_warehouse_set("my_wh", size="2X-Large", wait_for_completion=True),
        "ALTER WAREHOUSE my_wh SET WAREHOUSE_SIZE = XXLARGE WAIT_FOR_COMPLETION = TRUE;",
    ),
    (
        sql.alter_warehouse_set("my_wh", warehouse_type="STANDARD", size="SMALL"),
        "ALTER WAREHOUSE my_wh SET WAREHOUSE_TYPE = STANDARD WAREHOUSE_SIZE = SMALL;",
    ),
    # Generation (docs: "Snowflake generation 2 standard warehouses", changing a warehouse to Gen2)
    (
        sql.alter_warehouse_set("gen2_wh", resource_constraint="standard_gen_2"),
        "ALTER WAREHOUSE gen2_wh SET RESOURCE_CONSTRAINT = STANDARD_GEN_2;",
    ),
    (
        sql.alter_warehouse_set("old_to_new_xlarge_gen", generation="2"),
        "ALTER WAREHOUSE old_to_new_xlarge_gen SET GENERATION = '2';",
    ),
    (
        sql.alter_warehouse_set(
            "snowpark_optimized_medium_to_gen2", warehouse_type="STANDARD", generation="2"
        ),
        "ALTER WAREHOUSE snowpark_optimized_medium_to_gen2 SET WAREHOUSE_TYPE = STANDARD GENERATION = '2';",
    ),
    # RESUME IF SUSPENDED (docs: ALTER WAREHOUSE syntax, "{ SUSPEND | RESUME [ IF SUSPENDED ] }")
    (sql.resume_warehouse("my_wh"), "ALTER WAREHOUSE my_wh RESUME IF SUSPENDED;"),
    # CREATE WAREHOUSE (docs: Snowpark-optimized warehouses, "Creating a Snowpark-optimized warehouse")
    (
        sql.create_warehouse(
            "snowpark_opt_wh",
            size="MEDIUM",
            warehouse_type="SNOWPARK-OPTIMIZED",
            resource_constraint="MEMORY_16X_x86",
        ),
        "CREATE WAREHOUSE IF NOT EXISTS snowpark_opt_wh WITH WAREHOUSE_SIZE = 'MEDIUM' "
        "WAREHOUSE_TYPE = 'SNOWPARK-OPTIMIZED' RESOURCE_CONSTRAINT = 'MEMORY_16X_x86' "
        "AUTO_SUSPEND = 60 AUTO_RESUME = TRUE INITIALLY_SUSPENDED = TRUE;",
    ),
    # SHOW GRANTS (docs: SHOW GRANTS, "SHOW GRANTS ON <object_type> <object_name>")
    (sql.show_grants_on_warehouse("mywarehouse"), "SHOW GRANTS ON WAREHOUSE mywarehouse;"),
    # SHOW USER FUNCTIONS (docs: SHOW USER FUNCTIONS, "[ LIKE '<pattern>' ] [ IN SCHEMA <schema_name> ]")
    (
        sql.show_functions(sql.Location("mydb", "snowml"), "PREDICT_M_1"),
        "SHOW USER FUNCTIONS LIKE 'PREDICT_M_1' IN SCHEMA mydb.snowml;",
    ),
    # CALL (docs: CALL, "CALL <procedure_name> ( [ <arg> , ... ] )" with a bind variable)
    (
        sql.call_procedure(sql.Location("mydb", "snowml"), "SNOWML_TRAIN", "{}"),
        "CALL mydb.snowml.SNOWML_TRAIN(?);",
    ),
    # PUT (docs: PUT examples, "PUT file:///tmp/data/mydata.csv @my_int_stage AUTO_COMPRESS=FALSE" + OVERWRITE)
    (
        sql.put_file(sql.Location("d", "s"), "/tmp/data/mydata.csv", "my_int_stage"),
        "PUT 'file:///tmp/data/mydata.csv' @d.s.my_int_stage AUTO_COMPRESS = FALSE OVERWRITE = TRUE;",
    ),
    # REMOVE (docs: REMOVE, "REMOVE @mystage/path1/subpath2;" quoted as a whole)
    (
        sql.remove_file(sql.Location("d", "s"), "mystage", "path1/subpath2"),
        "REMOVE '@d.s.mystage/path1/subpath2';",
    ),
]


@pytest.mark.parametrize(("statement", "documented"), GOLDEN, ids=[d[:45] for _, d in GOLDEN])
def test_golden_statements_match_documentation_examples(statement: sql.Statement, documented: str) -> None:
    assert _canon(statement.text) == _canon(documented.replace("'file:", "'FILE:"))


def test_put_paths_follow_the_documented_forms() -> None:
    loc = sql.Location("D", "S")
    assert sql.put_file(loc, "C:\\Users\\ann\\my data.csv", "LOAD_DATA").text.startswith(
        "PUT 'file://C:/Users/ann/my data.csv' "
    )
    assert sql.put_file(loc, "/home/ann/it's.csv", "LOAD_DATA").text.startswith(
        "PUT 'file:///home/ann/it''s.csv' "
    )


def test_golden_exact_text_is_pinned() -> None:
    assert (
        sql.alter_warehouse_set(
            'wh"1', size="x-small", warehouse_type="SNOWPARK-OPTIMIZED", resource_constraint="MEMORY_1X"
        ).text
        == 'ALTER WAREHOUSE "wh""1" SET WAREHOUSE_TYPE = \'SNOWPARK-OPTIMIZED\' WAREHOUSE_SIZE = XSMALL '
        "RESOURCE_CONSTRAINT = MEMORY_1X"
    )
    assert sql.call_procedure(LOC, "SNOWML_SCORE", "{}").text == 'CALL "MY DB"."app;schema"."SNOWML_SCORE"(?)'
    assert sql.show_warehouses("it's").text == "SHOW WAREHOUSES LIKE 'it''s'"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: sql.alter_warehouse_set("W", size="HUGE"), "Unknown warehouse size"),
        (lambda: sql.alter_warehouse_set("W", warehouse_type="FAST"), "Unknown warehouse type"),
        (lambda: sql.alter_warehouse_set("W", resource_constraint="MEMORY_2X"), "RESOURCE_CONSTRAINT"),
        (lambda: sql.alter_warehouse_set("W"), "Nothing to change"),
        (
            lambda: sql.alter_warehouse_set("W", warehouse_type="STANDARD", resource_constraint="MEMORY_1X"),
            "for a standard warehouse",
        ),
        (
            lambda: sql.alter_warehouse_set("W", size="X6LARGE", resource_constraint="STANDARD_GEN_2"),
            "do not exist at 6X-Large",
        ),
        (
            lambda: sql.alter_warehouse_set(
                "W", size="SMALL", warehouse_type="SNOWPARK-OPTIMIZED", resource_constraint="MEMORY_16X"
            ),
            "at least Medium",
        ),
        (
            lambda: sql.create_warehouse(
                "W", size="XSMALL", warehouse_type="SNOWPARK-OPTIMIZED", resource_constraint="MEMORY_16X"
            ),
            "at least Medium",
        ),
        (
            lambda: sql.create_warehouse("W", size="LARGE", resource_constraint="MEMORY_1X"),
            "Snowpark-optimized warehouses only",
        ),
        (lambda: sql.alter_warehouse_set("W", generation="3"), "Unknown warehouse generation"),
        (lambda: sql.alter_warehouse_set("W", size="X5LARGE", generation="2"), "do not exist at 5X-Large"),
        (
            lambda: sql.alter_warehouse_set("W", warehouse_type="SNOWPARK-OPTIMIZED", generation="1"),
            "standard warehouses only",
        ),
        (lambda: sql.call_procedure(LOC, "DROP_ALL", "{}"), "Unknown procedure"),
        (lambda: sql.preview(LOC, "T", 10_001), "preview row limit"),
        (lambda: sql.remove_file(LOC, "MODELS", "../secrets"), "stage file path"),
        (lambda: sql.correlation(LOC, "T", ["A"]), "two numeric"),
        (lambda: sql.validate_load(LOC, "T", "x'); DROP TABLE T; --"), "not a Snowflake query id"),
        (lambda: sql.create_table_columns(LOC, "T", [("A", "NUMBER); DROP TABLE T; --")]), "unexpected column type"),
    ],
)
def test_builder_rejects_what_the_grammar_does_not_allow(call, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        call()


def test_resource_constraint_minimum_sizes_follow_the_documentation() -> None:
    assert sql.check_resource_constraint("memory_64x_X86", "LARGE") == "MEMORY_64X_x86"
    with pytest.raises(InvalidInput, match="at least Large"):
        sql.check_resource_constraint("MEMORY_64X", "MEDIUM")
    assert sql.check_resource_constraint("MEMORY_1X", "XSMALL") == "MEMORY_1X"


def test_record_tables_have_the_shared_layout_with_variant_json() -> None:
    tree = sqlglot.parse_one(sql.create_catalog_table(LOC).text, read="snowflake")
    columns = {c.name: c.args["kind"].sql("snowflake") for c in tree.find_all(exp.ColumnDef)}
    assert list(columns) == [c for c, _ in records.MODELS_CATALOG_COLUMNS]
    assert columns["METRICS"] == "VARIANT" and columns["CREATED_AT"].replace("_", "") == "TIMESTAMPNTZ"
    runs = sqlglot.parse_one(sql.create_runs_table(LOC).text, read="snowflake")
    assert [c.name for c in runs.find_all(exp.ColumnDef)] == [c for c, _ in records.INFERENCE_RUNS_COLUMNS]


def test_values_are_bound_not_inlined() -> None:
    evil = "x'); DROP TABLE T; --"
    for statement in (sql.select_models(LOC, evil), sql.delete_model_row(LOC, evil), sql.cancel_query(evil)):
        assert evil not in statement.text and statement.params[-1] == evil


def test_demo_table_sql_follows_the_churn_recipe() -> None:
    """The generator's SELECT, transpiled by sqlglot, runs in a real DuckDB: same columns as the CHURN demo
    file, reproducible for a seed, and the recipe's shares (the hash differs from Snowflake's; the
    distributions must not)."""
    import duckdb

    from snowml_desktop.core import demo_data

    def frame(seed: int):
        statement = sql.create_demo_churn_table(LOC, "DEMO", 20_000, seed, replace=False)
        select = sqlglot.parse_one(statement.text, read="snowflake").expression.sql("duckdb")
        return duckdb.connect().execute(select).df()

    df = frame(3)
    assert list(df.columns) == [c for c, _ in demo_data.CHURN_COLUMNS]
    assert df["CUSTOMER_ID"].is_unique and df["CUSTOMER_ID"].iloc[0] == "C000000001"
    assert df.equals(frame(3)) and not df.equals(frame(4))
    reference = demo_data.churn_frame(20_000, 3)
    assert abs((df["CHURNED"] == "Yes").mean() - (reference["CHURNED"] == "Yes").mean()) < 0.03
    assert abs(df["PAYMENT_METHOD"].isna().mean() - demo_data.MISSING_PAYMENT) < 0.01
    assert (df["AGE"].min(), df["AGE"].max()) == (18, 79)
    with pytest.raises(InvalidInput, match="demo rows"):
        sql.create_demo_churn_table(LOC, "DEMO", 0, 1, replace=False)


def test_insert_record_binds_every_value_and_parses_json() -> None:
    row = _run_row('we"ird')
    statement = sql.insert_record(LOC, sql.INFERENCE_RUNS, records.INFERENCE_RUNS_COLUMNS, row)
    tree = sqlglot.parse_one(statement.text, read="snowflake")
    assert isinstance(tree, exp.Insert)
    assert [c.name for c in tree.this.expressions] == [c for c, _ in records.INFERENCE_RUNS_COLUMNS]
    json_columns = sum(kind == records.JSON for _, kind in records.INFERENCE_RUNS_COLUMNS)
    assert statement.text.count("PARSE_JSON(?)") == json_columns and "TO_TIMESTAMP_NTZ(?)" in statement.text
    assert statement.params[1] == "2026-01-02 03:04:05"  # UTC, as the NTZ column holds it
    assert statement.params[12:14] == ("CANCELLED", 'we"ird ? cancelled')  # values never in the text
    assert 'we"ird' not in statement.text


def test_query_tag_names_the_app_version_and_operation() -> None:
    from snowml_desktop import __version__

    assert sql.query_tag("score") == f"snowml-desktop/{__version__}/score"
    assert sql.query_tag("x'; DROP") == f"snowml-desktop/{__version__}/x___DROP"


@pytest.mark.parametrize(
    ("inferred", "widened"),
    [
        ("NUMBER(1, 0)", "NUMBER(38,0)"),
        ("NUMBER(4,2)", "FLOAT"),
        ("TEXT", "VARCHAR"),
        ("VARCHAR(12)", "VARCHAR"),
        ("REAL", "REAL"),
        ("BOOLEAN", "BOOLEAN"),
        ("TIMESTAMP_NTZ", "TIMESTAMP_NTZ"),
    ],
)
def test_inferred_types_are_widened_to_hold_rows_beyond_the_sample(inferred: str, widened: str) -> None:
    assert sql.widen_type(inferred) == widened


def test_validate_takes_the_copy_query_id_as_a_documented_literal() -> None:
    """VALIDATE's JOB_ID is '<query_id>' | '_last' (docs.snowflake.com/en/sql-reference/functions/validate)."""
    statement = sql.validate_load(LOC, "T", "01B2C3D4-0000-1234-0000-0001ABCD1234")
    assert statement.params == ()
    assert statement.text.endswith("JOB_ID => '01b2c3d4-0000-1234-0000-0001abcd1234'))")

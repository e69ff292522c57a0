"""Every SQL statement the Snowflake engine (and its stored procedures) emits, built in one typed place.

Rules kept by every function here:
- Identifiers only through ``core.identifiers.quote``/``qualified``; names passed in are canonical.
- Values are bind parameters (``?``, the connector's qmark style that Snowpark enables) wherever Snowflake's
  grammar allows one; elsewhere (DDL comments, stage paths, SHOW ... LIKE) they are string literals built by
  ``string_literal(..., backslash_escapes=True)``.
- Each :class:`Statement` says how it is verified offline. ``PARSED``: sqlglot's snowflake dialect reads it as
  a real expression (the tests assert that). ``GOLDEN``: sqlglot reads it only as a generic ``Command`` (or
  accepts any property), so its property names and values are checked here against the documented grammar
  (ALTER/CREATE WAREHOUSE, SHOW GRANTS, CALL, REMOVE, PUT) and its exact text is pinned by golden tests
  taken from Snowflake's documentation examples.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from snowml_desktop import __version__
from snowml_desktop.core import records, sizes
from snowml_desktop.core.errors import InvalidInput
from snowml_desktop.core.identifiers import qualified, quote, string_literal

PARSED = "parsed"
GOLDEN = "golden"

# Documented RESOURCE_CONSTRAINT values for Snowpark-optimized warehouses, with the smallest size each
# allows (Snowflake docs, "Snowpark-optimized warehouses": 16 GB -> XSMALL, 256 GB -> MEDIUM, 1 TB -> LARGE).
RESOURCE_CONSTRAINTS: dict[str, str] = {
    "MEMORY_1X": "XSMALL",
    "MEMORY_1X_x86": "XSMALL",
    "MEMORY_16X": "MEDIUM",
    "MEMORY_16X_x86": "MEDIUM",
    "MEMORY_64X": "LARGE",
    "MEMORY_64X_x86": "LARGE",
}
#: Snowflake's default for a Snowpark-optimized warehouse when RESOURCE_CONSTRAINT is not given.
DEFAULT_RESOURCE_CONSTRAINT = "MEMORY_16X"
#: A standard warehouse's generation: ``GENERATION = '1'|'2'`` (docs: ALTER WAREHOUSE; "Snowflake generation 2
#: standard warehouses" calls it the recommended form; Gen2 not at 5X-Large and 6X-Large). Bundle 2026_02
#: (bcr-2225) stops the older RESOURCE_CONSTRAINT = STANDARD_GEN_1|2 form, which accounts without GENERATION
#: still need; 2026_03 (bcr-2250) may make Gen2 whatever an ALTER leaves unstated, so every ALTER of a
#: standard warehouse states its generation.
GENERATIONS = ("1", "2")
STANDARD_GENERATIONS = ("STANDARD_GEN_1", "STANDARD_GEN_2")
_NO_GEN_2 = ("X5LARGE", "X6LARGE")

# Logical record column types -> Snowflake column types.
SNOWFLAKE_TYPES = {
    records.TEXT: "VARCHAR",
    records.TIMESTAMP: "TIMESTAMP_NTZ",
    records.INTEGER: "NUMBER(38,0)",
    records.DOUBLE: "FLOAT",
    records.JSON: "VARIANT",
}

MODELS_CATALOG = "MODELS_CATALOG"
INFERENCE_RUNS = "INFERENCE_RUNS"
SETUP_STATE = "SETUP_STATE"
SEQUENCE = "SNOWML_SEQ"
STAGES = ("LOAD_DATA", "MODELS", "PROCEDURES")
FILE_FORMATS = {  # name -> documented file format options
    "SNOWML_CSV_HEADER": "TYPE = CSV PARSE_HEADER = TRUE FIELD_OPTIONALLY_ENCLOSED_BY = '\"' EMPTY_FIELD_AS_NULL = TRUE",
    "SNOWML_CSV": "TYPE = CSV SKIP_HEADER = 0 FIELD_OPTIONALLY_ENCLOSED_BY = '\"' EMPTY_FIELD_AS_NULL = TRUE",
    "SNOWML_PARQUET": "TYPE = PARQUET",
}
PROCEDURES = ("SNOWML_LOAD", "SNOWML_TRAIN", "SNOWML_SCORE", "SNOWML_COMPARE")
MAX_PREVIEW = 10_000
#: A load builds its table under ``<table><LOADING_SUFFIX>`` and renames/swaps it in when complete; the
#: engine hides such tables (a load in progress or interrupted) and drops one an interrupted load left.
LOADING_SUFFIX = "__SNOWML_LOADING"


def query_tag(operation: str) -> str:
    """``snowml-desktop/<version>/<operation>``, the QUERY_TAG of every statement the app sends (from the
    desktop and inside its procedures), so an admin can attribute warehouse cost to this app."""
    clean = re.sub(r"[^A-Za-z0-9_.\-]", "_", operation)[:64] or "op"
    return f"snowml-desktop/{__version__}/{clean}"


@dataclass(frozen=True)
class Statement:
    """One statement: its text, its bind values in order, and how it is verified offline."""

    text: str
    params: tuple[Any, ...] = ()
    verify: str = PARSED

    def __post_init__(self) -> None:
        if self.text.count("?") < len(self.params):
            raise InvalidInput("Internal error: more bind values than placeholders.")


@dataclass(frozen=True)
class Location:
    """Where the app lives: database, app schema (catalog, stages, sprocs) and user data schema."""

    database: str
    app_schema: str = "SNOWML"
    data_schema: str = "DATA"

    def app(self, name: str) -> str:
        return qualified(self.database, self.app_schema, name)

    def data(self, name: str) -> str:
        return qualified(self.database, self.data_schema, name)

    def stage(self, name: str, path: str = "") -> str:
        """``@"DB"."SNOWML"."STAGE"`` or with a path; a path is a literal, so the whole reference is quoted."""
        if not path:
            return "@" + self.app(name)
        return string_literal("@" + self.app(name) + "/" + _stage_path(path), backslash_escapes=True)


def _stage_path(path: str) -> str:
    clean = path.strip().lstrip("/")
    if not clean or ".." in clean.split("/") or any(ord(c) < 32 for c in clean):
        raise InvalidInput(
            f"{path!r} is not a usable stage file path.", hint="Use a plain file name such as churn.csv."
        )
    return clean


def _lit(value: str) -> str:
    return string_literal(value, backslash_escapes=True)


def _int(value: int, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"The {what} must be a whole number from {low} to {high}, not {value!r}.")
    return value


# --- session context ------------------------------------------------------------------------------


def current_context() -> Statement:
    return Statement(
        "SELECT CURRENT_ACCOUNT() AS ACCOUNT, CURRENT_USER() AS USER_NAME, CURRENT_ROLE() AS ROLE_NAME, "
        "CURRENT_DATABASE() AS DATABASE_NAME, CURRENT_SCHEMA() AS SCHEMA_NAME, CURRENT_WAREHOUSE() AS WAREHOUSE"
    )


def use_warehouse(name: str) -> Statement:
    return Statement(f"USE WAREHOUSE {quote(name)}")


def cancel_query(query_id: str) -> Statement:
    return Statement("SELECT SYSTEM$CANCEL_QUERY(?) AS RESULT", (query_id,))


def roles_in_session(roles: Sequence[str]) -> Statement:
    """One row: R0..Rn are TRUE when that role is in the session's role hierarchy."""
    if not roles:
        raise InvalidInput("Internal error: no roles to check.")
    items = ", ".join(f"IS_ROLE_IN_SESSION(?) AS {quote(f'R{i}')}" for i in range(len(roles)))
    return Statement(f"SELECT {items}", tuple(roles))


# --- account check (doctor): read-only statements --------------------------------------------------

#: Object kinds the account check lists grants on (SHOW GRANTS ON <object_type> <object_name>,
#: https://docs.snowflake.com/en/sql-reference/sql/show-grants).
GRANT_OBJECTS = ("DATABASE", "SCHEMA", "WAREHOUSE", "PROCEDURE")


def session_roles() -> Statement:
    """The primary role, the secondary roles (a JSON text, CURRENT_SECONDARY_ROLES) and the region."""
    return Statement(
        "SELECT CURRENT_ROLE() AS ROLE_NAME, CURRENT_SECONDARY_ROLES() AS SECONDARY_ROLES, "
        "CURRENT_REGION() AS REGION"
    )


def show_grants_on(kind: str, name: str) -> Statement:
    """SHOW GRANTS ON <kind> <name>; ``name`` is already qualified and quoted (a procedure's with its
    argument types). GOLDEN: sqlglot reads SHOW GRANTS as a Command."""
    if kind not in GRANT_OBJECTS:
        raise InvalidInput(f"Internal error: no grants are listed on {kind!r}.")
    return Statement(f"SHOW GRANTS ON {kind} {name}", verify=GOLDEN)


def show_grants_on_account() -> Statement:
    return Statement("SHOW GRANTS ON ACCOUNT", verify=GOLDEN)


def show_future_grants(loc: Location, schema: str) -> Statement:
    return Statement(f"SHOW FUTURE GRANTS IN SCHEMA {qualified(loc.database, schema)}", verify=GOLDEN)


def existing_schemas(loc: Location) -> Statement:
    """Which of the app and data schemas exist (and are visible to the role)."""
    return Statement(
        'SELECT "SCHEMA_NAME" '
        f"FROM {qualified(loc.database, 'INFORMATION_SCHEMA', 'SCHEMATA')} "
        'WHERE "SCHEMA_NAME" IN (?, ?)',
        (loc.app_schema, loc.data_schema),
    )


# --- warehouses (GOLDEN: sqlglot reads ALTER WAREHOUSE / SHOW GRANTS only as Command) --------------


def show_warehouses(name: str) -> Statement:
    """SHOW WAREHOUSES LIKE '<name>'. LIKE is a case-insensitive pattern, so callers filter rows by exact name."""
    return Statement(f"SHOW WAREHOUSES LIKE {_lit(name)}")


def show_grants_on_warehouse(name: str) -> Statement:
    return Statement(f"SHOW GRANTS ON WAREHOUSE {quote(name)}", verify=GOLDEN)


def _type_sql(warehouse_type: str) -> str:
    kind = sizes.parse_type(warehouse_type)
    return "STANDARD" if kind == sizes.STANDARD else "'SNOWPARK-OPTIMIZED'"


def check_resource_constraint(value: str, size: str | None = None) -> str:
    """The documented spelling of a Snowpark-optimized RESOURCE_CONSTRAINT; with ``size``, also check that
    the size is at least the constraint's minimum. Raises InvalidInput saying which sizes are allowed."""
    for known, minimum in RESOURCE_CONSTRAINTS.items():
        if known.upper() == str(value).strip().upper():
            if size is not None and sizes.parse_size(size).index < sizes.parse_size(minimum).index:
                raise InvalidInput(
                    f"A Snowpark-optimized warehouse with RESOURCE_CONSTRAINT {known} must be at least "
                    f"{sizes.parse_size(minimum).label}, not {sizes.parse_size(size).label}.",
                    hint="Pick a larger size or MEMORY_1X (16 GB, from X-Small).",
                )
            return known
    raise InvalidInput(
        f"Unknown RESOURCE_CONSTRAINT {value!r}.", hint="Use one of: " + ", ".join(RESOURCE_CONSTRAINTS) + "."
    )


def check_standard_generation(value: str, size: str | None = None) -> str:
    """The documented spelling of a standard warehouse's RESOURCE_CONSTRAINT; with ``size``, also check that
    the generation exists at that size. Raises InvalidInput."""
    known = str(value).strip().upper()
    if known not in STANDARD_GENERATIONS:
        raise InvalidInput(
            f"Unknown RESOURCE_CONSTRAINT {value!r} for a standard warehouse.",
            hint="Use one of: " + ", ".join(STANDARD_GENERATIONS) + ".",
        )
    if known == "STANDARD_GEN_2" and size is not None and sizes.parse_size(size).sql in _NO_GEN_2:
        raise InvalidInput(
            f"Generation 2 standard warehouses do not exist at {sizes.parse_size(size).label}.",
            hint="Pick 4X-Large or smaller, or STANDARD_GEN_1.",
        )
    return known


def resource_constraint_sql(value: str, warehouse_type: str | None = None, size: str | None = None) -> str:
    """A RESOURCE_CONSTRAINT value checked against the documented values of ``warehouse_type`` (without a
    type: whichever family the value belongs to). Raises InvalidInput."""
    kind = sizes.parse_type(warehouse_type) if warehouse_type is not None else None
    standard = str(value).strip().upper().startswith("STANDARD_")
    if kind == sizes.STANDARD or (kind is None and standard):
        return check_standard_generation(value, size)
    return check_resource_constraint(value, size)


def check_generation(value: str, size: str | None = None) -> str:
    """A standard warehouse's GENERATION ('1' or '2'); with ``size``, also check that it exists at that size.
    Raises InvalidInput."""
    known = str(value).strip()
    if known not in GENERATIONS:
        raise InvalidInput(f"Unknown warehouse generation {value!r}.", hint="Use '1' or '2'.")
    if known == "2" and size is not None and sizes.parse_size(size).sql in _NO_GEN_2:
        raise InvalidInput(
            f"Generation 2 standard warehouses do not exist at {sizes.parse_size(size).label}.",
            hint="Pick 4X-Large or smaller, or generation 1.",
        )
    return known


def generation_constraint(generation: str) -> str:
    """The older RESOURCE_CONSTRAINT spelling of a generation, for accounts that reject GENERATION."""
    return STANDARD_GENERATIONS[GENERATIONS.index(check_generation(generation))]


def alter_warehouse_set(
    name: str,
    *,
    size: str | None = None,
    warehouse_type: str | None = None,
    generation: str | None = None,
    resource_constraint: str | None = None,
    wait_for_completion: bool | None = None,
) -> Statement:
    """ALTER WAREHOUSE <name> SET [WAREHOUSE_TYPE = ..] [WAREHOUSE_SIZE = ..] [GENERATION = ..]
    [RESOURCE_CONSTRAINT = ..] [WAIT_FOR_COMPLETION = ..]. Values are checked against the documented
    grammar (GENERATION only for a standard warehouse); raises InvalidInput."""
    parts = []
    if warehouse_type is not None:
        parts.append(f"WAREHOUSE_TYPE = {_type_sql(warehouse_type)}")
    if size is not None:
        parts.append(f"WAREHOUSE_SIZE = {sizes.parse_size(size).sql}")
    if generation is not None:
        if warehouse_type is not None and sizes.parse_type(warehouse_type) != sizes.STANDARD:
            raise InvalidInput("GENERATION applies to standard warehouses only.")
        parts.append(f"GENERATION = '{check_generation(generation, size)}'")
    if resource_constraint is not None:
        parts.append(
            f"RESOURCE_CONSTRAINT = {resource_constraint_sql(resource_constraint, warehouse_type, size)}"
        )
    if wait_for_completion is not None:
        parts.append(f"WAIT_FOR_COMPLETION = {'TRUE' if wait_for_completion else 'FALSE'}")
    if not parts:
        raise InvalidInput("Nothing to change on the warehouse.")
    return Statement(f"ALTER WAREHOUSE {quote(name)} SET {' '.join(parts)}", verify=GOLDEN)


def suspend_warehouse(name: str) -> Statement:
    return Statement(f"ALTER WAREHOUSE {quote(name)} SUSPEND", verify=GOLDEN)


def resume_warehouse(name: str) -> Statement:
    """RESUME IF SUSPENDED: succeeds whether or not the warehouse is running (docs: ALTER WAREHOUSE)."""
    return Statement(f"ALTER WAREHOUSE {quote(name)} RESUME IF SUSPENDED", verify=GOLDEN)


def create_warehouse(
    name: str,
    *,
    size: str,
    warehouse_type: str = sizes.STANDARD,
    resource_constraint: str | None = None,
    auto_suspend: int = 60,
    comment: str | None = None,
) -> Statement:
    """CREATE WAREHOUSE IF NOT EXISTS, created suspended with auto-resume (a dedicated training warehouse).
    sqlglot accepts any property here, so it is GOLDEN too."""
    size_sql = sizes.parse_size(size).sql
    parts = [f"WAREHOUSE_SIZE = {size_sql}", f"WAREHOUSE_TYPE = {_type_sql(warehouse_type)}"]
    if resource_constraint is not None:
        if sizes.parse_type(warehouse_type) != sizes.SNOWPARK_OPTIMIZED:
            raise InvalidInput(
                "RESOURCE_CONSTRAINT memory options apply to Snowpark-optimized warehouses only."
            )
        parts.append(f"RESOURCE_CONSTRAINT = {check_resource_constraint(resource_constraint, size_sql)}")
    parts += [
        f"AUTO_SUSPEND = {_int(auto_suspend, 'auto-suspend time in seconds', 0, 86_400 * 30)}",
        "AUTO_RESUME = TRUE",
        "INITIALLY_SUSPENDED = TRUE",
    ]
    if comment:
        parts.append(f"COMMENT = {_lit(comment)}")
    return Statement(f"CREATE WAREHOUSE IF NOT EXISTS {quote(name)} WITH {' '.join(parts)}", verify=GOLDEN)


# --- setup -----------------------------------------------------------------------------------------


def create_schema(loc: Location, schema: str, comment: str) -> Statement:
    return Statement(
        f"CREATE SCHEMA IF NOT EXISTS {qualified(loc.database, schema)} COMMENT = {_lit(comment)}"
    )


def create_stage(loc: Location, stage: str) -> Statement:
    # Server-side encryption keeps the stage readable by sprocs and downloadable with presigned URLs.
    return Statement(
        f"CREATE STAGE IF NOT EXISTS {loc.app(stage)} ENCRYPTION = (TYPE = 'SNOWFLAKE_SSE') "
        f"COMMENT = {_lit('snowml-desktop')}"
    )


def create_file_format(loc: Location, name: str) -> Statement:
    return Statement(f"CREATE FILE FORMAT IF NOT EXISTS {loc.app(name)} {FILE_FORMATS[name]}")


def create_record_table(loc: Location, table: str, columns: Sequence[tuple[str, str]]) -> Statement:
    """A catalog-style table in the app schema with the shared record layout (JSON -> VARIANT)."""
    body = ", ".join(f"{quote(name)} {SNOWFLAKE_TYPES[kind]}" for name, kind in columns)
    return Statement(f"CREATE TABLE IF NOT EXISTS {loc.app(table)} ({body})")


def add_record_columns(loc: Location, table: str, columns: Sequence[tuple[str, str]]) -> list[Statement]:
    """Columns a newer layout has, added to a table an older setup made (a no-op where they exist):
    ALTER TABLE ... ADD COLUMN IF NOT EXISTS (https://docs.snowflake.com/en/sql-reference/sql/alter-table)."""
    return [
        Statement(f"ALTER TABLE {loc.app(table)} ADD COLUMN IF NOT EXISTS {quote(name)} {SNOWFLAKE_TYPES[kind]}")
        for name, kind in columns
    ]


def create_catalog_table(loc: Location) -> Statement:
    return create_record_table(loc, MODELS_CATALOG, records.MODELS_CATALOG_COLUMNS)


def create_runs_table(loc: Location) -> Statement:
    return create_record_table(loc, INFERENCE_RUNS, records.INFERENCE_RUNS_COLUMNS)


def insert_record(
    loc: Location, table: str, columns: Sequence[tuple[str, str]], row: dict[str, Any]
) -> Statement:
    """INSERT one catalog/runs row (``records.*_to_row`` layout: JSON columns as text) with bound values.
    ``INSERT ... SELECT`` because Snowflake refuses PARSE_JSON inside VALUES; timestamps are bound as ISO
    text (UTC) and converted with TO_TIMESTAMP_NTZ."""
    names = ", ".join(quote(name) for name, _ in columns)
    marks = {records.JSON: "PARSE_JSON(?)", records.TIMESTAMP: "TO_TIMESTAMP_NTZ(?)"}
    values = [marks.get(kind, "?") for _, kind in columns]
    params = tuple(_utc_text(row[name]) if kind == records.TIMESTAMP else row[name] for name, kind in columns)
    return Statement(f"INSERT INTO {loc.app(table)} ({names}) SELECT {', '.join(values)}", params)


def _utc_text(value: Any) -> str:
    from datetime import timezone

    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value.isoformat(sep=" ")


def create_setup_state_table(loc: Location) -> Statement:
    return Statement(
        f"CREATE TABLE IF NOT EXISTS {loc.app(SETUP_STATE)} "
        '("KEY" VARCHAR, "VALUE" VARIANT, "UPDATED_AT" TIMESTAMP_NTZ)'
    )


def read_setup_state(loc: Location) -> Statement:
    return Statement(f'SELECT "KEY", "VALUE" FROM {loc.app(SETUP_STATE)}')


def write_setup_state(loc: Location, key: str, value_json: str) -> Statement:
    return Statement(
        f"MERGE INTO {loc.app(SETUP_STATE)} AS T "
        'USING (SELECT ? AS "KEY", PARSE_JSON(?) AS "VALUE") AS S ON T."KEY" = S."KEY" '
        'WHEN MATCHED THEN UPDATE SET "VALUE" = S."VALUE", "UPDATED_AT" = CURRENT_TIMESTAMP() '
        'WHEN NOT MATCHED THEN INSERT ("KEY", "VALUE", "UPDATED_AT") '
        'VALUES (S."KEY", S."VALUE", CURRENT_TIMESTAMP())',
        (key, value_json),
    )


def create_sequence(loc: Location) -> Statement:
    return Statement(f"CREATE SEQUENCE IF NOT EXISTS {loc.app(SEQUENCE)} START = 1 INCREMENT = 1")


def next_sequence_value(loc: Location) -> Statement:
    return Statement(f'SELECT {loc.app(SEQUENCE)}.NEXTVAL AS "N"')


_MODEL_METRICS = ("accuracy", "balanced_accuracy", "f1_macro", "roc_auc", "average_precision")


def create_models_view(loc: Location) -> Statement:
    """MODELS: one flat row per model for SQL users (metrics as columns)."""
    metrics = ", ".join(f'"METRICS":"{m}"::FLOAT AS {quote(m.upper())}' for m in _MODEL_METRICS)
    return Statement(
        f"CREATE OR REPLACE VIEW {loc.app('MODELS')} AS SELECT "
        '"MODEL_NAME", "CREATED_AT", "METHOD", "SOURCE_TABLE", "TARGET", '
        f'{metrics}, "WAREHOUSE_SIZE", "WAREHOUSE_TYPE", "TRAIN_SECONDS", "ARTIFACT_PATH" '
        f"FROM {loc.app(MODELS_CATALOG)}"
    )


def create_runs_view(loc: Location) -> Statement:
    """RUNS: one flat row per inference run for SQL users."""
    return Statement(
        f"CREATE OR REPLACE VIEW {loc.app('RUNS')} AS SELECT "
        '"RUN_ID", "CREATED_AT", "MODEL_NAME", "SOURCE_TABLE", "OUTPUT_TABLE", "ROWS", "TOTAL_SECONDS", '
        '"SCORING_SECONDS", "WAREHOUSE_SIZE", "WAREHOUSE_TYPE", "CREDITS", "STATUS", '
        '"METRICS":"accuracy"::FLOAT AS "ACCURACY", COALESCE("KIND", \'SCORE\') AS "KIND" '
        f"FROM {loc.app(INFERENCE_RUNS)}"
    )


def python_packages(loc: Location, names: Sequence[str]) -> Statement:
    """Versions of ``names`` in the account's Anaconda channel, for every Python runtime."""
    marks = ", ".join("?" for _ in names)
    return Statement(
        'SELECT "PACKAGE_NAME", "VERSION", "RUNTIME_VERSION" '
        f"FROM {qualified(loc.database, 'INFORMATION_SCHEMA', 'PACKAGES')} "
        f'WHERE "LANGUAGE" = \'python\' AND "PACKAGE_NAME" IN ({marks})',
        tuple(names),
    )


def call_procedure(loc: Location, procedure: str, request_json: str) -> Statement:
    """CALL <app schema>.<SNOWML_*>(?) with the request JSON as a bind value. GOLDEN: sqlglot reads CALL
    as a Command."""
    if procedure not in PROCEDURES:
        raise InvalidInput(f"Unknown procedure {procedure!r}.")
    return Statement(f"CALL {loc.app(procedure)}(?)", (request_json,), verify=GOLDEN)


# --- stages and loading ------------------------------------------------------------------------------


def list_stage(loc: Location, stage: str) -> Statement:
    return Statement(f"LIST {loc.stage(stage)}")


def put_file(loc: Location, local_path: str, stage: str) -> Statement:
    """PUT a local file as is (no gzip, replacing a same-named file). The path is a quoted file URI."""
    # Documented forms: file:///tmp/data/x.csv (absolute POSIX path) and file://C:/temp/x.csv (Windows).
    uri = "file://" + local_path.replace("\\", "/")
    return Statement(
        f"PUT {_lit(uri)} {loc.stage(stage)} AUTO_COMPRESS = FALSE OVERWRITE = TRUE", verify=GOLDEN
    )


def remove_file(loc: Location, stage: str, path: str) -> Statement:
    return Statement(f"REMOVE {loc.stage(stage, path)}", verify=GOLDEN)


def infer_schema(loc: Location, stage: str, path: str, file_format: str) -> Statement:
    """The columns INFER_SCHEMA reads from one stage file (COLUMN_NAME, TYPE, NULLABLE, ORDER_ID). IGNORE_CASE
    upper-cases the header's names, as Snowflake canonicalizes unquoted names, so users need not quote
    ``age``. The types come from a sample of the file: :func:`widen_type` makes them hold the rest."""
    location = _lit("@" + loc.app(stage) + "/" + _stage_path(path))
    fmt = _lit(loc.app(file_format))
    return Statement(
        'SELECT "COLUMN_NAME", "TYPE", "NULLABLE", "ORDER_ID" FROM TABLE(INFER_SCHEMA('
        f"LOCATION => {location}, FILE_FORMAT => {fmt}, IGNORE_CASE => TRUE)) ORDER BY \"ORDER_ID\""
    )


_INFERRED_TYPE = re.compile(r"^([A-Z_]+(?: [A-Z_]+)*)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?$")
_TEXT_TYPES = {"TEXT", "VARCHAR", "STRING", "CHAR", "CHARACTER"}


def widen_type(inferred: str) -> str:
    """A column type that holds every row of the file, not only the rows INFER_SCHEMA sampled: whole
    numbers NUMBER(p,0) -> NUMBER(38,0) (the widest exact integer), decimals NUMBER(p,s) -> FLOAT (a later
    row may have more integer digits or more decimals than the sample), text of any length -> VARCHAR
    (16 MB). Other types (FLOAT, BOOLEAN, DATE, TIMESTAMP_*, VARIANT ...) are kept. Raises InvalidInput
    for text that is not a type name."""
    match = _INFERRED_TYPE.match(str(inferred).strip().upper())
    if not match:
        raise InvalidInput(f"INFER_SCHEMA reported an unexpected column type {inferred!r}.")
    base, _, scale = match.groups()
    if base in ("NUMBER", "DECIMAL", "NUMERIC"):
        return "NUMBER(38,0)" if not scale or int(scale) == 0 else "FLOAT"
    if base in _TEXT_TYPES:
        return "VARCHAR"
    return match.group(0)


def create_table_columns(loc: Location, table: str, columns: Sequence[tuple[str, str]]) -> Statement:
    """CREATE OR REPLACE TABLE with (name, type) columns; types from :func:`widen_type`, names quoted."""
    if not columns:
        raise InvalidInput("The file has no columns to load.")
    body = ", ".join(f"{quote(name)} {widen_type(kind)}" for name, kind in columns)
    return Statement(f"CREATE OR REPLACE TABLE {loc.data(table)} ({body})")


def copy_into(
    loc: Location, table: str, stage: str, path: str, file_format: str, *, by_name: bool, force: bool = False
) -> Statement:
    """COPY INTO a data-schema table from one stage file; ON_ERROR = CONTINUE so rejected rows are counted
    (the result has ROWS_PARSED/ROWS_LOADED/ERRORS_SEEN/FIRST_ERROR...) and listed by :func:`validate_load`.
    ``force``: load the file even when the table's load metadata says it was loaded before (its rows are
    then added again)."""
    match = " MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE" if by_name else ""
    again = " FORCE = TRUE" if force else ""
    return Statement(
        f"COPY INTO {loc.data(table)} FROM {loc.stage(stage)} FILES = ({_lit(_stage_path(path))}) "
        f"FILE_FORMAT = (FORMAT_NAME = {_lit(loc.app(file_format))}){match} ON_ERROR = CONTINUE{again}"
    )


_QUERY_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def check_query_id(query_id: str) -> str:
    """A Snowflake query id (a UUID: 8-4-4-4-12 hex digits), for the statements whose grammar takes it as a
    literal. Raises InvalidInput."""
    text = str(query_id).strip().lower()
    if not _QUERY_ID.match(text):
        raise InvalidInput(f"{query_id!r} is not a Snowflake query id.")
    return text


def validate_load(loc: Location, table: str, query_id: str) -> Statement:
    """The rows a COPY job rejected, with reasons. JOB_ID is documented as a string literal (a query id or
    '_last'), so the checked id is inlined rather than bound."""
    return Statement(
        f"SELECT * FROM TABLE(VALIDATE({loc.data(table)}, JOB_ID => {_lit(check_query_id(query_id))}))"
    )


# --- tables and statistics (all computed in the warehouse) ------------------------------------------


def list_tables(loc: Location) -> Statement:
    return Statement(
        'SELECT "TABLE_NAME", "ROW_COUNT", "BYTES", "CREATED" '
        f"FROM {qualified(loc.database, 'INFORMATION_SCHEMA', 'TABLES')} "
        'WHERE "TABLE_SCHEMA" = ? AND "TABLE_TYPE" = \'BASE TABLE\' ORDER BY "TABLE_NAME"',
        (loc.data_schema,),
    )


def column_counts(loc: Location) -> Statement:
    """Number of columns of every table in the data schema, in one query."""
    return Statement(
        'SELECT "TABLE_NAME", COUNT(*) AS "N" '
        f"FROM {qualified(loc.database, 'INFORMATION_SCHEMA', 'COLUMNS')} "
        'WHERE "TABLE_SCHEMA" = ? GROUP BY "TABLE_NAME"',
        (loc.data_schema,),
    )


def table_columns(loc: Location, table: str) -> Statement:
    return Statement(
        'SELECT "COLUMN_NAME", "DATA_TYPE", "NUMERIC_PRECISION", "NUMERIC_SCALE" '
        f"FROM {qualified(loc.database, 'INFORMATION_SCHEMA', 'COLUMNS')} "
        'WHERE "TABLE_SCHEMA" = ? AND "TABLE_NAME" = ? ORDER BY "ORDINAL_POSITION"',
        (loc.data_schema, table),
    )


def not_numbers(loc: Location, table: str, column: str) -> Statement:
    """One row: N (non-null values of ``column``), BAD (how many are not numbers) and EXAMPLE (one of
    those), the text of every value trimmed. TRY_TO_DOUBLE takes only text and gives NULL for what does not
    convert (https://docs.snowflake.com/en/sql-reference/functions/try_to_double)."""
    text = f"TRIM(TO_VARCHAR({quote(column)}))"
    return Statement(
        f'SELECT COUNT({quote(column)}) AS "N", COUNT({quote(column)}) - COUNT(TRY_TO_DOUBLE({text})) AS "BAD", '
        f'MIN(IFF(TRY_TO_DOUBLE({text}) IS NULL, {text}, NULL)) AS "EXAMPLE" FROM {loc.data(table)}'
    )


def preview(loc: Location, table: str, limit: int) -> Statement:
    return Statement(
        f"SELECT * FROM {loc.data(table)} LIMIT {_int(limit, 'preview row limit', 0, MAX_PREVIEW)}"
    )


def profile_columns(loc: Location, table: str, columns: Sequence[tuple[str, str]]) -> Statement:
    """One row of aggregates. For column i: C_i (non-null), D_i (approximate distinct); numeric columns
    add MEAN_i/STD_i/MIN_i/Q25_i/MED_i/Q75_i/MAX_i; text, boolean and temporal ones MIN_i/MAX_i as text;
    other kinds (VARIANT, ...) only the counts. ``columns``: (name, kind)."""
    items = ['COUNT(*) AS "ROWS"']
    for i, (name, kind) in enumerate(columns):
        col = quote(name)
        items += [f'COUNT({col}) AS "C_{i}"', f'APPROX_COUNT_DISTINCT({col}) AS "D_{i}"']
        if kind == "numeric":
            items += [
                f'AVG({col}) AS "MEAN_{i}"',
                f'STDDEV({col}) AS "STD_{i}"',
                f'MIN({col}) AS "MIN_{i}"',
                f'APPROX_PERCENTILE({col}, 0.25) AS "Q25_{i}"',
                f'APPROX_PERCENTILE({col}, 0.5) AS "MED_{i}"',
                f'APPROX_PERCENTILE({col}, 0.75) AS "Q75_{i}"',
                f'MAX({col}) AS "MAX_{i}"',
            ]
        elif kind != "other":
            items += [f'MIN({col})::VARCHAR AS "MIN_{i}"', f'MAX({col})::VARCHAR AS "MAX_{i}"']
    return Statement(f"SELECT {', '.join(items)} FROM {loc.data(table)}")


def top_values(loc: Location, table: str, column: str, limit: int) -> Statement:
    """Most common non-null values (as text) with counts, most common first."""
    col = quote(column)
    n = _int(limit, "category limit", 1, 1000)
    return Statement(
        f'SELECT {col}::VARCHAR AS "VALUE", COUNT(*) AS "N" FROM {loc.data(table)} WHERE {col} IS NOT NULL '
        f'GROUP BY 1 ORDER BY "N" DESC, "VALUE" LIMIT {n}'
    )


def null_and_total(loc: Location, table: str, column: str) -> Statement:
    col = quote(column)
    return Statement(f'SELECT COUNT(*) AS "TOTAL", COUNT_IF({col} IS NULL) AS "NULLS" FROM {loc.data(table)}')


def numeric_range(loc: Location, table: str, column: str) -> Statement:
    col = quote(column)
    return Statement(
        f'SELECT MIN({col})::FLOAT AS "LO", MAX({col})::FLOAT AS "HI", COUNT_IF({col} IS NULL) AS "NULLS" '
        f"FROM {loc.data(table)}"
    )


def histogram_counts(loc: Location, table: str, column: str, bins: int, lo: float, hi: float) -> Statement:
    """Counts per equal-width bin 1..bins between ``lo`` and ``hi`` (the maximum lands in the last bin)."""
    col = quote(column)
    n = _int(bins, "number of bins", 1, 1000)
    return Statement(
        f'SELECT LEAST(WIDTH_BUCKET({col}, ?, ?, {n}), {n}) AS "BIN", COUNT(*) AS "N" '
        f"FROM {loc.data(table)} WHERE {col} IS NOT NULL GROUP BY 1 ORDER BY 1",
        (float(lo), float(hi)),
    )


def correlation(loc: Location, table: str, columns: Sequence[str]) -> Statement:
    """One row: "I_J" = CORR(column i, column j) for i < j."""
    items = [
        f'CORR({quote(a)}, {quote(b)}) AS "{i}_{j}"'
        for i, a in enumerate(columns)
        for j, b in enumerate(columns)
        if i < j
    ]
    if not items:
        raise InvalidInput("Correlation needs at least two numeric columns.")
    return Statement(f"SELECT {', '.join(items)} FROM {loc.data(table)}")


def drop_table(loc: Location, table: str) -> Statement:
    return Statement(f"DROP TABLE {loc.data(table)}")


def create_table_like(loc: Location, table: str, template: str) -> Statement:
    """An empty table with the columns (names and types) of ``template`` (header-less loads)."""
    return Statement(f"CREATE OR REPLACE TABLE {loc.data(table)} LIKE {loc.data(template)}")


def drop_table_if_exists(loc: Location, table: str) -> Statement:
    return Statement(f"DROP TABLE IF EXISTS {loc.data(table)}")


def create_sample_table(loc: Location, name: str, source: str, rows: int, *, sampled: bool) -> Statement:
    """A temporary table of ``rows`` rows of ``source``: a fixed-size row sample (``sampled``; exactly that many
    rows unless the table has fewer: https://docs.snowflake.com/en/sql-reference/constructs/sample), else its
    first rows. Temporary tables last as long as the session
    (https://docs.snowflake.com/en/user-guide/tables-temp-transient), and the app's procedures run with the
    caller's rights, in the caller's session, so SNOWML_SCORE reads them
    (https://docs.snowflake.com/en/developer-guide/stored-procedure/stored-procedures-rights)."""
    count = _int(rows, "sample rows", 1, 1_000_000)
    picked = f"SAMPLE ROW ({count} ROWS)" if sampled else f"LIMIT {count}"
    return Statement(f"CREATE TEMPORARY TABLE {loc.data(name)} AS SELECT * FROM {loc.data(source)} {picked}")


def rename_table(loc: Location, table: str, new_name: str) -> Statement:
    return Statement(f"ALTER TABLE {loc.data(table)} RENAME TO {loc.data(new_name)}")


def swap_tables(loc: Location, table: str, other: str) -> Statement:
    """Atomically exchange two tables (used to replace a table only once its new content is complete)."""
    return Statement(f"ALTER TABLE {loc.data(table)} SWAP WITH {loc.data(other)}")


def clone_table(loc: Location, target: str, source: str) -> Statement:
    """Zero-copy clone (in the data schema). The comment goes in a separate COMMENT ON statement because
    sqlglot reads CLONE ... COMMENT only as a Command."""
    return Statement(f"CREATE TABLE {loc.data(target)} CLONE {loc.data(source)}")


def comment_on_table(loc: Location, table: str, comment: str) -> Statement:
    return Statement(f"COMMENT ON TABLE {loc.data(table)} IS {_lit(comment)}")


# --- catalog and runs -----------------------------------------------------------------------------


def select_models(loc: Location, name: str | None = None) -> Statement:
    where, params = ("", ()) if name is None else (' WHERE "MODEL_NAME" = ?', (name,))
    return Statement(f'SELECT * FROM {loc.app(MODELS_CATALOG)}{where} ORDER BY "CREATED_AT" DESC', params)


def delete_model_row(loc: Location, name: str) -> Statement:
    return Statement(f'DELETE FROM {loc.app(MODELS_CATALOG)} WHERE "MODEL_NAME" = ?', (name,))


def update_model_threshold(loc: Location, name: str, threshold: float | None) -> Statement:
    return Statement(
        f'UPDATE {loc.app(MODELS_CATALOG)} SET "THRESHOLD" = ? WHERE "MODEL_NAME" = ?',
        (None if threshold is None else float(threshold), name),
    )


def select_runs(
    loc: Location, model: str | None = None, table: str | None = None, run_id: int | None = None
) -> Statement:
    conditions, params = [], []
    for column, value in (("MODEL_NAME", model), ("SOURCE_TABLE", table), ("RUN_ID", run_id)):
        if value is not None:
            conditions.append(f"{quote(column)} = ?")
            params.append(value)
    where = " WHERE " + " AND ".join(conditions) if conditions else ""
    return Statement(
        f'SELECT * FROM {loc.app(INFERENCE_RUNS)}{where} ORDER BY "CREATED_AT" DESC, "RUN_ID" DESC',
        tuple(params),
    )


def show_functions(loc: Location, name: str) -> Statement:
    """SHOW USER FUNCTIONS LIKE '<name>' IN SCHEMA <app schema>: the "arguments" column gives a UDF's
    signature (needed to drop it). GOLDEN: sqlglot reads it as a Command. Callers filter by exact name."""
    return Statement(
        f"SHOW USER FUNCTIONS LIKE {_lit(name)} IN SCHEMA {qualified(loc.database, loc.app_schema)}",
        verify=GOLDEN,
    )


def drop_function(loc: Location, name: str, arg_types: Sequence[str]) -> Statement:
    return Statement(f"DROP FUNCTION IF EXISTS {loc.app(name)}({', '.join(arg_types)})")


# --- cost attribution -----------------------------------------------------------------------------


def query_credits(query_ids: Sequence[str]) -> Statement:
    """Compute credits attributed to queries and to every query whose ROOT_QUERY_ID (the topmost query of
    its chain) is one of them, so a CALL's id covers the procedure's Python work and all its statements;
    with the number of attributed rows (0: not there yet; ACCOUNT_USAGE lags by hours). Each view row is
    one query, counted once. Docs: https://docs.snowflake.com/en/sql-reference/account-usage/query_attribution_history"""
    marks = ", ".join("?" for _ in query_ids)
    return Statement(
        'SELECT SUM("CREDITS_ATTRIBUTED_COMPUTE") AS "CREDITS", COUNT(*) AS "N" '
        'FROM "SNOWFLAKE"."ACCOUNT_USAGE"."QUERY_ATTRIBUTION_HISTORY" '
        f'WHERE "QUERY_ID" IN ({marks}) OR "ROOT_QUERY_ID" IN ({marks})',
        tuple(query_ids) * 2,
    )


def delete_run_row(loc: Location, run_id: int) -> Statement:
    return Statement(f'DELETE FROM {loc.app(INFERENCE_RUNS)} WHERE "RUN_ID" = ?', (int(run_id),))


def update_run_query_ids(loc: Location, run_id: int, query_ids_json: str) -> Statement:
    return Statement(
        f'UPDATE {loc.app(INFERENCE_RUNS)} SET "QUERY_IDS" = PARSE_JSON(?) WHERE "RUN_ID" = ?',
        (query_ids_json, int(run_id)),
    )


def mark_run(loc: Location, run_id: int, kind: str, table: str) -> Statement:
    """Record a run as of ``kind`` (``core.records.RUN_KINDS``) on a sample of ``table``; its output is gone."""
    return Statement(
        f'UPDATE {loc.app(INFERENCE_RUNS)} SET "KIND" = ?, "SOURCE_TABLE" = ?, "OUTPUT_TABLE" = NULL '
        'WHERE "RUN_ID" = ?',
        (kind, table, int(run_id)),
    )


def update_run_credits(loc: Location, run_id: int, credits: float) -> Statement:
    return Statement(
        f'UPDATE {loc.app(INFERENCE_RUNS)} SET "CREDITS" = ? WHERE "RUN_ID" = ?',
        (float(credits), int(run_id)),
    )


# --- demo data ---------------------------------------------------------------------------------------

DEMO_MAX_ROWS = 10**8
_DEMO_DRAWS = (
    "age", "gender", "region", "contract", "internet", "payment", "paperless", "tenure", "monthly", "total",
    "calls", "usage", "usage2", "churn", "miss_payment", "miss_total", "miss_usage",
)  # fmt: skip


def _choice(draw: str, values: Sequence[str], cuts: Sequence[float]) -> str:
    whens = " ".join(f"WHEN {draw} < {float(c)} THEN {_lit(v)}" for v, c in zip(values, cuts, strict=False))
    return f"CASE {whens} ELSE {_lit(values[-1])} END"


def _lookup(column: str, mapping: dict[str, float]) -> str:
    return (
        "CASE " + " ".join(f"WHEN {column} = {_lit(k)} THEN {float(v)}" for k, v in mapping.items()) + " END"
    )


def create_demo_churn_table(loc: Location, table: str, rows: int, seed: int, *, replace: bool) -> Statement:
    """CREATE TABLE ... AS the churn recipe of ``core.demo_data`` (same columns, types and distributions as
    the CHURN demo file) from GENERATOR rows. Every random draw is a hash of (row, draw, seed) scaled to
    [0, 1), so the table is reproducible for a seed and Snowflake generates it in parallel. CREATE OR
    REPLACE swaps the old table only when the new one is complete."""
    from snowml_desktop.core import demo_data as d

    n = _int(rows, "number of demo rows", 1, DEMO_MAX_ROWS)
    s = _int(seed, "seed", 0, 2**31 - 1)
    draws = ", ".join(
        # 2**53 - 1 keeps 53 random bits: a double in [0, 1) without rounding up to 1.
        f"BITAND(HASH(I * 32 + {k} + {s * 2**32}), 9007199254740991)::FLOAT / 9007199254740992.0 AS U_{name.upper()}"
        for k, name in enumerate(_DEMO_DRAWS)
    )
    r = d.CHURN_RECIPE
    quarter = "LEAST(FLOOR({u} * 4), 3)"
    regions = (
        "CASE "
        + " ".join(
            f"WHEN {quarter.format(u='U_REGION')} = {i} THEN {_lit(v)}" for i, v in enumerate(d.REGIONS)
        )
        + " END"
    )
    payments = (
        "CASE "
        + " ".join(
            f"WHEN {quarter.format(u='U_PAYMENT')} = {i} THEN {_lit(v)}" for i, v in enumerate(d.PAYMENTS)
        )
        + " END"
    )
    logit = (
        f"{float(r['intercept'])} + {float(r['month_to_month'])} * IFF(CONTRACT = {_lit(d.CONTRACTS[0])}, 1, 0)"
        f" + {float(r['two_year'])} * IFF(CONTRACT = {_lit(d.CONTRACTS[2])}, 1, 0)"
        f" + {float(r['tenure'])} * TENURE + {float(r['monthly_minus_60'])} * (MONTHLY - 60.0)"
        f" + {float(r['support_calls'])} * CALLS"
        f" + {float(r['electronic_check'])} * IFF(PAYMENT = {_lit(d.PAYMENTS[0])}, 1, 0)"
        f" + {float(r['fiber'])} * IFF(INTERNET = {_lit(d.INTERNET[1])}, 1, 0)"
        f" + {float(r['paperless'])} * IFF(PAPERLESS, 1, 0)"
    )
    head = "CREATE OR REPLACE TABLE" if replace else "CREATE TABLE"
    text = f"""{head} {loc.data(table)} AS
WITH ROWS_ AS (
    SELECT ROW_NUMBER() OVER (ORDER BY SEQ8()) - 1 AS I FROM TABLE(GENERATOR(ROWCOUNT => {n}))
), DRAWS AS (
    SELECT I, {draws} FROM ROWS_
), BASE AS (
    SELECT *, {_choice("U_CONTRACT", d.CONTRACTS, d.CONTRACT_CUTS)} AS CONTRACT,
           {_choice("U_INTERNET", d.INTERNET, d.INTERNET_CUTS)} AS INTERNET, {payments} AS PAYMENT,
           U_PAPERLESS < 0.6 AS PAPERLESS, LEAST(FLOOR(-LN(1 - U_CALLS) * 1.5), 15) AS CALLS
    FROM DRAWS
), DERIVED AS (
    SELECT *, FLOOR(U_TENURE * (({_lookup("CONTRACT", d.MAX_TENURE)}) + 1)) AS TENURE,
           ROUND(({_lookup("INTERNET", d.BASE_CHARGE)}) + 25.0 * U_MONTHLY, 2) AS MONTHLY,
           ({_lookup("INTERNET", d.MEAN_USAGE)}) AS MEAN_USAGE,
           SQRT(-2.0 * LN(1 - U_USAGE)) * COS(2.0 * PI() * U_USAGE2) AS NORMAL
    FROM BASE
), SCORED AS (
    SELECT *, {logit} AS LOGIT FROM DERIVED
)
SELECT
    'C' || LPAD((I + 1)::VARCHAR, 9, '0') AS "CUSTOMER_ID",
    (18 + FLOOR(U_AGE * 62))::NUMBER(38,0) AS "AGE",
    IFF(U_GENDER < 0.5, {_lit(d.GENDERS[0])}, {_lit(d.GENDERS[1])}) AS "GENDER",
    {regions} AS "REGION",
    CONTRACT AS "CONTRACT",
    INTERNET AS "INTERNET_SERVICE",
    IFF(U_MISS_PAYMENT < {float(d.MISSING_PAYMENT)}, NULL, PAYMENT) AS "PAYMENT_METHOD",
    PAPERLESS AS "PAPERLESS_BILLING",
    TENURE::NUMBER(38,0) AS "TENURE_MONTHS",
    MONTHLY::FLOAT AS "MONTHLY_CHARGES",
    IFF(TENURE = 0 OR U_MISS_TOTAL < {float(d.MISSING_TOTAL)}, NULL,
        ROUND(TENURE * MONTHLY * (0.95 + 0.1 * U_TOTAL), 2))::FLOAT AS "TOTAL_CHARGES",
    CALLS::NUMBER(38,0) AS "SUPPORT_CALLS",
    (CASE WHEN U_MISS_USAGE < {float(d.MISSING_USAGE)} THEN NULL
          WHEN MEAN_USAGE > 0 THEN GREATEST(ROUND(MEAN_USAGE + 30.0 * NORMAL, 1), 0.0)
          ELSE 0.0 END)::FLOAT AS "DATA_USAGE_GB",
    IFF(U_CHURN < 1.0 / (1.0 + EXP(-LOGIT)), 'Yes', 'No') AS "CHURNED"
FROM SCORED"""
    return Statement(text)

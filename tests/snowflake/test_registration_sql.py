"""The CREATE PROCEDURE / CREATE FUNCTION text Snowpark really generates for setup's procedures and a model's
scoring UDF, checked against Snowflake's documented grammar and the pin set setup resolved.

Snowpark runs for real here (package resolution, import checks, the SQL it writes); only the network is a fake:
``FakeConnector`` stands in for the connector's connection and cursor, the boundary Snowpark's ServerConnection
talks to. What it answers, and where that is documented:

- ``INFORMATION_SCHEMA.PACKAGES``: one row per package, version and runtime, LANGUAGE 'python'
  (https://docs.snowflake.com/en/sql-reference/info-schema/packages); Snowpark aggregates VERSION per
  PACKAGE_NAME with ARRAY_AGG, which returns a JSON array (https://docs.snowflake.com/en/sql-reference/functions/array_agg).
- ``LIST @stage``: columns name, size, md5, last_modified, names starting with the stage name in lower case
  (https://docs.snowflake.com/en/sql-reference/sql/list); ``RESULT_SCAN`` reads an earlier result by query id
  (https://docs.snowflake.com/en/sql-reference/functions/result_scan).
- ``SYSTEM$GET_DEFAULT_PYTHON_ARTIFACT_REPOSITORY``: no documentation page was found, so the fake refuses it as
  an unknown function; Snowpark then uses its default (Anaconda) repository (Session._get_default_artifact_repository).
- Any other statement (CREATE, COMMENT) succeeds with one status row.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import defaultdict
from datetime import datetime, timezone
from typing import Any

import pytest
from snowflake.connector.cursor import ResultMetadata
from snowflake.connector.errors import ProgrammingError
from tests.snowflake.sf_setup_account import RUNTIME

from snowml_desktop.core.records import Feature, ModelRecord
from snowml_desktop.engines.snowflake import packages, setup, sql, udf

LOC = sql.Location("ML DB", "SNOWML", "DATA")
CODE_ZIP = '@"ML DB"."SNOWML"."PROCEDURES"/snowml_desktop_code_0_1_0.zip'
TEXT = 2  # the connector's type code for TEXT


def _channel() -> list[dict[str, str]]:
    versions = {
        "cloudpickle": ["3.0.0", packages.desktop_cloudpickle()],
        "snowflake-snowpark-python": ["1.54.0", "1.56.0"],
        "scikit-learn": ["1.5.2", "1.9.1"],
        "pandas": ["2.2.3", "3.0.1"],
        "numpy": ["1.26.4", "2.2.1"],
        "joblib": ["1.4.2"],
        "optuna": ["4.1.0"],
    }
    return [
        {"LANGUAGE": "python", "PACKAGE_NAME": name, "VERSION": v, "RUNTIME_VERSION": RUNTIME}
        for name, vs in versions.items()
        for v in vs
    ]


class FakeCursor:
    """The connector cursor's surface Snowpark uses; results come from ``FakeConnector.answer``."""

    def __init__(self, connection: FakeConnector) -> None:
        self.connection = connection
        self.description: list[ResultMetadata] = []
        self._rows: list[tuple] = []
        self.sfqid: str | None = None
        self._request_id = self.request_id = "request"
        self.rowcount = 0
        self.query: str | None = None

    def execute(self, command: str, *args: Any, **kwargs: Any) -> FakeCursor:
        self.query = command
        columns, self._rows = self.connection.answer(command)
        self.description = [ResultMetadata(c, TEXT, None, None, None, None, True) for c in columns]
        self.sfqid = f"qid-{next(self.connection.ids)}"
        self.connection.results[self.sfqid] = self._rows
        self.rowcount = len(self._rows)
        return self

    def _describe_internal(self, query: str, *args: Any, **kwargs: Any) -> list[ResultMetadata]:
        columns = (
            ("LANGUAGE", "PACKAGE_NAME", "VERSION", "RUNTIME_VERSION")
            if "packages" in query.lower()
            else ("X",)
        )
        return [ResultMetadata(c, TEXT, None, None, None, None, True) for c in columns]

    def fetchall(self) -> list[tuple]:
        return list(self._rows)

    def fetchone(self) -> tuple | None:
        return self._rows[0] if self._rows else None

    def close(self) -> None:
        pass


class FakeConnector:
    """Stands in for ``snowflake.connector.SnowflakeConnection`` (the network)."""

    def __init__(self, channel: list[dict[str, str]], stage_files: list[str]) -> None:
        self.channel = channel
        self.stage_files = stage_files
        self.statements: list[str] = []
        self.results: dict[str, list[tuple]] = {}
        self.ids = itertools.count(1)
        self._session_parameters: dict[str, Any] = {}
        self._telemetry = None
        self.session_id = 1
        self.host, self.port, self.application = "account.invalid", 443, "snowml-desktop-test"
        self.database, self.schema, self.warehouse, self.role = "ML DB", "SNOWML", "WH", "ANALYST"

    def cursor(self, *args: Any, **kwargs: Any) -> FakeCursor:
        return FakeCursor(self)

    def is_closed(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def answer(self, command: str) -> tuple[list[str], list[tuple]]:
        self.statements.append(command)
        if "SYSTEM$GET_DEFAULT_PYTHON_ARTIFACT_REPOSITORY" in command:
            raise ProgrammingError(
                msg="Unknown function SYSTEM$GET_DEFAULT_PYTHON_ARTIFACT_REPOSITORY", errno=2140
            )
        if "information_schema.packages" in command.lower():
            wanted = set(re.findall(r"'([a-z0-9_.\-]+)'", command.split(" IN ", 1)[1]))
            grouped: dict[str, list[str]] = defaultdict(list)
            for row in self.channel:
                if row["LANGUAGE"] == "python" and row["PACKAGE_NAME"] in wanted:
                    grouped[row["PACKAGE_NAME"]].append(row["VERSION"])
            return ["PACKAGE_NAME", "ARRAY_AGG(VERSION)"], [(n, json.dumps(v)) for n, v in grouped.items()]
        if command.lower().startswith("ls "):
            rows = [
                (f"procedures/{name}", 1, "md5", "Thu, 3 Dec 2026 20:00:00 GMT") for name in self.stage_files
            ]
            return ["name", "size", "md5", "last_modified"], rows
        scanned = re.search(r"RESULT_SCAN\('([^']+)'\)", command)
        if scanned:
            return ["name"], [(row[0],) for row in self.results[scanned.group(1)]]
        return ["status"], [("Statement executed successfully.",)]


@pytest.fixture
def connector() -> FakeConnector:
    return FakeConnector(_channel(), [CODE_ZIP.rsplit("/", 1)[1]])


@pytest.fixture
def session(connector: FakeConnector) -> Any:
    from snowflake.snowpark import Session
    from snowflake.snowpark._internal.server_connection import ServerConnection

    session = Session(ServerConnection({}, connector))  # type: ignore[arg-type]
    yield session
    session.close()


def _created(connector: FakeConnector, kind: str) -> list[str]:
    return [s for s in connector.statements if re.match(rf"\s*CREATE OR REPLACE\s+{kind}\b", s)]


def _clauses(text: str) -> dict[str, str]:
    """The properties of a CREATE PROCEDURE/FUNCTION before its AS body: ``NAME=value`` and keyword lines."""
    head = text.split("\nAS ", 1)[0]
    found = {m.group(1): m.group(2).strip() for m in re.finditer(r"^([A-Z_]+)\s*=\s*(.+)$", head, re.M)}
    found["_head"] = head
    return found


def _packages(clause: str) -> list[str]:
    assert clause.startswith("(") and clause.endswith(")"), clause
    return re.findall(r"'([^']+)'", clause)


def test_procedures_are_created_as_documented_with_exactly_the_resolved_pins(session, connector) -> None:
    """CREATE PROCEDURE, Python handler (https://docs.snowflake.com/en/sql-reference/sql/create-procedure):
    ... RETURNS <type> LANGUAGE PYTHON RUNTIME_VERSION = '<python_version>' PACKAGES = (
    'snowflake-snowpark-python[==<version>]' [, '<package>[==<version>]' ...]) [ IMPORTS = ('<stage_path>' ...) ]
    HANDLER = '<function_name>' ... [ EXECUTE AS { OWNER | CALLER | RESTRICTED CALLER } ] AS '<definition>'."""
    pinned = packages.resolve_packages(_channel(), RUNTIME)
    setup.register_procedures(session, LOC, pinned, CODE_ZIP)

    created = _created(connector, "PROCEDURE")
    assert len(created) == len(sql.PROCEDURES)
    for name, text in zip(sql.PROCEDURES, created, strict=True):
        clauses = _clauses(text)
        head = clauses["_head"]
        assert re.search(
            rf"PROCEDURE\s+{re.escape(LOC.app(name))}\(\w+ STRING\)\s+RETURNS STRING\s+LANGUAGE PYTHON", head
        )
        # Documented as a string literal; Snowpark writes the number unquoted, which Snowflake also reads.
        assert clauses["RUNTIME_VERSION"].strip("'") == RUNTIME
        assert _packages(clauses["PACKAGES"]) == pinned.pins()  # nothing added, cloudpickle pinned, not ">="
        assert not any(p.startswith("cloudpickle>=") for p in _packages(clauses["PACKAGES"]))
        assert any(p.startswith("snowflake-snowpark-python==") for p in _packages(clauses["PACKAGES"]))
        assert _packages(clauses["IMPORTS"]) == [CODE_ZIP]
        assert re.fullmatch(r"'\w+'", clauses["HANDLER"])
        assert re.search(r"^EXECUTE AS CALLER$", head, re.M)
        assert text.rstrip().endswith("$$")  # AS $$<definition>$$, the dollar-quoted form the docs allow
    comments = [s for s in connector.statements if s.startswith("COMMENT ON PROCEDURE")]
    assert len(comments) == len(sql.PROCEDURES) and all("snowml-desktop" in c for c in comments)


def _record() -> ModelRecord:
    return ModelRecord(
        name="LOGISTIC_REGRESSION_7",
        created=datetime.now(timezone.utc),
        method="logistic_regression",
        source_table="T",
        training_table="T",
        target="CHURN",
        features=[Feature("AMOUNT", "numeric", "DOUBLE"), Feature("PLAN", "categorical", "VARCHAR")],
        classes=["no", "yes"],
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
        artifact_path='@"ML DB"."SNOWML"."MODELS"/LOGISTIC_REGRESSION_7.joblib',
        artifact_sha256="ab" * 32,
        library_versions={},
        train_seconds=1.0,
        warehouse_size="X-Small",
        warehouse_type="STANDARD",
        rows_total=1,
        rows_train=1,
        rows_test=0,
    )


def test_the_scoring_udf_is_created_as_documented_with_exactly_the_resolved_pins(session, connector) -> None:
    """CREATE FUNCTION, Python handler (https://docs.snowflake.com/en/sql-reference/sql/create-function):
    ... RETURNS <type> LANGUAGE PYTHON RUNTIME_VERSION = <python_version> [ PACKAGES = ('<package>[==<version>]'
    ...) ] [ IMPORTS = ('<stage_path>' ...) ] HANDLER = '<function_name>' ... AS '<definition>'; a vectorized
    handler's batch size is set on the handler (https://docs.snowflake.com/en/developer-guide/udf/python/udf-python-batch)."""
    pinned = packages.resolve_packages(_channel(), RUNTIME)
    record = _record()
    connector.stage_files.append("LOGISTIC_REGRESSION_7.joblib")
    name = udf.register_model_udf(
        session,
        record,
        record.artifact_path,
        pinned.pins(),
        location=LOC,
        code_imports=[CODE_ZIP],
        stage_location='@"ML DB"."SNOWML"."PROCEDURES"',
    )

    [text] = _created(connector, "FUNCTION")
    clauses = _clauses(text)
    head = clauses["_head"]
    assert re.search(
        rf"FUNCTION\s+{re.escape(name)}\(\w+ DOUBLE,\s*\w+ STRING\)\s+RETURNS VARIANT\s+LANGUAGE PYTHON", head
    )
    assert clauses["RUNTIME_VERSION"].strip("'") == RUNTIME
    assert _packages(clauses["PACKAGES"]) == pinned.pins()
    assert _packages(clauses["IMPORTS"]) == [record.artifact_path, CODE_ZIP]
    assert re.fullmatch(r"'\w+'", clauses["HANDLER"])
    assert re.search(r"^IMMUTABLE$", head, re.M)
    assert f"_sf_max_batch_size = {udf.DEFAULT_MAX_BATCH_SIZE}" in text.replace("'", "")

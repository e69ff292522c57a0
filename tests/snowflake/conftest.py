"""Fixtures for the Snowflake engine's in-warehouse code: a Snowpark local-testing session per test, and
stand-ins for the few services local testing cannot run (stage file removal, CLONE/DROP FUNCTION SQL,
sequences, calling a multi-column vectorized UDF, and ``session.sql``: the drift queries and transaction
statements, run by ``sf_fake_procedure_sql.ProcedureWarehouse``)."""

from __future__ import annotations

import itertools
import json
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tests.snowflake.sf_fake_procedure_sql import ProcedureWarehouse

from snowml_desktop.core import records
from snowml_desktop.engines.snowflake import procedures, sql

DATABASE = "SNOWML_TEST"


@pytest.fixture
def snowpark_session() -> Iterator:
    """A fresh Snowpark local-testing session (no account, no network), closed after the test."""
    from snowflake.snowpark import Session

    session = Session.builder.config("local_testing", True).create()
    try:
        yield session
    finally:
        session.close()


class FolderStage:
    """StageIO on a folder: one file per stage path, so tests can list, tamper with and count artifacts."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def file(self, path: str) -> Path:
        return self.root / urllib.parse.quote(path, safe="")

    def put(self, path: str, data: bytes) -> None:
        self.file(path).write_bytes(data)

    def get(self, path: str) -> bytes:
        from snowml_desktop.core.errors import NotFound

        if not self.file(path).exists():
            raise NotFound(f"The model artifact {path} is missing from its stage.")
        return self.file(path).read_bytes()

    def remove(self, path: str) -> None:
        self.file(path).unlink(missing_ok=True)

    def paths(self) -> list[str]:
        return sorted(urllib.parse.unquote(p.name) for p in self.root.iterdir())


class LocalOps:
    """WarehouseOps for local testing: a full copy stands in for the zero-copy clone (same rows and columns),
    comments and dropped functions are recorded, and the sequence is a counter."""

    def __init__(self, session: Any, loc: Any) -> None:
        self.session = session
        self.loc = loc
        self.comments: dict[str, str] = {}
        self.dropped_functions: list[tuple[str, list[str]]] = []
        self._ids = itertools.count(1)

    def clone_table(self, source: str, target: str, comment: str) -> str | None:
        source_table = self.session.table(self.loc.data(source))
        source_table.write.save_as_table(self.loc.data(target), mode="errorifexists")
        self.comments[target] = comment
        return "CLONE-QUERY"

    def drop_table(self, table: str) -> None:
        self.session.table(self.loc.data(table)).drop_table()

    def drop_function(self, name: str, argument_types: list[str]) -> None:
        self.dropped_functions.append((name, argument_types))

    def next_run_id(self) -> int:
        return next(self._ids)


class ScalarUdfRegistrar:
    """A UdfRegistrar for local testing, which cannot call a vectorized UDF taking several columns: it
    registers a scalar UDF of the same name and arguments whose body runs the production vectorized
    handler on a one-row batch, with the pipeline loaded (sha256-checked) from the stage's bytes."""

    def __init__(self, stage: FolderStage, loc: Any) -> None:
        self.stage = stage
        self.loc = loc
        self.registered: list[str] = []

    def __call__(self, session: Any, record: Any, artifact_path: str) -> str:
        import pandas as pd
        from snowflake.snowpark.types import VariantType

        from snowml_desktop.core.artifacts import load_artifact_bytes
        from snowml_desktop.engines.snowflake import udf

        pipeline = load_artifact_bytes(self.stage.get(artifact_path), record.artifact_sha256).pipeline
        handler = udf.make_vectorized_handler(pipeline, list(record.features))

        def one_row(*values):  # no annotations: Snowpark would read them as the UDF's types
            return handler(pd.DataFrame([list(values)])).iloc[0]

        name = self.loc.app(udf.udf_name(record.name))
        session.udf.register(
            one_row,
            name=name,
            input_types=udf.argument_types(record.features),
            return_type=VariantType(),
            replace=True,
        )
        self.registered.append(name)
        return name


MODEL = "LOGISTIC_REGRESSION_1"  # the model name ``Warehouse.train`` uses unless told otherwise
BASE = {
    "database": DATABASE,
    "app_schema": "SNOWML",
    "data_schema": "DATA",
    "warehouse_size": "XSMALL",
    "warehouse_type": "STANDARD",
}


@dataclass
class Warehouse:
    """A local-testing 'account' set up as SNOWML setup would leave it, with the test services."""

    session: Any
    loc: sql.Location
    stage: FolderStage
    ops: LocalOps
    registrar: ScalarUdfRegistrar
    services: procedures.Services
    warehouse: ProcedureWarehouse
    base: dict[str, Any] = field(default_factory=lambda: dict(BASE))

    def load(self, table: str, frame: Any) -> None:
        self.session.create_dataframe(frame).write.save_as_table(self.loc.data(table))

    def rows(self, table: str) -> list[dict[str, Any]]:
        return [r.as_dict() for r in self.session.table(self.loc.app(table)).collect()]

    def exists(self, table: str) -> bool:
        try:
            self.session.table(self.loc.data(table)).schema  # noqa: B018
        except Exception:
            return False
        return True

    def train(self, **request: Any) -> str:
        payload = {**BASE, "model_name": MODEL, "method": "logistic_regression", **request}
        return procedures.run_train(self.session, json.dumps(payload), self.services)

    def score(self, **request: Any) -> str:
        return procedures.run_score(
            self.session, json.dumps({**BASE, "model": MODEL, **request}), self.services
        )


def _create_app_tables(session: Any, loc: sql.Location) -> None:
    """The catalog and runs tables as setup creates them (JSON columns as VARIANT)."""
    from snowflake.snowpark.types import (
        DoubleType,
        LongType,
        StringType,
        StructField,
        StructType,
        TimestampTimeZone,
        TimestampType,
        VariantType,
    )

    types = {
        records.TEXT: StringType(),
        records.JSON: VariantType(),
        records.INTEGER: LongType(),
        records.DOUBLE: DoubleType(),
        records.TIMESTAMP: TimestampType(TimestampTimeZone.NTZ),
    }
    for table, columns in (
        (sql.MODELS_CATALOG, records.MODELS_CATALOG_COLUMNS),
        (sql.INFERENCE_RUNS, records.INFERENCE_RUNS_COLUMNS),
    ):
        schema = StructType([StructField(f'"{name}"', types[kind]) for name, kind in columns])
        session.create_dataframe([], schema=schema).write.save_as_table(loc.app(table))


@pytest.fixture(scope="module")
def cancer() -> Any:
    """scikit-learn's breast cancer data: 30 numeric columns with spaces in their names, string labels."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    frame["target"] = frame["target"].map({0: "malignant", 1: "benign"}).astype(object)
    return frame


@pytest.fixture
def empty_wh(snowpark_session: Any, tmp_path: Path) -> Warehouse:
    """An app set up (catalog and runs tables) with no user tables yet."""
    loc = sql.Location(DATABASE, "SNOWML", "DATA")
    _create_app_tables(snowpark_session, loc)
    stage = FolderStage(tmp_path / "stage")
    ops = LocalOps(snowpark_session, loc)
    registrar = ScalarUdfRegistrar(stage, loc)
    services = procedures.Services(stage, ops, registrar)
    warehouse = ProcedureWarehouse(snowpark_session).install()
    return Warehouse(snowpark_session, loc, stage, ops, registrar, services, warehouse)


@pytest.fixture
def wh(empty_wh: Warehouse, cancer: Any) -> Warehouse:
    """CANCER (300 rows) and NEW_PATIENTS (25 labelled rows) in DATA."""
    empty_wh.load("CANCER", cancer.iloc[:300])
    empty_wh.load("NEW_PATIENTS", cancer.iloc[400:425])
    return empty_wh

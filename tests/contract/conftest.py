"""Engines under the contract suite. To add an engine, add one entry to ``HARNESSES``.

Each harness opens an engine on fresh storage and knows the one thing the protocol deliberately does not
expose: how to corrupt a model artifact (for the integrity test).

The Snowflake engine runs the suite only against a real account (``pytest -m live`` with
SNOWML_TEST_CONNECTION set): every engine-level operation sends SQL (INFORMATION_SCHEMA, aggregates, CALL),
and Snowpark local testing runs no SQL. Its procedure bodies run offline in tests/snowflake.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from snowml_desktop.core.demo_data import write_demo_files
from snowml_desktop.engines.base import Engine, LoadRequest

# Read at import, before the autouse fixture points these into a temporary folder.
_REAL_ENV = {k: os.environ.get(k) for k in ("SNOWFLAKE_HOME", "SNOWML_CONFIG_DIR")}
_LIVE_CONNECTION = os.environ.get("SNOWML_TEST_CONNECTION")


@dataclass
class Harness:
    engine: Engine
    tamper_artifact: Callable[[str], None]  # flip a byte of the named model's artifact
    demo_files: list[Path]
    cleanup: Callable[[], None] = lambda: None  # remove what the suite left outside ``root``


def _local(root: Path) -> Harness:
    from snowml_desktop.engines.local.engine import LocalEngine

    engine = LocalEngine(root / "workspace")

    def tamper(model: str) -> None:
        path = engine.workspace.stage_dir("MODELS") / f"{model}.joblib"
        data = bytearray(path.read_bytes())
        data[-1] ^= 1
        path.write_bytes(bytes(data))

    return Harness(engine, tamper, write_demo_files(root / "demo"))


def _snowflake(root: Path) -> Harness:
    """The account of SNOWML_TEST_CONNECTION, with setup run and a fresh data schema (dropped afterwards,
    with the models the suite trained) so the suite's tables never meet the user's."""
    import dataclasses
    import io
    import uuid

    from snowml_desktop.core.connections import get_profile
    from snowml_desktop.core.identifiers import qualified
    from snowml_desktop.engines.snowflake import sql
    from snowml_desktop.engines.snowflake.engine import SnowflakeEngine
    from snowml_desktop.engines.snowflake.session import SnowparkRunner, open_session

    for key, value in _REAL_ENV.items():  # the real connections.toml and journal folder
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    schema = f"SNOWML_CONTRACT_{uuid.uuid4().hex[:8].upper()}"
    profile = dataclasses.replace(get_profile(str(_LIVE_CONNECTION)), data_schema=schema)
    session = open_session(profile)
    runner = SnowparkRunner(session)
    engine = SnowflakeEngine(runner, profile, session=session)
    engine.run_setup()
    database = engine.describe().database
    runner.execute(
        sql.create_schema(sql.Location(database), schema, "snowml-desktop contract test"), operation="test"
    )
    before = {m.name for m in engine.list_models()}

    def tamper(model: str) -> None:
        path = engine.get_model(model).artifact_path
        data = bytearray(session.file.get_stream(path).read())
        data[-1] ^= 1
        session.file.put_stream(io.BytesIO(bytes(data)), path, auto_compress=False, overwrite=True)

    def cleanup() -> None:
        for model in engine.list_models():
            if model.name not in before:
                engine.delete_model(model.name)
        session.sql(f"DROP SCHEMA IF EXISTS {qualified(database, schema)} CASCADE").collect()

    return Harness(engine, tamper, write_demo_files(root / "demo"), cleanup)


HARNESSES: dict[str, Callable[[Path], Harness]] = {
    "local": _local,
    "snowflake": _snowflake,
}
_MARKS = {
    "snowflake": [
        pytest.mark.live,
        pytest.mark.skipif(not _LIVE_CONNECTION, reason="set SNOWML_TEST_CONNECTION to run live tests"),
    ]
}


@pytest.fixture(
    scope="module", params=[pytest.param(name, marks=_MARKS.get(name, [])) for name in sorted(HARNESSES)]
)
def harness(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    opened = HARNESSES[request.param](tmp_path_factory.mktemp(f"contract-{request.param}"))
    try:
        yield opened
    finally:
        try:
            opened.cleanup()
        finally:
            opened.engine.close()


@pytest.fixture(scope="module")
def engine(harness: Harness) -> Engine:
    """An engine with the demo files uploaded and loaded as BC, BC_NEW and CHURN."""
    engine = harness.engine
    engine.upload(harness.demo_files, "LOAD_DATA")
    for file, table in (
        ("BREAST_CANCER.csv", "BC"),
        ("BREAST_CANCER_NEW_PATIENTS.csv", "BC_NEW"),
        ("CHURN.csv", "CHURN"),
    ):
        engine.load(LoadRequest(stage="LOAD_DATA", file=file, table=table, mode="replace"))
    return engine

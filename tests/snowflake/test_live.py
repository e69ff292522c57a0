"""The whole workflow against a real Snowflake account (``pytest -m live``).

Runs only when SNOWML_TEST_CONNECTION names a connection (a connections.toml entry or an app connection
with its secret in the keyring). It creates its own tables with a unique prefix in the connection's data
schema and drops them at the end; it runs setup (idempotent) in the connection's database. Costs a few
cents of credits: an X-Small warehouse for a few minutes, Medium Snowpark-optimized for one training.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# Read before the autouse fixture points these into a temporary folder.
_REAL_ENV = {
    k: os.environ.get(k) for k in ("SNOWFLAKE_HOME", "SNOWML_CONFIG_DIR", "SNOWFLAKE_DEFAULT_CONNECTION_NAME")
}
CONNECTION = os.environ.get("SNOWML_TEST_CONNECTION")

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        not CONNECTION, reason="set SNOWML_TEST_CONNECTION to a connection name to run live tests"
    ),
]


@pytest.fixture(scope="module")
def engine() -> Iterator:
    from snowml_desktop.engines.snowflake.engine import SnowflakeEngine

    saved = {k: os.environ.get(k) for k in _REAL_ENV}
    for key, value in _REAL_ENV.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    try:
        engine = SnowflakeEngine.from_connection(CONNECTION)
        yield engine
        engine.close()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_workflow(engine, tmp_path: Path) -> None:
    from snowml_desktop.engines.base import LoadRequest, ScoreRequest, TrainRequest

    plan = engine.plan_setup()
    assert plan.privileges and plan.objects
    engine.run_setup()
    assert not engine.plan_setup().needed  # idempotent: a second plan has nothing to do

    prefix = f"LIVE_{uuid.uuid4().hex[:8].upper()}"
    data = tmp_path / f"{prefix}.csv"
    lines = ["AGE,PLAN,SPEND,CHURNED"] + [
        f"{20 + i % 50},{'pro' if i % 3 else 'basic'},{(i * 7) % 100}.5,{'true' if i % 4 == 0 else 'false'}"
        for i in range(300)
    ]
    lines.append("not-a-number,pro,1.0,false")  # one rejected row
    data.write_text("\n".join(lines) + "\n")
    table = prefix
    try:
        assert [f.name for f in engine.upload([data])] == [data.name]
        loaded = engine.load(LoadRequest("LOAD_DATA", data.name, table))
        assert loaded.rows_loaded == 300 and loaded.rows_rejected == 1 and loaded.rejections
        profile = engine.profile(table)
        assert profile.rows == 300
        assert engine.class_balance(table, "CHURNED").counts
        optimized = engine.capabilities.supports_snowpark_optimized
        before = engine.warehouse()
        model = engine.train(TrainRequest(table, "CHURNED", optimized=optimized, keep_clone=True))
        assert engine.warehouse().type == before.type and engine.warehouse().size == before.size
        assert model.metrics["accuracy"] is not None
        runs = [
            engine.score(ScoreRequest(model.name, table, size=size, overwrite=True))
            for size in ("X-Small", "Small")
        ]
        assert all(run.rows == 300 and run.metrics for run in runs)
        assert engine.warehouse().size == before.size
        assert {r.run_id for r in engine.list_runs(model=model.name)} >= {r.run_id for r in runs}
        engine.delete_model(model.name)
    finally:
        for name in [t.name for t in engine.list_tables() if t.name.startswith(prefix)]:
            engine.drop_table(name)

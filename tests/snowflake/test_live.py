"""The first live run against a real Snowflake account (``pytest -m live``): see ``first_live_run.py``.

Runs only when SNOWML_TEST_CONNECTION names a connection (a connections.toml entry or an app connection with
its secret in the keyring); SNOWML_TEST_ROLE2 adds scoring as a second role; SNOWML_TEST_REPORT_DIR is where
the report goes (default: the current folder). It creates a throw-away database and warehouses with a random
suffix, capped by a statement timeout (and a resource monitor when the role may create one), runs the whole
workflow there and drops everything it created, even on failure. Expect well under one credit.
"""

from __future__ import annotations

import os
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


@pytest.fixture
def real_environment() -> Iterator[None]:
    """The user's own connection and config folders, which the suite's autouse fixture replaced."""
    saved = {k: os.environ.get(k) for k in _REAL_ENV}
    for key, value in _REAL_ENV.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_first_live_run(real_environment: None) -> None:
    from tests.snowflake.first_live_run import live, new_plan

    plan = new_plan(os.environ.get("SNOWML_TEST_ROLE2"))
    report, path = live(CONNECTION, plan, Path(os.environ.get("SNOWML_TEST_REPORT_DIR") or Path.cwd()))
    failed = [f"{s.name}: {s.error}" for s in report.steps if not s.ok and not s.optional]
    assert not failed, f"see {path}: " + "; ".join(failed)
    planned = [step.name for step in [*plan.steps(), *plan.cleanup()]]
    assert [s.name for s in report.steps if s.name in planned][: len(planned) - 1] == planned[:-1], f"see {path}"

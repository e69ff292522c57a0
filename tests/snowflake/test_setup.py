"""Setup: package pinning from INFORMATION_SCHEMA.PACKAGES, the plan shown first, idempotent re-runs, and
procedure registration (argument shape checked on a recording stand-in for the network; the handlers
themselves registered and called in Snowpark local testing)."""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import pytest
from tests.snowflake.sf_fake_account import FakeAccount
from tests.snowflake.sf_setup_account import RecordingSprocs

from snowml_desktop import __version__
from snowml_desktop.core.errors import EngineError
from snowml_desktop.engines.snowflake import setup, sql

RUNTIME = f"{sys.version_info.major}.{sys.version_info.minor}"
LOC = sql.Location("ML DB", "SNOWML", "DATA")


def _package_rows(skip: str | None = None, too_old: str | None = None) -> list[dict]:
    rows = []
    for name in setup.REQUIRED_PACKAGES:
        if name == skip:
            continue
        floor = setup.MIN_VERSIONS[name]
        versions = ("1.2.0", "1.10.1", "1.9.0") if name == "scikit-learn" else ("0.1", floor, f"{floor}.1")
        for version in ("0.1",) if name == too_old else versions:
            rows.append({"PACKAGE_NAME": name, "VERSION": version, "RUNTIME_VERSION": RUNTIME})
        rows.append(
            {"PACKAGE_NAME": name, "VERSION": "9.0.0", "RUNTIME_VERSION": "3.8"}
        )  # other runtime: ignored
    return rows


def _account(state: dict | None = None, skip: str | None = None) -> FakeAccount:
    account = FakeAccount()
    account.answer(r"INFORMATION_SCHEMA.*PACKAGES", _package_rows(skip))
    account.answer(
        r'FROM "ML DB"."SNOWML"."SETUP_STATE"',
        [{"KEY": "setup", "VALUE": json.dumps(state)}] if state else [],
    )
    return account


def test_newest_version_per_package_for_this_runtime() -> None:
    packages = setup.choose_packages(_package_rows())
    assert packages.runtime == RUNTIME
    assert packages.versions["scikit-learn"] == "1.10.1"  # numeric, not text, ordering
    assert "scikit-learn==1.10.1" in packages.pins()


def test_missing_package_is_named() -> None:
    with pytest.raises(EngineError, match=r"no optuna>=3\.5 for Python"):
        setup.choose_packages(_package_rows(skip="optuna"))


def test_versions_below_what_the_core_supports_are_not_pinned() -> None:
    packages = setup.choose_packages(_package_rows())
    assert packages.versions["pandas"] == "2.0.1" and packages.versions["optuna"] == "3.5.1"
    with pytest.raises(EngineError, match=r"no pandas>=2\.0 for Python"):
        setup.choose_packages(_package_rows(too_old="pandas"))


def test_plan_lists_objects_and_privileges_before_anything_runs() -> None:
    account = _account()
    plan = setup.plan_setup(account, LOC)
    assert plan.needed and "not been set up" in plan.reason
    assert any("MODELS_CATALOG" in o for o in plan.objects)
    assert any("CREATE PROCEDURE" in p for p in plan.privileges)
    assert all(s.text.startswith(("SELECT",)) for s in account.log)  # reading only


def test_setup_runs_everything_then_is_idempotent(monkeypatch: pytest.MonkeyPatch) -> None:
    account = _account()
    session = RecordingSprocs()
    state = setup.run_setup(account, session, LOC)
    texts = [s.text for s in account.log]
    assert any(t.startswith('CREATE SCHEMA IF NOT EXISTS "ML DB"."DATA"') for t in texts)
    assert any(t.startswith('CREATE TABLE IF NOT EXISTS "ML DB"."SNOWML"."MODELS_CATALOG"') for t in texts)
    assert any(t.startswith("PUT 'file://") and "PROCEDURES" in t for t in texts)
    assert texts[-1].startswith('MERGE INTO "ML DB"."SNOWML"."SETUP_STATE"')
    assert [c["name"] for c in session.calls] == [LOC.app(n) for n in sql.PROCEDURES]
    call = session.calls[1]
    assert call["is_permanent"] and call["stage_location"] == '@"ML DB"."SNOWML"."PROCEDURES"'
    assert call["imports"] == [state.code_import] and state.code_import.endswith(".zip")
    assert call["execute_as"] == "caller"  # a caller never gets the setup role's privileges
    assert call["statement_params"] == {"QUERY_TAG": f"snowml-desktop/{__version__}/setup"}
    assert "scikit-learn==1.10.1" in call["packages"]
    # Second run: the stored state matches, nothing is created or registered again.
    stored = json.loads(account.log[-1].params[1])
    again = _account(stored)
    assert setup.run_setup(again, RecordingSprocs(), LOC) == state
    assert not any(s.text.startswith(("CREATE", "PUT", "MERGE")) for s in again.log)


def test_new_app_version_or_package_set_triggers_setup() -> None:
    packages = setup.choose_packages(_package_rows())
    state = {
        "app_version": "0.0.1",
        "setup_format": setup.SETUP_FORMAT,
        "packages": packages.__dict__,
        "code_import": "@x/y.zip",
    }
    assert "0.0.1 -> " in setup.plan_setup(_account(state), LOC).reason
    state.update(app_version=__version__, packages={"runtime": RUNTIME, "versions": {"pandas": "0.1"}})
    assert "package versions changed" in setup.plan_setup(_account(state), LOC).reason


def test_code_zip_holds_one_importable_package(tmp_path: Path) -> None:
    names = set(zipfile.ZipFile(setup.code_zip(tmp_path)).namelist())
    for needed in (
        "snowml_desktop/__init__.py",
        "snowml_desktop/core/records.py",
        "snowml_desktop/engines/base.py",
        "snowml_desktop/engines/snowflake/procedures.py",
        "snowml_desktop/engines/snowflake/udf.py",
        "snowml_desktop/engines/snowflake/sql.py",
    ):
        assert needed in names
    assert not any(n.startswith(("snowml_desktop/ui", "snowml_desktop/jobs")) for n in names)


def test_procedure_handlers_register_and_answer_in_local_testing(snowpark_session) -> None:
    """Permanent registration needs an account; the same handlers registered temporarily must run."""
    from snowflake.snowpark.types import StringType

    from snowml_desktop.engines.snowflake import procedures

    snowpark_session.sproc.register(
        procedures.load_procedure, return_type=StringType(), input_types=[StringType()], name="SNOWML_LOAD"
    )
    answer = snowpark_session.call("SNOWML_LOAD", "not json")
    assert json.loads(answer)["ok"] is False and "malformed" in json.loads(answer)["error"]["message"]


def test_setup_adds_newer_record_columns_to_an_older_catalog() -> None:
    """A catalog made by format 1 lacks THRESHOLD and the drift columns; setup adds every layout column with
    ADD COLUMN IF NOT EXISTS (https://docs.snowflake.com/en/sql-reference/sql/alter-table), a no-op elsewhere."""
    import sqlglot

    from snowml_desktop.core import records

    loc = sql.Location("DB")
    texts = [s.text for s in setup.setup_statements(loc)]
    for table, columns in (
        (sql.MODELS_CATALOG, records.MODELS_CATALOG_COLUMNS),
        (sql.INFERENCE_RUNS, records.INFERENCE_RUNS_COLUMNS),
    ):
        added = [t for t in texts if t.startswith(f"ALTER TABLE {loc.app(table)} ADD COLUMN IF NOT EXISTS")]
        assert len(added) == len(columns)
        for text in added:
            sqlglot.parse_one(text, read="snowflake")
    assert (
        'ALTER TABLE "DB"."SNOWML"."MODELS_CATALOG" ADD COLUMN IF NOT EXISTS "DRIFT_PROFILE" VARIANT' in texts
    )
    assert 'ALTER TABLE "DB"."SNOWML"."INFERENCE_RUNS" ADD COLUMN IF NOT EXISTS "THRESHOLD" FLOAT' in texts
    assert setup.SETUP_FORMAT >= 2  # accounts set up before the columns existed are asked to run setup again

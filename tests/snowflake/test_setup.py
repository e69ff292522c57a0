"""Setup: package pinning from INFORMATION_SCHEMA.PACKAGES, the plan shown first, idempotent re-runs, and
procedure registration (argument shape checked on a recording stand-in for the network; the handlers
themselves registered and called in Snowpark local testing)."""

from __future__ import annotations

import compileall
import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from tests.snowflake.sf_fake_account import FakeAccount
from tests.snowflake.sf_setup_account import RUNTIME, RecordingSprocs, package_rows

from snowml_desktop import __version__
from snowml_desktop.core.errors import EngineError, InvalidInput
from snowml_desktop.engines.snowflake import packages, setup, sql
from snowml_desktop.engines.snowflake.packages import UnresolvablePackages

LOC = sql.Location("ML DB", "SNOWML", "DATA")


def _package_rows(skip: str | None = None) -> list[dict]:
    return [r for r in package_rows() if r["PACKAGE_NAME"] != skip] + [
        {"PACKAGE_NAME": "scikit-learn", "VERSION": v, "RUNTIME_VERSION": RUNTIME} for v in ("1.9.0", "1.10.1")
    ]


def _account(state: dict | None = None, skip: str | None = None) -> FakeAccount:
    account = FakeAccount()
    account.answer(r"INFORMATION_SCHEMA.*PACKAGES", _package_rows(skip))
    account.answer(
        r'FROM "ML DB"."SNOWML"."SETUP_STATE"',
        [{"KEY": "setup", "VALUE": json.dumps(state)}] if state else [],
    )
    return account


def test_plan_pins_the_resolved_set_cloudpickle_included() -> None:
    plan = setup.plan_setup(_account(), LOC)
    assert plan.packages is not None and plan.packages.runtime == RUNTIME
    # scikit-learn 1.9.0 and 1.10.1 are there but need joblib>=1.4.0, which this channel lacks.
    assert "scikit-learn==1.3" in plan.packages.pins()
    assert f"cloudpickle=={packages.desktop_cloudpickle()}" in plan.packages.pins()


def test_missing_package_is_named_before_anything_runs() -> None:
    account = _account(skip="optuna")
    with pytest.raises(UnresolvablePackages, match=r"no optuna>=3\.5 for Python"):
        setup.plan_setup(account, LOC)
    assert all(s.text.startswith("SELECT") for s in account.log)


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
    assert "scikit-learn==1.3" in call["packages"]
    # Second run: the stored state matches, nothing is created or registered again.
    stored = json.loads(account.log[-1].params[1])
    again = _account(stored)
    assert setup.run_setup(again, RecordingSprocs(), LOC) == state
    assert not any(s.text.startswith(("CREATE", "PUT", "MERGE")) for s in again.log)


def test_new_app_version_or_package_set_triggers_setup() -> None:
    pinned = setup.available_packages(_account(), LOC)
    state = {
        "app_version": "0.0.1",
        "setup_format": setup.SETUP_FORMAT,
        "packages": pinned.__dict__,
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


def test_code_zip_carries_the_app_version(tmp_path: Path) -> None:
    archive = zipfile.ZipFile(setup.code_zip(tmp_path))
    assert archive.read("snowml_desktop/_version.py").decode() == f"__version__ = {__version__!r}\n"


def test_code_zip_from_an_install_of_bytecode_only_names_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A frozen build that ships bytecode alone: setup says which source is missing, not FileNotFoundError."""
    source = Path(setup.__file__).resolve().parents[2]
    installed = tmp_path / "installed" / "snowml_desktop"
    shutil.copytree(source, installed, ignore=shutil.ignore_patterns("__pycache__"))
    compileall.compile_dir(installed, quiet=1, legacy=True)
    for path in installed.rglob("*.py"):
        path.unlink()
    monkeypatch.setattr(setup, "__file__", str(installed / "engines" / "snowflake" / "setup.py"))
    with pytest.raises(EngineError, match=r"lacks the source code the Snowflake procedures run \(__init__\.py is not in"):
        setup.code_zip(tmp_path)


# GRANT syntax and the privileges each object type takes:
# https://docs.snowflake.com/en/sql-reference/sql/grant-privilege (ON <object_type> <name>, ON ALL | FUTURE
# <object_type_plural> IN SCHEMA, a procedure or function named with its argument types), privileges per type:
# https://docs.snowflake.com/en/user-guide/security-access-control-privileges
GRANTABLE = {
    "DATABASE": {"USAGE"},
    "SCHEMA": {"USAGE", "CREATE TABLE", "CREATE FUNCTION"},
    "PROCEDURE": {"USAGE"},
    "FUNCTIONS": {"USAGE"},
    "STAGE": {"READ", "WRITE"},
    "FILE FORMAT": {"USAGE"},
    "TABLE": {"SELECT", "INSERT", "UPDATE", "DELETE"},
    "VIEW": {"SELECT"},
    "SEQUENCE": {"USAGE"},
}
NAME = r'"[^"]+"(?:\."[^"]+")*'  # setup quotes every part
GRANT = re.compile(
    rf"^GRANT (?P<privileges>[A-Z ,]+) ON (?:(?P<bulk>ALL|FUTURE) (?P<plural>FUNCTIONS) IN SCHEMA {NAME}"
    rf"|(?P<kind>DATABASE|SCHEMA|PROCEDURE|STAGE|FILE FORMAT|TABLE|VIEW|SEQUENCE) {NAME}(?P<args>\([A-Z, ]*\))?)"
    r' TO ROLE (?P<role>"[^"]+")$'
)


def test_app_role_grants_follow_the_documented_grammar_and_cover_scoring() -> None:
    grants = [s.text for s in setup.app_role_grants(LOC, "ml users")]
    parsed = [GRANT.match(text) for text in grants]
    assert all(parsed), [t for t, m in zip(grants, parsed, strict=True) if not m]
    for match in parsed:
        kind = match["plural"] or match["kind"]
        assert set(match["privileges"].split(", ")) <= GRANTABLE[kind], match.string
        assert match["role"] == '"ml users"'  # quoted as typed: not a simple name
        assert (match["args"] is not None) == (kind == "PROCEDURE"), match.string
    # Scoring a model another role trained: USAGE on its PREDICT_* function, now and in the future.
    assert 'GRANT USAGE ON ALL FUNCTIONS IN SCHEMA "ML DB"."SNOWML" TO ROLE "ml users"' in grants
    assert 'GRANT USAGE ON FUTURE FUNCTIONS IN SCHEMA "ML DB"."SNOWML" TO ROLE "ml users"' in grants
    # Training: a UDF handler over 8 KB is staged on PROCEDURES.
    assert 'GRANT READ, WRITE ON STAGE "ML DB"."SNOWML"."PROCEDURES" TO ROLE "ml users"' in grants
    assert 'GRANT USAGE ON PROCEDURE "ML DB"."SNOWML"."SNOWML_SCORE"(VARCHAR) TO ROLE "ml users"' in grants
    assert 'GRANT USAGE ON SEQUENCE "ML DB"."SNOWML"."SNOWML_SEQ" TO ROLE "ml users"' in grants
    assert setup.app_role_grants(LOC, "analyst")[0].text.endswith('TO ROLE "ANALYST"')


def test_a_bad_role_name_is_refused_before_anything_runs() -> None:
    account = _account()
    with pytest.raises(InvalidInput):
        setup.grant_app_role(account, LOC, "  ")
    assert account.log == []


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

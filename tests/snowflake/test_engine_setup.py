"""SnowflakeEngine.plan_setup / run_setup through the engine protocol, against a test double of an account
that was never set up (it stands in for the network): the plan shown is what runs, setup is idempotent, and
a missing privilege or package is reported by name with nothing recorded as done."""

from __future__ import annotations

import json

import pytest
from tests.snowflake.sf_setup_account import RecordingSprocs, refuse, setup_account, setup_engine

from snowml_desktop.core.errors import EngineError, PermissionDenied
from snowml_desktop.engines.base import LoadRequest, SetupPlan
from snowml_desktop.engines.snowflake import sql

CHANGES = ("CREATE", "ALTER TABLE", "PUT", "MERGE")


def _changes(account) -> list[str]:
    return [s.text for s in account.log if s.text.startswith(CHANGES)]


def test_plan_shows_objects_privileges_and_sql_and_changes_nothing() -> None:
    account = setup_account()
    plan = setup_engine(account).plan_setup()
    assert isinstance(plan, SetupPlan) and plan.needed and "not been set up" in plan.reason
    assert any("MODELS_CATALOG" in o for o in plan.objects)
    assert any("SNOWML_TRAIN" in o and "scikit-learn==1.3" in o for o in plan.objects)
    assert any(p.startswith("CREATE SCHEMA on database DB") for p in plan.privileges)
    assert plan.statements[0].startswith('CREATE SCHEMA IF NOT EXISTS "DB"."SNOWML"')
    assert sum(s.startswith("-- CREATE OR REPLACE PROCEDURE") for s in plan.statements) == len(sql.PROCEDURES)
    assert _changes(account) == []


def test_run_setup_runs_the_sql_it_showed_then_is_idempotent() -> None:
    account = setup_account()
    sprocs = RecordingSprocs()
    engine = setup_engine(account, sprocs)
    seen = []
    engine.add_activity_listener(seen.append)
    shown = [s for s in engine.plan_setup().statements if not s.startswith("--")]

    after = engine.run_setup()

    assert not after.needed and "nothing to do" in after.reason
    ran = [t for t in _changes(account) if t.startswith(("CREATE", "ALTER TABLE"))]
    assert ran == shown  # exactly what the plan showed, in order
    assert [c["name"] for c in sprocs.calls] == ['"DB"."SNOWML".' + f'"{n}"' for n in sql.PROCEDURES]
    assert seen[-1].operation == "setup" and seen[-1].ok and seen[-1].query_id.startswith("qid-")
    # Operations now run, with the packages and code setup recorded.
    calls = []

    def call(statement: sql.Statement) -> list[dict]:
        calls.append(json.loads(statement.params[0]))
        raise EngineError("stopped by the test")

    account.answer(r"^CALL", call)
    with pytest.raises(EngineError, match="stopped by the test"):
        engine.load(LoadRequest("LOAD_DATA", "churn.csv", "CHURN"))
    assert "scikit-learn==1.3" in calls[0]["packages"]
    assert calls[0]["code_imports"] == [sprocs.calls[0]["imports"][0]]

    before = len(account.log)
    assert engine.run_setup() == after
    assert not [s.text for s in account.log[before:] if s.text.startswith(CHANGES)]
    assert len(sprocs.calls) == len(sql.PROCEDURES)


def test_missing_privilege_names_the_grant_and_records_nothing() -> None:
    account = setup_account()
    refuse(account, r"^CREATE STAGE", "schema 'SNOWML'")
    engine = setup_engine(account)
    with pytest.raises(PermissionDenied) as raised:
        engine.run_setup()
    message = str(raised.value)
    assert message.startswith("Setup needs CREATE STAGE on schema DB.SNOWML, which role ANALYST does not")
    assert "Insufficient privileges to operate on schema 'SNOWML'" in message  # Snowflake's own words
    assert not any(t.startswith("MERGE") for t in _changes(account))
    assert engine.plan_setup().needed


def test_procedure_registration_refused_names_create_procedure() -> None:
    from snowflake.snowpark.exceptions import SnowparkSQLException

    account = setup_account()
    # As Snowpark raises it: its own code 1304, Snowflake's error number in sql_error_code (Snowpark API docs,
    # snowflake.snowpark.exceptions.SnowparkSQLException).
    refused = SnowparkSQLException(
        "Insufficient privileges to operate on schema 'SNOWML'", error_code="1304", sql_error_code=3001
    )
    engine = setup_engine(account, RecordingSprocs(fail=refused))
    with pytest.raises(PermissionDenied, match=r"^Setup needs CREATE PROCEDURE on schema DB\.SNOWML"):
        engine.run_setup()
    assert engine.plan_setup().needed


def test_a_bug_in_registration_is_not_disguised_as_an_account_error() -> None:
    engine = setup_engine(setup_account(), RecordingSprocs(fail=TypeError("bad argument")))
    with pytest.raises(TypeError):
        engine.run_setup()


def test_missing_package_is_named_before_anything_is_created() -> None:
    account = setup_account(missing_package="optuna")
    engine = setup_engine(account)
    for call in (engine.plan_setup, engine.run_setup):
        with pytest.raises(EngineError, match=r"no optuna>=3\.5"):
            call()
    assert _changes(account) == []


def test_state_that_cannot_be_read_back_is_reported() -> None:
    account = setup_account()
    refuse(account, r'^SELECT .* FROM .*"SETUP_STATE"', "table 'SETUP_STATE'")
    with pytest.raises(EngineError, match=r"still finds it needed.*SELECT from DB\.SNOWML\.SETUP_STATE"):
        setup_engine(account).run_setup()


def test_loading_before_setup_points_to_the_setup_command() -> None:
    with pytest.raises(EngineError, match=r"setup has not been run.*snowml setup --yes"):
        setup_engine(setup_account()).load(LoadRequest("LOAD_DATA", "churn.csv", "CHURN"))


def test_grant_app_role_lets_another_role_score_and_names_manage_grants_when_refused() -> None:
    account = setup_account()
    engine = setup_engine(account)
    granted = engine.grant_app_role("ml_users")
    assert 'GRANT USAGE ON FUTURE FUNCTIONS IN SCHEMA "DB"."SNOWML" TO ROLE "ML_USERS"' in granted
    assert [s.text for s in account.log if s.text.startswith("GRANT")] == granted

    # Defining a future grant in a schema needs MANAGE GRANTS (or a managed access schema's ownership):
    # https://docs.snowflake.com/en/user-guide/security-access-control-configure
    refused = setup_account()
    refuse(refused, r"^GRANT .* ON FUTURE FUNCTIONS", "schema 'SNOWML'")
    with pytest.raises(PermissionDenied, match=r"^Setup needs MANAGE GRANTS \(on the account or on schema DB\.SNOWML\)"):
        setup_engine(refused).grant_app_role("ml_users")

"""The account check (``snowml doctor``) on Snowflake, line by line, against accounts whose answers follow
Snowflake's documentation (``sf_fake_doctor``): each line OK, missing with the statement that fixes it, and
unknown where the role cannot see enough. And the check never changes anything."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest
from tests.snowflake.sf_fake_doctor import CONTEXT, DoctorAccount, doctor_engine, fake_account, package_rows

from snowml_desktop.core.errors import ConnectionFailed, EngineError, PermissionDenied
from snowml_desktop.engines.base import CHECK_MISSING, CHECK_OK, CHECK_UNKNOWN, AccountCheck, CheckLine
from snowml_desktop.engines.snowflake import doctor, sql
from snowml_desktop.engines.snowflake.warehouse import Journal, WarehouseSettings


def check(
    tmp_path: Path, state: DoctorAccount | None = None, **engine: str
) -> tuple[AccountCheck, list[str]]:
    account = fake_account(state or DoctorAccount())
    journal = Journal("ACCT", tmp_path / "journal")
    eng = doctor_engine(account, journal, **engine)
    start = len(account.log)
    result = eng.check_account()
    return result, [s.text for s in account.log[start:]]


def line(result: AccountCheck, name: str) -> CheckLine:
    found = [entry for entry in result.lines if entry.name == name]
    assert len(found) == 1, [entry.name for entry in result.lines]
    return found[0]


def test_a_ready_account_is_ok_everywhere_and_the_check_only_reads(tmp_path):
    result, statements = check(tmp_path)
    assert {entry.status for entry in result.lines} == {CHECK_OK}, [
        e for e in result.lines if e.status != CHECK_OK
    ]
    assert result.ready and result.role == "ANALYST" and result.account == "ACCT"
    assert statements and all(s.startswith(("SELECT ", "SHOW ")) for s in statements)
    names = [entry.name for entry in result.lines]
    for expected in (
        "login",
        "authenticator",
        "role",
        "database usage",
        "schema SNOWML",
        "schema DATA",
        "warehouse",
        "auto-resume",
        "auto-suspend",
        "warehouse USAGE",
        "warehouse OPERATE",
        "warehouse MODIFY",
        "snowpark-optimized",
        "python runtime",
        "packages",
        "cloudpickle",
        "setup",
        "warehouse journal",
        "other roles",
    ):
        assert expected in names


def test_connecting_for_a_check_does_not_replay_the_journal_but_reports_it(tmp_path):
    journal = Journal("ACCT", tmp_path / "journal")
    journal.write(WarehouseSettings("WH", "XSMALL", "STANDARD", "STARTED", "STANDARD_GEN_1"), "convert")
    account = fake_account(DoctorAccount())
    engine = doctor_engine(account, journal)
    result = engine.check_account()
    assert not any(s.text.startswith("ALTER") for s in account.log)
    restore = line(result, "restore WH")
    assert restore.status == CHECK_MISSING
    assert restore.fix == 'ALTER WAREHOUSE "WH" SET WAREHOUSE_TYPE = STANDARD WAREHOUSE_SIZE = XSMALL;'
    assert journal.read("WH") is not None  # still there for the next real connect


def test_password_login_is_flagged_with_the_key_pair_statement(tmp_path):
    result, _ = check(tmp_path, authenticator="snowflake")
    auth = line(result, "authenticator")
    assert auth.status == CHECK_UNKNOWN and "security-mfa-rollout" in auth.detail
    assert auth.fix.startswith('ALTER USER "ANA" SET RSA_PUBLIC_KEY')
    assert line(result, "login").status == CHECK_OK


def test_a_login_method_the_app_does_not_list_still_logged_in(tmp_path):
    result, _ = check(tmp_path, authenticator="some_future_login")
    assert (
        line(result, "login").status == CHECK_OK
        and "some_future_login" in line(result, "login").detail
    )
    assert line(result, "authenticator").status == CHECK_OK


def test_role_missing_and_secondary_roles_shown(tmp_path):
    result, _ = check(tmp_path, DoctorAccount(role=None))
    role = line(result, "role")
    assert role.status == CHECK_MISSING and 'GRANT ROLE <a role> TO USER "ANA"' in role.fix
    result, _ = check(tmp_path, DoctorAccount(secondary_roles='{"roles":"LOADER,READER","value":"ALL"}'))
    assert "LOADER, READER" in line(result, "role").detail


def test_database_usage_ok_missing_unknown(tmp_path):
    missing, _ = check(tmp_path, DoctorAccount(database_grants=[("USAGE", "SOMEONE_ELSE")]))
    assert line(missing, "database usage").status == CHECK_MISSING
    assert line(missing, "database usage").fix == 'GRANT USAGE ON DATABASE "DB" TO ROLE "ANALYST";'
    by_db_role, _ = check(tmp_path, DoctorAccount(database_grants=[("USAGE", "DB_ROLE:READERS")]))
    assert line(by_db_role, "database usage").status == CHECK_UNKNOWN
    refused, _ = check(tmp_path, DoctorAccount(refused={"DATABASE"}))
    assert line(refused, "database usage").status == CHECK_UNKNOWN
    inherited, _ = check(tmp_path, DoctorAccount(database_grants=[("USAGE", "PUBLIC")]))
    assert line(inherited, "database usage").status == CHECK_OK  # PUBLIC is in every session's hierarchy


def test_setup_privileges_name_the_grants_that_are_missing(tmp_path):
    state = DoctorAccount(
        schema_grants={
            "SNOWML": [("USAGE", "ANALYST"), ("CREATE TABLE", "ANALYST")],
            "DATA": [("OWNERSHIP", "ANALYST")],
        }
    )
    result, _ = check(tmp_path, state)
    app = line(result, "schema SNOWML")
    assert app.status == CHECK_MISSING
    assert app.fix.startswith(
        "GRANT CREATE VIEW, CREATE STAGE, CREATE SEQUENCE, CREATE FILE FORMAT, CREATE PROCEDURE"
    )
    assert app.fix.endswith('ON SCHEMA "DB"."SNOWML" TO ROLE "ANALYST";')
    assert line(result, "schema DATA").status == CHECK_OK

    new_database, _ = check(tmp_path, DoctorAccount(schemas=(), database_grants=[("USAGE", "ANALYST")]))
    create = line(new_database, "create schemas")
    assert (
        create.status == CHECK_MISSING
        and create.fix == 'GRANT CREATE SCHEMA ON DATABASE "DB" TO ROLE "ANALYST";'
    )
    hidden, _ = check(tmp_path, DoctorAccount(refused={"SCHEMA"}))
    assert line(hidden, "schema SNOWML").status == CHECK_UNKNOWN


def test_create_privileges_count_only_through_the_primary_role(tmp_path):
    # Only the primary role may create objects; a secondary role's CREATE grants do not count
    # (https://docs.snowflake.com/en/sql-reference/sql/show-warehouses, WITH PRIVILEGES).
    via_other = {
        "SNOWML": [("USAGE", "ANALYST"), *((c, "LOADER") for c in doctor._APP_CREATES)],
        "DATA": [("OWNERSHIP", "ANALYST")],
    }
    state = DoctorAccount(session_roles={"ANALYST", "LOADER", "PUBLIC"}, schema_grants=via_other)
    assert line(check(tmp_path, state)[0], "schema SNOWML").status == CHECK_OK  # LOADER is under ANALYST
    state.secondary_roles = '{"roles":"LOADER","value":"ALL"}'
    assert line(check(tmp_path, state)[0], "schema SNOWML").status == CHECK_UNKNOWN  # maybe only secondary
    state.schema_grants = {**via_other, "SNOWML": [("OWNERSHIP", "ANALYST")]}
    assert line(check(tmp_path, state)[0], "schema SNOWML").status == CHECK_OK  # the primary role owns it


def test_warehouse_settings_generation_auto_resume_and_auto_suspend(tmp_path):
    gen2 = DoctorAccount()
    gen2.warehouse = {**gen2.warehouse, "generation": "2", "resource_constraint": None}
    result, _ = check(tmp_path, gen2)
    assert "generation 2" in line(result, "warehouse").detail
    legacy = DoctorAccount()
    legacy.warehouse = {**legacy.warehouse, "resource_constraint": "STANDARD_GEN_2"}
    assert "generation 2" in line(check(tmp_path, legacy)[0], "warehouse").detail

    off = DoctorAccount()
    off.warehouse = {**off.warehouse, "auto_resume": "false", "auto_suspend": 0}
    result, _ = check(tmp_path, off)
    assert line(result, "auto-resume").status == CHECK_MISSING
    assert line(result, "auto-resume").fix == 'ALTER WAREHOUSE "WH" SET AUTO_RESUME = TRUE;'
    assert line(result, "auto-suspend").fix == 'ALTER WAREHOUSE "WH" SET AUTO_SUSPEND = 60;'

    optimized = DoctorAccount()
    optimized.warehouse = {
        **optimized.warehouse,
        "type": "SNOWPARK-OPTIMIZED",
        "size": "Medium",
        "resource_constraint": "MEMORY_16X",
    }
    assert (
        "Medium SNOWPARK-OPTIMIZED, memory option MEMORY_16X"
        in line(check(tmp_path, optimized)[0], "warehouse").detail
    )

    gone, _ = check(tmp_path, DoctorAccount(warehouse=None))
    assert line(gone, "warehouse").status == CHECK_MISSING
    assert line(gone, "warehouse").fix == 'GRANT USAGE ON WAREHOUSE "WH" TO ROLE "ANALYST";'
    assert not any(e.name.startswith("warehouse ") and e.name != "warehouse journal" for e in gone.lines)


def test_manage_warehouses_counts_and_not_seen_is_unknown_not_missing(tmp_path):
    usage_only = [("USAGE", "ANALYST")]
    managed, _ = check(
        tmp_path,
        DoctorAccount(warehouse_grants=usage_only, account_grants=[("MANAGE WAREHOUSES", "ANALYST")]),
    )
    assert line(managed, "warehouse MODIFY").status == CHECK_OK
    assert line(managed, "warehouse OPERATE").status == CHECK_OK
    hidden, _ = check(tmp_path, DoctorAccount(warehouse_grants=usage_only, account_grants=None))
    modify = line(hidden, "warehouse MODIFY")
    assert (
        modify.status == CHECK_UNKNOWN and modify.fix == 'GRANT MODIFY ON WAREHOUSE "WH" TO ROLE "ANALYST";'
    )
    seen_nowhere, _ = check(tmp_path, DoctorAccount(warehouse_grants=usage_only, account_grants=[]))
    assert line(seen_nowhere, "warehouse MODIFY").status == CHECK_MISSING
    assert line(seen_nowhere, "warehouse USAGE").status == CHECK_OK
    no_usage, _ = check(
        tmp_path,
        DoctorAccount(
            warehouse_grants=[("MODIFY", "OTHER")], account_grants=[("MANAGE WAREHOUSES", "ANALYST")]
        ),
    )
    assert line(no_usage, "warehouse USAGE").status == CHECK_MISSING  # MANAGE WAREHOUSES gives no USAGE


def test_snowpark_optimized_options_follow_region_and_size(tmp_path):
    aws, _ = check(tmp_path)
    assert "MEMORY_64X" in line(aws, "snowpark-optimized").detail
    assert "At X-Small: MEMORY_1X, MEMORY_1X_x86." in line(aws, "snowpark-optimized").detail
    azure, _ = check(tmp_path, DoctorAccount(region="PUBLIC.AZURE_WESTEUROPE"))
    assert "MEMORY_64X" not in line(azure, "snowpark-optimized").detail
    assert line(check(tmp_path, DoctorAccount(region=""))[0], "snowpark-optimized").status == CHECK_UNKNOWN


def test_python_runtime_and_packages_missing(tmp_path):
    other = "3.8" if sys.version_info[:2] != (3, 8) else "3.9"
    result, _ = check(tmp_path, DoctorAccount(packages=package_rows(runtimes=(other,))))
    runtime = line(result, "python runtime")
    assert runtime.status == CHECK_MISSING and runtime.fix == f"Run snowml-desktop on Python {other}."
    assert line(result, "packages").status == CHECK_MISSING
    assert "scikit-learn" in line(result, "packages").detail

    no_optuna = [r for r in package_rows() if r["PACKAGE_NAME"] != "optuna"]
    result, _ = check(tmp_path, DoctorAccount(packages=no_optuna))
    assert line(result, "packages").status == CHECK_MISSING and "optuna" in line(result, "packages").detail
    assert line(result, "python runtime").status == CHECK_OK


def test_cloudpickle_older_than_this_computers_is_missing(tmp_path):
    result, _ = check(tmp_path, DoctorAccount(packages=package_rows(cloudpickle="0.1")))
    pickle = line(result, "cloudpickle")
    assert pickle.status == CHECK_MISSING and pickle.fix == 'pip install "cloudpickle==0.1"'


def test_setup_state_missing_and_outdated(tmp_path):
    never, _ = check(tmp_path, DoctorAccount(setup_version=None))
    assert line(never, "setup").status == CHECK_MISSING and "setup --yes" in line(never, "setup").fix
    old, _ = check(tmp_path, DoctorAccount(setup_version="0.0.1"))
    assert "0.0.1" in line(old, "setup").detail and line(old, "setup").status == CHECK_MISSING


def test_other_roles_scoring(tmp_path):
    alone, _ = check(tmp_path, DoctorAccount(future_grants=[]))
    other = line(alone, "other roles")
    assert other.status == CHECK_MISSING
    assert 'GRANT USAGE ON FUTURE FUNCTIONS IN SCHEMA "DB"."SNOWML" TO ROLE <scoring role>' in other.fix
    assert 'GRANT USAGE ON PROCEDURE "DB"."SNOWML"."SNOWML_SCORE"(VARCHAR)' in other.fix
    hidden, _ = check(tmp_path, DoctorAccount(procedure_grants=None))
    assert line(hidden, "other roles").status == CHECK_UNKNOWN
    ok, _ = check(tmp_path)
    assert "SCORER" in line(ok, "other roles").detail


def test_a_failing_statement_makes_its_line_unknown_and_a_lost_connection_stops(tmp_path):
    account = fake_account(DoctorAccount())
    engine = doctor_engine(account, Journal("ACCT", tmp_path / "j"))

    def broken(_statement: sql.Statement) -> list:
        raise EngineError("Schemata: boom")

    account.answer(r'"INFORMATION_SCHEMA"\."SCHEMATA"', broken)
    result = engine.check_account()
    assert line(result, "setup privileges").status == CHECK_UNKNOWN
    assert "boom" in line(result, "setup privileges").detail
    account.dead_from = len(account.log)
    with pytest.raises(ConnectionFailed):
        engine.check_account()


def test_golden_statements_match_the_documented_syntax():
    # SHOW GRANTS ON <object_type> <object_name>, SHOW GRANTS ON ACCOUNT, SHOW FUTURE GRANTS IN SCHEMA <schema>:
    # https://docs.snowflake.com/en/sql-reference/sql/show-grants
    loc = sql.Location("DB")
    assert sql.show_grants_on("SCHEMA", '"DB"."SNOWML"').text == 'SHOW GRANTS ON SCHEMA "DB"."SNOWML"'
    assert sql.show_grants_on_account().text == "SHOW GRANTS ON ACCOUNT"
    assert sql.show_future_grants(loc, "SNOWML").text == 'SHOW FUTURE GRANTS IN SCHEMA "DB"."SNOWML"'
    with pytest.raises(sql.InvalidInput):
        sql.show_grants_on("TABLE; DROP", "x")


def test_check_lines_refuse_unknown_statuses():
    with pytest.raises(ValueError):
        CheckLine("x", "fine", "detail")
    assert dataclasses.asdict(CheckLine("x", CHECK_OK, "d")) == {
        "name": "x",
        "status": "OK",
        "detail": "d",
        "fix": "",
    }


def test_a_refused_session_query_makes_its_lines_unknown(tmp_path):
    account = fake_account(DoctorAccount())
    engine = doctor_engine(account, Journal("ACCT", tmp_path / "j"))

    def refused(_statement: sql.Statement) -> list:
        raise PermissionDenied("Check account: the role lacks a privilege.")

    account.answer(r"^SELECT CURRENT_ROLE\(\) AS ROLE_NAME", refused)
    result = engine.check_account()
    assert line(result, "role").status == CHECK_UNKNOWN and "lacks a privilege" in line(result, "role").detail
    assert line(result, "snowpark-optimized").status == CHECK_UNKNOWN
    assert result.role is None
    assert line(result, "login").status == CHECK_OK


def test_create_schemas_ok_and_unknown(tmp_path):
    owner, _ = check(tmp_path, DoctorAccount(schemas=()))  # the role owns the database
    assert line(owner, "create schemas").status == CHECK_OK
    hidden, _ = check(tmp_path, DoctorAccount(schemas=(), refused={"DATABASE"}))
    assert line(hidden, "create schemas").status == CHECK_UNKNOWN
    assert line(hidden, "create schemas").fix == 'GRANT CREATE SCHEMA ON DATABASE "DB" TO ROLE "ANALYST";'


def test_no_warehouse_and_auto_resume_not_shown(tmp_path):
    account = fake_account(DoctorAccount())
    account.answer(r"^SELECT CURRENT_ACCOUNT", [{**CONTEXT, "WAREHOUSE": None}])
    result = doctor_engine(account, Journal("ACCT", tmp_path / "j"), warehouse="").check_account()
    assert line(result, "warehouse").status == CHECK_MISSING
    assert line(result, "warehouse").fix == 'ALTER USER "ANA" SET DEFAULT_WAREHOUSE = <warehouse>;'

    older = DoctorAccount()
    del older.warehouse["auto_resume"]
    assert line(check(tmp_path, older)[0], "auto-resume").status == CHECK_UNKNOWN


def test_a_warehouse_another_running_app_is_changing_is_unknown(tmp_path):
    import json
    import socket
    import subprocess

    journal = Journal("ACCT", tmp_path / "journal")
    journal.write(WarehouseSettings("WH", "XSMALL", "STANDARD", "STARTED", "STANDARD_GEN_1"), "resize")
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        entry_path = next((tmp_path / "journal").glob("*.json"))
        entry = json.loads(entry_path.read_text())
        entry.update(pid=other.pid, host=socket.gethostname())
        entry_path.write_text(json.dumps(entry))
        result = doctor_engine(fake_account(DoctorAccount()), journal).check_account()
    finally:
        other.kill()
        other.wait()
    busy = line(result, "restore WH")
    assert busy.status == CHECK_UNKNOWN and str(other.pid) in busy.detail

"""What an account answers to the account check's read-only statements, standing in for the network.

``DoctorAccount`` describes an account (grants, schemas, packages, setup state, the warehouse, region and
roles); :func:`fake_account` turns it into a ``FakeAccount`` through its public ``answer`` API. Every
answer's shape follows Snowflake's documentation, never the engine's code:

- SHOW WAREHOUSES columns (name, state, type, size, auto_suspend, auto_resume, resource_constraint, ...):
  https://docs.snowflake.com/en/sql-reference/sql/show-warehouses; resource_constraint added by
  https://docs.snowflake.com/en/release-notes/bcr-bundles/2024_07/bcr-1725 (STANDARD_GEN_1/2 for standard
  warehouses, https://docs.snowflake.com/en/user-guide/warehouses-gen2); the generation column by bundle
  2026_02 (bcr-2225, as issue 9 cites it).
- SHOW GRANTS ON <object> / ON ACCOUNT columns (created_on, privilege, granted_on, name, granted_to,
  grantee_name, grant_option, granted_by) and SHOW FUTURE GRANTS IN SCHEMA (grant_on, grant_to instead of
  granted_on, granted_to): https://docs.snowflake.com/en/sql-reference/sql/show-grants and
  https://docs.snowflake.com/en/release-notes/bcr-bundles/2025_01/bcr-1803. A role that may not list grants
  gets "Insufficient privileges" (errno 3001), as any refused statement.
- CURRENT_SECONDARY_ROLES() is a JSON text {"roles":"ROLE1,ROLE2","value":"ALL"}:
  https://docs.snowflake.com/en/sql-reference/functions/current_secondary_roles
- CURRENT_REGION() is e.g. AWS_US_WEST_2, or PUBLIC.AWS_US_WEST_2 in organizations spanning region groups:
  https://docs.snowflake.com/en/sql-reference/functions/current_region
- INFORMATION_SCHEMA.PACKAGES has a row per package, version and RUNTIME_VERSION ("3.11"):
  https://docs.snowflake.com/en/release-notes/bcr-bundles/2023_04/bcr-1094
- MANAGE WAREHOUSES, granted ON ACCOUNT, gives MODIFY, MONITOR and OPERATE on every warehouse (not USAGE):
  https://docs.snowflake.com/en/user-guide/security-access-control-privileges
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from typing import Any

from tests.snowflake.sf_fake_account import FakeAccount

from snowml_desktop import __version__
from snowml_desktop.core.connections import ConnectionProfile
from snowml_desktop.engines.snowflake import packages, setup, sql
from snowml_desktop.engines.snowflake.engine import SnowflakeEngine
from snowml_desktop.engines.snowflake.session import translate_error
from snowml_desktop.engines.snowflake.warehouse import Journal

RUNTIME = f"{sys.version_info.major}.{sys.version_info.minor}"
CONTEXT = {
    "ACCOUNT": "ACCT",
    "USER_NAME": "ANA",
    "ROLE_NAME": "ANALYST",
    "DATABASE_NAME": "DB",
    "SCHEMA_NAME": "PUBLIC",
    "WAREHOUSE": "WH",
}
#: (privilege, grantee role) per object kind; a role name starting "DB_ROLE:" is a database role.
Grants = list[tuple[str, str]]


def _cloudpickle_version() -> str:
    import cloudpickle

    return cloudpickle.__version__


@dataclass
class DoctorAccount:
    """An account as the check sees it. Defaults: everything the app needs is there."""

    role: str | None = "ANALYST"
    session_roles: set[str] = field(default_factory=lambda: {"ANALYST", "PUBLIC"})
    secondary_roles: str = '{"roles":"","value":""}'
    region: str = "AWS_US_WEST_2"
    database_grants: Grants = field(default_factory=lambda: [("OWNERSHIP", "ANALYST")])
    schema_grants: dict[str, Grants] = field(
        default_factory=lambda: {
            "SNOWML": [("OWNERSHIP", "ANALYST"), ("USAGE", "SCORER")],
            "DATA": [("OWNERSHIP", "ANALYST")],
        }
    )
    schemas: tuple[str, ...] = ("SNOWML", "DATA")
    account_grants: Grants | None = field(default_factory=list)  # None: the role may not list them
    warehouse_grants: Grants = field(default_factory=lambda: [("OWNERSHIP", "ANALYST")])
    procedure_grants: Grants | None = field(
        default_factory=lambda: [("OWNERSHIP", "ANALYST"), ("USAGE", "SCORER")]
    )
    future_grants: Grants | None = field(default_factory=lambda: [("USAGE", "SCORER")])
    warehouse: dict[str, Any] | None = field(
        default_factory=lambda: {
            "name": "WH",
            "state": "STARTED",
            "type": "STANDARD",
            "size": "X-Small",
            "auto_suspend": 600,
            "auto_resume": "true",
            "resource_constraint": "STANDARD_GEN_1",
        }
    )
    packages: list[dict[str, str]] = field(default_factory=lambda: package_rows())
    setup_version: str | None = __version__
    refused: set[str] = field(default_factory=set)  # object kinds whose grants the role may not list


#: A channel in which a consistent pin set exists (newest Snowpark allows this computer's cloudpickle).
CHANNEL = {
    "snowflake-snowpark-python": ["1.20.0", "1.54.0", "1.56.0"],
    "scikit-learn": ["1.3.0", "1.5.2"],
    "pandas": ["2.0.3", "2.2.3"],
    "numpy": ["1.24.3", "1.26.4"],
    "joblib": ["1.3.2", "1.4.2"],
    "optuna": ["3.5.0", "4.1.0"],
}


def package_rows(
    *, runtimes: tuple[str, ...] = (RUNTIME,), cloudpickle: str | None = None
) -> list[dict[str, str]]:
    """A few versions of each required package, and cloudpickle at this computer's version, per runtime."""
    rows = [
        {"PACKAGE_NAME": name, "VERSION": version, "RUNTIME_VERSION": runtime}
        for runtime in runtimes
        for name, versions in CHANNEL.items()
        for version in versions
    ]
    rows += [
        {
            "PACKAGE_NAME": "cloudpickle",
            "VERSION": cloudpickle or _cloudpickle_version(),
            "RUNTIME_VERSION": r,
        }
        for r in runtimes
    ]
    return rows


def _grant_rows(grants: Grants, kind: str, name: str, *, future: bool = False) -> list[dict[str, Any]]:
    on, to = ("grant_on", "grant_to") if future else ("granted_on", "granted_to")
    rows = []
    for privilege, grantee in grants:
        database_role = grantee.startswith("DB_ROLE:")
        rows.append(
            {
                "created_on": "2026-01-01 00:00:00.000 -0800",
                "privilege": privilege,
                on: kind,
                "name": name,
                to: "DATABASE_ROLE" if database_role else "ROLE",
                "grantee_name": grantee.removeprefix("DB_ROLE:"),
                "grant_option": "false",
                "granted_by": "SYSADMIN",
            }
        )
    return rows


def _refuse(what: str) -> Any:
    from snowflake.connector.errors import ProgrammingError

    raise translate_error(
        ProgrammingError(
            msg=f"SQL access control error:\nInsufficient privileges to operate on {what}", errno=3001
        ),
        where="Check account",
    )


def fake_account(state: DoctorAccount) -> FakeAccount:
    account = FakeAccount(session_roles=set(state.session_roles))
    account.grants["WH"] = list(state.warehouse_grants)
    account.answer(r"^SELECT CURRENT_ACCOUNT", [CONTEXT])
    account.answer(
        r"^SELECT CURRENT_ROLE\(\) AS ROLE_NAME",
        [{"ROLE_NAME": state.role, "SECONDARY_ROLES": state.secondary_roles, "REGION": state.region}],
    )
    account.answer(r"^SHOW WAREHOUSES LIKE", lambda _s: [dict(state.warehouse)] if state.warehouse else [])

    def grants_on(statement: sql.Statement) -> list[dict[str, Any]]:
        kind, name = re.match(r"SHOW GRANTS ON (\w+) (.*)$", statement.text).groups()
        if kind in state.refused:
            _refuse(f"{kind.lower()} {name}")
        if kind == "DATABASE":
            return _grant_rows(state.database_grants, kind, name)
        if kind == "SCHEMA":
            schema = name.rsplit(".", 1)[-1].strip('"')
            return _grant_rows(state.schema_grants.get(schema, []), kind, name)
        if kind == "PROCEDURE":
            if state.procedure_grants is None:
                _refuse(f"procedure {name}")
            return _grant_rows(state.procedure_grants, kind, name)
        if kind == "WAREHOUSE":
            return _grant_rows(state.warehouse_grants, kind, name)
        raise AssertionError(statement.text)

    account.answer(r"^SHOW GRANTS ON (DATABASE|SCHEMA|PROCEDURE|WAREHOUSE) ", grants_on)

    def on_account(_statement: sql.Statement) -> list[dict[str, Any]]:
        if state.account_grants is None:
            _refuse("account")
        return _grant_rows(state.account_grants, "ACCOUNT", "ACCT")

    account.answer(r"^SHOW GRANTS ON ACCOUNT$", on_account)

    def future(statement: sql.Statement) -> list[dict[str, Any]]:
        if state.future_grants is None:
            _refuse("schema")
        return _grant_rows(state.future_grants, "FUNCTION", "SNOWML.<FUNCTION>", future=True)

    account.answer(r"^SHOW FUTURE GRANTS IN SCHEMA ", future)
    account.answer(
        r'"INFORMATION_SCHEMA"\."SCHEMATA"',
        lambda s: [{"SCHEMA_NAME": n} for n in state.schemas if n in s.params],
    )
    account.answer(
        r"INFORMATION_SCHEMA.*PACKAGES",
        lambda s: [r for r in state.packages if r["PACKAGE_NAME"] in s.params],
    )

    def setup_state(_statement: sql.Statement) -> list[dict[str, Any]]:
        if state.setup_version is None:
            return []
        value = {
            "app_version": state.setup_version,
            "setup_format": setup.SETUP_FORMAT,
            "packages": {
                "runtime": RUNTIME,
                "versions": dict(packages.MIN_VERSIONS),
            },
            "code_import": "@DB.SNOWML.PROCEDURES/code.zip",
        }
        return [{"KEY": setup.STATE_KEY, "VALUE": json.dumps(value)}]

    account.answer(r'^SELECT .* FROM .*"SETUP_STATE"', setup_state)
    return account


def doctor_engine(
    account: FakeAccount, journal: Journal, authenticator: str = "snowflake_jwt", warehouse: str = "WH"
) -> SnowflakeEngine:
    """A SnowflakeEngine connected to ``account`` as the account check connects: without replaying."""
    from tests.snowflake.sf_setup_account import RecordingSprocs

    profile = ConnectionProfile(
        "work",
        "snowflake",
        "app",
        account="org-acct",
        user="ANA",
        warehouse=warehouse,
        database="DB",
        authenticator=authenticator,
        private_key_file="/keys/rsa_key.p8",
    )
    return SnowflakeEngine(account, profile, session=RecordingSprocs(), journal=journal, replay_journal=False)

"""A test double of an account that has never been set up, for the setup paths of engine, CLI and GUI.

It is ``FakeAccount`` (standing in for the network) answering what setup reads: the session context, the
account's Anaconda packages, and SETUP_STATE, which exists only once setup's CREATE TABLE ran and holds
what setup's MERGE wrote. ``RecordingSprocs`` stands in for Snowpark's permanent procedure registration,
which needs an account.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from tests.snowflake.sf_fake_account import FakeAccount

from snowml_desktop.core.connections import ConnectionProfile
from snowml_desktop.core.errors import NotFound
from snowml_desktop.engines.snowflake import packages, sql
from snowml_desktop.engines.snowflake.engine import SnowflakeEngine
from snowml_desktop.engines.snowflake.session import translate_error

PROFILE = ConnectionProfile(
    "work", "snowflake", "app", account="org-acct", user="ANA", warehouse="WH", database="DB"
)
RUNTIME = f"{sys.version_info.major}.{sys.version_info.minor}"
CONTEXT = {
    "ACCOUNT": "ACCT",
    "USER_NAME": "ANA",
    "ROLE_NAME": "ANALYST",
    "DATABASE_NAME": "DB",
    "SCHEMA_NAME": "PUBLIC",
    "WAREHOUSE": "WH",
}


class RecordingSprocs:
    """Stands in for the network behind ``session.sproc.register``; ``fail`` makes every call raise it."""

    def __init__(self, fail: BaseException | None = None) -> None:
        self.calls: list[dict] = []
        self.sproc = self
        self.fail = fail

    def register(self, handler: Callable, **kwargs: Any) -> None:
        if self.fail is not None:
            raise self.fail
        self.calls.append({"handler": handler, **kwargs})


def package_rows(missing: str | None = None) -> list[dict[str, str]]:
    """INFORMATION_SCHEMA.PACKAGES rows for this Python: each required package at its supported floor, but
    cloudpickle at the desktop's version and a Snowpark that allows it (packages.CONSTRAINTS)."""
    versions = {
        **packages.MIN_VERSIONS,
        "cloudpickle": packages.desktop_cloudpickle(),
        "snowflake-snowpark-python": "1.56.0",
    }
    return [
        {"PACKAGE_NAME": name, "VERSION": versions[name], "RUNTIME_VERSION": RUNTIME}
        for name in packages.REQUIRED_PACKAGES
        if name != missing
    ]


def setup_account(*, missing_package: str | None = None) -> FakeAccount:
    """An account whose database DB has no app schema yet."""
    account = FakeAccount()
    account.answer(r"^SELECT CURRENT_ACCOUNT", [CONTEXT])
    account.answer(r"INFORMATION_SCHEMA.*PACKAGES", package_rows(missing_package))
    stored: dict[str, str] = {}
    created: list[bool] = []

    def create_state_table(_statement: sql.Statement) -> list[dict]:
        created.append(True)
        return []

    def read_state(_statement: sql.Statement) -> list[dict]:
        if not created:
            raise NotFound("Setup state: an object does not exist or is not visible to the role.")
        return [{"KEY": key, "VALUE": value} for key, value in stored.items()]

    def merge_state(statement: sql.Statement) -> list[dict]:
        key, value = statement.params
        stored[key] = value
        return [{"number of rows inserted": 1}]

    account.answer(r'^CREATE TABLE IF NOT EXISTS .*"SETUP_STATE"', create_state_table)
    account.answer(r'^SELECT .* FROM .*"SETUP_STATE"', read_state)
    account.answer(r'^MERGE INTO .*"SETUP_STATE"', merge_state)
    return account


def refuse(account: FakeAccount, pattern: str, on: str) -> None:
    """Make statements matching ``pattern`` fail as Snowflake does for a missing privilege on ``on``,
    translated as the real runner translates it."""
    from snowflake.connector.errors import ProgrammingError

    def denied(_statement: sql.Statement) -> list[dict]:
        error = ProgrammingError(
            msg=f"SQL access control error:\nInsufficient privileges to operate on {on}", errno=3001
        )
        raise translate_error(error, where="Setup")

    account.answer(pattern, denied)


def setup_engine(account: FakeAccount, sprocs: RecordingSprocs | None = None) -> SnowflakeEngine:
    """A SnowflakeEngine connected to ``account``."""
    return SnowflakeEngine(account, PROFILE, session=sprocs if sprocs is not None else RecordingSprocs())

"""The first live run's plan, offline: the dry run lists every statement, everything created is dropped at
the end even when a step fails, an optional step (the resource monitor) may fail, and the report file says
what happened. The statements go to the account test double, which stands in for the network."""

from __future__ import annotations

import json
import re
from pathlib import Path

import sqlglot
from sqlglot import exp
from tests.snowflake.first_live_run import (
    STATEMENT_TIMEOUT_SECONDS,
    LivePlan,
    LiveRun,
    Report,
    main,
    run_plan,
)
from tests.snowflake.sf_fake_account import FakeAccount

from snowml_desktop.core.connections import ConnectionProfile
from snowml_desktop.core.errors import PermissionDenied
from snowml_desktop.engines.snowflake import sql


def created(text: str) -> list[tuple[str, str]]:
    return re.findall(r"^CREATE (DATABASE|WAREHOUSE|RESOURCE MONITOR) (\"[^\"]+\")", text, flags=re.M)


def test_dry_run_prints_every_statement_and_drops_everything_it_creates(capsys):
    assert main(["--dry-run", "--role2", "scorer"]) == 0
    out = capsys.readouterr().out
    suffix = re.search(r"suffix ([0-9A-F]{8})\b", out).group(1)
    made = created(out)
    assert {kind for kind, _ in made} == {"DATABASE", "WAREHOUSE", "RESOURCE MONITOR"}
    assert all(suffix in name for _, name in made)
    drops = re.findall(
        r"^DROP (DATABASE|WAREHOUSE|RESOURCE MONITOR) IF EXISTS (\"[^\"]+\");$", out, flags=re.M
    )
    assert sorted(drops) == sorted(made)
    last = out.rstrip().splitlines()[-len(drops) :]
    assert all(line.startswith("DROP ") for line in last)  # the cleanup is the end of the plan
    warehouses = [line for line in out.splitlines() if line.startswith("CREATE WAREHOUSE")]
    assert len(warehouses) == 2 and "WAREHOUSE_SIZE = XSMALL" in warehouses[0]
    assert all(f"STATEMENT_TIMEOUT_IN_SECONDS = {STATEMENT_TIMEOUT_SECONDS}" in w for w in warehouses)
    assert 'GRANT USAGE ON WAREHOUSE "SNOWML_LIVE_WH_' in out and 'TO ROLE "SCORER";' in out
    assert "--   engine: connect as SCORER and score NEW_PATIENTS" in out


def test_a_plan_without_a_second_role_grants_nothing_and_each_run_has_its_own_suffix(capsys):
    main(["--dry-run"])
    first = capsys.readouterr().out
    main(["--dry-run"])
    assert "GRANT" not in first and "score as" not in first
    assert created(first) != created(capsys.readouterr().out)


def test_statements_are_real_sql(tmp_path):
    plan = LivePlan("ABCD1234", "SCORER")
    for step in [*plan.steps(), *plan.cleanup()]:
        for statement in step.statements:
            if statement.verify == sql.PARSED:
                assert not isinstance(sqlglot.parse_one(statement.text, read="snowflake"), exp.Command)
            assert "ABCD1234" in statement.text and statement.text.count('"') % 2 == 0


def test_a_failing_step_stops_the_workflow_but_the_cleanup_still_drops_everything(tmp_path):
    plan = LivePlan("ABCD1234")
    account = FakeAccount()

    def refuse(_statement):
        raise PermissionDenied("Only ACCOUNTADMIN can create resource monitors.")

    account.answer(r"^CREATE RESOURCE MONITOR", refuse)
    ran: list[str] = []

    def action(name):
        def run():
            ran.append(name)
            if name == "train, convert mode":
                raise AssertionError("warehouse ('WH', 'Medium', 'SNOWPARK-OPTIMIZED') after training")
            return {"step": name}

        return run

    names = [step.name for step in plan.steps() if step.action]
    closed_at: list[int] = []
    report = run_plan(
        plan,
        account,
        {name: action(name) for name in names},
        Report(plan, account="ACCT"),
        before_cleanup=lambda: closed_at.append(len(account.log)),
    )
    assert closed_at == [len(account.log) - 4]  # the engines closed before the first drop
    assert ran == [
        "account check",
        "setup",
        "load with a header",
        "load without a header",
        "train, convert mode",
    ]
    texts = [s.text for s in account.log]
    assert texts[-4:] == [s.text for s in plan.cleanup()[0].statements]
    assert not report.ok
    by_name = {s.name: s for s in report.steps}
    assert by_name["cap credits with a resource monitor"].ok is False  # optional: the run went on
    assert "PermissionDenied" in by_name["cap credits with a resource monitor"].error
    assert "after training" in by_name["train, convert mode"].error

    path = report.write(tmp_path / "reports")
    document = json.loads(path.read_text())
    assert path.name == "snowml-first-live-run-ABCD1234.json"
    assert document["ok"] is False and document["account"] == "ACCT" and document["app_version"]
    assert [s["name"] for s in document["steps"]][-1] == "drop what the run made"


def test_a_failed_create_and_a_failed_drop_do_not_keep_the_other_drops_from_running():
    plan = LivePlan("ABCD1234")
    account = FakeAccount()

    def refuse(statement):
        raise PermissionDenied(f"Insufficient privileges: {statement.text[:30]}")

    account.answer(r'^CREATE WAREHOUSE "SNOWML_LIVE_TRAIN', refuse)  # made the database and one warehouse
    account.answer(r'^DROP WAREHOUSE IF EXISTS "SNOWML_LIVE_TRAIN', refuse)
    report = run_plan(plan, account, {}, Report(plan))
    assert [s.name for s in report.steps][0] == "create database and warehouse" and not report.steps[0].ok
    drops = [s.text for s in account.log if s.text.startswith("DROP")]
    assert drops == [s.text for s in plan.cleanup()[0].statements]
    assert [s.ok for s in report.steps if s.name == "drop what the run made"] == [False, True, True, True]


def test_every_engine_step_has_its_live_action(tmp_path):
    profile = ConnectionProfile("work", "snowflake", "app", account="org-acct", user="ANA")
    for role2 in (None, "SCORER"):
        plan = LivePlan("ABCD1234", role2)
        assert set(LiveRun(plan, profile, Path(tmp_path)).actions()) == {
            s.name for s in plan.steps() if s.action
        }

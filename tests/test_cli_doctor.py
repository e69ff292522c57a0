"""`snowml doctor`: the account check in the CLI, as text and as JSON, on the local engine and on Snowflake
accounts whose answers follow Snowflake's documentation (``tests/snowflake/sf_fake_doctor.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from snowml_desktop.cli import main
from snowml_desktop.core.errors import ConnectionFailed
from snowml_desktop.engines.snowflake.warehouse import Journal
from tests.snowflake.sf_fake_doctor import DoctorAccount, doctor_engine, fake_account


def opener(state: DoctorAccount, tmp_path: Path, calls: list[dict]):
    """``open_engine`` for the CLI: connects to the account test double, recording how it was asked."""
    account = fake_account(state)

    def open_engine(name, *, workspace=None, memory_limit=None, replay_journal=True):
        calls.append({"name": name, "replay_journal": replay_journal})
        return doctor_engine(account, Journal("ACCT", tmp_path / "journal"))

    return open_engine, account


def test_doctor_prints_each_line_with_its_fix_and_fails_when_something_is_missing(capsys, tmp_path):
    calls: list[dict] = []
    state = DoctorAccount(warehouse_grants=[("USAGE", "ANALYST")], account_grants=[])
    open_engine, account = opener(state, tmp_path, calls)
    assert main(["--connection", "work", "doctor"], open_engine=open_engine) == 1
    out = capsys.readouterr().out
    assert calls == [{"name": "work", "replay_journal": False}]
    assert out.startswith("Account check of ACCT as role ANALYST (snowflake):")
    lines = out.splitlines()
    modify = next(i for i, text in enumerate(lines) if "warehouse MODIFY" in text)
    assert lines[modify].split()[0] == "MISSING"
    assert lines[modify + 1].strip() == 'fix: GRANT MODIFY ON WAREHOUSE "WH" TO ROLE "ANALYST";'
    assert lines[-1].startswith("2 missing, 0 unknown")  # OPERATE and MODIFY
    assert all(s.text.startswith(("SELECT", "SHOW")) for s in account.log)


@pytest.mark.parametrize("args", [["doctor", "--json"], ["--json", "doctor"]])
def test_doctor_json_for_scripts(capsys, tmp_path, args):
    open_engine, _ = opener(DoctorAccount(), tmp_path, [])
    assert main(["--connection", "work", *args], open_engine=open_engine) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["engine"] == "snowflake" and document["role"] == "ANALYST"
    assert {line["status"] for line in document["lines"]} == {"OK"}
    assert set(document["lines"][0]) == {"name", "status", "detail", "fix"}


def test_a_failed_login_is_the_checks_answer(capsys, tmp_path):
    def open_engine(name, *, workspace=None, memory_limit=None, replay_journal=True):
        raise ConnectionFailed(
            "Connection 'work': the user name or password was not accepted.", hint="Check both."
        )

    assert main(["--connection", "work", "doctor", "--json"], open_engine=open_engine) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["lines"] == [
        {
            "name": "login",
            "status": "missing",
            "detail": "Connection 'work': the user name or password was not accepted. Check both.",
            "fix": "Correct the connection (account, user, login method, secret) in the connection manager.",
        }
    ]


def test_doctor_on_the_local_engine(capsys, workspace):
    assert main(["--workspace", str(workspace), "doctor"], open_engine=None) == 0
    out = capsys.readouterr().out
    assert out.startswith("Account check of Local (local):")
    assert "OK       workspace" in out and out.rstrip().endswith("Nothing is missing.")


def test_the_memory_limit_option_reaches_the_local_warehouse(capsys, workspace):
    assert main(["--workspace", str(workspace), "--memory-limit", "1.5GiB", "doctor", "--json"]) == 0
    lines = {line["name"]: line for line in json.loads(capsys.readouterr().out)["lines"]}
    assert lines["memory limit"]["status"] == "OK"
    assert lines["memory limit"]["detail"] == (
        f"The embedded warehouse uses up to 1.5 GiB of memory; a query that needs more spills to "
        f"{workspace.resolve() / '.spill'}."
    )


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("lots", "The memory limit 'lots' is not a memory size. Give a number and a unit"),
        ("100MiB", "The memory limit of 100 MiB is too little for the local warehouse. Give at least 256 MiB"),
    ],
)
def test_a_bad_memory_limit_is_a_usage_error_that_opens_nothing(capsys, workspace, value, says):
    with pytest.raises(SystemExit) as stopped:
        main(["--workspace", str(workspace), "--memory-limit", value, "tables"])
    assert stopped.value.code == 2
    assert f"argument --memory-limit: {says}" in capsys.readouterr().err
    assert not workspace.exists()

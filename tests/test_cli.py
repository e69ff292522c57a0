"""The `snowml` CLI end to end on a fresh local workspace: the whole workflow, JSON output and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from snowml_desktop.cli import main
from snowml_desktop.core.methods import METHODS


def run_json(capsys: pytest.CaptureFixture[str], workspace: Path, *args: str) -> object:
    code = main(["--workspace", str(workspace), "--json", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


@pytest.mark.slow
def test_whole_workflow_through_the_cli(
    capsys: pytest.CaptureFixture[str], workspace: Path, tmp_path: Path
) -> None:
    stages = run_json(capsys, workspace, "stages")
    assert {"LOAD_DATA", "MODELS"} <= set(stages)
    seeded = {f["name"] for f in run_json(capsys, workspace, "files", "LOAD_DATA")}
    assert {"BREAST_CANCER.csv", "CHURN.csv"} <= seeded

    mine = tmp_path / "patients.csv"
    source = workspace / "stages" / "LOAD_DATA" / "BREAST_CANCER_NEW_PATIENTS.csv"
    mine.write_bytes(source.read_bytes())
    uploaded = run_json(capsys, workspace, "put", str(mine))
    assert uploaded[0]["name"] == "patients.csv"

    loaded = run_json(capsys, workspace, "load", "LOAD_DATA/BREAST_CANCER.csv", "--table", "cancer")
    assert loaded["table"] == "CANCER" and loaded["rows_loaded"] > 400 and loaded["rows_rejected"] == 0
    new = run_json(capsys, workspace, "load", "LOAD_DATA/patients.csv", "--table", "new_patients")
    tables = {t["name"]: t["rows"] for t in run_json(capsys, workspace, "tables")}
    assert tables == {"CANCER": loaded["rows_loaded"], "NEW_PATIENTS": new["rows_loaded"]}

    profile = run_json(capsys, workspace, "profile", "cancer")
    diagnosis = next(c for c in profile["columns"] if c["name"] == "DIAGNOSIS")
    assert diagnosis["distinct"] == 2 and diagnosis["nulls"] == 0

    trained = []
    for key in METHODS:
        params = ["--param", "trials=3", "--param", "timeout_seconds=30"] if key == "auto" else []
        model = run_json(
            capsys, workspace, "train", "CANCER", "--target", "diagnosis", "--method", key, *params
        )
        assert sum(map(sum, model["confusion_matrix"])) == model["rows_test"]
        assert model["metrics"]["accuracy"] > 0.8, key
        trained.append(model["name"])
    catalog = run_json(capsys, workspace, "models")
    assert {m["name"] for m in catalog} == set(trained)

    best = trained[2]
    small = run_json(capsys, workspace, "score", "--model", best, "--table", "new_patients", "--size", "xs")
    again = run_json(
        capsys,
        workspace,
        "score",
        "--model",
        best,
        "--table",
        "new_patients",
        "--size",
        "Small",
        "--overwrite",
    )
    assert small["rows"] == again["rows"] == new["rows_loaded"]
    assert (small["workers"], again["warehouse_size"]) == (1, "Small")
    assert small["metrics"]["accuracy"] > 0.8
    assert small["output_table"] == f"NEW_PATIENTS_{best}_INF"
    runs = run_json(capsys, workspace, "runs", "--model", best)
    assert [r["run_id"] for r in runs] == [again["run_id"], small["run_id"]]
    preview = run_json(capsys, workspace, "preview", small["output_table"], "--limit", "5")
    assert len(preview) == 5 and {"PREDICTION", "PREDICTION_PROBABILITY"} <= set(preview[0])


@pytest.mark.slow
def test_text_output_is_for_people(capsys: pytest.CaptureFixture[str], workspace: Path) -> None:
    assert main(["--workspace", str(workspace), "load", "LOAD_DATA/CHURN.csv", "--table", "churn"]) == 0
    assert main(["--workspace", str(workspace), "warehouse", "--size", "small"]) == 0
    out = capsys.readouterr().out
    assert "loaded" in out and "CHURN" in out
    assert "Small" in out and "2 workers" in out

    assert (
        main(
            [
                "--workspace",
                str(workspace),
                "train",
                "churn",
                "--target",
                "churned",
                "--method",
                "gaussian_nb",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "--workspace",
                str(workspace),
                "score",
                "--model",
                "GAUSSIAN_NB_1",
                "--table",
                "churn",
                "--size",
                "xsmall",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    # Model and run both show the confusion matrix with each row named by its true class.
    assert out.count("true \\ predicted  No") == 2
    assert [
        line.split()[0]
        for line in out.splitlines()
        if line.startswith("    No ") or line.startswith("    Yes ")
    ] == ["No", "Yes", "No", "Yes"]
    assert "1 worker," in out


def test_operation_errors_exit_1_with_one_clear_line(
    capsys: pytest.CaptureFixture[str], workspace: Path
) -> None:
    code = main(["--workspace", str(workspace), "train", "NO_SUCH_TABLE", "--target", "x"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(err) == 1 and "NO_SUCH_TABLE" in err[0] and "Traceback" not in err[0]


def test_json_errors_carry_a_code(capsys: pytest.CaptureFixture[str], workspace: Path) -> None:
    assert main(["--workspace", str(workspace), "--json", "warehouse", "--size", "huge"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["code"] == "invalid_input" and "huge" in document["error"]


def test_usage_errors_exit_2_in_a_real_process(workspace: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "snowml_desktop.cli", "--workspace", str(workspace), "score", "--table", "T"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "--model" in done.stderr
    version = subprocess.run(
        [sys.executable, "-m", "snowml_desktop.cli", "--version"], capture_output=True, text=True
    )
    assert version.returncode == 0 and version.stdout.startswith("snowml ")


def test_bad_param_syntax_is_explained(capsys: pytest.CaptureFixture[str], workspace: Path) -> None:
    assert main(["--workspace", str(workspace), "load", "LOAD_DATA/CHURN.csv", "--table", "churn"]) == 0
    assert (
        main(["--workspace", str(workspace), "train", "churn", "--target", "churned", "--param", "oops"]) == 1
    )
    assert "NAME=VALUE" in capsys.readouterr().err


def test_setup_on_the_local_engine_has_nothing_to_do(
    capsys: pytest.CaptureFixture[str], workspace: Path
) -> None:
    assert main(["--workspace", str(workspace), "setup"]) == 0
    assert capsys.readouterr().out.strip() == "Setup needed: no. The embedded warehouse needs no setup."
    plan = run_json(capsys, workspace, "setup", "--yes")
    assert plan == {
        "needed": False,
        "reason": "The embedded warehouse needs no setup.",
        "objects": [],
        "privileges": [],
        "statements": [],
    }


def _snowflake_cli(account, sprocs=None):
    """``open_engine`` for the CLI: each run connects anew to the same account test double."""
    from tests.snowflake.sf_setup_account import setup_engine

    opened = []

    def open_engine(name, *, workspace=None):
        assert name == "work"
        opened.append(setup_engine(account, sprocs))
        return opened[-1]

    return open_engine


def test_setup_on_snowflake_shows_the_plan_then_runs_with_yes(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.snowflake.sf_setup_account import RecordingSprocs, setup_account

    account, sprocs = setup_account(), RecordingSprocs()
    open_engine = _snowflake_cli(account, sprocs)
    assert main(["--connection", "work", "setup", "--sql"], open_engine=open_engine) == 0
    out = capsys.readouterr().out
    assert out.startswith("Setup needed: yes. The app schema has not been set up in this database yet.")
    assert "Creates (or updates):\n  - schemas SNOWML and DATA in database DB" in out
    assert "Privileges it needs:\n  - USAGE on database DB" in out
    assert 'CREATE SCHEMA IF NOT EXISTS "DB"."SNOWML"' in out and "-- CREATE OR REPLACE PROCEDURE" in out
    assert out.rstrip().endswith("Run `snowml setup --yes` to do it.")
    assert not [s.text for s in account.log if s.text.startswith(("CREATE", "PUT", "MERGE"))]

    assert main(["--connection", "work", "--json", "setup", "--yes"], open_engine=open_engine) == 0
    done = json.loads(capsys.readouterr().out)
    assert done["needed"] is False and "nothing to do" in done["reason"]
    assert len(sprocs.calls) == 3

    assert main(["--connection", "work", "setup"], open_engine=open_engine) == 0
    assert capsys.readouterr().out.startswith("Setup needed: no.")


def test_setup_without_a_privilege_exits_1_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.snowflake.sf_setup_account import refuse, setup_account

    account = setup_account()
    refuse(account, r"^CREATE SCHEMA", "database 'DB'")
    code = main(["--connection", "work", "setup", "--yes"], open_engine=_snowflake_cli(account))
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("snowml: error: Setup needs CREATE SCHEMA on database DB, which role ANALYST")
    assert "Insufficient privileges to operate on database 'DB'" in err
    code = main(["--connection", "work", "--json", "setup", "--yes"], open_engine=_snowflake_cli(account))
    assert code == 1 and json.loads(capsys.readouterr().out)["code"] == "permission_denied"

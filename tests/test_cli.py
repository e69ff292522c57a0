"""The `snowml` CLI end to end on a fresh local workspace: the whole workflow, JSON output and exit codes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from snowml_desktop.cli import main
from snowml_desktop.core.methods import METHODS
from snowml_desktop.engines.snowflake import sql as sf_sql


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

    def open_engine(name, *, workspace=None, memory_limit=None):
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
    assert len(sprocs.calls) == len(sf_sql.PROCEDURES)

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


def test_setup_grants_an_app_role_what_scoring_other_roles_models_needs(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.snowflake.sf_setup_account import setup_account

    account = setup_account()
    open_engine = _snowflake_cli(account)
    assert main(["--connection", "work", "setup", "--grant-role", "ml_users"], open_engine=open_engine) == 0
    assert capsys.readouterr().out.rstrip().endswith("Add --yes to grant role ml_users what the app needs.")
    assert not [s for s in account.log if s.text.startswith("GRANT")]

    assert main(["--connection", "work", "setup", "--yes", "--grant-role", "ml_users"], open_engine=open_engine) == 0
    granted = [s.text for s in account.log if s.text.startswith("GRANT")]
    assert capsys.readouterr().out.rstrip().endswith(f"Granted role ml_users what the app needs ({len(granted)} grants).")
    assert 'GRANT USAGE ON FUTURE FUNCTIONS IN SCHEMA "DB"."SNOWML" TO ROLE "ML_USERS"' in granted


def test_granting_a_role_on_the_local_engine_is_refused(capsys: pytest.CaptureFixture[str], workspace: Path) -> None:
    assert main(["--workspace", str(workspace), "setup", "--yes", "--grant-role", "x"]) == 1
    assert "This engine has no roles to grant." in capsys.readouterr().err


def test_load_force_reaches_the_engine(
    capsys: pytest.CaptureFixture[str], workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--force`` asks Snowflake to load a file its load metadata says was loaded before; the flag travels
    in the LoadRequest (the local engine keeps no load metadata and loads either way)."""
    from snowml_desktop.engines.local.engine import LocalEngine

    seen = []
    original = LocalEngine.load

    def load(self, request, **kwargs):  # noqa: ANN001, ANN202 - records the request, then loads
        seen.append(request.force)
        return original(self, request, **kwargs)

    monkeypatch.setattr(LocalEngine, "load", load)
    run_json(capsys, workspace, "load", "LOAD_DATA/CHURN.csv", "--table", "churn")
    again = run_json(capsys, workspace, "load", "LOAD_DATA/CHURN.csv", "--table", "churn", "--mode", "append", "--force")
    assert seen == [False, True] and again["rows_loaded"] > 0


def test_a_reader_that_stops_early_ends_the_output_quietly(workspace: Path) -> None:
    """`snowml --json preview T | head -1`: no BrokenPipeError traceback, the status of a SIGPIPE'd tool."""
    assert main(["--workspace", str(workspace), "load", "LOAD_DATA/CHURN.csv", "--table", "churn"]) == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "snowml_desktop.cli", "--workspace", str(workspace), "--json", "preview", "churn", "--limit", "2000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == b"["
    process.stdout.close()  # what `head -1` does once it has its line; the rows are far more than a pipe holds
    _, stderr = process.communicate(timeout=120)
    assert stderr.decode() == "" and process.returncode == 141


def test_recommend_forecasts_every_size_from_runs_at_two_sizes(
    capsys: pytest.CaptureFixture[str], workspace: Path, small_batches: int
) -> None:
    run_json(capsys, workspace, "load", "LOAD_DATA/BREAST_CANCER.csv", "--table", "cancer")
    model = run_json(
        capsys, workspace, "train", "cancer", "--target", "diagnosis", "--method", "logistic_regression"
    )
    code = main(["--workspace", str(workspace), "recommend", "--model", model["name"], "--table", "cancer"])
    assert code == 1 and "two or more warehouse sizes" in capsys.readouterr().err

    for size in ("xs", "small"):
        run_json(
            capsys,
            workspace,
            "score",
            "--model",
            model["name"],
            "--table",
            "cancer",
            "--size",
            size,
            "--output",
            f"scored_{size}",
        )
    advice = run_json(capsys, workspace, "recommend", "--model", model["name"], "--table", "cancer")
    forecasts = advice["forecasts"]
    assert [f["size"]["label"] for f in forecasts[:3]] == ["X-Small", "Small", "Medium"]
    assert forecasts[0]["measured"] and forecasts[1]["measured"]
    assert advice["recommended"]["size"]["label"] in {"X-Small", "Small"}
    # One credit formula: every figure bills at least the 60-second minimum.
    assert all(
        f["credits"]["running"] + f["credits"]["minimum"] >= 60 / 3600 * 2 ** f["size"]["index"] - 1e-12
        for f in forecasts
        if f["size"]["index"] < 3
    )
    runs = run_json(capsys, workspace, "runs", "--model", model["name"])
    assert all(r["credits"] >= 60 / 3600 for r in runs)

    assert (
        main(["--workspace", str(workspace), "recommend", "--model", model["name"], "--table", "cancer"]) == 0
    )
    text = capsys.readouterr().out
    assert text.splitlines()[0].startswith(advice["recommended"]["size"]["label"] + ": ~")
    assert "of which 60 s minimum" in text and "measured" in text and "predicted" in text


@pytest.mark.slow
def test_recommend_calibrate_times_the_model_on_samples_then_recommends(
    capsys: pytest.CaptureFixture[str], workspace: Path, monkeypatch: pytest.MonkeyPatch, small_batches: int
) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 4)  # X-Small one worker, Small two, on any machine
    run_json(capsys, workspace, "load", "LOAD_DATA/BREAST_CANCER.csv", "--table", "cancer")
    model = run_json(
        capsys, workspace, "train", "cancer", "--target", "diagnosis", "--method", "logistic_regression"
    )
    args = ["--workspace", str(workspace), "recommend", "--model", model["name"], "--table", "cancer"]
    assert main([*args, "--calibrate"]) == 0
    lines = capsys.readouterr().out.splitlines()
    planned = re.match(rf"Calibrate {model['name']} on samples of CANCER \((\d+) rows\): 5 scoring runs", lines[0])
    assert planned is not None
    assert "Nothing is billed on this computer." in lines[0]
    assert lines[1].startswith(("X-Small: ~", "Small: ~"))  # the recommendation, in words, then the table
    assert "of which 60 s minimum" in lines[2]
    runs = run_json(capsys, workspace, "runs", "--model", model["name"])
    assert sorted(r["kind"] for r in runs) == ["CALIBRATION"] * 3 + ["WARM-UP"] * 2
    assert {r["source_table"] for r in runs} == {"CANCER"} and {r["output_table"] for r in runs} == {None}
    tables = run_json(capsys, workspace, "tables")
    assert sorted(t["name"] for t in tables) == ["CANCER"]
    assert main(["--workspace", str(workspace), "runs", "--model", model["name"]]) == 0
    listed = capsys.readouterr().out
    assert listed.count("SUCCEEDED (CALIBRATION)") == 3 and listed.count("SUCCEEDED (WARM-UP)") == 2
    advice = run_json(capsys, workspace, "recommend", "--model", model["name"], "--table", "cancer")
    assert advice["rows"] == int(planned[1])


def test_recommend_calibrate_on_snowflake_states_the_cost_and_runs_only_with_yes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.snowflake.sf_fake_samples import FakeSamples, FakeTable
    from tests.snowflake.test_engine_offline import COLUMNS, _account, _engine

    account = _account()
    fake = FakeSamples(
        account,
        {"CHURN": FakeTable(1_000_000, list(COLUMNS["CHURN"]))},
        lambda request, size: (fake.tables[request["table"]].rows, 2.0 + fake.tables[request["table"]].rows / {"X-Small": 1e4, "Small": 2e4}[size]),
    ).install()
    args = ["--connection", "work", "recommend", "--model", "RANDOM_FOREST_7", "--table", "CHURN", "--calibrate"]
    assert main(args, open_engine=lambda name, workspace=None, **_: _engine(account)) == 0
    out = capsys.readouterr().out
    assert "3 scoring runs — 10,000 rows at X-Small; 50,000 rows at X-Small; 50,000 rows at Small" in out
    assert "Cost: at least ~0.067 credits" in out and out.rstrip().endswith("Add --yes to run it.")
    assert fake.statements == []  # nothing was sampled, scored or resized
    assert main([*args, "--yes"], open_engine=lambda name, workspace=None, **_: _engine(account)) == 0
    out = capsys.readouterr().out
    assert [s.rsplit(" at ", 1)[1] for s in fake.statements if s.startswith("CALL")] == ["X-Small", "X-Small", "Small"]
    assert "Small: ~" in out.splitlines()[1] or "X-Small: ~" in out.splitlines()[1]
    assert set(fake.tables) == {"CHURN"}


def test_compare_methods_on_one_split_and_keep_one(
    capsys: pytest.CaptureFixture[str], workspace: Path
) -> None:
    loaded = run_json(capsys, workspace, "load", "LOAD_DATA/BREAST_CANCER.csv", "--table", "cancer")
    out = run_json(
        capsys,
        workspace,
        "compare",
        "cancer",
        "--target",
        "diagnosis",
        "--methods",
        "lr,nb,dt",
        "--cv",
        "0",
        "--param",
        "dt.max_depth=3",
        "--keep",
        "dt",
    )
    comparison = out["comparison"]
    assert [r["method"] for r in comparison["results"]] == [
        "logistic_regression",
        "gaussian_nb",
        "decision_tree",
    ]
    assert comparison["results"][2]["params"]["max_depth"] == 3
    (kept,) = out["kept"]
    tree = comparison["results"][2]["metrics"]
    # The kept model is trained and tested on the very split it was compared on.
    assert kept["params"]["max_depth"] == 3
    assert tree["accuracy"]["folds"] == [pytest.approx(kept["metrics"]["accuracy"])]
    assert tree["roc_auc"]["mean"] == pytest.approx(kept["metrics"]["roc_auc"])
    assert [m["name"] for m in run_json(capsys, workspace, "models")] == [kept["name"]]

    assert (
        main(
            [
                "--workspace",
                str(workspace),
                "compare",
                "cancer",
                "--target",
                "diagnosis",
                "--methods",
                "lr,knn",
                "--cv",
                "3",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert text.startswith(f"2 methods on the same 3 folds of {loaded['rows_loaded']} rows (mean ± std)")
    assert "Logistic Regression" in text and " ± " in text

    code = main(
        ["--workspace", str(workspace), "compare", "cancer", "--target", "diagnosis", "--methods", "auto,lr"]
    )
    assert code == 1 and "Auto cannot be compared" in capsys.readouterr().err
    code = main(
        [
            "--workspace",
            str(workspace),
            "compare",
            "cancer",
            "--target",
            "diagnosis",
            "--methods",
            "lr",
            "--keep",
            "rf",
        ]
    )
    assert code == 1 and "not among the compared methods" in capsys.readouterr().err


def test_threshold_presets_set_and_clear(capsys: pytest.CaptureFixture[str], workspace: Path) -> None:
    from snowml_desktop.core import threshold as th

    run_json(capsys, workspace, "load", "LOAD_DATA/BREAST_CANCER.csv", "--table", "cancer")
    model = run_json(capsys, workspace, "train", "cancer", "--target", "diagnosis", "--method", "nb")
    name, scores = model["name"], model["curves"]["scores"]

    assert main(["--workspace", str(workspace), "threshold", "--model", name]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"{name}: threshold none (the most probable class); positive class")
    assert "max_f1" in text and "TN FP / FN TP" in text

    best = run_json(capsys, workspace, "threshold", "--model", name, "--max-f1")
    assert best["threshold"] == th.choose(scores, "max_f1").threshold
    recall = run_json(capsys, workspace, "threshold", "--model", name, "--recall", "0.99")
    assert recall["threshold"] == th.choose(scores, "target_recall", target_recall=0.99).threshold
    costs = run_json(capsys, workspace, "threshold", "--model", name, "--costs", "1,10")
    assert costs["threshold"] == th.choose(scores, "min_cost", costs=th.Costs(1, 10)).threshold
    assert run_json(capsys, workspace, "threshold", "--model", name, "--set", "0.37")["threshold"] == 0.37
    run = run_json(capsys, workspace, "score", "--model", name, "--table", "cancer", "--output", "cut")
    assert run["threshold"] == 0.37
    assert run_json(capsys, workspace, "threshold", "--model", name, "--clear")["threshold"] is None

    assert main(["--workspace", str(workspace), "threshold", "--model", name, "--costs", "cheap"]) == 1
    assert "is not FP,FN" in capsys.readouterr().err
    assert main(["--workspace", str(workspace), "threshold", "--model", name, "--set", "2"]) == 1
    assert "between 0 and 1" in capsys.readouterr().err


def test_incremental_scoring_and_the_os_schedule_text_through_the_cli(
    capsys: pytest.CaptureFixture[str], workspace: Path
) -> None:
    run_json(capsys, workspace, "load", "LOAD_DATA/BREAST_CANCER.csv", "--table", "cancer")
    run_json(capsys, workspace, "load", "LOAD_DATA/BREAST_CANCER_NEW_PATIENTS.csv", "--table", "new")
    model = run_json(
        capsys, workspace, "train", "cancer", "--target", "diagnosis", "--method", "logistic_regression"
    )
    args = ("score", "--incremental", "--model", model["name"], "--table", "new", "--output", "new_scored")
    first = run_json(capsys, workspace, *args)
    assert first["rows"] == 86 and first["output_table"] == "NEW_SCORED"
    assert run_json(capsys, workspace, *args)["rows"] == 0  # nothing new since

    text = run_json(
        capsys, workspace, "schedule", "text", "--model", model["name"], "--table", "new",
        "--output", "new_scored", "--cron", "0 2 * * 1-5", "--scheduler", "systemd", "--name", "bc",
    )  # fmt: skip
    service = text["files"]["bc.service"]
    assert f"--workspace {workspace} score --incremental --model {model['name']}" in service
    assert "--overwrite" not in service
    again = run_json(
        capsys, workspace, "schedule", "text", "--model", model["name"], "--table", "new",
        "--output", "new_scored", "--cron", "0 2 * * *", "--overwrite",
    )  # fmt: skip
    assert "--output new_scored --overwrite'" in again["install"][0]  # inside the quoted crontab line
    assert "OnCalendar=Mon,Tue,Wed,Thu,Fri *-*-* 02:00:00" in text["files"]["bc.timer"]


def test_schedule_errors_are_one_clear_line(capsys: pytest.CaptureFixture[str], workspace: Path) -> None:
    assert main(["--workspace", str(workspace), "schedule", "list"]) == 1
    assert "has no server-side schedules" in capsys.readouterr().err
    code = main(
        ["--workspace", str(workspace), "schedule", "text", "--model", "NOPE_1", "--table", "x",
         "--output", "y", "--cron", "0 2 * *"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "NOPE_1" in err
    with pytest.raises(SystemExit):  # --size and --serverless together is a usage error
        main(["schedule", "create", "--model", "m", "--table", "t", "--output", "o", "--cron", "0 2 * * *",
              "--size", "Small", "--serverless"])  # fmt: skip


def test_schedule_commands_on_snowflake(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.snowflake.sf_fake_tasks import FakeTasks
    from tests.snowflake.test_engine_offline import _account, _engine

    account = _account()
    tasks = FakeTasks(account).install()

    def open_engine(name, workspace=None, memory_limit=None):
        assert name == "work"
        return _engine(account)

    def cli(*args: str) -> int:
        return main(["--connection", "work", *args], open_engine=open_engine)

    create = ("schedule", "create", "--model", "random_forest_7", "--table", "churn", "--output", "scored")
    assert cli(*create, "--cron", "0 2 * * *", "--size", "Medium") == 0
    out = capsys.readouterr().out
    assert out.startswith("created SNOWML_TASK_RANDOM_FOREST_7_CHURN: started, cron 0 2 * * * UTC")
    assert "(serverless, Medium)" in out  # --size implies serverless
    assert "USER_TASK_MANAGED_INITIAL_WAREHOUSE_SIZE = 'MEDIUM'" in next(
        s.text for s in account.log if s.text.startswith("CREATE TASK")
    )
    assert cli("--json", "schedule", "list") == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert (listed["state"], listed["output"], listed["serverless"]) == ("started", "SCORED", True)
    task = listed["name"]
    assert cli("schedule", "suspend", task) == 0 and "suspended" in capsys.readouterr().out
    assert cli("schedule", "resume", task) == 0 and ": started," in capsys.readouterr().out
    assert cli("schedule", "run", task) == 0 and "started a run" in capsys.readouterr().out
    tasks.runs.append(tasks.history_row(task, "FAILED", "model gone"))
    assert cli("schedule", "history", task) == 0
    history = capsys.readouterr().out
    assert "EXECUTING" in history and "FAILED" in history and "model gone" in history
    assert cli("schedule", "drop", task) == 0 and not tasks.tasks
    capsys.readouterr()
    assert cli("schedule", "drop", task) == 1
    assert "No schedule" in capsys.readouterr().err
    tasks.account_grants = []
    assert cli(*create, "--cron", "0 2 * * *") == 1
    assert "lacks EXECUTE TASK on the account" in capsys.readouterr().err


def test_incremental_scoring_into_a_table_scored_before_needs_overwrite_once(
    capsys: pytest.CaptureFixture[str], workspace: Path
) -> None:
    run_json(capsys, workspace, "load", "LOAD_DATA/BREAST_CANCER.csv", "--table", "cancer")
    model = run_json(
        capsys, workspace, "train", "cancer", "--target", "diagnosis", "--method", "logistic_regression"
    )
    run_json(capsys, workspace, "score", "--model", model["name"], "--table", "cancer", "--output", "out")
    args = [
        "--workspace",
        str(workspace),
        "score",
        "--incremental",
        "--model",
        model["name"],
        "--table",
        "cancer",
    ]
    assert main([*args, "--output", "out"]) == 1
    assert "not written by incremental scoring" in capsys.readouterr().err
    assert main(["--json", *args, "--output", "out", "--overwrite"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] > 400  # the first run replaced it in full
    assert main(["--json", *args, "--output", "out", "--overwrite"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == 0  # later runs append only new rows

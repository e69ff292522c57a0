"""The first live run: the whole workflow on a real account, in objects made for it and dropped at the end.

A :class:`LivePlan` lists every step in order: the SQL it runs as the connection's role (create a throw-away
database and an X-Small warehouse with a random suffix, their statement timeout and, when the role may, a
resource monitor capping credits; the grants a second role needs), the engine steps (account check, setup,
loading the demo's patient data with and without a header, training in both Snowpark-optimized modes,
scoring at two sizes, restore checks against SHOW WAREHOUSES, credit attribution, scoring as a second role),
and the cleanup, which runs even when a step fails. ``--dry-run`` prints the plan without connecting; the
offline suite runs it (``tests/snowflake/test_first_live_run.py``), and ``pytest -m live
tests/snowflake/test_live.py`` runs it for real. Either way a report file is written that a user can send.

    python -m tests.snowflake.first_live_run --dry-run [--role2 ROLE]
    SNOWML_TEST_CONNECTION=my_conn python -m tests.snowflake.first_live_run [--report-dir DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from snowml_desktop import __version__
from snowml_desktop.core import sizes
from snowml_desktop.core.demo_data import BREAST_CANCER_FILE, BREAST_CANCER_TARGET, NEW_PATIENTS_FILE
from snowml_desktop.core.errors import EngineError
from snowml_desktop.core.identifiers import normalize, quote, string_literal
from snowml_desktop.core.records import RUN_SUCCEEDED
from snowml_desktop.engines.snowflake import sql
from snowml_desktop.engines.snowflake.doctor import scoring_grants

#: Cancel any statement on the throw-away warehouse after this long (CREATE WAREHOUSE's
#: STATEMENT_TIMEOUT_IN_SECONDS, https://docs.snowflake.com/en/sql-reference/sql/create-warehouse).
STATEMENT_TIMEOUT_SECONDS = 1800
#: Credits the resource monitor allows before it suspends the warehouses immediately; only account
#: administrators may create one (https://docs.snowflake.com/en/sql-reference/sql/create-resource-monitor),
#: so the step is optional and the statement timeout caps the run without it.
CREDIT_QUOTA = 2
COMMENT = "snowml-desktop first live run: safe to drop"
_COMMENT_SQL = string_literal(COMMENT, backslash_escapes=True)


@dataclass(frozen=True)
class Step:
    """One step: SQL run as the connection's role, or an engine action (``action`` names it)."""

    name: str
    statements: tuple[sql.Statement, ...] = ()
    action: str = ""
    optional: bool = False  # a failure is reported and the run goes on


@dataclass(frozen=True)
class LivePlan:
    suffix: str
    role2: str | None = None

    @property
    def database(self) -> str:
        return f"SNOWML_LIVE_{self.suffix}"

    @property
    def warehouse(self) -> str:
        return f"SNOWML_LIVE_WH_{self.suffix}"

    @property
    def training_warehouse(self) -> str:
        return f"SNOWML_LIVE_TRAIN_{self.suffix}"

    @property
    def monitor(self) -> str:
        return f"SNOWML_LIVE_RM_{self.suffix}"

    @property
    def location(self) -> sql.Location:
        return sql.Location(self.database)

    def steps(self) -> list[Step]:
        """Everything but the cleanup, in order."""
        db, wh, rm = quote(self.database), quote(self.warehouse), quote(self.monitor)
        train = quote(self.training_warehouse)
        # objectProperties (COMMENT) before objectParams (the timeout), as the documented grammar orders them.
        capped = f"COMMENT = {_COMMENT_SQL} STATEMENT_TIMEOUT_IN_SECONDS = {STATEMENT_TIMEOUT_SECONDS}"
        steps = [
            Step(
                "create database and warehouse",
                (
                    sql.Statement(f"CREATE DATABASE {db} COMMENT = {_COMMENT_SQL}"),
                    sql.Statement(
                        f"CREATE WAREHOUSE {wh} WITH WAREHOUSE_SIZE = XSMALL WAREHOUSE_TYPE = STANDARD "
                        f"AUTO_SUSPEND = 60 AUTO_RESUME = TRUE INITIALLY_SUSPENDED = TRUE {capped}",
                        verify=sql.GOLDEN,
                    ),
                    # The dedicated mode's training warehouse, made here so that it is capped too (the
                    # engine uses an existing Snowpark-optimized warehouse as it is).
                    sql.Statement(
                        f"CREATE WAREHOUSE {train} WITH WAREHOUSE_SIZE = MEDIUM WAREHOUSE_TYPE = "
                        f"'SNOWPARK-OPTIMIZED' AUTO_SUSPEND = 60 AUTO_RESUME = TRUE INITIALLY_SUSPENDED = TRUE "
                        f"{capped}",
                        verify=sql.GOLDEN,
                    ),
                ),
            ),
            Step(
                "cap credits with a resource monitor",
                (
                    sql.Statement(
                        f"CREATE RESOURCE MONITOR {rm} WITH CREDIT_QUOTA = {CREDIT_QUOTA} "
                        "TRIGGERS ON 100 PERCENT DO SUSPEND_IMMEDIATE",
                        verify=sql.GOLDEN,
                    ),
                    sql.Statement(f"ALTER WAREHOUSE {wh} SET RESOURCE_MONITOR = {rm}", verify=sql.GOLDEN),
                    sql.Statement(f"ALTER WAREHOUSE {train} SET RESOURCE_MONITOR = {rm}", verify=sql.GOLDEN),
                ),
                optional=True,
            ),
            Step("account check", action="doctor: every line, before anything else changes"),
            Step("setup", action="run setup in the throw-away database, then plan again (nothing to do)"),
        ]
        if self.role2:
            role = quote(self.role2)
            grants = [f"GRANT USAGE ON WAREHOUSE {wh} TO ROLE {role}", *scoring_grants(self.location, role)]
            steps.append(
                Step(
                    f"grant scoring to {self.role2}",
                    tuple(sql.Statement(g, verify=sql.GOLDEN) for g in grants),
                )
            )
        steps += [
            Step(
                "load with a header",
                action=f"upload {BREAST_CANCER_FILE}; load it into PATIENTS (header auto)",
            ),
            Step(
                "load without a header",
                action=f"upload {NEW_PATIENTS_FILE} without its header row; load it into NEW_PATIENTS "
                "(header no, columns from PATIENTS)",
            ),
            Step(
                "train, convert mode",
                action="train Snowpark-optimized by converting the warehouse; SHOW WAREHOUSES must match before",
            ),
            Step(
                "train, dedicated mode",
                action=f"train Snowpark-optimized on {self.training_warehouse}; the shared warehouse untouched",
            ),
            Step(
                "score at X-Small", action="score NEW_PATIENTS at X-Small; SHOW WAREHOUSES must match before"
            ),
            Step("score at Small", action="score NEW_PATIENTS at Small; SHOW WAREHOUSES must match before"),
            Step(
                "attribution", action="ask ACCOUNT_USAGE for the runs' credits (lags by hours: None is fine)"
            ),
        ]
        if self.role2:
            steps.append(
                Step(f"score as {self.role2}", action=f"connect as {self.role2} and score NEW_PATIENTS")
            )
        return steps

    def cleanup(self) -> list[Step]:
        """Drops everything the run may have made; each statement runs even when an earlier one fails."""
        return [
            Step(
                "drop what the run made",
                (
                    sql.Statement(
                        f"DROP WAREHOUSE IF EXISTS {quote(self.training_warehouse)}", verify=sql.GOLDEN
                    ),
                    sql.Statement(f"DROP WAREHOUSE IF EXISTS {quote(self.warehouse)}", verify=sql.GOLDEN),
                    sql.Statement(
                        f"DROP RESOURCE MONITOR IF EXISTS {quote(self.monitor)}", verify=sql.GOLDEN
                    ),
                    sql.Statement(f"DROP DATABASE IF EXISTS {quote(self.database)}"),
                ),
            )
        ]

    def dry_run(self) -> str:
        """The plan for people: SQL verbatim, engine steps as comments, the cleanup last."""
        lines = [f"-- snowml-desktop {__version__} first live run, suffix {self.suffix}"]
        for step in [*self.steps(), *self.cleanup()]:
            lines.append(f"-- {step.name}{' (optional)' if step.optional else ''}")
            lines += [f"{s.text};" for s in step.statements]
            if step.action:
                lines.append(f"--   engine: {step.action}")
        return "\n".join(lines)


def new_plan(role2: str | None = None) -> LivePlan:
    return LivePlan(secrets.token_hex(4).upper(), normalize(role2, what="role") if role2 else None)


# --- the report ----------------------------------------------------------------------------------------


@dataclass
class StepResult:
    name: str
    ok: bool
    seconds: float
    detail: Any = None
    error: str | None = None
    optional: bool = False


@dataclass
class Report:
    """What happened, step by step, with versions: no secrets (errors are the app's scrubbed messages)."""

    plan: LivePlan
    account: str = ""
    steps: list[StepResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.ok or s.optional for s in self.steps)

    def write(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"snowml-first-live-run-{self.plan.suffix}.json"
        document = {
            "ok": self.ok,
            "app_version": __version__,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "snowpark": _version("snowflake-snowpark-python"),
            "connector": _version("snowflake-connector-python"),
            "account": self.account,
            "plan": {
                "suffix": self.plan.suffix,
                "database": self.plan.database,
                "warehouse": self.plan.warehouse,
                "role2": self.plan.role2,
            },
            "steps": [dataclasses.asdict(s) for s in self.steps],
        }
        path.write_text(json.dumps(document, indent=2, default=str), encoding="utf-8")
        return path


def _version(distribution: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


# --- running -------------------------------------------------------------------------------------------

Action = Callable[[], Any]


def run_plan(
    plan: LivePlan,
    admin: Any,
    actions: dict[str, Action],
    report: Report,
    *,
    before_cleanup: Action | None = None,
) -> Report:
    """Run the plan's steps in order (SQL on ``admin``, a SqlRunner; engine steps from ``actions`` by step
    name), stop at the first failing required step, and always run the cleanup (after ``before_cleanup``,
    which closes the engines' sessions so nothing uses what is dropped)."""
    try:
        for step in plan.steps():
            result = _run_step(step, admin, actions)
            report.steps.append(result)
            if not result.ok and not step.optional:
                break
    finally:
        if before_cleanup is not None:
            before_cleanup()
        for step in plan.cleanup():
            for statement in step.statements:  # one failed drop must not keep the others from running
                report.steps.append(
                    _run_step(dataclasses.replace(step, statements=(statement,)), admin, actions)
                )
    return report


def _run_step(step: Step, admin: Any, actions: dict[str, Action]) -> StepResult:
    started = time.monotonic()
    try:
        detail = [admin.execute(s, operation="first_live_run").rows for s in step.statements]
        if step.action:
            detail = actions[step.name]()
        return StepResult(step.name, True, time.monotonic() - started, _plain(detail), optional=step.optional)
    except (EngineError, AssertionError) as exc:
        return StepResult(
            step.name,
            False,
            time.monotonic() - started,
            error=f"{type(exc).__name__}: {exc}",
            optional=step.optional,
        )


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


# --- the engine steps on a real account ----------------------------------------------------------------


class LiveRun:
    """The engine steps of a plan on a real account, connecting with ``profile`` (a ConnectionProfile)."""

    def __init__(self, plan: LivePlan, profile: Any, folder: Path) -> None:
        self.plan, self.profile, self.folder = plan, profile, folder
        self.engine: Any = None
        self.models: list[str] = []
        self.runs: list[int] = []

    def connect(self, role: str | None = None) -> Any:
        from snowml_desktop.engines.snowflake.engine import SnowflakeEngine
        from snowml_desktop.engines.snowflake.session import SnowparkRunner, open_session

        profile = dataclasses.replace(
            self.profile,
            database=self.plan.database,
            warehouse=self.plan.warehouse,
            schema="",
            role=role or self.profile.role,
        )
        session = open_session(profile)
        return SnowflakeEngine(SnowparkRunner(session), profile, session=session)

    def actions(self) -> dict[str, Action]:
        found = {
            "account check": self.check,
            "setup": self.setup,
            "load with a header": self.load_header,
            "load without a header": self.load_no_header,
            "train, convert mode": lambda: self.train("convert"),
            "train, dedicated mode": lambda: self.train("dedicated"),
            "score at X-Small": lambda: self.score("X-Small"),
            "score at Small": lambda: self.score("Small"),
            "attribution": self.attribution,
        }
        if self.plan.role2:
            found[f"score as {self.plan.role2}"] = self.score_as_role2
        return found

    def check(self) -> Any:
        self.engine = self.connect()
        return self.engine.check_account()

    def setup(self) -> Any:
        self.engine.run_setup()
        plan = self.engine.plan_setup()
        assert not plan.needed, plan.reason
        return plan.reason

    def _upload(self, name: str, *, drop_header: bool = False) -> str:
        from snowml_desktop.core.demo_data import write_demo_files

        source = next(p for p in write_demo_files(self.folder / "demo") if p.name == name)
        target = self.folder / (f"NOHEADER_{name}" if drop_header else name)
        lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
        target.write_text("".join(lines[1:] if drop_header else lines), encoding="utf-8")
        self.engine.upload([target])
        return target.name

    def load_header(self) -> Any:
        from snowml_desktop.engines.base import LoadRequest

        result = self.engine.load(LoadRequest("LOAD_DATA", self._upload(BREAST_CANCER_FILE), "PATIENTS"))
        assert result.rows_loaded > 0 and result.rows_rejected == 0, result
        return result

    def load_no_header(self) -> Any:
        from snowml_desktop.engines.base import LoadRequest

        name = self._upload(NEW_PATIENTS_FILE, drop_header=True)
        result = self.engine.load(
            LoadRequest("LOAD_DATA", name, "NEW_PATIENTS", header="no", columns_from="PATIENTS")
        )
        assert result.rows_loaded > 0 and result.rows_rejected == 0, result
        return result

    def _shown(self) -> tuple[Any, ...]:
        """The warehouse as SHOW WAREHOUSES has it: what restoring must give back."""
        state = self.engine.warehouse()
        return state.name, state.size, state.type

    def train(self, mode: str) -> Any:
        from snowml_desktop.engines.base import TrainRequest

        before = self._shown()
        request = TrainRequest(
            "PATIENTS",
            BREAST_CANCER_TARGET,
            method="logistic_regression",
            optimized=True,
            optimized_mode=mode,
            training_warehouse=self.plan.training_warehouse if mode == "dedicated" else None,
        )
        model = self.engine.train(request)
        assert self._shown() == before, f"{mode}: warehouse {self._shown()} after training, was {before}"
        assert model.warehouse_type == sizes.SNOWPARK_OPTIMIZED, model.warehouse_type
        self.models.append(model.name)
        return {
            "model": model.name,
            "metrics": model.metrics,
            "warehouse": [model.warehouse_size, model.warehouse_type],
        }

    def score(self, size: str, engine: Any = None) -> Any:
        from snowml_desktop.engines.base import ScoreRequest

        engine = engine or self.engine
        before = self._shown()
        run = engine.score(ScoreRequest(self.models[0], "NEW_PATIENTS", size=size, overwrite=True))
        assert run.status == RUN_SUCCEEDED and run.rows > 0, run
        assert self._shown() == before, f"warehouse {self._shown()} after scoring at {size}, was {before}"
        self.runs.append(run.run_id)
        return {
            "run": run.run_id,
            "rows": run.rows,
            "size": run.warehouse_size,
            "credits": run.credits,
            "query_ids": run.query_ids,
        }

    def attribution(self) -> Any:
        return {run: self.engine.actual_credits(run) for run in self.runs}

    def score_as_role2(self) -> Any:
        other = self.connect(self.plan.role2)
        try:
            return self.score("X-Small", other)
        finally:
            other.close()

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()
            self.engine = None


def live(connection: str, plan: LivePlan, report_dir: Path) -> tuple[Report, Path]:
    """Run ``plan`` on the account of ``connection``; returns the report and where it was written."""
    from snowml_desktop.core.connections import get_profile
    from snowml_desktop.engines.snowflake.session import SnowparkRunner, open_session

    profile = get_profile(connection)
    admin = SnowparkRunner(open_session(profile))
    report = Report(plan, account=profile.account)
    with tempfile.TemporaryDirectory() as folder:
        run = LiveRun(plan, profile, Path(folder))
        try:
            run_plan(plan, admin, run.actions(), report, before_cleanup=run.close)
        finally:
            admin.close()
    return report, report.write(report_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="print the statements; connect to nothing")
    parser.add_argument(
        "--role2", default=os.environ.get("SNOWML_TEST_ROLE2"), help="also score as this role"
    )
    parser.add_argument("--report-dir", type=Path, default=Path.cwd(), help="where the report file goes")
    args = parser.parse_args(argv)
    plan = new_plan(args.role2)
    if args.dry_run:
        print(plan.dry_run())
        return 0
    connection = os.environ.get("SNOWML_TEST_CONNECTION")
    if not connection:
        print("Set SNOWML_TEST_CONNECTION to a connection name (or use --dry-run).", file=sys.stderr)
        return 2
    report, path = live(connection, plan, args.report_dir)
    print(f"{'OK' if report.ok else 'FAILED'}: report written to {path}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())

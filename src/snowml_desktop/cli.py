"""The ``snowml`` command: every panel action of the desktop app, for automation.

A thin layer over the engine protocol. Exit codes: 0 success, 1 an operation failed (one clear line on stderr;
the traceback only with ``--debug``), 2 usage errors. With ``--json`` each command prints one JSON document.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from snowml_desktop import __version__, logs
from snowml_desktop.core import recommend
from snowml_desktop.core.errors import EngineError, InvalidInput
from snowml_desktop.core.memory import (
    EXAMPLES,
    MIN_MEMORY_LIMIT,
    default_memory_limit,
    describe,
    parse_memory_limit,
)
from snowml_desktop.core.records import RUN_SCORE
from snowml_desktop.core.tasks import TaskContext

if TYPE_CHECKING:
    from snowml_desktop.engines.base import Engine

log = logging.getLogger("snowml_desktop.cli")


# --- argument parsing ---------------------------------------------------------------------------------------


def _memory_limit(text: str) -> int:
    try:
        return parse_memory_limit(text)
    except InvalidInput as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="snowml",
        description="Machine learning on Snowflake or the embedded local warehouse, from the command line.",
    )
    parser.add_argument("--version", action="version", version=f"snowml {__version__}")
    parser.add_argument(
        "--workspace", type=Path, help="local workspace folder (default: $SNOWML_HOME or the user data dir)"
    )
    parser.add_argument(
        "--memory-limit",
        type=_memory_limit,
        metavar="SIZE",
        help=f"memory the local warehouse may use before it spills to the workspace's disk, {EXAMPLES} "
        f"(default: {describe(default_memory_limit())}; at least {describe(MIN_MEMORY_LIMIT)})",
    )
    parser.add_argument("--connection", help="saved connection name (default: local)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("stages", help="list stages")
    p = sub.add_parser("files", help="list the files on a stage")
    p.add_argument("stage", nargs="?", default="LOAD_DATA")
    p = sub.add_parser("put", help="upload local files to a stage")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--stage", default="LOAD_DATA")
    p = sub.add_parser("load", help="load a stage file into a table")
    p.add_argument("source", metavar="STAGE/FILE")
    p.add_argument("--table", required=True)
    p.add_argument("--header", choices=("auto", "yes", "no"), default="auto")
    p.add_argument("--columns-from", metavar="TABLE", help="take column names and types from this table")
    p.add_argument("--mode", choices=("create", "replace", "append"), default="create")
    p.add_argument("--format", dest="file_format", choices=("auto", "csv", "parquet"), default="auto")
    p.add_argument(
        "--force", action="store_true", help="load the file even if it was loaded into the table before"
    )
    p.add_argument(
        "--bad-numbers",
        choices=("text", "reject", "null"),
        default="text",
        help="a column of numbers with a few values that are not: keep it as text (default, with a warning), "
        "load it as numbers rejecting those rows, or load it as numbers with those values NULL",
    )

    sub.add_parser("tables", help="list tables")
    p = sub.add_parser("preview", help="show the first rows of a table")
    p.add_argument("table")
    p.add_argument("--limit", type=int, default=20)
    p = sub.add_parser("profile", help="per-column statistics of a table")
    p.add_argument("table")
    p = sub.add_parser("histogram", help="histogram of one column")
    p.add_argument("table")
    p.add_argument("column")
    p.add_argument("--bins", type=int, default=30)
    p = sub.add_parser("balance", help="class balance of a label column")
    p.add_argument("table")
    p.add_argument("column")
    p = sub.add_parser("correlation", help="correlation of the numeric columns")
    p.add_argument("table")
    p = sub.add_parser("drop-table", help="drop a table")
    p.add_argument("table")

    sub.add_parser("methods", help="list training methods and their parameters")
    p = sub.add_parser("train", help="train a classifier on a table")
    p.add_argument("table")
    p.add_argument("--target", required=True)
    p.add_argument("--features", help="comma-separated feature columns (default: all usable)")
    p.add_argument("--method", default="random_forest")
    p.add_argument("--test-size", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--cv", type=int, default=0, metavar="K", help="k-fold cross-validation (0: off)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--keep-clone", action="store_true", help="keep a clone of the training data")
    p.add_argument("--optimized", action="store_true", help="train on a Snowpark-optimized warehouse")
    p.add_argument("--optimized-mode", choices=("convert", "dedicated"), default="convert")
    p.add_argument("--training-warehouse", help="with --optimized-mode dedicated")
    p.add_argument("--dedupe", action="store_true", help="drop duplicate rows before splitting")
    p.add_argument("--class-weight", choices=("balanced",))

    p = sub.add_parser("compare", help="compare methods on the same folds (or one split) of a table")
    p.add_argument("table")
    p.add_argument("--target", required=True)
    p.add_argument("--methods", required=True, help="comma-separated, e.g. rf,lr,gb")
    p.add_argument("--features", help="comma-separated feature columns (default: all usable)")
    p.add_argument("--cv", type=int, default=5, metavar="K", help="K stratified folds (0: one test split)")
    p.add_argument("--test-size", type=float, default=0.2, help="with --cv 0")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--param", action="append", default=[], metavar="METHOD.NAME=VALUE")
    p.add_argument("--dedupe", action="store_true", help="drop duplicate rows before splitting")
    p.add_argument("--class-weight", choices=("balanced",))
    p.add_argument(
        "--keep", action="append", default=[], metavar="METHOD", help="train it as a catalog model"
    )

    p = sub.add_parser("threshold", help="show or set a binary model's decision threshold")
    p.add_argument("--model", required=True)
    choice = p.add_mutually_exclusive_group()
    choice.add_argument("--set", type=float, metavar="T", help="label positive at probability T or more")
    choice.add_argument(
        "--max-f1", action="store_true", help="the threshold with the best F1 on the test rows"
    )
    choice.add_argument("--max-balanced-accuracy", action="store_true")
    choice.add_argument(
        "--recall", type=float, metavar="R", help="the highest threshold with recall R or more"
    )
    choice.add_argument("--costs", metavar="FP,FN", help="the cheapest threshold for these costs of errors")
    choice.add_argument("--clear", action="store_true", help="back to the most probable class")

    p = sub.add_parser("drift", help="drift of a table against a model's training data")
    p.add_argument("--model", required=True)
    p.add_argument("--table", required=True)
    p.add_argument("--exact", action="store_true", help="compare with the kept training clone (exact KS)")

    sub.add_parser("models", help="list the models catalog")
    p = sub.add_parser("model", help="one model's details")
    p.add_argument("name")
    p = sub.add_parser("delete-model", help="delete a model and its artifact")
    p.add_argument("name")
    p = sub.add_parser("score", help="score a table with a model")
    p.add_argument("--model", required=True)
    p.add_argument("--table", required=True)
    p.add_argument("--output")
    p.add_argument("--size", help="warehouse size for this run, e.g. X-Small, Small, Medium")
    p.add_argument("--overwrite", action="store_true", help="replace the output table if it exists")
    p.add_argument(
        "--incremental",
        action="store_true",
        help="score only rows not scored before into --output, appending them (local engine)",
    )
    _schedule_parser(sub)
    p = sub.add_parser("recommend", help="recommend a warehouse size for scoring a table, from past runs")
    p.add_argument("--model", required=True)
    p.add_argument("--table", required=True)
    p.add_argument(
        "--budget", type=float, metavar="SECONDS", help="the cheapest size that finishes within this"
    )
    p.add_argument(
        "--calibrate",
        action="store_true",
        help="first time the model on samples of the table (for a model with too few past runs)",
    )
    p.add_argument("--yes", action="store_true", help="with --calibrate on Snowflake: run it (it bills credits)")
    p = sub.add_parser("runs", help="list inference runs")
    p.add_argument("--model")
    p.add_argument("--table")
    p = sub.add_parser("run", help="one inference run's details")
    p.add_argument("run_id", type=int)

    p = sub.add_parser("warehouse", help="show or change the warehouse size and type")
    p.add_argument("--size")
    p.add_argument("--type", dest="wh_type", metavar="TYPE", help="STANDARD or SNOWPARK-OPTIMIZED")

    p = sub.add_parser("demo", help="demo data")
    demo = p.add_subparsers(dest="demo_command", required=True, metavar="DEMO_COMMAND")
    big = demo.add_parser("big", help="generate a big churn-like table inside the engine")
    big.add_argument("--rows", type=int, required=True)
    big.add_argument("--table", required=True)
    big.add_argument("--seed", type=int, default=0)
    big.add_argument("--replace", action="store_true")

    p = sub.add_parser(
        "setup", help="show what the engine's one-time setup creates and the privileges it needs"
    )
    p.add_argument("--yes", action="store_true", help="run setup now (it does nothing when not needed)")
    p.add_argument("--sql", action="store_true", help="also print the SQL setup runs")
    p.add_argument(
        "--grant-role",
        metavar="ROLE",
        help="with --yes: also grant ROLE what every user of the app needs (scoring other roles' models too)",
    )

    p = sub.add_parser(
        "doctor",
        help="check, without changing anything, what this connection needs before setup or training",
        description="Read-only account check: each line is OK, missing (with the GRANT or ALTER that fixes "
        "it) or unknown. Exit code 0 when nothing is missing, 1 otherwise.",
    )
    p.add_argument("--json", dest="doctor_json", action="store_true", help="print one JSON document")

    sub.add_parser("connections", help="list saved connections")
    return parser


def _schedule_parser(sub: Any) -> None:
    p = sub.add_parser(
        "schedule", help="scheduled scoring of new rows (Snowflake tasks; local: OS scheduler)"
    )
    schedule = p.add_subparsers(dest="schedule_command", required=True, metavar="SCHEDULE_COMMAND")
    create = schedule.add_parser("create", help="create a stream and a task scoring new rows on a schedule")
    create.add_argument("--model", required=True)
    create.add_argument("--table", required=True)
    create.add_argument("--output", required=True)
    create.add_argument("--cron", required=True, help='five fields in UTC, e.g. "0 2 * * *"')
    create.add_argument("--name", help="schedule name (default: from the model and table)")
    compute = create.add_mutually_exclusive_group()
    compute.add_argument("--size", help="serverless: the initial size (implies --serverless)")
    compute.add_argument("--serverless", action="store_true", help="Snowflake-managed compute")
    schedule.add_parser("list", help="list schedules")
    for verb, text in (
        ("suspend", "pause a schedule"),
        ("resume", "resume a schedule"),
        ("run", "run a schedule once now"),
        ("drop", "drop a schedule and its stream"),
        ("history", "a schedule's latest runs, with errors"),
    ):
        schedule.add_parser(verb, help=text).add_argument("name")
    text = schedule.add_parser("text", help="local engine: the OS scheduler entry for incremental scoring")
    text.add_argument("--model", required=True)
    text.add_argument("--table", required=True)
    text.add_argument("--output", required=True)
    text.add_argument("--cron", required=True)
    text.add_argument("--scheduler", choices=("cron", "systemd", "schtasks", "launchd"), default="cron")
    text.add_argument("--size")
    text.add_argument("--name", default="snowml-score", help="job name for the scheduler")
    text.add_argument(
        "--overwrite",
        action="store_true",
        help="let the first run replace an output not written incrementally",
    )


# --- output -------------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """JSON-ready form of results: dataclasses, frames, datetimes, paths, numpy scalars."""
    from snowml_desktop.core.records import json_safe

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # pandas DataFrame
        return _plain(json.loads(value.to_json(orient="records", date_format="iso")))
    return json_safe(value)


def _table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _metric(metrics: dict | None, key: str) -> float | None:
    return (metrics or {}).get(key)


# --- commands -----------------------------------------------------------------------------------------------


class _Progress:
    """Progress on stderr, only when stderr is a terminal (so logs and pipes stay clean)."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self._last = 0.0

    def __call__(self, fraction: float, text: str) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self._last < 0.2 and fraction < 1.0):
            return
        self._last = now
        sys.stderr.write(f"\r{fraction * 100:5.1f}%  {text[:70]:<70}")
        if fraction >= 1.0:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _task() -> TaskContext:
    return TaskContext(progress=_Progress())


def _parse_params(items: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(
                f"--param {item!r} is not NAME=VALUE.", hint="For example: --param n_estimators=200"
            )
        params[name.strip()] = value.strip()
    return params


def _split_source(source: str) -> tuple[str, str]:
    stage, sep, name = source.lstrip("@").partition("/")
    if not sep or not name:
        raise InvalidInput(f"{source!r} is not STAGE/FILE.", hint="For example: LOAD_DATA/CHURN.csv")
    return stage, name


def run_command(args: argparse.Namespace, engine: Engine) -> tuple[Any, str]:
    """Run one command; return (JSON-ready result, text for people)."""
    from snowml_desktop.engines import base

    cmd = args.command
    if cmd == "stages":
        stages = engine.list_stages()
        return stages, "\n".join(stages)
    if cmd == "files":
        files = engine.list_files(args.stage)
        return files, _table([(f.name, f.size, f.modified) for f in files], ["name", "bytes", "modified"])
    if cmd == "put":
        files = engine.upload(list(args.files), args.stage, task=_task())
        return files, "\n".join(f"uploaded {f.stage}/{f.name} ({f.size} bytes)" for f in files)
    if cmd == "load":
        stage, name = _split_source(args.source)
        request = base.LoadRequest(
            stage,
            name,
            args.table,
            args.header,
            args.columns_from,
            args.mode,
            args.file_format,
            force=args.force,
            bad_numbers=args.bad_numbers,
        )
        result = engine.load(request, task=_task())
        text = f"loaded {result.rows_loaded} rows into {result.table}; rejected {result.rows_rejected}"
        text += "".join(f"\n  line {r.line}: {r.reason}" for r in result.rejections)
        for found in result.not_numbers:
            text += f"\n  warning: {found.message()}"
            if found.action == "text":
                text += " To load it as numbers, add --bad-numbers reject (or null)."
        return result, text
    if cmd == "tables":
        tables = engine.list_tables()
        rows = [(t.name, t.rows, t.columns, t.created) for t in tables]
        return tables, _table(rows, ["name", "rows", "columns", "created"])
    if cmd == "preview":
        frame = engine.preview(args.table, args.limit)
        return frame, frame.to_string(index=False, max_colwidth=30)
    if cmd == "profile":
        prof = engine.profile(args.table, task=_task())
        rows = [
            (c.name, c.sql_type, c.count, c.nulls, c.distinct, c.mean, c.std, c.min, c.median, c.max)
            for c in prof.columns
        ]
        headers = ["column", "type", "count", "nulls", "distinct", "mean", "std", "min", "median", "max"]
        return prof, f"{prof.table}: {prof.rows} rows\n" + _table(rows, headers)
    if cmd == "histogram":
        hist = engine.histogram(args.table, args.column, args.bins)
        if hist.kind == "numeric":
            rows = [
                (f"[{lo:.4g}, {hi:.4g})", n)
                for lo, hi, n in zip(hist.edges, hist.edges[1:], hist.counts, strict=False)
            ]
        else:
            rows = list(zip(hist.categories, hist.counts, strict=True)) + (
                [("(other)", hist.other)] if hist.other else []
            )
        return hist, _table(rows + ([("(null)", hist.nulls)] if hist.nulls else []), ["bin", "count"])
    if cmd == "balance":
        bal = engine.class_balance(args.table, args.column)
        rows = list(zip(bal.labels, bal.counts, strict=True)) + ([("(null)", bal.nulls)] if bal.nulls else [])
        return bal, _table(rows, ["label", "count"])
    if cmd == "correlation":
        corr = engine.correlation(args.table)
        rows = [[name, *row] for name, row in zip(corr.columns, corr.matrix, strict=True)]
        return corr, _table(rows, ["", *corr.columns])
    if cmd == "drop-table":
        engine.drop_table(args.table)
        return {"dropped": args.table}, f"dropped {args.table}"
    if cmd == "methods":
        return _methods()
    if cmd == "train":
        return _train(args, engine)
    if cmd == "compare":
        return _compare(args, engine)
    if cmd == "threshold":
        return _threshold(args, engine)
    if cmd == "drift":
        report = engine.check_drift(args.model, args.table, exact=args.exact)
        return report, _describe_drift(report)
    if cmd == "models":
        models = engine.list_models()
        rows = [
            (
                m.name,
                m.created,
                m.method,
                m.training_table,
                m.target,
                _metric(m.metrics, "accuracy"),
                _metric(m.metrics, "balanced_accuracy"),
                _metric(m.metrics, "roc_auc"),
            )
            for m in models
        ]
        headers = ["name", "created", "method", "training data", "target", "accuracy", "bal. acc.", "ROC AUC"]
        return models, _table(rows, headers)
    if cmd == "model":
        model = engine.get_model(args.name)
        return model, _describe_model(model)
    if cmd == "delete-model":
        engine.delete_model(args.name)
        return {"deleted": args.name}, f"deleted {args.name}"
    if cmd == "score":
        request = base.ScoreRequest(args.model, args.table, args.output, args.size, args.overwrite)
        if args.incremental:
            run = engine.score_incremental(request, task=_task())
        else:
            run = engine.score(request, task=_task())
        return run, _describe_run(run)
    if cmd == "schedule":
        return _schedule(args, engine)
    if cmd == "runs":
        runs = engine.list_runs(args.model, args.table)
        rows = [
            (
                r.run_id,
                r.created,
                r.model,
                r.source_table,
                r.output_table,
                r.rows,
                r.total_seconds,
                r.warehouse_size,
                r.credits,
                # A calibration's run scored a sample: its accuracy says nothing of the table.
                _metric(r.metrics, "accuracy") if r.kind == RUN_SCORE else "",
                r.status if r.kind == RUN_SCORE else f"{r.status} ({r.kind})",
            )
            for r in runs
        ]
        headers = [
            "id",
            "created",
            "model",
            "source",
            "output",
            "rows",
            "seconds",
            "size",
            "credits",
            "accuracy",
            "status",
        ]
        return runs, _table(rows, headers)
    if cmd == "recommend":
        if args.calibrate:
            return _calibrate(args, engine)
        advice = engine.recommend_size(args.model, args.table, budget_seconds=args.budget)
        return advice, _describe_recommendation(advice)
    if cmd == "run":
        run = engine.get_run(args.run_id)
        return run, _describe_run(run)
    if cmd == "warehouse":
        state = (
            engine.set_warehouse(args.size, args.wh_type)
            if (args.size or args.wh_type)
            else engine.warehouse()
        )
        workers = f", {_workers(state.workers)}" if state.workers else ""
        return (
            state,
            f"{state.name}: {state.size} {state.type} ({state.state}{workers}, {state.credits_per_hour:g} credits/hour)",
        )
    if cmd == "setup":
        plan = engine.run_setup(task=_task()) if args.yes else engine.plan_setup()
        text = _describe_setup(plan, ran=args.yes, with_sql=args.sql)
        if args.grant_role and args.yes:
            granted = engine.grant_app_role(args.grant_role, task=_task())
            text += f"\nGranted role {args.grant_role} what the app needs ({len(granted)} grants)."
        elif args.grant_role:
            text += f"\nAdd --yes to grant role {args.grant_role} what the app needs."
        return plan, text
    if cmd == "doctor":
        check = engine.check_account()
        return check, describe_check(check)
    if cmd == "demo":
        info = engine.create_demo_table(
            args.table, args.rows, seed=args.seed, replace=args.replace, task=_task()
        )
        return info, f"created {info.name} with {info.rows} rows"
    raise InvalidInput(f"Unknown command {cmd!r}.")  # argparse prevents this; kept for a clear message


def _schedule(args: argparse.Namespace, engine: Engine) -> tuple[Any, str]:
    from snowml_desktop.engines.base import ScheduleRequest

    sub = args.schedule_command
    if sub == "create":
        request = ScheduleRequest(
            args.model,
            args.table,
            args.output,
            args.cron,
            args.size,
            args.serverless or bool(args.size),
            args.name,
        )
        schedule = engine.create_schedule(request)
        return schedule, f"created {_describe_schedule(schedule)}"
    if sub == "list":
        schedules = engine.list_schedules()
        rows = [
            (
                s.name,
                s.state,
                s.cron,
                s.model,
                s.table,
                s.output,
                "serverless" if s.serverless else s.warehouse,
                s.reason,
            )
            for s in schedules
        ]
        headers = ["name", "state", "cron (UTC)", "model", "table", "output", "compute", "reason"]
        return schedules, _table(rows, headers)
    if sub in ("suspend", "resume"):
        schedule = engine.set_schedule_state(args.name, sub == "resume")
        return schedule, _describe_schedule(schedule)
    if sub == "run":
        engine.run_schedule_now(args.name)
        return {
            "started": args.name
        }, f"started a run of {args.name}; see `snowml schedule history {args.name}`"
    if sub == "drop":
        engine.drop_schedule(args.name)
        return {"dropped": args.name}, f"dropped {args.name}"
    if sub == "history":
        history = engine.schedule_history(args.name)
        rows = [(h.scheduled, h.completed, h.state, h.error, h.query_id) for h in history]
        return history, _table(rows, ["scheduled", "completed", "state", "error", "query id"])
    return _schedule_text(args, engine)


def _schedule_text(args: argparse.Namespace, engine: Engine) -> tuple[Any, str]:
    """The OS scheduler entry that runs this workspace's incremental scoring (nothing is installed)."""
    from snowml_desktop.core import schedules

    workspace = engine.describe().workspace
    if workspace is None:
        raise InvalidInput(
            "`schedule text` is for the local engine.", hint="On Snowflake, use `snowml schedule create`."
        )
    missing = engine.check_scoring_input(args.model, args.table)  # named now, not at 2 a.m.
    if missing:
        raise InvalidInput(
            f"Table {args.table!r} lacks the model's feature columns: {', '.join(missing)}.",
            hint="Schedule a table with the columns the model was trained on.",
        )
    command = schedules.score_command(
        schedules.snowml_program(),
        str(workspace),
        args.model,
        args.table,
        args.output,
        args.size,
        overwrite=args.overwrite,
    )
    text = schedules.scheduler_text(args.scheduler, schedules.parse_cron(args.cron), command, args.name)
    return text, text.as_text()


def _describe_schedule(s: Any) -> str:
    compute = f"serverless, {s.size or 'default size'}" if s.serverless else f"warehouse {s.warehouse}"
    line = f"{s.name}: {s.state}, cron {s.cron} UTC, {s.model} on {s.table} -> {s.output} ({compute})"
    return line + (f"; {s.reason}" if s.reason else "")


def _methods() -> tuple[Any, str]:
    from snowml_desktop.core.methods import METHODS

    lines = []
    for spec in METHODS.values():
        lines.append(f"{spec.key:<20} {spec.label}: {spec.description}")
        lines += [f"    {f'{p.name}={p.default!r}':<28} {p.help}" for p in spec.params]
    return list(METHODS.values()), "\n".join(lines)


def _train(args: argparse.Namespace, engine: Engine) -> tuple[Any, str]:
    from snowml_desktop.engines.base import TrainRequest

    features = [f.strip() for f in args.features.split(",") if f.strip()] if args.features else None
    request = TrainRequest(
        table=args.table,
        target=args.target,
        features=features,
        method=args.method,
        params=_parse_params(args.param),
        test_size=args.test_size,
        seed=args.seed,
        cv_folds=args.cv,
        class_weight=args.class_weight,
        dedupe=args.dedupe,
        keep_clone=args.keep_clone,
        optimized=args.optimized,
        optimized_mode=args.optimized_mode,
        training_warehouse=args.training_warehouse,
    )
    model = engine.train(request, task=_task())
    return model, _describe_model(model)


def _compare(args: argparse.Namespace, engine: Engine) -> tuple[Any, str]:
    from snowml_desktop.core.compare import METRICS
    from snowml_desktop.core.methods import get_method
    from snowml_desktop.engines.base import CompareRequest

    methods = [get_method(m).key for m in args.methods.split(",") if m.strip()]
    params: dict[str, dict[str, str]] = {}
    for name, value in _parse_params(args.param).items():
        method, sep, param = name.partition(".")
        if not sep or not param:
            raise InvalidInput(
                f"--param {name!r} names no method.", hint="For example: --param rf.n_estimators=200"
            )
        params.setdefault(get_method(method).key, {})[param] = value
    request = CompareRequest(
        table=args.table,
        target=args.target,
        methods=methods,
        features=[f.strip() for f in args.features.split(",") if f.strip()] if args.features else None,
        params=params,
        cv_folds=args.cv,
        test_size=args.test_size,
        seed=args.seed,
        class_weight=args.class_weight,
        dedupe=args.dedupe,
    )
    keep = [get_method(m).key for m in args.keep]
    unknown = [k for k in keep if k not in methods]
    if unknown:
        raise InvalidInput(f"--keep {', '.join(unknown)}: not among the compared methods.")
    comparison = engine.compare(request, task=_task())
    kept = [engine.train(request.train_request(key), task=_task()) for key in keep]
    setting = f"{comparison.folds} folds" if comparison.folds else f"one {comparison.test_size:g} test split"
    rows = [
        (r.label, *(_mean_std(r.metrics.get(m)) for m in METRICS), r.error or "") for r in comparison.results
    ]
    text = (
        f"{len(comparison.results)} methods on the same {setting} of {comparison.rows:,} rows (mean ± std)\n"
    )
    text += _table(rows, ["method", "accuracy", "bal. acc.", "ROC AUC", "AP", "F1 macro", "error"])
    text += "".join(f"\nkept {m.name} ({m.method})" for m in kept)
    return {"comparison": comparison, "kept": kept}, text


def _mean_std(figure: dict | None) -> str:
    if not figure or figure.get("mean") is None:
        return "-"
    return f"{figure['mean']:.4f} ± {figure['std']:.4f}"


def _threshold(args: argparse.Namespace, engine: Engine) -> tuple[Any, str]:
    from snowml_desktop.core import threshold as th

    model = engine.get_model(args.model)
    scores = model.curves.get("scores")
    if args.clear:
        model = engine.set_threshold(model.name, None)
        return model, f"{model.name}: no threshold; rows get their most probable class"
    if args.set is not None:
        model = engine.set_threshold(model.name, args.set)
    elif args.max_f1 or args.max_balanced_accuracy or args.recall is not None or args.costs:
        if not scores:
            raise InvalidInput(
                f"{model.name} kept no held-out scores to choose a threshold from (multiclass, or trained by "
                "an older version).",
                hint="Set one with --set, or train the model again.",
            )
        preset, options = _threshold_preset(args)
        model = engine.set_threshold(model.name, th.choose(scores, preset, **options).threshold)
    return model, _describe_threshold(model, scores)


def _threshold_preset(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    from snowml_desktop.core import threshold as th

    if args.max_f1:
        return "max_f1", {}
    if args.max_balanced_accuracy:
        return "max_balanced_accuracy", {}
    if args.recall is not None:
        return "target_recall", {"target_recall": args.recall}
    try:
        fp, fn = (float(v) for v in args.costs.split(","))
    except ValueError:
        raise InvalidInput(f"--costs {args.costs!r} is not FP,FN.", hint="For example: --costs 1,5") from None
    return "min_cost", {"costs": th.Costs(false_positive=fp, false_negative=fn)}


def _describe_threshold(model: Any, scores: dict | None) -> str:
    from snowml_desktop.core import threshold as th

    current = "none (the most probable class)" if model.threshold is None else f"{model.threshold:.4g}"
    lines = [f"{model.name}: threshold {current}"]
    if not scores:
        return lines[0] + "\n  (no held-out scores kept: multiclass, or trained by an older version)"
    lines[0] += f"; positive class {scores['positive']!r}, {len(scores['truth'])} held-out rows"
    points = [("current", th.at(scores, model.threshold if model.threshold is not None else 0.5))]
    points += [(name, th.choose(scores, name)) for name in ("max_f1", "max_balanced_accuracy")]
    rows = [
        (
            name,
            f"{p.threshold:.4g}",
            f"{p.precision:.3f}",
            f"{p.recall:.3f}",
            f"{p.f1:.3f}",
            f"{p.balanced_accuracy:.3f}",
            f"{p.tn} {p.fp} / {p.fn} {p.tp}",
        )
        for name, p in points
    ]
    headers = ["point", "threshold", "precision", "recall", "F1", "bal. acc.", "TN FP / FN TP"]
    return "\n".join([lines[0], _table(rows, headers)])


def _describe_drift(report: Any) -> str:
    against = "the training clone (exact)" if report.exact else "the training profile"
    lines = [f"{report.table} ({report.rows:,} rows) against {report.model}'s {against}: {report.summary()}"]
    if report.profile_note():
        lines.append(report.profile_note())
    rows = [
        (
            f.feature,
            f.kind,
            f"{f.psi:.4f}",
            f.band,
            "-" if f.ks is None else f"{f.ks:.4f}",
            f"{f.missing_expected:.1%} -> {f.missing_actual:.1%}",
        )
        for f in report.features
    ]
    lines.append(_table(rows, ["feature", "kind", "PSI", "band", "KS", "missing"]))
    if report.predictions:
        lines.append(f"predictions (PSI {report.predictions['psi']:.4f}): {report.prediction_shift()}")
    return "\n".join(lines)


def _describe_model(m: Any) -> str:
    lines = [
        f"{m.name}  ({m.method}, created {_cell(m.created)})",
        f"  data: {m.source_table} -> trained on {m.training_table}; target {m.target}; classes {m.classes}",
        f"  rows: {m.rows_total} total, {m.rows_train} train, {m.rows_test} test; {m.train_seconds:.2f} s on "
        f"{m.warehouse_size} {m.warehouse_type}",
        "  metrics: " + ", ".join(f"{k}={_cell(v)}" for k, v in m.metrics.items()),
    ]
    if m.cv:
        lines.append(f"  cv: {m.cv['folds']}-fold {m.cv['metric']} {m.cv['mean']:.4f} ± {m.cv['std']:.4f}")
    lines += _confusion(m.confusion_matrix, m.classes)
    if m.feature_importance:
        top = ", ".join(f"{f['feature']} {f['importance']:.3f}" for f in m.feature_importance[:5])
        lines.append(f"  top features: {top}")
    lines += [f"  warning [{w.code}]: {w.message}" for w in m.warnings]
    lines.append(f"  artifact: {m.artifact_path} sha256 {m.artifact_sha256}")
    return "\n".join(lines)


def _describe_run(r: Any) -> str:
    from snowml_desktop.core import drift

    lines = [
        f"run {r.run_id}: {r.status}  {r.model} on {r.source_table} -> {r.output_table}",
        f"  {r.rows} rows in {r.total_seconds:.2f} s (scoring {r.scoring_seconds:.2f} s) on {r.warehouse_size} "
        f"{r.warehouse_type}, {_workers(r.workers)}, ~{r.credits:.6f} credits",
    ]
    if r.error:
        lines.append(f"  error: {r.error}")
    if r.metrics:
        lines.append(
            "  metrics: "
            + ", ".join(f"{k}={_cell(v)}" for k, v in r.metrics.items() if not isinstance(v, list))
        )
    lines += _confusion(r.confusion_matrix, r.classes)
    if r.drift:
        reason = drift.failure_reason(r.drift)
        verdict = f"check failed: {reason}" if reason else drift.report_from_json(r.drift).summary()
        lines.append(f"  drift: {verdict}")
    return "\n".join(lines)


def _confusion(matrix: Sequence[Sequence[int]] | None, classes: Sequence[Any] | None) -> list[str]:
    """The confusion matrix as indented table lines, each row labelled with its true class."""
    if not matrix or not classes:
        return []
    labels = [str(c) for c in classes]
    rows = [[label, *counts] for label, counts in zip(labels, matrix, strict=True)]
    table = _table(rows, ["true \\ predicted", *labels])
    return ["  confusion matrix:", *("    " + line for line in table.splitlines())]


def _describe_setup(plan: Any, *, ran: bool, with_sql: bool) -> str:
    if ran:
        return f"Setup is complete. {plan.reason}"
    lines = [f"Setup needed: {'yes' if plan.needed else 'no'}. {plan.reason}"]
    if plan.objects:
        lines += ["Creates (or updates):", *(f"  - {item}" for item in plan.objects)]
    if plan.privileges:
        lines += ["Privileges it needs:", *(f"  - {item}" for item in plan.privileges)]
    if with_sql and plan.statements:
        lines += ["SQL, in order:", *(s if s.startswith("--") else f"{s};" for s in plan.statements)]
    if plan.needed:
        lines.append(
            "Run `snowml setup --yes` to do it" + ("." if with_sql else " (--sql shows the SQL first).")
        )
    return "\n".join(lines)


def describe_check(check: Any) -> str:
    """An account check for people: one line per check, its fix indented under it, then a summary."""
    from snowml_desktop.engines.base import CHECK_MISSING, CHECK_UNKNOWN

    width = max((len(line.name) for line in check.lines), default=0)
    role = f" as role {check.role}" if check.role else ""
    lines = [f"Account check of {check.account}{role} ({check.engine}):"]
    for line in check.lines:
        lines.append(f"  {line.status.upper():<8} {line.name:<{width}}  {line.detail}")
        if line.fix and line.status != "OK":
            lines.append(f"  {'':<8} {'':<{width}}  fix: {line.fix}")
    missing, unknown = check.count(CHECK_MISSING), check.count(CHECK_UNKNOWN)
    if missing:
        lines.append(f"{missing} missing, {unknown} unknown: ask an admin to run the fixes above.")
    else:
        lines.append(
            "Nothing is missing."
            + (f" {unknown} could not be verified; the statements will tell." if unknown else "")
        )
    return "\n".join(lines)


def _workers(count: int | None) -> str:
    return "- workers" if not count else f"{count} worker" + ("" if count == 1 else "s")


def _connections() -> tuple[Any, str]:
    from snowml_desktop.core.connections import list_profiles

    profiles = list_profiles()
    rows = [
        (p.name, p.kind, p.source, p.account or p.workspace, p.user, "yes" if p.read_only else "")
        for p in profiles
    ]
    return profiles, _table(rows, ["name", "kind", "source", "account / folder", "user", "read-only"])


# --- entry point --------------------------------------------------------------------------------------------


def _calibrate(args: argparse.Namespace, engine: Engine) -> tuple[Any, str]:
    """Show the calibration plan; run it (Snowflake: only with --yes, as it bills) and recommend."""
    plan = engine.plan_calibration(args.model, args.table)
    if not plan.local and not args.yes:
        return plan, f"{plan.summary()}\nAdd --yes to run it."
    advice = engine.calibrate(plan, budget_seconds=args.budget, task=_task())
    return advice, f"{plan.summary()}\n{_describe_recommendation(advice)}"


def _describe_recommendation(advice: recommend.Recommendation) -> str:
    rows = [
        (
            f.size.label + (" *" if f is advice.recommended else ""),
            f.nodes,
            f"{f.seconds:.1f}",
            f"{f.credits.total:.6f}",
            f"{f.credits.minimum:.6f}",
            ("measured" if f.measured else "predicted") + ("" if f.speeds_up else ", no speed-up"),
        )
        for f in advice.forecasts
    ]
    headers = ["size", "nodes", "seconds", "credits", "of which 60 s minimum", "figure"]
    return f"{advice.summary}\n{_table(rows, headers)}"


def main(argv: Sequence[str] | None = None, *, open_engine: Callable[..., Engine] | None = None) -> int:
    """Run ``snowml``; returns the exit code (0 ok, 1 operation error, 2 usage error, 141 output pipe closed)."""
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 on usage errors
    args.json = args.json or getattr(args, "doctor_json", False)
    logs.configure(debug=args.debug, console=args.debug)
    engine = None
    code = 0
    try:
        if args.command == "connections":
            result, text = _connections()
        else:
            if open_engine is None:
                from snowml_desktop.engines import open_engine
            if args.command == "doctor":
                engine, result, text = _open_for_check(args, open_engine)
            else:
                engine = open_engine(
                    args.connection, workspace=args.workspace, memory_limit=args.memory_limit
                )
            if engine is not None:
                result, text = run_command(args, engine)
            if args.command == "doctor" and not result.ready:
                code = 1
    except EngineError as error:
        log.debug("%s failed", args.command, exc_info=True)
        _fail(args, str(error), error.code)
        return 1
    except KeyboardInterrupt:
        _fail(args, "Interrupted; nothing was changed.", "cancelled")
        return 1
    except Exception as error:  # a bug: say so in one line, keep the traceback for --debug
        log.debug("unexpected error", exc_info=True)
        if args.debug:
            raise
        _fail(
            args,
            f"Unexpected error: {type(error).__name__}: {error}. Run again with --debug for details.",
            "bug",
        )
        return 1
    finally:
        if engine is not None:
            engine.close()
    try:
        if args.json:
            print(json.dumps(_plain(result), indent=2, allow_nan=False))
        elif text:
            print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        return _reader_gone()
    return code


def _open_for_check(args: argparse.Namespace, open_engine: Callable[..., Engine]) -> tuple[Any, Any, str]:
    """Open the engine for ``doctor`` without restoring journaled warehouses (the check changes nothing);
    a login that fails is the check's answer, not an error: (None, its one-line check, text)."""
    from snowml_desktop.core.errors import ConnectionFailed, PermissionDenied
    from snowml_desktop.engines.base import AccountCheck

    try:
        engine = open_engine(
            args.connection, workspace=args.workspace, memory_limit=args.memory_limit, replay_journal=False
        )
        return engine, None, ""
    except (ConnectionFailed, PermissionDenied) as error:
        check = AccountCheck.login_failed(args.connection or "local", error)
        return None, check, describe_check(check)


def _reader_gone() -> int:
    """The reader of our output went away (``snowml ... | head -1``): stop quietly as Unix tools do, with the
    status of a process ended by SIGPIPE. Python would report the error again when flushing stdout at exit,
    so stdout is pointed at the null device first."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + 13  # 13 is SIGPIPE on every Unix; Windows has no such signal but the same broken pipe


def _fail(args: argparse.Namespace, message: str, code: str) -> None:
    print(f"snowml: error: {message}", file=sys.stderr)
    if args.json:
        print(json.dumps({"error": message, "code": code}))


if __name__ == "__main__":
    sys.exit(main())

"""Scoring benchmark for the local engine (issues 2 and 12: performance targets).

Targets:
  1. End-to-end table -> table rows/s per worker >= 70 % of raw ``Pipeline.predict`` on the same rows in memory
     (Random Forest 20 trees depth 5, and Logistic Regression; 1M and 10M rows).
  2. X-Small -> Small (1 -> 2 workers) >= 1.8x on 2 cores.
  3. Memory: peak RSS growth <= 1 GiB, parent + worker processes (measured on every timed run).
  4. 10^8 rows at Small <= 180 s (run with --rows 100000000 --repeats 1 --methods random_forest --sizes Small).
  5. Cold start (--cold): a fresh ``snowml score`` process per run (engine open, pool start-up, scoring) must
     be faster at Small than at X-Small.

Warm figures are taken in the benchmark's own process after a warm-up run per size that starts all the
size's workers, as in a running app; cold figures time whole CLI processes on the same workspace.

Run:  python benchmarks/bench_scoring.py --rows 1000000 [--repeats 3] [--cold] [--params JSON]
      python benchmarks/bench_scoring.py --rows 10000000 --repeats 3
      python benchmarks/bench_scoring.py --rows 100000000 --repeats 1 --methods random_forest --sizes Small
Prints raw figures (median of the repeats, and every repeat), the ratios against the targets and the load
average. RSS is read from /proc (Linux).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

METHODS = {
    "random_forest": {"n_estimators": 20, "max_depth": 5},
    "logistic_regression": {},
}
TRAIN_ROWS = 20_000
WARM_ROWS = 262_144  # four scoring batches: the warm-up run starts every worker of a Small or Medium pool
FULL_SCALE_ROWS = 100_000_000
FULL_SCALE_TARGET_SECONDS = 180.0
RAW_ROWS_LIMIT = 2_000_000  # the in-memory baseline predicts at most this many rows (it holds them all)


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> dict[int, float]:
    """CPU seconds (user + system) used so far by each descendant process (the scoring workers)."""
    return {pid: _cpu_seconds(pid) for pid in _descendants(os.getpid())}


def tree_rss() -> int:
    """RSS of this process and all its descendants (shared pages counted once per process: an upper bound)."""
    me = os.getpid()
    return sum(_rss_bytes(pid) for pid in [me, *_descendants(me)])


class PeakSampler:
    """Samples the process-tree RSS every ``interval`` seconds in a thread; ``peak`` is the maximum seen."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss())
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, tree_rss())


class PhaseLog(logging.Handler):
    """Keeps the phase timings the engine logs at DEBUG for each run: setup, predict and write (overlapped),
    the owner's time in output statements within it, metrics and drift."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.phases: tuple[float, ...] = ()

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg.startswith("run %s: setup"):
            self.phases = tuple(record.args[1:])


PHASES = PhaseLog()


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.3f}" for v in values)


def raw_predict_rate(engine, model, table: str, rows: int, repeats: int) -> tuple[float, list[float], int]:
    """rows/s of the fitted Pipeline's own ``predict`` on rows already in memory, one thread."""
    from threadpoolctl import threadpool_limits

    from snowml_desktop.core.artifacts import load_artifact
    from snowml_desktop.core.identifiers import quote
    from snowml_desktop.core.preprocessing import coerce_features

    n = min(rows, RAW_ROWS_LIMIT)
    columns = ", ".join(quote(name) for name in model.feature_names)
    cur = engine.workspace.cursor()
    try:
        frame = cur.sql(f"SELECT {columns} FROM {engine.workspace.table_ref(table)} LIMIT {n}").df()
    finally:
        cur.close()
    frame = coerce_features(frame, model.features)  # the dtypes the pipeline saw in training
    path = engine.workspace.stage_dir("MODELS") / f"{model.name}.joblib"
    pipeline = load_artifact(path, model.artifact_sha256).pipeline
    times, cpu = [], []
    with threadpool_limits(1):
        for _ in range(repeats):
            started, cpu_started = time.perf_counter(), time.process_time()
            pipeline.predict(frame)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
    print(f"    raw predict CPU s: {_fmt(cpu)}")
    return n / _median(times), times, n


def score_times(
    engine, model, table: str, size: str, repeats: int
) -> tuple[list[float], list[float], int, int]:
    """Total and scoring seconds of ``repeats`` runs, the worker count, and the largest growth of the
    process-tree RSS (parent + workers) over its level just before a run. Prints the CPU seconds the
    parent and the workers used in each run: unlike wall time, they hardly depend on other load."""
    from snowml_desktop.engines.base import ScoreRequest

    totals, scoring = [], []
    workers, growth = 1, 0
    for _ in range(repeats):
        baseline = tree_rss()
        before, parent_before = children_cpu(), time.process_time()
        with PeakSampler() as sampler:
            run = engine.score(
                ScoreRequest(model=model.name, table=table, output="BENCH_OUT", size=size, overwrite=True)
            )
        parent_cpu = time.process_time() - parent_before
        worker_cpu = sum(cpu - before.get(pid, 0.0) for pid, cpu in children_cpu().items())
        setup, predicting, writing, metrics = PHASES.phases or (0.0, 0.0, 0.0, 0.0)
        print(
            f"    {size} run: wall {run.total_seconds:.2f} s (setup {setup:.2f}, predict and write "
            f"{predicting:.2f}, of which in output statements {writing:.2f}, metrics+drift {metrics:.2f}); "
            f"CPU parent {parent_cpu:.2f} s, "
            f"workers {worker_cpu:.2f} s; RSS growth {(sampler.peak - baseline) / 2**20:,.0f} MiB"
        )
        growth = max(growth, sampler.peak - baseline)
        totals.append(run.total_seconds)
        scoring.append(run.scoring_seconds)
        workers = run.workers or 1
    return totals, scoring, workers, growth


def copy_seconds(engine, table: str, repeats: int) -> list[float]:
    """Seconds DuckDB takes to copy the table (CREATE TABLE AS SELECT *): the floor for writing any output
    table of the same rows, whatever the model."""
    cur = engine.workspace.cursor()
    times = []
    try:
        for _ in range(repeats):
            cur.execute("BEGIN")
            started = time.perf_counter()
            cur.execute(
                f'CREATE TABLE "DATA"."BENCH_COPY" AS SELECT * FROM {engine.workspace.table_ref(table)}'
            )
            times.append(time.perf_counter() - started)
            cur.execute("ROLLBACK")
    finally:
        cur.close()
    return times


def cold_seconds(root: Path, model: str, size: str) -> float:
    """Wall seconds of one fresh ``snowml score`` process (interpreter start, engine open, pool start-up,
    scoring, exit). The child sees this process's PYTHONPATH, so it runs the same code."""
    command = [sys.executable, "-m", "snowml_desktop.cli", "--workspace", str(root), "score"]
    command += ["--model", model, "--table", "BENCH_SCORE", "--output", "BENCH_COLD", "--size", size]
    started = time.perf_counter()
    subprocess.run([*command, "--overwrite"], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def cold_runs(root: Path, models: list[str], sizes: list[str], repeats: int) -> None:
    """Cold start, sizes interleaved run by run (A, B, A, B ...) so that other load hits them alike."""
    for model in models:
        times: dict[str, list[float]] = {size: [] for size in sizes}
        for _ in range(repeats):
            for size in sizes:
                times[size].append(cold_seconds(root, model, size))
        print(f"\n== cold {model}: a fresh `snowml score` process per run ==")
        for size in sizes:
            print(f"cold {size}: median {_median(times[size]):.2f} s ({_fmt(times[size])})")
        if len(sizes) >= 2:
            first, second = sizes[0], sizes[1]
            ratio = _median(times[first]) / _median(times[second])
            print(f"cold speed-up {first} -> {second}: {ratio:.2f}x (target > 1x)")


def _loadavg() -> str:
    try:
        with open("/proc/loadavg") as handle:
            return " ".join(handle.read().split()[:3])
    except OSError:
        return "n/a"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the timed scoring table")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated: " + ", ".join(METHODS))
    parser.add_argument(
        "--params",
        type=json.loads,
        default={},
        help='JSON hyperparameters replacing a method\'s, e.g. \'{"random_forest": {"n_estimators": 200, '
        '"max_depth": 10}}\' (a model whose predict costs more than writing the output)',
    )
    parser.add_argument("--sizes", default="X-Small,Small", help="warehouse sizes to time")
    parser.add_argument(
        "--workspace", type=Path, default=None, help="reuse a workspace (default: a temp one)"
    )
    parser.add_argument(
        "--cold", action="store_true", help="also time fresh `snowml score` processes (cold start)"
    )
    args = parser.parse_args(argv)

    from snowml_desktop.engines.base import TrainRequest
    from snowml_desktop.engines.local.engine import LocalEngine

    engine_log = logging.getLogger("snowml_desktop.engines.local.models")
    engine_log.setLevel(logging.DEBUG)
    engine_log.addHandler(PHASES)
    root = args.workspace or Path(tempfile.mkdtemp(prefix="snowml-bench-")) / "workspace"
    engine = LocalEngine(root)
    print(f"workspace {root}; cpu_count {os.cpu_count()}; python {sys.version.split()[0]}")
    print(f"load average at start: {_loadavg()}")
    trained: list[str] = []
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    try:
        engine.create_demo_table("BENCH_TRAIN", TRAIN_ROWS, seed=1, replace=True)
        engine.create_demo_table("BENCH_WARM", WARM_ROWS, seed=3, replace=True)
        started = time.perf_counter()
        engine.create_demo_table("BENCH_SCORE", args.rows, seed=2, replace=True)
        print(f"generated BENCH_SCORE: {args.rows:,} rows in {time.perf_counter() - started:.1f} s")
        copies = copy_seconds(engine, "BENCH_SCORE", args.repeats)
        print(
            f"DuckDB copy of the table (CTAS, all threads): median {_median(copies):.3f} s ({_fmt(copies)})"
        )
        for method in [m.strip() for m in args.methods.split(",") if m.strip()]:
            model = engine.train(
                TrainRequest(
                    table="BENCH_TRAIN",
                    target="CHURNED",
                    method=method,
                    params=args.params.get(method, METHODS.get(method, {})),
                )
            )
            trained.append(model.name)
            print(f"\n== {method} ({model.name}, {len(model.features)} features) ==")
            raw_rate, raw_times, raw_rows = raw_predict_rate(
                engine, model, "BENCH_SCORE", args.rows, args.repeats
            )
            print(
                f"raw Pipeline.predict, 1 thread, {raw_rows:,} rows in memory: {raw_rate:,.0f} rows/s "
                f"(times s: {_fmt(raw_times)})"
            )
            # Warm the pool for each size first, as a running app would have it.
            per_size: dict[str, float] = {}
            for size in sizes:
                cold, _, _, _ = score_times(engine, model, "BENCH_WARM", size, 1)
                print(f"warm-up {size}: {WARM_ROWS:,} rows in {cold[0]:.2f} s (starts the worker pool)")
                totals, scoring, workers, growth = score_times(
                    engine, model, "BENCH_SCORE", size, args.repeats
                )
                total = _median(totals)
                per_size[size] = total
                per_worker = args.rows / total / workers
                print(
                    f"end-to-end {size} ({workers} worker(s)): {args.rows / total:,.0f} rows/s, "
                    f"{per_worker:,.0f} rows/s per worker = {per_worker / raw_rate:.0%} of raw "
                    f"(target >= 70%); total s: {_fmt(totals)}; scoring s: {_fmt(scoring)}; peak RSS growth "
                    f"{growth / 2**20:,.0f} MiB (target <= 1024 MiB)"
                )
                if args.rows >= FULL_SCALE_ROWS:
                    print(
                        f"{args.rows:,} rows at {size}: {total:.1f} s "
                        f"(target <= {FULL_SCALE_TARGET_SECONDS:.0f} s at Small)"
                    )
            if len(sizes) >= 2:
                first, second = sizes[0], sizes[1]
                print(
                    f"speed-up {first} -> {second}: {per_size[first] / per_size[second]:.2f}x (target >= 1.8x)"
                )
            print(f"load average now: {_loadavg()}")
    finally:
        engine.close()
    if args.cold:
        cold_runs(root, trained, sizes, args.repeats)
        print(f"load average now: {_loadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Memory of a scoring run with and without the local warehouse's memory limit (issue 12).

Target: scoring 10^8 rows grows the owning process and its workers by <= 1 GiB (peak RSS over the level just
before the run). DuckDB's default limit is 80 % of RAM, and its buffer pool keeps the blocks of the output
table it writes; ``core.memory.default_memory_limit()`` bounds it.

Each variant runs in a fresh process (a buffer pool filled by an earlier run would hide the growth), on the
same workspace, interleaved: A, B, A, B ... A run = open the engine with the limit, warm the worker pool on
20,000 rows, then score the big table once while sampling the RSS of the process tree every 0.2 s.

Run:  python benchmarks/bench_scoring_memory.py --rows 10000000 --repeats 2
      python benchmarks/bench_scoring_memory.py --rows 100000000 --repeats 1 --limits default
Limits: "duckdb" (DuckDB's own default, 80 % of RAM), "default" (the app's default) or sizes such as 512MiB.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_scoring import TRAIN_ROWS, PeakSampler, children_cpu, tree_rss

MODEL_PARAMS = {"n_estimators": 20, "max_depth": 5}


def _load() -> str:
    return Path("/proc/loadavg").read_text().strip()


def _physical_memory() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _limit_bytes(text: str) -> int | None:
    from snowml_desktop.core.memory import parse_memory_limit

    if text == "duckdb":
        return int(0.8 * _physical_memory())
    if text == "default":
        return None
    return parse_memory_limit(text, what="--limits")


def prepare(root: Path, rows: int) -> str:
    """Create the tables and train the model; returns the model name."""
    from snowml_desktop.engines.base import TrainRequest
    from snowml_desktop.engines.local.engine import LocalEngine

    engine = LocalEngine(root)
    try:
        engine.create_demo_table("BENCH_TRAIN", TRAIN_ROWS, seed=1, replace=True)
        started = time.perf_counter()
        engine.create_demo_table("BENCH_SCORE", rows, seed=2, replace=True)
        print(f"generated BENCH_SCORE: {rows:,} rows in {time.perf_counter() - started:.1f} s", flush=True)
        model = engine.train(
            TrainRequest(table="BENCH_TRAIN", target="CHURNED", method="random_forest", params=MODEL_PARAMS)
        )
        return model.name
    finally:
        engine.close()


def child(root: Path, model: str, limit: str, size: str) -> dict[str, float]:
    """One measured run in this (fresh) process."""
    from snowml_desktop.engines.base import ScoreRequest
    from snowml_desktop.engines.local.engine import LocalEngine

    engine = LocalEngine(root, memory_limit=_limit_bytes(limit))
    try:
        cur = engine.workspace.cursor()
        setting = cur.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        cur.close()
        engine.score(
            ScoreRequest(model=model, table="BENCH_TRAIN", output="BENCH_WARM", size=size, overwrite=True)
        )
        baseline = tree_rss()
        before, parent_before = children_cpu(), time.process_time()
        with PeakSampler() as sampler:
            run = engine.score(
                ScoreRequest(model=model, table="BENCH_SCORE", output="BENCH_OUT", size=size, overwrite=True)
            )
        workers_cpu = sum(cpu - before.get(pid, 0.0) for pid, cpu in children_cpu().items())
        return {
            "setting": setting,
            "seconds": run.total_seconds,
            "growth_mib": (sampler.peak - baseline) / 2**20,
            "baseline_mib": baseline / 2**20,
            "parent_cpu": time.process_time() - parent_before,
            "workers_cpu": workers_cpu,
            "spilled_files": len(list((root / ".spill").iterdir())),
        }
    finally:
        engine.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--limits", default="duckdb,default", help="comma-separated variants, run interleaved"
    )
    parser.add_argument("--size", default="Small", help="warehouse size of the runs")
    parser.add_argument("--workspace", type=Path, help="reuse a workspace that holds the tables")
    parser.add_argument("--model", help="with --workspace: the model to score with (else one is trained)")
    parser.add_argument("--child", metavar="LIMIT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.workspace, args.model, args.child, args.size)))
        return 0
    root = args.workspace or Path(tempfile.mkdtemp(prefix="snowml-bench-mem-")) / "workspace"
    print(
        f"load average before: {_load()}; cpu_count {os.cpu_count()}; "
        f"RAM {_physical_memory() / 2**30:.1f} GiB; workspace {root}"
    )
    model = args.model or prepare(root, args.rows)
    limits = [v.strip() for v in args.limits.split(",") if v.strip()]
    results: dict[str, list[dict[str, float]]] = {v: [] for v in limits}
    for repeat in range(args.repeats):
        for limit in limits:
            command = [sys.executable, __file__, "--child", limit, "--workspace", str(root), "--model", model,
                       "--size", args.size]  # fmt: skip
            out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            result = json.loads(out.strip().splitlines()[-1])
            results[limit].append(result)
            print(
                f"run {repeat + 1} limit {limit} ({result['setting']}): {result['seconds']:.1f} s, peak RSS growth "
                f"{result['growth_mib']:,.0f} MiB over {result['baseline_mib']:,.0f} MiB; CPU parent "
                f"{result['parent_cpu']:.1f} s, workers {result['workers_cpu']:.1f} s",
                flush=True,
            )
    print(f"load average after: {_load()}")
    first = statistics.median(r["seconds"] for r in results[limits[0]])
    for limit in limits:
        growth = statistics.median(r["growth_mib"] for r in results[limit])
        seconds = statistics.median(r["seconds"] for r in results[limit])
        print(
            f"median {limit}: {args.rows:,} rows at {args.size} in {seconds:.1f} s ({seconds / first:.2f}x of "
            f"{limits[0]}); peak RSS growth {growth:,.0f} MiB (target <= 1024 MiB)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

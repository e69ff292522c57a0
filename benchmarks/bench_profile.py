"""Benchmark: LocalEngine.profile on a 10M x 14 churn-like table (target: <= 2 s), or on a wide table.

    python benchmarks/bench_profile.py               # 10M rows
    python benchmarks/bench_profile.py --rows 1000000
    python benchmarks/bench_profile.py --columns 1000 # 1,000 columns x 50 rows (target: <= 10 s)

The tall table is generated in DuckDB by LocalEngine.create_demo_table; the wide one by one SELECT (half
numeric columns with missing values, half text columns of five labels). Prints every repeat and the median.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from snowml_desktop.engines.local.engine import LocalEngine

TARGET_SECONDS = 2.0
WIDE_TARGET_SECONDS = 10.0  # per 1,000 columns
WIDE_ROWS = 50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--columns", type=int, help="profile a table this wide (of 50 rows) instead")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_profile_") as tmp:
        engine = LocalEngine(Path(tmp) / "workspace")
        try:
            started = time.perf_counter()
            if args.columns:
                rows, columns = _make_wide(engine, args.columns), args.columns
            else:
                info = engine.create_demo_table("BENCH", args.rows, seed=1)
                rows, columns = info.rows, info.columns
            made = time.perf_counter() - started
            print(f"table: {rows:,} rows x {columns:,} columns (generated in {made:.1f} s)")
            timings = []
            for run in range(args.repeats):
                started = time.perf_counter()
                profile = engine.profile("BENCH")
                timings.append(time.perf_counter() - started)
                print(f"run {run + 1}: profile {timings[-1]:.2f} s ({len(profile.columns):,} columns)")
        finally:
            engine.close()
    median = statistics.median(timings)
    target = WIDE_TARGET_SECONDS * args.columns / 1000 if args.columns else TARGET_SECONDS
    print(
        f"median profile: {median:.2f} s; target <= {target:.1f} s; ratio target/actual {target / median:.2f}"
    )


def _make_wide(engine: LocalEngine, columns: int) -> int:
    expressions = ", ".join(
        f'CASE WHEN i % 7 = 0 THEN NULL ELSE random() * {j} END AS "C{j}"'
        if j % 2 == 0
        else f"'v' || (i % 5) AS \"C{j}\""
        for j in range(columns)
    )
    with engine.workspace.cursor() as cur:
        cur.execute(
            f"CREATE TABLE {engine.workspace.table_ref('BENCH')} AS SELECT {expressions} "
            f"FROM range({WIDE_ROWS}) r(i)"
        )
    return WIDE_ROWS


if __name__ == "__main__":
    main()

"""Benchmark: LocalEngine.profile on a 10M x 14 churn-like table (target: <= 2 s).

    python benchmarks/bench_profile.py               # 10M rows
    python benchmarks/bench_profile.py --rows 1000000

The table is generated in DuckDB by LocalEngine.create_demo_table; prints every repeat and the median.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from snowml_desktop.engines.local.engine import LocalEngine

TARGET_SECONDS = 2.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_profile_") as tmp:
        engine = LocalEngine(Path(tmp) / "workspace")
        try:
            started = time.perf_counter()
            info = engine.create_demo_table("BENCH", args.rows, seed=1)
            made = time.perf_counter() - started
            print(
                f"table: {info.rows:,} rows x {info.columns} columns (generated in {made:.1f} s, "
                f"{info.rows / made:,.0f} rows/s)"
            )
            timings = []
            for run in range(args.repeats):
                started = time.perf_counter()
                profile = engine.profile("BENCH")
                timings.append(time.perf_counter() - started)
                print(f"run {run + 1}: profile {timings[-1]:.2f} s ({len(profile.columns)} columns)")
        finally:
            engine.close()
    median = statistics.median(timings)
    print(
        f"median profile: {median:.2f} s; target <= {TARGET_SECONDS:.1f} s; ratio target/actual "
        f"{TARGET_SECONDS / median:.2f}"
    )


if __name__ == "__main__":
    main()

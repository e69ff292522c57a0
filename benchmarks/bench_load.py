"""Benchmark: LocalEngine.load against DuckDB's own read_csv on the same churn-like CSV file.

Target (issue 2): load >= 80 % of DuckDB's speed, i.e. ratio duckdb_seconds / engine_seconds >= 0.8.

    python benchmarks/bench_load.py                 # ~1 GB file
    python benchmarks/bench_load.py --size-mb 100   # quick run

Prints the raw timings of every repeat, the medians and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from snowml_desktop.engines.base import LoadRequest
from snowml_desktop.engines.local.demo import churn_select
from snowml_desktop.engines.local.engine import LocalEngine

BYTES_PER_ROW = 92  # a churn row as CSV, measured on the demo recipe


def make_csv(path: Path, size_mb: int) -> int:
    """Write a churn-like CSV of about ``size_mb`` megabytes; return its row count."""
    rows = size_mb * 1_000_000 // BYTES_PER_ROW
    duckdb.execute(f"COPY ({churn_select(0, rows, 1)}) TO '{path}' (HEADER, DELIMITER ',')")
    return rows


def time_duckdb(path: Path, folder: Path, run: int) -> float:
    """DuckDB alone: CREATE TABLE AS SELECT * FROM read_csv(...) into a fresh database file."""
    db = folder / f"plain_{run}.duckdb"
    con = duckdb.connect(str(db))
    try:
        started = time.perf_counter()
        con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{path}')")
        return time.perf_counter() - started
    finally:
        con.close()
        db.unlink(missing_ok=True)


def time_engine(engine: LocalEngine, file: str) -> tuple[float, int]:
    started = time.perf_counter()
    result = engine.load(LoadRequest("LOAD_DATA", file, "BENCH", mode="replace"))
    return time.perf_counter() - started, result.rows_loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_load_") as tmp:
        folder = Path(tmp)
        engine = LocalEngine(folder / "workspace")
        try:
            csv_path = engine.workspace.stage_dir("LOAD_DATA") / "churn_big.csv"
            started = time.perf_counter()
            rows = make_csv(csv_path, args.size_mb)
            size = csv_path.stat().st_size / 1e6
            print(f"file: {rows:,} rows, {size:,.0f} MB (made in {time.perf_counter() - started:.1f} s)")
            plain, ours = [], []
            for run in range(args.repeats):
                # Alternate which goes first, so page-cache warmth and machine noise favour neither.
                if run % 2:
                    seconds, loaded = time_engine(engine, csv_path.name)
                    plain.append(time_duckdb(csv_path, folder, run))
                else:
                    plain.append(time_duckdb(csv_path, folder, run))
                    seconds, loaded = time_engine(engine, csv_path.name)
                assert loaded == rows, (loaded, rows)
                ours.append(seconds)
                print(f"run {run + 1}: duckdb read_csv {plain[-1]:.2f} s, LocalEngine.load {ours[-1]:.2f} s")
        finally:
            engine.close()
    plain_median, ours_median = statistics.median(plain), statistics.median(ours)
    print(f"median duckdb read_csv : {plain_median:.2f} s ({size / plain_median:,.0f} MB/s)")
    print(f"median LocalEngine.load: {ours_median:.2f} s ({size / ours_median:,.0f} MB/s)")
    print(f"ratio (duckdb / engine): {plain_median / ours_median:.2f}  (target >= 0.80)")


if __name__ == "__main__":
    main()

"""The drift profile of a big training table on the local engine, under the default memory limit: the exact
deciles (every value held) against the deciles of a reservoir sample of ``PROFILE_SAMPLE_ROWS`` rows.

Run:  python benchmarks/bench_drift_profile.py --rows 100000000 [--repeats 2]
Prints, per repeat and variant (interleaved), whether a profile came back, its seconds, and the rows its
bin edges came from; then the load average.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)

    from snowml_desktop.core import drift
    from snowml_desktop.core.records import Feature
    from snowml_desktop.core.tasks import TaskContext
    from snowml_desktop.engines.local.engine import LocalEngine

    sampled_rows = drift.PROFILE_SAMPLE_ROWS
    variants = {"exact": args.rows + 1, "sampled": sampled_rows}  # the threshold each variant profiles under
    with tempfile.TemporaryDirectory() as folder:
        engine = LocalEngine(Path(folder) / "workspace")
        try:
            engine.create_demo_table("BIG", args.rows, seed=2)
            features = [
                Feature(c.name, "numeric" if c.kind == "numeric" else "categorical", c.sql_type)
                for c in engine.table_columns("BIG")
                if c.name not in ("CHURNED", "CUSTOMER_ID")
            ]
            outcome = SimpleNamespace(features=features, classes=[0, 1], confusion_matrix=[[1, 0], [0, 1]])
            print(f"rows {args.rows:,}, memory limit {engine.workspace.memory_limit / 2**20:,.0f} MiB")
            for repeat in range(args.repeats):
                for name, threshold in variants.items():
                    drift.PROFILE_SAMPLE_ROWS = threshold
                    started = time.perf_counter()
                    profile = engine.models._drift_profile("BIG", outcome, TaskContext())
                    seconds = time.perf_counter() - started
                    made = "profile" if profile else "NO profile"
                    edges_from = profile.get("sample_rows", args.rows) if profile else 0
                    print(f"repeat {repeat + 1} {name}: {made} in {seconds:.1f} s, edges from {edges_from:,} rows")
        finally:
            drift.PROFILE_SAMPLE_ROWS = sampled_rows
            engine.close()
    print("load average:", Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else "-")
    return 0


if __name__ == "__main__":
    sys.exit(main())

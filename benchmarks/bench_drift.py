"""What drift costs a scoring run on the local engine: the drift pass (bin counts, prediction shares and the
training-row overlap, as every run computes it) timed against the whole run on the same table.

Run:  python benchmarks/bench_drift.py --rows 1000000 [--repeats 3]
Prints the medians of the repeats (and every repeat) and the drift pass as a share of the run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    from snowml_desktop.engines.base import ScoreRequest, TrainRequest
    from snowml_desktop.engines.local.engine import LocalEngine

    with tempfile.TemporaryDirectory() as folder:
        engine = LocalEngine(Path(folder) / "workspace")
        try:
            engine.create_demo_table("TRAIN", 20_000, seed=1)
            engine.create_demo_table("BIG", args.rows, seed=2)
            model = engine.train(
                TrainRequest(
                    "TRAIN", "CHURNED", method="random_forest", params={"n_estimators": 20, "max_depth": 5}
                )
            )
            runs, passes = [], []
            for _ in range(args.repeats):
                run = engine.score(ScoreRequest(model.name, "BIG", "BIG_SCORED", "Small", True))
                started = time.perf_counter()
                engine.check_drift(model.name, "BIG_SCORED")
                passes.append(time.perf_counter() - started)
                runs.append(run.total_seconds)
        finally:
            engine.close()
    run, drift = statistics.median(runs), statistics.median(passes)
    print(f"rows {args.rows:,}: run {run:.2f} s (repeats {', '.join(f'{r:.2f}' for r in runs)})")
    print(
        f"drift pass {drift:.2f} s (repeats {', '.join(f'{p:.2f}' for p in passes)}) = {drift / run:.1%} of the run"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

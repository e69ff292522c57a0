"""Benchmark of the per-model scoring UDF body (issue 4): typed feature columns vs one JSON object per row.

Both bodies score the same model on the same rows in the same batches, as a vectorized UDF would:
  ours  the production handler (``engines.snowflake.udf.make_vectorized_handler``): a batch is a pandas
        DataFrame of positional, typed feature columns (one UDF argument per feature), renamed to the
        feature names and scored.
  demo  the original demo's approach: a batch is a Series holding one object per row (``OBJECT_CONSTRUCT(*)``,
        already parsed into dicts: the cheapest form it can take), rebuilt into a DataFrame with
        ``pandas.json_normalize`` and then scored by the same core code.
Both return the same ``{"PREDICTION", "PROBABILITY"}`` objects. Building the input batches is not timed
(Snowflake does that outside the body). The model: Random Forest, 20 trees, depth 5, on scikit-learn's
breast cancer data (30 numeric features); rows are the data set's rows repeated.

Goal: ours >= 5x the demo's rows/s at the same batch size. The batch-size sweep of our body is what
``udf.DEFAULT_MAX_BATCH_SIZE`` was chosen from.

Run:  python benchmarks/bench_udf.py [--rows 1000000] [--repeats 3] [--batch-sizes 1024,8192,65536]
Prints rows/s (median of the repeats, and every repeat) and the ratios, by wall-clock time and by the
process's CPU time. The body runs on one thread, so CPU time is what it costs even on a shared, busy machine;
the two bodies' repeats alternate so that both see the same background load.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

GOAL = 5.0
SWEEP = (1024, 2048, 4096, 8192, 16384, 32768, 65536)


def _model() -> tuple[Any, list, Any]:
    """(fitted pipeline, features, the data set's feature frame)."""
    from sklearn.datasets import load_breast_cancer

    from snowml_desktop.core.training import TrainSpec, train_model

    frame = load_breast_cancer(as_frame=True).frame
    spec = TrainSpec(
        target="target", method="random_forest", params={"n_estimators": 20, "max_depth": 5}, seed=0
    )
    outcome = train_model(frame, spec)
    return outcome.pipeline, outcome.features, frame.drop(columns=["target"])


def _rows(features_frame: Any, rows: int) -> Any:
    import numpy as np

    repeats = -(-rows // len(features_frame))
    return features_frame.iloc[np.tile(np.arange(len(features_frame)), repeats)[:rows]].reset_index(drop=True)


def _typed_batches(data: Any, batch: int) -> list[Any]:
    """Batches as Snowflake passes typed arguments: positional columns 0..n-1 (index continues)."""
    positional = data.set_axis(range(data.shape[1]), axis=1)
    return [positional.iloc[start : start + batch] for start in range(0, len(positional), batch)]


def _json_batches(data: Any, batch: int) -> list[Any]:
    """Batches as the demo's UDF received them: one object per row, in a one-column frame."""
    import pandas as pd

    records = data.to_dict("records")
    return [
        pd.DataFrame({0: pd.Series(records[start : start + batch], dtype=object)})
        for start in range(0, len(records), batch)
    ]


def _demo_handler(pipeline: Any, features: list) -> Callable[[Any], Any]:
    import pandas as pd

    from snowml_desktop.core.scoring import predict

    def handler(batch: Any) -> Any:
        frame = pd.json_normalize(batch[0].tolist())
        labels, probabilities = predict(pipeline, frame, features)
        objects = [
            {"PREDICTION": label, "PROBABILITY": probability}
            for label, probability in zip(labels.tolist(), probabilities.tolist(), strict=True)
        ]
        return pd.Series(objects, index=batch.index, dtype=object)

    return handler


def _pass(handler: Callable[[Any], Any], batches: list[Any], rows: int) -> tuple[float, float]:
    """One pass through every batch: (rows per wall-clock second, rows per CPU second)."""
    wall, cpu = time.perf_counter(), time.process_time()
    for batch in batches:
        handler(batch)
    return rows / (time.perf_counter() - wall), rows / (time.process_time() - cpu)


def _rates(passes: list[tuple[float, float]]) -> tuple[float, float, list[float]]:
    """(median wall rows/s, median CPU rows/s, every pass's wall rows/s)."""
    walls = [w for w, _ in passes]
    return statistics.median(walls), statistics.median(c for _, c in passes), walls


def _fmt(rates: list[float]) -> str:
    return ", ".join(f"{r:,.0f}" for r in rates)


def main(argv: list[str] | None = None) -> int:
    from threadpoolctl import threadpool_limits

    from snowml_desktop.engines.snowflake.udf import DEFAULT_MAX_BATCH_SIZE, make_vectorized_handler

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--batch-sizes",
        default="1024,8192",
        help="batch sizes at which both bodies are compared (our chosen size is always included)",
    )
    parser.add_argument("--no-sweep", action="store_true", help="skip the batch-size sweep of our body")
    args = parser.parse_args(argv)
    compare = sorted({int(b) for b in args.batch_sizes.split(",")} | {DEFAULT_MAX_BATCH_SIZE})

    threadpool_limits(1)  # one UDF process works on one core; keep the comparison about the body
    pipeline, features, base = _model()
    data = _rows(base, args.rows)
    ours = make_vectorized_handler(pipeline, features)
    demo = _demo_handler(pipeline, features)
    print(
        f"UDF body, {args.rows:,} rows, 30 numeric features, Random Forest 20 trees depth 5, "
        f"median of {args.repeats}"
    )
    print(f"chosen max_batch_size: {DEFAULT_MAX_BATCH_SIZE}")
    for batch in compare:
        typed, json_batches = _typed_batches(data, batch), _json_batches(data, batch)
        ours_passes, demo_passes = [], []
        for _ in range(args.repeats):  # alternate, so both bodies run under the same background load
            ours_passes.append(_pass(ours, typed, args.rows))
            demo_passes.append(_pass(demo, json_batches, args.rows))
        del json_batches
        ours_wall, ours_cpu, ours_all = _rates(ours_passes)
        demo_wall, demo_cpu, demo_all = _rates(demo_passes)
        ratio = ours_cpu / demo_cpu
        verdict = "meets" if ratio >= GOAL else "misses"
        print(
            f"batch {batch:>6}: ours {ours_wall:>12,.0f} rows/s wall [{_fmt(ours_all)}], {ours_cpu:,.0f} rows/cpu-s"
        )
        print(
            f"              demo {demo_wall:>12,.0f} rows/s wall [{_fmt(demo_all)}], {demo_cpu:,.0f} rows/cpu-s"
        )
        print(
            f"              ratio {ratio:.1f}x by CPU time, {ours_wall / demo_wall:.1f}x by wall time "
            f"({verdict} the {GOAL:.0f}x goal)"
        )
    if not args.no_sweep:
        print("batch-size sweep of our body:")
        for batch in SWEEP:
            typed = _typed_batches(data, batch)
            wall, cpu, walls = _rates([_pass(ours, typed, args.rows) for _ in range(args.repeats)])
            print(f"  batch {batch:>6}: {wall:>12,.0f} rows/s wall [{_fmt(walls)}], {cpu:,.0f} rows/cpu-s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

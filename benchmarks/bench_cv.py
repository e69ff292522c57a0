"""Cross-validation at scale on the local engine: a random forest trained with 5-fold CV, and methods compared on
the same 5 folds, on a generated churn table (12 feature columns), against the 120 s target of issue 12.

Run:  python benchmarks/bench_cv.py [--rows 1000000] [--repeats 3] [--methods random_forest[,logistic_regression,...]]
      [--variant "max_samples=0" --variant ""]  (random-forest parameter sets, run interleaved A, B, A, B ...)
      [--fits processes --fits threads]  (where the fits run at once: the engine's fit processes, or threads
      in the fit worker as before; interleaved like the variants)
Prints, per variant, the median wall and CPU seconds of (a) ``LocalEngine.train`` with ``cv_folds=5`` and (b)
``LocalEngine.compare`` with ``cv_folds=5``, their ratio to the target, the peak RSS of the owning process plus
its worker processes during the call, and the load average before and after each call.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

TARGET_SECONDS = 120.0
FOLDS = 5


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        parent = queue.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children") as children:
                    kids = [int(k) for k in children.read().split()]
            except OSError:
                continue
            found.extend(kids)
            queue.extend(kids)
    return found


class PeakRss:
    """The largest sum of resident memory of this process and its descendants, sampled every 0.2 s (Linux);
    elsewhere the peak of this process alone (``getrusage``)."""

    def __init__(self) -> None:
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            pids = [os.getpid(), *_descendants(os.getpid())]
            self.peak_kib = max(self.peak_kib, sum(_rss_kib(p) for p in pids))

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        if not Path("/proc/self/status").exists():
            self.peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def _params(text: str) -> dict[str, str]:
    pairs = [item.split("=", 1) for item in text.split(",") if item.strip()]
    return {name.strip(): value.strip() for name, value in pairs}


def _cpu_seconds() -> float:
    """CPU time of this process and of its ended child processes (the fit worker is joined after each call)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class Timeline:
    """The progress texts of a call with the second each first appeared: where the time goes."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.steps: list[tuple[float, str]] = []

    def __call__(self, fraction: float, text: str) -> None:
        stage = text.split(":")[0]
        if not self.steps or self.steps[-1][1] != stage:
            self.steps.append((time.perf_counter() - self.started, stage))

    def __str__(self) -> str:
        return "; ".join(f"{seconds:.0f} s {stage}" for seconds, stage in self.steps)


def _timed(call: object) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds, peak RSS GiB, load averages before -> after) of ``call(task)``."""
    from snowml_desktop.core.tasks import TaskContext

    before = _loadavg()
    timeline = Timeline()
    with PeakRss() as peak:
        cpu = _cpu_seconds()
        started = time.perf_counter()
        call(TaskContext(progress=timeline))  # type: ignore[operator]
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu
    print(f"    progress: {timeline}", flush=True)
    return seconds, cpu, peak.peak_kib / 1024**2, f"{before} -> {_loadavg()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--methods", default="random_forest", help="compared methods, comma-separated")
    parser.add_argument(
        "--variant",
        action="append",
        help='random-forest parameters, e.g. "n_estimators=100,max_samples=0"; repeat to interleave variants '
        "(default: the product's defaults)",
    )
    parser.add_argument(
        "--fits",
        action="append",
        choices=("processes", "threads"),
        help="run the folds in fit processes (the product) or on threads of the fit worker (the former design)",
    )
    parser.add_argument("--skip-train", action="store_true")
    parser.add_argument("--skip-compare", action="store_true")
    args = parser.parse_args(argv)
    variants = [(v, fits) for v in args.variant or [""] for fits in args.fits or ["processes"]]
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]

    from snowml_desktop.engines.base import CompareRequest, TrainRequest
    from snowml_desktop.engines.local import workers
    from snowml_desktop.engines.local.engine import LocalEngine

    fit_processes = workers.fit_processes

    print(f"cpus {os.cpu_count()}, rows {args.rows:,}, folds {FOLDS}, load average {_loadavg()}", flush=True)
    figures: dict[tuple[str, str], list[tuple[float, float, float, str]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        engine = LocalEngine(Path(folder) / "workspace")
        try:
            engine.create_demo_table("CHURN_BIG", args.rows, seed=2)
            for repeat in range(args.repeats):
                for variant, fits in variants:
                    params = _params(variant)
                    # The engine passes workers.fit_processes on each call; None makes the fits threads.
                    workers.fit_processes = fit_processes if fits == "processes" else None
                    variant = f"{variant or 'defaults'}, {fits}"
                    runs = []
                    if not args.skip_train:
                        request = TrainRequest(
                            "CHURN_BIG", "CHURNED", method="random_forest", params=params, cv_folds=FOLDS
                        )
                        runs.append(("train", lambda task, r=request: engine.train(r, task=task)))
                    if not args.skip_compare:
                        compare = CompareRequest(
                            "CHURN_BIG",
                            "CHURNED",
                            methods=methods,
                            params={"random_forest": params},
                            cv_folds=FOLDS,
                        )
                        runs.append(("compare", lambda task, r=compare: engine.compare(r, task=task)))
                    for what, call in runs:
                        figure = _timed(call)
                        figures.setdefault((variant, what), []).append(figure)
                        print(
                            f"repeat {repeat + 1} [{variant}] {what}: {figure[0]:.1f} s "
                            f"(CPU {figure[1]:.1f} s), peak RSS {figure[2]:.2f} GiB, load {figure[3]}",
                            flush=True,
                        )
        finally:
            engine.close()
    print(f"\nmedians of {args.repeats} repeat(s), target {TARGET_SECONDS:.0f} s:")
    for (variant, what), runs in figures.items():
        seconds, cpu = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
        label = "train RF, 5-fold CV" if what == "train" else f"compare {','.join(methods)}, 5 folds"
        print(
            f"  [{variant}] {label}: {seconds:.1f} s = {seconds / TARGET_SECONDS:.2f} x target "
            f"(CPU {cpu:.1f} s = {cpu / os.cpu_count() / TARGET_SECONDS:.2f} x target if spread over every core), "
            f"peak RSS {max(r[2] for r in runs):.2f} GiB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Several fits at once on threads (cross-validation folds, methods x folds of a comparison).

scikit-learn's heavy loops (tree building, BLAS, the solvers) release the GIL, so threads share one copy of
the rows and of the process's imports where worker processes would need their own. The parallelism comes from
the fits themselves, so each runs on few threads: the caller limits BLAS (a process-wide setting) with
``threadpool_limits``, and every job limits OpenMP on its own thread, as OpenMP's thread count is a per-thread
setting that a pool thread does not inherit (gradient boosting would otherwise use every core in every fit).

Warnings filters are process-wide and ``warnings.catch_warnings`` is not thread-safe, so the fits never touch
them: :func:`convergence_warnings` is entered once around all of them and tells which fit warned.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from snowml_desktop.core.tasks import TaskContext

_POLL_SECONDS = 0.2
_current = threading.local()  # the name of the fit running on this thread, for convergence_warnings


def name_this_fit(name: Any) -> None:
    """Called first by a fit job: the name :func:`convergence_warnings` reports for its warnings."""
    _current.name = name


@contextlib.contextmanager
def convergence_warnings() -> Iterator[set[Any]]:
    """Silence warnings while the fits run, and collect the names (:func:`name_this_fit`) of the fits that
    warned of a solver that stopped before converging."""
    from sklearn.exceptions import ConvergenceWarning

    warned: set[Any] = set()

    def show(message: Any, category: type, *args: Any, **kwargs: Any) -> None:
        warned.add(getattr(_current, "name", None))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("always", ConvergenceWarning)
        warnings.showwarning = show
        yield warned


def run_concurrently(
    jobs: Sequence[Callable[[], Any]], workers: int, task: TaskContext, *, threads_per_job: int = 1
) -> Iterator[tuple[int, Future]]:
    """Run ``jobs`` on up to ``workers`` threads, in order, each with OpenMP limited to ``threads_per_job``;
    yield (job index, its finished future) as each ends. The task's cancel token is checked at least every
    0.2 s: a cancel (Cancelled), or the caller leaving the loop, drops the jobs not yet started and waits for
    the running ones."""
    if not jobs:
        return
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs)))) as pool:
        pending = {pool.submit(_limited, job, threads_per_job): i for i, job in enumerate(jobs)}
        try:
            while pending:
                task.check()
                done, _ = wait(pending, timeout=_POLL_SECONDS, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=pending.__getitem__):
                    yield pending.pop(future), future
        finally:
            for future in pending:
                future.cancel()


def _limited(job: Callable[[], Any], threads: int) -> Any:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads, user_api="openmp"):
        return job()

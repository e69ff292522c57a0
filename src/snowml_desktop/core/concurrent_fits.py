"""Several fits at once (cross-validation folds, methods x folds of a comparison), on threads or in processes.

Each job is called with the run's shared data (the prepared rows); when the fits run in processes a job must be
picklable (a module-level function, or a ``functools.partial`` of one) and the shared data is written once to
a scratch file that every process reads when it starts. Processes fit truly side by side: scikit-learn holds
the GIL for a large share of a fit (the one-hot encoder counts categories in Python, object labels are sorted,
held-out rows predicted), so threads in one process mostly took turns (measured in docs/benchmarks.md,
"Cross-validation at scale"). Threads remain for callers that start no processes.

The parallelism comes from the fits themselves, so each runs on few threads: the caller limits BLAS (a
process-wide setting) with ``threadpool_limits``, and every job limits OpenMP on its own thread, as OpenMP's
thread count is a per-thread setting that a pool thread does not inherit (gradient boosting would otherwise
use every core in every fit).

Warnings filters are process-wide and ``warnings.catch_warnings`` is not thread-safe, so the fits never touch
them: :func:`convergence_warnings` is entered once around all of them and tells which fit warned (a fit in a
process collects its own and they are added to the caller's).
"""

from __future__ import annotations

import contextlib
import logging
import pickle
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Executor, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from snowml_desktop.core.errors import ResourceExhausted
from snowml_desktop.core.tasks import TaskContext

log = logging.getLogger(__name__)

#: A fit: called with the run's shared data.
Job = Callable[[Any], Any]
#: Starts the worker processes of a run: (processes, initializer, initargs) -> an Executor whose processes call
#: ``initializer(*initargs)`` first. The engine provides it (processes that die with their owner).
ProcessPool = Callable[[int, Callable[..., None], tuple], Executor]

_POLL_SECONDS = 0.2
_current = threading.local()  # the name of the fit running on this thread, for convergence_warnings
_collecting: list[set[Any]] = []  # the sets of the convergence_warnings blocks open in this process
_shared: Any = None  # in a fit process: the run's shared data


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
        _collecting.append(warned)
        try:
            yield warned
        finally:
            _collecting.remove(warned)


def run_concurrently(
    jobs: Sequence[Job],
    shared: Any,
    workers: int,
    task: TaskContext,
    *,
    threads_per_job: int = 1,
    processes: ProcessPool | None = None,
    names: Sequence[str] = (),
) -> Iterator[tuple[int, Future]]:
    """Run ``jobs`` (each called with ``shared``) on up to ``workers`` threads, or processes started by
    ``processes``, in order, each with OpenMP limited to ``threads_per_job``; yield (job index, its finished
    future) as each ends. The task's cancel token is checked at least every 0.2 s: a cancel (Cancelled), or the
    caller leaving the loop, drops the jobs not yet started; threads still running are waited for, processes
    are left to end on their own.

    A fit process that dies (killed, most often by the system for lack of memory) fails the future of every
    job not yet done with ResourceExhausted, which says which fits were running (``names``: each job's, e.g.
    "Random Forest fold 2 of 5") and what to change."""
    if not jobs:
        return
    workers = max(1, min(workers, len(jobs)))
    with contextlib.ExitStack() as stack:
        if processes is None:
            pool: Executor = ThreadPoolExecutor(max_workers=workers)
            pending = {pool.submit(_limited, job, shared, threads_per_job): i for i, job in enumerate(jobs)}
        else:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="snowml-fits-")))
            data = folder / "shared.pickle"
            data.write_bytes(pickle.dumps(shared, protocol=pickle.HIGHEST_PROTOCOL))
            pool = processes(workers, _load_shared, (str(data),))
            try:  # the pool starts its processes as jobs are submitted: one may die before the last submit
                pending = {pool.submit(_in_process, job, threads_per_job): i for i, job in enumerate(jobs)}
            except (BrokenExecutor, OSError) as exc:
                pool.shutdown(wait=False, cancel_futures=True)
                if not isinstance(exc, BrokenExecutor) and not _broken(pool):
                    raise
                raise _process_died(exc, list(names[:workers])) from exc
        finished = False
        try:
            while pending:
                task.check()
                done, _ = wait(pending, timeout=_POLL_SECONDS, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=pending.__getitem__):
                    index = pending.pop(future)
                    if processes is None:
                        yield index, future
                        continue
                    # Jobs start in order, so the running ones are the first unfinished ones.
                    running = sorted([index, *pending.values()])[:workers]
                    yield index, _with_warnings(future, [names[i] for i in running if i < len(names)])
            finished = True
        finally:
            pool.shutdown(wait=finished or processes is None, cancel_futures=True)


def _limited(job: Job, shared: Any, threads: int) -> Any:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads, user_api="openmp"):
        return job(shared)


def _load_shared(path: str) -> None:
    """Fit-process initializer: one thread of BLAS per process, and the run's shared data."""
    global _shared
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)
    _shared = pickle.loads(Path(path).read_bytes())


def _in_process(job: Job, threads: int) -> tuple[Any, set[Any]]:
    """A job in a fit process: its result and the names of the fits that warned of convergence."""
    with convergence_warnings() as warned:
        return _limited(job, _shared, threads), warned


def _with_warnings(future: Future, running: list[str]) -> Future:
    """The job's own future (result or exception) from a process's (result, warned) one; the warnings go to
    the caller's open :func:`convergence_warnings` blocks. A dead fit process becomes :func:`_process_died`."""
    unpacked: Future = Future()
    error = future.exception()
    if isinstance(error, BrokenExecutor):
        unpacked.set_exception(_process_died(error, running))
        return unpacked
    if error is not None:
        unpacked.set_exception(error)
        return unpacked
    result, warned = future.result()
    for names in _collecting:
        names.update(warned)
    unpacked.set_result(result)
    return unpacked


def _broken(pool: Executor) -> bool:
    """Whether ``pool`` knows one of its processes died. A submit that races with the pool's own clean-up
    after a death can fail on the pipes that clean-up closes (OSError "handle is closed") instead of with
    BrokenProcessPool; ProcessPoolExecutor marks itself broken before closing them (CPython's
    ``_ExecutorManagerThread.terminate_broken``), and has no public way to ask."""
    return bool(getattr(pool, "_broken", False))


def _process_died(error: BaseException, running: list[str]) -> ResourceExhausted:
    """What to tell the user when a fit process ended abruptly (the executor knows only that it did)."""
    log.warning("A fit process ended abruptly while fitting %s", ", ".join(running) or "?", exc_info=error)
    where = f" while fitting {' or '.join(running)}" if running else ""
    return ResourceExhausted(
        f"A fitting process ended unexpectedly{where}; most likely the machine ran out of memory.",
        hint="Use fewer cross-validation folds, fewer rows (a table sample) or a smaller max_samples for tree "
        "ensembles, or run on a machine with more memory. Details are in the log.",
    )

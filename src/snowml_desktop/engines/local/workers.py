"""Worker-process code of the local engine: fitting and batch scoring outside the calling process's GIL.

Workers are started with the "spawn" method (the parent may be a Qt process with threads, where fork is
unsafe) and never open the DuckDB file: DuckDB allows one writing process per file, so the parent reads the
data and writes results back itself. The training rows go to the worker as an Arrow IPC file that the parent
streams from DuckDB (both sides of that run in C++ without the GIL, and the start-up message stays small:
a large one written into the spawn pipe would block the parent for good if the child died first). Scoring
batches travel as Arrow IPC files that the workers memory-map (no pickling, no copy); scoring workers write
their predictions to Parquet part files that the parent then joins to the input in one SQL statement.

The parent-side helpers (:func:`run_training`, :class:`ScoringPool`) honour the task's cancel token by
terminating the processes, so a cancel takes effect at once even in the middle of a fit.

Workers die with their owner, however it ends (kill -9 included): each watches a "lifeline" pipe whose only
write end the owner holds, and exits when it reads end-of-file (every OS); on Linux the kernel also sends
SIGKILL when the owner goes (PR_SET_PDEATHSIG). That signal follows the *thread* that started the process,
so workers are started from one thread that lives as long as the owner, never from a short-lived job thread.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import logging
import multiprocessing
import multiprocessing.context
import os
import signal
import sys
import threading
import traceback
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from snowml_desktop.core.errors import Cancelled, EngineError, ResourceExhausted

if TYPE_CHECKING:
    import pyarrow as pa

    from snowml_desktop.core.compare import CompareSpec, Comparison
    from snowml_desktop.core.records import Feature
    from snowml_desktop.core.tasks import TaskContext
    from snowml_desktop.core.training import TrainOutcome, TrainSpec

log = logging.getLogger(__name__)

POLL_SECONDS = 0.1
_MODEL_CACHE_SIZE = 2  # models kept loaded per scoring worker (a warm pool may serve a few in turn)


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_launcher: ThreadPoolExecutor | None = None
_lifeline: tuple[Any, Any] | None = None  # (read end, write end), for the life of the owning process
_owner_lock = threading.Lock()


def _owner_ties() -> tuple[Any, ThreadPoolExecutor]:
    """The lifeline's read end (for workers) and the thread that starts them, made on first use."""
    global _launcher, _lifeline
    with _owner_lock:
        if _lifeline is None:
            _lifeline = multiprocessing.get_context("spawn").Pipe(duplex=False)
        if _launcher is None:
            _launcher = ThreadPoolExecutor(1, thread_name_prefix="snowml-worker-launcher")
        return _lifeline[0], _launcher


class _OwnedProcess(multiprocessing.context.SpawnProcess):
    """A spawned process started from the launcher thread (see the module docstring)."""

    def start(self) -> None:
        _, launcher = _owner_ties()
        launcher.submit(super().start).result()


class _OwnedContext(multiprocessing.context.SpawnContext):
    Process = _OwnedProcess


def _context() -> _OwnedContext:
    return _OwnedContext()


def _owner() -> tuple[int, Any]:
    """What a worker needs to follow its owner: the owner's pid and the lifeline's read end."""
    lifeline, _ = _owner_ties()
    return os.getpid(), lifeline


def _die_with_owner(owner_pid: int, lifeline: Any) -> None:
    """Worker side, first thing: end this process as soon as its owner ends."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            log.debug("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
    if os.getppid() != owner_pid:  # the owner died before the signal was armed
        os._exit(1)
    threading.Thread(target=_watch_lifeline, args=(lifeline,), name="snowml-owner-watch", daemon=True).start()


def _watch_lifeline(lifeline: Any) -> None:
    with contextlib.suppress(EOFError, OSError):
        lifeline.recv()  # nothing is ever sent: this returns only when the owner's write end closes
    os._exit(1)


# --- training --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainPayload:
    """What the training worker receives: where the training rows are and everything needed to build the
    artifact."""

    rows_file: str  # an Arrow IPC file (see :func:`write_rows`); the worker only reads it
    spec: TrainSpec
    metadata: dict[str, Any]  # artifact metadata known before the fit (model name, target type ...)


@dataclass(frozen=True)
class TrainResult:
    artifact: bytes
    outcome: (
        TrainOutcome  # with ``pipeline`` set to None: the fitted pipeline travels only inside ``artifact``
    )
    library_versions: dict[str, str]  # read in the worker, which has the libraries loaded anyway


def write_rows(reader: pa.RecordBatchReader, path: Path) -> None:
    """Stream ``reader`` into the Arrow IPC file ``path`` batch by batch (bounded memory in the parent)."""
    import pyarrow as pa

    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, reader.schema) as writer:
        for batch in reader:
            writer.write_batch(batch)


@dataclass(frozen=True)
class ComparePayload:
    """What the comparison worker receives: the rows (as for training) and the comparison to run."""

    rows_file: str
    spec: CompareSpec


def _read_rows(rows_file: str) -> Any:
    import pyarrow as pa

    with pa.memory_map(rows_file) as source:
        return pa.ipc.open_file(source).read_all().to_pandas()


def _progress_to(conn: Any) -> TaskContext:
    from snowml_desktop.core.tasks import TaskContext

    return TaskContext(progress=lambda fraction, text: conn.send(("progress", fraction, text)))


def _train(conn: Any, payload: TrainPayload) -> TrainResult:
    from snowml_desktop.core.artifacts import artifact_bytes, library_versions
    from snowml_desktop.core.training import train_model

    outcome = train_model(_read_rows(payload.rows_file), payload.spec, _progress_to(conn))
    metadata = dict(payload.metadata)
    metadata.update(
        method=outcome.method,
        params=outcome.params,
        features=[dataclasses.asdict(f) for f in outcome.features],
        classes=list(outcome.classes),
    )
    data = artifact_bytes(outcome.pipeline, metadata)
    return TrainResult(data, dataclasses.replace(outcome, pipeline=None), library_versions())


def _compare(conn: Any, payload: ComparePayload) -> Comparison:
    from snowml_desktop.core.compare import compare_methods

    return compare_methods(_read_rows(payload.rows_file), payload.spec, _progress_to(conn))


def _fit_main(
    conn: Any, work: Callable[[Any, Any], Any], payload: Any, owner_pid: int, lifeline: Any
) -> None:
    """Child process entry: run ``work``, send ("done", result) or ("error", class, message, hint)."""
    _die_with_owner(owner_pid, lifeline)
    try:
        conn.send(("done", work(conn, payload)))
    except EngineError as exc:
        conn.send(("error", type(exc), exc.message, exc.hint))
    except BaseException:  # anything else is a bug; the parent logs the traceback
        conn.send(("crash", traceback.format_exc()))
    finally:
        conn.close()


def fit_processes(workers: int, initializer: Callable[..., None], initargs: tuple) -> ProcessPoolExecutor:
    """The processes a training or comparison worker fits its folds in (``TrainSpec.cv_processes``): spawned
    like every worker, they die with the process that started them (and so with a cancelled fit worker)."""
    return ProcessPoolExecutor(
        workers,
        mp_context=_context(),
        initializer=_init_fit_process,
        initargs=(*_owner(), initializer, initargs),
    )


def _init_fit_process(
    owner_pid: int, lifeline: Any, initializer: Callable[..., None], initargs: tuple
) -> None:
    _die_with_owner(owner_pid, lifeline)
    initializer(*initargs)


def run_training(payload: TrainPayload, task: TaskContext, processes: set[Any] | None = None) -> TrainResult:
    """Fit in a fresh worker process, relaying its progress to ``task``. While it runs, the process is a
    member of ``processes`` (so that the owner can terminate it when closing).

    Raises the worker's EngineError (InvalidInput for an unusable target ...), Cancelled (the process is
    terminated at once), or EngineError when the worker dies or fails unexpectedly.
    """
    return _run_fit_worker(_train, payload, task, processes, "training")


def run_comparison(
    payload: ComparePayload, task: TaskContext, processes: set[Any] | None = None
) -> Comparison:
    """Compare methods in a fresh worker process; otherwise as :func:`run_training`."""
    return _run_fit_worker(_compare, payload, task, processes, "comparison")


def _run_fit_worker(
    work: Callable[[Any, Any], Any], payload: Any, task: TaskContext, processes: set[Any] | None, what: str
) -> Any:
    ctx = _context()
    receiver, sender = ctx.Pipe(duplex=False)
    # Not a daemon: the fit may itself start helper processes (joblib), which daemons may not.
    process = ctx.Process(target=_fit_main, args=(sender, work, payload, *_owner()), name=f"snowml-{what}")
    process.start()
    sender.close()
    unregister = task.token.on_cancel(process.terminate)
    running = processes if processes is not None else set()
    running.add(process)
    try:
        return _receive(receiver, process, task, what)
    finally:
        running.discard(process)
        unregister()
        if process.is_alive():
            process.terminate()
        process.join()
        receiver.close()


def _receive(receiver: Any, process: Any, task: TaskContext, what: str) -> Any:
    while True:
        task.check()
        try:
            ready = receiver.poll(POLL_SECONDS)
            message = receiver.recv() if ready else None
        except (EOFError, OSError):
            message = None
            ready = False
        if message is None:
            if task.token.cancelled:
                raise Cancelled()
            if not ready and not process.is_alive() and not receiver.poll():
                raise EngineError(
                    f"The {what} worker process stopped unexpectedly (exit code {process.exitcode}).",
                    hint="This can happen when the machine runs out of memory; try fewer rows or a simpler method.",
                )
            continue
        kind = message[0]
        if kind == "progress":
            task.report(message[1], message[2])
        elif kind == "done":
            return message[1]
        elif kind == "error":
            error_class, text, hint = message[1:]
            if issubclass(error_class, ResourceExhausted):  # the worker's own log goes to its stderr only
                log.warning("The %s worker ran short of resources: %s", what, text)
            raise error_class(text, hint=hint) if error_class is not Cancelled else Cancelled(text)
        else:
            log.error("The %s worker failed:\n%s", what, message[1])
            last = message[1].strip().splitlines()[-1] if message[1].strip() else "unknown error"
            raise EngineError(f"The {what} failed unexpectedly: {last}", hint="Details are in the log.")


# --- scoring ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScoreJob:
    """One batch of feature columns to score with the artifact at ``artifact_path``: the batch is the Arrow
    IPC file ``batch_path`` (memory-mapped by the worker: no copy, no pickling), the predictions go to
    ``part_path`` (written atomically) as PREDICTION and PREDICTION_PROBABILITY, one row per input row."""

    artifact_path: str
    sha256: str
    features: list[Feature]
    batch_path: str
    part_path: str
    threshold: float | None = None  # a binary model's decision threshold


_models: OrderedDict[str, Any] = OrderedDict()


def _init_scoring_worker(owner_pid: int, lifeline: Any) -> None:
    """One thread of math per worker process: parallelism comes from the processes themselves, and idle
    BLAS/OpenMP threads spinning beside a busy sibling worker would only burn CPU. The environment is set
    before numpy loads (libraries read it once), and the limit is applied again to whatever had loaded."""
    _die_with_owner(owner_pid, lifeline)
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = "1"
    from threadpoolctl import threadpool_limits

    import snowml_desktop.core.scoring  # noqa: F401  (load numpy, pandas, sklearn now, not on the first batch)

    threadpool_limits(1)


def _pipeline(artifact_path: str, sha256: str) -> Any:
    """The fitted pipeline, loaded (and integrity-checked) once per worker and artifact version."""
    if sha256 in _models:
        _models.move_to_end(sha256)
        return _models[sha256]
    from snowml_desktop.core.artifacts import load_artifact

    pipeline = load_artifact(Path(artifact_path), sha256).pipeline
    _models[sha256] = pipeline
    while len(_models) > _MODEL_CACHE_SIZE:
        _models.popitem(last=False)
    return pipeline


def load_model(artifact_path: str, sha256: str) -> None:
    """Worker entry run when a pool starts: load the model while the owner reads the first batches."""
    _pipeline(artifact_path, sha256)


def score_batch(job: ScoreJob) -> int:
    """Worker entry: predict one batch and write its Parquet part file. Returns the number of rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from snowml_desktop.engines.local.batch_predict import predict_batch

    pipeline = _pipeline(job.artifact_path, job.sha256)
    with pa.memory_map(job.batch_path) as source:
        batch = _one_batch(pa.ipc.open_file(source))
        rows = batch.num_rows
        labels, probabilities = predict_batch(pipeline, batch, job.features, job.threshold)
        del batch  # the last reference into the mapping goes before it closes (Windows keeps mapped files)
    table = pa.table({"PREDICTION": pa.array(labels), "PREDICTION_PROBABILITY": pa.array(probabilities)})
    temporary = job.part_path + ".tmp"
    pq.write_table(table, temporary, compression="none", write_statistics=False)
    os.replace(temporary, job.part_path)
    return rows


def _one_batch(reader: pa.ipc.RecordBatchFileReader) -> pa.RecordBatch:
    """The file's rows as one record batch: zero-copy when the file holds one (the usual case), a copy
    when DuckDB handed the rows over in several chunks."""
    if reader.num_record_batches == 1:
        return reader.get_batch(0)
    return reader.read_all().combine_chunks().to_batches()[0]


class ScoringPool:
    """Spawned scoring processes kept warm between runs (``concurrent.futures.ProcessPoolExecutor``, which,
    unlike ``multiprocessing.Pool``, notices a worker that dies and fails its jobs instead of hanging).
    Thread-safe to terminate."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._lock = threading.Lock()
        self._executor = ProcessPoolExecutor(
            workers, mp_context=_context(), initializer=_init_scoring_worker, initargs=_owner()
        )
        self.broken = False

    def worker_pids(self) -> list[int]:
        """Process ids of the started workers."""
        # The executor has no public API for its processes (Python 3.14 adds terminate_workers).
        return [process.pid for process in list(self._executor._processes.values())]

    def start(self, artifact_path: str, sha256: str) -> None:
        """Have every worker running or starting now, each loading the model, so that a start-up overlaps
        the owner's reading of the first batches (the executor would otherwise start them one job at a
        time). On a warm pool this only loads the model ahead of the batches."""
        with self._lock:
            if self.broken:
                raise EngineError("The scoring workers were stopped (the engine is closing).")
            for _ in range(self.workers):
                self._executor.submit(load_model, artifact_path, sha256)

    def submit(self, job: ScoreJob) -> Future:
        """Queue a job; returns a Future of its row count. Raises EngineError once the pool is stopped."""
        with self._lock:
            if self.broken:
                raise EngineError("The scoring workers were stopped (the engine is closing).")
            return self._executor.submit(score_batch, job)

    def result(self, future: Future, timeout: float) -> int:
        """A job's row count; raises ``concurrent.futures.TimeoutError`` while it runs, EngineError when a
        worker died or the pool was stopped, or the job's own exception."""
        try:
            return int(future.result(timeout=timeout))
        except BrokenProcessPool as exc:
            self.terminate()
            raise EngineError(
                "A scoring worker process stopped unexpectedly.",
                hint="This can happen when the machine runs out of memory; try a smaller warehouse size.",
            ) from exc
        except CancelledError as exc:
            raise EngineError("The scoring workers were stopped (the engine is closing).") from exc

    def terminate(self) -> None:
        """Kill the workers at once (cancel, close); the pool cannot be used afterwards. Idempotent."""
        with self._lock:
            if self.broken:
                return
            self.broken = True
            processes = list(self._executor._processes.values())
        for process in processes:
            if process.is_alive():
                process.kill()
        self._executor.shutdown(wait=False, cancel_futures=True)

"""Running a calibration plan (``core.calibration``) on any engine, through its calibration hooks and its own
``score``: the samples are made in the warehouse, every run goes through the ordinary scoring path, and every
table made is dropped whatever happens."""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

from snowml_desktop.core.errors import EngineError
from snowml_desktop.core.identifiers import INTERNAL_PREFIX
from snowml_desktop.core.records import RUN_WARMUP
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.engines.base import ScoreRequest

if TYPE_CHECKING:
    from snowml_desktop.core.calibration import CalibrationPlan, CalibrationStep
    from snowml_desktop.core.recommend import Recommendation
    from snowml_desktop.engines.base import Engine

log = logging.getLogger(__name__)

_SAMPLING = 0.05  # share of the progress bar for making the samples


def run_calibration(
    engine: Engine, plan: CalibrationPlan, budget_seconds: float | None, task: TaskContext
) -> Recommendation:
    """See ``Engine.calibrate``."""
    task.check()
    large, small = engine._calibration_table(), engine._calibration_table()
    made: list[str] = []
    try:
        task.report(0.0, f"Sampling {plan.large_rows:,} rows of {plan.table} in the warehouse")
        made.append(large)
        engine._create_sample(plan.table, plan.large_rows, large, sampled=True)
        made.append(small)
        engine._create_sample(large, plan.small_rows, small, sampled=False)
        task.check()
        count = len(plan.steps)
        for number, step in enumerate(plan.steps):
            start = _SAMPLING + (1 - _SAMPLING) * number / count
            sub = _step_task(task, start, _SAMPLING + (1 - _SAMPLING) * (number + 1) / count, number, plan)
            sub.report(0.0, "")  # says which run starts, before a resize that may take a while
            _run_step(engine, plan, step, large if step.rows == plan.large_rows else small, sub)
    finally:
        for name in made:
            _drop_quietly(engine, name)
    task.report(1.0, "Calibrated")
    return engine.recommend_size(plan.model, plan.table, budget_seconds=budget_seconds)


def _step_task(
    task: TaskContext, start: float, end: float, number: int, plan: CalibrationPlan
) -> TaskContext:
    """The step's share of ``task``, its stage texts saying which run this is (and never a sample's name)."""
    step = plan.steps[number]
    label = f"Run {number + 1} of {len(plan.steps)}: {step.rows:,} rows at {step.size}"
    if step.kind == RUN_WARMUP:
        label += " (warm-up)"

    def progress(fraction: float, text: str) -> None:
        plain = not text or INTERNAL_PREFIX in text
        task.progress(start + (end - start) * fraction, label if plain else f"{label} — {text}")

    return TaskContext(task.token, progress)


def _run_step(
    engine: Engine, plan: CalibrationPlan, step: CalibrationStep, sample: str, task: TaskContext
) -> None:
    """Score ``sample`` at the step's size and mark the run (also a failed or cancelled one) as the step's
    kind on the plan's table; the scored output is dropped."""
    output = engine._calibration_table()
    request = ScoreRequest(model=plan.model, table=sample, output=output, size=step.size)
    try:
        engine._score_sample(request, task)
    finally:
        _drop_quietly(engine, output)
        # Each sample's runs are relabelled as soon as they are made, so the ones found now are this step's.
        try:
            for run in engine.list_runs(plan.model, sample):
                engine._mark_run(run.run_id, step.kind, plan.table)
        except EngineError as exc:
            log.warning("Could not mark the calibration runs on %s: %s", sample, exc)


def _drop_quietly(engine: Engine, name: str) -> None:
    """Drop a calibration table; after a lost connection it may fail, and the cancel or error is what the
    user must see. Locally what is left is swept at the next open; Snowflake's samples are temporary (gone with
    the session), a scored output left keeps its ``__SNOWML_CALIBRATION_`` name."""
    with contextlib.suppress(EngineError):
        engine._drop_calibration_table(name)

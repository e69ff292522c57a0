"""A short calibration of a model's scoring time, for the recommended size when its past runs are too few.

The time model of ``core.recommend`` has three unknowns: a fixed part, a per-row serial part and a per-row
parallel part (divided by the nodes). Runs at one size tell the fixed part from the per-row work only with
two row counts; the serial and parallel parts separate only with two node counts. So a calibration scores a
sample of the table three times: a small and a large sample at a first size, and the large sample again at a
second size with more nodes (three runs, three unknowns; the fit is the usual one over every past run).

- Snowflake: the first size is the warehouse's current one (no resize), the second the next size up (one
  resize, undone afterwards); every run is billed at least 60 s, so the cost is stated before it starts.
- Local: X-Small (one worker) and Small (two), as larger sizes may add no worker on this computer; a
  computer with one CPU has nothing to calibrate. A worker takes one batch at a time, so the large sample
  spans at least two batches (else Small would score it with one worker too), and a table of one batch has
  nothing to calibrate. Each size first scores a sample once as a warm-up (Small the large one, so that both
  its workers start): the first run at a worker count starts the workers and loads the model, which takes
  longer than scoring the sample itself. Warm-up runs are recorded (kind ``RUN_WARMUP``) and left out of the
  fit.

The samples are taken in the warehouse (the large one sampled from the table, the small one the first rows of
the large), scored by the engine's ordinary scoring path, and dropped with the scored output afterwards.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from snowml_desktop.core.errors import InvalidInput
from snowml_desktop.core.records import RUN_CALIBRATION, RUN_WARMUP
from snowml_desktop.core.sizes import SIZES, billed_credits, parse_size

#: Rows of the large sample: enough that per-row work outweighs noise, small enough to take seconds.
SAMPLE_ROWS = 50_000
#: The small sample is this fraction of the large one (a wide gap in row counts separates fixed from per-row).
SMALL_FRACTION = 5
#: A table smaller than this is scored in seconds at any size; timing a sample of it says nothing.
MIN_TABLE_ROWS = 100


@dataclass(frozen=True)
class CalibrationStep:
    """One scoring of a sample: at ``size``, of the sample of ``rows`` rows; ``kind`` is RUN_CALIBRATION,
    or RUN_WARMUP for a run that only starts the local workers."""

    size: str
    rows: int
    kind: str = RUN_CALIBRATION


@dataclass(frozen=True)
class CalibrationPlan:
    """What a calibration will run and, on Snowflake, what it costs at least."""

    model: str
    table: str
    table_rows: int
    small_rows: int
    large_rows: int
    steps: tuple[CalibrationStep, ...]
    local: bool
    warehouse_type: str
    resizes: int  # warehouse size changes (each undone afterwards); 0 locally

    @property
    def min_credits(self) -> float:
        """Credits billed at least: each run counted as billed for 60 s (its size's minimum), as the
        credit formula everywhere counts a run."""
        return sum(billed_credits(0.0, step.size, self.warehouse_type).total for step in self.steps)

    def summary(self) -> str:
        """What will run, and its cost, in words (the CLI prints it; the app asks with it)."""
        runs = "; ".join(
            f"{step.rows:,} rows at {step.size}" + (" (warm-up)" if step.kind == RUN_WARMUP else "")
            for step in self.steps
        )
        text = (
            f"Calibrate {self.model} on samples of {self.table} ({self.table_rows:,} rows): "
            f"{len(self.steps)} scoring runs — {runs}. The samples and their scores are dropped afterwards."
        )
        if self.local:
            return text + " Nothing is billed on this computer."
        resize = ""
        if self.resizes:
            other = next(s.size for s in self.steps if s.size != self.steps[0].size)
            resize = (
                f" The warehouse is resized to {other} for the last run and back to {self.steps[0].size}."
            )
        return (
            text
            + f"{resize} Cost: at least ~{self.min_credits:.2g} credits (each run is billed at least 60 s "
            f"at its size; a run that lasts longer costs more)."
        )


def plan_calibration(
    model: str,
    table: str,
    table_rows: int,
    *,
    local: bool,
    current_size: str,
    warehouse_type: str = "STANDARD",
    cpu_count: int | None = None,
    rows_per_worker: int | None = None,
) -> CalibrationPlan:
    """The calibration of ``model`` on ``table`` (see the module docstring); ``rows_per_worker`` is the
    engine's (``Capabilities.rows_per_worker``). Raises InvalidInput when the table is too small to time, or
    locally on a computer with one CPU or a table of one batch (every size is then the same)."""
    if table_rows < MIN_TABLE_ROWS:
        raise InvalidInput(
            f"Table {table} has {table_rows:,} rows, too few to time a sample of: any size scores it in seconds.",
            hint="Score it at X-Small; the 60 s billed at least per resume is the whole cost at any size.",
        )
    large = min(table_rows, max(SAMPLE_ROWS, 2 * (rows_per_worker or 0)))
    small = max(1, large // SMALL_FRACTION)
    if local:
        cpus = cpu_count or os.cpu_count() or 1
        if cpus < 2:
            raise InvalidInput(
                "This computer has one CPU, so every size scores with one worker: there is nothing to "
                "calibrate, and X-Small is the size to use."
            )
        if rows_per_worker and table_rows <= rows_per_worker:
            raise InvalidInput(
                f"Table {table} has {table_rows:,} rows, one batch of {rows_per_worker:,}: one worker scores "
                "it at any size on this computer, so there is nothing to calibrate and X-Small is the size "
                "to use."
            )
        first, second = SIZES[0].label, SIZES[1].label
        steps = (
            CalibrationStep(first, small, RUN_WARMUP),
            CalibrationStep(first, small),
            CalibrationStep(first, large),
            CalibrationStep(second, large, RUN_WARMUP),
            CalibrationStep(second, large),
        )
        return CalibrationPlan(model, table, table_rows, small, large, steps, True, warehouse_type, 0)
    current = parse_size(current_size)
    # The next size up has twice the nodes; at the largest size, the one below has half.
    other = SIZES[current.index + 1] if current.index + 1 < len(SIZES) else SIZES[current.index - 1]
    steps = (
        CalibrationStep(current.label, small),
        CalibrationStep(current.label, large),
        CalibrationStep(other.label, large),
    )
    return CalibrationPlan(model, table, table_rows, small, large, steps, False, warehouse_type, 1)

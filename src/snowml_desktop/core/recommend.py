"""The recommended warehouse size for scoring: a time model fitted to a model's past runs, extrapolated to the
table to score, priced with the one billed-credits formula of ``core.sizes``.

Time model: ``seconds = fixed + rows x (serial + parallel / nodes)``, where nodes double with each size on
Snowflake (Snowflake's documented node counts: X-Small 1, Small 2, Medium 4 ...) and are the scoring workers
locally (``WarehouseSize.local_workers``: no more than the CPU count, so larger sizes give no speed-up; and no
more than the table's batches keep busy, so a small table gains nothing from a larger size). A local run's
recorded worker count is used for it where known. The three
non-negative coefficients are fitted by non-negative least squares; runs of a single row count (or only two runs) cannot tell a
fixed start-up cost from per-row work, so then the fixed part is taken as zero (a conservative, linear
extrapolation).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from snowml_desktop.core.errors import InvalidInput
from snowml_desktop.core.sizes import SIZES, BilledCredits, WarehouseSize, billed_credits, parse_size

# Going one size up doubles the credits per hour; it pays when the time (nearly) halves. Up to 10 % more credits
# for the doubled size still counts as "halving"; past that the curve has reached its knee.
HALVING_TOLERANCE = 1.10


@dataclass(frozen=True)
class TimingSample:
    """One successful past run: its size, how many rows it scored and how long it took in all."""

    size: str
    rows: int
    seconds: float
    nodes: int | None = None  # the workers the run really used, where it recorded them (local engine)


@dataclass(frozen=True)
class TimeModel:
    """Fitted coefficients, in seconds and seconds per row."""

    fixed: float
    serial_per_row: float
    parallel_per_row: float

    def seconds(self, rows: int, nodes: int) -> float:
        return self.fixed + rows * (self.serial_per_row + self.parallel_per_row / max(1, nodes))


@dataclass(frozen=True)
class SizeForecast:
    size: WarehouseSize
    nodes: int
    seconds: float
    credits: BilledCredits
    measured: (
        bool  # a past run at this size scored this many rows: ``seconds`` is its median, not a prediction
    )
    speeds_up: (
        bool  # False where this size has no more nodes than the one below (locally: beyond the CPU count)
    )


@dataclass(frozen=True)
class Recommendation:
    rows: int
    model: TimeModel
    forecasts: list[SizeForecast]
    recommended: SizeForecast
    summary: str  # the recommendation in words, for the panel and the CLI


def nodes_for(
    size: WarehouseSize,
    *,
    local: bool,
    cpu_count: int | None = None,
    rows: int | None = None,
    rows_per_worker: int | None = None,
) -> int:
    """Compute nodes (Snowflake) or scoring workers (local engine) at ``size``; with ``rows_per_worker``,
    no more than ``rows`` keep busy (a local worker takes one batch at a time)."""
    nodes = size.local_workers(cpu_count) if local else 2**size.index
    if rows_per_worker and rows is not None:
        nodes = min(nodes, max(1, math.ceil(rows / rows_per_worker)))
    return nodes


def fit_time_model(
    samples: Sequence[TimingSample], *, local: bool, cpu_count: int | None = None
) -> TimeModel:
    """Fit the time model to past runs. Raises InvalidInput unless the runs cover at least two node counts."""
    import numpy as np
    from scipy.optimize import nnls

    usable = [s for s in samples if s.rows > 0 and s.seconds > 0]
    nodes = [s.nodes or nodes_for(parse_size(s.size), local=local, cpu_count=cpu_count) for s in usable]
    if len(set(nodes)) < 2:
        raise InvalidInput(
            "A size can be recommended only from runs at two or more warehouse sizes"
            + (" with different worker counts." if local else "."),
            hint="Score this model at another size (a sample of the table is enough), then look again.",
        )
    rows = np.array([s.rows for s in usable], dtype=float)
    per_node = rows / np.array(nodes, dtype=float)
    seconds = np.array([s.seconds for s in usable], dtype=float)
    # A fixed part is identifiable only with two row counts and three distinct runs (three unknowns).
    with_fixed = len(set(rows.tolist())) > 1 and len(set(zip(rows.tolist(), nodes, strict=True))) >= 3
    columns = [np.ones_like(rows)] if with_fixed else []
    design = np.column_stack([*columns, rows, per_node])
    # Scaled columns keep NNLS well conditioned when rows are in the millions and seconds in the tens.
    scale = design.max(axis=0)
    coefficients, _ = nnls(design / scale, seconds)
    coefficients = coefficients / scale
    if not with_fixed:
        coefficients = np.concatenate([[0.0], coefficients])
    fixed, serial, parallel = (float(c) for c in coefficients)
    return TimeModel(fixed=fixed, serial_per_row=serial, parallel_per_row=parallel)


def recommend_size(
    samples: Sequence[TimingSample],
    rows: int,
    *,
    local: bool,
    warehouse_type: str = "STANDARD",
    budget_seconds: float | None = None,
    sizes: Sequence[WarehouseSize] = SIZES,
    cpu_count: int | None = None,
    rows_per_worker: int | None = None,
) -> Recommendation:
    """Forecast time and billed credits at every size for ``rows`` rows and pick one: the cheapest size that
    finishes within ``budget_seconds`` when a budget is given, else the knee where doubling the size no longer
    (nearly) halves the time. Raises InvalidInput as ``fit_time_model`` does, or for a non-positive row count."""
    if rows <= 0:
        raise InvalidInput("There are no rows to score, so there is no size to recommend.")
    model = fit_time_model(samples, local=local, cpu_count=cpu_count)
    forecasts = _forecasts(model, samples, rows, local, warehouse_type, sizes, cpu_count, rows_per_worker)
    chosen, summary = choose_size(forecasts, budget_seconds)
    return Recommendation(rows, model, forecasts, chosen, summary)


def choose_size(
    forecasts: Sequence[SizeForecast], budget_seconds: float | None = None
) -> tuple[SizeForecast, str]:
    """(the recommended forecast, the recommendation in words) among ``forecasts``: the cheapest within
    ``budget_seconds`` when given, else the knee (see ``recommend_size``)."""
    if budget_seconds is not None:
        chosen, note = _within_budget(forecasts, budget_seconds)
    else:
        chosen, note = _knee(forecasts), ""
    return chosen, _summary(chosen, forecasts) + note


def _forecasts(
    model: TimeModel,
    samples: Sequence[TimingSample],
    rows: int,
    local: bool,
    warehouse_type: str,
    sizes: Sequence[WarehouseSize],
    cpu_count: int | None,
    rows_per_worker: int | None = None,
) -> list[SizeForecast]:
    forecasts: list[SizeForecast] = []
    previous_nodes = 0
    for size in sizes:
        nodes = nodes_for(size, local=local, cpu_count=cpu_count, rows=rows, rows_per_worker=rows_per_worker)
        same = [s.seconds for s in samples if s.rows == rows and parse_size(s.size) == size and s.seconds > 0]
        seconds = statistics.median(same) if same else model.seconds(rows, nodes)
        forecasts.append(
            SizeForecast(
                size=size,
                nodes=nodes,
                seconds=seconds,
                credits=billed_credits(seconds, size, warehouse_type),
                measured=bool(same),
                speeds_up=nodes > previous_nodes,
            )
        )
        previous_nodes = nodes
    return forecasts


def _knee(forecasts: Sequence[SizeForecast]) -> SizeForecast:
    chosen = forecasts[0]
    for bigger in forecasts[1:]:
        if not bigger.speeds_up or bigger.credits.total > chosen.credits.total * HALVING_TOLERANCE:
            break
        chosen = bigger
    return chosen


def _within_budget(forecasts: Sequence[SizeForecast], budget: float) -> tuple[SizeForecast, str]:
    fitting = [f for f in forecasts if f.seconds <= budget and f.speeds_up]
    if fitting:
        return min(fitting, key=lambda f: (f.credits.total, f.seconds)), ""
    fastest = min(forecasts, key=lambda f: (f.seconds, f.credits.total))
    return fastest, f" No size finishes within {duration_text(budget)}; this is the fastest."


def _summary(chosen: SizeForecast, forecasts: Sequence[SizeForecast]) -> str:
    text = f"{chosen.size.label}: ~{duration_text(chosen.seconds)}, ~{_credits(chosen.credits.total)} credits"
    bigger = next((f for f in forecasts if f.size.index > chosen.size.index and f.speeds_up), None)
    if bigger is not None:
        saved = chosen.seconds - bigger.seconds
        extra = bigger.credits.total - chosen.credits.total
        if saved > 0:
            text += (
                f"; {bigger.size.label} saves ~{duration_text(saved)} for ~{_credits(abs(extra))} "
                f"{'more' if extra >= 0 else 'fewer'} credits"
            )
    return text + "."


def duration_text(seconds: float) -> str:
    """Format seconds as "42 s", "4.1 min" or "2.3 h"."""
    if seconds < 90:
        return f"{seconds:.2g} s" if seconds < 10 else f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _credits(value: float) -> str:
    return f"{value:.2g}" if value < 10 else f"{value:,.0f}"

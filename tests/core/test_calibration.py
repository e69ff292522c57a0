"""The calibration plan: which runs identify the three parameters of the time model, and what it costs."""

from __future__ import annotations

import pytest

from snowml_desktop.core.calibration import plan_calibration
from snowml_desktop.core.errors import InvalidInput
from snowml_desktop.core.recommend import TimeModel, TimingSample, fit_time_model, nodes_for, recommend_size
from snowml_desktop.core.records import RUN_CALIBRATION, RUN_WARMUP
from snowml_desktop.core.sizes import parse_size

TRUE = TimeModel(fixed=4.0, serial_per_row=3e-6, parallel_per_row=6e-5)


def _timings(plan, *, local: bool, cpu_count: int | None = None) -> list[TimingSample]:
    """The runs a plan makes, timed by ``TRUE`` (warm-ups left out, as the engines leave them out)."""
    return [
        TimingSample(
            step.size,
            step.rows,
            TRUE.seconds(step.rows, nodes_for(parse_size(step.size), local=local, cpu_count=cpu_count)),
        )
        for step in plan.steps
        if step.kind == RUN_CALIBRATION
    ]


@pytest.mark.parametrize("current", ["X-Small", "Medium", "4X-Large", "6X-Large"])
def test_snowflake_plan_identifies_fixed_serial_and_parallel(current: str) -> None:
    plan = plan_calibration("M", "T", 10**7, local=False, current_size=current)
    assert plan.steps[0].size == plan.steps[1].size == current  # no resize for the first two runs
    assert plan.resizes == 1 and len(plan.steps) == 3
    fitted = fit_time_model(_timings(plan, local=False), local=False)
    assert fitted.fixed == pytest.approx(TRUE.fixed, rel=1e-6)
    assert fitted.serial_per_row == pytest.approx(TRUE.serial_per_row, rel=1e-6)
    assert fitted.parallel_per_row == pytest.approx(TRUE.parallel_per_row, rel=1e-6)


def test_local_plan_warms_each_worker_count_first_and_identifies_the_model() -> None:
    plan = plan_calibration("M", "T", 10**6, local=True, current_size="Large", cpu_count=8)
    assert [(s.size, s.kind) for s in plan.steps] == [
        ("X-Small", RUN_WARMUP),
        ("X-Small", RUN_CALIBRATION),
        ("X-Small", RUN_CALIBRATION),
        ("Small", RUN_WARMUP),
        ("Small", RUN_CALIBRATION),
    ]
    fitted = fit_time_model(_timings(plan, local=True, cpu_count=8), local=True, cpu_count=8)
    assert fitted.fixed == pytest.approx(TRUE.fixed, rel=1e-6)
    assert fitted.serial_per_row == pytest.approx(TRUE.serial_per_row, rel=1e-6)
    assert fitted.parallel_per_row == pytest.approx(TRUE.parallel_per_row, rel=1e-6)
    assert "Nothing is billed" in plan.summary() and plan.resizes == 0


def test_samples_are_small_and_of_two_row_counts() -> None:
    big = plan_calibration("M", "T", 10**9, local=False, current_size="Small")
    assert (big.small_rows, big.large_rows) == (10_000, 50_000)
    small = plan_calibration("M", "T", 600, local=False, current_size="Small")
    assert (small.small_rows, small.large_rows) == (120, 600)  # the whole table is the large sample


def test_the_cost_is_stated_with_the_minute_billed_per_run() -> None:
    plan = plan_calibration(
        "M", "T", 10**6, local=False, current_size="Medium", warehouse_type="SNOWPARK-OPTIMIZED"
    )
    # Medium twice and Large once, 60 s each, Snowpark-optimized at 1.5x.
    assert plan.min_credits == pytest.approx((4 + 4 + 8) * 1.5 / 60)
    text = plan.summary()
    assert "resized to Large for the last run and back to Medium" in text
    assert "at least ~0.4 credits" in text and "billed at least 60 s" in text


def test_too_small_a_table_and_one_cpu_are_refused_with_what_to_do() -> None:
    with pytest.raises(InvalidInput, match="99 rows, too few") as info:
        plan_calibration("M", "T", 99, local=False, current_size="Small")
    assert "X-Small" in info.value.hint
    with pytest.raises(InvalidInput, match="one CPU"):
        plan_calibration("M", "T", 10**6, local=True, current_size="Small", cpu_count=1)


def test_runs_recorded_before_runs_had_a_kind_read_as_scoring_runs() -> None:
    from datetime import datetime, timezone

    from snowml_desktop.core.records import RUN_SCORE, InferenceRun, run_from_row, run_to_row

    run = InferenceRun(
        1, datetime(2026, 1, 1, tzinfo=timezone.utc), "M", "T", "O", 5, 1.0, 1.0, "Small", "STANDARD", 2, 0.1
    )
    row = run_to_row(run)
    assert row["KIND"] == RUN_SCORE
    row["KIND"] = None  # the column an older workspace or account gets added, empty
    assert run_from_row(row).kind == RUN_SCORE


def test_local_samples_span_two_batches_so_small_keeps_both_workers_busy() -> None:
    plan = plan_calibration(
        "M", "T", 10**6, local=True, current_size="X-Small", cpu_count=8, rows_per_worker=65_536
    )
    assert plan.large_rows == 131_072 and plan.small_rows == 131_072 // 5
    # Small's warm-up scores the large sample: a warm-up of one batch would start one of its two workers.
    assert [(s.size, s.rows, s.kind) for s in plan.steps][3:] == [
        ("Small", 131_072, RUN_WARMUP),
        ("Small", 131_072, RUN_CALIBRATION),
    ]
    with pytest.raises(InvalidInput, match="one batch of 65,536"):
        plan_calibration(
            "M", "T", 65_536, local=True, current_size="X-Small", cpu_count=8, rows_per_worker=65_536
        )


def test_the_fit_uses_the_workers_a_run_really_used_and_forecasts_cap_them_at_the_batches() -> None:
    # A 1-batch run at Small used one worker: read as two, it would look like no parallel work at all.
    true = TimeModel(fixed=0.5, serial_per_row=1e-6, parallel_per_row=4e-6)
    runs = [
        TimingSample("X-Small", 10_000, true.seconds(10_000, 1), 1),
        TimingSample("X-Small", 200_000, true.seconds(200_000, 1), 1),
        TimingSample("Small", 200_000, true.seconds(200_000, 2), 2),
        TimingSample("Small", 50_000, true.seconds(50_000, 1), 1),
    ]
    fitted = fit_time_model(runs, local=True, cpu_count=8)
    assert fitted.parallel_per_row == pytest.approx(true.parallel_per_row, rel=1e-6)
    advice = recommend_size(runs, 100_000, local=True, cpu_count=8, rows_per_worker=65_536)
    # 100,000 rows are two batches: no size keeps more than two workers busy.
    assert [f.nodes for f in advice.forecasts[:4]] == [1, 2, 2, 2]
    assert [f.speeds_up for f in advice.forecasts[:3]] == [True, True, False]

import pytest

from snowml_desktop.core.errors import InvalidInput
from snowml_desktop.core.recommend import TimeModel, TimingSample, fit_time_model, recommend_size
from snowml_desktop.core.sizes import SIZES, estimate_credits

TRUE = TimeModel(fixed=3.0, serial_per_row=2e-7, parallel_per_row=4e-5)


def _runs(model: TimeModel, plan: list[tuple[str, int]], *, local: bool = False) -> list[TimingSample]:
    from snowml_desktop.core.recommend import nodes_for
    from snowml_desktop.core.sizes import parse_size

    return [
        TimingSample(size, rows, model.seconds(rows, nodes_for(parse_size(size), local=local, cpu_count=2)))
        for size, rows in plan
    ]


def test_fit_recovers_the_serial_and_parallel_parts() -> None:
    samples = _runs(TRUE, [("X-Small", 100_000), ("Small", 100_000), ("Medium", 1_000_000), ("X-Small", 50_000)])
    fitted = fit_time_model(samples, local=False)
    assert fitted.fixed == pytest.approx(TRUE.fixed, rel=1e-6)
    assert fitted.serial_per_row == pytest.approx(TRUE.serial_per_row, rel=1e-6)
    assert fitted.parallel_per_row == pytest.approx(TRUE.parallel_per_row, rel=1e-6)


def test_one_row_count_folds_the_fixed_part_into_per_row_work() -> None:
    linear = TimeModel(fixed=0.0, serial_per_row=1e-6, parallel_per_row=1e-4)
    fitted = fit_time_model(_runs(linear, [("X-Small", 10_000), ("Small", 10_000)]), local=False)
    assert fitted.fixed == 0.0
    assert fitted.seconds(10**7, 8) == pytest.approx(linear.seconds(10**7, 8), rel=1e-6)


def test_runs_at_one_size_cannot_recommend() -> None:
    with pytest.raises(InvalidInput, match="two or more warehouse sizes"):
        recommend_size([TimingSample("Small", 1000, 2.0), TimingSample("Small", 5000, 4.0)], 10**6, local=False)
    # Locally Small and Medium both have two workers on a 2-core machine: still one node count.
    with pytest.raises(InvalidInput, match="different worker counts"):
        recommend_size(
            [TimingSample("Small", 1000, 2.0), TimingSample("Medium", 1000, 2.0)], 10**6, local=True, cpu_count=2
        )


def test_recommends_the_knee_where_doubling_no_longer_halves_the_time() -> None:
    samples = _runs(TRUE, [("X-Small", 100_000), ("Small", 1_000_000), ("Medium", 100_000)])
    rows = 10**8
    result = recommend_size(samples, rows, local=False)
    totals = {f.size.label: f.credits.total for f in result.forecasts}
    # By hand: each step up is taken while the doubled size costs at most 10 % more credits.
    expected = SIZES[0]
    for smaller, bigger in zip(SIZES, SIZES[1:], strict=False):
        if totals[bigger.label] > totals[smaller.label] * 1.10:
            break
        expected = bigger
    assert result.recommended.size == expected
    assert 0 < expected.index < len(SIZES) - 1  # a real knee, not an end of the range
    seconds = TRUE.seconds(rows, 2**expected.index)
    assert result.recommended.seconds == pytest.approx(seconds)
    assert result.recommended.credits.total == pytest.approx(estimate_credits(seconds, expected))
    assert result.summary.startswith(f"{expected.label}: ~")
    assert f"; {SIZES[expected.index + 1].label} saves ~" in result.summary and "more credits" in result.summary


def test_small_tables_stay_small_because_of_the_minute_minimum() -> None:
    samples = _runs(TRUE, [("X-Small", 100_000), ("Small", 100_000)])
    result = recommend_size(samples, 20_000, local=False)
    assert result.recommended.size.label == "X-Small"
    assert result.recommended.credits.minimum > 0


def test_a_time_budget_picks_the_cheapest_size_that_meets_it() -> None:
    samples = _runs(TRUE, [("X-Small", 100_000), ("Small", 1_000_000)])
    rows = 10**8
    result = recommend_size(samples, rows, local=False, budget_seconds=600)
    within = [f for f in result.forecasts if f.seconds <= 600]
    assert result.recommended == min(within, key=lambda f: (f.credits.total, f.seconds))
    impossible = recommend_size(samples, rows, local=False, budget_seconds=1)
    assert impossible.recommended == min(impossible.forecasts, key=lambda f: f.seconds)
    assert "No size finishes within 1 s" in impossible.summary


def test_local_sizes_beyond_the_cpu_count_give_no_speed_up() -> None:
    samples = _runs(TRUE, [("X-Small", 100_000), ("Small", 100_000)], local=True)
    result = recommend_size(samples, 10**8, local=True, cpu_count=2)
    assert [f.speeds_up for f in result.forecasts[:4]] == [True, True, False, False]
    assert result.forecasts[2].seconds == pytest.approx(result.forecasts[1].seconds)
    assert result.recommended.size.label in {"X-Small", "Small"}


def test_measured_sizes_use_the_measured_time() -> None:
    samples = [TimingSample("X-Small", 1000, 10.0), TimingSample("Small", 1000, 6.0), TimingSample("Small", 1000, 8.0)]
    result = recommend_size(samples, 1000, local=False)
    small = result.forecasts[1]
    assert small.measured and small.seconds == 7.0
    assert not result.forecasts[2].measured


def test_no_rows_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no rows"):
        recommend_size(_runs(TRUE, [("X-Small", 10), ("Small", 10)]), 0, local=False)

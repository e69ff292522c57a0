import pytest

from snowml_desktop.core.errors import InvalidInput
from snowml_desktop.core.sizes import (
    SIZES,
    SNOWPARK_OPTIMIZED,
    billed_credits,
    credits_per_hour,
    estimate_credits,
    parse_size,
    parse_type,
    round_credits,
)


def test_sizes_double_credits_from_one_to_512() -> None:
    assert [s.credits_per_hour for s in SIZES] == [2.0**i for i in range(10)]
    assert SIZES[0].label == "X-Small" and SIZES[-1].sql == "X6LARGE"


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("xs", "X-Small"),
        ("X-SMALL", "X-Small"),
        ("XSMALL", "X-Small"),
        ("medium", "Medium"),
        ("2X-Large", "2X-Large"),
        ("XXLARGE", "2X-Large"),
        ("x2large", "2X-Large"),
        ("X6LARGE", "6X-Large"),
    ],
)
def test_parse_size_accepts_snowflake_spellings(text: str, label: str) -> None:
    assert parse_size(text).label == label


@pytest.mark.parametrize("bad", ["huge", "7X-Large", "", "XXXXLARGE"])
def test_parse_size_rejects_out_of_range(bad: str) -> None:
    with pytest.raises(InvalidInput, match="Use one of"):
        parse_size(bad)


def test_local_workers_are_capped_by_cpu_count() -> None:
    assert [s.local_workers(cpu_count=2) for s in SIZES[:3]] == [1, 2, 2]
    assert SIZES[3].local_workers(cpu_count=64) == 8


def test_snowpark_optimized_costs_one_and_a_half() -> None:
    assert parse_type("snowpark_optimized") == SNOWPARK_OPTIMIZED
    assert credits_per_hour("Medium", SNOWPARK_OPTIMIZED) == 6.0
    with pytest.raises(InvalidInput):
        parse_type("turbo")


def test_credit_estimate_bills_a_minute_minimum_after_resume() -> None:
    assert estimate_credits(10, "X-Small") == pytest.approx(60 / 3600)
    assert estimate_credits(7200, "Small") == pytest.approx(4.0)
    assert round_credits(0.000123456789) == 0.000123457


def test_billed_credits_show_the_minute_minimum_as_its_own_part() -> None:
    short = billed_credits(15, "Small")
    assert short.running == pytest.approx(2 * 15 / 3600)
    assert short.minimum == pytest.approx(2 * 45 / 3600)
    assert short.total == pytest.approx(estimate_credits(15, "Small")) == pytest.approx(2 * 60 / 3600)
    long = billed_credits(90, "Small", SNOWPARK_OPTIMIZED)
    assert long.minimum == 0.0
    assert long.running == pytest.approx(3 * 90 / 3600)
    assert billed_credits(30, "X-Small", resumes=2).total == pytest.approx(120 / 3600)

"""Calibration of the recommended size on the Snowflake engine, offline: samples made in the warehouse as
temporary tables, scored by the SNOWML_SCORE call at the current size and the next one up (the warehouse
resized once and restored), the runs marked as calibration runs, nothing left behind, and the fit recovering
the time model the fake account's procedure follows."""

from __future__ import annotations

import pytest
from tests.snowflake.sf_fake_account import FakeWarehouse
from tests.snowflake.sf_fake_samples import FakeSamples, FakeTable
from tests.snowflake.test_engine_offline import COLUMNS, _account, _engine

from snowml_desktop.core.errors import Cancelled, InvalidInput
from snowml_desktop.core.records import RUN_CALIBRATION
from snowml_desktop.core.tasks import TaskContext

# Nodes per size: Snowflake's documented table (https://docs.snowflake.com/en/user-guide/warehouses-overview),
# this test's own copy.
NODES = {"X-Small": 1, "Small": 2, "Medium": 4, "Large": 8}
FIXED, SERIAL, PARALLEL = 3.0, 2e-6, 4e-5  # the time model the stand-in procedure follows
TABLE_ROWS = 2_000_000


def _seconds(request: dict, size: str, rows: int) -> float:
    return FIXED + rows * (SERIAL + PARALLEL / NODES[size])


def _account_with_samples(size: str = "XSMALL"):
    account = _account(warehouses={"WH": FakeWarehouse(size, "STANDARD", "STARTED")})
    tables = {"CHURN": FakeTable(TABLE_ROWS, list(COLUMNS["CHURN"]))}

    def score(request: dict, warehouse_size: str) -> tuple[int, float]:
        rows = fake.tables[request["table"]].rows
        return rows, _seconds(request, warehouse_size, rows)

    fake = FakeSamples(account, tables, score).install()
    return account, fake


def test_calibration_samples_in_the_warehouse_resizes_once_and_recovers_the_time_model() -> None:
    account, fake = _account_with_samples()
    engine = _engine(account)
    plan = engine.plan_calibration("random_forest_7", "churn")
    assert [(s.size, s.rows) for s in plan.steps] == [
        ("X-Small", 10_000),
        ("X-Small", 50_000),
        ("Small", 50_000),
    ]
    text = plan.summary()
    assert "resized to Small for the last run and back to X-Small" in text
    assert f"at least ~{(1 + 1 + 2) / 60:.2g} credits" in text  # three runs, each billed 60 s at its size

    seen: list[str] = []
    advice = engine.calibrate(plan, task=TaskContext(progress=lambda _f, t: seen.append(t)))

    # The samples were made in the warehouse: a fixed-size row sample of the table, and the first rows of it.
    creates = [s for s in fake.statements if s.startswith("CREATE TEMPORARY TABLE")]
    assert len(creates) == 2
    assert creates[0].endswith('FROM "DB"."DATA"."CHURN" SAMPLE ROW (50000 ROWS)')
    assert creates[1].endswith("LIMIT 10000")
    calls = [s for s in fake.statements if s.startswith("CALL SNOWML_SCORE")]
    assert [c.rsplit(" at ", 1)[1] for c in calls] == ["X-Small", "X-Small", "Small"]
    # One resize up for the last run, and the warehouse put back.
    resizes = [
        s.text for s in account.log if s.text.startswith("ALTER WAREHOUSE") and "WAREHOUSE_SIZE" in s.text
    ]
    assert len(resizes) == 2 and "SIZE = SMALL " in resizes[0] and "SIZE = XSMALL " in resizes[1]
    assert account.warehouses["WH"].size == "XSMALL"
    # Nothing left: samples and scored outputs dropped; only the user's table remains.
    assert set(fake.tables) == {"CHURN"}
    # The runs are calibration runs of CHURN, without output, and the fit recovers the model.
    runs = engine.list_runs("RANDOM_FOREST_7")
    assert [(r.kind, r.source_table, r.output_table) for r in runs] == [(RUN_CALIBRATION, "CHURN", None)] * 3
    assert advice.rows == TABLE_ROWS
    assert advice.model.fixed == pytest.approx(FIXED, rel=1e-6)
    assert advice.model.serial_per_row == pytest.approx(SERIAL, rel=1e-6)
    assert advice.model.parallel_per_row == pytest.approx(PARALLEL, rel=1e-6)
    large = next(f for f in advice.forecasts if f.size.label == "Large")
    assert large.seconds == pytest.approx(FIXED + TABLE_ROWS * (SERIAL + PARALLEL / 8))
    assert any("Run 3 of 3" in t for t in seen)
    # The same engine now recommends without calibrating again.
    assert engine.recommend_size("RANDOM_FOREST_7", "CHURN").recommended == advice.recommended


def test_at_the_largest_size_the_second_size_is_the_one_below() -> None:
    account, _ = _account_with_samples("X6LARGE")
    plan = _engine(account).plan_calibration("RANDOM_FOREST_7", "CHURN")
    assert [s.size for s in plan.steps] == ["6X-Large", "6X-Large", "5X-Large"]


def test_a_cancelled_calibration_drops_its_samples_and_restores_the_warehouse() -> None:
    account, fake = _account_with_samples()
    engine = _engine(account)
    plan = engine.plan_calibration("RANDOM_FOREST_7", "CHURN")
    task = TaskContext()

    def cancel_at_resize() -> None:
        task.token.cancel()

    account.interject(r"^ALTER WAREHOUSE .*SIZE = SMALL ", cancel_at_resize)
    with pytest.raises(Cancelled):
        engine.calibrate(plan, task=task)
    assert set(fake.tables) == {"CHURN"}
    assert account.warehouses["WH"].size == "XSMALL"
    kinds = {r.kind for r in engine.list_runs("RANDOM_FOREST_7")}
    assert kinds == {RUN_CALIBRATION}  # the two runs made are kept, and marked


def test_a_table_too_small_to_time_is_refused_before_anything_runs() -> None:
    account, fake = _account_with_samples()
    fake.tables["CHURN"].rows = 50
    engine = _engine(account)
    with pytest.raises(InvalidInput, match="50 rows, too few"):
        engine.plan_calibration("RANDOM_FOREST_7", "CHURN")
    assert fake.statements == [] and engine.list_runs("RANDOM_FOREST_7") == []

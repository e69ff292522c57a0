"""The big demo-table generator in DuckDB: same columns as CHURN.csv, reproducible, atomic, cancellable."""

from __future__ import annotations

import pytest

from snowml_desktop.core import demo_data
from snowml_desktop.core.errors import AlreadyExists, Cancelled, InvalidInput
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.engines.base import LoadRequest
from snowml_desktop.engines.local import demo


def test_demo_table_has_the_churn_files_columns_and_types(local_engine):
    info = local_engine.create_demo_table("big", 20_000, seed=3)
    assert (info.name, info.rows, info.columns) == ("BIG", 20_000, 14)
    local_engine.load(LoadRequest("LOAD_DATA", "CHURN.csv", "CHURN"))
    generated = [(c.name, c.sql_type) for c in local_engine.table_columns("BIG")]
    loaded = [(c.name, c.sql_type) for c in local_engine.table_columns("CHURN")]
    assert generated == loaded == list(demo_data.CHURN_COLUMNS)


def test_demo_table_follows_the_recipe(local_engine):
    local_engine.create_demo_table("big", 50_000, seed=1)
    cols = {c.name: c for c in local_engine.profile("big").columns}
    assert cols["CUSTOMER_ID"].distinct == pytest.approx(50_000, rel=0.05) and cols["CUSTOMER_ID"].nulls == 0
    churn = dict(cols["CHURNED"].top_values)
    assert 0.38 < churn["Yes"] / 50_000 < 0.46  # the file's churn rate is 0.42
    assert cols["PAYMENT_METHOD"].nulls / 50_000 == pytest.approx(0.02, abs=0.005)
    assert cols["TENURE_MONTHS"].mean == pytest.approx(19.8, abs=0.5)
    assert {v for v, _ in cols["CONTRACT"].top_values} == set(demo_data.CONTRACTS)


def test_demo_table_is_reproducible_per_seed(local_engine):
    local_engine.create_demo_table("A", 1000, seed=5)
    local_engine.create_demo_table("B", 1000, seed=5)
    local_engine.create_demo_table("C", 1000, seed=6)
    a, b, c = (local_engine.preview(t, 1000) for t in "ABC")
    assert a.equals(b)
    assert not a["CHURNED"].equals(c["CHURNED"])


def test_demo_table_exists_replace_and_bad_counts(local_engine):
    local_engine.create_demo_table("T", 10)
    with pytest.raises(AlreadyExists):
        local_engine.create_demo_table("T", 10)
    assert local_engine.create_demo_table("t", 20, replace=True).rows == 20
    assert local_engine.list_tables()[0].rows == 20
    for rows in (0, -1, 10**8 + 1, True, 2.5):
        with pytest.raises(InvalidInput, match="1 to 100,000,000"):
            local_engine.create_demo_table("U", rows)
    with pytest.raises(InvalidInput, match="seed"):
        local_engine.create_demo_table("U", 10, seed=-1)


def test_cancel_during_generation_leaves_nothing(local_engine, monkeypatch):
    monkeypatch.setattr(demo, "CHUNK_ROWS", 1000)
    local_engine.create_demo_table("T", 10)
    task = TaskContext()
    seen: list[float] = []

    def progress(fraction: float, text: str) -> None:
        seen.append(fraction)
        if fraction >= 0.5:
            task.token.cancel()

    task.progress = progress
    with pytest.raises(Cancelled):
        local_engine.create_demo_table("T", 4000, replace=True, task=task)
    assert [(t.name, t.rows) for t in local_engine.list_tables()] == [("T", 10)]
    assert seen == sorted(seen) and max(seen) < 1.0


def test_progress_reaches_the_end_in_chunks(local_engine, monkeypatch):
    monkeypatch.setattr(demo, "CHUNK_ROWS", 1000)
    seen: list[tuple[float, str]] = []
    local_engine.create_demo_table("T", 3500, task=TaskContext(progress=lambda f, t: seen.append((f, t))))
    assert seen[-1] == (1.0, "Generated 3,500 of 3,500 rows")
    assert local_engine.list_tables()[0].rows == 3500

"""Statistics computed in DuckDB: profile, histogram, class balance, correlation, preview, table listing."""

from __future__ import annotations

import math

import pytest

from snowml_desktop.core.errors import Cancelled, InvalidInput, NotFound
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.engines.local import stats


def make(engine, sql: str, table: str = "T") -> None:
    """Create a user table from a SELECT (table name is trusted test text)."""
    with engine.workspace.cursor() as cur:
        cur.execute(f'CREATE TABLE "DATA"."{table}" AS {sql}')


KNOWN = """
SELECT * FROM (VALUES
    (1, 1.0, 'a', true, DATE '2024-01-01', 5.0),
    (2, 2.0, 'b', false, DATE '2024-01-02', 5.0),
    (3, NULL, 'a', true, NULL, 5.0),
    (4, 'nan'::DOUBLE, NULL, NULL, DATE '2024-01-04', 5.0),
    (5, 'inf'::DOUBLE, 'a', true, DATE '2024-01-05', 5.0)
) v("N", "X", "S", "B", "D", "CONST")
"""


def by_name(profile):
    return {c.name: c for c in profile.columns}


def test_profile_of_known_values(local_engine):
    make(local_engine, KNOWN)
    profile = local_engine.profile("t")
    assert profile.rows == 5
    cols = by_name(profile)
    n = cols["N"]
    assert (n.kind, n.count, n.nulls, n.distinct) == ("numeric", 5, 0, 5)
    assert (n.mean, n.min, n.q25, n.median, n.q75, n.max) == (3.0, 1.0, 2.0, 3.0, 4.0, 5.0)
    assert n.std == pytest.approx(math.sqrt(2.5))
    x = cols["X"]  # NaN and infinity do not poison the statistics
    assert (x.count, x.nulls, x.mean, x.min, x.max) == (4, 1, 1.5, 1.0, 2.0)
    s = cols["S"]
    assert (s.kind, s.count, s.nulls, s.distinct, s.min, s.max) == ("text", 4, 1, 2, "a", "b")
    assert s.top_values == [("a", 3), ("b", 1)]
    assert cols["B"].kind == "boolean" and cols["B"].top_values == [("true", 3), ("false", 1)]
    d = cols["D"]
    assert (d.kind, d.min, d.max, d.nulls) == ("temporal", "2024-01-01", "2024-01-05", 1)
    assert cols["CONST"].std == 0.0 and cols["CONST"].distinct == 1


def test_profile_of_an_empty_and_an_all_null_table(local_engine):
    make(local_engine, 'SELECT 1::INTEGER AS "A", \'x\' AS "B" WHERE false', "EMPTY")
    make(local_engine, 'SELECT NULL::DOUBLE AS "A", NULL::VARCHAR AS "B" FROM range(3)', "NULLS")
    empty = local_engine.profile("empty")
    assert empty.rows == 0 and [c.count for c in empty.columns] == [0, 0]
    nulls = by_name(local_engine.profile("nulls"))
    assert (nulls["A"].nulls, nulls["A"].mean, nulls["A"].std, nulls["B"].top_values) == (3, None, None, [])


def test_id_like_text_columns_get_no_top_values(local_engine):
    make(local_engine, 'SELECT \'id\' || i AS "ID", (i % 3)::VARCHAR AS "G" FROM range(100) r(i)')
    cols = by_name(local_engine.profile("T"))
    assert cols["ID"].distinct == 100 and cols["ID"].top_values == []
    assert [v for v, _ in cols["G"].top_values] == ["0", "1", "2"]


def test_big_table_path_keeps_exact_figures_exact(local_engine, monkeypatch):
    make(local_engine, KNOWN)
    exact = by_name(local_engine.profile("T"))
    monkeypatch.setattr(stats, "EXACT_LIMIT", 2)
    sampled = by_name(local_engine.profile("T"))
    for name, column in exact.items():
        other = sampled[name]
        assert (other.count, other.nulls, other.top_values) == (column.count, column.nulls, column.top_values)
        assert other.mean == pytest.approx(column.mean) and other.std == pytest.approx(column.std)
        assert (other.min, other.max) == (column.min, column.max), name


def test_big_tables_sample_distinct_counts_and_quartiles(local_engine, monkeypatch):
    monkeypatch.setattr(stats, "EXACT_LIMIT", 10)
    monkeypatch.setattr(stats, "SAMPLE_ROWS", 20_000)
    # Values scattered over the rows (a block sample of sorted values would need many more rows).
    make(
        local_engine,
        'SELECT (hash(i) % 100000)::BIGINT AS "N", (i % 4)::VARCHAR AS "S", \'id\' || i AS "ID" '
        "FROM range(100000) r(i)",
    )
    with local_engine.workspace.cursor() as cur:
        distinct, median, mean = cur.execute(
            'SELECT count(DISTINCT "N"), median("N"), avg("N") FROM "DATA"."T"'
        ).fetchone()
    cols = by_name(local_engine.profile("T"))
    assert cols["N"].distinct == pytest.approx(distinct, rel=0.25)
    assert cols["N"].median == pytest.approx(median, rel=0.1)
    assert cols["N"].mean == pytest.approx(mean)  # exact even on the big-table path
    assert cols["S"].top_values == [("0", 25000), ("1", 25000), ("2", 25000), ("3", 25000)]
    assert cols["S"].distinct == 4 and (cols["S"].min, cols["S"].max) == ("0", "3")
    assert cols["ID"].distinct == pytest.approx(100_000, rel=0.25) and cols["ID"].top_values == []


def test_profile_reports_progress_and_unknown_tables(local_engine):
    make(local_engine, KNOWN)
    seen = []
    local_engine.profile("T", task=TaskContext(progress=lambda f, t: seen.append(f)))
    assert seen[-1] == 1.0
    with pytest.raises(NotFound, match="no table NOPE"):
        local_engine.profile("nope")
    cancelled = TaskContext()
    cancelled.token.cancel()
    with pytest.raises(Cancelled):
        local_engine.profile("T", task=cancelled)


WIDE = 300  # more than two batches


def make_wide(engine) -> None:
    """WIDE columns over 50 rows: even ones numeric (i * j, NULL every 5th row), odd ones text (5 labels)."""
    columns = ", ".join(
        f'CASE WHEN i % 5 = 0 THEN NULL ELSE i * {j} END AS "C{j}"'
        if j % 2 == 0
        else f"'v' || (i % 5) AS \"C{j}\""
        for j in range(WIDE)
    )
    make(engine, f"SELECT {columns} FROM range(50) r(i)", "WIDE")


def test_wide_tables_are_profiled_in_batches_with_the_same_figures(local_engine, monkeypatch):
    make_wide(local_engine)
    monkeypatch.setattr(stats, "UNPIVOT_BATCH_COLUMNS", 128)  # three batches of a table of few rows
    seen: list[tuple[float, str]] = []
    profile = local_engine.profile("wide", task=TaskContext(progress=lambda f, t: seen.append((f, t))))
    assert [c.name for c in profile.columns] == [f"C{j}" for j in range(WIDE)]
    values = [i for i in range(50) if i % 5]
    for j, column in enumerate(profile.columns):
        if j % 2 == 0:
            scaled = [i * j for i in values]
            assert (column.count, column.nulls) == (40, 10), column.name
            assert column.mean == pytest.approx(sum(scaled) / 40) and column.max == 49 * j
            assert column.distinct == len(set(scaled))
        else:
            assert column.top_values == [(f"v{k}", 10) for k in range(5)] and column.distinct == 5
    # Progress names each batch of columns and never goes back.
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    batches = {t for _, t in seen if t.startswith("Profiled")}
    width = stats.UNPIVOT_BATCH_COLUMNS  # a table of few rows: columns unpivoted, many per statement
    assert len(batches) == -(-WIDE // width)
    assert f"Profiled WIDE (columns 1-{width} of {WIDE})" in batches
    # One aggregate per column (taller tables), and the big-table path, both batched, agree.
    monkeypatch.setattr(stats, "UNPIVOT_ROWS", 0)
    assert stats.BATCH_COLUMNS < WIDE
    assert local_engine.profile("wide") == profile
    monkeypatch.setattr(stats, "EXACT_LIMIT", 2)
    sampled = local_engine.profile("wide")
    for exact, other in zip(profile.columns, sampled.columns, strict=True):
        assert (other.count, other.mean, other.max, other.top_values) == (
            exact.count,
            pytest.approx(exact.mean),
            exact.max,
            exact.top_values,
        )


def test_a_cancel_between_batches_stops_the_profile(local_engine, monkeypatch):
    make_wide(local_engine)
    monkeypatch.setattr(stats, "UNPIVOT_BATCH_COLUMNS", 128)
    task = TaskContext()
    done: list[str] = []

    def progress(fraction: float, text: str) -> None:
        if text.startswith("Profiled"):
            done.append(text)
            task.token.cancel()

    task.progress = progress
    with pytest.raises(Cancelled):
        local_engine.profile("wide", task=task)
    assert len(done) == 1  # the first batch finished; no other was started


def test_numeric_histogram_equal_width(local_engine):
    make(local_engine, 'SELECT i * 1.0 AS "X" FROM range(100) r(i) UNION ALL SELECT NULL')
    h = local_engine.histogram("T", "x", bins=4)
    assert h.kind == "numeric" and h.counts == [25, 25, 25, 25] and h.nulls == 1
    assert h.edges[0] == 0.0 and h.edges[-1] == 99.0 and len(h.edges) == 5


def test_integer_histogram_uses_one_bin_per_value_when_few(local_engine):
    make(local_engine, 'SELECT (i % 3)::INTEGER AS "K" FROM range(9) r(i)')
    h = local_engine.histogram("T", "K", bins=30)
    assert h.counts == [3, 3, 3] and h.edges == [-0.5, 0.5, 1.5, 2.5]


def test_histogram_of_constant_all_null_and_text_columns(local_engine):
    make(local_engine, KNOWN)
    assert local_engine.histogram("T", "CONST").counts == [5]
    make(local_engine, 'SELECT NULL::DOUBLE AS "A" FROM range(2)', "NULLS")
    assert (
        local_engine.histogram("NULLS", "A").counts == [] and local_engine.histogram("NULLS", "A").nulls == 2
    )
    h = local_engine.histogram("T", "S", bins=1)
    assert (h.kind, h.categories, h.counts, h.other, h.nulls) == ("categorical", ["a"], [3], 1, 1)
    dates = local_engine.histogram("T", "D", bins=2)
    assert sum(dates.counts) == 4


def test_histogram_errors(local_engine):
    make(local_engine, KNOWN)
    with pytest.raises(NotFound, match="no column MISSING"):
        local_engine.histogram("T", "missing")
    with pytest.raises(InvalidInput, match="bins"):
        local_engine.histogram("T", "N", bins=0)


def test_class_balance_with_other_and_nulls(local_engine):
    make(local_engine, KNOWN)
    balance = local_engine.class_balance("T", "S", limit=1)
    assert (balance.labels, balance.counts, balance.other, balance.nulls) == (["a"], [3], 1, 1)
    assert local_engine.class_balance("T", "N").labels == ["1", "2", "3", "4", "5"]


def test_correlation_with_a_constant_column(local_engine):
    make(
        local_engine,
        'SELECT i AS "A", 2 * i + 1 AS "B", -i AS "C", 7 AS "K", \'x\' AS "S" FROM range(50) r(i)',
    )
    corr = local_engine.correlation("T")
    assert corr.columns == ["A", "B", "C", "K"]
    m = corr.matrix
    assert m[0][1] == pytest.approx(1.0) and m[0][2] == pytest.approx(-1.0)
    assert m[3][3] is None and m[0][3] is None and m[0][0] == 1.0
    assert local_engine.correlation("T", limit=2).columns == ["A", "B"]
    with pytest.raises(InvalidInput, match="S in T is not numeric"):
        local_engine.correlation("T", ["a", "s"])


def test_preview_is_bounded(local_engine):
    make(local_engine, 'SELECT i AS "A" FROM range(20000) r(i)')
    assert len(local_engine.preview("T", 5)) == 5
    assert len(local_engine.preview("T", 10_000)) == 10_000
    with pytest.raises(InvalidInput, match="0 to 10,000"):
        local_engine.preview("T", 10_001)
    with pytest.raises(NotFound):
        local_engine.preview("nope")


def test_table_columns_kinds(local_engine):
    make(local_engine, KNOWN)
    kinds = [(c.name, c.kind) for c in local_engine.table_columns("t")]
    assert kinds == [
        ("N", "numeric"),
        ("X", "numeric"),
        ("S", "text"),
        ("B", "boolean"),
        ("D", "temporal"),
        ("CONST", "numeric"),
    ]


def test_list_tables_reports_rows_columns_created_and_bytes(local_engine):
    from snowml_desktop.engines.base import LoadRequest

    local_engine.load(LoadRequest("LOAD_DATA", "CHURN.csv", "churn"))
    make(local_engine, KNOWN, "B_SQL")
    tables = local_engine.list_tables()
    assert [(t.name, t.rows, t.columns) for t in tables] == [("B_SQL", 5, 6), ("CHURN", 7000, 14)]
    assert tables[1].created is not None and tables[1].bytes and tables[1].bytes > 0
    assert tables[0].created is None  # made outside the engine: no creation time recorded


def test_staging_tables_are_not_listed(local_engine):
    from snowml_desktop.engines.local.models import new_staging_name

    make(local_engine, "SELECT 1 AS A", new_staging_name())
    assert local_engine.list_tables() == []


def test_drop_table(local_engine):
    make(local_engine, KNOWN)
    local_engine.drop_table("t")
    assert local_engine.list_tables() == []
    with pytest.raises(NotFound):
        local_engine.drop_table("t")


def test_profile_of_nested_and_binary_columns(local_engine, monkeypatch):
    make(
        local_engine, 'SELECT [i, i + 1] AS "L", {\'k\': i} AS "S", \'\\xAA\'::BLOB AS "B" FROM range(5) r(i)'
    )
    for limit in (10**6, 2):  # the exact path and the big-table path
        monkeypatch.setattr(stats, "EXACT_LIMIT", limit)
        cols = by_name(local_engine.profile("T"))
        assert [c.kind for c in cols.values()] == ["other", "other", "other"]
        assert (cols["L"].count, cols["L"].distinct, cols["B"].distinct) == (5, 5, 1)

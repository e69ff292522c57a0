"""Table statistics computed inside DuckDB: profile, histogram, class balance, correlation, preview.

Nothing here pulls a table into Python; each function runs a few aggregate queries and returns a small
result. A profile of a table above ``EXACT_LIMIT`` rows keeps counts, nulls, mean, std, min, max and
top values exact, takes quartiles from a block sample of about ``SAMPLE_ROWS`` rows, and counts distinct
values approximately (HyperLogLog): on the sample for columns whose values repeat there (the sample has
seen them all), on the full table for the others. Min/max of a text column are then given only when it
has few distinct values (they come from counting every value). That keeps a profile of 10M rows x 14
columns near a second, where exact quartiles and distinct counts take several. Wide tables are profiled
a batch of columns at a time (DuckDB crashed on one statement over 10,000 columns).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import duckdb

from snowml_desktop.core.errors import InvalidInput, NotFound
from snowml_desktop.core.identifiers import display, normalize, quote
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.engines.base import (
    ClassBalance,
    ColumnInfo,
    ColumnProfile,
    Correlation,
    Histogram,
    TableProfile,
)
from snowml_desktop.engines.local import sqlrun
from snowml_desktop.engines.local.sqltypes import FLOAT_TYPES, base_type, is_integer, kind_of
from snowml_desktop.engines.local.workspace import Workspace

if TYPE_CHECKING:
    import pandas as pd

EXACT_LIMIT = 1_000_000  # rows up to which every figure is exact
SAMPLE_ROWS = 1_000_000  # about this many rows are sampled for distinct counts and quartiles of bigger tables
TOP_VALUES = 10
GROUPED_LIMIT = 1_000  # text/boolean columns with at most this many distinct values are counted completely
TOP_LIMIT = 100_000  # columns with more distinct values get no top values (costly, and all counts are small)
ID_LIKE_SHARE = 0.5  # more distinct values than this share of values: an ID-like column
SATURATION_SHARE = 0.1  # a sample with more distinct values than this share: count distinct on the full table
MAX_PREVIEW = 10_000
MAX_BINS = 200
# Columns per statement. DuckDB's time to plan one SELECT grows faster than its number of aggregates
# (400 columns at once: 13 s) and 10,000 at once crashed it; a batch also gives a point to report
# progress and honour a cancel.
BATCH_COLUMNS = 32
# Tables of at most this many rows are profiled with the columns unpivoted into one (see
# ``_unpivoted_pass``), more of them per statement: there planning, not scanning, is the cost (10,000
# columns x 50 rows: 31 s in batches of 128, 13 s of 512, 11 s of 1,024). On tall tables one aggregate
# per column is faster (1M x 14: 3 s against 6 s).
UNPIVOT_ROWS = 10_000
UNPIVOT_BATCH_COLUMNS = 512


def columns_of(cur: duckdb.DuckDBPyConnection, workspace: Workspace, table: str) -> list[ColumnInfo]:
    """Columns of canonical ``table`` in order. Raises NotFound."""
    sqlrun.require_table(cur, workspace, table)
    rows = sqlrun.table_columns(cur, workspace.DATA_SCHEMA, table)
    return [ColumnInfo(name, sql_type, kind_of(sql_type)) for name, sql_type in rows]


def find_column(columns: list[ColumnInfo], text: str, table: str) -> ColumnInfo:
    """The column named by user text ``text`` (normalized). Raises NotFound naming the table's columns."""
    name = normalize(text, what="column name")
    for column in columns:
        if column.name == name:
            return column
    known = ", ".join(display(c.name) for c in columns[:30])
    raise NotFound(f"Table {display(table)} has no column {display(name)}.", hint=f"Its columns: {known}.")


def preview(cur: duckdb.DuckDBPyConnection, workspace: Workspace, table: str, limit: int) -> pd.DataFrame:
    """The first ``limit`` rows (0..10 000) in storage order. Raises InvalidInput, NotFound."""
    if not 0 <= limit <= MAX_PREVIEW:
        raise InvalidInput(f"A preview shows 0 to {MAX_PREVIEW:,} rows, not {limit:,}.")
    sqlrun.require_table(cur, workspace, table)
    return cur.execute(f"SELECT * FROM {workspace.table_ref(table)} LIMIT ?", [limit]).df()


def profile(
    cur: duckdb.DuckDBPyConnection, workspace: Workspace, table: str, task: TaskContext
) -> TableProfile:
    """Per-column statistics. Tables up to ``EXACT_LIMIT`` rows get exact figures in one pass; bigger
    ones get exact counts, nulls, mean, std, min and max, approximate distinct counts and quartiles from
    a sample (see the module docstring). Then the most common values of text and boolean columns are
    counted exactly. Columns go ``BATCH_COLUMNS`` at a time (``UNPIVOT_BATCH_COLUMNS`` for tables of
    few rows), so any width is bounded per statement, and progress and cancel work between batches as
    well as within. Raises NotFound, Cancelled."""
    columns = columns_of(cur, workspace, table)
    ref = workspace.table_ref(table)
    rows = int(cur.execute(f"SELECT count(*) FROM {ref}").fetchone()[0])
    figures: dict[str, dict] = {}
    unpivot = rows <= UNPIVOT_ROWS
    width = UNPIVOT_BATCH_COLUMNS if unpivot else BATCH_COLUMNS
    batches = [columns[i : i + width] for i in range(0, len(columns), width)]
    for index, batch in enumerate(batches):
        step = task.sub(0.99 * index / len(batches), 0.99 * (index + 1) / len(batches))
        shown = display(table)
        if len(batches) > 1:
            first = index * width + 1
            shown += f" (columns {first:,}-{first + len(batch) - 1:,} of {len(columns):,})"
        figures.update(_profile_batch(cur, ref, batch, rows, step, shown))
    task.report(1.0, "Profile ready")
    return TableProfile(table, rows, [_column_profile(c, figures[c.name], rows) for c in columns])


def _profile_batch(
    cur: duckdb.DuckDBPyConnection,
    ref: str,
    columns: list[ColumnInfo],
    rows: int,
    task: TaskContext,
    shown: str,
) -> dict[str, dict]:
    """The figures of one batch of columns, reporting on ``task`` from 0 to 1."""
    unpivot = rows <= UNPIVOT_ROWS
    if rows <= EXACT_LIMIT:
        with sqlrun.cancellable(cur, task, 0.0, 0.7, f"Profiling {shown}"):
            figures = _unpivoted_pass(cur, ref, columns) if unpivot else _exact_pass(cur, ref, columns)
    else:
        figures = _big_table_passes(cur, ref, columns, rows, task, shown)
    with sqlrun.cancellable(cur, task, 0.7, 1.0, f"Counting the most common values of {shown}"):
        _add_top_values(cur, ref, columns, figures, unpivot)
    task.report(1.0, f"Profiled {shown}")
    return figures


def _exact_pass(cur: duckdb.DuckDBPyConnection, ref: str, columns: list[ColumnInfo]) -> dict[str, dict]:
    """Every figure exactly, in one scan."""
    selects: list[str] = []
    layout: list[tuple[ColumnInfo, list[str]]] = []
    for column in columns:
        c, keys = quote(column.name), ["count", "distinct"]
        selects += [f"count({c})", f"count(DISTINCT {_hashable(column)})"]
        if column.kind == "numeric":
            x = _finite(column)
            keys += ["mean", "std", "min", "max", "quartiles"]
            selects += [f"avg({x})", f"stddev_samp({x})", f"min({x})", f"max({x})"]
            selects.append(f"quantile_cont({x}, [0.25, 0.5, 0.75])")
        elif column.kind in ("text", "temporal"):
            keys += ["min", "max"]
            selects += [f"min({c})::VARCHAR", f"max({c})::VARCHAR"]
        layout.append((column, keys))
    if not selects:
        return {}
    values = iter(cur.execute(f"SELECT {', '.join(selects)} FROM {ref}").fetchone())
    return {column.name: {key: next(values) for key in keys} for column, keys in layout}


def _unpivoted_pass(cur: duckdb.DuckDBPyConnection, ref: str, columns: list[ColumnInfo]) -> dict[str, dict]:
    """Every figure exactly, for tables of few rows. Numeric columns (as DOUBLE) and text ones are each
    unpivoted into one long column and aggregated per column: DuckDB plans that far faster than a few
    aggregates per column (1,000 columns of 50 rows: 0.4 s against 9 s). Other kinds get their aggregates
    one by one (``_exact_pass``)."""
    figures: dict[str, dict] = {c.name: {"count": 0, "distinct": 0} for c in columns}
    x = "(CASE WHEN isfinite(v) THEN v END)"
    numeric = [c for c in columns if c.kind == "numeric"]
    aggregates = f"count(v), count(DISTINCT v), avg({x}), stddev_samp({x}), min({x}), max({x})"
    aggregates += f", quantile_cont({x}, [0.25, 0.5, 0.75])"
    for column, row in _unpivoted(cur, ref, numeric, "DOUBLE", aggregates):
        figures[column.name] = dict(
            zip(("count", "distinct", "mean", "std", "min", "max", "quartiles"), row, strict=True)
        )
    text = [c for c in columns if c.kind == "text"]
    for column, row in _unpivoted(cur, ref, text, "VARCHAR", "count(v), count(DISTINCT v), min(v), max(v)"):
        figures[column.name] = dict(zip(("count", "distinct", "min", "max"), row, strict=True))
    rest = [c for c in columns if c.kind not in ("numeric", "text")]
    for start in range(0, len(rest), BATCH_COLUMNS):  # one aggregate per column: few per statement
        figures.update(_exact_pass(cur, ref, rest[start : start + BATCH_COLUMNS]))
    return figures


def _unpivoted(
    cur: duckdb.DuckDBPyConnection, ref: str, columns: list[ColumnInfo], as_type: str, aggregates: str
) -> list[tuple[ColumnInfo, tuple]]:
    """``aggregates`` of value ``v`` per column, over ``columns`` cast to ``as_type`` and unpivoted.
    UNPIVOT drops NULLs, so a column without values has no row."""
    if not columns:
        return []
    inner = ", ".join(f"{quote(c.name)}::{as_type} AS {quote(f'c{k}')}" for k, c in enumerate(columns))
    rows = cur.execute(
        f"SELECT name, {aggregates} FROM (UNPIVOT (SELECT {inner} FROM {ref}) "
        f"ON COLUMNS(*) INTO NAME name VALUE v) GROUP BY name"
    ).fetchall()
    return [(columns[int(row[0][1:])], row[1:]) for row in rows]


def _big_table_passes(
    cur: duckdb.DuckDBPyConnection,
    ref: str,
    columns: list[ColumnInfo],
    rows: int,
    task: TaskContext,
    shown: str,
) -> dict[str, dict]:
    """Exact counts, mean, std, min and max in one full scan (min/max come from DuckDB's column
    statistics; mean and std from sums around the mid-range, which avoids cancellation), plus distinct
    counts and quartiles from a sample."""
    figures: dict[str, dict] = {c.name: {} for c in columns}
    ranged = [c for c in columns if c.kind in ("numeric", "temporal")]
    if ranged:
        extremes = iter(
            cur.execute(
                f"SELECT {', '.join(f'min({quote(c.name)}), max({quote(c.name)})' for c in ranged)} FROM {ref}"
            ).fetchone()
        )
        for column in ranged:
            low, high = next(extremes), next(extremes)
            if column.kind == "temporal":
                figures[column.name].update(min=_text(low), max=_text(high))
            else:
                figures[column.name].update(min=low, max=high)
    numeric = [c for c in columns if c.kind == "numeric"]
    # NaN sorts above infinity, so finite extremes mean the column holds only finite numbers.
    unclean = {
        c.name
        for c in numeric
        if not (_is_finite(figures[c.name]["min"]) and _is_finite(figures[c.name]["max"]))
    }

    def value(column: ColumnInfo) -> str:
        return _finite(column) if column.name in unclean else f"{quote(column.name)}::DOUBLE"

    share = min(100.0, 100.0 * SAMPLE_ROWS / rows)
    sample = [f"count({quote(c.name)}), approx_count_distinct({_hashable(c)})" for c in columns]
    sample += [f"quantile_cont({value(c)}, [0.25, 0.5, 0.75])" for c in numeric]
    with sqlrun.cancellable(cur, task, 0.0, 0.3, f"Sampling {shown}"):
        sampled = iter(
            cur.execute(
                f"SELECT {', '.join(sample)} FROM {ref} USING SAMPLE {share:.6f} PERCENT (system)"
            ).fetchone()
        )
    sampled_counts = {c.name: (next(sampled), next(sampled)) for c in columns}
    for column in numeric:
        figures[column.name]["quartiles"] = next(sampled)

    # A column whose sample is far from repeating its values may hold many more: count those in full.
    saturated = [c for c in columns if _saturated(*sampled_counts[c.name])]
    full = [f"count({quote(c.name)})" for c in columns]
    full += [f"approx_count_distinct({_hashable(c)})" for c in saturated]
    shifts = {}
    for column in numeric:
        x = value(column)
        if column.name in unclean:
            full += [f"min({x})", f"max({x})", f"count({x})"]
            shift = 0.0
        else:
            low, high = figures[column.name]["min"], figures[column.name]["max"]
            shift = 0.0 if low is None else (float(low) + float(high)) / 2
        shifts[column.name] = shift
        full += [f"sum({x} - {shift!r})", f"sum(({x} - {shift!r}) * ({x} - {shift!r}))"]
    with sqlrun.cancellable(cur, task, 0.3, 0.7, f"Profiling {shown}"):
        totals = iter(cur.execute(f"SELECT {', '.join(full)} FROM {ref}").fetchone())
    for column in columns:
        figures[column.name]["count"] = int(next(totals))
        figures[column.name]["distinct"] = int(sampled_counts[column.name][1] or 0)
    for column in saturated:
        figures[column.name]["distinct"] = int(next(totals) or 0)
    for column in numeric:
        figure = figures[column.name]
        n = figure["count"]
        if column.name in unclean:
            low, high, n = next(totals), next(totals), next(totals)
            figure.update(min=low, max=high)
        s1, s2 = next(totals), next(totals)
        figure.update(_moments(int(n or 0), s1, s2, shifts[column.name]))
    return figures


def _moments(n: int, s1: float | None, s2: float | None, shift: float) -> dict[str, float | None]:
    if not n or s1 is None or s2 is None:
        return {"mean": None, "std": None}
    mean = shift + s1 / n
    if n < 2:
        return {"mean": mean, "std": None}
    variance = max((s2 - s1 * s1 / n) / (n - 1), 0.0)
    return {"mean": mean, "std": math.sqrt(variance)}


def _saturated(sample_count: int | None, sample_distinct: int | None) -> bool:
    """Whether a sample saw so many different values that the column may hold many it did not see."""
    return bool(sample_count) and (sample_distinct or 0) >= SATURATION_SHARE * sample_count


def _add_top_values(
    cur: duckdb.DuckDBPyConnection,
    ref: str,
    columns: list[ColumnInfo],
    figures: dict[str, dict],
    unpivot: bool,
) -> None:
    """Count values of text and boolean columns exactly: every value of columns with few distinct values
    (which also gives their exact distinct count, min and max), the top ones of columns with more, and
    none for ID-like columns (nearly every value unique) or columns with very many values. ``unpivot``
    counts them all in one grouping (for tables of few rows, as in ``_unpivoted_pass``)."""
    grouped: list[ColumnInfo] = []
    top: list[ColumnInfo] = []
    for column in columns:
        figure = figures[column.name]
        figure.setdefault("top", [])
        if column.kind not in ("text", "boolean") or not figure["count"]:
            continue
        if figure["distinct"] <= GROUPED_LIMIT:
            grouped.append(column)
        elif figure["distinct"] <= min(TOP_LIMIT, ID_LIKE_SHARE * figure["count"]):
            top.append(column)
    chosen = grouped + top
    if not chosen:
        return
    counted: dict[str, list[tuple[str, int]]] = {}
    for k, v, n in (_counted_unpivoted if unpivot else _counted)(cur, ref, chosen, len(grouped)):
        counted.setdefault(chosen[k].name, []).append((v, int(n)))
    for name, values in counted.items():
        values.sort(key=lambda item: (-item[1], item[0]))
        figure = figures[name]
        id_like = len(values) > max(TOP_VALUES, ID_LIKE_SHARE * figure["count"])
        figure["top"] = [] if id_like else values[:TOP_VALUES]
    for column in grouped:
        values = counted.get(column.name, [])
        figures[column.name]["distinct"] = len(values)
        if column.kind == "text" and values:
            figures[column.name]["min"] = min(v for v, _ in values)
            figures[column.name]["max"] = max(v for v, _ in values)


def _counted(
    cur: duckdb.DuckDBPyConnection, ref: str, columns: list[ColumnInfo], grouped: int
) -> list[tuple[int, str, int]]:
    """(column index, value, count): every value of the first ``grouped`` columns, the top ones of the rest."""
    parts = []
    for k, column in enumerate(columns):
        c = quote(column.name)
        inner = f"SELECT {k} AS k, {c}::VARCHAR AS v, count(*) AS n FROM {ref} WHERE {c} IS NOT NULL GROUP BY {c}"
        parts.append(f"({inner})" if k < grouped else f"({inner} ORDER BY n DESC, v LIMIT {TOP_VALUES})")
    return cur.execute(" UNION ALL ".join(parts)).fetchall()


def _counted_unpivoted(
    cur: duckdb.DuckDBPyConnection, ref: str, columns: list[ColumnInfo], grouped: int
) -> list[tuple[int, str, int]]:
    """As ``_counted``, in one grouping of the columns unpivoted (aliases c0, c1 ... are made here)."""
    inner = ", ".join(f"{quote(c.name)}::VARCHAR AS {quote(f'c{k}')}" for k, c in enumerate(columns))
    rows = cur.execute(
        f"SELECT name, v, n FROM (SELECT name, v, count(*) AS n FROM (UNPIVOT (SELECT {inner} FROM {ref}) "
        f"ON COLUMNS(*) INTO NAME name VALUE v) GROUP BY name, v) "
        f"QUALIFY row_number() OVER (PARTITION BY name ORDER BY n DESC, v) "
        f"<= CASE WHEN CAST(name[2:] AS INTEGER) < {grouped} THEN {GROUPED_LIMIT} ELSE {TOP_VALUES} END"
    ).fetchall()
    return [(int(name[1:]), v, n) for name, v, n in rows]


def _finite(column: ColumnInfo) -> str:
    """The column as DOUBLE, with NaN and infinities read as missing (they would poison mean and std)."""
    c = quote(column.name)
    if base_type(column.sql_type) in FLOAT_TYPES:
        return f"(CASE WHEN isfinite({c}) THEN {c} END)::DOUBLE"
    return f"{c}::DOUBLE"


def _hashable(column: ColumnInfo) -> str:
    """The column in a form every distinct count accepts (nested and binary types as text)."""
    c = quote(column.name)
    return f"{c}::VARCHAR" if column.kind == "other" else c


def _is_finite(value: object) -> bool:
    return value is None or math.isfinite(float(value))


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _column_profile(column: ColumnInfo, figure: dict, rows: int) -> ColumnProfile:
    count = int(figure.get("count") or 0)
    q25, median, q75 = (figure.get("quartiles") or [None, None, None])[:3]
    numeric = column.kind == "numeric"
    return ColumnProfile(
        name=column.name,
        sql_type=column.sql_type,
        kind=column.kind,
        count=count,
        nulls=rows - count,
        distinct=min(int(figure.get("distinct") or 0), count),
        mean=_num(figure.get("mean")),
        std=_num(figure.get("std")),
        min=_num(figure.get("min")) if numeric else figure.get("min"),
        q25=_num(q25),
        median=_num(median),
        q75=_num(q75),
        max=_num(figure.get("max")) if numeric else figure.get("max"),
        top_values=figure.get("top", []),
    )


def _num(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def histogram(
    cur: duckdb.DuckDBPyConnection, workspace: Workspace, table: str, column_text: str, bins: int
) -> Histogram:
    """Equal-width bins of a numeric (or date/time, as epoch seconds) column; the most common ``bins``
    values of any other column. Raises NotFound, InvalidInput (bins outside 1..200)."""
    if not 1 <= bins <= MAX_BINS:
        raise InvalidInput(f"A histogram has 1 to {MAX_BINS} bins, not {bins}.")
    column = find_column(columns_of(cur, workspace, table), column_text, table)
    ref = workspace.table_ref(table)
    if column.kind in ("numeric", "temporal"):
        return _numeric_histogram(cur, ref, table, column, bins)
    c = quote(column.name)
    total, nulls = cur.execute(f"SELECT count({c}), count(*) - count({c}) FROM {ref}").fetchone()
    rows = cur.execute(
        f"SELECT {c}::VARCHAR AS v, count(*) AS n FROM {ref} WHERE {c} IS NOT NULL GROUP BY {c} "
        f"ORDER BY n DESC, v LIMIT ?",
        [bins],
    ).fetchall()
    counts = [int(n) for _, n in rows]
    return Histogram(
        table,
        column.name,
        "categorical",
        counts,
        categories=[v for v, _ in rows],
        other=int(total) - sum(counts),
        nulls=int(nulls),
    )


def _numeric_histogram(
    cur: duckdb.DuckDBPyConnection, ref: str, table: str, column: ColumnInfo, bins: int
) -> Histogram:
    x = f"epoch({quote(column.name)})::DOUBLE" if column.kind == "temporal" else _finite(column)
    low, high, missing = cur.execute(
        f"SELECT min({x}), max({x}), count(*) - count({x}) FROM {ref}"
    ).fetchone()
    if low is None:
        return Histogram(table, column.name, "numeric", [], nulls=int(missing))
    low, high = float(low), float(high)
    if is_integer(column.sql_type) and high - low + 1 <= bins:
        edges = [low - 0.5 + i for i in range(int(high - low) + 2)]  # one bin per whole number
    elif high == low:
        edges = [low - 0.5, high + 0.5]
    else:
        width = (high - low) / bins
        edges = [low + i * width for i in range(bins)] + [high]
    count = len(edges) - 1
    width = (edges[-1] - edges[0]) / count
    rows = cur.execute(
        f"SELECT b, count(*) FROM (SELECT least(floor(({x} - ?) / ?)::BIGINT, ?) AS b FROM {ref} "
        f"WHERE {x} IS NOT NULL) GROUP BY b",
        [edges[0], width, count - 1],
    ).fetchall()
    counts = [0] * count
    for index, n in rows:
        counts[max(0, min(int(index), count - 1))] += int(n)
    return Histogram(table, column.name, "numeric", counts, edges=edges, nulls=int(missing))


def class_balance(
    cur: duckdb.DuckDBPyConnection, workspace: Workspace, table: str, column_text: str, limit: int
) -> ClassBalance:
    """Rows per value of a label column, most common first (at most ``limit``; the rest in ``other``)."""
    if limit < 1:
        raise InvalidInput(f"The class limit must be at least 1, not {limit}.")
    column = find_column(columns_of(cur, workspace, table), column_text, table)
    ref = workspace.table_ref(table)
    c = quote(column.name)
    total, nulls = cur.execute(f"SELECT count({c}), count(*) - count({c}) FROM {ref}").fetchone()
    rows = cur.execute(
        f"SELECT {c}::VARCHAR AS v, count(*) AS n FROM {ref} WHERE {c} IS NOT NULL GROUP BY {c} "
        f"ORDER BY n DESC, v LIMIT ?",
        [limit],
    ).fetchall()
    counts = [int(n) for _, n in rows]
    return ClassBalance(
        table, column.name, [v for v, _ in rows], counts, other=int(total) - sum(counts), nulls=int(nulls)
    )


def correlation(
    cur: duckdb.DuckDBPyConnection,
    workspace: Workspace,
    table: str,
    column_texts: Sequence[str] | None,
    limit: int,
) -> Correlation:
    """Pearson correlation matrix of numeric columns in one pass; None where undefined (a constant or
    empty column). Raises NotFound, InvalidInput (a named column is not numeric)."""
    columns = columns_of(cur, workspace, table)
    if column_texts is None:
        chosen = [c for c in columns if c.kind == "numeric"][: max(limit, 0)]
    else:
        chosen = [find_column(columns, text, table) for text in column_texts]
        not_numeric = [display(c.name) for c in chosen if c.kind != "numeric"]
        if not_numeric:
            raise InvalidInput(
                f"Correlation needs numeric columns; {', '.join(not_numeric)} in {display(table)} "
                f"{'is' if len(not_numeric) == 1 else 'are'} not numeric."
            )
    names = [c.name for c in chosen]
    if not chosen:
        return Correlation(table, [], [])
    ref = workspace.table_ref(table)
    values = [_finite(c) for c in chosen]
    pairs = [(i, j) for i in range(len(chosen)) for j in range(i, len(chosen))]
    selects = [
        f"stddev_samp({values[i]}) > 0" if i == j else f"corr({values[i]}, {values[j]})" for i, j in pairs
    ]
    row = cur.execute(f"SELECT {', '.join(selects)} FROM {ref}").fetchone()
    matrix: list[list[float | None]] = [[None] * len(chosen) for _ in chosen]
    for (i, j), value in zip(pairs, row, strict=True):
        if i == j:
            matrix[i][i] = 1.0 if value else None
        else:
            matrix[i][j] = matrix[j][i] = _num(value)
    return Correlation(table, names, matrix)

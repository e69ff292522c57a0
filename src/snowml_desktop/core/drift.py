"""Drift of a table against a model's training data, computed in the warehouse.

At training, the engine profiles the training table with a few aggregate statements (``profile_queries``):
per feature, numeric quantile bin edges (deciles) with the share of rows in each bin, or the shares of the
most frequent categories with an "other" bucket, and the missing rate; the class shares of the target and of
the predictions on the test rows come from the test confusion matrix. The profile is stored with the model.

Checking a table (a scoring run's output, or any table on demand) is one aggregate pass (``count_query``,
batched for very wide models) that counts the rows in the stored bins and categories; the Population
Stability Index per feature, a binned Kolmogorov-Smirnov statistic for numeric features, the change of the
missing rate and the shift of the predicted class shares follow from those counts. With the training clone
kept, ``exact_ks_query`` compares every value instead of bins.

The SQL runs on DuckDB and on Snowflake alike: ordered-set ``PERCENTILE_CONT``, ``CASE`` counts and window
frames are in both dialects. Every name goes through ``identifiers.quote`` and every value (edges,
categories, labels) is a bind parameter.

PSI bands follow the usual rule of thumb: below 0.1 stable, 0.1 to 0.25 moderate, above 0.25 high.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from snowml_desktop.core.errors import InvalidInput
from snowml_desktop.core.identifiers import quote
from snowml_desktop.core.records import Feature, ModelRecord, json_safe

QUANTILES = tuple(round(0.1 * i, 1) for i in range(1, 10))
#: Above this many rows, a training profile's deciles and top categories come from a sample of this many rows
#: (``build_profile``'s ``sample``); the row count, missing rates and bin shares stay exact, being streaming
#: counts. Exact deciles hold every value of a column: a table of 10^8 rows has no profile within the local
#: engine's memory limit. A sample of 10^6 rows places each decile within about 0.1 percentile of the exact
#: one (a sample quantile's rank error, sqrt(p(1 - p) / n)), and it is Snowflake's largest fixed-size sample.
PROFILE_SAMPLE_ROWS = 1_000_000
TOP_CATEGORIES = 20
#: Features per counting statement: bounds the statement's width (about a dozen aggregates a feature).
FEATURES_PER_QUERY = 50
MODERATE, HIGH = 0.1, 0.25
_EPSILON = 1e-4  # an empty bin counts as this share, so PSI stays finite (a common convention)

Query = tuple[str, list[Any]]


@dataclass(frozen=True)
class FeatureDrift:
    feature: str
    kind: str  # "numeric" | "categorical"
    bins: list[str]  # bin labels, for charts
    expected: list[float]  # training shares per bin (non-missing rows)
    actual: list[float]  # shares in the checked table
    psi: float
    ks: float | None  # numeric only: binned, or exact against the clone
    missing_expected: float
    missing_actual: float

    @property
    def band(self) -> str:
        return band(self.psi)


@dataclass(frozen=True)
class DriftReport:
    """Drift of ``table`` (``rows`` rows) against ``model``'s training data; features by PSI, highest first."""

    model: str
    table: str
    rows: int
    features: list[FeatureDrift]
    predictions: dict[str, Any] | None = None  # {"classes", "expected", "actual", "psi"}
    overlap_rows: int | None = None  # checked rows that are also rows of ``training_table``
    training_table: str | None = None
    exact: bool = False  # compared against the kept clone itself, not the stored profile
    notes: list[str] = field(default_factory=list)
    profile_rows: int | None = None  # rows of the training profile
    profile_sample_rows: int | None = None  # rows its bin edges came from, when a sample (PROFILE_SAMPLE_ROWS)

    @property
    def max_psi(self) -> float:
        return max((f.psi for f in self.features), default=0.0)

    @property
    def band(self) -> str:
        return band(self.max_psi)

    def prediction_shift(self) -> str:
        """The predicted class shares, test rows then now, e.g. "benign 67% → 64%, malignant 33% → 36%"."""
        if not self.predictions:
            return ""
        shares = zip(
            self.predictions["classes"], self.predictions["expected"], self.predictions["actual"], strict=True
        )
        return ", ".join(f"{label} {e:.0%} → {a:.0%}" for label, e, a in shares)

    def summary(self, *, overlap: bool = True) -> str:
        """One line for lists and result lines (``overlap``: with the count of rows that are training rows)."""
        if not self.features:
            return "No features to compare."
        top = self.features[0]
        text = f"{self.band.capitalize()} drift: highest PSI {top.psi:.3f} ({top.feature})"
        shifted = sum(1 for f in self.features if f.psi >= MODERATE)
        if shifted:
            text += f"; {shifted} of {len(self.features)} features at 0.1 or more"
        if overlap and self.overlap_rows:
            text += f"; {self.overlap_rows:,} of {self.rows:,} rows are training rows"
        return text + "."

    def profile_note(self) -> str:
        """How the training profile was made, when its bin edges came from a sample; "" otherwise."""
        if not self.profile_sample_rows:
            return ""
        return (
            f"The training profile's bin edges come from a sample of {self.profile_sample_rows:,} of its "
            f"{self.profile_rows or 0:,} rows; its shares and missing rates count every row."
        )


def band(psi: float) -> str:
    return "high" if psi > HIGH else "moderate" if psi >= MODERATE else "stable"


def psi(expected: Sequence[float], actual: Sequence[float]) -> float:
    """Population Stability Index of two share vectors over the same bins."""
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        e, a = max(e, _EPSILON), max(a, _EPSILON)
        total += (a - e) * math.log(a / e)
    return total


def binned_ks(expected: Sequence[float], actual: Sequence[float]) -> float:
    """Largest gap between the two cumulative shares at the bin edges (a lower bound of the exact KS)."""
    gap = cumulative_e = cumulative_a = 0.0
    for e, a in zip(expected, actual, strict=True):
        cumulative_e += e
        cumulative_a += a
        gap = max(gap, abs(cumulative_e - cumulative_a))
    return gap


# --- SQL --------------------------------------------------------------------------------------------------
def _numeric(feature: Feature) -> str:
    return f"CAST({quote(feature.name)} AS DOUBLE)"


def _text(name: str) -> str:
    return f"CAST({quote(name)} AS VARCHAR)"


def _flag(condition: str) -> str:
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def quantile_query(table_sql: str, features: Sequence[Feature], *, list_quantiles: bool = False) -> Query:
    """Row count, then per numeric feature its deciles (edges of ten bins); columns q<i>_<j>.

    ``list_quantiles`` (DuckDB): one ``QUANTILE_CONT(x, [deciles])`` per feature, which holds the column's
    values once rather than once per decile. Same result; 9x less memory, so a table of millions of rows
    is profiled within the local warehouse's memory limit (2M rows x 6 features: over 512 MiB per decile,
    well under it as lists)."""
    if list_quantiles:
        numeric = [(i, f) for i, f in enumerate(features) if f.kind == "numeric"]
        deciles = ", ".join(str(q) for q in QUANTILES)
        inner = ["COUNT(*) AS n"] + [f"QUANTILE_CONT({_numeric(f)}, [{deciles}]) AS q{i}" for i, f in numeric]
        outer = ["n"] + [f"q{i}[{j + 1}] AS q{i}_{j}" for i, _ in numeric for j in range(len(QUANTILES))]
        return f"SELECT {', '.join(outer)} FROM (SELECT {', '.join(inner)} FROM {table_sql})", []
    parts = ["COUNT(*)"]
    for i, feature in enumerate(features):
        if feature.kind == "numeric":
            parts += [
                f"PERCENTILE_CONT({q}) WITHIN GROUP (ORDER BY {_numeric(feature)}) AS q{i}_{j}"
                for j, q in enumerate(QUANTILES)
            ]
    return f"SELECT {', '.join(parts)} FROM {table_sql}", []


def top_categories_query(table_sql: str, name: str, limit: int = TOP_CATEGORIES) -> Query:
    """The most frequent non-missing values of one column as text, with their counts."""
    return (
        f"SELECT {_text(name)} AS v, COUNT(*) AS k FROM {table_sql} WHERE {quote(name)} IS NOT NULL "
        f"GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {int(limit)}",
        [],
    )


def count_query(
    table_sql: str, profile: dict, names: Sequence[str], prediction_column: str | None = None
) -> Query:
    """One aggregate pass: the row count, then per feature in ``names`` its missing count and the count in
    each stored bin or category, then (with ``prediction_column``) the count of each predicted class."""
    parts, params = ["COUNT(*)"], []
    for name in names:
        entry = profile["features"][name]
        expression = f"CAST({quote(name)} AS DOUBLE)" if entry["kind"] == "numeric" else _text(name)
        parts.append(_flag(f"{quote(name)} IS NULL"))
        if entry["kind"] == "numeric":
            edges = entry["edges"]
            if not edges:
                parts.append(_flag(f"{quote(name)} IS NOT NULL"))
                continue
            parts.append(_flag(f"{expression} < ?"))
            params.append(edges[0])
            for low, high in zip(edges, edges[1:], strict=False):
                parts.append(_flag(f"{expression} >= ? AND {expression} < ?"))
                params += [low, high]
            parts.append(_flag(f"{expression} >= ?"))
            params.append(edges[-1])
        else:
            for category in entry["categories"]:
                parts.append(_flag(f"{expression} = ?"))
                params.append(category)
    if prediction_column is not None and profile.get("predictions"):
        for label in profile["predictions"]["classes"]:
            parts.append(_flag(f"{_text(prediction_column)} = ?"))
            params.append(label)
    return f"SELECT {', '.join(parts)} FROM {table_sql}", params


def overlap_query(table_sql: str, training_sql: str, names: Sequence[str]) -> Query:
    """Rows of the checked table whose feature values are those of some training row (by a 64-bit hash of
    the values; both engines have HASH over several arguments)."""
    columns = ", ".join(quote(n) for n in names)
    return (
        f"SELECT COUNT(*) FROM {table_sql} WHERE HASH({columns}) IN (SELECT HASH({columns}) FROM {training_sql})",
        [],
    )


def exact_ks_query(table_sql: str, training_sql: str, name: str) -> Query:
    """The exact two-sample Kolmogorov-Smirnov statistic of one numeric column, over every value."""
    value = f"CAST({quote(name)} AS DOUBLE)"
    upto = "ORDER BY v RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    return (
        "SELECT MAX(ABS(d)) FROM (SELECT "
        f"SUM(s) OVER ({upto}) / SUM(s) OVER () - SUM(1 - s) OVER ({upto}) / SUM(1 - s) OVER () AS d FROM ("
        f"SELECT {value} AS v, 1 AS s FROM {training_sql} WHERE {quote(name)} IS NOT NULL UNION ALL "
        f"SELECT {value} AS v, 0 AS s FROM {table_sql} WHERE {quote(name)} IS NOT NULL) AS pooled) AS gaps",
        [],
    )


# --- profile and report -----------------------------------------------------------------------------------
def edges_from(row: Sequence[Any], features: Sequence[Feature]) -> dict[str, list[float]]:
    """Distinct, sorted decile edges per numeric feature from the first row of ``quantile_query``."""
    edges, column = {}, 1
    for feature in features:
        if feature.kind != "numeric":
            continue
        values = [row[column + j] for j in range(len(QUANTILES))]
        column += len(QUANTILES)
        edges[feature.name] = sorted({float(v) for v in values if v is not None and math.isfinite(float(v))})
    return edges


def start_profile(
    features: Sequence[Feature],
    edges: dict[str, list[float]],
    categories: dict[str, list[str]],
    classes: Sequence[Any],
    confusion_matrix: Sequence[Sequence[int]],
) -> dict:
    """A profile without shares yet (fill them with ``finish_profile``); class shares from the test rows."""
    total = sum(map(sum, confusion_matrix)) or 1
    labels = [str(json_safe(c)) for c in classes]
    return {
        "rows": 0,
        "features": {
            f.name: (
                {"kind": "numeric", "edges": edges[f.name]}
                if f.kind == "numeric"
                else {"kind": "categorical", "categories": categories[f.name]}
            )
            for f in features
        },
        "target": {"classes": labels, "shares": [sum(row) / total for row in confusion_matrix]},
        "predictions": {
            "classes": labels,
            "shares": [sum(row[j] for row in confusion_matrix) / total for j in range(len(labels))],
        },
    }


def finish_profile(profile: dict, names: Sequence[str], row: Sequence[Any]) -> None:
    """Store the shares counted by ``count_query(..., names)`` (no prediction column) in ``profile``."""
    rows, counts = _split_counts(profile, names, row)
    profile["rows"] = rows
    for name in names:
        missing, bins = counts[name]
        present = rows - missing
        profile["features"][name]["missing"] = missing / rows if rows else 0.0
        profile["features"][name]["shares"] = [b / present if present else 0.0 for b in bins]


def _split_counts(profile: dict, names: Sequence[str], row: Sequence[Any]) -> tuple[int, dict]:
    """(rows, {name: (missing, counts per bin incl. "other")}) from one ``count_query`` row."""
    values = [int(v or 0) for v in row]
    rows, position, counts = values[0], 1, {}
    for name in names:
        entry = profile["features"][name]
        missing = values[position]
        position += 1
        width = len(entry["edges"]) + 1 if entry["kind"] == "numeric" else len(entry["categories"])
        bins = values[position : position + width]
        position += width
        if entry["kind"] == "categorical":
            bins.append(rows - missing - sum(bins))  # "other": values outside the stored top categories
        counts[name] = (missing, bins)
    counts["__predictions__"] = values[position:]
    return rows, counts


def bin_labels(entry: dict) -> list[str]:
    if entry["kind"] == "categorical":
        return [*entry["categories"], "(other)"]
    edges = entry["edges"]
    if not edges:
        return ["all"]
    return [
        f"< {edges[0]:.4g}",
        *(f"{a:.4g} – {b:.4g}" for a, b in zip(edges, edges[1:], strict=False)),
        f"≥ {edges[-1]:.4g}",
    ]


def compare(
    profile: dict, names: Sequence[str], row: Sequence[Any], *, model: str, table: str
) -> DriftReport:
    """The report from one ``count_query`` row (with or without the prediction counts at its end)."""
    rows, counts = _split_counts(profile, names, row)
    features = []
    for name in names:
        entry = profile["features"][name]
        missing, bins = counts[name]
        present = rows - missing
        actual = [b / present if present else 0.0 for b in bins]
        expected = list(entry.get("shares") or [0.0] * len(actual))
        features.append(
            FeatureDrift(
                feature=name,
                kind=entry["kind"],
                bins=bin_labels(entry),
                expected=expected,
                actual=actual,
                psi=psi(expected, actual) if present else 0.0,
                ks=binned_ks(expected, actual) if entry["kind"] == "numeric" and present else None,
                missing_expected=float(entry.get("missing", 0.0)),
                missing_actual=missing / rows if rows else 0.0,
            )
        )
    features.sort(key=lambda f: f.psi, reverse=True)
    predictions = _prediction_shift(profile, counts["__predictions__"])
    return DriftReport(model=model, table=table, rows=rows, features=features, predictions=predictions)


def _prediction_shift(profile: dict, counts: list[int]) -> dict[str, Any] | None:
    stored = profile.get("predictions")
    if not stored or not counts:
        return None
    total = sum(counts)
    actual = [c / total if total else 0.0 for c in counts]
    return {
        "classes": stored["classes"],
        "expected": stored["shares"],
        "actual": actual,
        "psi": psi(stored["shares"], actual) if total else 0.0,
    }


def batches(names: Sequence[str]) -> list[list[str]]:
    return [list(names[i : i + FEATURES_PER_QUERY]) for i in range(0, len(names), FEATURES_PER_QUERY)]


# --- the whole computation, over an engine's query function ---------------------------------------------
RunQuery = Callable[[str, list[Any]], Sequence[Sequence[Any]]]
#: ``n`` -> SQL for a FROM item holding a sample of ``n`` rows of the profiled table (each engine's dialect).
SampleSql = Callable[[int], str]


def build_profile(
    run: RunQuery,
    table_sql: str,
    features: Sequence[Feature],
    classes: Sequence[Any],
    confusion_matrix: Sequence[Sequence[int]],
    *,
    list_quantiles: bool = False,
    sample: SampleSql | None = None,
) -> dict:
    """Profile ``table_sql`` (the training data) for ``features``: one quantile pass (``list_quantiles``: see
    :func:`quantile_query`), one top-categories query per categorical feature, then counting passes of at
    most FEATURES_PER_QUERY features.

    With ``sample``, a table of more than PROFILE_SAMPLE_ROWS rows has its quantiles and top categories taken
    over ``sample(PROFILE_SAMPLE_ROWS)``, so memory does not grow with the table; the profile then records
    ``sample_rows``. The counting passes always read every row."""
    numeric = [f for f in features if f.kind == "numeric"]
    source, sample_rows = table_sql, None
    if sample is not None and _row_count(run, table_sql) > PROFILE_SAMPLE_ROWS:
        source, sample_rows = sample(PROFILE_SAMPLE_ROWS), PROFILE_SAMPLE_ROWS
    quantiles = quantile_query(source, numeric, list_quantiles=list_quantiles)
    edges = edges_from(run(*quantiles)[0], numeric) if numeric else {}
    categories = {
        f.name: [str(r[0]) for r in run(*top_categories_query(source, f.name))]
        for f in features
        if f.kind != "numeric"
    }
    profile = start_profile(features, edges, categories, classes, confusion_matrix)
    if sample_rows is not None:
        profile["sample_rows"] = sample_rows
    for names in batches([f.name for f in features]):
        finish_profile(profile, names, run(*count_query(table_sql, profile, names))[0])
    return profile


def _row_count(run: RunQuery, table_sql: str) -> int:
    return int(run(f"SELECT COUNT(*) FROM {table_sql}", [])[0][0] or 0)


def check(
    run: RunQuery,
    profile: dict,
    table_sql: str,
    *,
    model: str,
    table: str,
    prediction_column: str | None = None,
    training_sql: str | None = None,
    training_table: str | None = None,
    exact: bool = False,
) -> DriftReport:
    """Drift of ``table_sql`` against ``profile``: counting passes, plus (with ``training_sql``) the count of
    rows that are training rows, plus (``exact``, with the clone as ``training_sql``) shares recounted on
    the clone and the exact KS of each numeric feature."""
    names = list(profile["features"])
    if exact:
        if training_sql is None:
            raise ValueError("an exact comparison needs the training clone")
        profile = {**profile, "features": {n: dict(e) for n, e in profile["features"].items()}}
        for group in batches(names):
            finish_profile(profile, group, run(*count_query(training_sql, profile, group))[0])
    groups = batches(names) or [[]]
    parts = [
        compare(
            profile,
            group,
            run(*count_query(table_sql, profile, group, prediction_column if i == len(groups) - 1 else None))[
                0
            ],
            model=model,
            table=table,
        )
        for i, group in enumerate(groups)
    ]
    features = sorted((f for p in parts for f in p.features), key=lambda f: f.psi, reverse=True)
    if exact:
        features = [
            dataclasses.replace(
                f, ks=float(run(*exact_ks_query(table_sql, str(training_sql), f.feature))[0][0] or 0)
            )
            if f.kind == "numeric"
            else f
            for f in features
        ]
    overlap = None
    if training_sql is not None and names:
        overlap = int(run(*overlap_query(table_sql, training_sql, names))[0][0] or 0)
    return DriftReport(
        model=model,
        table=table,
        rows=parts[-1].rows,
        features=features,
        predictions=parts[-1].predictions,
        overlap_rows=overlap,
        training_table=training_table,
        exact=exact,
        profile_rows=profile.get("rows"),
        profile_sample_rows=profile.get("sample_rows"),
    )


def check_request(record: ModelRecord, table: str, columns: Iterable[str], *, exact: bool) -> None:
    """Raise InvalidInput when ``record`` cannot be checked against ``table`` (with ``columns``): no profile,
    missing feature columns, or ``exact`` without a kept clone."""
    if not record.drift_profile:
        raise InvalidInput(
            f"Model {record.name} has no drift profile (it was trained by an older version).",
            hint="Train it again to check drift against its training data.",
        )
    present = set(columns)
    missing = [f for f in record.feature_names if f not in present]
    if missing:
        raise InvalidInput(
            f"The table {table!r} lacks the model's feature column(s): {', '.join(missing)}.",
            hint="Check drift on a table with every column the model was trained on.",
        )
    if exact and record.training_table == record.source_table:
        raise InvalidInput(
            f"Model {record.name} kept no clone of its training data, so there is nothing exact to compare.",
            hint='Compare against the stored profile, or train with "Keep a clone of the training data".',
        )


#: Longest reason a run keeps for a failed drift check; the full traceback goes to the log.
FAILURE_REASON_CHARS = 200


def failure_record(exc: BaseException) -> dict[str, str]:
    """What a run stores as its drift when the check failed: ``{"error": reason}``, the reason being the
    exception's class and the first line of its message (no traceback, no statement text beyond it)."""
    lines = str(exc).strip().splitlines()
    reason = f"{type(exc).__name__}: {lines[0].strip()}" if lines else type(exc).__name__
    if len(reason) > FAILURE_REASON_CHARS:
        reason = reason[: FAILURE_REASON_CHARS - 1] + "…"
    return {"error": reason}


def failure_reason(data: dict | None) -> str | None:
    """Why a run's drift check failed, when its stored drift is a ``failure_record``; None for a report or
    for no check at all."""
    if data and "error" in data:
        return str(data["error"])
    return None


def report_from_json(data: dict) -> DriftReport:
    """Inverse of ``dataclasses.asdict`` of a report (as stored on a run). A failed check
    (``failure_reason``) holds no report: ask ``failure_reason`` first."""
    reason = failure_reason(data)
    if reason is not None:
        raise ValueError(f"The drift check failed, so there is no report: {reason}")
    values = dict(data)
    values["features"] = [FeatureDrift(**f) for f in values["features"]]
    return DriftReport(**values)

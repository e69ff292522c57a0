"""Catalog and run records, and the column layout both engines store them in.

These live in ``core`` (not ``engines``) because the Snowflake stored procedures, which ship only the core
package, build the same rows inside the warehouse. Column names and logical types are shared; each engine
maps the logical types to its own (JSON is DuckDB ``JSON`` locally and ``VARIANT`` on Snowflake).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Logical column types; engines map them to SQL types.
TEXT, TIMESTAMP, INTEGER, DOUBLE, JSON = "TEXT", "TIMESTAMP", "INTEGER", "DOUBLE", "JSON"

RUN_SUCCEEDED, RUN_FAILED, RUN_CANCELLED = "SUCCEEDED", "FAILED", "CANCELLED"
#: What a run was for: scoring a table (the user's), timing a sample for the recommended size
#: (``core.calibration``; its output is dropped), or warming the local scoring workers before that timing
#: (its time includes starting them, so no fit uses it).
RUN_SCORE, RUN_CALIBRATION, RUN_WARMUP = "SCORE", "CALIBRATION", "WARM-UP"
RUN_KINDS = (RUN_SCORE, RUN_CALIBRATION, RUN_WARMUP)


@dataclass(frozen=True)
class Feature:
    """One model input column: its canonical name, how the pipeline treats it, and its SQL type."""

    name: str
    kind: str  # "numeric" | "categorical"
    sql_type: str  # generic: "DOUBLE", "BIGINT", "VARCHAR", "BOOLEAN", "TIMESTAMP", ...


@dataclass(frozen=True)
class ModelWarning:
    """A warning attached to a model; ``code`` is stable (e.g. ``duplicate_leakage``), ``message`` is for people."""

    code: str
    message: str


@dataclass
class ModelRecord:
    """One row of the models catalog.

    JSON-shaped fields:
      metrics            {"accuracy", "balanced_accuracy", "precision_macro", "recall_macro", "f1_macro",
                          "precision_weighted", "recall_weighted", "f1_weighted", "roc_auc", "average_precision"}
                         (floats; roc_auc / average_precision may be None when not computable)
      per_class          [{"label", "precision", "recall", "f1", "support"}] in ``classes`` order
      confusion_matrix   n x n ints; rows = true class, columns = predicted class, both in ``classes`` order
      curves             {"roc": [{"label", "fpr": [...], "tpr": [...], "auc"}],
                          "pr":  [{"label", "recall": [...], "precision": [...], "ap"}]}   (<= 200 points each;
                         binary: one entry for the positive class = classes[1]; multiclass: one per class, OvR;
                          binary also "scores": {"positive", "truth": [0/1], "score": [...]}, the held-out
                          rows' positive-class probabilities (<= 2,000, stratified) for the Threshold view)
      feature_importance [{"feature", "importance", "std"}] sorted descending (permutation importance on test)
      cv                 {"folds", "metric", "mean", "std", "scores": [...]} or None
      options            {"test_size", "seed", "cv_folds", "class_weight", "dedupe", "keep_clone", "optimized"}
      excluded_columns   [{"column", "reason"}]
    """

    name: str
    created: datetime
    method: str
    source_table: str
    training_table: str
    target: str
    features: list[Feature]
    classes: list[Any]
    params: dict[str, Any]
    options: dict[str, Any]
    metrics: dict[str, float | None]
    per_class: list[dict[str, Any]]
    confusion_matrix: list[list[int]]
    curves: dict[str, Any]
    feature_importance: list[dict[str, Any]]
    cv: dict[str, Any] | None
    warnings: list[ModelWarning]
    excluded_columns: list[dict[str, str]]
    artifact_path: str
    artifact_sha256: str
    library_versions: dict[str, str]
    train_seconds: float
    warehouse_size: str
    warehouse_type: str
    rows_total: int
    rows_train: int
    rows_test: int
    #: Binary models: label a row positive at this probability of classes[1] or more (None: the most
    #: probable class). Set after training from the Threshold view or ``snowml threshold``.
    threshold: float | None = None
    #: What drift checks compare against (``core.drift``): per-feature bins and shares of the training table,
    #: class shares of the test rows. None when it could not be computed (the model still works).
    drift_profile: dict[str, Any] | None = None

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]


@dataclass
class InferenceRun:
    """One row of the inference-runs log. ``metrics``/``confusion_matrix``/``classes`` are set when the scored
    table carried the model's target column (computed by the engine in SQL); ``metrics`` has the same keys as
    ``ModelRecord.metrics`` minus the probability-based ones, plus ``per_class``."""

    run_id: int
    created: datetime
    model: str
    source_table: str
    output_table: str | None
    rows: int
    total_seconds: float
    scoring_seconds: float
    warehouse_size: str
    warehouse_type: str
    workers: int | None
    credits: float
    status: str = RUN_SUCCEEDED
    error: str | None = None
    metrics: dict[str, Any] | None = None
    confusion_matrix: list[list[int]] | None = None
    classes: list[Any] | None = None
    query_ids: list[str] = field(default_factory=list)
    threshold: float | None = None  # the model's decision threshold when this run scored
    drift: dict[str, Any] | None = None  # ``core.drift.DriftReport`` of the scored table, as a dict
    kind: str = RUN_SCORE  # one of RUN_KINDS; a calibration or warm-up run scored a sample of source_table


MODELS_CATALOG_COLUMNS: tuple[tuple[str, str], ...] = (
    ("MODEL_NAME", TEXT),
    ("CREATED_AT", TIMESTAMP),
    ("METHOD", TEXT),
    ("SOURCE_TABLE", TEXT),
    ("TRAINING_TABLE", TEXT),
    ("TARGET", TEXT),
    ("FEATURES", JSON),
    ("CLASSES", JSON),
    ("PARAMS", JSON),
    ("OPTIONS", JSON),
    ("METRICS", JSON),
    ("PER_CLASS", JSON),
    ("CONFUSION_MATRIX", JSON),
    ("CURVES", JSON),
    ("FEATURE_IMPORTANCE", JSON),
    ("CV", JSON),
    ("WARNINGS", JSON),
    ("EXCLUDED_COLUMNS", JSON),
    ("ARTIFACT_PATH", TEXT),
    ("ARTIFACT_SHA256", TEXT),
    ("LIBRARY_VERSIONS", JSON),
    ("TRAIN_SECONDS", DOUBLE),
    ("WAREHOUSE_SIZE", TEXT),
    ("WAREHOUSE_TYPE", TEXT),
    ("ROWS_TOTAL", INTEGER),
    ("ROWS_TRAIN", INTEGER),
    ("ROWS_TEST", INTEGER),
    ("THRESHOLD", DOUBLE),
    ("DRIFT_PROFILE", JSON),
)

INFERENCE_RUNS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("RUN_ID", INTEGER),
    ("CREATED_AT", TIMESTAMP),
    ("MODEL_NAME", TEXT),
    ("SOURCE_TABLE", TEXT),
    ("OUTPUT_TABLE", TEXT),
    ("ROWS", INTEGER),
    ("TOTAL_SECONDS", DOUBLE),
    ("SCORING_SECONDS", DOUBLE),
    ("WAREHOUSE_SIZE", TEXT),
    ("WAREHOUSE_TYPE", TEXT),
    ("WORKERS", INTEGER),
    ("CREDITS", DOUBLE),
    ("STATUS", TEXT),
    ("ERROR", TEXT),
    ("METRICS", JSON),
    ("CONFUSION_MATRIX", JSON),
    ("CLASSES", JSON),
    ("QUERY_IDS", JSON),
    ("THRESHOLD", DOUBLE),
    ("DRIFT", JSON),
    ("KIND", TEXT),
)

# Column -> dataclass field, where the column is not simply the field name upper-cased.
_MODEL_RENAMES = {"MODEL_NAME": "name", "CREATED_AT": "created"}
_RUN_RENAMES = {"MODEL_NAME": "model", "CREATED_AT": "created"}


def json_safe(value: Any) -> Any:
    """Make nested data JSON-safe: NaN/inf -> None, numpy scalars -> Python, tuples -> lists."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def dumps(value: Any) -> str:
    return json.dumps(json_safe(value), allow_nan=False)


def model_to_row(record: ModelRecord) -> dict[str, Any]:
    """Catalog row: column name -> value, JSON columns already serialized as text."""
    data = dataclasses.asdict(record)
    row: dict[str, Any] = {}
    for column, kind in MODELS_CATALOG_COLUMNS:
        value = data[_MODEL_RENAMES.get(column, column.lower())]
        row[column] = dumps(value) if kind == JSON else value
    return row


def model_from_row(row: dict[str, Any]) -> ModelRecord:
    """Inverse of :func:`model_to_row`; JSON columns may be text or already-parsed values."""
    values = _decode(row, MODELS_CATALOG_COLUMNS, _MODEL_RENAMES)
    values["features"] = [Feature(**f) for f in values["features"]]
    values["warnings"] = [ModelWarning(**w) for w in values["warnings"]]
    return ModelRecord(**values)


def run_to_row(run: InferenceRun) -> dict[str, Any]:
    data = dataclasses.asdict(run)
    row: dict[str, Any] = {}
    for column, kind in INFERENCE_RUNS_COLUMNS:
        value = data[_RUN_RENAMES.get(column, column.lower())]
        row[column] = dumps(value) if kind == JSON else value
    return row


def run_from_row(row: dict[str, Any]) -> InferenceRun:
    values = _decode(row, INFERENCE_RUNS_COLUMNS, _RUN_RENAMES)
    values["query_ids"] = values["query_ids"] or []
    values["kind"] = values["kind"] or RUN_SCORE  # rows recorded before runs had a kind
    return InferenceRun(**values)


def _decode(
    row: dict[str, Any], columns: tuple[tuple[str, str], ...], renames: dict[str, str]
) -> dict[str, Any]:
    upper = {str(k).upper(): v for k, v in row.items()}
    values: dict[str, Any] = {}
    for column, kind in columns:
        value = upper.get(column)
        if kind == JSON and isinstance(value, (str, bytes)):
            value = json.loads(value)
        values[renames.get(column, column.lower())] = value
    return values


def record_to_json(record: ModelRecord | InferenceRun) -> dict[str, Any]:
    """Plain JSON document of a record (CLI ``--json`` output)."""
    data = dataclasses.asdict(record)
    data["created"] = record.created.isoformat()
    return json_safe(data)

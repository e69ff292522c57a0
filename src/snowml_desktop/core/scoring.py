"""Scoring a frame with a trained pipeline: labels in the original label type plus their probability.

Training evaluates with :func:`predict_with_proba` too, so the metrics in the catalog describe exactly
what scoring produces (the label is the most probable class; for calibrated SVC this can differ from the
estimator's own ``predict``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from snowml_desktop.core.errors import InvalidInput
from snowml_desktop.core.identifiers import display
from snowml_desktop.core.preprocessing import coerce_features, missing_columns
from snowml_desktop.core.records import Feature
from snowml_desktop.core.threshold import apply as apply_threshold


def missing_features(columns: Iterable[str], features: list[Feature]) -> list[str]:
    """Names of ``features`` absent from ``columns``, in feature order (empty when scoring can proceed)."""
    return missing_columns(columns, features)


def mistyped_features(kinds: Mapping[str, str], features: list[Feature]) -> list[str]:
    """Numeric features whose column (``kinds``: column name -> "numeric", "text", "boolean", "temporal" or
    "other") holds something else: its values that are not numbers would be scored as missing. Categorical
    features take any column (values become text). Absent columns are ``missing_features``' concern."""
    return [
        f.name
        for f in features
        if f.kind == "numeric" and f.name in kinds and kinds[f.name] not in ("numeric", "boolean")
    ]


def mistyped_error(
    column: str, sql_type: str, table: str, model: str, *, bad: int, values: int, example: Any
) -> InvalidInput:
    """The refusal of a table whose ``column`` (a ``mistyped_features`` one) holds ``bad`` of its ``values``
    non-null values that are not numbers (``example``: one of them), the same wording on every engine."""
    return InvalidInput(
        f"Column {display(column)} of table {display(table)} is {sql_type}, but model {model} was trained on "
        f"it as numbers: {bad:,} of its {values:,} values cannot be converted to a number (e.g. {example!r}) "
        "and would be scored as missing.",
        hint="Fix those values, or load the table again with values that are not numbers set to NULL "
        "(Load Data: 'Not numbers', or --bad-numbers null), then score it.",
    )


def predict_with_proba(
    pipeline: Any, frame: pd.DataFrame, threshold: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(labels, probability of each label) for an already coerced feature frame; a binary model's
    ``threshold`` (see ``core.threshold``) replaces the most-probable-class rule."""
    if len(frame) == 0:
        classes = np.asarray(pipeline.classes_)
        return classes[:0], np.zeros(0, dtype=np.float64)
    if hasattr(pipeline, "predict_proba"):
        proba = np.asarray(pipeline.predict_proba(frame), dtype=np.float64)
        if threshold is not None and proba.shape[1] == 2:
            return apply_threshold(pipeline.classes_, proba, threshold)
        best = proba.argmax(axis=1)
        labels = np.asarray(pipeline.classes_)[best]
        return labels, proba[np.arange(len(best)), best]
    labels = np.asarray(pipeline.predict(frame))
    return labels, np.full(len(labels), np.nan)


def predict(
    pipeline: Any, frame: pd.DataFrame, features: list[Feature], threshold: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(predicted labels in the original label type, probability of the predicted class as float64).

    ``frame`` may hold extra columns and any dtypes an engine returns; feature values are coerced to what
    training saw. ``threshold``: a binary model's decision threshold (None: the most probable class).
    Raises InvalidInput naming the feature columns missing from ``frame``.
    """
    return predict_with_proba(pipeline, coerce_features(frame, features), threshold)


def predict_proba(pipeline: Any, frame: pd.DataFrame, features: list[Feature]) -> np.ndarray:
    """Class probabilities (columns in ``pipeline.classes_`` order) for a raw frame; raises like ``predict``."""
    return np.asarray(pipeline.predict_proba(coerce_features(frame, features)), dtype=np.float64)

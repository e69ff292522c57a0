"""Predicting one Arrow record batch in a scoring worker: exactly the labels and probabilities that
``core.scoring.predict`` gives for the batch's pandas frame, with far less Python per row.

Most of a scoring batch's time in the fitted pipeline goes to the categorical branch of the preprocessor:
every text value becomes a Python ``str``, then the one-hot encoder looks each one up in a dict. That
branch is row-wise (a row's encoding depends on its own values only), and a batch holds few distinct
combinations of categorical values. So each categorical column is dictionary-encoded in Arrow (C++),
the distinct combinations are found on integer codes, only those rows go through the fitted branch, with
values coerced exactly as ``coerce_features`` does, and the encoded rows are gathered back by index.
Numeric columns, the rest of the pipeline and the decision rule (threshold included) are the ordinary ones.
Pipelines of another shape than ``core.training`` builds are predicted the ordinary way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from snowml_desktop.core.preprocessing import CATEGORICAL, coerce_features, missing_columns, to_categories
from snowml_desktop.core.scoring import predict, predict_with_proba

if TYPE_CHECKING:
    import pyarrow as pa

    from snowml_desktop.core.records import Feature

_MAX_COMBINED_CODE = 2**62  # distinct combinations are numbered in an int64


@dataclass(frozen=True)
class _Branch:
    transformer: Any  # a fitted transformer of the ColumnTransformer
    features: list[Feature]  # its input columns, in its order
    categorical: bool  # every input is a categorical feature: encoded per distinct combination


@dataclass(frozen=True)
class _Plan:
    branches: list[_Branch]
    rest: Any  # the pipeline after its preprocessor (a Pipeline ending with the model)


def predict_batch(
    pipeline: Any, batch: pa.RecordBatch, features: list[Feature], threshold: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(labels, probability of each label) for ``batch``, identical to ``core.scoring.predict`` on
    ``batch.to_pandas()``; raises as it does (InvalidInput naming missing feature columns)."""
    plan = _plan(pipeline, features)
    if plan is None or batch.num_rows == 0 or missing_columns(batch.schema.names, features):
        return predict(pipeline, batch.to_pandas(), features, threshold)
    encoded = [
        _encode_distinct(branch, batch) if branch.categorical else _encode_rows(branch, batch)
        for branch in plan.branches
    ]
    return predict_with_proba(plan.rest, np.hstack(encoded), threshold)


def _plan(pipeline: Any, features: list[Feature]) -> _Plan | None:
    """How to run ``pipeline`` branch by branch, or None when it is not a fitted Pipeline starting with a
    dense ColumnTransformer whose branches take named feature columns (no passthrough)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    if not isinstance(pipeline, Pipeline) or len(pipeline.steps) < 2:
        return None
    preprocessor = pipeline.steps[0][1]
    if not isinstance(preprocessor, ColumnTransformer) or not hasattr(preprocessor, "transformers_"):
        return None
    if getattr(preprocessor, "sparse_output_", True) or preprocessor.sparse_threshold != 0:
        return None
    if getattr(preprocessor, "_sklearn_output_config", {}).get("transform", "default") != "default":
        return None
    by_name = {f.name: f for f in features}
    branches = []
    for _, transformer, columns in preprocessor.transformers_:
        if isinstance(transformer, str) and transformer == "drop":
            continue
        names = list(columns) if isinstance(columns, (list, tuple)) else None
        if isinstance(transformer, str) or not names or not all(n in by_name for n in names):
            return None
        chosen = [by_name[n] for n in names]
        branches.append(_Branch(transformer, chosen, all(f.kind == CATEGORICAL for f in chosen)))
    return _Plan(branches, pipeline[1:]) if branches else None


def _encode_rows(branch: _Branch, batch: pa.RecordBatch) -> np.ndarray:
    names = [f.name for f in branch.features]
    frame = batch.select(names).to_pandas()
    return np.asarray(branch.transformer.transform(coerce_features(frame, branch.features)))


def _encode_distinct(branch: _Branch, batch: pa.RecordBatch) -> np.ndarray:
    """The branch's output for every row, computed once per distinct combination of its input values."""
    import pyarrow.compute as pc

    codes, values = [], []
    for feature in branch.features:
        encoded = pc.dictionary_encode(batch.column(feature.name))
        dictionary = encoded.dictionary
        # The dictionary's values coerced as the whole column would be (coercion is per value), plus a
        # last slot for missing values.
        text = to_categories(dictionary.to_pandas(), boolean=feature.sql_type == "BOOLEAN")
        values.append(np.append(text, np.array([np.nan], dtype=object)))
        codes.append(encoded.indices.fill_null(len(dictionary)).to_numpy().astype(np.int64))
    radices = [len(v) for v in values]
    if math.prod(radices) >= _MAX_COMBINED_CODE:
        return _encode_rows(branch, batch)
    combined = codes[0]
    for code, radix in zip(codes[1:], radices[1:], strict=True):
        combined = combined * radix + code
    inverse, distinct = pd.factorize(combined)
    columns: dict[str, np.ndarray] = {}
    for feature, value, radix in reversed(list(zip(branch.features, values, radices, strict=True))):
        distinct, code = np.divmod(distinct, radix)
        columns[feature.name] = value[code]
    frame = pd.DataFrame(
        {f.name: pd.Series(columns[f.name], dtype=object) for f in branch.features},
        columns=[f.name for f in branch.features],
    )
    return np.asarray(branch.transformer.transform(frame))[inverse]

"""Which columns a model can use, how their values are made uniform, and the preprocessing Pipeline step.

Column plan (:func:`plan_columns`): every candidate column gets a kind, "numeric" (integers, floats,
decimals) or "categorical" (strings, booleans, pandas categoricals), and a generic SQL type. Columns are
excluded, with a warning, when they are:

- ``all missing`` (no value at all)                        -> warning code ``empty_columns_dropped``
- ``constant`` (one value, counting missing as a value)    -> ``constant_columns_dropped``
- ``ID-like``: a string unique on every row, or an integer unique on every row whose name looks like an
  identifier (``id``, ``*_id``, ``uuid`` ...) or whose values are a near-consecutive run (1..n)
                                                            -> ``id_columns_excluded``
- ``high cardinality``: a string column with more than 1 000 distinct values, or distinct values on more
  than half of its rows (beyond 50)                         -> ``high_cardinality_excluded``
- ``unsupported type`` (dates, times, binary, nested)       -> ``unsupported_columns_excluded``

Value coercion (:func:`coerce_features`): the same for training and scoring, so a model scores a table
whatever dtypes the engine returns (DuckDB or Snowflake may give ints for a float column, ``Decimal``
objects, pandas ``str`` or pyarrow-backed dtypes). Numeric values become float64 with NaN for missing or
unparsable values; categorical values become Python ``str`` objects ("True"/"False" for booleans, "3"
for the integral float 3.0) with NaN for missing.

The preprocessor (:func:`build_preprocessor`) is a plain scikit-learn ColumnTransformer: numeric ->
median imputation + standard scaling; categorical -> constant "(missing)" imputation + one-hot encoding
that ignores unseen categories and caps the columns per feature, so no column can explode memory.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from snowml_desktop.core.errors import InvalidInput
from snowml_desktop.core.records import Feature, ModelWarning

NUMERIC, CATEGORICAL = "numeric", "categorical"
MISSING_CATEGORY = "(missing)"
#: One-hot columns per categorical feature at most; rarer values share one "infrequent" column.
MAX_CATEGORIES = 30
#: Values seen on fewer than this share of training rows go to the "infrequent" column.
MIN_FREQUENCY = 0.001
HIGH_CARDINALITY = 1000
_HIGH_CARDINALITY_SHARE = 0.5
_HIGH_CARDINALITY_FLOOR = 50
#: ID detection needs enough rows for "unique on every row" to mean something.
_ID_MIN_ROWS = 20

_BOOL_TEXT = np.array(["False", "True"], dtype=object)
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})
_ID_NAME = re.compile(r"(^id$|[_\s.-]id$|^id[_\s.-]|uuid|guid|(^|_)key$)", re.IGNORECASE)
_CAMEL_ID = re.compile(r"[a-z](ID|Id)$")


@dataclass
class ColumnPlan:
    """The usable features, and the columns left out with why (``[{"column", "reason"}]``)."""

    features: list[Feature] = field(default_factory=list)
    excluded: list[dict[str, str]] = field(default_factory=list)
    warnings: list[ModelWarning] = field(default_factory=list)


def column_type(series: pd.Series) -> tuple[str, str] | None:
    """(kind, generic SQL type) for a column, or None when its type cannot be a feature."""
    dtype = series.dtype
    if ptypes.is_bool_dtype(dtype):
        return CATEGORICAL, "BOOLEAN"
    if isinstance(dtype, pd.CategoricalDtype):
        return CATEGORICAL, "VARCHAR"
    if ptypes.is_datetime64_any_dtype(dtype) or ptypes.is_timedelta64_dtype(dtype):
        return None
    if ptypes.is_integer_dtype(dtype):
        return NUMERIC, "BIGINT"
    if ptypes.is_numeric_dtype(dtype):
        return NUMERIC, "DOUBLE"
    if ptypes.is_string_dtype(dtype) and not ptypes.is_object_dtype(dtype):
        return CATEGORICAL, "VARCHAR"
    if ptypes.is_object_dtype(dtype):
        return _object_type(series)
    return None


def _object_type(series: pd.Series) -> tuple[str, str] | None:
    inferred = ptypes.infer_dtype(series, skipna=True)
    if inferred == "boolean":
        return CATEGORICAL, "BOOLEAN"
    if inferred == "integer":
        return NUMERIC, "BIGINT"
    if inferred in ("floating", "mixed-integer-float", "decimal", "empty"):
        return NUMERIC, "DOUBLE"
    if inferred in ("string", "mixed", "mixed-integer", "categorical"):
        return CATEGORICAL, "VARCHAR"
    return None


def plan_columns(frame: pd.DataFrame, candidates: list[str], *, explicit: bool) -> ColumnPlan:
    """Classify ``candidates`` (columns of ``frame``) into usable features and excluded columns.

    ``explicit`` means the user named the columns: they are still excluded when unusable, and the
    warning says they were requested. Raises nothing; an empty feature list is the caller's to reject.
    """
    plan = ColumnPlan()
    by_code: dict[str, list[tuple[str, str]]] = {}
    for name in candidates:
        series = frame[name]
        typed = column_type(series)
        code, reason = "unsupported_columns_excluded", f"type {series.dtype} cannot be a model input"
        if typed is not None:
            try:
                code, reason = _exclusion(name, series, typed[0])
            except TypeError:  # unhashable values (lists, dicts from nested SQL types): not a feature
                typed = None
        if code is None:
            plan.features.append(Feature(name, typed[0], typed[1]))
        else:
            plan.excluded.append({"column": name, "reason": reason})
            by_code.setdefault(code, []).append((name, reason))
    for code, columns in by_code.items():
        plan.warnings.append(ModelWarning(code, _exclusion_message(code, columns, explicit)))
    return plan


def _exclusion(name: str, series: pd.Series, kind: str) -> tuple[str | None, str]:
    rows = len(series)
    nonnull = int(series.notna().sum())
    if nonnull == 0:
        return "empty_columns_dropped", "every value is missing"
    distinct = int(series.nunique(dropna=True))
    if distinct + (nonnull < rows) <= 1:
        return "constant_columns_dropped", "the same value on every row"
    if _is_id_like(name, series, kind, rows, nonnull, distinct):
        return "id_columns_excluded", "a different value on every row, like an identifier"
    if kind == CATEGORICAL and _is_high_cardinality(nonnull, distinct):
        return (
            "high_cardinality_excluded",
            f"{distinct:,} distinct values (too many categories to learn from)",
        )
    return None, ""


def _is_id_like(name: str, series: pd.Series, kind: str, rows: int, nonnull: int, distinct: int) -> bool:
    if rows < _ID_MIN_ROWS or distinct != nonnull or nonnull < 0.95 * rows:
        return False
    typed = column_type(series)
    if kind == CATEGORICAL:
        return typed is not None and typed[1] == "VARCHAR"
    if typed is None or typed[1] != "BIGINT":
        return False
    if _ID_NAME.search(name) or _CAMEL_ID.search(name):
        return True
    values = to_float(series)
    span = np.nanmax(values) - np.nanmin(values) + 1
    return bool(span <= 2 * nonnull)


def _is_high_cardinality(nonnull: int, distinct: int) -> bool:
    if distinct > HIGH_CARDINALITY:
        return True
    return distinct > _HIGH_CARDINALITY_FLOOR and distinct > _HIGH_CARDINALITY_SHARE * nonnull


_EXCLUSION_TITLES = {
    "empty_columns_dropped": "Dropped column(s) with no values",
    "constant_columns_dropped": "Dropped constant column(s)",
    "id_columns_excluded": "Excluded ID-like column(s), unique on every row so they cannot generalize",
    "high_cardinality_excluded": "Excluded high-cardinality text column(s)",
    "unsupported_columns_excluded": "Excluded column(s) of a type models cannot use",
}


def _exclusion_message(code: str, columns: list[tuple[str, str]], explicit: bool) -> str:
    listed = "; ".join(f"{name} ({reason})" for name, reason in columns)
    requested = " even though requested as feature(s)" if explicit else ""
    return f"{_EXCLUSION_TITLES[code]}{requested}: {listed}."


# --- value coercion ----------------------------------------------------------------------------------


def to_float(series: pd.Series) -> np.ndarray:
    """float64 values of a column; missing and unparsable values become NaN."""
    dtype = series.dtype
    if ptypes.is_bool_dtype(dtype) or (ptypes.is_numeric_dtype(dtype) and not ptypes.is_object_dtype(dtype)):
        return series.to_numpy(dtype="float64", na_value=np.nan)
    # object (Decimal, mixed), strings and anything else: parse; garbage counts as missing.
    values = pd.to_numeric(series.astype(object), errors="coerce")
    return np.asarray(values, dtype="float64")


def _category_text(value: Any, boolean: bool) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return np.nan
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return np.nan
        if value.is_integer():
            value = int(value)
    text = str(value)
    if boolean:
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return "True"
        if lowered in _FALSE:
            return "False"
    return text


def to_categories(series: pd.Series, *, boolean: bool = False) -> np.ndarray:
    """object array of ``str`` category values, NaN for missing. ``boolean`` folds true/false spellings."""
    dtype = series.dtype
    if not boolean and ptypes.is_string_dtype(dtype) and not ptypes.is_object_dtype(dtype):
        return series.to_numpy(dtype=object, na_value=np.nan)  # already strings: the fast path
    if ptypes.is_bool_dtype(dtype):  # vectorized: scoring batches of booleans are common and large
        missing = series.isna().to_numpy()
        values = _BOOL_TEXT[series.to_numpy(dtype=bool, na_value=False).astype(np.intp)]
        values[missing] = np.nan
        return values
    values = series.to_numpy(dtype=object)
    return np.array([_category_text(v, boolean) for v in values], dtype=object)


def coerce_features(frame: pd.DataFrame, features: list[Feature]) -> pd.DataFrame:
    """A frame of exactly ``features`` (in order) with the dtypes the pipeline was trained on.

    Raises InvalidInput naming any feature columns missing from ``frame``.
    """
    missing = missing_columns(frame.columns, features)
    if missing:
        raise InvalidInput(
            f"The input lacks the model's feature column(s): {', '.join(missing)}.",
            hint="Score a table that has every column the model was trained on.",
        )
    data: dict[str, Any] = {}
    for feature in features:
        series = frame[feature.name]
        if feature.kind == NUMERIC:
            # Plain float64 arrays: a Series per column costs more than the model on small scoring batches.
            data[feature.name] = to_float(series)
        else:
            values = to_categories(series, boolean=feature.sql_type == "BOOLEAN")
            # An explicit object Series: pandas 3 would otherwise infer its "str" dtype for the array.
            data[feature.name] = pd.Series(values, index=frame.index, dtype=object)
    return pd.DataFrame(data, index=frame.index, columns=[f.name for f in features])


def missing_columns(columns: Iterable[str], features: list[Feature]) -> list[str]:
    """Feature names absent from ``columns`` (exact, canonical names), in feature order."""
    present = set(columns)
    return [f.name for f in features if f.name not in present]


def encoded_width(frame: pd.DataFrame, features: list[Feature]) -> int:
    """Model inputs the preprocessor makes of coerced ``frame``: one per numeric feature, and per categorical
    one a one-hot column per value (missing included), at most ``MAX_CATEGORIES``."""
    width = 0
    for feature in features:
        if feature.kind == NUMERIC:
            width += 1
        else:
            width += min(int(frame[feature.name].nunique(dropna=False)), MAX_CATEGORIES)
    return width


def build_preprocessor(features: list[Feature]) -> Any:
    """An unfitted ColumnTransformer for coerced frames of ``features``."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = [f.name for f in features if f.kind == NUMERIC]
    categorical = [f.name for f in features if f.kind == CATEGORICAL]
    transformers = []
    if numeric:
        steps = [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
        transformers.append(("numeric", Pipeline(steps), numeric))
    if categorical:
        encoder = OneHotEncoder(
            handle_unknown="ignore",
            max_categories=MAX_CATEGORIES,
            min_frequency=MIN_FREQUENCY,
            sparse_output=False,
        )
        impute = SimpleImputer(strategy="constant", fill_value=MISSING_CATEGORY, missing_values=np.nan)
        transformers.append(("categorical", Pipeline([("impute", impute), ("onehot", encoder)]), categorical))
    return ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0)

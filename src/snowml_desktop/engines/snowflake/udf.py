"""The per-model vectorized scoring UDF: its handler, how it loads the model, and its registration.

Design (one pass, typed output):
- The UDF takes one typed argument per feature (FLOAT for numeric features, VARCHAR / BOOLEAN for
  categorical ones), so Snowflake hands the handler a pandas DataFrame of typed columns and no per-row
  JSON has to be built in SQL or parsed in Python (the original demo's ``OBJECT_CONSTRUCT(*)`` +
  ``json_normalize`` approach; see benchmarks/bench_udf.py for the difference).
- It returns one VARIANT object per row, ``{"PREDICTION": label, "PROBABILITY": p}``: both values come from
  the same ``predict_proba`` call, so the model runs once per row. Two scalar UDFs would run it twice.
  The caller turns the object into typed columns with casts (``scoring_columns``): PREDICTION as the label's
  type, PREDICTION_PROBABILITY as FLOAT.
- The model is loaded once per process, cached by its sha256, and the bytes are checked against the catalog's
  sha256 before they are unpickled: a tampered artifact is refused, never executed.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from snowml_desktop.core.errors import InvalidInput, NotFound
from snowml_desktop.core.identifiers import quote
from snowml_desktop.core.records import Feature, ModelRecord
from snowml_desktop.engines.snowflake import sql

if TYPE_CHECKING:
    import pandas as pd
    from snowflake.snowpark import Column, Session
    from snowflake.snowpark.types import DataType

#: Upper bound on rows per handler call (Snowflake may send fewer). Chosen with benchmarks/bench_udf.py: the
#: fixed cost per call (feature coercion, scikit-learn validation, ~10 ms) dominates below a few thousand
#: rows; at 32k rows it is amortized (doubling again gains little) while a batch stays small in memory
#: (30 float features x 32k rows ~ 8 MB) and takes well under a second even for slow models.
DEFAULT_MAX_BATCH_SIZE = 32768

PREDICTION_KEY = "PREDICTION"
PROBABILITY_KEY = "PROBABILITY"
PREDICTION_COLUMN = "PREDICTION"
PROBABILITY_COLUMN = "PREDICTION_PROBABILITY"

_BOOLEAN_TYPES = frozenset({"BOOLEAN", "BOOL"})
_PIPELINES: dict[str, Any] = {}
_PIPELINES_LOCK = threading.Lock()


def udf_name(model_name: str) -> str:
    """Canonical name of a model's scoring UDF (quote it for SQL): ``RANDOM_FOREST_3`` -> ``PREDICT_RANDOM_FOREST_3``."""
    return f"PREDICT_{model_name}"


def argument_types(features: Sequence[Feature]) -> list[DataType]:
    """The UDF's argument types, one per feature: FLOAT for numeric, BOOLEAN or VARCHAR for categorical."""
    from snowflake.snowpark.types import BooleanType, DoubleType, StringType

    types: list[DataType] = []
    for feature in features:
        if feature.kind == "numeric":
            types.append(DoubleType())
        elif feature.sql_type.upper() in _BOOLEAN_TYPES:
            types.append(BooleanType())
        else:
            types.append(StringType())
    return types


def label_type(classes: Sequence[Any]) -> DataType:
    """SQL type of PREDICTION: the type the target's labels have (BOOLEAN, BIGINT, FLOAT or VARCHAR)."""
    from snowflake.snowpark.types import BooleanType, DoubleType, LongType, StringType

    values = [c.item() if hasattr(c, "item") else c for c in classes]
    if values and all(isinstance(v, bool) for v in values):
        return BooleanType()
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return LongType()
    if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return DoubleType()
    return StringType()


def argument_sql_types(features: Sequence[Feature]) -> list[str]:
    """The UDF's argument types as SQL (its signature, e.g. for ``DROP FUNCTION name(FLOAT, VARCHAR)``)."""
    from snowflake.snowpark.types import BooleanType, DoubleType

    names = []
    for data_type in argument_types(features):
        if isinstance(data_type, DoubleType):
            names.append("FLOAT")
        elif isinstance(data_type, BooleanType):
            names.append("BOOLEAN")
        else:
            names.append("VARCHAR")
    return names


def name_batch(batch: pd.DataFrame, features: Sequence[Feature]) -> pd.DataFrame:
    """Name a batch's positional columns 0..n-1 after the features (Snowflake passes them unnamed).

    Dtype drift (int64 vs float64, Decimal objects, pandas ``str`` vs ``object``, all-null ``object``
    columns) is left to ``core.scoring.predict``, which coerces exactly as training did. Raises InvalidInput
    when the column count is not the feature count.
    """
    if batch.shape[1] != len(features):
        raise InvalidInput(
            f"The scoring UDF got {batch.shape[1]} columns but the model has {len(features)} features.",
            hint="Call it with one argument per feature, in the catalog's feature order.",
        )
    return batch.set_axis([feature.name for feature in features], axis=1)


def make_vectorized_handler(pipeline: Any, features: list[Feature]) -> Callable[[pd.DataFrame], pd.Series]:
    """The UDF body for an in-memory pipeline: DataFrame of positional feature columns -> Series of
    ``{"PREDICTION", "PROBABILITY"}`` objects, one per row, in the batch's row order."""
    frozen = list(features)

    def handler(batch: pd.DataFrame) -> pd.Series:
        import pandas as pd

        from snowml_desktop.core.scoring import predict

        labels, probabilities = predict(pipeline, name_batch(batch, frozen), frozen)
        # tolist() turns numpy scalars into Python values, which Snowflake can put into a VARIANT.
        objects = [
            {PREDICTION_KEY: label, PROBABILITY_KEY: _finite(probability)}
            for label, probability in zip(labels.tolist(), probabilities.tolist(), strict=True)
        ]
        return pd.Series(objects, index=batch.index, dtype=object)

    return handler


def _finite(value: float) -> float | None:
    # A model without probabilities yields NaN, which JSON (and so VARIANT) cannot hold: SQL NULL instead.
    return None if value != value else value


def cached_pipeline(path: str, sha256: str) -> Any:
    """The pipeline in artifact ``path``, loaded once per process and cached by sha256.

    ``core.artifacts.load_artifact`` checks the sha256 before unpickling: raises IntegrityError for a
    tampered file (never unpickled), NotFound when it is missing.
    """
    with _PIPELINES_LOCK:
        if sha256 in _PIPELINES:
            return _PIPELINES[sha256]
        from snowml_desktop.core.artifacts import load_artifact

        pipeline = load_artifact(Path(path), sha256).pipeline
        _PIPELINES[sha256] = pipeline
        return pipeline


def import_directory() -> str:
    """Where Snowflake puts a UDF's imported files. Raises NotFound outside a Snowflake UDF."""
    directory = getattr(sys, "_xoptions", {}).get("snowflake_import_directory")
    if not directory:
        raise NotFound("No Snowflake import directory: this code is not running inside a Snowflake UDF.")
    return directory


def make_artifact_handler(
    artifact_file: str, sha256: str, features: list[Feature]
) -> Callable[[pd.DataFrame], pd.Series]:
    """The registered UDF body: the artifact ``artifact_file`` (an import of the UDF) is loaded on first
    use from the import directory, checked by sha256, and cached for the process's later batches."""
    frozen = list(features)

    # No annotations: Snowpark reads a UDF's type hints with typing.get_type_hints, which cannot resolve
    # names imported only for type checking; the types are given explicitly at registration instead.
    def handler(batch):  # noqa: ANN001, ANN202
        pipeline = cached_pipeline(os.path.join(import_directory(), artifact_file), sha256)
        return make_vectorized_handler(pipeline, frozen)(batch)

    return handler


def register_model_udf(
    session: Session,
    record: ModelRecord,
    artifact_stage_path: str,
    packages: list[str],
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
    *,
    location: sql.Location,
    code_imports: Sequence[str] = (),
    stage_location: str | None = None,
) -> str:
    """Register the permanent vectorized scoring UDF of ``record`` in the app schema of ``location``; return
    its qualified name.

    ``artifact_stage_path`` (e.g. ``@"DB"."SNOWML"."MODELS"/RANDOM_FOREST_3.joblib``) becomes an import of
    the UDF; ``code_imports`` are the stage paths of this project's code (the handler refers to it);
    ``packages`` is the pinned package set shared with the training procedure, so the artifact unpickles.
    The UDF is replaced if it exists (the catalog row, inserted after, is what makes a model visible).
    """
    from snowflake.snowpark.types import PandasDataFrameType, PandasSeriesType, VariantType

    if max_batch_size < 1:
        raise InvalidInput(f"max_batch_size must be at least 1, not {max_batch_size}.")
    name = location.app(udf_name(record.name))
    artifact_file = artifact_stage_path.rsplit("/", 1)[-1]
    handler = make_artifact_handler(artifact_file, record.artifact_sha256, list(record.features))
    session.udf.register(
        handler,
        name=name,
        input_types=[PandasDataFrameType(argument_types(record.features))],
        return_type=PandasSeriesType(VariantType()),
        is_permanent=True,
        stage_location=stage_location,
        imports=[artifact_stage_path, *code_imports],
        packages=list(packages),
        max_batch_size=max_batch_size,
        replace=True,
        immutable=True,
        comment=f"snowml-desktop scoring UDF of model {record.name}",
        statement_params={"QUERY_TAG": sql.query_tag("train")},
    )
    return name


def udf_call(record: ModelRecord, function_name: str) -> Column:
    """``<function>(CAST(f1 AS FLOAT), ...)``: the UDF called with each feature cast to its argument type."""
    from snowflake.snowpark.functions import call_function, col

    arguments = [
        col(quote(feature.name)).cast(data_type)
        for feature, data_type in zip(record.features, argument_types(record.features), strict=True)
    ]
    return call_function(function_name, *arguments)


def scoring_columns(record: ModelRecord, result: Column) -> list[Column]:
    """Typed PREDICTION and PREDICTION_PROBABILITY columns taken from the UDF's result object; with a binary
    model's threshold set, relabelled in SQL (see ``core.threshold``), so that a new threshold needs no new UDF."""
    from snowflake.snowpark.functions import iff, lit
    from snowflake.snowpark.types import DoubleType

    label_sql_type = label_type(record.classes)
    label = result[PREDICTION_KEY].cast(label_sql_type)
    probability = result[PROBABILITY_KEY].cast(DoubleType())
    if record.threshold is not None and len(record.classes) == 2:
        negative, positive = record.classes
        # The UDF gives the most probable class and its probability; with two classes that fixes P(positive).
        p_positive = iff(label == lit(positive), probability, lit(1.0) - probability)
        chosen = p_positive >= lit(float(record.threshold))
        label = iff(chosen, lit(positive), lit(negative)).cast(label_sql_type)
        probability = iff(chosen, p_positive, lit(1.0) - p_positive)
    return [label.alias(quote(PREDICTION_COLUMN)), probability.alias(quote(PROBABILITY_COLUMN))]

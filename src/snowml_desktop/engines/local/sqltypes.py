"""DuckDB type names: which kind of column they hold, and which loads into which."""

from __future__ import annotations

INTEGER_TYPES = frozenset(
    {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "UHUGEINT",
    }
)
FLOAT_TYPES = frozenset({"FLOAT", "DOUBLE", "REAL"})
TEXT_TYPES = frozenset({"VARCHAR", "UUID"})
TEMPORAL_PREFIXES = ("DATE", "TIME", "TIMESTAMP", "INTERVAL")


def base_type(sql_type: str) -> str:
    """``DECIMAL(18,3)`` -> ``DECIMAL``; ``TIMESTAMP WITH TIME ZONE`` stays whole."""
    return sql_type.split("(", 1)[0].strip().upper()


def kind_of(sql_type: str) -> str:
    """The column kind the UI and the ML core reason about: numeric, text, boolean, temporal or other."""
    base = base_type(sql_type)
    if base in INTEGER_TYPES or base in FLOAT_TYPES or base == "DECIMAL":
        return "numeric"
    if base in TEXT_TYPES:
        return "text"
    if base == "BOOLEAN":
        return "boolean"
    if base.startswith(TEMPORAL_PREFIXES):
        return "temporal"
    return "other"


def is_integer(sql_type: str) -> bool:
    return base_type(sql_type) in INTEGER_TYPES


def can_append(file_type: str, table_type: str) -> bool:
    """Whether values a file holds as ``file_type`` load into a table column of ``table_type`` without loss
    of meaning (text goes only into text; whole numbers go into any number; dates into timestamps)."""
    source, target = base_type(file_type), base_type(table_type)
    if source == target or target in TEXT_TYPES:
        return True
    if kind_of(target) == "numeric":
        return source in INTEGER_TYPES or (source in FLOAT_TYPES | {"DECIMAL"} and not is_integer(target))
    return source == "DATE" and target.startswith("TIMESTAMP")

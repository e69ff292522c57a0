"""Snowflake identifier rules, shared by every engine: the one place that turns names into SQL.

A name typed by a user is *normalized* once (``normalize``), stored in that canonical form, and quoted
(``quote``) every time it is put into SQL. Canonical form follows Snowflake: a simple name (letter or
underscore, then letters, digits, ``_`` or ``$``) is case-insensitive and stored upper-case; anything
else (spaces, quotes, unicode, a name typed inside double quotes) is kept exactly. Quoting always emits a
double-quoted identifier with embedded quotes doubled, which is valid and exact in Snowflake and DuckDB,
so reserved words and hostile names are harmless.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from snowml_desktop.core.errors import InvalidInput

MAX_LENGTH = 255
#: Names holding this (in any case: DuckDB matches names case-insensitively) belong to the engines' own
#: bookkeeping: local staging tables start with it (swept when a workspace opens), a Snowflake load's staging
#: table ends with ``__SNOWML_LOADING`` and Snowflake scoring adds a ``__SNOWML_RESULT`` column. Users may
#: not create or drop such tables (``user_table``) nor score tables with such columns (``user_columns``).
INTERNAL_PREFIX = "__SNOWML_"
_HASH_CHARS = 8
_SIMPLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")

# Snowflake's reserved keywords (documented list). A simple name that is one of these still needs quotes
# when shown to a user as SQL to copy; internally every name is quoted anyway.
RESERVED = frozenset(
    [
        "ACCOUNT",
        "ALL",
        "ALTER",
        "AND",
        "ANY",
        "AS",
        "BETWEEN",
        "BY",
        "CASE",
        "CAST",
        "CHECK",
        "COLUMN",
        "CONNECT",
        "CONNECTION",
        "CONSTRAINT",
        "CREATE",
        "CROSS",
        "CURRENT",
        "CURRENT_DATE",
        "CURRENT_TIME",
        "CURRENT_TIMESTAMP",
        "CURRENT_USER",
        "DATABASE",
        "DELETE",
        "DISTINCT",
        "DROP",
        "ELSE",
        "EXISTS",
        "FALSE",
        "FOLLOWING",
        "FOR",
        "FROM",
        "FULL",
        "GRANT",
        "GROUP",
        "GSCLUSTER",
        "HAVING",
        "ILIKE",
        "IN",
        "INCREMENT",
        "INNER",
        "INSERT",
        "INTERSECT",
        "INTO",
        "IS",
        "ISSUE",
        "JOIN",
        "LATERAL",
        "LEFT",
        "LIKE",
        "LOCALTIME",
        "LOCALTIMESTAMP",
        "MINUS",
        "NATURAL",
        "NOT",
        "NULL",
        "OF",
        "ON",
        "OR",
        "ORDER",
        "ORGANIZATION",
        "QUALIFY",
        "REGEXP",
        "REVOKE",
        "RIGHT",
        "RLIKE",
        "ROW",
        "ROWS",
        "SAMPLE",
        "SCHEMA",
        "SELECT",
        "SET",
        "SOME",
        "START",
        "TABLE",
        "TABLESAMPLE",
        "THEN",
        "TO",
        "TRIGGER",
        "TRUE",
        "TRY_CAST",
        "UNION",
        "UNIQUE",
        "UPDATE",
        "USING",
        "VALUES",
        "VIEW",
        "WHEN",
        "WHENEVER",
        "WHERE",
        "WITH",
    ]
)


def normalize(text: str, *, what: str = "name") -> str:
    """Return the canonical stored form of a user-typed identifier.

    ``sales`` -> ``SALES``; ``"sales"`` -> ``sales``; ``my table`` -> ``my table``; ``"a""b"`` -> ``a"b``.
    Raises InvalidInput for an empty name, control characters, or more than 255 characters.
    """
    if not isinstance(text, str):
        raise InvalidInput(f"The {what} must be text, not {type(text).__name__}.")
    stripped = text.strip()
    if len(stripped) >= 2 and stripped.startswith('"') and stripped.endswith('"'):
        inner = stripped[1:-1]
        if re.search(r'(?<!")"(?!")', inner.replace('""', "")):
            raise InvalidInput(
                f"The {what} {text!r} has an unpaired double quote inside quotes.",
                hint='Double any quote inside a quoted name, e.g. "a""b".',
            )
        name = inner.replace('""', '"')
    elif _SIMPLE.match(stripped):
        name = stripped.upper()
    else:
        name = stripped
    if not name:
        raise InvalidInput(f"The {what} is empty.", hint='Type a name such as SALES or "My Table".')
    if len(name) > MAX_LENGTH:
        raise InvalidInput(f"The {what} is {len(name)} characters long; the limit is {MAX_LENGTH}.")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise InvalidInput(
            f"The {what} {text!r} contains control characters.", hint="Remove them and try again."
        )
    return name


def is_internal(name: str) -> bool:
    """True for a name reserved for the engines' own tables and columns (see :data:`INTERNAL_PREFIX`)."""
    return INTERNAL_PREFIX in name.upper()


def user_table(text: str, *, what: str = "table name") -> str:
    """``normalize`` for a table a user creates, writes or drops: also refuses the names reserved for the
    engines' internal tables (:data:`INTERNAL_PREFIX`), which would otherwise be taken for leftovers."""
    name = normalize(text, what=what)
    if is_internal(name):
        raise InvalidInput(
            f"The {what} {text.strip()!r} contains {INTERNAL_PREFIX}, which is reserved for snowml's own "
            "temporary tables.",
            hint=f"Choose a name without {INTERNAL_PREFIX}.",
        )
    return name


def user_columns(columns: Iterable[str], table: str) -> None:
    """Refuse to score ``table`` when some of its ``columns`` (canonical names) are named like the
    engines' internal columns (:data:`INTERNAL_PREFIX`), which they would clash with."""
    reserved = [c for c in columns if is_internal(c)]
    if reserved:
        raise InvalidInput(
            f"Table {display(table)} has column(s) {', '.join(display(c) for c in reserved)}, named with "
            f"{INTERNAL_PREFIX}, which is reserved for snowml's own columns.",
            hint=f"Rename the column(s) without {INTERNAL_PREFIX} (or leave them out of a copy of the table), "
            "then score it.",
        )


def derived_name(base: str, suffix: str) -> str:
    """A generated name: canonical ``base`` followed by ``suffix`` (``CHURN`` + ``_CLONE_RF_1``), kept within
    :data:`MAX_LENGTH` by cutting ``base`` and adding a short hash of the whole of it, so the same inputs
    always give the same name and two long bases that share a beginning still give different names."""
    name = base + suffix
    if len(name) <= MAX_LENGTH:
        return name
    digest = hashlib.sha256(base.encode("utf-8")).hexdigest()[:_HASH_CHARS].upper()
    keep = MAX_LENGTH - len(suffix) - len(digest) - 1
    if keep < 1:
        raise InvalidInput(f"The name suffix {suffix!r} is too long for a generated name.")
    return f"{base[:keep]}_{digest}{suffix}"


def quote(name: str) -> str:
    """Quote a canonical name for SQL: ``a"b`` -> ``"a""b"``. Use for every table, column, schema and stage."""
    return '"' + name.replace('"', '""') + '"'


def qualified(*parts: str) -> str:
    """Quote and join canonical parts: ``qualified("APP", "MODELS")`` -> ``"APP"."MODELS"``."""
    return ".".join(quote(part) for part in parts)


def is_simple(name: str) -> bool:
    """True when the canonical name can be written without quotes in Snowflake SQL."""
    return bool(_SIMPLE.match(name)) and name == name.upper() and name not in RESERVED


def display(name: str) -> str:
    """How to show a canonical name to a user in SQL they may copy: bare when possible, quoted otherwise."""
    return name if is_simple(name) else quote(name)


def string_literal(value: str, *, backslash_escapes: bool) -> str:
    """A single-quoted SQL string literal. Snowflake treats backslash as an escape; DuckDB does not.

    Prefer bind parameters; this is for the few places SQL grammar allows no parameter (DDL comments).
    """
    if "\x00" in value:
        raise InvalidInput("Text for SQL may not contain NUL characters.")
    escaped = value.replace("\\", "\\\\") if backslash_escapes else value
    return "'" + escaped.replace("'", "''") + "'"

"""Loading a stage file (CSV or Parquet) into a user table, atomically and without dropping rows silently.

How a CSV load works:
1. DuckDB's sniffer (``sniff_csv``) finds the dialect (delimiter, quote, escape, header, skipped lines)
   and the column types (from the whole file up to 16 MB, else from a sample). ``header="yes"|"no"``
   overrides the header detection.
2. Column names come from the header (normalized like any identifier: ``age`` -> ``AGE``, ``my col`` kept),
   from ``columns_from`` (names and types of an existing table), or are ``COLUMN1..N``.
3. The file is read in one statement (``CREATE TABLE .. AS SELECT * FROM read_csv(..)`` or ``INSERT``)
   with explicit options, so DuckDB's parallel reader does all the work; no Python touches the rows.
   ``store_rejects`` sends every row that does not parse (wrong column count, a value that does not fit
   the column's type) to a temporary rejects table, from which the count and the first reasons are taken.
4. All of it runs in one transaction: a failed, rejected or cancelled load rolls back and leaves the
   target table exactly as it was (DuckDB's DDL is transactional, so there is no staging table to clean
   up, even after a crash).

Choices for bad input: an empty file, a file with no data rows, a file whose rows are all rejected, a
file with duplicate column names, or one that is not UTF-8 is refused with InvalidInput and nothing is
changed. Non-UTF-8 files are refused rather than decoded with a guessed encoding, because a wrong guess
(cp1252 vs latin-1 ...) silently corrupts text; the message says to re-save the file as UTF-8.
Yes/No-style columns the sniffer types as BOOLEAN are kept as text unless their values are literally
true/false, so a label such as ``CHURNED`` keeps the values the user sees in the file. Files delimited
by semicolons (or tabs, pipes) whose numbers use a decimal comma (``2,5``) load those columns as numbers.
A text column whose values are numbers but for a few (``abc`` in AGE) is reported on the result
(``LoadResult.not_numbers``: column, count, first examples) and, as ``LoadRequest.bad_numbers`` asks, kept
as text, loaded as numbers with those rows rejected, or loaded as numbers with those values NULL. Files
whose dialect DuckDB's strict sniffer refuses (mixed CRLF/LF line endings) are sniffed and read without
strict mode.
"""

from __future__ import annotations

import csv
import gzip
import logging
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO

import duckdb

from snowml_desktop.core.errors import AlreadyExists, EngineError, InvalidInput, NotFound
from snowml_desktop.core.identifiers import display, normalize, qualified, quote
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.engines.base import (
    BAD_NUMBER_MODES,
    FILE_FORMATS,
    HEADER_MODES,
    LOAD_MODES,
    ColumnInfo,
    LoadRequest,
    LoadResult,
    NotNumbers,
    Rejection,
)
from snowml_desktop.engines.local import sqlrun
from snowml_desktop.engines.local.sqltypes import can_append, kind_of
from snowml_desktop.engines.local.stages import check_loadable, stage_file_path
from snowml_desktop.engines.local.workspace import Workspace

log = logging.getLogger(__name__)

MAX_REJECTIONS_SHOWN = 5
DELIMITER_CANDIDATES = (",", ";", "\t", "|")
BOOLEAN_PROBE_ROWS = 20_480
# Files up to this size are sniffed whole, so a column's type fits every row (a sample can miss the one
# "N/A" that makes a column text); bigger files are sniffed on DuckDB's sample and misfits are rejected.
FULL_SNIFF_BYTES = 16 * 1024 * 1024
_EMPTY = "(empty)"
# A text column whose values are numbers but for at most this share (and at least one number) is
# reported as "numbers with a few bad values" (a single "abc" in AGE).
NOT_NUMBER_SHARE = 0.1
NOT_NUMBER_EXAMPLES = 3
#: Key added to a sniffed dialect read without DuckDB's strict mode.
STRICT = "snowml_strict"
_DIALECT_NOT_FOUND = "not possible to automatically detect the CSV parsing dialect"


@dataclass
class CsvLayout:
    """How to read a CSV file: dialect options (SQL literals), and the columns' names and types."""

    options: dict[str, str]
    header: bool
    delimiter: str
    names: list[str]
    types: list[str]  # the types to read with
    file_types: list[str]  # the types the sniffer saw in the file (for append checks)
    skipped: list[Rejection] = field(default_factory=list)  # lines before the data the sniffer skipped
    nulled: dict[str, str] = field(default_factory=dict)  # column -> number type; other values become NULL


@dataclass
class ParquetLayout:
    file_names: list[str]
    names: list[str]
    types: list[str]
    casts: dict[str, str] = field(default_factory=dict)  # canonical name -> type to cast to (append)


def load_file(workspace: Workspace, request: LoadRequest, task: TaskContext | None = None) -> LoadResult:
    """Load ``request.file`` from its stage into ``request.table``; see the module docstring.

    Raises InvalidInput (bad request, empty/unreadable file, duplicate columns, all rows rejected,
    incompatible append), NotFound (stage, file, append target or columns_from table), AlreadyExists
    (mode create on an existing table), Cancelled.
    """
    task = task or TaskContext()
    started = time.perf_counter()
    _check_request(request)
    path = stage_file_path(workspace, request.stage, request.file)
    file_format = _file_format(path, request.file_format)
    table = normalize(request.table, what="table name")
    if path.stat().st_size == 0:
        raise InvalidInput(
            f"The file {path.name} is empty.", hint="Choose a file with a header and data rows."
        )
    cur = workspace.cursor()
    try:
        return _load(cur, workspace, path, file_format, table, request, task, started)
    finally:
        cur.close()


def _check_request(request: LoadRequest) -> None:
    if request.mode not in LOAD_MODES:
        raise InvalidInput(
            f"Unknown load mode {request.mode!r}.", hint=f"Use one of: {', '.join(LOAD_MODES)}."
        )
    if request.header not in HEADER_MODES:
        raise InvalidInput(
            f"Unknown header setting {request.header!r}.", hint=f"Use one of: {', '.join(HEADER_MODES)}."
        )
    if request.bad_numbers not in BAD_NUMBER_MODES:
        raise InvalidInput(
            f"Unknown setting {request.bad_numbers!r} for values that are not numbers.",
            hint=f"Use one of: {', '.join(BAD_NUMBER_MODES)}.",
        )
    if request.file_format not in FILE_FORMATS:
        raise InvalidInput(
            f"Unknown file format {request.file_format!r}.", hint=f"Use one of: {', '.join(FILE_FORMATS)}."
        )


def _file_format(path: Path, requested: str) -> str:
    if requested != "auto":
        return requested
    check_loadable(path)
    return "parquet" if ".parquet" in [s.lower() for s in path.suffixes] else "csv"


def _load(
    cur: duckdb.DuckDBPyConnection,
    workspace: Workspace,
    path: Path,
    file_format: str,
    table: str,
    request: LoadRequest,
    task: TaskContext,
    started: float,
) -> LoadResult:
    schema = workspace.DATA_SCHEMA
    ref = qualified(schema, table)
    exists = sqlrun.table_exists(cur, schema, table)
    if request.mode == "create" and exists:
        raise AlreadyExists(
            f"The table {display(table)} already exists.",
            hint="Load with mode replace to overwrite it, or append to add rows.",
        )
    if request.mode == "append" and not exists:
        raise NotFound(
            f"There is no table {display(table)} to append to.", hint="Load with mode create to make it."
        )
    target = sqlrun.table_columns(cur, schema, table) if request.mode == "append" else None
    template = _template(cur, workspace, request.columns_from) if request.columns_from else None

    task.report(0.01, f"Reading the layout of {path.name}")
    rejects = f"snowml_rejects_{uuid.uuid4().hex}"
    not_numbers: list[NotNumbers] = []
    if file_format == "parquet":
        if request.columns_from:
            raise InvalidInput(
                "columns_from applies to CSV files without a header; a Parquet file names its columns."
            )
        layout = _parquet_layout(cur, path)
        if target is not None:
            layout = _fit_parquet(layout, target, table, path)
        source = _parquet_source(path, layout)
    else:
        layout = _csv_layout(cur, path, request.header, template, headerless=target)
        if target is not None:
            layout = _fit_csv(layout, target, table, path)
        elif template is None and "decimal_separator" not in layout.options:
            not_numbers = _not_numbers(cur, path, layout, request.bad_numbers)
            layout = _as_numbers(layout, not_numbers)
        source = _csv_source(path, layout, rejects)

    with sqlrun.cancellable(cur, task, 0.05, 0.95, f"Loading {path.name}"):
        cur.execute("BEGIN TRANSACTION")
        try:
            loaded = _write(cur, ref, source, request.mode, exists, path, table)
            rejected, rejections = _rejections(cur, rejects, path) if file_format == "csv" else (0, [])
            if isinstance(layout, CsvLayout) and layout.skipped:
                rejected += len(layout.skipped)
                rejections = (layout.skipped + rejections)[:MAX_REJECTIONS_SHOWN]
            _check_outcome(path, table, layout, loaded, rejected, rejections)
            task.check()
            cur.execute("COMMIT")
        except BaseException:
            sqlrun.rollback_quietly(cur)
            raise
    sqlrun.checkpoint_quietly(cur)
    columns = [ColumnInfo(n, t, kind_of(t)) for n, t in sqlrun.table_columns(cur, schema, table)]
    task.report(1.0, f"Loaded {loaded:,} rows")
    return LoadResult(
        table, loaded, rejected, rejections, columns, time.perf_counter() - started, not_numbers=not_numbers
    )


def _template(
    cur: duckdb.DuckDBPyConnection, workspace: Workspace, columns_from: str
) -> list[tuple[str, str]]:
    name = normalize(columns_from, what="columns_from table name")
    if not sqlrun.table_exists(cur, workspace.DATA_SCHEMA, name):
        raise NotFound(
            f"There is no table {display(name)} to take column names from.",
            hint="Name an existing table with the same columns as the file.",
        )
    return sqlrun.table_columns(cur, workspace.DATA_SCHEMA, name)


# --- CSV layout ------------------------------------------------------------------------------------------
def _csv_layout(
    cur: duckdb.DuckDBPyConnection,
    path: Path,
    header_mode: str,
    template: list[tuple[str, str]] | None,
    headerless: list[tuple[str, str]] | None = None,
) -> CsvLayout:
    """Sniff the dialect and decide the columns' names and types: ``template`` (columns_from) names them
    by position; else the header; else ``headerless`` (an append's table) when there is no header; else
    COLUMN1..N. Raises InvalidInput."""
    header = {"yes": True, "no": False}.get(header_mode)
    sniffed = _sniff(cur, path, header)
    if len(sniffed["Columns"]) == 1:
        sniffed = _retry_single_column(cur, path, header, sniffed)
    decimal_comma = _decimal_comma(cur, path, header, sniffed)
    if decimal_comma is not None:
        sniffed = decimal_comma
    skipped = _skipped_lines(path, sniffed)
    has_header = bool(sniffed["HasHeader"]) if header is None else header
    if header is None and template is not None:
        # columns_from exists for files without a header; a first line is a header only if it repeats
        # the table's column names (the sniffer guesses poorly on small files).
        has_header = _first_row_names(path, sniffed) == [name for name, _ in template]
    delimiter = sniffed["Delimiter"]
    options = _dialect_options(sniffed, has_header)
    if decimal_comma is not None:
        options["decimal_separator"] = sqlrun.literal(",")
    sniffed_names = [c["name"] for c in sniffed["Columns"]]
    types = [c["type"] for c in sniffed["Columns"]]
    file_types = list(types)
    if template is None and not has_header:
        template = headerless
    if template is not None:
        if len(template) != len(types):
            raise InvalidInput(
                f"{path.name} has {len(types)} columns but the table to take names from has {len(template)}.",
                hint="Columns are matched by position, so the counts must be equal.",
            )
        names = [name for name, _ in template]
        types = [sql_type for _, sql_type in template]
    elif has_header:
        names = _header_names(path, sniffed, sniffed_names)
        types = _boolean_as_text(cur, path, options, names, types)
    else:
        names = [f"COLUMN{i}" for i in range(1, len(types) + 1)]
        types = _boolean_as_text(cur, path, options, names, types)
    return CsvLayout(options, has_header, delimiter, names, types, file_types, skipped)


def _sniff(
    cur: duckdb.DuckDBPyConnection,
    path: Path,
    header: bool | None,
    delimiter: str | None = None,
    *,
    ragged: bool = True,
    decimal_comma: bool = False,
) -> dict:
    args, params = ["?"], [str(path)]
    if path.stat().st_size <= FULL_SNIFF_BYTES:
        args.append("sample_size = -1")
    if header is not None:
        args.append("header = ?")
        params.append(header)
    if delimiter is not None:
        args.append("delim = ?")
        params.append(delimiter)
        if ragged:
            args.append("ignore_errors = true")
    if decimal_comma:
        args.append("decimal_separator = ','")
    try:
        row = _sniff_row(cur, args, params)
    except duckdb.Error as exc:
        if _DIALECT_NOT_FOUND not in str(exc):
            raise _read_error(path, exc) from exc
        # Strict mode refuses some files that read fine without it, e.g. CRLF lines with one LF-only line.
        try:
            row = _sniff_row(cur, [*args, "strict_mode = false"], params)
        except duckdb.Error as retry_exc:
            raise _read_error(path, exc) from retry_exc
        if row is not None:
            row[STRICT] = False
    if row is None:
        raise InvalidInput(f"The file {path.name} has no rows.")
    return row


def _sniff_row(cur: duckdb.DuckDBPyConnection, args: list[str], params: list) -> dict | None:
    cursor = cur.execute(f"SELECT * FROM sniff_csv({', '.join(args)})", params)
    names = [d[0] for d in cursor.description]
    row = cursor.fetchone()
    return None if row is None else dict(zip(names, row, strict=True))


def _retry_single_column(
    cur: duckdb.DuckDBPyConnection, path: Path, header: bool | None, sniffed: dict
) -> dict:
    """The sniffer found one column. If the first line contains a usual delimiter, the rows are probably
    ragged: read with that delimiter (bad rows are then rejected with reasons). Otherwise one column it is."""
    first = _first_line(path, int(sniffed["SkipRows"] or 0))
    counts = {d: first.count(d) for d in DELIMITER_CANDIDATES if d != sniffed["Delimiter"]}
    best = max(counts, key=lambda d: counts[d]) if counts else None
    if best is None or counts[best] == 0:
        return sniffed
    try:
        retried = _sniff(cur, path, header, best)
    except InvalidInput:
        retried = None
    if retried is None or len(retried["Columns"]) < 2:
        raise InvalidInput(
            f"Only one column was found in {path.name}, although its first line contains {_show(best)}.",
            hint="The rows do not split consistently on one delimiter; check the file's delimiter and quoting.",
        )
    return retried


def _decimal_comma(
    cur: duckdb.DuckDBPyConnection, path: Path, header: bool | None, sniffed: dict
) -> dict | None:
    """A file delimited by something other than commas may write decimals with a comma (``2,5``), as
    European spreadsheets do. If reading it so turns text columns into numbers and changes nothing else,
    return that reading; else None."""
    before = [c["type"] for c in sniffed["Columns"]]
    if sniffed["Delimiter"] == "," or "VARCHAR" not in before:
        return None
    try:
        retried = _sniff(cur, path, header, sniffed["Delimiter"], ragged=False, decimal_comma=True)
    except InvalidInput:
        return None
    after = [c["type"] for c in retried["Columns"]]
    if len(after) != len(before) or bool(retried["HasHeader"]) != bool(sniffed["HasHeader"]):
        return None
    changed = [(b, a) for b, a in zip(before, after, strict=True) if a != b]
    if changed and all(b == "VARCHAR" and kind_of(a) == "numeric" for b, a in changed):
        return retried
    return None


def _skipped_lines(path: Path, sniffed: dict) -> list[Rejection]:
    """Lines the sniffer skipped before the data (a title line, say), reported as rejections so no line
    vanishes unnoticed. A skipped first line that splits into the same columns on another delimiter is a
    header written with a different delimiter than the rows: refused with InvalidInput."""
    skip = int(sniffed.get("SkipRows") or 0)
    if not skip:
        return []
    with _open_text(path) as handle:
        lines = [handle.readline().rstrip("\r\n") for _ in range(skip)]
    columns = len(sniffed["Columns"])
    for other in DELIMITER_CANDIDATES:
        if other != sniffed["Delimiter"] and columns > 1 and lines[-1].count(other) == columns - 1:
            raise InvalidInput(
                f"The first line of {path.name} is split by {_show(other)} but the rows by "
                f"{_show(sniffed['Delimiter'])}; the delimiter is inconsistent.",
                hint="Re-save the file with one delimiter throughout, then upload it again.",
            )
    return [
        Rejection(number, f"skipped before the data (not in the table's layout) — line: {text[:80]!r}")
        for number, text in enumerate(lines, start=1)
    ]


def _dialect_options(sniffed: dict, header: bool) -> dict[str, str]:
    def text(key: str) -> str:
        value = sniffed.get(key)
        return "" if value in (None, _EMPTY) else str(value)

    options = {
        "delim": sqlrun.literal(text("Delimiter")),
        "quote": sqlrun.literal(text("Quote")),
        "escape": sqlrun.literal(text("Escape")),
        "new_line": sqlrun.literal(text("NewLineDelimiter")),
        "comment": sqlrun.literal(text("Comment")),
        "skip": str(int(sniffed.get("SkipRows") or 0)),
        "header": "true" if header else "false",
    }
    if sniffed.get(STRICT) is False:
        options["strict_mode"] = "false"
    for key, option in (("DateFormat", "dateformat"), ("TimestampFormat", "timestampformat")):
        if text(key):
            options[option] = sqlrun.literal(text(key))
    return options


def _header_names(path: Path, sniffed: dict, sniffed_names: list[str]) -> list[str]:
    """Canonical column names from the header line. Raises InvalidInput for duplicates (naming them)."""
    raw = _raw_header(path, sniffed)
    if raw is None or len(raw) != len(sniffed_names):
        raw = sniffed_names  # DuckDB's own reading of the header when ours disagrees (multi-char delimiters)
    names = []
    for index, text in enumerate(raw, start=1):
        text = text.strip()
        names.append(normalize(text, what=f"column name in {path.name}") if text else f"COLUMN{index}")
    counts = Counter(names)
    duplicates = [name for name, count in counts.items() if count > 1]
    if duplicates:
        groups = "; ".join(
            " / ".join(repr(r.strip()) for r, n in zip(raw, names, strict=True) if n == name)
            for name in duplicates
        )
        raise InvalidInput(
            f"{path.name} has duplicate column names: {groups}.",
            hint="Rename the columns so each is unique (simple names are case-insensitive), then upload it again.",
        )
    return names


def _first_row_names(path: Path, sniffed: dict) -> list[str] | None:
    """The first row's fields as canonical names, or None when they are not all valid names."""
    raw = _raw_header(path, sniffed)
    if not raw:
        return None
    try:
        return [normalize(text) for text in raw]
    except InvalidInput:
        return None


def _raw_header(path: Path, sniffed: dict) -> list[str] | None:
    delimiter = sniffed["Delimiter"]
    quote_char = "" if sniffed["Quote"] in (None, _EMPTY) else sniffed["Quote"]
    if len(delimiter) != 1 or len(quote_char) > 1:
        return None
    with _open_text(path) as handle:
        quoting = csv.QUOTE_MINIMAL if quote_char else csv.QUOTE_NONE
        reader = csv.reader(handle, delimiter=delimiter, quotechar=quote_char or None, quoting=quoting)
        for _ in range(int(sniffed["SkipRows"] or 0)):
            next(reader, None)
        return next(reader, None)


def _first_line(path: Path, skip: int) -> str:
    with _open_text(path) as handle:
        for _ in range(skip):
            handle.readline()
        return handle.readline()


def _open_text(path: Path) -> TextIO:
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", errors="replace", newline="")
    return path.open("r", encoding="utf-8-sig", errors="replace", newline="")


def _boolean_as_text(
    cur: duckdb.DuckDBPyConnection, path: Path, options: dict[str, str], names: list[str], types: list[str]
) -> list[str]:
    """Keep sniffed BOOLEAN columns as BOOLEAN only when their values read true/false; Yes/No, Y/N and
    1/0-style columns stay text so their values survive as written."""
    flagged = [i for i, t in enumerate(types) if t == "BOOLEAN"]
    if not flagged:
        return types
    text_columns = {name: "VARCHAR" for name in names}
    probe_source = _read_csv_sql(
        path, options, names, [text_columns[n] for n in names], extra="ignore_errors = true"
    )
    checks = ", ".join(
        f"coalesce(bool_and(lower(trim({quote(names[i])})) IN ('true', 'false')), true)" for i in flagged
    )
    try:
        row = cur.execute(
            f"SELECT {checks} FROM (SELECT * FROM {probe_source} LIMIT {BOOLEAN_PROBE_ROWS})"
        ).fetchone()
    except duckdb.Error as exc:
        raise _read_error(path, exc) from exc
    result = list(types)
    for index, is_true_false in zip(flagged, row or [], strict=False):
        if not is_true_false:
            result[index] = "VARCHAR"
    return result


def _not_numbers(
    cur: duckdb.DuckDBPyConnection, path: Path, layout: CsvLayout, action: str
) -> list[NotNumbers]:
    """Text columns whose values are numbers but for a few (at most ``NOT_NUMBER_SHARE``): a first
    look at the file's start picks the candidates, then their values are counted in full."""
    text = [name for name, sql_type in zip(layout.names, layout.types, strict=True) if sql_type == "VARCHAR"]
    if not text:
        return []
    source = _read_csv_sql(
        path, layout.options, layout.names, ["VARCHAR"] * len(layout.names), extra="ignore_errors = true"
    )

    def number(name: str, sql_type: str = "DOUBLE") -> str:
        return f"TRY_CAST(trim({quote(name)}) AS {sql_type})"

    counts = ", ".join(f"count({quote(n)}), count({number(n)})" for n in text)
    try:
        sample = iter(
            cur.execute(
                f"SELECT {counts} FROM (SELECT * FROM {source} LIMIT {BOOLEAN_PROBE_ROWS})"
            ).fetchone()
        )
        candidates = [n for n in text if _mostly_numbers(next(sample), next(sample), any_bad=False)]
        if not candidates:
            return []
        full = ", ".join(
            f"count({quote(n)}), count({number(n)}), count({number(n, 'BIGINT')})" for n in candidates
        )
        totals = iter(cur.execute(f"SELECT {full} FROM {source}").fetchone())
        found = []
        for name in candidates:
            values, numbers, whole = next(totals), next(totals), next(totals)
            if _mostly_numbers(values, numbers, any_bad=True):
                found.append((name, values - numbers, "BIGINT" if whole == numbers else "DOUBLE"))
        if not found:
            return []
        examples = " UNION ALL ".join(
            f"(SELECT {k} AS k, {quote(name)} AS v FROM {source} WHERE {quote(name)} IS NOT NULL "
            f"AND {number(name)} IS NULL LIMIT {NOT_NUMBER_EXAMPLES})"
            for k, (name, _, _) in enumerate(found)
        )
        shown: dict[int, list[str]] = {}
        for k, value in cur.execute(examples).fetchall():
            shown.setdefault(k, []).append(value)
    except duckdb.Error as exc:
        raise _read_error(path, exc) from exc
    return [
        NotNumbers(name, count, sorted(shown.get(k, [])), sql_type, action)
        for k, (name, count, sql_type) in enumerate(found)
    ]


def _mostly_numbers(values: int, numbers: int, *, any_bad: bool) -> bool:
    bad = values - numbers
    return numbers > 0 and bad <= NOT_NUMBER_SHARE * values and (bad > 0 or not any_bad)


def _as_numbers(layout: CsvLayout, not_numbers: list[NotNumbers]) -> CsvLayout:
    """The layout that reads the columns of ``not_numbers`` as their action says."""
    types = dict(zip(layout.names, layout.types, strict=True))
    nulled = {}
    for found in not_numbers:
        if found.action == "reject":
            types[found.column] = found.numeric_type  # the reader rejects each row it cannot convert
        elif found.action == "null":
            nulled[found.column] = found.numeric_type
    return replace(layout, types=[types[name] for name in layout.names], nulled=nulled)


def _fit_csv(layout: CsvLayout, target: list[tuple[str, str]], table: str, path: Path) -> CsvLayout:
    """For append: the file's columns must be the table's (by name), with types that fit; read with the
    table's types so a value that does not fit is rejected with its line."""
    target_types = dict(target)
    _check_same_columns(layout.names, [n for n, _ in target], table, path)
    _check_types(list(zip(layout.names, layout.file_types, strict=True)), target_types, table, path)
    return replace(layout, types=[target_types[name] for name in layout.names])


def _fit_parquet(
    layout: ParquetLayout, target: list[tuple[str, str]], table: str, path: Path
) -> ParquetLayout:
    target_types = dict(target)
    _check_same_columns(layout.names, [n for n, _ in target], table, path)
    _check_types(list(zip(layout.names, layout.types, strict=True)), target_types, table, path)
    return replace(layout, casts={name: target_types[name] for name in layout.names})


def _check_same_columns(names: list[str], table_names: list[str], table: str, path: Path) -> None:
    missing = [n for n in table_names if n not in names]
    extra = [n for n in names if n not in table_names]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(display(n) for n in missing)}")
        if extra:
            parts.append(f"not in the table: {', '.join(display(n) for n in extra)}")
        raise InvalidInput(
            f"{path.name} does not have the columns of table {display(table)} ({'; '.join(parts)}).",
            hint="Append needs the same column names; load into a new table instead, or fix the header.",
        )


def _check_types(
    columns: list[tuple[str, str]], target_types: dict[str, str], table: str, path: Path
) -> None:
    bad = [
        f"{display(name)} is {target_types[name]} in the table but {file_type} in the file"
        for name, file_type in columns
        if not can_append(file_type, target_types[name])
    ]
    if bad:
        raise InvalidInput(
            f"{path.name} cannot be appended to {display(table)}: {'; '.join(bad)}.",
            hint="Load it into a new table, or fix the values so each column has the table's type.",
        )


def _read_csv_sql(
    path: Path, options: dict[str, str], names: list[str], types: list[str], extra: str = ""
) -> str:
    columns = ", ".join(
        f"{sqlrun.literal(n)}: {sqlrun.literal(t)}" for n, t in zip(names, types, strict=True)
    )
    settings = ", ".join(f"{key} = {value}" for key, value in options.items())
    tail = f", {extra}" if extra else ""
    return f"read_csv({sqlrun.literal(str(path))}, auto_detect = false, {settings}, columns = {{{columns}}}{tail})"


def _csv_source(path: Path, layout: CsvLayout, rejects: str) -> str:
    store = (
        f"store_rejects = true, rejects_table = {sqlrun.literal(rejects)}, "
        f"rejects_scan = {sqlrun.literal(rejects + '_scan')}"
    )
    reader = _read_csv_sql(path, layout.options, layout.names, layout.types, extra=store)
    if not layout.nulled:
        return reader
    converted = ", ".join(
        f"TRY_CAST(trim({quote(name)}) AS {sql_type}) AS {quote(name)}"
        for name, sql_type in layout.nulled.items()
    )
    return f"(SELECT * REPLACE ({converted}) FROM {reader})"


# --- Parquet --------------------------------------------------------------------------------------------
def _parquet_layout(cur: duckdb.DuckDBPyConnection, path: Path) -> ParquetLayout:
    try:
        described = cur.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    except duckdb.Error as exc:
        raise InvalidInput(
            f"{path.name} cannot be read as Parquet: {str(exc).splitlines()[0]}",
            hint="Check that the file is a complete Parquet file, or load it as CSV.",
        ) from exc
    file_names = [row[0] for row in described]
    names = [
        normalize(n, what=f"column name in {path.name}") if n.strip() else f"COLUMN{i}"
        for i, n in enumerate(file_names, start=1)
    ]
    duplicates = sorted(n for n, c in Counter(names).items() if c > 1)
    if duplicates:
        raise InvalidInput(
            f"{path.name} has duplicate column names: {', '.join(display(n) for n in duplicates)}.",
            hint="Rename the columns so each is unique (simple names are case-insensitive).",
        )
    return ParquetLayout(file_names, names, [row[1] for row in described])


def _parquet_source(path: Path, layout: ParquetLayout) -> str:
    items = []
    for file_name, name in zip(layout.file_names, layout.names, strict=True):
        expr = quote(file_name)
        if name in layout.casts:
            expr = f"CAST({expr} AS {layout.casts[name]})"
        items.append(f"{expr} AS {quote(name)}")
    return f"(SELECT {', '.join(items)} FROM read_parquet({sqlrun.literal(str(path))}))"


# --- writing and checking ----------------------------------------------------------------------------------
def _write(
    cur: duckdb.DuckDBPyConnection, ref: str, source: str, mode: str, exists: bool, path: Path, table: str
) -> int:
    """Run the one bulk statement inside the caller's transaction; returns the rows written."""
    try:
        if mode == "append":
            row = cur.execute(f"INSERT INTO {ref} BY NAME SELECT * FROM {source}").fetchone()
        else:
            if exists:
                cur.execute(f"DROP TABLE {ref}")
            row = cur.execute(f"CREATE TABLE {ref} AS SELECT * FROM {source}").fetchone()
            sqlrun.mark_created(cur, ref)
    except duckdb.InterruptException:
        raise
    except duckdb.Error as exc:
        raise _read_error(path, exc, table) from exc
    return int(row[0]) if row else 0


def _rejections(cur: duckdb.DuckDBPyConnection, rejects: str, path: Path) -> tuple[int, list[Rejection]]:
    """The number of rejected lines and the first few reasons. Raises InvalidInput on encoding errors."""
    ref = quote(rejects)
    try:
        count, encoding_line = cur.execute(
            f"SELECT count(DISTINCT line), min(line) FILTER (WHERE error_type = 'INVALID ENCODING') FROM {ref}"
        ).fetchone()
    except duckdb.CatalogException:
        return 0, []  # no reject was recorded, so the table was never created
    if not count:
        return 0, []
    if encoding_line is not None:
        raise _encoding_error(path, int(encoding_line))
    rows = cur.execute(
        f"SELECT line, column_name, error_type, error_message, csv_line FROM {ref} "
        f"ORDER BY line, column_idx LIMIT 1000"
    ).fetchall()
    seen: set[int] = set()
    rejections = []
    for line, column, error_type, message, text in rows:
        if line in seen:
            continue
        seen.add(line)
        rejections.append(
            Rejection(int(line) if line is not None else None, _reason(column, error_type, message, text))
        )
        if len(rejections) == MAX_REJECTIONS_SHOWN:
            break
    return int(count), rejections


def _reason(column: str | None, error_type: str, message: str, text: str | None) -> str:
    where = f" in column {display(column)}" if column and error_type == "CAST" else ""
    detail = str(message).splitlines()[0] if message else error_type.lower()
    shown = f" — line: {text[:80]!r}" if text else ""
    return f"{detail}{where}{shown}"


def _check_outcome(
    path: Path,
    table: str,
    layout: CsvLayout | ParquetLayout,
    loaded: int,
    rejected: int,
    rejections: list[Rejection],
) -> None:
    """Refuse loads that would leave an empty or wholly rejected table (the transaction then rolls back)."""
    if loaded > 0:
        return
    if rejected:
        first = rejections[0]
        hint = "Fix the file and load it again."
        if isinstance(layout, CsvLayout) and "Columns" in first.reason:
            hint = f"Check the delimiter: the file was split on {_show(layout.delimiter)}."
        raise InvalidInput(
            f"All {rejected:,} rows of {path.name} were rejected; nothing was loaded into {display(table)}. "
            f"First problem (line {first.line}): {first.reason}",
            hint=hint,
        )
    if isinstance(layout, CsvLayout) and layout.header:
        raise InvalidInput(
            f"{path.name} has a header but no data rows; nothing was loaded.",
            hint="If the first line is data, load with header 'no'.",
        )
    raise InvalidInput(f"{path.name} has no data rows; nothing was loaded.")


def _read_error(path: Path, exc: duckdb.Error, table: str | None = None) -> EngineError:
    """The error to show for a failed read of ``path``, naming the cause DuckDB gives (DuckDB's CSV
    errors open with "CSV Error on Line: N" and an echo of the line; the cause comes after)."""
    text = str(exc)
    resource = sqlrun.resource_error(exc)
    if resource is not None:
        return resource
    if "invalid unicode" in text.lower() or "not utf-8 encoded" in text.lower():
        return _encoding_error(path, None)
    first_line = text.splitlines()[0] if text else type(exc).__name__
    log.info("reading %s failed: %s", path, first_line)
    log.debug("DuckDB's full message, which may quote rows of the file: %s", text)
    where = f" into {display(table)}" if table else ""
    if _DIALECT_NOT_FOUND in text:
        return InvalidInput(
            f"Could not load {path.name}{where}: its layout (delimiter, quoting, line breaks) could not be "
            "detected; the rows do not split the same way throughout.",
            hint="Open it in a spreadsheet or text editor and re-save it as CSV, then upload it again.",
        )
    line = re.search(r"CSV Error on Line: (\d+)", text)
    cause = _cause(text) if line else None
    if cause is None:
        first = text.splitlines()[0] if text else type(exc).__name__
        return InvalidInput(
            f"Could not load {path.name}{where}: {first}", hint="Check the file's format and contents."
        )
    size = re.search(r"Maximum line size of (\d+) bytes exceeded\. Actual Size:\s*(\d+)", cause)
    if size:
        limit, actual = int(size[1]), int(size[2])
        return InvalidInput(
            # No line number: DuckDB's sniffer counts lines its own way (the header is "line 1" or not).
            f"Could not load {path.name}{where}: a line is {actual:,} bytes long, over the "
            f"{limit:,}-byte limit for one line (a field that long is usually a stray quote or binary data).",
            hint="Check the quoting around that line, or split the long field, then upload it again.",
        )
    return InvalidInput(
        f"Could not load {path.name}{where}: line {line[1]}: {cause}",
        hint="Check the file's format and contents.",
    )


def _cause(text: str) -> str | None:
    """The first line of a DuckDB CSV error that explains it (after the "Original Line" echo)."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("Original Line:"):
            for candidate in lines[index + 1 :]:
                if candidate.strip() and not candidate.startswith("Possible"):
                    return candidate.strip()
    return None


def _encoding_error(path: Path, line: int | None) -> InvalidInput:
    at = f" (first at line {line})" if line else ""
    return InvalidInput(
        f"{path.name} is not UTF-8 text{at}; nothing was loaded.",
        hint="Re-save the file as 'CSV UTF-8' (in Excel: Save As > CSV UTF-8) and upload it again.",
    )


def _show(delimiter: str) -> str:
    return {"\t": "a tab", ",": "a comma", ";": "a semicolon", "|": "a pipe"}.get(delimiter, repr(delimiter))

"""A stand-in for Snowflake's answers to the statements of a load (SNOWML_LOAD's SqlRunner), on a Snowpark
local-testing session, which runs no SQL itself: it stands in for the network, not for our code.

Staged files are CSV texts given by the test. Tables live in this object (columns, rows, load metadata) and are
mirrored into the local-testing session, so the procedure's DataFrame reads (``_exists``, the result's columns)
see them. Each behaviour below is one of Snowflake's documented ones, listed with its page in ``BEHAVIOURS``;
nothing here asks the engine's code what Snowflake accepts (statement texts are read with regular expressions).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

INFER_SCHEMA_DOC = "https://docs.snowflake.com/en/sql-reference/functions/infer_schema"
LOAD_METADATA_DOC = "https://docs.snowflake.com/en/user-guide/data-load-considerations-load"
COPY_DOC = "https://docs.snowflake.com/en/sql-reference/sql/copy-into-table"
VALIDATE_DOC = "https://docs.snowflake.com/en/sql-reference/functions/validate"
ALTER_TABLE_DOC = "https://docs.snowflake.com/en/sql-reference/sql/alter-table"
NUMERIC_DOC = "https://docs.snowflake.com/en/sql-reference/data-types-numeric"

#: The documented behaviours this fake encodes: (behaviour, documentation page).
BEHAVIOURS: tuple[tuple[str, str], ...] = (
    ("INFER_SCHEMA with IGNORE_CASE => TRUE returns the column names in upper case", INFER_SCHEMA_DOC),
    ("INFER_SCHEMA reads a sample of the records of a file (MAX_RECORDS_PER_FILE)", INFER_SCHEMA_DOC),
    ("COPY keeps load metadata per table (file name and checksum, 64 days) and skips files loaded before",
     LOAD_METADATA_DOC),
    ("COPY with FORCE = TRUE loads a file again whatever the load metadata says", COPY_DOC),
    ("COPY with nothing to load returns one row: status 'Copy executed with 0 files processed.'", COPY_DOC),
    ("COPY ON_ERROR = CONTINUE skips rows that do not fit the column types and counts them", COPY_DOC),
    ("A value with more digits left of the point than NUMBER(p,s) allows (p - s) cannot be loaded", NUMERIC_DOC),
    ("VALIDATE(<table>, JOB_ID => '<query_id>'): the id is a string literal naming a COPY into that table",
     VALIDATE_DOC),
    ("ALTER TABLE ... SWAP WITH exchanges the two tables (their data and metadata); RENAME keeps them",
     ALTER_TABLE_DOC),
)  # fmt: skip

_NAME = r'"(?:[^"]|"")*"(?:\."(?:[^"]|"")*"){2}'
_TYPE = r"[A-Z_]+(?:\(\s*\d+\s*(?:,\s*\d+\s*)?\))?"
NOTHING_LOADED = "Copy executed with 0 files processed."


class FakeSnowflakeError(Exception):
    """What the account answers to a statement it refuses (the real runner raises Snowpark's SQL error)."""


@dataclass
class FakeTable:
    columns: list[tuple[str, str]]  # (name, Snowflake type)
    rows: list[list[Any]] = field(default_factory=list)
    loaded: set[tuple[str, str]] = field(default_factory=set)  # load metadata: (file, checksum)


@dataclass
class CopyJob:
    table: FakeTable
    rejected: list[tuple[int, str]]  # (line, error)


@dataclass
class FakeLoadAccount:
    """SqlRunner for ``procedures.run_load``: ``files`` maps a stage file name to its CSV text."""

    session: Any
    files: dict[str, str] = field(default_factory=dict)
    sample_rows: int = 2  # records INFER_SCHEMA reads per file, kept tiny so tests can pass it
    fail_on: str | None = None  # a regex: statements matching it fail (the network went away)
    tables: dict[str, FakeTable] = field(default_factory=dict)
    jobs: dict[str, CopyJob] = field(default_factory=dict)
    ran: list[str] = field(default_factory=list)

    # --- SqlRunner --------------------------------------------------------------------------------------
    def run(self, statement: Any) -> tuple[list[dict[str, Any]], str | None]:
        text = statement.text
        self.ran.append(text)
        if self.fail_on and re.search(self.fail_on, text):
            raise FakeSnowflakeError("Injected failure: the connection was lost.")
        query_id = str(uuid.uuid4())
        return self._answer(text, tuple(statement.params), query_id), query_id

    def _answer(self, text: str, params: tuple, query_id: str) -> list[dict[str, Any]]:
        if m := re.match(rf"CREATE OR REPLACE TABLE ({_NAME}) USING TEMPLATE \(.*INFER_SCHEMA\((.*)\)\)\)$", text):
            self._create(m.group(1), [(c["COLUMN_NAME"], c["TYPE"]) for c in self._infer(m.group(2))])
            return [{"status": "created"}]
        if m := re.match(r'SELECT .* FROM TABLE\(INFER_SCHEMA\((.*)\)\)(?: ORDER BY "ORDER_ID")?$', text):
            return self._infer(m.group(1))
        if m := re.match(rf"CREATE OR REPLACE TABLE ({_NAME}) LIKE ({_NAME})$", text):
            self._create(m.group(1), list(self._table(m.group(2)).columns))
            return [{"status": "created"}]
        if m := re.match(rf"CREATE OR REPLACE TABLE ({_NAME}) \((.*)\)$", text):
            pairs = re.findall(rf'("(?:[^"]|"")*") ({_TYPE})(?:, |$)', m.group(2))
            self._create(m.group(1), [(_unquote(n), t) for n, t in pairs])
            return [{"status": "created"}]
        if m := re.match(rf"COPY INTO ({_NAME}) FROM @{_NAME} FILES = \('((?:[^']|'')*)'\) (.*)$", text):
            return self._copy(m.group(1), m.group(2).replace("''", "'"), m.group(3), query_id)
        if m := re.match(rf"SELECT \* FROM TABLE\(VALIDATE\(({_NAME}), JOB_ID => (.*)\)\)$", text):
            return self._validate(m.group(1), m.group(2), params)
        if m := re.match(rf"ALTER TABLE ({_NAME}) SWAP WITH ({_NAME})$", text):
            a, b = m.group(1), m.group(2)
            self.tables[a], self.tables[b] = self._table(b), self._table(a)
            self._mirror(a), self._mirror(b)
            return [{"status": "swapped"}]
        if m := re.match(rf"ALTER TABLE ({_NAME}) RENAME TO ({_NAME})$", text):
            self.tables[m.group(2)] = self.tables.pop(self._known(m.group(1)))
            self._drop_mirror(m.group(1)), self._mirror(m.group(2))
            return [{"status": "renamed"}]
        if m := re.match(rf"DROP TABLE (IF EXISTS )?({_NAME})$", text):
            if m.group(2) in self.tables or not m.group(1):
                self.tables.pop(self._known(m.group(2)))
                self._drop_mirror(m.group(2))
            return [{"status": "dropped"}]
        raise AssertionError(f"The load fake does not know this statement: {text}")

    # --- behaviours -------------------------------------------------------------------------------------
    def _infer(self, arguments: str) -> list[dict[str, Any]]:
        location = re.search(r"LOCATION => '((?:[^']|'')*)'", arguments).group(1).replace("''", "'")
        ignore_case = re.search(r"IGNORE_CASE => TRUE", arguments) is not None
        header, records = self._records(location.rsplit("/", 1)[1], with_header=True)
        sample = records[: self.sample_rows]
        return [
            {
                "COLUMN_NAME": name.upper() if ignore_case else name,  # documented: retrieved in upper case
                "TYPE": _narrowest([r[i] for r in sample if i < len(r)]),
                "NULLABLE": True,
                "ORDER_ID": i,
            }
            for i, name in enumerate(header)
        ]

    def _copy(self, name: str, file: str, options: str, query_id: str) -> list[dict[str, Any]]:
        table = self._table(name)
        text = self.files[file]
        key = (file, hashlib.md5(text.encode()).hexdigest())
        if key in table.loaded and "FORCE = TRUE" not in options:
            return [{"status": NOTHING_LOADED}]  # skipped: the load metadata says it was loaded
        header_format = "FORMAT_NAME = '" in options and "SNOWML_CSV_HEADER" in options
        header, records = self._records(file, with_header=header_format)
        if "MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE" in options:
            by_upper = {h.upper(): i for i, h in enumerate(header)}
            positions = [by_upper.get(column.upper()) for column, _ in table.columns]
        else:
            positions = list(range(len(table.columns)))
        first_line = 2 if header_format else 1
        loaded, rejected = [], []
        for offset, record in enumerate(records):
            try:
                cells = zip(positions, table.columns, strict=True)
                loaded.append([_convert(_field(record, p), kind) for p, (_, kind) in cells])
            except ValueError as exc:
                rejected.append((first_line + offset, str(exc)))
        table.rows += loaded
        table.loaded.add(key)
        self._mirror(name)
        self.jobs[query_id] = CopyJob(table, rejected)
        status = "LOADED" if not rejected else ("PARTIALLY_LOADED" if loaded else "LOAD_FAILED")
        first = rejected[0] if rejected else (None, None)
        return [
            {
                "file": file, "status": status, "rows_parsed": len(records), "rows_loaded": len(loaded),
                "errors_seen": len(rejected), "first_error": first[1], "first_error_line": first[0],
            }
        ]  # fmt: skip

    def _validate(self, name: str, job_id: str, params: tuple) -> list[dict[str, Any]]:
        literal = re.fullmatch(r"'((?:[^']|'')*)'", job_id)
        if literal is None:  # the documented argument is '<query_id>' or '_last', a string literal
            raise FakeSnowflakeError(f"SQL compilation error: invalid value [{job_id}] for JOB_ID.")
        job = self.jobs.get(literal.group(1))
        if job is None or job.table is not self._table(name):
            raise FakeSnowflakeError("The specified query ID was not a load into the specified table.")
        return [{"ERROR": error, "LINE": line} for line, error in job.rejected]

    # --- plumbing ---------------------------------------------------------------------------------------
    def _records(self, file: str, *, with_header: bool) -> tuple[list[str], list[list[str]]]:
        rows = list(csv.reader(io.StringIO(self.files[file])))
        return (rows[0], rows[1:]) if with_header else ([], rows)

    def _known(self, name: str) -> str:
        if name not in self.tables:
            raise FakeSnowflakeError(f"Table {name} does not exist or not authorized.")
        return name

    def _table(self, name: str) -> FakeTable:
        return self.tables[self._known(name)]

    def _create(self, name: str, columns: list[tuple[str, str]]) -> None:
        self.tables[name] = FakeTable(columns)  # a new table object: no rows, no load metadata
        self._mirror(name)

    def _mirror(self, name: str) -> None:
        from snowflake.snowpark.types import StructField, StructType

        table = self.tables[name]
        schema = StructType([StructField(f'"{c}"', _snowpark_type(kind)) for c, kind in table.columns])
        self.session.create_dataframe(table.rows, schema=schema).write.save_as_table(name, mode="overwrite")

    def _drop_mirror(self, name: str) -> None:
        self.session.table(name).drop_table()

    def rows(self, name: str) -> list[list[Any]]:
        return self._table(name).rows


def _unquote(name: str) -> str:
    return name[1:-1].replace('""', '"')


def _field(record: list[str], position: int | None) -> str | None:
    if position is None or position >= len(record) or record[position] == "":
        return None  # EMPTY_FIELD_AS_NULL = TRUE in the app's CSV formats
    return record[position]


def _narrowest(values: list[str]) -> str:
    """The type INFER_SCHEMA reports for sampled CSV values: the narrowest NUMBER(p,s) or TEXT."""
    numbers = []
    for value in (v for v in values if v != ""):
        try:
            numbers.append(Decimal(value))
        except InvalidOperation:
            return "TEXT"
    if not numbers:
        return "TEXT"
    scale = max(max(-n.as_tuple().exponent, 0) for n in numbers)
    left = max(max(_integer_digits(n), 1) for n in numbers)
    return f"NUMBER({left + scale}, {scale})"


def _integer_digits(number: Decimal) -> int:
    return len(number.as_tuple().digits) + number.as_tuple().exponent


def _convert(value: str | None, kind: str) -> Any:
    """COPY's conversion of one field to the column type; ValueError carries Snowflake's error text."""
    if value is None:
        return None
    base, p, s = re.fullmatch(r"([A-Z_]+)(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?", kind).groups()
    if base in ("NUMBER", "DECIMAL", "NUMERIC", "FLOAT", "DOUBLE", "REAL"):
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"Numeric value '{value}' is not recognized") from None
        if base in ("FLOAT", "DOUBLE", "REAL"):
            return float(number)
        precision, scale = int(p or 38), int(s or 0)
        number = number.normalize()
        # What COPY does with more decimals than the scale is not what these tests are about: not encoded.
        assert -number.as_tuple().exponent <= scale, f"the load fake does not model {value!r} in {kind}"
        if _integer_digits(number) > precision - scale:
            raise ValueError(f"Numeric value '{value}' is out of range")
        return int(number) if scale == 0 else number
    if base in ("TEXT", "VARCHAR", "STRING", "CHAR") and p is not None and len(value) > int(p):
        raise ValueError(f"String '{value}' is too long and would be truncated")
    return value


def _snowpark_type(kind: str) -> Any:
    from snowflake.snowpark import types as t

    base, p, s = re.fullmatch(r"([A-Z_]+)(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?", kind).groups()
    if base in ("NUMBER", "DECIMAL", "NUMERIC"):
        return t.LongType() if not s or int(s) == 0 else t.DecimalType(int(p), int(s))
    if base in ("FLOAT", "DOUBLE", "REAL"):
        return t.DoubleType()
    if base == "BOOLEAN":
        return t.BooleanType()
    return t.StringType(int(p)) if p else t.StringType()

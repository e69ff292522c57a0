"""Loading stage files into tables on a real workspace: dialects, modes, rejections and every bad input."""

from __future__ import annotations

import json

import duckdb
import pytest

from snowml_desktop.core.errors import AlreadyExists, Cancelled, InvalidInput, NotFound
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.engines.base import LoadRequest
from snowml_desktop.engines.local import sqlrun

HOSTILE_NAMES = ['a"b; DROP TABLE x --', '"select"', "Größe", "my table"]


def put(engine, name: str, content: str | bytes) -> str:
    """Write a file straight onto LOAD_DATA and return its name."""
    path = engine.workspace.stage_dir("LOAD_DATA") / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return name


def load(engine, file: str, table: str = "T", **options):
    return engine.load(LoadRequest("LOAD_DATA", file, table, **options))


def user_tables(engine) -> list[str]:
    return [t.name for t in engine.list_tables()]


def rows_of(engine, table: str) -> list[tuple]:
    return [tuple(r) for r in engine.preview(table, 10_000).itertuples(index=False)]


# --- happy paths -------------------------------------------------------------------------------------------
def test_demo_churn_file_loads_with_its_types(local_engine):
    result = load(local_engine, "CHURN.csv", "churn")
    assert (result.table, result.rows_loaded, result.rows_rejected) == ("CHURN", 7000, 0)
    types = {c.name: (c.sql_type, c.kind) for c in result.columns}
    assert types["CHURNED"] == ("VARCHAR", "text")  # Yes/No stays text, not BOOLEAN
    assert types["PAPERLESS_BILLING"] == ("BOOLEAN", "boolean")
    assert types["MONTHLY_CHARGES"] == ("DOUBLE", "numeric")
    assert local_engine.class_balance("churn", "churned").labels == ["No", "Yes"]


def test_header_names_are_normalized(local_engine):
    put(local_engine, "names.csv", 'age,my col,Name,"quoted"\n1,2,3,4\n5,6,7,8\n')
    result = load(local_engine, "names.csv")
    assert [c.name for c in result.columns] == ["AGE", "my col", "NAME", "QUOTED"]


def test_semicolon_and_tab_files_are_sniffed(local_engine):
    put(local_engine, "semi.csv", "a;b;c\n1;2,5;x\n3;4,5;y\n")
    put(local_engine, "tabs.tsv", "a\tb\n1\thello world\n2\tbye\n")
    assert [c.name for c in load(local_engine, "semi.csv", "S").columns] == ["A", "B", "C"]
    assert load(local_engine, "tabs.tsv", "TABS").rows_loaded == 2
    assert rows_of(local_engine, "TABS")[0] == (1, "hello world")


def test_no_header_gives_numbered_columns(local_engine):
    put(local_engine, "nohdr.csv", "1,2.5,x\n3,4.5,y\n")
    result = load(local_engine, "nohdr.csv")
    assert [c.name for c in result.columns] == ["COLUMN1", "COLUMN2", "COLUMN3"]
    assert result.rows_loaded == 2


def test_header_no_keeps_the_first_line_as_data(local_engine):
    put(local_engine, "h.csv", "a,b\nx,y\n")
    result = load(local_engine, "h.csv", header="no")
    assert [c.name for c in result.columns] == ["COLUMN1", "COLUMN2"]
    assert rows_of(local_engine, "T") == [("a", "b"), ("x", "y")]


def test_header_yes_takes_names_from_a_numeric_first_line(local_engine):
    put(local_engine, "h.csv", "10,20\n1,2\n3,4\n")
    result = load(local_engine, "h.csv", header="yes")
    assert [c.name for c in result.columns] == ["10", "20"]
    assert result.rows_loaded == 2


def test_columns_from_takes_names_and_types(local_engine):
    put(local_engine, "with.csv", "ID,PRICE,LABEL\n1,2.5,a\n")
    put(local_engine, "without.csv", "7,1.25,b\n8,3,c\n")
    load(local_engine, "with.csv", "TEMPLATE")
    result = load(local_engine, "without.csv", "COPY", columns_from="template")
    assert [(c.name, c.sql_type) for c in result.columns] == [
        ("ID", "BIGINT"),
        ("PRICE", "DOUBLE"),
        ("LABEL", "VARCHAR"),
    ]
    assert rows_of(local_engine, "COPY") == [(7, 1.25, "b"), (8, 3.0, "c")]


def test_columns_from_with_another_column_count_is_refused(local_engine):
    put(local_engine, "with.csv", "ID,PRICE\n1,2.5\n")
    put(local_engine, "without.csv", "7,1.25,b\n")
    load(local_engine, "with.csv", "TEMPLATE")
    with pytest.raises(InvalidInput, match="3 columns but the table to take names from has 2"):
        load(local_engine, "without.csv", "COPY", columns_from="TEMPLATE")
    with pytest.raises(NotFound, match="NOPE"):
        load(local_engine, "without.csv", "COPY", columns_from="nope")
    assert "COPY" not in user_tables(local_engine)


def test_parquet_loads_with_normalized_names(local_engine):
    path = local_engine.workspace.stage_dir("LOAD_DATA") / "data.parquet"
    duckdb.execute(f"COPY (SELECT 1 AS id, 'x' AS \"my name\", 2.5 AS price) TO '{path}' (FORMAT parquet)")
    result = load(local_engine, "data.parquet", "P")
    assert [c.name for c in result.columns] == ["ID", "my name", "PRICE"]
    assert result.rows_loaded == 1
    assert load(local_engine, "data.parquet", "P", mode="append").rows_loaded == 1
    assert local_engine.list_tables()[0].rows == 2


def test_gzipped_csv_loads(local_engine, tmp_path):
    import gzip

    path = local_engine.workspace.stage_dir("LOAD_DATA") / "z.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("a,b\n1,2\n3,4\n")
    assert load(local_engine, "z.csv.gz").rows_loaded == 2


# --- modes ------------------------------------------------------------------------------------------------
def test_modes_create_replace_append(local_engine):
    put(local_engine, "one.csv", "A,B\n1,x\n")
    put(local_engine, "two.csv", "A,B\n2,y\n3,z\n")
    load(local_engine, "one.csv")
    with pytest.raises(AlreadyExists, match="already exists"):
        load(local_engine, "two.csv")
    assert load(local_engine, "two.csv", mode="append").rows_loaded == 2
    assert rows_of(local_engine, "T") == [(1, "x"), (2, "y"), (3, "z")]
    load(local_engine, "two.csv", mode="replace")
    assert rows_of(local_engine, "T") == [(2, "y"), (3, "z")]
    with pytest.raises(NotFound, match="no table"):
        load(local_engine, "two.csv", "OTHER", mode="append")


def test_append_matches_columns_by_name(local_engine):
    put(local_engine, "one.csv", "A,B\n1,x\n")
    put(local_engine, "swapped.csv", "b,a\ny,2\n")
    load(local_engine, "one.csv")
    load(local_engine, "swapped.csv", mode="append")
    assert rows_of(local_engine, "T") == [(1, "x"), (2, "y")]


def test_append_headerless_file_takes_the_tables_columns(local_engine):
    put(local_engine, "one.csv", "A,B\n1,x\n")
    put(local_engine, "more.csv", "2,y\n")
    load(local_engine, "one.csv")
    load(local_engine, "more.csv", mode="append", header="no")
    assert rows_of(local_engine, "T") == [(1, "x"), (2, "y")]


def test_append_with_incompatible_types_is_refused_and_changes_nothing(local_engine):
    put(local_engine, "one.csv", "A,B\n1,x\n")
    put(local_engine, "text.csv", "A,B\nhello,y\nworld,z\n")
    load(local_engine, "one.csv")
    with pytest.raises(InvalidInput, match=r"A is BIGINT in the table but VARCHAR in the file"):
        load(local_engine, "text.csv", mode="append")
    assert rows_of(local_engine, "T") == [(1, "x")]


def test_append_with_other_columns_names_them(local_engine):
    put(local_engine, "one.csv", "A,B\n1,x\n")
    put(local_engine, "other.csv", "A,C\n2,y\n")
    load(local_engine, "one.csv")
    with pytest.raises(InvalidInput, match=r"missing B; not in the table: C"):
        load(local_engine, "other.csv", mode="append")


def test_failed_replace_keeps_the_old_table(local_engine):
    put(local_engine, "one.csv", "A,B\n1,x\n")
    put(local_engine, "bad.csv", "A,B\n")
    load(local_engine, "one.csv")
    with pytest.raises(InvalidInput):
        load(local_engine, "bad.csv", mode="replace")
    assert rows_of(local_engine, "T") == [(1, "x")]


# --- rejections --------------------------------------------------------------------------------------------
def test_ragged_rows_are_rejected_with_line_numbers(local_engine):
    put(local_engine, "ragged.csv", "a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n")
    result = load(local_engine, "ragged.csv")
    assert (result.rows_loaded, result.rows_rejected) == (2, 2)
    assert [r.line for r in result.rejections] == [3, 4]
    assert "Expected Number of Columns: 3 Found: 2" in result.rejections[0].reason
    assert "'4,5'" in result.rejections[0].reason
    assert rows_of(local_engine, "T") == [(1, 2, 3), (10, 11, 12)]


def test_small_files_are_typed_on_every_row(local_engine):
    good = "".join(f"{i},{i * 2}\n" for i in range(30_000))
    put(local_engine, "late.csv", "A,B\n" + good + "N/A,1\n")  # beyond DuckDB's sample of 20 480 rows
    result = load(local_engine, "late.csv")
    assert (result.rows_loaded, result.rows_rejected) == (30_001, 0)
    assert [c.sql_type for c in result.columns] == ["VARCHAR", "BIGINT"]


def test_values_that_do_not_fit_the_type_are_rejected_not_dropped(local_engine, monkeypatch):
    from snowml_desktop.engines.local import loading

    monkeypatch.setattr(loading, "FULL_SNIFF_BYTES", 0)  # as for a big file: types from a sample
    good = "".join(f"{i},{i * 2}\n" for i in range(30_000))
    put(local_engine, "late.csv", "A,B\n" + good + "oops,1\n")  # beyond the sniffer's sample
    result = load(local_engine, "late.csv")
    assert (result.rows_loaded, result.rows_rejected) == (30_000, 1)
    assert result.rejections[0].line == 30_002
    assert "column A" in result.rejections[0].reason and "oops" in result.rejections[0].reason


def test_all_rows_rejected_is_an_error_and_creates_nothing(local_engine):
    put(local_engine, "with.csv", "N\n1\n")
    put(local_engine, "words.csv", "x\ny\n")
    load(local_engine, "with.csv", "TEMPLATE")
    with pytest.raises(InvalidInput, match=r"All 2 rows of words.csv were rejected"):
        load(local_engine, "words.csv", columns_from="TEMPLATE", header="no")
    assert user_tables(local_engine) == ["TEMPLATE"]


# --- bad input ----------------------------------------------------------------------------------------------
def test_empty_file_is_refused(local_engine):
    put(local_engine, "empty.csv", "")
    with pytest.raises(InvalidInput, match="empty.csv is empty"):
        load(local_engine, "empty.csv")
    assert user_tables(local_engine) == []


def test_header_only_file_is_refused(local_engine):
    put(local_engine, "hdr.csv", "a,b,c\n")
    with pytest.raises(InvalidInput, match="has a header but no data rows"):
        load(local_engine, "hdr.csv")
    assert user_tables(local_engine) == []


def test_non_utf8_file_is_refused_with_advice(local_engine):
    put(local_engine, "latin.csv", "name,city\nJos\xe9,M\xfcnchen\n".encode("latin-1"))
    with pytest.raises(InvalidInput, match="latin.csv is not UTF-8") as info:
        load(local_engine, "latin.csv")
    assert "UTF-8" in (info.value.hint or "")
    assert user_tables(local_engine) == []


@pytest.mark.parametrize("sniff_whole_file", [True, False])
def test_non_utf8_bytes_beyond_the_sample_are_refused_too(local_engine, monkeypatch, sniff_whole_file):
    from snowml_desktop.engines.local import loading

    if not sniff_whole_file:  # as for a big file: the sniffer's sample is clean, the reader finds the bytes
        monkeypatch.setattr(loading, "FULL_SNIFF_BYTES", 0)
    body = "".join(f"name{i},{i}\n" for i in range(30_000)).encode()
    put(local_engine, "late_latin.csv", b"name,n\n" + body + "Jos\xe9,1\n".encode("latin-1"))
    with pytest.raises(InvalidInput, match="not UTF-8"):
        load(local_engine, "late_latin.csv")
    assert user_tables(local_engine) == []


def test_wrong_delimiter_is_explained(local_engine):
    put(local_engine, "mixed.csv", "a;b;c\n1,2,3\n4,5,6\n")
    with pytest.raises(InvalidInput, match="delimiter"):
        load(local_engine, "mixed.csv")
    assert user_tables(local_engine) == []


def test_duplicate_column_names_are_named(local_engine):
    put(local_engine, "dup.csv", "id,Age,age,x\n1,2,3,4\n")
    with pytest.raises(InvalidInput, match=r"duplicate column names: 'Age' / 'age'"):
        load(local_engine, "dup.csv")
    assert user_tables(local_engine) == []


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_table_names_round_trip(local_engine, name):
    put(local_engine, "one.csv", "A,B\n1,x\n")
    result = load(local_engine, "one.csv", name)
    expected = {'"select"': "select", "my table": "my table"}.get(name, name)
    assert result.table == expected
    assert user_tables(local_engine) == [expected]
    assert local_engine.list_tables()[0].rows == 1
    assert rows_of(local_engine, f'"{expected.replace(chr(34), chr(34) * 2)}"') == [(1, "x")]
    local_engine.drop_table(f'"{expected.replace(chr(34), chr(34) * 2)}"')
    assert user_tables(local_engine) == []


def test_reserved_words_as_table_and_column_names(local_engine):
    put(local_engine, "reserved.csv", "select,from,order,group\n1,x,2.5,true\n")
    result = load(local_engine, "reserved.csv", "table")
    assert result.table == "TABLE"
    assert [c.name for c in result.columns] == ["SELECT", "FROM", "ORDER", "GROUP"]
    profile = local_engine.profile("table")
    assert [c.count for c in profile.columns] == [1, 1, 1, 1]


def test_unknown_mode_file_and_stage(local_engine):
    put(local_engine, "one.csv", "A\n1\n")
    with pytest.raises(InvalidInput, match="Unknown load mode"):
        load(local_engine, "one.csv", mode="merge")
    with pytest.raises(InvalidInput, match="Unknown header"):
        load(local_engine, "one.csv", header="maybe")
    with pytest.raises(NotFound, match="no file 'missing.csv'"):
        load(local_engine, "missing.csv")
    with pytest.raises(InvalidInput, match="not a file name"):
        load(local_engine, "../warehouse.duckdb")
    with pytest.raises(NotFound, match="no stage"):
        local_engine.load(LoadRequest("ELSEWHERE", "one.csv", "T"))
    put(local_engine, "notes.md", "hello")
    with pytest.raises(InvalidInput, match="not a file type"):
        load(local_engine, "notes.md")


def test_a_corrupt_parquet_file_is_refused(local_engine):
    put(local_engine, "broken.parquet", b"PAR1 this is not parquet")
    with pytest.raises(InvalidInput, match="cannot be read as Parquet"):
        load(local_engine, "broken.parquet")


# --- cancellation and progress ---------------------------------------------------------------------------------
def _big_csv(engine, rows: int) -> str:
    path = engine.workspace.stage_dir("LOAD_DATA") / "big.csv"
    duckdb.execute(
        f"COPY (SELECT i AS id, i * 0.5 AS x, 'label' || (i % 7) AS s FROM range({rows}) r(i)) TO '{path}'"
    )
    return path.name


def test_cancel_during_a_load_leaves_nothing(local_engine, monkeypatch):
    monkeypatch.setattr(sqlrun, "_POLL_SECONDS", 0.01)
    file = _big_csv(local_engine, 1_500_000)
    put(local_engine, "one.csv", "ID,X,S\n1,2.0,a\n")
    load(local_engine, "one.csv", "T")
    task = TaskContext()
    seen = []

    def progress(fraction: float, text: str) -> None:
        seen.append(fraction)
        if text.startswith("Loading"):
            task.token.cancel()

    task.progress = progress
    with pytest.raises(Cancelled):
        local_engine.load(LoadRequest("LOAD_DATA", file, "T", mode="replace"), task=task)
    assert rows_of(local_engine, "T") == [(1, 2.0, "a")]
    with local_engine.workspace.cursor() as cur:
        data_tables = cur.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'DATA'"
        ).fetchall()
    assert data_tables == [("T",)]
    assert 0 < max(seen) < 1


def test_progress_is_reported(local_engine):
    seen: list[tuple[float, str]] = []
    task = TaskContext(progress=lambda f, t: seen.append((f, t)))
    local_engine.load(LoadRequest("LOAD_DATA", "CHURN.csv", "C"), task=task)
    assert seen[-1] == (1.0, "Loaded 7,000 rows")
    assert [f for f, _ in seen] == sorted(f for f, _ in seen)


def test_load_emits_activity(local_engine):
    activities = []
    local_engine.add_activity_listener(activities.append)
    load(local_engine, "CHURN.csv", "C")
    with pytest.raises(AlreadyExists):
        load(local_engine, "CHURN.csv", "C")
    assert [(a.operation, a.detail, a.ok) for a in activities] == [("load", "C", True), ("load", "C", False)]


def test_a_title_line_before_the_header_is_reported_as_rejected(local_engine):
    put(local_engine, "title.csv", "Report of 2024\nid,name\n1,a\n2,b\n")
    result = load(local_engine, "title.csv")
    assert [c.name for c in result.columns] == ["ID", "NAME"]
    assert (result.rows_loaded, result.rows_rejected) == (2, 1)
    assert result.rejections[0].line == 1 and "Report of 2024" in result.rejections[0].reason


def test_quoted_fields_crlf_and_bom(local_engine):
    put(local_engine, "q.csv", b'\xef\xbb\xbfname,note\r\n"Smith, J.","two\r\nlines"\r\nLee,plain\r\n')
    result = load(local_engine, "q.csv")
    assert [c.name for c in result.columns] == ["NAME", "NOTE"]
    assert rows_of(local_engine, "T") == [("Smith, J.", "two\r\nlines"), ("Lee", "plain")]


def test_many_rejections_are_counted_and_the_first_few_shown(local_engine):
    good = "".join(f"{i},{i}\n" for i in range(20))
    bad = "".join(f"{i}\n" for i in range(8))
    put(local_engine, "many.csv", "A,B\n" + good + bad)
    result = load(local_engine, "many.csv")
    assert (result.rows_loaded, result.rows_rejected, len(result.rejections)) == (20, 8, 5)
    assert [r.line for r in result.rejections] == [22, 23, 24, 25, 26]


def test_semicolon_file_with_decimal_commas_loads_numbers(local_engine):
    put(local_engine, "eu.csv", "name;price;qty\nA;2,5;3\nB;1234,75;4\nC;7;5\n")
    result = load(local_engine, "eu.csv")
    assert [(c.name, c.kind) for c in result.columns] == [
        ("NAME", "text"),
        ("PRICE", "numeric"),
        ("QTY", "numeric"),
    ]
    assert rows_of(local_engine, "T") == [("A", 2.5, 3), ("B", 1234.75, 4), ("C", 7.0, 5)]
    put(local_engine, "more.csv", "name;price;qty\nD;0,25;1\n")
    load(local_engine, "more.csv", mode="append")
    assert rows_of(local_engine, "T")[-1] == ("D", 0.25, 1)


# --- line endings, sniffing failures and causes (issue 10, items 8 and 11) ------------------------------------
def test_mixed_line_endings_load(local_engine):
    # CRLF lines with one LF-only line: plain ASCII, refused as "not UTF-8" before.
    put(local_engine, "mixed.csv", b"ID,NAME,SCORE\r\n1,ann,2.5\r\n2,bob,3.5\n3,cy,4.5\r\n4,dee,5.5\r\n")
    result = load(local_engine, "mixed.csv")
    assert (result.rows_loaded, result.rows_rejected) == (4, 0)
    assert rows_of(local_engine, "T") == [(1, "ann", 2.5), (2, "bob", 3.5), (3, "cy", 4.5), (4, "dee", 5.5)]
    put(local_engine, "mixed_text_last.csv", b"A,B\r\n1,x\r\n2,y\n3,z\r\n")
    load(local_engine, "mixed_text_last.csv", "T2")
    assert rows_of(local_engine, "T2") == [(1, "x"), (2, "y"), (3, "z")]  # no stray carriage return


def test_an_undetectable_layout_says_so_not_utf8(local_engine):
    # Plain ASCII (every character 1..127) that no dialect splits consistently.
    put(local_engine, "ragged.csv", bytes(range(1, 128)) * 50)
    with pytest.raises(InvalidInput) as info:
        load(local_engine, "ragged.csv")
    assert "UTF-8" not in str(info.value)
    assert "layout (delimiter, quoting, line breaks) could not be detected" in str(info.value)


def test_a_line_over_the_size_limit_names_the_cause(local_engine):
    put(local_engine, "long.csv", "A,B\n1," + "x" * 3_000_000 + "\n2,y\n")
    with pytest.raises(InvalidInput) as info:
        load(local_engine, "long.csv")
    text = str(info.value)
    assert "a line is 3,000,003 bytes long, over the 2,000,000-byte limit" in text  # the line break counts
    assert user_tables(local_engine) == []


DISK_FULL_SCRIPT = """
set -e
mount -t tmpfs -o size=12m tmpfs "$ROOT"
python -m snowml_desktop.cli --workspace "$ROOT/ws" tables > /dev/null
cp "$CSV" "$ROOT/ws/stages/LOAD_DATA/rows.csv"
for n in 1 2 3 4 5; do
  if ! python -m snowml_desktop.cli --workspace "$ROOT/ws" --json load LOAD_DATA/rows.csv --table "R$n" > "$OUT" 2>/dev/null
  then python -m snowml_desktop.cli --workspace "$ROOT/ws" --json tables > "$OUT.tables"; exit 0; fi
done
exit 3
"""


def test_disk_full_is_an_environment_error_not_a_bad_file(tmp_path):
    """A real full disk: the workspace on a 12 MB tmpfs (in a private mount namespace), loads until it fills."""
    import json
    import os
    import random
    import shutil
    import subprocess

    if shutil.which("unshare") is None or subprocess.run(["unshare", "-rm", "true"]).returncode != 0:
        pytest.skip("needs unprivileged mount namespaces (Linux) to make a small disk")
    root, csv_file, out = tmp_path / "disk", tmp_path / "rows.csv", tmp_path / "out.json"
    root.mkdir()
    rng = random.Random(0)  # values that do not compress, about 7 MB
    csv_file.write_text("A,B,C\n" + "".join(f"{i},{rng.random()},t{rng.random()}\n" for i in range(140_000)))
    env = {**os.environ, "ROOT": str(root), "CSV": str(csv_file), "OUT": str(out)}
    done = subprocess.run(["unshare", "-rm", "sh", "-c", DISK_FULL_SCRIPT], env=env, timeout=300)
    if done.returncode != 0 and not out.exists():
        pytest.skip("could not mount a small tmpfs here")
    assert done.returncode == 0, "the disk never filled up"
    error = json.loads(out.read_text())
    assert error["code"] == "resource_exhausted"
    assert "disk holding the local workspace is full" in error["error"]
    assert "file's format" not in error["error"] and "Unexpected" not in error["error"]
    failed = [t["name"] for t in json.loads((tmp_path / "out.json.tables").read_text())]
    assert failed and all(name.startswith("R") for name in failed)  # the failed load left no table behind


# --- a numeric column with a few values that are not numbers (issue 10, item 7) -------------------------------
AGES = "NAME,AGE,SCORE\n" + "".join(
    f"n{i},{'abc' if i == 7 else 'N/A' if i == 40 else 20 + i % 50},{i * 0.5}\n" for i in range(100)
)


def test_a_few_bad_values_in_a_numeric_column_are_reported(local_engine):
    put(local_engine, "ages.csv", AGES)
    result = load(local_engine, "ages.csv")
    assert (result.rows_loaded, result.rows_rejected) == (100, 0)
    types = {c.name: c.sql_type for c in result.columns}
    assert types["AGE"] == "VARCHAR" and types["SCORE"] == "DOUBLE"  # the default keeps the column as text
    [found] = result.not_numbers
    assert (found.column, found.count, found.numeric_type, found.action) == ("AGE", 2, "BIGINT", "text")
    assert found.examples == ["N/A", "abc"]
    assert "Column AGE has 2 values that are not numbers ('N/A', 'abc')" in found.message()


def test_bad_values_can_be_rejected_or_set_to_null(local_engine):
    put(local_engine, "ages.csv", AGES)
    rejected = load(local_engine, "ages.csv", "R", bad_numbers="reject")
    assert (rejected.rows_loaded, rejected.rows_rejected) == (98, 2)
    assert [r.line for r in rejected.rejections] == [9, 42] and "abc" in rejected.rejections[0].reason
    assert {c.name: c.sql_type for c in rejected.columns}["AGE"] == "BIGINT"
    assert rejected.not_numbers[0].action == "reject"
    nulled = load(local_engine, "ages.csv", "N", bad_numbers="null")
    assert (nulled.rows_loaded, nulled.rows_rejected) == (100, 0)
    assert {c.name: c.sql_type for c in nulled.columns}["AGE"] == "BIGINT"
    ages = local_engine.preview("N", 100)["AGE"]
    assert ages.isna().sum() == 2 and ages[0] == 20 and ages[8] == 28
    with pytest.raises(InvalidInput, match="Unknown setting 'drop'"):
        load(local_engine, "ages.csv", "X", bad_numbers="drop")


def test_text_columns_are_not_reported(local_engine):
    put(local_engine, "codes.csv", "ID,CODE\n" + "".join(f"{i},{'A' if i % 2 else 'B'}{i}\n" for i in range(50)))
    assert load(local_engine, "codes.csv").not_numbers == []
    assert load(local_engine, "CHURN.csv", "CHURN").not_numbers == []


def test_the_cli_warns_and_takes_bad_numbers(workspace, capsys):
    from snowml_desktop.cli import main

    assert main(["--workspace", str(workspace), "tables"]) == 0  # creates and seeds the workspace
    (workspace / "stages" / "LOAD_DATA" / "ages.csv").write_text(AGES, encoding="utf-8")
    capsys.readouterr()
    assert main(["--workspace", str(workspace), "load", "LOAD_DATA/ages.csv", "--table", "a"]) == 0
    out = capsys.readouterr().out
    assert "warning: Column AGE has 2 values that are not numbers ('N/A', 'abc')" in out
    assert "--bad-numbers reject (or null)" in out
    args = ["--workspace", str(workspace), "--json", "load", "LOAD_DATA/ages.csv", "--table", "b"]
    assert main([*args, "--bad-numbers", "null"]) == 0
    loaded = json.loads(capsys.readouterr().out)
    assert loaded["not_numbers"][0]["action"] == "null"
    assert {c["name"]: c["sql_type"] for c in loaded["columns"]}["AGE"] == "BIGINT"

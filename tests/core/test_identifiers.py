import duckdb
import pytest

from snowml_desktop.core.errors import InvalidInput
from snowml_desktop.core.identifiers import display, is_simple, normalize, qualified, quote, string_literal


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("sales", "SALES"),
        ("  Sales_2024$ ", "SALES_2024$"),
        ('"sales"', "sales"),
        ("my table", "my table"),
        ('"a""b"', 'a"b'),
        ("Größe", "Größe"),
        ("1st", "1st"),
        ("select", "SELECT"),
        ("x; DROP TABLE y --", "x; DROP TABLE y --"),
    ],
)
def test_normalize_follows_snowflake_rules(typed: str, canonical: str) -> None:
    assert normalize(typed) == canonical


@pytest.mark.parametrize("bad", ["", "   ", '""', "a\x00b", "tab\there", "x" * 256, '"a"b"'])
def test_normalize_rejects_unusable_names(bad: str) -> None:
    with pytest.raises(InvalidInput):
        normalize(bad)


def test_quote_doubles_embedded_quotes() -> None:
    assert quote('a"b') == '"a""b"'
    assert qualified("APP", "MODELS") == '"APP"."MODELS"'


def test_display_quotes_only_when_needed() -> None:
    assert display("SALES") == "SALES"
    assert display("SELECT") == '"SELECT"'
    assert display("sales") == '"sales"'
    assert not is_simple("my table")


@pytest.mark.parametrize("name", ['a"b; DROP TABLE t --', "select", "Größe", "my table", "ORDER", "x'y"])
def test_hostile_names_round_trip_through_a_real_database(name: str) -> None:
    con = duckdb.connect()
    canonical = normalize(name)
    con.execute(f"CREATE TABLE {quote(canonical)} ({quote(canonical)} INTEGER)")
    con.execute(f"INSERT INTO {quote(canonical)} VALUES (7)")
    assert con.execute(f"SELECT {quote(canonical)} FROM {quote(canonical)}").fetchall() == [(7,)]
    names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
    assert names == [canonical]


def test_string_literal_escapes_per_dialect() -> None:
    assert string_literal("it's", backslash_escapes=False) == "'it''s'"
    assert string_literal("a\\'b", backslash_escapes=True) == "'a\\\\''b'"
    con = duckdb.connect()
    assert con.execute("SELECT " + string_literal("x'; DROP --", backslash_escapes=False)).fetchone() == (
        "x'; DROP --",
    )


def test_derived_names_are_kept_within_the_limit_deterministically() -> None:
    from snowml_desktop.core.identifiers import MAX_LENGTH, derived_name

    assert derived_name("CHURN", "_CLONE_RF_1") == "CHURN_CLONE_RF_1"  # short names are unchanged
    long_a, long_b = "A" * 250 + "X", "A" * 250 + "Y"
    name_a = derived_name(long_a, "_CLONE_RANDOM_FOREST_12")
    assert len(name_a) == MAX_LENGTH and name_a.endswith("_CLONE_RANDOM_FOREST_12")
    assert name_a == derived_name(long_a, "_CLONE_RANDOM_FOREST_12")
    assert name_a != derived_name(long_b, "_CLONE_RANDOM_FOREST_12")


def test_user_table_refuses_internal_names_in_any_case() -> None:
    from snowml_desktop.core.identifiers import user_table

    assert user_table("churn") == "CHURN" and user_table('"_snowml"') == "_snowml"
    for name in ("__snowml_staging_x", '"__SnowML_x"', "__SNOWML_"):
        with pytest.raises(InvalidInput, match="reserved"):
            user_table(name)


def test_internal_names_are_reserved_wherever_the_prefix_appears_for_tables_and_columns() -> None:
    """Snowflake's load staging table ends with __SNOWML_LOADING and its scoring adds __SNOWML_RESULT: one
    rule for both engines refuses the prefix anywhere in a table or column name."""
    from snowml_desktop.core.identifiers import user_columns, user_table

    with pytest.raises(InvalidInput, match="reserved"):
        user_table("sales__snowml_loading")
    user_columns(["AGE", "_SNOWML", "PLAN"], "CHURN")
    with pytest.raises(InvalidInput, match="reserved") as info:
        user_columns(["AGE", "__SNOWML_RESULT", '"x__SnowML_y"'], "CHURN")
    assert "__SNOWML_RESULT" in info.value.message and "AGE" not in info.value.message

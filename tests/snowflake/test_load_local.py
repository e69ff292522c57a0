"""The SNOWML_LOAD procedure body in a Snowpark local-testing session, against ``sf_fake_load``: Snowflake's
documented answers to INFER_SCHEMA, COPY (load metadata, FORCE, ON_ERROR = CONTINUE), VALIDATE and SWAP."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.snowflake.sf_fake_load import FakeLoadAccount

from snowml_desktop.core.errors import AlreadyExists, EngineError, InvalidInput, NotFound
from snowml_desktop.engines.snowflake import procedures, sql

PLANS = "amount,plan name\n1.5,basic\n2.25,pro\nx,basic\n3,gold\noops,pro\n"


def _load(wh: Any, fake: FakeLoadAccount, **request: Any) -> str:
    payload = {**wh.base, "stage": "LOAD_DATA", "file": "f.csv", **request}
    return procedures.run_load(wh.session, json.dumps(payload), fake)


def _result(text: str) -> Any:
    return procedures.load_result_from_row(procedures.decode_result(text))


def _raises(text: str, error: type[EngineError]) -> EngineError:
    with pytest.raises(error) as info:
        procedures.decode_result(text)
    return info.value


@pytest.fixture
def fake(empty_wh: Any) -> FakeLoadAccount:
    return FakeLoadAccount(empty_wh.session, files={"f.csv": PLANS})


@pytest.mark.parametrize("table", ["NEW_TABLE", 'we"ird; DROP TABLE X; --'])
def test_load_creates_the_table_and_lists_every_rejected_row(
    empty_wh: Any, fake: FakeLoadAccount, table: str
) -> None:
    result = _result(_load(empty_wh, fake, table=table))
    assert (result.table, result.rows_loaded, result.rows_rejected) == (table, 3, 2)
    # Both rejected rows with their reasons, from VALIDATE (COPY itself only reports the first).
    assert [(r.line, r.reason) for r in result.rejections] == [
        (4, "Numeric value 'x' is not recognized"),
        (6, "Numeric value 'oops' is not recognized"),
    ]
    # IGNORE_CASE => TRUE: INFER_SCHEMA names the columns in upper case.
    assert [(c.name, c.kind) for c in result.columns] == [("AMOUNT", "numeric"), ("PLAN NAME", "text")]
    assert not empty_wh.exists(f"{table}{sql.LOADING_SUFFIX}")
    validate = [s for s in fake.ran if "VALIDATE" in s]
    assert len(validate) == 1 and "?" not in validate[0]  # the query id is inlined as a literal


def test_types_inferred_from_a_sample_are_widened_so_later_rows_load(empty_wh: Any) -> None:
    text = "id,price,plan\n1,9.5,basic\n2,10.25,pro\n123456789012,1234.125,enterprise-plus\n4,,\n"
    fake = FakeLoadAccount(empty_wh.session, files={"f.csv": text}, sample_rows=2)
    result = _result(_load(empty_wh, fake, table="PRICES"))
    assert (result.rows_loaded, result.rows_rejected, result.rejections) == (4, 0, [])
    assert fake.tables[empty_wh.loc.data("PRICES")].columns == [
        ("ID", "NUMBER(38,0)"),
        ("PRICE", "FLOAT"),
        ("PLAN", "VARCHAR"),
    ]
    assert fake.rows(empty_wh.loc.data("PRICES"))[2] == [123456789012, 1234.125, "enterprise-plus"]


def test_appending_a_file_loaded_before_says_so_and_force_loads_it_again(
    empty_wh: Any, fake: FakeLoadAccount
) -> None:
    table = empty_wh.loc.data("PLANS")
    _result(_load(empty_wh, fake, table="PLANS"))
    # A replace swaps in a table that has loaded f.csv: the load metadata comes with it.
    assert _result(_load(empty_wh, fake, table="PLANS", mode="replace")).rows_loaded == 3
    error = _raises(_load(empty_wh, fake, table="PLANS", mode="append"), InvalidInput)
    assert "f.csv was not loaded" in error.message and "64 days" in error.message
    assert "--force" in (error.hint or "")
    assert len(fake.rows(table)) == 3
    again = _result(_load(empty_wh, fake, table="PLANS", mode="append", force=True))
    assert (again.rows_loaded, again.rows_rejected) == (3, 2)
    assert len(fake.rows(table)) == 6
    assert fake.ran[-2].endswith("ON_ERROR = CONTINUE FORCE = TRUE")


def test_load_refuses_create_over_an_existing_table_and_append_to_a_missing_one(
    empty_wh: Any, fake: FakeLoadAccount
) -> None:
    _result(_load(empty_wh, fake, table="TAKEN"))
    ran = len(fake.ran)
    _raises(_load(empty_wh, fake, table="TAKEN"), AlreadyExists)
    _raises(_load(empty_wh, fake, table="MISSING", mode="append"), NotFound)
    _raises(_load(empty_wh, fake, table="X", mode="upsert"), InvalidInput)
    assert len(fake.ran) == ran


@pytest.mark.parametrize("copy", ["fails", "nothing_loadable"])
def test_failed_replace_keeps_the_old_table_and_drops_the_staging_one(
    empty_wh: Any, fake: FakeLoadAccount, copy: str
) -> None:
    table = empty_wh.loc.data("T")
    _result(_load(empty_wh, fake, table="T"))
    request: dict[str, Any] = {"table": "T", "mode": "replace"}
    if copy == "fails":
        fake.fail_on = "^COPY INTO"
    else:  # no row fits T's numeric AMOUNT column
        fake.files["bad.csv"] = "x,basic\ny,pro\n"
        request.update(file="bad.csv", header="no", columns_from="T")
    _raises(_load(empty_wh, fake, **request), InvalidInput if copy != "fails" else EngineError)
    assert fake.ran[-1] == sql.drop_table_if_exists(empty_wh.loc, f"T{sql.LOADING_SUFFIX}").text
    assert len(fake.rows(table)) == 3 and not empty_wh.exists(f"T{sql.LOADING_SUFFIX}")


def test_headerless_load_takes_names_and_types_from_another_table(empty_wh: Any, fake: FakeLoadAccount) -> None:
    _result(_load(empty_wh, fake, table="TEMPLATE"))
    fake.files["more.csv"] = "4.5,basic\n5,pro\n"
    result = _result(_load(empty_wh, fake, table="MORE", file="more.csv", header="no", columns_from="TEMPLATE"))
    copy = next(s for s in reversed(fake.ran) if s.startswith("COPY INTO"))
    assert "MATCH_BY_COLUMN_NAME" not in copy  # header-less columns match by position
    assert (result.rows_loaded, result.rows_rejected, result.rejections) == (2, 0, [])
    assert [c.name for c in result.columns] == ["AMOUNT", "PLAN NAME"]
    _raises(_load(empty_wh, fake, table="MORE2", header="no", columns_from="MISSING"), NotFound)

"""The warehouse stand-in behind the procedures' ``session.sql`` keeps the documented rules it claims
(sf_fake_account.RULES), so the procedure tests that rely on it test against Snowflake's behaviour:
https://docs.snowflake.com/en/user-guide/streams-intro#table-versioning
https://docs.snowflake.com/en/sql-reference/transactions (DDL)
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from tests.snowflake.sf_fake_procedure_sql import ProcedureWarehouse

STREAM = '"DB"."SNOWML"."S"'
TARGET = '"DB"."DATA"."T"'


@pytest.fixture
def warehouse(snowpark_session: Any) -> ProcedureWarehouse:
    fake = ProcedureWarehouse(snowpark_session).install()
    changes = pd.DataFrame({"X": [1.0, 2.0, 3.0], "METADATA$ACTION": ["INSERT"] * 3})
    snowpark_session.create_dataframe(changes).write.save_as_table(STREAM)
    snowpark_session.create_dataframe(pd.DataFrame({"X": [0.0]})).write.save_as_table(TARGET)
    fake.stream(STREAM)
    return fake


def _insert_from_stream(session: Any) -> None:
    session.table(STREAM).select('"X"').write.save_as_table(TARGET, mode="append", column_order="name")


def test_a_query_does_not_consume_even_in_a_transaction(warehouse: ProcedureWarehouse) -> None:
    session = warehouse.session
    session.sql("BEGIN TRANSACTION").collect()
    assert session.table(STREAM).count() == 3
    session.sql("COMMIT").collect()
    assert session.table(STREAM).count() == 3


def test_dml_reading_the_stream_consumes_at_commit_and_not_after_a_rollback(
    warehouse: ProcedureWarehouse,
) -> None:
    session = warehouse.session
    session.sql("BEGIN TRANSACTION").collect()
    _insert_from_stream(session)
    assert session.table(STREAM).count() == 3  # the offset moves at COMMIT
    session.sql("ROLLBACK").collect()
    assert session.table(STREAM).count() == 3 and session.table(TARGET).count() == 1
    session.sql("BEGIN TRANSACTION").collect()
    _insert_from_stream(session)
    session.sql("COMMIT").collect()
    assert session.table(STREAM).count() == 0 and session.table(TARGET).count() == 4


def test_an_autocommitted_dml_consumes_at_its_end(warehouse: ProcedureWarehouse) -> None:
    _insert_from_stream(warehouse.session)
    assert warehouse.session.table(STREAM).count() == 0


def test_ddl_commits_the_open_transaction(warehouse: ProcedureWarehouse) -> None:
    session = warehouse.session
    session.sql("BEGIN TRANSACTION").collect()
    _insert_from_stream(session)
    session.table(TARGET).write.save_as_table('"DB"."DATA"."COPY"')  # CTAS: DDL
    assert not warehouse.in_transaction and session.table(STREAM).count() == 0
    session.sql("ROLLBACK").collect()  # nothing left to undo
    assert session.table(TARGET).count() == 4


def test_queries_run_as_snowflake_sql_with_binds_over_the_session_tables(
    warehouse: ProcedureWarehouse,
) -> None:
    rows = warehouse.session.sql(
        f'SELECT COUNT(*), SUM("X") FROM {STREAM} WHERE "X" >= ?', params=[2]
    ).collect()
    assert tuple(rows[0]) == (2, 5.0)
    with pytest.raises(AssertionError, match="runs queries only"):
        warehouse.session.sql(f"DELETE FROM {STREAM}").collect()

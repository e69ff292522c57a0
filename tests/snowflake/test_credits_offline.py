"""Credits of a Snowflake scoring run: the CALL's query id is kept and attribution follows ROOT_QUERY_ID.

QUERY_ATTRIBUTION_HISTORY (https://docs.snowflake.com/en/sql-reference/account-usage/query_attribution_history)
has one row per query: QUERY_ID, ROOT_QUERY_ID ("query ID of the topmost query in the chain or NULL if the
query does not have a parent") and CREDITS_ATTRIBUTED_COMPUTE (query execution only, no warehouse idle time).
A stored procedure's CALL is the root of the statements it runs, and its own row holds the procedure's Python
work. The view below is that table; the answer sums the rows whose QUERY_ID or ROOT_QUERY_ID was asked for.
"""

from __future__ import annotations

import dataclasses
import json

from tests.snowflake import test_engine_offline as offline

from snowml_desktop.core import records
from snowml_desktop.engines.base import ScoreRequest
from snowml_desktop.engines.snowflake import sql

CTAS = "01b2c3d4-0000-1234-0000-00000000c7a5"


def test_scoring_keeps_the_call_id_and_credits_include_the_procedures_own_work() -> None:
    account = offline._account()
    procedure_run = dataclasses.replace(offline._run(), query_ids=[CTAS])  # what SNOWML_SCORE sees

    def call(statement: sql.Statement) -> list[dict]:
        row = records.run_to_row(procedure_run)
        row["CREATED_AT"] = row["CREATED_AT"].isoformat()
        return [{"SNOWML_SCORE": json.dumps({"ok": True, "row": row})}]

    account.answer(r"^CALL", call)
    engine = offline._engine(account)
    run = engine.score(ScoreRequest("RANDOM_FOREST_7", "CHURN"))
    call_id = next(  # the id the account gave the CALL statement
        f"qid-{i + 1}" for i, s in enumerate(account.log) if s.text.startswith("CALL")
    )
    assert run.query_ids == [call_id, CTAS]
    update = next(s for s in account.log if s.text.startswith(f'UPDATE {engine._loc.app(sql.INFERENCE_RUNS)} SET "QUERY_IDS"'))
    assert json.loads(update.params[0]) == [call_id, CTAS]

    view = [  # (QUERY_ID, ROOT_QUERY_ID, CREDITS_ATTRIBUTED_COMPUTE)
        (call_id, None, 0.004),  # the procedure's Python: reading the model, the UDF registration checks
        (CTAS, call_id, 0.02),  # the scoring CREATE TABLE AS, run by the procedure
        ("01b2c3d4-0000-1234-0000-0000000000ff", None, 5.0),  # somebody else's query
    ]

    def attributed(statement: sql.Statement) -> list[dict]:
        asked = set(statement.params)
        rows = [c for q, root, c in view if q in asked or root in asked]
        return [{"CREDITS": sum(rows) if rows else None, "N": len(rows)}]

    account.answer(r"QUERY_ATTRIBUTION_HISTORY", attributed)
    stored = records.run_to_row(dataclasses.replace(offline._run(), query_ids=run.query_ids))
    account.answer(r'^SELECT \* FROM "DB"."SNOWML"."INFERENCE_RUNS"', [stored])
    assert engine.actual_credits(run.run_id) == 0.024

"""The big demo-table generator: the CHURN recipe of ``core.demo_data`` written as SQL.

Rows come from ``range()``; every random draw is a hash of (row number, seed, draw number) scaled to
[0, 1), so the rows are reproducible for a seed, need no state, and DuckDB streams them in parallel with
constant memory. The table is written in chunks inside one transaction: progress and cancellation work
between (and, through the cursor's interrupt, within) chunks, and a cancelled or failed run leaves nothing.
"""

from __future__ import annotations

from snowml_desktop.core import demo_data as d
from snowml_desktop.core.errors import AlreadyExists, InvalidInput
from snowml_desktop.core.identifiers import display, normalize
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.engines.base import TableInfo
from snowml_desktop.engines.local import sqlrun
from snowml_desktop.engines.local.workspace import Workspace

MAX_ROWS = 10**8
MAX_SEED = 2**31 - 1
CHUNK_ROWS = 5_000_000
# Each draw hashes one distinct integer: row * stride + draw + seed * step. (Hashing several arguments
# combines their hashes in a way that correlates draws, which would bend the recipe's distributions.)
_STRIDE = 32
_SEED_STEP = 2**32  # > MAX_ROWS * _STRIDE, so seeds never overlap; MAX_SEED * step fits in BIGINT
_DRAWS = (
    "age",
    "gender",
    "region",
    "contract",
    "internet",
    "payment",
    "paperless",
    "tenure",
    "monthly",
    "total",
    "calls",
    "usage",
    "usage2",
    "churn",
    "miss_payment",
    "miss_total",
    "miss_usage",
)


def create_demo_table(
    workspace: Workspace, table: str, rows: int, seed: int, replace: bool, task: TaskContext
) -> TableInfo:
    """Generate ``rows`` churn-like rows into ``table``. Raises InvalidInput (rows outside 1..10**8, bad
    name or seed), AlreadyExists (exists and not ``replace``), Cancelled."""
    if isinstance(rows, bool) or not isinstance(rows, int) or not 1 <= rows <= MAX_ROWS:
        raise InvalidInput(f"A demo table has 1 to {MAX_ROWS:,} rows, not {rows!r}.")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise InvalidInput(f"The seed must be a whole number from 0 to {MAX_SEED:,}, not {seed!r}.")
    name = normalize(table, what="table name")
    ref = workspace.table_ref(name)
    cur = workspace.cursor()
    try:
        exists = sqlrun.table_exists(cur, workspace.DATA_SCHEMA, name)
        if exists and not replace:
            raise AlreadyExists(
                f"The table {display(name)} already exists.", hint="Choose another name, or replace it."
            )
        chunks = [(start, min(start + CHUNK_ROWS, rows)) for start in range(0, rows, CHUNK_ROWS)]
        task.report(0.0, f"Generating {rows:,} rows")
        cur.execute("BEGIN TRANSACTION")
        try:
            if exists:
                cur.execute(f"DROP TABLE {ref}")
            for index, (start, stop) in enumerate(chunks):
                low, high = index / len(chunks), (index + 1) / len(chunks)
                with sqlrun.cancellable(cur, task, low, high, f"Generating rows {start + 1:,}-{stop:,}"):
                    select = churn_select(start, stop, seed)
                    if index == 0:
                        cur.execute(f"CREATE TABLE {ref} AS {select}")
                    else:
                        cur.execute(f"INSERT INTO {ref} {select}")
                task.report(high, f"Generated {stop:,} of {rows:,} rows")
            created = sqlrun.mark_created(cur, ref)
            task.check()
            cur.execute("COMMIT")
        except BaseException:
            sqlrun.rollback_quietly(cur)
            raise
        sqlrun.checkpoint_quietly(cur)
        return TableInfo(name, rows, len(d.CHURN_COLUMNS), created)
    finally:
        cur.close()


def churn_select(start: int, stop: int, seed: int) -> str:
    """A SELECT yielding rows ``start``..``stop``-1 of the churn recipe (all numbers are ints we made)."""
    # One 64-bit hash per pair of draws; each half is a uniform with 32 bits of resolution (plenty here).
    hashes = ", ".join(
        f"hash(i * {_STRIDE} + {k} + {int(seed) * _SEED_STEP}) AS h{k}" for k in range((len(_DRAWS) + 1) // 2)
    )
    draws = ",\n".join(
        f"(h{k // 2} {'>> 32' if k % 2 == 0 else '& 4294967295'})::DOUBLE / 4294967296.0 AS u_{n}"
        for k, n in enumerate(_DRAWS)
    )
    lit = sqlrun.literal
    contracts, internet, payments = d.CONTRACTS, d.INTERNET, d.PAYMENTS
    r = d.CHURN_RECIPE
    contract = (
        f"CASE WHEN u_contract < {d.CONTRACT_CUTS[0]} THEN {lit(contracts[0])} "
        f"WHEN u_contract < {d.CONTRACT_CUTS[1]} THEN {lit(contracts[1])} ELSE {lit(contracts[2])} END"
    )
    service = (
        f"CASE WHEN u_internet < {d.INTERNET_CUTS[0]} THEN {lit(internet[0])} "
        f"WHEN u_internet < {d.INTERNET_CUTS[1]} THEN {lit(internet[1])} ELSE {lit(internet[2])} END"
    )
    payment = f"[{', '.join(lit(p) for p in payments)}][least(floor(u_payment * 4)::BIGINT, 3) + 1]"
    max_tenure = " ".join(f"WHEN {lit(k)} THEN {v}" for k, v in d.MAX_TENURE.items())
    base_charge = " ".join(f"WHEN {lit(k)} THEN {v}" for k, v in d.BASE_CHARGE.items())
    mean_usage = " ".join(f"WHEN {lit(k)} THEN {v}" for k, v in d.MEAN_USAGE.items())
    regions = f"[{', '.join(lit(x) for x in d.REGIONS)}][least(floor(u_region * 4)::BIGINT, 3) + 1]"
    return f"""
WITH hashed AS (
    SELECT i, {hashes}
    FROM range({int(start)}, {int(stop)}) r(i)
), draws AS (
    SELECT i, {draws}
    FROM hashed
), base AS (
    SELECT *, {contract} AS contract, {service} AS internet, {payment} AS payment,
           u_paperless < 0.6 AS paperless,
           least(floor(-ln(1 - u_calls) * 1.5), 15)::BIGINT AS calls
    FROM draws
), derived AS (
    SELECT *,
           floor(u_tenure * ((CASE contract {max_tenure} END) + 1))::BIGINT AS tenure,
           round((CASE internet {base_charge} END) + 25.0 * u_monthly, 2) AS monthly,
           (CASE internet {mean_usage} END) AS mean_usage,
           sqrt(-2.0 * ln(1 - u_usage)) * cos(2.0 * pi() * u_usage2) AS normal
    FROM base
), scored AS (
    SELECT *,
           {r["intercept"]}
           + {r["month_to_month"]} * (contract = {lit(contracts[0])})::INTEGER
           + {r["two_year"]} * (contract = {lit(contracts[2])})::INTEGER
           + {r["tenure"]} * tenure
           + {r["monthly_minus_60"]} * (monthly - 60.0)
           + {r["support_calls"]} * calls
           + {r["electronic_check"]} * (payment = {lit(payments[0])})::INTEGER
           + {r["fiber"]} * (internet = {lit(internet[1])})::INTEGER
           + {r["paperless"]} * paperless::INTEGER AS logit
    FROM derived
)
SELECT
    'C' || lpad((i + 1)::VARCHAR, 9, '0') AS "CUSTOMER_ID",
    (18 + floor(u_age * 62))::BIGINT AS "AGE",
    CASE WHEN u_gender < 0.5 THEN {lit(d.GENDERS[0])} ELSE {lit(d.GENDERS[1])} END AS "GENDER",
    {regions} AS "REGION",
    contract AS "CONTRACT",
    internet AS "INTERNET_SERVICE",
    CASE WHEN u_miss_payment < {d.MISSING_PAYMENT} THEN NULL ELSE payment END AS "PAYMENT_METHOD",
    paperless AS "PAPERLESS_BILLING",
    tenure AS "TENURE_MONTHS",
    monthly::DOUBLE AS "MONTHLY_CHARGES",
    CASE WHEN tenure = 0 OR u_miss_total < {d.MISSING_TOTAL} THEN NULL
         ELSE round(tenure * monthly * (0.95 + 0.1 * u_total), 2) END::DOUBLE AS "TOTAL_CHARGES",
    calls AS "SUPPORT_CALLS",
    CASE WHEN u_miss_usage < {d.MISSING_USAGE} THEN NULL
         WHEN mean_usage > 0 THEN greatest(round(mean_usage + 30.0 * normal, 1), 0.0)
         ELSE 0.0 END::DOUBLE AS "DATA_USAGE_GB",
    CASE WHEN u_churn < 1.0 / (1.0 + exp(-logit)) THEN 'Yes' ELSE 'No' END AS "CHURNED"
FROM scored
"""

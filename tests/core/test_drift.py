"""core.drift on a real DuckDB database, figures checked against numpy / scipy on the same data."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
import sqlglot

from snowml_desktop.core import drift
from snowml_desktop.core.records import Feature

FEATURES = [
    Feature("AGE", "numeric", "DOUBLE"),
    Feature('plan\'s "tier"', "categorical", "VARCHAR"),
    Feature("INCOME", "numeric", "DOUBLE"),
]
CLASSES = ["no", "yes"]
MATRIX = [[60, 10], [5, 25]]  # test rows: 70 true "no", 30 true "yes"; predicted 65 "no", 35 "yes"


def _frame(
    rows: int, seed: int, *, shift: float = 0.0, new_tier: float = 0.0, missing: float = 0.05
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    tiers = rng.choice(["gold", "silver", "bronze", "O'Brien"], rows, p=[0.1, 0.3, 0.5, 0.1]).astype(object)
    tiers[rng.random(rows) < new_tier] = "platinum"
    age = rng.normal(40 + shift, 10, rows)
    age[rng.random(rows) < missing] = np.nan
    return pd.DataFrame({"AGE": age, FEATURES[1].name: tiers, "INCOME": rng.lognormal(10, 0.5, rows)})


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    train, same, moved = _frame(5000, 1), _frame(3000, 2), _frame(3000, 3, shift=8, new_tier=0.3, missing=0.3)
    for name, frame in (("TRAIN", train), ("SAME", same), ("MOVED", moved)):
        con.register("f", frame)
        con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM f')
        con.unregister("f")
    return con


def _run(con: duckdb.DuckDBPyConnection):
    return lambda sql, params: con.execute(sql, params).fetchall()


def test_profile_matches_numpy_deciles_shares_and_missing_rates(con: duckdb.DuckDBPyConnection) -> None:
    profile = drift.build_profile(_run(con), '"TRAIN"', FEATURES, CLASSES, MATRIX)
    train = con.execute('SELECT * FROM "TRAIN"').df()
    age = train["AGE"].dropna().to_numpy()
    entry = profile["features"]["AGE"]
    assert entry["edges"] == pytest.approx(np.percentile(age, [10 * i for i in range(1, 10)]))
    bins = np.searchsorted(entry["edges"], age, side="right")  # bin i: edges[i-1] <= x < edges[i]
    assert entry["shares"] == pytest.approx(np.bincount(bins, minlength=10) / len(age))
    assert entry["missing"] == pytest.approx(train["AGE"].isna().mean())
    tier = profile["features"][FEATURES[1].name]
    shares = train[FEATURES[1].name].value_counts(normalize=True)
    assert tier["categories"] == list(shares.index)  # most frequent first
    assert tier["shares"] == pytest.approx([*shares.to_list(), 0.0])  # no "other" in training
    assert profile["rows"] == 5000
    assert profile["target"] == {"classes": ["no", "yes"], "shares": [0.7, 0.3]}
    assert profile["predictions"]["shares"] == [0.65, 0.35]


def test_same_distribution_is_stable_and_a_shift_is_high(con: duckdb.DuckDBPyConnection) -> None:
    run = _run(con)
    profile = drift.build_profile(run, '"TRAIN"', FEATURES, CLASSES, MATRIX)
    same = drift.check(run, profile, '"SAME"', model="M", table="SAME")
    assert same.band == "stable" and same.max_psi < 0.05 and same.rows == 3000
    moved = drift.check(run, profile, '"MOVED"', model="M", table="MOVED")
    assert moved.band == "high"
    by_name = {f.feature: f for f in moved.features}
    assert by_name["AGE"].psi > 0.25 and by_name["INCOME"].psi < 0.05
    assert moved.features[0].feature in {"AGE", FEATURES[1].name}
    tier = by_name[FEATURES[1].name]
    assert tier.bins[-1] == "(other)" and tier.actual[-1] == pytest.approx(0.3, abs=0.03)
    assert by_name["AGE"].missing_actual == pytest.approx(0.3, abs=0.03)
    expected, actual = by_name["INCOME"].expected, by_name["INCOME"].actual
    manual = sum(
        (max(a, 1e-4) - max(e, 1e-4)) * np.log(max(a, 1e-4) / max(e, 1e-4))
        for e, a in zip(expected, actual, strict=True)
    )
    assert by_name["INCOME"].psi == pytest.approx(manual)
    assert "High drift: highest PSI" in moved.summary()


def test_exact_ks_against_the_clone_matches_scipy(con: duckdb.DuckDBPyConnection) -> None:
    from scipy.stats import ks_2samp

    run = _run(con)
    profile = drift.build_profile(run, '"TRAIN"', FEATURES, CLASSES, MATRIX)
    report = drift.check(
        run,
        profile,
        '"MOVED"',
        model="M",
        table="MOVED",
        training_sql='"TRAIN"',
        training_table="TRAIN",
        exact=True,
    )
    train, moved = con.execute('SELECT * FROM "TRAIN"').df(), con.execute('SELECT * FROM "MOVED"').df()
    for f in report.features:
        if f.kind == "numeric":
            assert f.ks == pytest.approx(
                ks_2samp(train[f.feature].dropna(), moved[f.feature].dropna()).statistic
            )
    binned = drift.check(run, profile, '"MOVED"', model="M", table="MOVED")
    age_binned = next(f for f in binned.features if f.feature == "AGE")
    age_exact = next(f for f in report.features if f.feature == "AGE")
    assert age_binned.ks <= age_exact.ks + 1e-9  # the binned statistic is a lower bound
    assert report.exact and report.overlap_rows == 0


def test_overlap_counts_rows_that_were_training_rows(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        'CREATE TABLE "MIXED" AS (SELECT * FROM "TRAIN" LIMIT 700) UNION ALL (SELECT * FROM "SAME" LIMIT 300)'
    )
    run = _run(con)
    profile = drift.build_profile(run, '"TRAIN"', FEATURES, CLASSES, MATRIX)
    report = drift.check(
        run, profile, '"MIXED"', model="M", table="MIXED", training_sql='"TRAIN"', training_table="T"
    )
    assert report.overlap_rows == 700 and "700 of 1,000 rows are training rows" in report.summary()


def test_prediction_shares_shift(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE TABLE \"SCORED\" AS SELECT *, CASE WHEN AGE > 45 THEN 'yes' ELSE 'no' END AS PREDICTION FROM \"SAME\""
    )
    run = _run(con)
    profile = drift.build_profile(run, '"TRAIN"', FEATURES, CLASSES, MATRIX)
    report = drift.check(run, profile, '"SCORED"', model="M", table="SCORED", prediction_column="PREDICTION")
    scored = con.execute('SELECT PREDICTION FROM "SCORED"').df()["PREDICTION"]
    shares = [float((scored == c).mean()) for c in CLASSES]
    assert report.predictions["actual"] == pytest.approx(shares)
    assert report.predictions["psi"] == pytest.approx(drift.psi([0.65, 0.35], shares))


def test_narrow_batches_give_the_same_report(
    con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _run(con)
    profile = drift.build_profile(run, '"TRAIN"', FEATURES, CLASSES, MATRIX)
    wide = drift.check(run, profile, '"MOVED"', model="M", table="MOVED")
    monkeypatch.setattr(drift, "FEATURES_PER_QUERY", 1)
    assert drift.build_profile(run, '"TRAIN"', FEATURES, CLASSES, MATRIX) == profile
    assert drift.check(run, profile, '"MOVED"', model="M", table="MOVED") == wide


def test_reports_round_trip_through_json(con: duckdb.DuckDBPyConnection) -> None:
    import dataclasses
    import json

    run = _run(con)
    profile = drift.build_profile(run, '"TRAIN"', FEATURES, CLASSES, MATRIX)
    report = drift.check(run, profile, '"MOVED"', model="M", table="MOVED")
    assert drift.report_from_json(json.loads(json.dumps(dataclasses.asdict(report)))) == report


def test_every_statement_is_snowflake_sql_with_bound_values() -> None:
    profile = {
        "features": {
            "AGE": {"kind": "numeric", "edges": [1.0, 2.0]},
            FEATURES[1].name: {"kind": "categorical", "categories": ["gold", "O'Brien"]},
        },
        "predictions": {"classes": ["no", "yes"], "shares": [0.5, 0.5]},
    }
    table = '"DB"."DATA"."T"'
    statements = [
        drift.quantile_query(table, FEATURES),
        drift.top_categories_query(table, FEATURES[1].name),
        drift.count_query(table, profile, list(profile["features"]), "PREDICTION"),
        drift.overlap_query(table, '"DB"."DATA"."C"', ["AGE"]),
        drift.exact_ks_query(table, '"DB"."DATA"."C"', "AGE"),
    ]
    for sql, params in statements:
        assert sql.count("?") == len(params)
        assert "O'Brien" not in sql and "gold" not in sql  # values travel as binds
        sqlglot.parse_one(sql, read="snowflake")
    assert statements[2][1] == [1.0, 1.0, 2.0, 2.0, "gold", "O'Brien", "no", "yes"]

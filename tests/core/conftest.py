"""Small data sets for the ML core tests: scikit-learn's bundled ones and a seeded churn-like frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def churn_frame(rows: int = 600, seed: int = 0) -> pd.DataFrame:
    """A churn-like table: an ID, string categoricals with missing values, numbers, a bool, string labels."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(0, 72, rows)
    monthly = rng.normal(65, 25, rows).round(2)
    contract = rng.choice(["month", "one_year", "two_year"], rows, p=[0.5, 0.3, 0.2])
    region = rng.choice(["north", "south", "east", "west"], rows).astype(object)
    region[rng.random(rows) < 0.1] = None
    senior = rng.random(rows) < 0.2
    logit = -1.0 + 1.8 * (contract == "month") - 0.04 * tenure + 0.015 * (monthly - 65) + 0.5 * senior
    churn = np.where(rng.random(rows) < 1 / (1 + np.exp(-logit)), "yes", "no")
    frame = pd.DataFrame(
        {
            "CUSTOMER_ID": [f"C{i:06d}" for i in range(rows)],
            "TENURE": tenure,
            "MONTHLY": monthly,
            "CONTRACT": contract,
            "REGION": pd.Series(region, dtype="str"),
            "SENIOR": senior,
            "CHURN": churn,
        }
    )
    frame.loc[rng.random(rows) < 0.05, "MONTHLY"] = np.nan
    return frame


@pytest.fixture(scope="session")
def breast_cancer() -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(as_frame=True).frame


@pytest.fixture(scope="session")
def iris() -> pd.DataFrame:
    from sklearn.datasets import load_iris

    return load_iris(as_frame=True).frame


@pytest.fixture(scope="session")
def wine() -> pd.DataFrame:
    from sklearn.datasets import load_wine

    return load_wine(as_frame=True).frame


@pytest.fixture
def churn() -> pd.DataFrame:
    return churn_frame()

"""Demo data sets seeded into a new workspace: no download, fixed seeds, the same files every time.

- ``BREAST_CANCER.csv`` / ``BREAST_CANCER_NEW_PATIENTS.csv``: scikit-learn's bundled Wisconsin breast cancer
  data, split (stratified, fixed seed) into a training file and a ~15 % "new patients" file that still
  carries the label, so scoring it also yields metrics. Label column ``DIAGNOSIS`` ("malignant"/"benign").
- ``CHURN.csv``: a synthetic customer-churn table (~7 000 rows) with an ID column, string categoricals, a
  boolean, numerics, missing values and a learnable signal (ROC AUC around 0.8); target ``CHURNED`` (Yes/No).

The churn recipe (``CHURN_RECIPE`` below) is also implemented in SQL by the local engine's big-table
generator, so a model trained on the file scores generated tables. Keep the two in step.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

BREAST_CANCER_FILE = "BREAST_CANCER.csv"
NEW_PATIENTS_FILE = "BREAST_CANCER_NEW_PATIENTS.csv"
CHURN_FILE = "CHURN.csv"
DEMO_FILES = (BREAST_CANCER_FILE, NEW_PATIENTS_FILE, CHURN_FILE)

BREAST_CANCER_TARGET = "DIAGNOSIS"
CHURN_TARGET = "CHURNED"
CHURN_ROWS = 7_000
SPLIT_SEED = 20_240_601
CHURN_SEED = 7
NEW_PATIENTS_FRACTION = 0.15

# Column names and the SQL types a CSV load gives them (DuckDB's sniffer); the big-table generator uses these.
CHURN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("CUSTOMER_ID", "VARCHAR"),
    ("AGE", "BIGINT"),
    ("GENDER", "VARCHAR"),
    ("REGION", "VARCHAR"),
    ("CONTRACT", "VARCHAR"),
    ("INTERNET_SERVICE", "VARCHAR"),
    ("PAYMENT_METHOD", "VARCHAR"),
    ("PAPERLESS_BILLING", "BOOLEAN"),
    ("TENURE_MONTHS", "BIGINT"),
    ("MONTHLY_CHARGES", "DOUBLE"),
    ("TOTAL_CHARGES", "DOUBLE"),
    ("SUPPORT_CALLS", "BIGINT"),
    ("DATA_USAGE_GB", "DOUBLE"),
    ("CHURNED", "VARCHAR"),
)

# The recipe, shared with the SQL generator (engines/local/demo.py). Each column draws from its own uniform.
GENDERS = ("Female", "Male")
REGIONS = ("North", "South", "East", "West")
CONTRACTS = ("Month-to-month", "One year", "Two year")
CONTRACT_CUTS = (0.55, 0.80)  # cumulative shares of the first two contracts
INTERNET = ("DSL", "Fiber optic", "No internet")
INTERNET_CUTS = (0.35, 0.80)
PAYMENTS = ("Electronic check", "Mailed check", "Bank transfer", "Credit card")
MAX_TENURE = {"Month-to-month": 24, "One year": 48, "Two year": 72}
BASE_CHARGE = {"DSL": 45.0, "Fiber optic": 75.0, "No internet": 20.0}
MEAN_USAGE = {"DSL": 60.0, "Fiber optic": 120.0, "No internet": 0.0}
MISSING_PAYMENT = 0.02
MISSING_TOTAL = 0.01
MISSING_USAGE = 0.03
CHURN_RECIPE = {
    "intercept": -1.3,
    "month_to_month": 1.4,
    "two_year": -1.0,
    "tenure": -0.035,
    "monthly_minus_60": 0.02,
    "support_calls": 0.3,
    "electronic_check": 0.5,
    "fiber": 0.4,
    "paperless": 0.2,
}


def identifier_from_label(label: str) -> str:
    """``"mean concave points"`` -> ``MEAN_CONCAVE_POINTS``: a simple identifier from a descriptive label."""
    return re.sub(r"[^A-Za-z0-9]+", "_", label).strip("_").upper()


def breast_cancer_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training rows, new-patient rows) of scikit-learn's breast cancer data, both with ``DIAGNOSIS``."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.data.rename(columns=identifier_from_label)
    frame[BREAST_CANCER_TARGET] = bunch.target.map(dict(enumerate(bunch.target_names))).astype(str)
    train, new = train_test_split(
        frame,
        test_size=NEW_PATIENTS_FRACTION,
        random_state=SPLIT_SEED,
        stratify=frame[BREAST_CANCER_TARGET],
    )
    return train.sort_index().reset_index(drop=True), new.sort_index().reset_index(drop=True)


def churn_frame(rows: int = CHURN_ROWS, seed: int = CHURN_SEED) -> pd.DataFrame:
    """The synthetic churn table (columns ``CHURN_COLUMNS``), reproducible for a given ``seed``."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    u = {name: rng.random(rows) for name, _ in CHURN_COLUMNS}
    u2 = rng.random(rows)  # second uniform for the Box-Muller normal of DATA_USAGE_GB
    missing = {key: rng.random(rows) for key in ("payment", "total", "usage")}

    contract = _pick(CONTRACTS, np.searchsorted(CONTRACT_CUTS, u["CONTRACT"], side="right"))
    internet = _pick(INTERNET, np.searchsorted(INTERNET_CUTS, u["INTERNET_SERVICE"], side="right"))
    payment = _pick(PAYMENTS, np.minimum((u["PAYMENT_METHOD"] * 4).astype(int), 3))
    max_tenure = pd.Series(contract).map(MAX_TENURE).to_numpy()
    tenure = np.floor(u["TENURE_MONTHS"] * (max_tenure + 1)).astype(np.int64)
    monthly = np.round(pd.Series(internet).map(BASE_CHARGE).to_numpy() + 25.0 * u["MONTHLY_CHARGES"], 2)
    total = np.round(tenure * monthly * (0.95 + 0.1 * u["TOTAL_CHARGES"]), 2)
    total[(tenure == 0) | (missing["total"] < MISSING_TOTAL)] = np.nan
    calls = np.minimum(np.floor(-np.log1p(-u["SUPPORT_CALLS"]) * 1.5), 15).astype(np.int64)
    normal = np.sqrt(-2.0 * np.log1p(-u["DATA_USAGE_GB"])) * np.cos(2.0 * np.pi * u2)
    mean_usage = pd.Series(internet).map(MEAN_USAGE).to_numpy()
    usage = np.where(mean_usage > 0, np.maximum(np.round(mean_usage + 30.0 * normal, 1), 0.0), 0.0)
    usage[missing["usage"] < MISSING_USAGE] = np.nan
    paperless = u["PAPERLESS_BILLING"] < 0.6

    r = CHURN_RECIPE
    logit = (
        r["intercept"]
        + r["month_to_month"] * (contract == CONTRACTS[0])
        + r["two_year"] * (contract == CONTRACTS[2])
        + r["tenure"] * tenure
        + r["monthly_minus_60"] * (monthly - 60.0)
        + r["support_calls"] * calls
        + r["electronic_check"] * (payment == PAYMENTS[0])
        + r["fiber"] * (internet == INTERNET[1])
        + r["paperless"] * paperless
    )
    churned = u["CHURNED"] < 1.0 / (1.0 + np.exp(-logit))

    payment_col = pd.Series(payment, dtype="str")
    payment_col[missing["payment"] < MISSING_PAYMENT] = None
    return pd.DataFrame(
        {
            "CUSTOMER_ID": [f"C{i:09d}" for i in range(1, rows + 1)],
            "AGE": (18 + np.floor(u["AGE"] * 62)).astype(np.int64),
            "GENDER": _pick(GENDERS, (u["GENDER"] >= 0.5).astype(int)),
            "REGION": _pick(REGIONS, np.minimum((u["REGION"] * 4).astype(int), 3)),
            "CONTRACT": contract,
            "INTERNET_SERVICE": internet,
            "PAYMENT_METHOD": payment_col,
            "PAPERLESS_BILLING": paperless,
            "TENURE_MONTHS": tenure,
            "MONTHLY_CHARGES": monthly,
            "TOTAL_CHARGES": total,
            "SUPPORT_CALLS": calls,
            "DATA_USAGE_GB": usage,
            "CHURNED": np.where(churned, "Yes", "No"),
        }
    )


def _pick(values: tuple[str, ...], index: np.ndarray) -> np.ndarray:
    import numpy as np

    return np.asarray(values, dtype=object)[index]


def write_demo_files(folder: Path) -> list[Path]:
    """Write the demo CSV files into ``folder`` (created if needed) and return their paths.

    A file that already exists is left as it is (it may be the user's). Each file is written to a
    temporary name and renamed, so a crash never leaves half a file. Raises OSError when unwritable.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / name for name in DEMO_FILES]
    contents = None
    for path in paths:
        if not path.exists():
            contents = contents or _demo_csv_bytes()
            _write_atomically(contents[path.name], path)
    return paths


@functools.lru_cache(maxsize=1)
def _demo_csv_bytes() -> dict[str, bytes]:
    """The demo files' bytes, made once per process (every new workspace gets the same files)."""
    train, new = breast_cancer_frames()
    frames = {BREAST_CANCER_FILE: train, NEW_PATIENTS_FILE: new, CHURN_FILE: churn_frame()}
    return {
        name: frame.to_csv(index=False, lineterminator="\n").encode("utf-8") for name, frame in frames.items()
    }


def _write_atomically(content: bytes, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

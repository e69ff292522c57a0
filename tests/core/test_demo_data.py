"""The demo files: bundled data only, fixed seeds, the promised columns and a learnable churn signal."""

from __future__ import annotations

import pandas as pd

from snowml_desktop.core import demo_data


def test_write_demo_files_is_reproducible_and_keeps_existing_files(tmp_path):
    first = demo_data.write_demo_files(tmp_path / "a")
    second = demo_data.write_demo_files(tmp_path / "b")
    assert [p.name for p in first] == list(demo_data.DEMO_FILES)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    mine = tmp_path / "a" / "CHURN.csv"
    mine.write_text("my own file")
    demo_data.write_demo_files(tmp_path / "a")
    assert mine.read_text() == "my own file"
    assert not [p for p in (tmp_path / "a").iterdir() if p.name.startswith(".")]


def test_breast_cancer_split(tmp_path):
    train_path, new_path, _ = demo_data.write_demo_files(tmp_path)
    train, new = pd.read_csv(train_path), pd.read_csv(new_path)
    assert len(train) + len(new) == 569
    assert abs(len(new) / 569 - 0.15) < 0.01
    assert list(train.columns) == list(new.columns)
    assert train.columns[0] == "MEAN_RADIUS" and "WORST_CONCAVE_POINTS" in train.columns
    assert set(train["DIAGNOSIS"]) == set(new["DIAGNOSIS"]) == {"malignant", "benign"}
    assert all(name.isidentifier() and name == name.upper() for name in train.columns)


def test_churn_file_columns_missing_values_and_ids(tmp_path):
    *_, churn_path = demo_data.write_demo_files(tmp_path)
    churn = pd.read_csv(churn_path, keep_default_na=False, na_values=[""])
    assert list(churn.columns) == [name for name, _ in demo_data.CHURN_COLUMNS]
    assert len(churn) == demo_data.CHURN_ROWS and churn["CUSTOMER_ID"].is_unique
    assert set(churn["CHURNED"]) == {"Yes", "No"}
    missing = churn.isna().sum()
    assert missing["PAYMENT_METHOD"] > 0 and missing["TOTAL_CHARGES"] > 0 and missing["DATA_USAGE_GB"] > 0
    assert set(churn["INTERNET_SERVICE"]) == set(demo_data.INTERNET)


def test_churn_signal_is_learnable():
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    frame = demo_data.churn_frame()
    features = pd.get_dummies(frame.drop(columns=["CUSTOMER_ID", "CHURNED"])).fillna(0).astype(float)
    features = (features - features.mean()) / features.std().replace(0, 1)
    target = frame["CHURNED"] == "Yes"
    x_train, x_test, y_train, y_test = train_test_split(features, target, random_state=0, stratify=target)
    model = LogisticRegression(max_iter=1000).fit(x_train, y_train)
    auc = roc_auc_score(y_test, model.predict_proba(x_test)[:, 1])
    assert 0.75 < auc < 0.9


def test_identifier_from_label():
    assert demo_data.identifier_from_label("mean concave points") == "MEAN_CONCAVE_POINTS"
    assert demo_data.identifier_from_label("  radius (error) ") == "RADIUS_ERROR"

"""compare_methods: every method on the same folds or split, figures checked against scikit-learn itself."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from snowml_desktop.core.compare import METRICS, CompareSpec, compare_methods
from snowml_desktop.core.errors import Cancelled, InvalidInput
from snowml_desktop.core.tasks import CancelToken, TaskContext
from snowml_desktop.core.training import train_model

from .conftest import churn_frame


def test_same_folds_for_every_method_match_sklearn_cross_validate(breast_cancer: pd.DataFrame) -> None:
    from sklearn.model_selection import StratifiedKFold, cross_validate

    from snowml_desktop.core.training import make_pipeline

    spec = CompareSpec(target="target", methods=["logistic_regression", "decision_tree"], cv_folds=4, seed=7)
    result = compare_methods(breast_cancer, spec)
    assert [r.method for r in result.results] == ["logistic_regression", "decision_tree"]
    assert result.folds == 4 and result.rows == len(breast_cancer) and result.classes == [0, 1]

    x = breast_cancer.drop(columns="target")
    y = breast_cancer["target"].to_numpy()
    folds = StratifiedKFold(n_splits=4, shuffle=True, random_state=7)
    for row in result.results:
        assert row.error is None
        assert set(row.metrics) == set(METRICS)
        from snowml_desktop.core.preprocessing import plan_columns

        features = plan_columns(breast_cancer, list(x.columns), explicit=False).features
        pipeline = make_pipeline(row.method, {}, features, y, class_weight=None, seed=7)
        expected = cross_validate(
            pipeline, x, y, cv=folds, scoring=["accuracy", "balanced_accuracy", "roc_auc", "f1_macro"]
        )
        for ours, theirs in [
            ("accuracy", "test_accuracy"),
            ("balanced_accuracy", "test_balanced_accuracy"),
            ("roc_auc", "test_roc_auc"),
            ("f1_macro", "test_f1_macro"),
        ]:
            assert row.metrics[ours]["folds"] == pytest.approx(list(expected[theirs]), abs=1e-9), (
                row.method,
                ours,
            )
            assert row.metrics[ours]["mean"] == pytest.approx(float(np.mean(expected[theirs])))
            assert row.metrics[ours]["std"] == pytest.approx(float(np.std(expected[theirs])))
        assert row.curves["roc"] and row.curves["pr"]  # pooled held-out probabilities
        assert row.curves["roc"][0]["fpr"][0] == 0.0 and row.curves["roc"][0]["tpr"][-1] == 1.0
    assert (
        result.best("roc_auc").method
        == max(result.results, key=lambda r: r.metrics["roc_auc"]["mean"]).method
    )


def test_one_split_is_the_split_training_uses(churn: pd.DataFrame) -> None:
    spec = CompareSpec(target="CHURN", methods=["random_forest", "gaussian_nb"], cv_folds=0, test_size=0.25)
    result = compare_methods(churn, spec)
    for row in result.results:
        trained = train_model(churn, spec.train_spec(row.method))
        assert row.metrics["accuracy"]["folds"] == [pytest.approx(trained.metrics["accuracy"])]
        assert row.metrics["roc_auc"]["mean"] == pytest.approx(trained.metrics["roc_auc"])
        assert row.metrics["accuracy"]["std"] == 0.0


def test_multiclass_and_parallel_fits_give_the_same_figures(iris: pd.DataFrame) -> None:
    spec = CompareSpec(target="target", methods=["knn", "gaussian_nb", "gradient_boosting"], cv_folds=3)
    serial = compare_methods(iris, spec)
    parallel = compare_methods(iris, CompareSpec(**{**spec.__dict__, "threads": 2}))
    for a, b in zip(serial.results, parallel.results, strict=True):
        assert a.metrics == b.metrics
    assert len(serial.results[0].curves["roc"]) == 3  # one-vs-rest per class


def test_a_method_that_cannot_fit_does_not_sink_the_others() -> None:
    spec = CompareSpec(
        target="CHURN",
        methods=["logistic_regression", "knn"],
        params={"knn": {"n_neighbors": 150}},
        cv_folds=3,
    )
    result = compare_methods(churn_frame(200), spec)
    fitted, failed = result.results
    assert fitted.error is None and fitted.metrics["accuracy"]["mean"] > 0.5
    assert failed.method == "knn" and "n_neighbors=150" in failed.error and failed.metrics == {}
    assert result.best().method == "logistic_regression"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (CompareSpec(target="CHURN", methods=[]), "at least one method"),
        (CompareSpec(target="CHURN", methods=["auto", "knn"]), "Auto cannot be compared"),
        (CompareSpec(target="CHURN", methods=["knn", "KNN"]), "repeated: knn"),
        (CompareSpec(target="CHURN", methods=["no_such"]), "no_such"),
        (CompareSpec(target="CHURN", methods=["knn"], cv_folds=1), "folds"),
        (
            CompareSpec(target="CHURN", methods=["knn"], class_weight="balanced"),
            "does not support class weighting",
        ),
    ],
)
def test_bad_requests_are_refused(churn: pd.DataFrame, spec: CompareSpec, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        compare_methods(churn, spec)


def test_too_few_rows_per_class_for_the_folds_is_explained() -> None:
    frame = churn_frame(60)
    frame.loc[frame.index[:3], "CHURN"] = "maybe"
    with pytest.raises(InvalidInput, match="5-fold comparison: 'maybe' has 3"):
        compare_methods(frame, CompareSpec(target="CHURN", methods=["knn"], cv_folds=5))


def test_cancel_stops_between_fits(churn: pd.DataFrame) -> None:
    token = CancelToken()
    seen: list[str] = []

    def report(fraction: float, text: str) -> None:
        seen.append(text)
        if fraction > 0:
            token.cancel()

    task = TaskContext(token=token, progress=report)
    with pytest.raises(Cancelled):
        compare_methods(
            churn, CompareSpec(target="CHURN", methods=["knn", "random_forest"], cv_folds=5), task
        )
    assert seen[0].startswith("Comparing 2 methods on the same 5 folds")


@pytest.mark.parametrize("in_processes", [False, True], ids=["threads", "processes"])
def test_fits_at_once_match_sklearn_cross_validate_with_a_capped_forest(
    churn: pd.DataFrame, in_processes: bool
) -> None:
    from sklearn.model_selection import StratifiedKFold, cross_validate

    from snowml_desktop.core.training import TrainSpec, make_pipeline, prepare_data
    from snowml_desktop.engines.local.workers import fit_processes

    params = {"random_forest": {"n_estimators": 10, "max_samples": 30}}
    spec = CompareSpec(
        target="CHURN",
        methods=["random_forest", "logistic_regression"],
        params=params,
        cv_folds=5,
        threads=2,
        processes=fit_processes if in_processes else None,
    )
    result = compare_methods(churn, spec)
    data = prepare_data(churn, TrainSpec(target="CHURN"), [])
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=spec.seed)
    for row in result.results:
        pipeline = make_pipeline(
            row.method, row.params, data.features, data.y, class_weight=None, seed=spec.seed
        )
        expected = cross_validate(pipeline, data.x, data.y, cv=folds, scoring=["accuracy", "roc_auc"])
        assert row.metrics["accuracy"]["folds"] == pytest.approx(list(expected["test_accuracy"]), abs=1e-12)
        assert row.metrics["roc_auc"]["folds"] == pytest.approx(list(expected["test_roc_auc"]), abs=1e-12)
    assert result.results[0].params["max_samples"] == 30


def test_each_fit_runs_openmp_on_one_thread(churn: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    # OpenMP's thread count is per thread: a limit set by the caller does not reach the pool's threads, where
    # gradient boosting would use every core in each of the fits running at once.
    from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

    import snowml_desktop.core.compare as compare

    seen: list[int] = []
    fit = compare.fit_or_explain

    def recording_fit(*args: object) -> None:
        seen.append(_openmp_effective_n_threads())
        fit(*args)

    monkeypatch.setattr(compare, "fit_or_explain", recording_fit)
    compare_methods(churn, CompareSpec(target="CHURN", methods=["gradient_boosting"], cv_folds=2, threads=2))
    assert seen == [1, 1]

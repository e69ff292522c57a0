"""Shared set-up for the model panels' tests: demo tables loaded, models trained, all on a real LocalEngine."""

from __future__ import annotations

from snowml_desktop.engines.base import LoadRequest, TrainRequest

JOB_MS = 60_000


def load_demo(ctx, *files: str) -> None:
    """Load demo stage files into tables named after them (test set-up, straight through the engine)."""
    for name in files or ("BREAST_CANCER.csv",):
        ctx.engine.load(LoadRequest("LOAD_DATA", name, name.removesuffix(".csv")))


def train_demo(ctx, method: str = "random_forest", **params):
    """Train a small model on BREAST_CANCER (test set-up) and return its record."""
    params = params or ({"n_estimators": 10} if method == "random_forest" else {})
    return ctx.engine.train(TrainRequest("BREAST_CANCER", "DIAGNOSIS", method=method, params=params))


def settle(qtbot, ctx) -> None:
    """Wait until every job of the context has ended and its signals were delivered."""
    qtbot.waitUntil(lambda: not ctx.jobs.running(), timeout=JOB_MS)

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
    """Wait until every job of the context has ended and its signals were delivered, and no panel has a
    refresh due."""
    qtbot.waitUntil(lambda: ctx.idle, timeout=JOB_MS)


def sql(ctx, statement: str) -> None:
    """Run SQL on the local workspace (test set-up for tables the load path cannot make)."""
    cursor = ctx.engine.workspace.cursor()
    try:
        cursor.execute(statement)
    finally:
        cursor.close()


def make_odd_tables(ctx) -> dict[str, str]:
    """From BREAST_CANCER (loaded first), tables with the model's columns: no rows, every feature null,
    and a single class. Returns {"empty": name, "all_nan": name, "single": name}."""
    features = [c.name for c in ctx.engine.table_columns("BREAST_CANCER") if c.name != "DIAGNOSIS"]
    source = '"DATA"."BREAST_CANCER"'
    sql(ctx, f'CREATE TABLE "DATA"."BC_EMPTY" AS SELECT * FROM {source} LIMIT 0')
    sql(ctx, f'CREATE TABLE "DATA"."BC_NAN" AS SELECT * FROM {source}')
    sql(ctx, 'UPDATE "DATA"."BC_NAN" SET ' + ", ".join(f'"{name}" = NULL' for name in features))
    sql(ctx, f'CREATE TABLE "DATA"."BC_SINGLE" AS SELECT * FROM {source} WHERE "DIAGNOSIS" = \'benign\'')
    return {"empty": "BC_EMPTY", "all_nan": "BC_NAN", "single": "BC_SINGLE"}


def drop_files(view, paths) -> None:
    """Drag local ``paths`` onto item view ``view`` and drop them, as a file manager would."""
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    viewport = view.viewport()
    at = QPointF(viewport.width() / 2, viewport.height() / 2)
    buttons, modifiers = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    # Qt delivers a drop only to the widget that accepted the drag's entry, as in a real drag.
    enter = QDragEnterEvent(at, Qt.DropAction.CopyAction, mime, buttons, modifiers)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    drop = QDropEvent(at, Qt.DropAction.CopyAction, mime, buttons, modifiers)
    QApplication.sendEvent(viewport, drop)
    assert drop.isAccepted()

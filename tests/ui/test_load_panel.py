"""Load Data panel on a real LocalEngine: upload (dialog path and drop), load, result, errors, cancel."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from snowml_desktop.ui.panels.load import LoadPanel, human_size, table_name_for

from .model_fixtures import drop_files

TIMEOUT = 15_000


@pytest.fixture
def panel(qtbot, app_context) -> LoadPanel:
    panel = LoadPanel(app_context)
    qtbot.addWidget(panel)
    panel.on_shown()
    qtbot.waitUntil(lambda: "CHURN.csv" in panel.files.file_names(), timeout=TIMEOUT)
    return panel


def _csv(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _select(qtbot, panel: LoadPanel, name: str) -> None:
    qtbot.waitUntil(lambda: name in panel.files.file_names(), timeout=TIMEOUT)
    assert panel.files.select_file(name)


def _load(qtbot, panel: LoadPanel) -> None:
    """Click Load and wait for the job to end (whatever its outcome)."""
    assert panel.load_button.isEnabled()
    qtbot.mouseClick(panel.load_button, Qt.MouseButton.LeftButton)
    handle = panel._load_job
    assert handle is not None
    qtbot.waitUntil(lambda: handle.done and not panel.cancel_button.isEnabled(), timeout=TIMEOUT)


def test_helpers():
    assert human_size(512) == "512 B" and human_size(1536) == "1.5 KB"
    assert table_name_for("churn-2024 v2.csv.gz") == "CHURN_2024_V2"
    assert table_name_for("2024.parquet") == "T_2024"
    assert table_name_for("...csv") == "NEW_TABLE"


def test_lists_stage_files_with_size_and_time(panel):
    assert panel.stage_combo.currentText() == "LOAD_DATA"
    item = panel.files.findItems("CHURN.csv", Qt.MatchFlag.MatchExactly, 0)[0]
    assert item.text(1).endswith("KB") and item.text(2)
    for name in (
        "load.stage",
        "load.files",
        "load.upload",
        "load.table",
        "load.header",
        "load.columns_from",
        "load.mode",
        "load.load",
        "load.cancel",
        "load.analyze",
        "load.rejections",
    ):
        widget = panel.findChild(object, name)
        assert widget is not None and widget.accessibleName(), name


def test_upload_by_the_dialog_path(qtbot, panel, tmp_path, monkeypatch):
    first = _csv(tmp_path, "sales q1.csv", "REGION,AMOUNT\nNorth,10\nSouth,20\n")
    second = _csv(tmp_path, "sales_q2.csv", "REGION,AMOUNT\nEast,5\n")
    monkeypatch.setattr(  # the OS file dialog is the one thing a test cannot click through
        QFileDialog, "getOpenFileNames", staticmethod(lambda *args, **kwargs: ([str(first), str(second)], ""))
    )
    qtbot.mouseClick(panel.upload_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.selected_file() == "sales q1.csv", timeout=TIMEOUT)
    assert "sales_q2.csv" in panel.files.file_names()
    assert panel.table_edit.text() == "SALES_Q1", "the table name is proposed from the file stem"
    assert panel.table_edit.hint.text() == "Creates SALES_Q1"
    assert panel.upload_button.isEnabled()


def test_upload_by_drop_then_load_and_analyze(qtbot, panel, app_context, tmp_path):
    path = _csv(tmp_path, "dropped.csv", "ID,LABEL,SCORE\n1,a,0.5\n2,b,0.25\n3,a,1.5\n")
    drop_files(panel.files, [path])
    qtbot.waitUntil(lambda: panel.selected_file() == "dropped.csv", timeout=TIMEOUT)
    assert panel.table_edit.canonical() == "DROPPED"

    with qtbot.waitSignal(app_context.tables_changed, timeout=TIMEOUT):
        qtbot.mouseClick(panel.load_button, Qt.MouseButton.LeftButton)
    result = panel.last_result()
    assert result is not None and result.table == "DROPPED" and result.rows_loaded == 3
    assert "<b>3</b> rows loaded into <b>DROPPED</b>" in panel.result_label.text()
    assert panel.analyze_button.isVisibleTo(panel) and panel.analyze_button.text() == "Analyze DROPPED"
    with qtbot.waitSignal(app_context.navigate_requested, timeout=TIMEOUT) as signal:
        qtbot.mouseClick(panel.analyze_button, Qt.MouseButton.LeftButton)
    assert signal.args == ["analyze", "DROPPED"]


def test_load_demo_file_shows_rows_and_rejections(qtbot, panel, app_context, tmp_path):
    _select(qtbot, panel, "CHURN.csv")
    assert panel.table_edit.text() == "CHURN"
    _load(qtbot, panel)
    assert panel.last_result().rows_loaded == 7000
    assert "7,000" in panel.result_label.text()
    qtbot.waitUntil(lambda: panel.columns_combo.findData("CHURN") > 0, timeout=TIMEOUT)

    # Rows with the wrong number of fields are rejected, never dropped silently; the reasons are shown.
    bad = _csv(tmp_path, "bad.csv", "A,B\n1,2\n3,4,5\n6,7\n8\n")
    panel.upload_paths([bad])
    qtbot.waitUntil(lambda: panel.selected_file() == "bad.csv", timeout=TIMEOUT)
    assert panel.table_edit.text() == "BAD"
    _load(qtbot, panel)
    result = panel.last_result()
    assert result.rows_loaded == 2 and result.rows_rejected == 2
    assert panel.rejections.isVisibleTo(panel) and panel.rejections.rowCount() == 2
    assert panel.rejections.item(0, 0).text() == "3" and panel.rejections.item(0, 1).text()
    assert "2 rejected" in panel.result_label.text()


def test_empty_file_shows_a_clear_error_and_the_panel_stays_usable(qtbot, panel, tmp_path):
    panel.upload_paths([_csv(tmp_path, "empty.csv", "")])
    qtbot.waitUntil(lambda: panel.selected_file() == "empty.csv", timeout=TIMEOUT)
    _load(qtbot, panel)
    assert panel.last_result() is None
    assert "empty" in panel.status.text() and "Traceback" not in panel.status.text()
    assert panel.result_label.text() == "Nothing was loaded."
    assert panel.load_button.isEnabled() and not panel.cancel_button.isEnabled()

    _select(qtbot, panel, "CHURN.csv")
    assert panel.table_edit.text() == "CHURN"
    _load(qtbot, panel)
    assert panel.last_result() is not None and panel.last_result().table == "CHURN"


def test_invalid_table_name_disables_load(qtbot, panel):
    _select(qtbot, panel, "CHURN.csv")
    panel.table_edit.setText('"bad"name"')
    assert not panel.load_button.isEnabled()
    assert panel.load_request() is None
    panel.table_edit.setText("my table")
    request = panel.load_request()
    assert request is not None and panel.table_edit.canonical() == "my table"
    assert request.table == '"my table"' and request.stage == "LOAD_DATA" and request.file == "CHURN.csv"


def test_cancel_a_load(qtbot, panel, app_context):
    _select(qtbot, panel, "CHURN.csv")
    release = threading.Event()
    # Another job holds the write lock on CHURN, so the load waits in the queue until it is cancelled.
    blocker = app_context.run("Hold CHURN", lambda engine, task: release.wait(TIMEOUT / 1000), writes="CHURN")
    try:
        qtbot.mouseClick(panel.load_button, Qt.MouseButton.LeftButton)
        assert panel.cancel_button.isEnabled() and not panel.load_button.isEnabled()
        with qtbot.waitSignal(panel._load_job.cancelled, timeout=TIMEOUT):
            qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    finally:
        release.set()
    qtbot.waitUntil(lambda: blocker.done, timeout=TIMEOUT)
    assert "cancelled" in panel.status.text()
    assert panel.last_result() is None
    assert panel.load_button.isEnabled() and not panel.cancel_button.isEnabled()
    assert not panel.progress.isVisibleTo(panel)


def test_header_only_all_null_and_single_class_files(qtbot, panel, tmp_path):
    files = [
        _csv(tmp_path, "header_only.csv", "A,B,Y\n"),
        _csv(tmp_path, "all_null.csv", "A,B,Y\n,,\n,,\n,,\n"),
        _csv(tmp_path, "one_class.csv", "A,B,Y\n1,x,yes\n2,y,yes\n3,z,yes\n"),
    ]
    panel.upload_paths(files)
    _select(qtbot, panel, "header_only.csv")
    _load(qtbot, panel)
    assert panel.last_result() is None
    assert "no data rows" in panel.status.text() and panel.result_label.text() == "Nothing was loaded."

    _select(qtbot, panel, "all_null.csv")
    assert panel.table_edit.text() == "ALL_NULL"
    _load(qtbot, panel)
    assert panel.last_result().rows_loaded == 3 and panel.last_result().rows_rejected == 0
    assert "3</b> rows loaded into <b>ALL_NULL" in panel.result_label.text()

    _select(qtbot, panel, "one_class.csv")
    _load(qtbot, panel)
    assert panel.last_result().rows_loaded == 3
    assert panel.analyze_button.isVisible() or not panel.isVisible()
    assert panel.analyze_button.text() == "Analyze ONE_CLASS"


def test_header_mode_columns_from_and_append_replace_modes(qtbot, panel, app_context, tmp_path):
    panel.upload_paths([_csv(tmp_path, "people.csv", "AGE,NAME\n30,ann\n40,bob\n")])
    _select(qtbot, panel, "people.csv")
    _load(qtbot, panel)
    assert panel.last_result().rows_loaded == 2
    qtbot.waitUntil(lambda: panel.columns_combo.findData("PEOPLE") > 0, timeout=TIMEOUT)

    # A headerless file takes its column names from PEOPLE and is appended to it.
    panel.upload_paths([_csv(tmp_path, "more.csv", "50,cy\n60,dee\n70,eve\n")])
    _select(qtbot, panel, "more.csv")
    panel.table_edit.setText("people")
    panel.header_combo.setCurrentIndex(panel.header_combo.findData("no"))
    assert panel.columns_combo.isEnabled()
    panel.columns_combo.setCurrentIndex(panel.columns_combo.findData("PEOPLE"))
    panel.mode_combo.setCurrentIndex(panel.mode_combo.findData("append"))
    request = panel.load_request()
    assert (request.header, request.columns_from, request.mode) == ("no", "PEOPLE", "append")
    _load(qtbot, panel)
    assert panel.last_result().rows_loaded == 3
    assert app_context.engine.profile("PEOPLE").rows == 5
    assert [c.name for c in panel.last_result().columns] == ["AGE", "NAME"]

    # "Create" refuses an existing table and says so; "Replace" swaps it.
    panel.mode_combo.setCurrentIndex(panel.mode_combo.findData("create"))
    _load(qtbot, panel)
    assert panel.last_result() is None and "PEOPLE" in panel.status.text()
    assert app_context.engine.profile("PEOPLE").rows == 5
    panel.mode_combo.setCurrentIndex(panel.mode_combo.findData("replace"))
    _load(qtbot, panel)
    assert app_context.engine.profile("PEOPLE").rows == 3

    panel.header_combo.setCurrentIndex(panel.header_combo.findData("yes"))
    assert not panel.columns_combo.isEnabled() and panel.load_request().columns_from is None


def test_a_numeric_column_with_bad_values_is_flagged_and_can_load_as_numbers(qtbot, panel, tmp_path):
    rows = "".join(f"n{i},{'abc' if i == 3 else 20 + i}\n" for i in range(30))
    panel.upload_paths([_csv(tmp_path, "ages.csv", "NAME,AGE\n" + rows)])
    qtbot.waitUntil(lambda: panel.selected_file() == "ages.csv", timeout=TIMEOUT)
    _load(qtbot, panel)
    text = panel.result_label.text()
    assert "Column AGE has 1 value that is not a number" in text and "abc" in text and "as text" in text
    assert "Not numbers" in text
    panel.mode_combo.setCurrentIndex(panel.mode_combo.findData("replace"))
    panel.bad_numbers_combo.setCurrentIndex(panel.bad_numbers_combo.findData("null"))
    _load(qtbot, panel)
    result = panel.last_result()
    assert {c.name: c.sql_type for c in result.columns}["AGE"] == "BIGINT" and result.rows_loaded == 30
    assert "loaded as NULL" in panel.result_label.text()


def test_no_stale_status_under_another_file_or_after_reconnecting(qtbot, panel, tmp_path):
    """Issue 10, item 18: the previous file's error does not stay under a newly selected file, and the
    status never says "Loaded in …" next to "Nothing loaded yet"."""
    panel.upload_paths([_csv(tmp_path, "empty.csv", "")])
    qtbot.waitUntil(lambda: panel.selected_file() == "empty.csv", timeout=TIMEOUT)
    _load(qtbot, panel)
    assert "empty" in panel.status.text()
    _select(qtbot, panel, "CHURN.csv")
    assert panel.status.text() == "" and panel.status.toolTip() == ""
    _load(qtbot, panel)
    assert panel.status.text().startswith("Loaded in")
    qtbot.waitUntil(lambda: panel.selected_file() == "CHURN.csv", timeout=TIMEOUT)
    assert panel.status.text().startswith("Loaded in")  # the list refreshed; still the same file
    panel.ctx.engine_changed.emit(panel.ctx.engine)  # reconnected: the result box starts over
    assert panel.result_label.text() == "Nothing loaded yet." and panel.status.text() == ""


def test_the_upload_dialog_opens_where_the_last_files_came_from(qtbot, panel, tmp_path, monkeypatch):
    folder = tmp_path / "exports"
    folder.mkdir()
    first = _csv(folder, "a.csv", "X,Y\n1,2\n")
    opened_in: list[str] = []

    def fake_dialog(parent, caption, directory, *args, **kwargs):
        opened_in.append(directory)
        return [str(first)], ""

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(fake_dialog))
    panel.choose_files()
    qtbot.waitUntil(lambda: "a.csv" in panel.files.file_names(), timeout=TIMEOUT)
    panel.choose_files()
    qtbot.waitUntil(lambda: panel.ctx.idle, timeout=TIMEOUT)
    assert opened_in[0] == str(Path.home()) and opened_in[1] == str(folder)


def test_the_not_numbers_choice_follows_the_engine(qtbot, panel, app_context):
    """An engine that cannot reject or NULL values that are not numbers (Snowflake) gets "text" only."""
    import dataclasses

    engine = app_context.engine
    assert panel.bad_numbers_combo.isEnabled()
    panel.bad_numbers_combo.setCurrentIndex(panel.bad_numbers_combo.findData("null"))
    engine.capabilities = dataclasses.replace(engine.capabilities, supports_bad_numbers=False)
    app_context.engine_changed.emit(engine)
    assert not panel.bad_numbers_combo.isEnabled()
    assert panel.bad_numbers_combo.currentData() == "text"
    assert "not available" in panel.bad_numbers_combo.toolTip()
    qtbot.waitUntil(lambda: "CHURN.csv" in panel.files.file_names(), timeout=TIMEOUT)
    panel.files.select_file("CHURN.csv")
    assert panel.load_request().bad_numbers == "text"

"""Stages on the local engine: listing, uploading (atomic copies), and the errors around them."""

from __future__ import annotations

import pytest

from snowml_desktop.core.errors import Cancelled, InvalidInput, NotFound
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.engines.base import LoadRequest


def test_list_stages_and_seeded_files(local_engine):
    assert local_engine.list_stages() == ["LOAD_DATA", "MODELS"]
    files = local_engine.list_files("load_data")
    assert [f.name for f in files] == ["BREAST_CANCER.csv", "BREAST_CANCER_NEW_PATIENTS.csv", "CHURN.csv"]
    assert all(f.stage == "LOAD_DATA" and f.size > 0 and f.modified is not None for f in files)
    with pytest.raises(NotFound, match="no stage"):
        local_engine.list_files("nowhere")


def test_upload_copies_and_replaces_then_loads(local_engine, tmp_path):
    source = tmp_path / "sales.csv"
    source.write_text("region,amount\nnorth,1\n")
    [uploaded] = local_engine.upload([source])
    assert (uploaded.stage, uploaded.name, uploaded.size) == ("LOAD_DATA", "sales.csv", source.stat().st_size)
    source.write_text("region,amount\nnorth,1\nsouth,2\n")
    local_engine.upload([source], "load_data")
    assert local_engine.load(LoadRequest("LOAD_DATA", "sales.csv", "sales")).rows_loaded == 2
    stage = local_engine.workspace.stage_dir("LOAD_DATA")
    assert not [p for p in stage.iterdir() if p.name.startswith(".")]  # no temporary copies left


def test_upload_checks_every_path_before_copying(local_engine, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("a\n1\n")
    with pytest.raises(NotFound, match="does not exist"):
        local_engine.upload([good, tmp_path / "missing.csv"])
    with pytest.raises(InvalidInput, match="is a folder"):
        local_engine.upload([tmp_path])
    notes = tmp_path / "notes.docx"
    notes.write_text("x")
    with pytest.raises(InvalidInput, match="not a file type that can be loaded"):
        local_engine.upload([good, notes])
    with pytest.raises(InvalidInput, match="No files"):
        local_engine.upload([])
    assert "good.csv" not in [f.name for f in local_engine.list_files("LOAD_DATA")]


def test_upload_reports_progress_per_chunk(local_engine, tmp_path, monkeypatch):
    from snowml_desktop.engines.local import stages

    monkeypatch.setattr(stages, "_COPY_CHUNK", 1000)
    source = tmp_path / "data.csv"
    source.write_bytes(b"a\n" + b"1\n" * 2499)  # 5000 bytes: five chunks
    seen: list[float] = []
    local_engine.upload([source], task=TaskContext(progress=lambda f, t: seen.append(f)))
    assert seen == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.0]


def test_accepted_extensions_and_no_uploads_to_models(local_engine, tmp_path):
    names = ["a.tsv", "b.txt", "c.parquet", "d.csv.gz", "E.CSV", "f.gz"]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    local_engine.upload([tmp_path / n for n in names])
    assert set(names) <= {f.name for f in local_engine.list_files("LOAD_DATA")}
    with pytest.raises(InvalidInput, match="model artifacts"):
        local_engine.upload([tmp_path / "a.tsv"], "MODELS")
    assert local_engine.list_files("MODELS") == []


def cancel_after(reports: int) -> TaskContext:
    """A task whose user cancels at the n-th progress report (in the middle of a copy)."""
    task = TaskContext()
    seen: list[float] = []

    def progress(fraction: float, text: str) -> None:
        seen.append(fraction)
        if len(seen) == reports:
            task.token.cancel()

    task.progress = progress
    return task


def test_cancelled_upload_leaves_no_partial_file(local_engine, tmp_path, monkeypatch):
    from snowml_desktop.engines.local import stages

    monkeypatch.setattr(stages, "_COPY_CHUNK", 1024)
    small, big = tmp_path / "small.csv", tmp_path / "big.csv"
    small.write_text("a\n1\n")
    big.write_bytes(b"a\n" + b"1\n" * 10_000)
    with pytest.raises(Cancelled):
        local_engine.upload([small, big], task=cancel_after(reports=5))
    stage = local_engine.workspace.stage_dir("LOAD_DATA")
    assert (stage / "small.csv").read_text() == "a\n1\n"  # finished before the cancel: kept
    assert not (stage / "big.csv").exists()
    assert not [p for p in stage.iterdir() if p.name.startswith(".")]

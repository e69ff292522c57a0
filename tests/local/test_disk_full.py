"""A full disk seen by Python's own file writes (not DuckDB's) is the engine's ResourceExhausted, with the
workspace left as it was. ENOSPC is injected at the OS call the write goes through."""

from __future__ import annotations

import errno
import os

import pytest

from snowml_desktop.core.errors import Cancelled, EngineError, ResourceExhausted
from snowml_desktop.engines.base import LoadRequest, TrainRequest
from snowml_desktop.engines.local import sqlrun

FAST_RF = {"n_estimators": 5, "max_depth": 3}


def _disk_full(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_while_saving_the_model_artifact(local_engine, monkeypatch) -> None:
    local_engine.load(LoadRequest(stage="LOAD_DATA", file="BREAST_CANCER.csv", table="BC"))
    models_dir = local_engine.workspace.stage_dir("MODELS")
    before = sorted(p.name for p in models_dir.iterdir())
    with monkeypatch.context() as patched:
        patched.setattr(os, "fsync", _disk_full)  # the artifact's bytes cannot reach the disk
        with pytest.raises(ResourceExhausted, match="disk holding the local workspace is full") as info:
            local_engine.train(TrainRequest(table="BC", target="DIAGNOSIS", params=FAST_RF))
    assert "Free some disk space" in (info.value.hint or "")
    assert local_engine.list_models() == [] and sorted(p.name for p in models_dir.iterdir()) == before


def test_a_full_disk_while_uploading_leaves_no_part_file(local_engine, monkeypatch, tmp_path) -> None:
    source = tmp_path / "big.csv"
    source.write_text("A,B\n" + "1,2\n" * 1000, encoding="utf-8")
    real_fdopen = os.fdopen

    class FullDisk:
        def __init__(self, handle) -> None:
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            self.handle.close()

        def write(self, data: bytes) -> int:
            _disk_full()

    def fdopen(fd, mode="r", *args, **kwargs):
        handle = real_fdopen(fd, mode, *args, **kwargs)
        return FullDisk(handle) if "w" in mode else handle

    stage = local_engine.workspace.stage_dir("LOAD_DATA")
    before = sorted(p.name for p in stage.iterdir())
    with monkeypatch.context() as patched:
        patched.setattr(os, "fdopen", fdopen)
        with pytest.raises(ResourceExhausted):
            local_engine.upload([source])
    assert sorted(p.name for p in stage.iterdir()) == before  # no big.csv, no hidden .part file


def test_a_worker_disk_full_wrapped_in_an_engine_error_is_recognized() -> None:
    """pyarrow's OSError from a scoring worker has no errno, and reaches the owner as the cause of an
    EngineError; a cancel stays a cancel."""
    try:
        try:
            raise OSError("Failed to write .part.tmp: No space left on device")
        except OSError as exc:
            raise EngineError(f"Scoring a batch failed: {exc}") from exc
    except EngineError as wrapped:
        assert isinstance(sqlrun.resource_error(wrapped), ResourceExhausted)
    cancelled = Cancelled()
    cancelled.__cause__ = OSError(errno.ENOSPC, "No space left on device")
    assert sqlrun.resource_error(cancelled) is None
    assert sqlrun.resource_error(OSError(errno.EACCES, "Permission denied")) is None

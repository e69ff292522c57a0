import logging
import os
from pathlib import Path

import pytest

from snowml_desktop import logs
from snowml_desktop.core.errors import InvalidInput


@pytest.mark.parametrize(
    "text",
    [
        "connect(account='xy12345', password='hunter2', user='ann')",
        '{"token": "hunter2", "user": "ann"}',
        "url?token=hunter2&x=1",
        "PASSCODE: hunter2",
        "private_key_passphrase=hunter2",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nhunter2\n-----END ENCRYPTED PRIVATE KEY-----",
    ],
)
def test_secrets_are_masked(text: str) -> None:
    cleaned = logs.redact(text)
    assert "hunter2" not in cleaned and logs.MASK in cleaned


def test_ordinary_text_is_untouched() -> None:
    text = "loaded 569 rows into CANCER (password column excluded)"
    assert logs.redact(text) == text


def test_log_file_gets_details_without_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNOWML_LOG_DIR", str(tmp_path))
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    try:
        path = logs.configure(console=False)
        try:
            raise RuntimeError("login failed for password=hunter2")
        except RuntimeError:
            logging.getLogger("snowml_desktop.test").exception("connect with token=abc123 failed")
        for handler in root.handlers:
            handler.flush()
        text = path.read_text()
    finally:
        for handler in list(root.handlers):
            if getattr(handler, "_snowml", False):
                root.removeHandler(handler)
                handler.close()
        root.handlers[:], root.level = saved
    assert "connect with token=" in text and "Traceback" in text and "RuntimeError" in text
    assert "abc123" not in text and "hunter2" not in text


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_the_log_is_private_and_keeps_rows_of_a_failed_load_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from snowml_desktop.engines.base import LoadRequest
    from snowml_desktop.engines.local.engine import LocalEngine

    monkeypatch.setenv("SNOWML_LOG_DIR", str(tmp_path / "logs"))
    (tmp_path / "logs").mkdir(mode=0o755)  # as an older version made it
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    source = tmp_path / "wide.csv"
    source.write_text("A,B\n1,PRIVATE-ROW-" + "x" * 3_000_000 + "\n2,y\n")  # a line beyond DuckDB's limit
    try:
        path = logs.configure(console=False)
        engine = LocalEngine(tmp_path / "workspace")
        try:
            engine.upload([source])
            with pytest.raises(InvalidInput):
                engine.load(LoadRequest("LOAD_DATA", "wide.csv", "WIDE"))
        finally:
            engine.close()
        for handler in root.handlers:
            handler.flush()
        text = path.read_text()
        modes = path.stat().st_mode & 0o777, path.parent.stat().st_mode & 0o777
    finally:
        for handler in list(root.handlers):
            if getattr(handler, "_snowml", False):
                root.removeHandler(handler)
                handler.close()
        root.handlers[:], root.level = saved
    assert "wide.csv failed" in text  # the failure is logged ...
    assert "PRIVATE-ROW" not in text  # ... without the row
    assert modes == (0o600, 0o700)

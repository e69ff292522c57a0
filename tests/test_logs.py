import logging
from pathlib import Path

import pytest

from snowml_desktop import logs


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

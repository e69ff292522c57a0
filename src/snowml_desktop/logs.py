"""Where details go: one rotating log file per user, shared by `snowml` and `snowml-desktop`.

Users see one clear line per failure; tracebacks and internals land here. Every record passes a redaction
filter first, so a secret that slips into a message (a password in a connection string, a token in a URL) is
masked before it reaches the file or the console.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
import re
from pathlib import Path

from snowml_desktop.core import paths

_SECRET_KEYS = r"password|passwd|pwd|passcode|token|secret|private_key_passphrase|passphrase|private_key"
_PATTERNS = [
    # key=value, key: value, "key": "value" (JSON), key='value'
    re.compile(rf"""(?i)(["']?(?:{_SECRET_KEYS})["']?\s*[=:]\s*)(["']?)[^"'\s,;&}}]+\2"""),
    # PEM blocks
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.DOTALL),
]
MASK = "****"


def redact(text: str) -> str:
    """Mask secret values in ``text`` (keys stay visible so the log still says what was set)."""
    text = _PATTERNS[0].sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}{m.group(2)}", text)
    return _PATTERNS[1].sub(MASK, text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        # Another handler may have formatted (and cached) the traceback already: redact whatever is there.
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
            record.exc_info = None
        return True


class _PrivateFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log file only its owner can read (it names tables, files and folders); new files after a
    rollover included."""

    def _open(self):  # type: ignore[no-untyped-def]
        stream = super()._open()
        if os.name != "nt":
            os.chmod(self.baseFilename, 0o600)
        return stream


def configure(*, debug: bool = False, console: bool = True) -> Path | None:
    """Send the app's logging to the rotating file (INFO, or DEBUG with ``debug``) and, when ``console``,
    warnings (or all with ``debug``) to stderr. The log folder and file are private to the user; DEBUG
    records may quote data (rows of a file that failed to load), so they are kept only when asked for.
    Returns the log file, or None when the folder cannot be written (logging then stays on stderr)."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG)
    for handler in list(root.handlers):
        if getattr(handler, "_snowml", False):
            root.removeHandler(handler)
    redactor = RedactingFilter()
    formatter = logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
    path: Path | None = paths.log_dir() / "snowml-desktop.log"
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _make_private(path.parent)
        file_handler: logging.Handler = _PrivateFileHandler(
            path, maxBytes=5_000_000, backupCount=3, encoding="utf-8"
        )
        _add(root, file_handler, logging.DEBUG if debug else logging.INFO, formatter, redactor)
    except OSError:
        path = None
    if console:
        stderr = logging.StreamHandler()
        _add(root, stderr, logging.DEBUG if debug else logging.WARNING,
             logging.Formatter("%(levelname)s %(name)s: %(message)s"), redactor)
    for noisy in ("snowflake.connector", "urllib3", "botocore", "optuna", "PIL"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if debug else logging.WARNING)
    return path


def _make_private(folder: Path) -> None:
    """Close a log folder made before logs were private; a shared folder we do not own stays as it is."""
    if os.name == "nt":
        return
    with contextlib.suppress(OSError):  # the file itself is still private
        folder.chmod(0o700)


def _add(root: logging.Logger, handler: logging.Handler, level: int, formatter: logging.Formatter,
         redactor: logging.Filter) -> None:
    handler.setLevel(level)
    handler.setFormatter(formatter)
    handler.addFilter(redactor)
    handler._snowml = True  # type: ignore[attr-defined]  # marks our handlers so configure() can be re-run
    root.addHandler(handler)

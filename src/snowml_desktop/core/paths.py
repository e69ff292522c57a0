"""The user folders the app reads and writes, in one place so every layer agrees on them.

Each has an environment override (used by tests, portable installs and CI) and otherwise follows the platform's
conventions through platformdirs (no "author" folder level on Windows). Nothing here creates a folder.
"""

from __future__ import annotations

import os
from pathlib import Path

APP = "snowml-desktop"


def _platform(kind: str) -> Path:
    import platformdirs

    dirs = platformdirs.PlatformDirs(APP, appauthor=False)
    return Path(getattr(dirs, kind))


def _override(variable: str) -> Path | None:
    value = os.environ.get(variable)
    return Path(value).expanduser() if value else None


def workspace_dir() -> Path:
    """The default local workspace: ``$SNOWML_HOME``, else the user data folder
    (Linux ~/.local/share/snowml-desktop, macOS ~/Library/Application Support/snowml-desktop,
    Windows %LOCALAPPDATA%\\snowml-desktop)."""
    return _override("SNOWML_HOME") or _platform("user_data_dir")


def config_dir() -> Path:
    """Settings, saved connections (no secrets) and the warehouse journal: ``$SNOWML_CONFIG_DIR``, else the user
    config folder (Linux ~/.config/snowml-desktop)."""
    return _override("SNOWML_CONFIG_DIR") or _platform("user_config_dir")


def log_dir() -> Path:
    """Log files: ``$SNOWML_LOG_DIR``, else the user log folder (Linux ~/.local/state/snowml-desktop/log)."""
    return _override("SNOWML_LOG_DIR") or _platform("user_log_dir")

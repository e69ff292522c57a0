"""The GUI's own settings (window geometry, dock layout, last connection) in a versioned QSettings store.

Stored as an INI file in the config dir (``SNOWML_CONFIG_DIR``, else the platform's user config dir) so
that it is easy to find, back up and reset on every platform. Secrets never go here; they live in the
system keyring (``core.connections.SecretStore``).

Every store carries ``version``; :func:`migrate` upgrades an older store in place, key by key, so a new
release never trips over an old layout (the pattern of Orange's ``settings_version``/``migrate_settings``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from PySide6.QtCore import QSettings

__all__ = ["SETTINGS_VERSION", "Keys", "migrate", "open_settings", "settings_path"]

log = logging.getLogger(__name__)

SETTINGS_VERSION = 2
ORGANIZATION = "snowml"
APPLICATION = "snowml-desktop"


class Keys:
    """Every key the GUI stores, in one place."""

    VERSION = "version"
    LAST_CONNECTION = "connection/last"
    GEOMETRY = "window/geometry"
    DOCK_STATE = "window/state"
    PANEL = "window/panel"
    UPLOAD_FOLDER = "load/upload_folder"


# Version 1 (early builds) kept flat keys; version 2 groups them.
_RENAMED_IN_2 = {
    "last_connection": Keys.LAST_CONNECTION,
    "geometry": Keys.GEOMETRY,
    "windowState": Keys.DOCK_STATE,
    "panel": Keys.PANEL,
}


def settings_path() -> Path:
    """Where the INI file lives."""
    base = os.environ.get("SNOWML_CONFIG_DIR")
    if base:
        return Path(base) / "gui.ini"
    import platformdirs

    return Path(platformdirs.user_config_dir(APPLICATION, appauthor=False)) / "gui.ini"


def open_settings(path: Path | None = None) -> QSettings:
    """Open (and migrate) the settings store at ``path`` (default :func:`settings_path`)."""
    target = path or settings_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    settings = QSettings(str(target), QSettings.Format.IniFormat)
    migrate(settings)
    return settings


def migrate(settings: QSettings) -> None:
    """Upgrade ``settings`` to :data:`SETTINGS_VERSION` in place. A store from a newer release is left as
    is (its unknown keys are ignored); a store without a version is treated as version 1."""
    version = _version(settings)
    if version > SETTINGS_VERSION:
        log.warning("Settings version %s is newer than this release (%s)", version, SETTINGS_VERSION)
        return
    if version < 2:
        for old, new in _RENAMED_IN_2.items():
            if settings.contains(old):
                if not settings.contains(new):
                    settings.setValue(new, settings.value(old))
                settings.remove(old)
    settings.setValue(Keys.VERSION, SETTINGS_VERSION)
    settings.sync()


def _version(settings: QSettings) -> int:
    try:
        return int(settings.value(Keys.VERSION, 1))
    except (TypeError, ValueError):
        return 1

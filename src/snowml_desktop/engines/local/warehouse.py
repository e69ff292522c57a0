"""The local warehouse: a name, a size and a type kept in APP.SETTINGS.

Locally a size means a number of parallel scoring workers (``WarehouseSize.local_workers``); the size and type
are recorded with every model and run so that timings and credit estimates mean what they do on Snowflake.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from snowml_desktop.core import sizes
from snowml_desktop.core.errors import InvalidInput
from snowml_desktop.engines.base import WarehouseState
from snowml_desktop.engines.local import catalog

if TYPE_CHECKING:
    from snowml_desktop.engines.local.workspace import Workspace

DEFAULT_NAME = "LOCAL_WH"
DEFAULT_SIZE = sizes.SIZES[0].label
DEFAULT_TYPE = sizes.STANDARD
LOCAL_STATE = "LOCAL"

_NAME_KEY, _SIZE_KEY, _TYPE_KEY = "warehouse.name", "warehouse.size", "warehouse.type"


class LocalWarehouse:
    """Reads and changes the local warehouse settings. Thread-safe."""

    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace
        self._lock = threading.RLock()

    def state(self) -> WarehouseState:
        """The current name, size, type, workers and credits per hour."""
        cur = self._workspace.cursor()
        try:
            name = catalog.get_setting(cur, _NAME_KEY, DEFAULT_NAME)
            size = _stored_size(catalog.get_setting(cur, _SIZE_KEY, DEFAULT_SIZE))
            kind = _stored_type(catalog.get_setting(cur, _TYPE_KEY, DEFAULT_TYPE))
        finally:
            cur.close()
        return WarehouseState(
            name=name,
            size=size.label,
            type=kind,
            state=LOCAL_STATE,
            workers=size.local_workers(),
            credits_per_hour=sizes.credits_per_hour(size, kind),
        )

    def set(self, size: str | None = None, type: str | None = None) -> WarehouseState:
        """Change size and/or type (both validated before anything is written). Raises InvalidInput."""
        new_size = sizes.parse_size(size) if size is not None else None
        new_type = sizes.parse_type(type) if type is not None else None
        with self._lock:
            cur = self._workspace.cursor()
            try:
                cur.begin()
                if new_size is not None:
                    catalog.set_setting(cur, _SIZE_KEY, new_size.label)
                if new_type is not None:
                    catalog.set_setting(cur, _TYPE_KEY, new_type)
                cur.commit()
            except BaseException:
                cur.rollback()
                raise
            finally:
                cur.close()
        return self.state()

    @contextmanager
    def type_switched(self, warehouse_type: str) -> Iterator[WarehouseState]:
        """Switch the type for the duration of a block and always restore the previous type afterwards
        (the local counterpart of converting a warehouse to Snowpark-optimized for one training)."""
        with self._lock:
            previous = self.state().type
            state = self.set(type=warehouse_type)
        try:
            yield state
        finally:
            with self._lock:
                self.set(type=previous)


def _stored_size(text: str) -> sizes.WarehouseSize:
    """A stored size, falling back to the default when the settings table holds something unreadable."""
    try:
        return sizes.parse_size(text)
    except InvalidInput:
        return sizes.parse_size(DEFAULT_SIZE)


def _stored_type(text: str) -> str:
    try:
        return sizes.parse_type(text)
    except InvalidInput:
        return DEFAULT_TYPE

"""The local warehouse: a name, a size and a type kept in APP.SETTINGS.

Locally a size means a number of parallel scoring workers (``WarehouseSize.local_workers``); the size and type
are recorded with every model and run so that timings and credit estimates mean what they do on Snowflake.

A type switched for one training (Snowpark-optimized) is journaled like the Snowflake engine journals its
conversions: the type to restore is written in the same transaction as the switch, removed with the restore,
and a journal left by a killed process is replayed when the workspace opens.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

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
_RESTORE_TYPE_KEY = "warehouse.type_to_restore"  # the journal of a switched type


class LocalWarehouse:
    """Reads and changes the local warehouse settings. Thread-safe. Creating one restores a type that a
    killed process left switched (the caller owns the workspace, so no switch of another process is live)."""

    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace
        self._lock = threading.RLock()
        self._switches = 0  # trainings running with the switched type; the last one to finish restores
        self._restore_type()

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
        with self._lock, self._transaction() as cur:
            if new_size is not None:
                catalog.set_setting(cur, _SIZE_KEY, new_size.label)
            if new_type is not None:
                catalog.set_setting(cur, _TYPE_KEY, new_type)
        return self.state()

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        """A cursor in a transaction: committed when the block ends, rolled back when it raises."""
        cur = self._workspace.cursor()
        try:
            cur.begin()
            yield cur
            cur.commit()
        except BaseException:
            cur.rollback()
            raise
        finally:
            cur.close()

    @contextmanager
    def type_switched(self, warehouse_type: str) -> Iterator[WarehouseState]:
        """Switch the type for the duration of a block and always restore the previous type afterwards
        (the local counterpart of converting a warehouse to Snowpark-optimized for one training). Blocks
        overlapping on several threads share one switch: the type before the first is restored after
        the last. Raises InvalidInput for an unknown type."""
        new_type = sizes.parse_type(warehouse_type)
        with self._lock:
            if self._switches == 0:
                self._switch_journaled(new_type)
            self._switches += 1
            state = self.state()
        try:
            yield state
        finally:
            with self._lock:
                self._switches -= 1
                if self._switches == 0:
                    self._restore_type()

    def _switch_journaled(self, new_type: str) -> None:
        with self._transaction() as cur:
            previous = _stored_type(catalog.get_setting(cur, _TYPE_KEY, DEFAULT_TYPE))
            catalog.set_setting(cur, _RESTORE_TYPE_KEY, previous)
            catalog.set_setting(cur, _TYPE_KEY, new_type)

    def _restore_type(self) -> None:
        """Put back the journaled type, if any, and remove the journal, in one transaction."""
        with self._transaction() as cur:
            journaled = catalog.get_setting(cur, _RESTORE_TYPE_KEY, "")
            if journaled:
                catalog.set_setting(cur, _TYPE_KEY, _stored_type(journaled))
                catalog.delete_setting(cur, _RESTORE_TYPE_KEY)


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

"""Warehouse changes that are always undone: Snowpark-optimized conversion for training, resizing for scoring.

Before the first change, the original settings are written to a journal file in the app's config dir
(atomic write). The change is undone in ``finally``; the journal is deleted only once the warehouse is back
as it was. If the app or the network dies in between, the journal survives and :meth:`WarehouseGuard.replay`
restores the warehouse at the next connect. Within one process a lock per warehouse serializes changes, so a
second operation never mistakes the first one's temporary size for the original.

Two training modes: ``convert`` (suspend, set WAREHOUSE_TYPE = 'SNOWPARK-OPTIMIZED' with a size the memory
option allows, run, suspend, restore type and size) and ``dedicated`` (a separate Snowpark-optimized
warehouse, created suspended if missing, used with USE WAREHOUSE for the call; the shared one is untouched).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from snowml_desktop.core import sizes
from snowml_desktop.core.connections import config_dir
from snowml_desktop.core.errors import EngineError, InvalidInput, NotFound, PermissionDenied
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.engines.base import WarehouseState
from snowml_desktop.engines.snowflake import sql
from snowml_desktop.engines.snowflake.session import SqlRunner

log = logging.getLogger(__name__)

JOURNAL_VERSION = 1
_RUNNING = {"STARTED", "RESUMING", "RESIZING"}
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@dataclass(frozen=True)
class WarehouseSettings:
    """What the guard changes and restores. ``size`` is the SQL name (XSMALL ...)."""

    name: str
    size: str
    type: str
    state: str
    resource_constraint: str | None = None

    def to_state(self) -> WarehouseState:
        size = sizes.parse_size(self.size)
        return WarehouseState(
            name=self.name,
            size=size.label,
            type=self.type,
            state=self.state,
            credits_per_hour=sizes.credits_per_hour(size, self.type),
        )


def parse_show_warehouses(rows: list[dict[str, Any]], name: str) -> WarehouseSettings:
    """The row for exactly ``name`` from SHOW WAREHOUSES LIKE output (LIKE is a case-insensitive pattern).
    Raises NotFound when the warehouse is missing or not visible to the role."""
    for row in rows:
        lower = {str(k).lower(): v for k, v in row.items()}
        if lower.get("name") == name:
            constraint = _documented_spelling(lower.get("resource_constraint") or None)
            return WarehouseSettings(
                name=name,
                size=sizes.parse_size(str(lower.get("size") or "X-Small")).sql,
                type=sizes.parse_type(str(lower.get("type") or sizes.STANDARD)),
                state=str(lower.get("state") or "UNKNOWN").upper(),
                resource_constraint=constraint,
            )
    raise NotFound(
        f"Warehouse {name!r} does not exist or the role cannot see it.",
        hint="Check the warehouse in the connection, and that the role has USAGE on it.",
    )


def _documented_spelling(value: Any) -> str | None:
    """A resource constraint as the builder spells it (SHOW output's case may differ), else as shown."""
    if value is None:
        return None
    for known in (*sql.RESOURCE_CONSTRAINTS, *sql.STANDARD_GENERATIONS):
        if known.upper() == str(value).upper():
            return known
    return str(value)


def training_settings(
    original: WarehouseSettings, size: str | None, resource_constraint: str | None
) -> tuple[str, str | None]:
    """Size and RESOURCE_CONSTRAINT for Snowpark-optimized training. Default: Snowflake's default memory
    option (MEMORY_16X, 256 GB) at the original size or Medium, whichever is larger (its documented minimum).
    Raises InvalidInput when an asked-for size is too small for the memory option."""
    constraint = sql.check_resource_constraint(resource_constraint) if resource_constraint else None
    minimum = sizes.parse_size(sql.RESOURCE_CONSTRAINTS[constraint or sql.DEFAULT_RESOURCE_CONSTRAINT])
    if size is None:
        chosen = max(sizes.parse_size(original.size), minimum, key=lambda s: s.index)
    else:
        chosen = sizes.parse_size(size)
        sql.check_resource_constraint(constraint or sql.DEFAULT_RESOURCE_CONSTRAINT, chosen.sql)
    return chosen.sql, constraint


# --- journal -----------------------------------------------------------------------------------------


class Journal:
    """One JSON file per (account, warehouse) holding the settings to restore."""

    def __init__(self, account: str, directory: Path | None = None) -> None:
        self.account = account
        self.directory = directory or config_dir() / "warehouse-journal"

    def _path(self, warehouse: str) -> Path:
        digest = hashlib.sha256(f"{self.account}\0{warehouse}".encode()).hexdigest()[:24]
        return self.directory / f"{digest}.json"

    def write(self, original: WarehouseSettings, operation: str) -> None:
        """Write atomically and durably, before any change is made. Raises EngineError when it cannot."""
        entry = {
            "version": JOURNAL_VERSION,
            "account": self.account,
            "warehouse": original.name,
            "original": asdict(original),
            "operation": operation,
            "time": time.time(),
            "pid": os.getpid(),
            "host": socket.gethostname(),
        }
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".journal-", dir=self.directory)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(entry, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self._path(original.name))
        except OSError as exc:
            raise EngineError(
                f"Cannot write the warehouse journal in {self.directory} ({exc.strerror}); nothing was changed.",
                hint="Free disk space or fix the folder's permissions.",
            ) from None

    def _load(self, path: Path) -> dict[str, Any] | None:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            log.warning("Ignoring unreadable warehouse journal %s", path)
            return None

    def read(self, warehouse: str) -> WarehouseSettings | None:
        data = self._load(self._path(warehouse))
        return WarehouseSettings(**data["original"]) if data else None

    def busy_elsewhere(self, warehouse: str) -> int | None:
        """The pid of another live snowml-desktop process on this computer that is changing the warehouse
        right now (its entry must not be replayed under its feet), else None."""
        data = self._load(self._path(warehouse))
        return _live_owner(data) if data else None

    def delete(self, warehouse: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(warehouse).unlink()

    def pending(self) -> list[WarehouseSettings]:
        """Entries this account left behind (other accounts' entries wait for their own connect; entries of
        another running app on this computer are its own business)."""
        found = []
        for path in sorted(self.directory.glob("*.json")) if self.directory.is_dir() else []:
            data = self._load(path)
            if data and data.get("account") == self.account and _live_owner(data) is None:
                found.append(WarehouseSettings(**data["original"]))
        return found


def _live_owner(entry: dict[str, Any]) -> int | None:
    pid = entry.get("pid")
    if not isinstance(pid, int) or pid == os.getpid() or entry.get("host") != socket.gethostname():
        return None
    return pid if _process_alive(pid) else None


def _process_alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process on Windows
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        ctypes.windll.kernel32.CloseHandle(handle)
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _restorable(settings: WarehouseSettings, original: WarehouseSettings) -> tuple[str, str, str | None]:
    """What restoring compares: size, type, and the resource constraint when the original's is a value the
    builder can set for its type (an undocumented one is left as Snowflake has it)."""
    known = sql.STANDARD_GENERATIONS if original.type == sizes.STANDARD else tuple(sql.RESOURCE_CONSTRAINTS)
    constraint = settings.resource_constraint if original.resource_constraint in known else None
    return settings.size, settings.type, constraint


def _lock_for(account: str, warehouse: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(f"{account}\0{warehouse}", threading.Lock())


# --- guard -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrivilegeCheck:
    allowed: bool | None  # None: could not be verified (the statement itself will tell)
    reason: str | None = None


class WarehouseGuard:
    """Reads, changes and always restores warehouses through a :class:`SqlRunner`."""

    def __init__(self, runner: SqlRunner, *, account: str, journal: Journal | None = None) -> None:
        self.runner = runner
        self.account = account
        self.journal = journal or Journal(account)
        self.query_ids: list[str] = []

    def _run(
        self, statement: sql.Statement, operation: str, task: TaskContext | None = None
    ) -> list[dict[str, Any]]:
        result = self.runner.execute(statement, operation=operation, task=task)
        if result.query_id:
            self.query_ids.append(result.query_id)
        return result.rows

    def settings(self, name: str) -> WarehouseSettings:
        """Current settings from SHOW WAREHOUSES LIKE. Raises NotFound."""
        return parse_show_warehouses(self._run(sql.show_warehouses(name), "warehouse"), name)

    def check_privilege(self, name: str, privileges: tuple[str, ...] = ("MODIFY",)) -> PrivilegeCheck:
        """Whether a role in this session holds one of ``privileges`` (or OWNERSHIP) on the warehouse, by
        SHOW GRANTS ON WAREHOUSE and IS_ROLE_IN_SESSION (which follows role hierarchy and secondary roles)."""
        wanted = {p.upper() for p in privileges} | {"OWNERSHIP"}
        try:
            grants = self._run(sql.show_grants_on_warehouse(name), "check_privileges")
        except PermissionDenied:
            return PrivilegeCheck(
                None, f"The role cannot list grants on warehouse {name!r}; the change will be tried."
            )
        roles = sorted(
            {
                str(g.get("grantee_name"))
                for g in ({str(k).lower(): v for k, v in row.items()} for row in grants)
                if str(g.get("privilege", "")).upper() in wanted
                and str(g.get("granted_to", "ROLE")).upper() == "ROLE"
            }
        )
        if roles:
            row = self._run(sql.roles_in_session(roles), "check_privileges")[0]
            if any(bool(v) for v in row.values()):
                return PrivilegeCheck(True)
        needed = " or ".join(sorted(wanted - {"OWNERSHIP"}))
        return PrivilegeCheck(
            False,
            f"The current role lacks {needed} on warehouse {name!r}. Ask an admin: "
            f"GRANT {sorted(wanted - {'OWNERSHIP'})[0]} ON WAREHOUSE {name} TO ROLE <your role>;",
        )

    def _require(self, name: str, privileges: tuple[str, ...]) -> None:
        check = self.check_privilege(name, privileges)
        if check.allowed is False:
            raise PermissionDenied(check.reason or f"Missing privilege on warehouse {name!r}.")

    def _suspend(self, name: str, task: TaskContext | None) -> None:
        try:
            self._run(sql.suspend_warehouse(name), "suspend_warehouse", task)
        except EngineError as exc:  # Snowflake refuses to suspend a suspended warehouse: that is fine
            text = str(exc).lower()
            if "invalid state" not in text and "cannot be suspended" not in text:
                raise

    def restore(self, original: WarehouseSettings) -> None:
        """Put the warehouse back as journaled (size, type and, when it is a documented value, the resource
        constraint: a Gen2 or MEMORY_1X warehouse must not come back with Snowflake's default), check that it
        is, then delete the journal. Raises EngineError (journal kept) on failure."""
        current = self.settings(original.name)
        if _restorable(current, original) != _restorable(original, original):
            type_changes = current.type != original.type
            constraint = _restorable(original, original)[2]
            if type_changes or current.resource_constraint != constraint:
                self._suspend(original.name, None)  # type and generation change only while suspended
            self._run(
                sql.alter_warehouse_set(
                    original.name,
                    size=original.size,
                    warehouse_type=original.type if type_changes else None,
                    resource_constraint=constraint if current.resource_constraint != constraint else None,
                ),
                "restore_warehouse",
            )
            after = self.settings(original.name)
            if _restorable(after, original) != _restorable(original, original):
                raise EngineError(
                    f"Warehouse {original.name!r} is {sizes.parse_size(after.size).label} {after.type} "
                    f"({after.resource_constraint}) after restoring, not {sizes.parse_size(original.size).label} "
                    f"{original.type} ({original.resource_constraint}).",
                    hint="The journal keeps its settings; the next connect tries again.",
                )
        self.journal.delete(original.name)
        log.info("Warehouse %s restored to %s %s", original.name, original.size, original.type)

    def replay(self) -> list[str]:
        """Restore every warehouse this account's journal still holds (a crash or lost network). Returns a
        message per restored warehouse; a failed restore keeps its entry for the next connect."""
        messages = []
        for original in self.journal.pending():
            try:
                self.restore(original)
            except EngineError as exc:
                log.warning("Could not restore warehouse %s yet: %s", original.name, exc)
                messages.append(f"Warehouse {original.name} could not be restored yet: {exc}")
            else:
                messages.append(
                    f"Warehouse {original.name} was restored to {sizes.parse_size(original.size).label} "
                    f"{original.type} after an interrupted operation."
                )
        return messages

    @contextlib.contextmanager
    def _journaled(self, name: str, operation: str) -> Iterator[WarehouseSettings]:
        with _lock_for(self.account, name):
            owner = self.journal.busy_elsewhere(name)
            if owner is not None:
                raise EngineError(
                    f"Another snowml-desktop (process {owner}) is changing warehouse {name!r} right now.",
                    hint="Try again when its job has finished.",
                )
            leftover = self.journal.read(name)
            if leftover is not None:  # a crashed earlier run: its original is the real one
                self.restore(leftover)
            original = self.settings(name)
            self.journal.write(original, operation)
            failed = True
            try:
                yield original
                failed = False
            finally:
                try:
                    self.restore(original)
                except EngineError as exc:
                    log.error("Warehouse %s not restored; the journal keeps its settings: %s", name, exc)
                    if not failed:
                        raise EngineError(
                            f"Warehouse {name!r} could not be put back to {sizes.parse_size(original.size).label} "
                            f"{original.type}: {exc}",
                            hint="It will be restored automatically the next time you connect.",
                        ) from None

    @contextlib.contextmanager
    def converted(
        self,
        name: str,
        *,
        size: str | None = None,
        resource_constraint: str | None = None,
        task: TaskContext | None = None,
    ) -> Iterator[WarehouseSettings]:
        """Mode (a): run the body on ``name`` switched to Snowpark-optimized; always switch back.
        Raises PermissionDenied without MODIFY, InvalidInput for a size the memory option does not allow."""
        self._require(name, ("MODIFY",))
        with self._journaled(name, "convert") as original:
            target_size, constraint = training_settings(original, size, resource_constraint)
            if original.type != sizes.SNOWPARK_OPTIMIZED:
                if original.state in _RUNNING:
                    self._suspend(name, task)
                self._run(
                    sql.alter_warehouse_set(
                        name,
                        warehouse_type=sizes.SNOWPARK_OPTIMIZED,
                        size=target_size,
                        resource_constraint=constraint,
                    ),
                    "convert_warehouse",
                    task,
                )
            elif target_size != original.size:
                self._run(
                    sql.alter_warehouse_set(name, size=target_size, wait_for_completion=True),
                    "resize_warehouse",
                    task,
                )
            # Switching back (suspend, then type and size) is the journal's restore, run on every exit.
            yield WarehouseSettings(name, target_size, sizes.SNOWPARK_OPTIMIZED, "STARTED", constraint)

    @contextlib.contextmanager
    def resized(
        self, name: str, size: str, *, task: TaskContext | None = None
    ) -> Iterator[WarehouseSettings]:
        """Run the body with ``name`` at ``size`` (waiting for the resize to complete); always size back.
        Nothing changes when the size is already right."""
        target = sizes.parse_size(size).sql
        current = self.settings(name)
        if current.size == target:
            yield current
            return
        self._require(name, ("MODIFY",))
        with self._journaled(name, "resize") as original:
            self._run(
                sql.alter_warehouse_set(name, size=target, wait_for_completion=True), "resize_warehouse", task
            )
            yield WarehouseSettings(name, target, original.type, "STARTED", original.resource_constraint)

    @contextlib.contextmanager
    def dedicated(
        self,
        shared: str,
        training: str,
        *,
        size: str | None = None,
        resource_constraint: str | None = None,
        task: TaskContext | None = None,
    ) -> Iterator[WarehouseSettings]:
        """Mode (b): create (if missing, suspended, 60 s auto-suspend) and USE the Snowpark-optimized
        ``training`` warehouse for the body, then USE ``shared`` again; ``shared`` itself is untouched.
        Raises InvalidInput when ``training`` exists but is not Snowpark-optimized."""
        if training == shared:
            raise InvalidInput("The dedicated training warehouse must differ from the shared one.")
        try:
            existing = self.settings(training)
        except NotFound:
            target_size, constraint = training_settings(
                WarehouseSettings(training, "MEDIUM", sizes.STANDARD, "SUSPENDED"), size, resource_constraint
            )
            self._run(
                sql.create_warehouse(
                    training,
                    size=target_size,
                    warehouse_type=sizes.SNOWPARK_OPTIMIZED,
                    resource_constraint=constraint,
                    comment="snowml-desktop training warehouse",
                ),
                "create_warehouse",
                task,
            )
            existing = WarehouseSettings(
                training, target_size, sizes.SNOWPARK_OPTIMIZED, "SUSPENDED", constraint
            )
        else:
            if existing.type != sizes.SNOWPARK_OPTIMIZED:
                raise InvalidInput(
                    f"Warehouse {training!r} is {existing.type}, not Snowpark-optimized.",
                    hint="Choose another training warehouse name, or use the convert mode.",
                )
            self._require(training, ("USAGE",))
        self._run(sql.use_warehouse(training), "use_warehouse", task)
        try:
            yield existing
        finally:
            self._run(sql.use_warehouse(shared), "use_warehouse")

"""Warehouse changes that are always undone: Snowpark-optimized conversion for training, resizing for scoring.

Before the first change, the original settings are written to a journal file in the app's config dir
(atomic write). The change is undone in ``finally``; the journal is deleted only once the warehouse is back
as it was. If the app or the network dies in between, the journal survives and :meth:`WarehouseGuard.replay`
restores the warehouse at the next connect. Within one process a lock per warehouse serializes changes, so a
second operation never mistakes the first one's temporary size for the original.

Two training modes: ``convert`` (suspend and wait until SUSPENDED, set WAREHOUSE_TYPE =
'SNOWPARK-OPTIMIZED' with the memory option stated, run, then suspend, wait and restore type, size and
generation, and leave it running or suspended as found) and ``dedicated`` (a separate Snowpark-optimized
warehouse, created suspended if missing; the caller runs the training call on a session of its own that
uses it, so no other statement moves). Scoring and loading run inside ``running``: a warehouse found SUSPENDED
without AUTO_RESUME refuses every statement, so it is resumed for the operation (journaled like a change) and
suspended again afterwards; a resize for scoring nests inside it and shares its journal entry.

Snowflake's documented behaviour this relies on (cited in ``tests/snowflake/sf_fake_account.py``): a type
change needs a SUSPENDED warehouse and SUSPEND lets running statements finish first; a statement may
auto-resume the warehouse meanwhile; standard warehouses take ``GENERATION = '1'|'2'`` (older accounts only
RESOURCE_CONSTRAINT = STANDARD_GEN_x) and an ALTER that leaves it out may make one Gen2; MODIFY can come from
grants SHOW GRANTS ON WAREHOUSE does not list (MANAGE WAREHOUSES on the account), so Snowflake's answer to
the ALTER itself decides.
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
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from snowml_desktop.core import sizes
from snowml_desktop.core.connections import config_dir
from snowml_desktop.core.errors import (
    Cancelled,
    ConnectionFailed,
    EngineError,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from snowml_desktop.core.identifiers import quote
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.engines.base import WarehouseState
from snowml_desktop.engines.snowflake import sql
from snowml_desktop.engines.snowflake.session import SqlRunner

log = logging.getLogger(__name__)

JOURNAL_VERSION = 1
SUSPENDED = "SUSPENDED"
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@dataclass(frozen=True)
class WarehouseSettings:
    """A warehouse as SHOW WAREHOUSES shows it: what the guard changes and restores, and what an account
    check reports. ``size`` is the SQL name (XSMALL ...); ``generation`` is '1' or '2' for a standard
    warehouse (None when the account shows none); ``resource_constraint`` is the memory option of a
    Snowpark-optimized one (for a standard one, the older STANDARD_GEN_x spelling, when shown);
    ``auto_suspend`` in seconds (None or 0: never)."""

    name: str
    size: str
    type: str
    state: str
    resource_constraint: str | None = None
    generation: str | None = None
    auto_resume: bool = True
    auto_suspend: int | None = None

    def __post_init__(self) -> None:
        # SHOW WAREHOUSES without the generation column (and journals written before it) name the
        # generation only as RESOURCE_CONSTRAINT = STANDARD_GEN_x.
        known = self.resource_constraint in sql.STANDARD_GENERATIONS
        if self.generation is None and self.type == sizes.STANDARD and known:
            object.__setattr__(self, "generation", str(self.resource_constraint)[-1])

    @property
    def running(self) -> bool:
        """Not suspended: started, resizing, resuming or still finishing statements after a SUSPEND."""
        return self.state != SUSPENDED

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
    """The row for exactly ``name`` from SHOW WAREHOUSES LIKE output (LIKE is a case-insensitive pattern),
    reading the generation from the ``generation`` column or, where absent, from ``resource_constraint``.
    Raises NotFound when the warehouse is missing or not visible to the role."""
    for row in rows:
        lower = {str(k).lower(): v for k, v in row.items()}
        if lower.get("name") == name:
            generation = str(lower.get("generation") or "").strip() or None
            return WarehouseSettings(
                name=name,
                size=sizes.parse_size(str(lower.get("size") or "X-Small")).sql,
                type=sizes.parse_type(str(lower.get("type") or sizes.STANDARD)),
                state=str(lower.get("state") or "UNKNOWN").upper(),
                resource_constraint=_documented_spelling(lower.get("resource_constraint") or None),
                generation=generation if generation in sql.GENERATIONS else None,
                auto_resume=_flag(lower.get("auto_resume"), default=True),
                auto_suspend=_seconds(lower.get("auto_suspend")),
            )
    raise NotFound(
        f"Warehouse {name!r} does not exist or the role cannot see it.",
        hint="Check the warehouse in the connection, and that the role has USAGE on it.",
    )


def read_warehouse(runner: SqlRunner, name: str) -> WarehouseSettings:
    """The warehouse's current settings (size, type, generation, state, auto-resume, auto-suspend) by one
    read-only SHOW WAREHOUSES. Raises NotFound."""
    return parse_show_warehouses(runner.execute(sql.show_warehouses(name), operation="warehouse").rows, name)


def _flag(value: Any, *, default: bool) -> bool:
    if value is None:
        return default
    return value if isinstance(value, bool) else str(value).strip().lower() in ("true", "y", "yes", "1")


def _seconds(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


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
) -> tuple[str, str]:
    """Size and RESOURCE_CONSTRAINT for Snowpark-optimized training. Default: the memory option a
    Snowpark-optimized original already has, else MEMORY_16X (256 GB, Snowflake's own default, stated so that
    nothing depends on it), at the original size or the option's documented minimum, whichever is larger.
    Raises InvalidInput when an asked-for size is too small for the memory option."""
    kept = original.resource_constraint if original.type == sizes.SNOWPARK_OPTIMIZED else None
    if kept not in sql.RESOURCE_CONSTRAINTS:
        kept = sql.DEFAULT_RESOURCE_CONSTRAINT
    constraint = sql.check_resource_constraint(resource_constraint or kept)
    minimum = sizes.parse_size(sql.RESOURCE_CONSTRAINTS[constraint])
    if size is None:
        chosen = max(sizes.parse_size(original.size), minimum, key=lambda s: s.index)
    else:
        chosen = sizes.parse_size(size)
        sql.check_resource_constraint(constraint, chosen.sql)
    return chosen.sql, constraint


@dataclass(frozen=True)
class SuspendWait:
    """How long to wait for a SUSPEND to take effect (running statements finish first), and how often a
    type change is tried again when the warehouse was auto-resumed in between. ``sleep(seconds, task)``
    returns early (raising Cancelled) when the task is cancelled."""

    timeout: float = 900.0
    first: float = 1.0
    longest: float = 15.0
    attempts: int = 3
    sleep: Callable[[float, TaskContext | None], None] | None = None


def _pause(seconds: float, task: TaskContext | None) -> None:
    """Sleep, waking at once on a cancel."""
    if task is None:
        time.sleep(seconds)
        return
    woke = threading.Event()
    unregister = task.token.on_cancel(woke.set)
    try:
        woke.wait(seconds)
    finally:
        unregister()
    task.check()


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
    """What restoring compares: size, type, and the generation of a standard original (when known) or the
    memory option of a Snowpark-optimized one (when it is a documented value the builder can set)."""
    if original.type == sizes.STANDARD:
        detail = settings.generation if original.generation is not None else None
    else:
        detail = (
            settings.resource_constraint if original.resource_constraint in sql.RESOURCE_CONSTRAINTS else None
        )
    return settings.size, settings.type, detail


def _lock_for(account: str, warehouse: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(f"{account}\0{warehouse}", threading.Lock())


def _refused(exc: EngineError) -> bool:
    """Snowflake refused the statement itself (not the network, a cancel or a missing privilege)."""
    return not isinstance(exc, (PermissionDenied, ConnectionFailed, Cancelled))


# --- guard -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrivilegeCheck:
    allowed: bool | None  # None: not seen (MANAGE WAREHOUSES or a grant not listed may still allow it)
    reason: str | None = None


class WarehouseGuard:
    """Reads, changes and always restores warehouses through a :class:`SqlRunner`."""

    def __init__(
        self,
        runner: SqlRunner,
        *,
        account: str,
        journal: Journal | None = None,
        role: str | None = None,
        wait: SuspendWait | None = None,
    ) -> None:
        self.runner = runner
        self.account = account
        self.journal = journal or Journal(account)
        self.role = role
        self.wait = wait or SuspendWait()
        self.query_ids: list[str] = []
        self._generation_form: str | None = None  # "GENERATION" or "RESOURCE_CONSTRAINT", once one worked
        self._held = threading.local()  # names: warehouses this thread's operations have journaled

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
        """Whether a role in this session is seen to hold one of ``privileges`` (or OWNERSHIP) on the
        warehouse, by SHOW GRANTS ON WAREHOUSE and IS_ROLE_IN_SESSION (role hierarchy, secondary roles).
        Not seeing it proves nothing (MANAGE WAREHOUSES on the account is not listed there), so the answer is
        True or None, never False: the ALTER itself decides."""
        wanted = {p.upper() for p in privileges} | {"OWNERSHIP"}
        unknown = PrivilegeCheck(
            None,
            f"No {' or '.join(sorted(wanted - {'OWNERSHIP'}))} grant on warehouse {name!r} is listed for a role "
            "of this session; MANAGE WAREHOUSES or a role's inherited grant may still allow it: Snowflake "
            "decides when the change is made.",
        )
        try:
            grants = self._run(sql.show_grants_on_warehouse(name), "check_privileges")
        except PermissionDenied:
            return unknown
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
        return unknown

    # --- statements that change the warehouse ---------------------------------------------------------
    def _change(
        self, statement: sql.Statement, name: str, privilege: str, operation: str, task: TaskContext | None
    ) -> list[dict[str, Any]]:
        """Run a change; a refused privilege becomes a message naming the grant to ask for."""
        try:
            return self._run(statement, operation, task)
        except PermissionDenied as exc:
            role = quote(self.role) if self.role else "<your role>"
            action = "suspend or resume" if privilege == "OPERATE" else "change"
            raise PermissionDenied(
                f"Snowflake refused to {action} warehouse {name!r}: the role "
                f"{self.role or 'in use'} lacks {privilege} on it. Nothing was changed by this step.",
                hint=f"Ask an admin for GRANT {privilege} ON WAREHOUSE {quote(name)} TO ROLE {role}; "
                f"(or GRANT MANAGE WAREHOUSES ON ACCOUNT TO ROLE {role};). {exc.message}",
            ) from None

    def _alter(
        self,
        name: str,
        operation: str,
        task: TaskContext | None = None,
        *,
        generation: str | None = None,
        **props: Any,
    ) -> None:
        """ALTER ... SET ``props``, stating ``generation`` for a standard warehouse: as GENERATION, or, where
        the account refuses that, as RESOURCE_CONSTRAINT = STANDARD_GEN_x (the form that worked is kept)."""
        if generation is None:
            self._change(sql.alter_warehouse_set(name, **props), name, "MODIFY", operation, task)
            return
        forms = [self._generation_form] if self._generation_form else ["GENERATION", "RESOURCE_CONSTRAINT"]
        first: EngineError | None = None
        for form in forms:
            if form == "GENERATION":
                statement = sql.alter_warehouse_set(name, generation=generation, **props)
            else:
                constraint = sql.generation_constraint(generation)
                statement = sql.alter_warehouse_set(name, resource_constraint=constraint, **props)
            try:
                self._change(statement, name, "MODIFY", operation, task)
            except EngineError as exc:
                if not _refused(exc):
                    raise
                first = first or exc
                continue
            self._generation_form = form
            return
        assert first is not None
        raise first

    def _suspend(self, name: str, task: TaskContext | None) -> WarehouseSettings:
        """SUSPEND (unless already suspended) and wait until SHOW WAREHOUSES says SUSPENDED: Snowflake lets
        running statements finish first. Bounded by ``wait.timeout``; cancellable through ``task``."""
        current = self.settings(name)
        if current.running:
            try:
                self._change(sql.suspend_warehouse(name), name, "OPERATE", "suspend_warehouse", task)
            except EngineError as exc:  # refused because it suspended by itself meanwhile: fine
                if not _refused(exc) or self.settings(name).running:
                    raise
        return self._until_suspended(name, task)

    def _until_suspended(self, name: str, task: TaskContext | None) -> WarehouseSettings:
        sleep = self.wait.sleep or _pause
        waited, delay = 0.0, self.wait.first
        while True:
            current = self.settings(name)
            if not current.running:
                return current
            if waited >= self.wait.timeout:
                raise EngineError(
                    f"Warehouse {name!r} was still finishing running statements after {int(waited)} s, so "
                    "its type could not be changed; nothing else was changed.",
                    hint="Try again when the warehouse is idle, or train on a dedicated training warehouse.",
                )
            if task is not None:
                task.report(
                    min(waited / self.wait.timeout, 1.0),
                    f"Waiting for warehouse {name} to finish its running statements ({int(waited)} s)",
                )
            sleep(delay, task)
            waited += delay
            delay = min(delay * 2, self.wait.longest)

    def _change_type(self, name: str, operation: str, task: TaskContext | None, **props: Any) -> None:
        """Suspend, wait, and change the type; when the ALTER is refused because a statement auto-resumed
        the warehouse in between (another user's, or this app's), suspend and try again."""
        for _attempt in range(self.wait.attempts):
            self._suspend(name, task)
            try:
                self._alter(name, operation, task, **props)
                return
            except EngineError as exc:
                if not _refused(exc) or not self.settings(name).running:
                    raise
                log.info("Warehouse %s was resumed before its type changed; suspending again", name)
        raise EngineError(
            f"Warehouse {name!r} kept being resumed by other work, so its type could not be changed.",
            hint="Try again when the warehouse is idle, or train on a dedicated training warehouse.",
        )

    def _resume(self, name: str, task: TaskContext | None) -> None:
        self._change(sql.resume_warehouse(name), name, "OPERATE", "resume_warehouse", task)

    def _ready_for_call(self, original: WarehouseSettings, task: TaskContext | None) -> None:
        """A warehouse without AUTO_RESUME runs statements only once resumed explicitly."""
        if not original.auto_resume:
            self._resume(original.name, task)

    def _as_found(self, original: WarehouseSettings) -> None:
        """Leave the warehouse running or suspended as it was found: resume one that ran (changing the type
        suspended it, or a SUSPEND given up on still lets it finish its statements and stop), suspend one
        this guard resumed (no AUTO_RESUME)."""
        if original.running:
            if self.settings(original.name).state not in ("STARTED", "RESIZING"):
                self._resume(original.name, None)
        else:
            self._leave_suspended(original)

    def _leave_suspended(self, original: WarehouseSettings) -> None:
        """Suspend a warehouse found SUSPENDED without AUTO_RESUME that runs now: only an explicit RESUME
        (this guard's) starts one, and nothing would ever stop it."""
        if original.running or original.auto_resume or not self.settings(original.name).running:
            return
        self._change(sql.suspend_warehouse(original.name), original.name, "OPERATE", "suspend_warehouse", None)

    # --- restore and replay ---------------------------------------------------------------------------
    def restore(self, original: WarehouseSettings) -> None:
        """Recover from an interrupted operation: put the warehouse's settings back as journaled (see
        ``_restore_settings``), suspend it again if it was found SUSPENDED without AUTO_RESUME (the guard
        resumed it; otherwise running or suspended is left as it is now, since hours may have passed), then
        delete the journal. Raises EngineError (journal kept) on failure."""
        self._restore_settings(original)
        self._leave_suspended(original)
        self.journal.delete(original.name)

    def _restore_settings(self, original: WarehouseSettings) -> None:
        """Put the warehouse's settings back (size, type, and the generation or memory option: a Gen2 or
        MEMORY_1X warehouse must not come back with Snowflake's default), stating the generation in the
        ALTER, and check that it is. Raises EngineError on failure."""
        current = self.settings(original.name)
        if _restorable(current, original) != _restorable(original, original):
            generation = original.generation if original.type == sizes.STANDARD else None
            props: dict[str, Any] = {"size": original.size}
            if original.type != sizes.STANDARD and original.resource_constraint in sql.RESOURCE_CONSTRAINTS:
                props["resource_constraint"] = original.resource_constraint
            if current.type != original.type:
                self._change_type(
                    original.name,
                    "restore_warehouse",
                    None,
                    warehouse_type=original.type,
                    generation=generation,
                    **props,
                )
            else:
                self._alter(original.name, "restore_warehouse", generation=generation, **props)
            after = self.settings(original.name)
            if _restorable(after, original) != _restorable(original, original):
                raise EngineError(
                    f"Warehouse {original.name!r} is {_describe(after)} after restoring, not "
                    f"{_describe(original)}.",
                    hint="The journal keeps its settings; the next connect tries again.",
                )
        log.info("Warehouse %s restored to %s", original.name, _describe(original))

    def replay(self) -> list[str]:
        """Restore every warehouse this account's journal still holds (a crash or lost network). Returns a
        message per restored warehouse; a failed restore keeps its entry for the next connect. See ``restore``
        for whether the warehouse is left running."""
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
        """Journal the warehouse's settings, yield them, and put them back. An operation nested in one that
        this thread already journaled (a resize inside ``running``) keeps the enclosing entry, whose original
        is the real one, and leaves deleting it to the enclosing operation."""
        held: set[str] = self._held.__dict__.setdefault("names", set())
        if name in held:
            original = self.settings(name)
            failed = True
            try:
                yield original
                failed = False
            finally:
                self._put_back(original, failed, keep_journal=True)
            return
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
            held.add(name)
            failed = True
            try:
                yield original
                failed = False
            finally:
                held.discard(name)
                self._put_back(original, failed)

    def _put_back(self, original: WarehouseSettings, failed: bool, *, keep_journal: bool = False) -> None:
        """Settings back, then running or suspended as found; the journal goes only once both are done."""
        name = original.name
        try:
            self._restore_settings(original)
        except EngineError as exc:
            log.error("Warehouse %s not restored; the journal keeps its settings: %s", name, exc)
            if not failed:
                raise EngineError(
                    f"Warehouse {name!r} could not be put back to {_describe(original)}: {exc}",
                    hint="It will be restored automatically the next time you connect.",
                ) from None
            return
        try:
            self._as_found(original)
        except EngineError as exc:
            log.error("Warehouse %s restored but not left %s: %s", name, original.state, exc)
            if not failed:
                raise EngineError(
                    f"Warehouse {name!r} is back to {_describe(original)}, but could not be left "
                    f"{'running' if original.running else 'suspended'} as it was: {exc}",
                    hint=f"Run ALTER WAREHOUSE {quote(name)} "
                    f"{'RESUME IF SUSPENDED' if original.running else 'SUSPEND'}; if others need it so.",
                ) from None
            return
        if not keep_journal:
            self.journal.delete(name)

    # --- the two changes ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def converted(
        self,
        name: str,
        *,
        size: str | None = None,
        resource_constraint: str | None = None,
        task: TaskContext | None = None,
    ) -> Iterator[WarehouseSettings]:
        """Mode (a): run the body on ``name`` switched to Snowpark-optimized (memory option always stated,
        MEMORY_16X unless asked); always switch back. Raises PermissionDenied naming the grant when Snowflake
        refuses a change, InvalidInput for a size the memory option does not allow, EngineError when the
        warehouse does not get to SUSPENDED in time."""
        with self._journaled(name, "convert") as original:
            target_size, constraint = training_settings(original, size, resource_constraint)
            if original.type != sizes.SNOWPARK_OPTIMIZED:
                self._probe_modify(original, task)
                self._change_type(
                    name,
                    "convert_warehouse",
                    task,
                    warehouse_type=sizes.SNOWPARK_OPTIMIZED,
                    size=target_size,
                    resource_constraint=constraint,
                )
            elif (target_size, constraint) != (original.size, original.resource_constraint):
                self._alter(name, "resize_warehouse", task, size=target_size, resource_constraint=constraint)
            self._ready_for_call(original, task)
            # Switching back (suspend, wait, then type, size and generation) is the journal's restore.
            yield replace(
                original,
                size=target_size,
                type=sizes.SNOWPARK_OPTIMIZED,
                state="STARTED",
                resource_constraint=constraint,
                generation=None,
            )

    def _probe_modify(self, original: WarehouseSettings, task: TaskContext | None) -> None:
        """A no-op ALTER (the current size and generation) before anything changes: Snowflake says whether
        the role may MODIFY the warehouse (a grant on it, an inherited one, or MANAGE WAREHOUSES), so a
        refusal comes before the warehouse is suspended."""
        self._alter(
            original.name, "check_privileges", task, generation=original.generation, size=original.size
        )

    @contextlib.contextmanager
    def running(self, name: str, *, task: TaskContext | None = None) -> Iterator[WarehouseSettings]:
        """Run the body with ``name`` able to run statements. A SUSPENDED warehouse without AUTO_RESUME
        refuses every statement until resumed explicitly, so it is resumed (RESUME IF SUSPENDED, journaled:
        a crash still suspends it again at the next connect) and suspended afterwards, as found; any other
        is left to Snowflake, which resumes it for the first statement. ``resized`` may be nested inside.
        Raises PermissionDenied naming the OPERATE grant when the role may not resume it."""
        current = self.settings(name)
        if current.running or current.auto_resume:
            yield current
            return
        with self._journaled(name, "resume") as original:
            try:
                self._ready_for_call(original, task)
            except PermissionDenied as exc:
                raise PermissionDenied(
                    f"Warehouse {name!r} is suspended and does not resume by itself (AUTO_RESUME = FALSE); "
                    f"the role {self.role or 'in use'} may not resume it (it lacks OPERATE on it).",
                    hint=exc.hint,
                ) from None
            yield replace(original, state="STARTED")

    @contextlib.contextmanager
    def resized(
        self, name: str, size: str, *, task: TaskContext | None = None
    ) -> Iterator[WarehouseSettings]:
        """Run the body with ``name`` at ``size`` (waiting for the resize to complete, the generation stated);
        always size back. Nothing changes when the size is already right. Raises PermissionDenied naming the
        grant when Snowflake refuses the resize."""
        target = sizes.parse_size(size).sql
        current = self.settings(name)
        if current.size == target:
            yield current
            return
        with self._journaled(name, "resize") as original:
            self._alter(
                name,
                "resize_warehouse",
                task,
                generation=original.generation if original.type == sizes.STANDARD else None,
                size=target,
                wait_for_completion=True,
            )
            self._ready_for_call(original, task)
            yield replace(original, size=target, state="STARTED")

    def change(
        self, name: str, *, size: str | None = None, warehouse_type: str | None = None
    ) -> WarehouseSettings:
        """Change the warehouse for good (the user asked): a type change suspends and waits first, states the
        memory option (MEDIUM at least for MEMORY_16X) and leaves the warehouse running or suspended as it
        was; a resize states the generation. Raises InvalidInput, PermissionDenied naming the grant."""
        current = self.settings(name)
        target_size = sizes.parse_size(size).sql if size else None
        target_type = sizes.parse_type(warehouse_type) if warehouse_type else None
        if target_type and target_type != current.type:
            props: dict[str, Any] = {"warehouse_type": target_type, "size": target_size or current.size}
            if target_type == sizes.SNOWPARK_OPTIMIZED:
                props["resource_constraint"] = sql.check_resource_constraint(
                    sql.DEFAULT_RESOURCE_CONSTRAINT, props["size"]
                )
            self._probe_modify(current, None)
            self._change_type(name, "set_warehouse", None, **props)
            self._as_found(current)
        elif target_size and target_size != current.size:
            generation = current.generation if current.type == sizes.STANDARD else None
            self._alter(
                name, "set_warehouse", generation=generation, size=target_size, wait_for_completion=True
            )
        return self.settings(name)

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
        """Mode (b): make sure the Snowpark-optimized ``training`` warehouse exists (created suspended with
        auto-resume and 60 s auto-suspend, memory option stated) and yield it. This session's current
        warehouse is never changed: the caller runs the body's statements on a session of its own that uses
        ``training``, so concurrent work on ``shared`` stays there. Raises InvalidInput when ``training`` is
        ``shared`` or exists but is not Snowpark-optimized."""
        if training == shared:
            raise InvalidInput("The dedicated training warehouse must differ from the shared one.")
        try:
            existing = self.settings(training)
        except NotFound:
            target_size, constraint = training_settings(
                WarehouseSettings(training, "MEDIUM", sizes.STANDARD, SUSPENDED), size, resource_constraint
            )
            statement = sql.create_warehouse(
                training,
                size=target_size,
                warehouse_type=sizes.SNOWPARK_OPTIMIZED,
                resource_constraint=constraint,
                comment="snowml-desktop training warehouse",
            )
            try:
                self._run(statement, "create_warehouse", task)
            except PermissionDenied:
                role = quote(self.role) if self.role else "<your role>"
                raise PermissionDenied(
                    f"Warehouse {training!r} does not exist and the role may not create it.",
                    hint=f"Ask an admin to create it, or for GRANT CREATE WAREHOUSE ON ACCOUNT TO ROLE {role};",
                ) from None
            existing = self.settings(training)
        if existing.type != sizes.SNOWPARK_OPTIMIZED:
            raise InvalidInput(
                f"Warehouse {training!r} is {existing.type}, not Snowpark-optimized.",
                hint="Choose another training warehouse name, or use the convert mode.",
            )
        self._ready_for_call(existing, task)
        try:
            yield existing
        finally:
            with contextlib.suppress(EngineError):
                self._as_found(existing)


def _describe(settings: WarehouseSettings) -> str:
    detail = (
        f"generation {settings.generation}"
        if settings.type == sizes.STANDARD and settings.generation
        else settings.resource_constraint
    )
    return f"{sizes.parse_size(settings.size).label} {settings.type}" + (f" ({detail})" if detail else "")

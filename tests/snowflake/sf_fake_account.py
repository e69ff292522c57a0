"""A test double of a Snowflake account behind the SqlRunner interface: it stands in for the network.

What the fake lets through or refuses is decided by ``RULES`` below: a table of Snowflake's documented
behaviours, each with the page that documents it, applied by the code under it. Nothing here asks the
engine's own code (``sql``, ``warehouse``, ``core.sizes``) what Snowflake accepts: sizes, memory options and
generations are this module's own copy of the documentation's tables. Where the documentation is silent
(the text of an error message, how long a statement runs) the fake says so next to its choice.

Besides the rules it keeps warehouses, grants, sessions (each with its own current warehouse), a virtual
clock for statements other users run, per-test answers for queries (``answer``), one-shot events before a
statement (``interject``), a log of every statement (``log``, ``operations``, ``ran_on``), and injected
network failures at the N-th statement (``fail_at``) or from then on (``dead_from``).
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp

from snowml_desktop.core.errors import ConnectionFailed, EngineError, PermissionDenied
from snowml_desktop.engines.snowflake import sql
from snowml_desktop.engines.snowflake.session import QueryResult

_SNOWPARK_GUIDE = "https://docs.snowflake.com/en/user-guide/warehouses-snowpark-optimized"
_GEN2_GUIDE = "https://docs.snowflake.com/en/user-guide/warehouses-gen2"
_ALTER = "https://docs.snowflake.com/en/sql-reference/sql/alter-warehouse"
_CREATE = "https://docs.snowflake.com/en/sql-reference/sql/create-warehouse"
_TASKS = "https://docs.snowflake.com/en/user-guide/warehouses-tasks"
_SHOW = "https://docs.snowflake.com/en/sql-reference/sql/show-warehouses"
_STREAMS = "https://docs.snowflake.com/en/user-guide/streams-intro"
_TRANSACTIONS = "https://docs.snowflake.com/en/sql-reference/transactions"


@dataclass(frozen=True)
class Rule:
    """One documented behaviour the fake enforces."""

    behaviour: str
    source: str


RULES: dict[str, Rule] = {
    "type_change_needs_suspended": Rule(
        "WAREHOUSE_TYPE changes only while the warehouse is SUSPENDED. (The ALTER WAREHOUSE usage notes now "
        "allow it while running; the fake keeps the stricter guide, which the engine must satisfy either way.)",
        _SNOWPARK_GUIDE + "#modifying-snowpark-optimized-warehouse-properties",
    ),
    "suspend_quiesces": Rule(
        "SUSPEND lets running statements finish; the warehouse is SUSPENDED only when they have (the fake "
        "shows SUSPENDING meanwhile: the documented states name only STARTED, SUSPENDED and RESIZING).",
        _TASKS + "#suspending-a-warehouse",
    ),
    "resume_if_suspended": Rule("RESUME IF SUSPENDED succeeds whether or not the warehouse runs.", _ALTER),
    "auto_resume": Rule(
        "A statement sent to a suspended warehouse resumes it when AUTO_RESUME = TRUE; with FALSE the "
        "warehouse starts only when resumed explicitly, and a statement that needs it fails. The documentation "
        "gives no text for that failure; the fake uses the one Snowflake returned with AUTO_RESUME disabled "
        "(error 000608, quoted in https://github.com/PostHog/posthog/pull/37608).",
        _CREATE,
    ),
    "one_warehouse_per_session": Rule(
        "A session has one current warehouse; USE WAREHOUSE changes it for every later statement of that "
        "session, and only that session.",
        _TASKS + "#using-a-warehouse",
    ),
    "memory_option_sizes": Rule(
        "Each RESOURCE_CONSTRAINT has a minimum and maximum size; Snowpark-optimized defaults to MEMORY_16X.",
        _ALTER,
    ),
    "generation_clause": Rule(
        "GENERATION = '1'|'2' applies to standard warehouses only, must agree with RESOURCE_CONSTRAINT, and "
        "Gen2 stops at 4X-Large. An account modelled without the clause (accepts_generation=False) refuses it.",
        _ALTER,
    ),
    "bundle_2026_02": Rule(
        "With bundle 2026_02, RESOURCE_CONSTRAINT can no longer be set to STANDARD_GEN_1 or STANDARD_GEN_2.",
        "https://docs.snowflake.com/en/release-notes/bcr-bundles/2026_02/bcr-2225",
    ),
    "bundle_2026_03": Rule(
        "With bundle 2026_03, Gen2 is the default generation and an ALTER without GENERATION may move a Gen1 "
        "warehouse to Gen2 (the fake does it for every ALTER ... SET of a standard warehouse that leaves the "
        "generation unstated, and for a change back to STANDARD).",
        "https://docs.snowflake.com/en/release-notes/bcr-bundles/2026_03/bcr-2250",
    ),
    "show_generation_column": Rule(
        "With bundle 2025_07, SHOW WAREHOUSES has a generation column ('1' or '2'); resource_constraint "
        "shows a standard warehouse's STANDARD_GEN_x.",
        "https://docs.snowflake.com/en/release-notes/bcr-bundles/2025_07/bcr-2110",
    ),
    # What a stored procedure's own statements meet (tests/snowflake/sf_fake_procedure_sql.py applies these).
    "stream_offset_on_dml_commit": Rule(
        "A stream's offset advances only when a DML statement that reads the stream commits (at the end of an "
        "autocommitted statement, or at the COMMIT of the explicit transaction holding it); querying a stream "
        "alone does not advance it, even inside an explicit transaction.",
        _STREAMS + "#table-versioning",
    ),
    "stream_repeatable_read": Rule(
        "Streams have repeatable read isolation: the statements of one transaction see the same change records "
        "of a stream (the fake has no concurrent writers, so every read sees the rows of the transaction's "
        "start).",
        _STREAMS + " (repeatable read isolation)",
    ),
    "ddl_commits_transaction": Rule(
        "Explicit transactions should hold only DML and queries: a DDL statement (CTAS included) implicitly "
        "commits the open transaction. (The fake counts creating, replacing or dropping a table as DDL.)",
        _TRANSACTIONS + " (DDL)",
    ),
    "rollback_undoes_dml": Rule(
        "ROLLBACK undoes every statement of the transaction: its DML is applied at COMMIT or not at all.",
        _TRANSACTIONS,
    ),
    "procedure_transaction": Rule(
        "A stored procedure may hold a whole transaction (BEGIN ... COMMIT in its body). Called while the caller "
        "has a transaction open, the procedure's transaction is a separate scoped one, committed or rolled back "
        "on its own; otherwise a BEGIN while a transaction is active is ignored.",
        _TRANSACTIONS + " (stored procedures and transactions; scoped transactions)",
    ),
    "temporary_table_session": Rule(
        "A temporary table exists only in the session that created it and persists for the rest of that "
        "session (procedure-scoped temporary tables are Snowflake Scripting only), so a Python procedure drops "
        "its own.",
        "https://docs.snowflake.com/en/user-guide/tables-temp-transient",
    ),
    "warehouse_privileges": Rule(
        "ALTER ... SET needs MODIFY, SUSPEND/RESUME need OPERATE (OWNERSHIP or the account-level MANAGE "
        "WAREHOUSES also do); SHOW GRANTS ON WAREHOUSE lists only the grants on that warehouse.",
        _ALTER + "#access-control-requirements",
    ),
}

# The documentation's tables, copied (not asked of the engine).
_SIZES = (  # ALTER WAREHOUSE: WAREHOUSE_SIZE values in order, with SHOW WAREHOUSES' spelling
    ("XSMALL", "X-Small"), ("SMALL", "Small"), ("MEDIUM", "Medium"), ("LARGE", "Large"),
    ("XLARGE", "X-Large"), ("XXLARGE", "2X-Large"), ("XXXLARGE", "3X-Large"), ("X4LARGE", "4X-Large"),
    ("X5LARGE", "5X-Large"), ("X6LARGE", "6X-Large"),
)  # fmt: skip
_SIZE_ALIASES = {"X2LARGE": "XXLARGE", "X3LARGE": "XXXLARGE", "2XLARGE": "XXLARGE", "3XLARGE": "XXXLARGE"}
_ORDER = [s for s, _ in _SIZES]
_LABEL = dict(_SIZES)
_MEMORY = {  # ALTER WAREHOUSE: RESOURCE_CONSTRAINT -> (minimum size, maximum size)
    "MEMORY_1X": ("XSMALL", "X4LARGE"), "MEMORY_1X_X86": ("XSMALL", "X4LARGE"),
    "MEMORY_16X": ("MEDIUM", "X6LARGE"), "MEMORY_16X_X86": ("MEDIUM", "X4LARGE"),
    "MEMORY_64X": ("LARGE", "X4LARGE"), "MEMORY_64X_X86": ("LARGE", "X4LARGE"),
}  # fmt: skip
_GEN_SIZES = {"1": ("XSMALL", "X6LARGE"), "2": ("XSMALL", "X4LARGE")}
STANDARD, SNOWPARK = "STANDARD", "SNOWPARK-OPTIMIZED"


@dataclass
class FakeWarehouse:
    """A warehouse as the account holds it. ``resource_constraint`` is what SHOW WAREHOUSES shows
    (STANDARD_GEN_x for a standard one, MEMORY_x for Snowpark-optimized); ``generation`` follows from it
    for a standard warehouse unless given. ``running``: end times of other users' statements."""

    size: str = "XSMALL"
    type: str = STANDARD
    state: str = "STARTED"
    resource_constraint: str | None = "STANDARD_GEN_1"
    generation: str | None = None
    auto_resume: bool = True
    auto_suspend: int | None = 600
    running: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.type == STANDARD and self.generation is None and self.resource_constraint:
            self.generation = self.resource_constraint[-1]


def refused(rule: str, message: str) -> EngineError:
    """The error the runner raises for a statement Snowflake refuses under ``rule``."""
    error = EngineError(f"Snowflake reported an error. Snowflake said: {message}")
    error.rule = rule  # type: ignore[attr-defined]
    return error


class FakeSession:
    """One session of the account: its own current warehouse, the account's everything else."""

    def __init__(self, account: FakeAccount, warehouse: str | None) -> None:
        self.account = account
        self.current_warehouse = warehouse
        self.closed = False

    def execute(self, statement: sql.Statement, *, operation: str, task=None) -> QueryResult:
        return self.account._execute(self, statement, operation, task)

    def cancel_all(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


@dataclass
class FakeAccount:
    warehouses: dict[str, FakeWarehouse] = field(default_factory=lambda: {"WH": FakeWarehouse()})
    grants: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # warehouse -> (privilege, role)
    account_grants: list[tuple[str, str]] = field(default_factory=list)  # (privilege, role) on the account
    session_roles: set[str] = field(default_factory=lambda: {"ANALYST", "PUBLIC"})
    current_warehouse: str = "WH"  # of the first session, which ``execute`` uses
    bundles: frozenset[str] = frozenset({"2025_07", "2026_02", "2026_03"})
    accepts_generation: bool = True
    default_generation: str = "1"  # before 2026_03: depends on region and organisation
    fail_at: int | None = None
    dead_from: int | None = None
    log: list[sql.Statement] = field(default_factory=list)
    operations: list[str] = field(default_factory=list)
    ran_on: list[str | None] = field(default_factory=list)  # each statement's session's warehouse
    answers: list[tuple[str, Callable[[sql.Statement], list[dict[str, Any]]]]] = field(default_factory=list)
    clock: float = 0.0
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.login_warehouse = self.current_warehouse
        self.sessions: list[FakeSession] = []
        self._interjections: list[tuple[str, Callable[[], None]]] = []
        self._lock = threading.RLock()
        self._executing = threading.local()

    # --- test controls ----------------------------------------------------------------------------------
    def answer(
        self, pattern: str, rows: list[dict[str, Any]] | Callable[[sql.Statement], list[dict[str, Any]]]
    ) -> None:
        """Rows for statements whose text matches ``pattern`` (regex); later answers win."""
        self.answers.insert(0, (pattern, rows if callable(rows) else (lambda _s, r=rows: r)))

    def interject(self, pattern: str, action: Callable[[], None]) -> None:
        """Run ``action`` once, just before the next statement matching ``pattern`` is applied."""
        self._interjections.append((pattern, action))

    def session(self) -> FakeSession:
        """A new session (a second login), starting on the connection's warehouse."""
        opened = FakeSession(self, self.login_warehouse)
        self.sessions.append(opened)
        return opened

    def busy(self, warehouse: str, seconds: float) -> None:
        """Another user sends a statement to ``warehouse`` that runs for ``seconds`` of the clock."""
        with self._lock:
            self._compute(self.warehouses[warehouse], warehouse)
            self.warehouses[warehouse].running.append(self.clock + seconds)

    def sleep(self, seconds: float, task=None) -> None:
        """Let ``seconds`` pass on the account's clock (the guard's pause, in tests)."""
        if task is not None:
            task.check()
        with self._lock:
            self.clock += seconds
            self._settle()

    @property
    def warehouse_in_use(self) -> str | None:
        """The current warehouse of the session running a statement on this thread (for answers)."""
        session = getattr(self._executing, "session", None)
        return session.current_warehouse if session else self.current_warehouse

    # --- SqlRunner (the first session) ------------------------------------------------------------------
    def execute(self, statement: sql.Statement, *, operation: str, task=None) -> QueryResult:
        return self._execute(None, statement, operation, task)

    def cancel_all(self) -> None:
        pass

    def close(self) -> None:
        pass

    def _execute(
        self, session: FakeSession | None, statement: sql.Statement, operation: str, task
    ) -> QueryResult:
        if task is not None:
            task.check()
        with self._lock:
            index = len(self.log)
            self.log.append(statement)
            self.operations.append(operation)
            self.ran_on.append(session.current_warehouse if session else self.current_warehouse)
            self._settle()
        assert statement.text.count("?") == len(statement.params), statement.text
        if statement.verify == sql.PARSED:  # everything the engine sends must be real SQL
            assert not isinstance(sqlglot.parse_one(statement.text, read="snowflake"), exp.Command), (
                statement.text
            )
        if index == self.fail_at or (self.dead_from is not None and index >= self.dead_from):
            raise ConnectionFailed(f"Injected network failure at statement {index}.")
        for i, (pattern, action) in enumerate(self._interjections):
            if re.search(pattern, statement.text):
                del self._interjections[i]
                action()
                break
        previous = getattr(self._executing, "session", None)
        self._executing.session = session
        try:
            return QueryResult(self._rows(session, statement), f"qid-{next(self._ids)}")
        finally:
            self._executing.session = previous

    # --- behaviour --------------------------------------------------------------------------------------
    def _current(self, session: FakeSession | None) -> str | None:
        return session.current_warehouse if session else self.current_warehouse

    def _rows(self, session: FakeSession | None, statement: sql.Statement) -> list[dict[str, Any]]:
        text = statement.text
        if _uses_compute(text):
            name = self._current(session)
            if name is not None and name in self.warehouses:
                with self._lock:
                    self._compute(self.warehouses[name], name)
        for pattern, make in self.answers:
            if re.search(pattern, text):
                return make(statement)
        with self._lock:
            return self._behaviour(session, text, statement)

    def _behaviour(self, session: FakeSession | None, text: str, statement: sql.Statement) -> list[dict]:
        if text.startswith("SHOW WAREHOUSES LIKE"):
            pattern = re.match(r"SHOW WAREHOUSES LIKE '(.*)'$", text).group(1).replace("''", "'").lower()
            return [self._show(n, w) for n, w in self.warehouses.items() if n.lower() == pattern]
        if text.startswith("SHOW GRANTS ON WAREHOUSE"):
            name = _ident(text.split("WAREHOUSE ", 1)[1])
            return [
                {
                    "privilege": p,
                    "granted_on": "WAREHOUSE",
                    "name": name,
                    "granted_to": "ROLE",
                    "grantee_name": r,
                }
                for p, r in self._grants(name)
            ]
        if "IS_ROLE_IN_SESSION" in text:
            return [{f"R{i}": role in self.session_roles for i, role in enumerate(statement.params)}]
        if text.startswith("ALTER WAREHOUSE"):
            self._alter(text)
            return [{"status": "Statement executed successfully."}]
        if text.startswith("CREATE WAREHOUSE IF NOT EXISTS"):
            self._create(text)
            return [{"status": "created"}]
        if text.startswith("USE WAREHOUSE"):  # one_warehouse_per_session
            name = _ident(text[len("USE WAREHOUSE ") :])
            if session is None:
                self.current_warehouse = name
            else:
                session.current_warehouse = name
            return [{"status": "ok"}]
        if text.startswith("CALL"):
            return [{"RESULT": "{}"}]
        return []

    def _show(self, name: str, w: FakeWarehouse) -> dict[str, Any]:
        row = {
            "name": name,
            "state": w.state,
            "type": w.type,
            "size": _LABEL[w.size],
            "running": len(w.running),
            "auto_suspend": w.auto_suspend,
            "auto_resume": "true" if w.auto_resume else "false",
            "resource_constraint": w.resource_constraint,
        }
        if "2025_07" in self.bundles:  # show_generation_column
            row["generation"] = w.generation if w.type == STANDARD else None
        return row

    def _grants(self, warehouse: str) -> list[tuple[str, str]]:
        return self.grants.get(warehouse, [("OWNERSHIP", "ANALYST")])

    def _allowed(self, warehouse: str, privilege: str) -> bool:  # warehouse_privileges
        holders = {r for p, r in self._grants(warehouse) if p in (privilege, "OWNERSHIP")}
        holders |= {r for p, r in self.account_grants if p == "MANAGE WAREHOUSES"}
        return bool(holders & self.session_roles)

    def _require(self, warehouse: str, privilege: str) -> None:
        if not self._allowed(warehouse, privilege):
            error = PermissionDenied(
                "Alter warehouse: the role lacks a privilege. Snowflake said: SQL access control error: "
                f"Insufficient privileges to operate on warehouse '{warehouse}'"
            )
            error.rule = "warehouse_privileges"  # type: ignore[attr-defined]
            raise error

    def _compute(self, warehouse: FakeWarehouse, name: str) -> None:  # auto_resume
        if warehouse.state in ("SUSPENDED", "SUSPENDING"):
            if not warehouse.auto_resume:
                raise refused(
                    "auto_resume",
                    f"000608 (57P03): Warehouse '{name}' is suspended.  Use 'alter warehouse {name} resume;' "
                    "command if you need to use it again.",
                )
            warehouse.state = "STARTED"

    def _settle(self) -> None:  # suspend_quiesces: statements end on the clock
        for warehouse in self.warehouses.values():
            warehouse.running = [end for end in warehouse.running if end > self.clock]
            if warehouse.state == "SUSPENDING" and not warehouse.running:
                warehouse.state = "SUSPENDED"

    def _alter(self, text: str) -> None:
        match = re.match(r'ALTER WAREHOUSE ("(?:[^"]|"")*") (.*)$', text)
        name, rest = _ident(match.group(1)), match.group(2)
        warehouse = self.warehouses[name]
        if rest == "SUSPEND":
            self._require(name, "OPERATE")
            if warehouse.state == "SUSPENDED":  # not in the docs; the engine tolerates either answer. The
                # wording is Snowflake's as reported in https://github.com/Snowflake-Labs/sf-samples/issues/51
                raise refused("suspend_quiesces", f"Invalid state. Warehouse '{name}' cannot be suspended.")
            warehouse.state = "SUSPENDING" if warehouse.running else "SUSPENDED"
            return
        if rest == "RESUME IF SUSPENDED":  # resume_if_suspended
            self._require(name, "OPERATE")
            warehouse.state = "STARTED"
            return
        assert rest.startswith("SET "), text
        self._require(name, "MODIFY")
        self._set(name, warehouse, dict(re.findall(r"(\w+) = ('[^']*'|\w+)", rest)))

    def _set(self, name: str, warehouse: FakeWarehouse, props: dict[str, str]) -> None:
        new_type = props.get("WAREHOUSE_TYPE", warehouse.type).strip("'")
        size = _size(props.get("WAREHOUSE_SIZE", warehouse.size))
        constraint = (
            props["RESOURCE_CONSTRAINT"].strip("'").upper() if "RESOURCE_CONSTRAINT" in props else None
        )
        generation = props["GENERATION"].strip("'") if "GENERATION" in props else None
        if new_type != warehouse.type and warehouse.state != "SUSPENDED":
            raise refused(
                "type_change_needs_suspended", f"Warehouse '{name}' must be suspended to change its type."
            )
        if generation is not None:
            if not self.accepts_generation:
                raise refused("generation_clause", "invalid property 'GENERATION' for 'WAREHOUSE'")
            if new_type != STANDARD:
                raise refused("generation_clause", "GENERATION applies to standard warehouses only.")
        if constraint in ("STANDARD_GEN_1", "STANDARD_GEN_2"):
            if "2026_02" in self.bundles:
                raise refused("bundle_2026_02", f"RESOURCE_CONSTRAINT {constraint} can no longer be set.")
            if generation is not None and generation != constraint[-1]:
                raise refused("generation_clause", "GENERATION and RESOURCE_CONSTRAINT do not agree.")
            generation, constraint = constraint[-1], None
        if new_type == STANDARD:
            if constraint is not None:
                raise refused("memory_option_sizes", f"{constraint} is for Snowpark-optimized warehouses.")
            if generation is None:  # bundle_2026_03, else the account's default on a change of type
                if "2026_03" in self.bundles:
                    generation = "2"
                elif new_type != warehouse.type or warehouse.generation is None:
                    generation = self.default_generation
                else:
                    generation = warehouse.generation
            low, high = _GEN_SIZES[generation]
            if not _ORDER.index(low) <= _ORDER.index(size) <= _ORDER.index(high):
                raise refused(
                    "generation_clause", f"Generation {generation} does not exist at {_LABEL[size]}."
                )
            warehouse.generation, warehouse.resource_constraint = generation, f"STANDARD_GEN_{generation}"
        else:
            keep = warehouse.resource_constraint if warehouse.type == SNOWPARK else None
            constraint = constraint or keep or "MEMORY_16X"
            low, high = _MEMORY[constraint]
            if not _ORDER.index(low) <= _ORDER.index(size) <= _ORDER.index(high):
                raise refused(
                    "memory_option_sizes", f"{constraint} needs a size from {_LABEL[low]} to {_LABEL[high]}."
                )
            warehouse.generation, warehouse.resource_constraint = None, constraint
        warehouse.type, warehouse.size = new_type, size

    def _create(self, text: str) -> None:
        name = _ident(text[len("CREATE WAREHOUSE IF NOT EXISTS ") :].split(" WITH ")[0])
        if name in self.warehouses:
            return
        props = dict(re.findall(r"(\w+) = ('[^']*'|\w+)", text))
        created = FakeWarehouse(
            "XSMALL", STANDARD, "SUSPENDED" if props.get("INITIALLY_SUSPENDED") == "TRUE" else "STARTED"
        )
        created.auto_resume = props.get("AUTO_RESUME", "TRUE") == "TRUE"
        created.auto_suspend = int(props["AUTO_SUSPEND"]) if "AUTO_SUSPEND" in props else 600
        state = created.state
        created.state = "SUSPENDED"  # a new warehouse takes its properties as created
        self._set(name, created, props)
        created.state = state
        self.warehouses[name] = created


def _size(text: str) -> str:
    name = text.strip("'").upper().replace("-", "")
    name = _SIZE_ALIASES.get(name, name)
    assert name in _LABEL, f"not a documented warehouse size: {text}"
    return name


def _uses_compute(text: str) -> bool:
    """Statements that need a running warehouse (queries, DML, CALL); SHOW, USE and DDL do not."""
    if text.startswith("CALL"):
        return True
    return bool(re.match(r"(SELECT|INSERT|UPDATE|DELETE|MERGE|COPY)\b", text)) and " FROM " in text


def _ident(text: str) -> str:
    text = text.strip()
    assert text.startswith('"') and text.endswith('"'), f"unquoted identifier {text!r}"
    return text[1:-1].replace('""', '"')

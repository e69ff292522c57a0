"""``SnowflakeEngine``: the engine protocol on a Snowflake account through Snowpark.

Heavy work runs in the warehouse: statistics are SQL aggregates (never a whole table pulled to the desktop),
training and scoring are the SNOWML_TRAIN / SNOWML_SCORE procedures (``procedures.py``) registered by
``setup.py``. Warehouse conversion and resizing go through :class:`WarehouseGuard` (journaled, always undone).
Every statement goes through a :class:`SqlRunner` (the real one wraps the Snowpark session; tests use a
double standing in for the network) built by ``sql.py``. Every public operation emits an ``Activity`` with
the last query id.
"""

from __future__ import annotations

import contextlib
import dataclasses
import email.utils
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from snowml_desktop.core import records, sizes
from snowml_desktop.core.connections import ConnectionProfile, SecretStore, get_profile
from snowml_desktop.core.errors import (
    AlreadyExists,
    Cancelled,
    ConnectionFailed,
    EngineError,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from snowml_desktop.core.identifiers import INTERNAL_PREFIX, display, normalize, user_columns, user_table
from snowml_desktop.core.records import RUN_CANCELLED, RUN_FAILED, InferenceRun, ModelRecord
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.engines.base import (
    BAD_NUMBER_MODES,
    HEADER_MODES,
    LOAD_MODES,
    OPTIMIZED_MODES,
    AccountCheck,
    Capabilities,
    ClassBalance,
    ColumnInfo,
    ColumnProfile,
    CompareRequest,
    ConnectionInfo,
    Correlation,
    Engine,
    Histogram,
    LoadRequest,
    LoadResult,
    ScoreRequest,
    SetupPlan,
    StageFile,
    TableInfo,
    TableProfile,
    TrainRequest,
    WarehouseState,
    activity,
    clone_table,
    default_output_table,
)
from snowml_desktop.engines.snowflake import doctor, setup, sql
from snowml_desktop.engines.snowflake.scheduling import SnowflakeSchedules
from snowml_desktop.engines.snowflake.session import (
    AskSecret,
    QueryResult,
    SnowparkRunner,
    SqlRunner,
    open_session,
    translate_error,
)
from snowml_desktop.engines.snowflake.warehouse import Journal, SuspendWait, WarehouseGuard

if TYPE_CHECKING:
    import pandas as pd

    from snowml_desktop.core.compare import Comparison
    from snowml_desktop.core.drift import DriftReport

log = logging.getLogger(__name__)

USER_STAGES = ("LOAD_DATA", "MODELS")
DEFAULT_TRAINING_WAREHOUSE = "SNOWML_TRAIN_WH"
MAX_REJECTIONS = 10
MAX_BINS = 200
_NUMERIC = {
    "NUMBER",
    "DECIMAL",
    "NUMERIC",
    "INT",
    "INTEGER",
    "BIGINT",
    "SMALLINT",
    "TINYINT",
    "BYTEINT",
    "FLOAT",
    "FLOAT4",
    "FLOAT8",
    "DOUBLE",
    "DOUBLE PRECISION",
    "REAL",
}
_TEXT = {"TEXT", "VARCHAR", "CHAR", "CHARACTER", "STRING"}
_TEMPORAL = ("DATE", "TIME", "TIMESTAMP", "DATETIME")


def kind_of(sql_type: str) -> str:
    """numeric | text | boolean | temporal | other, for a Snowflake type name."""
    base = sql_type.split("(", 1)[0].strip().upper()
    if base in _NUMERIC:
        return "numeric"
    if base in _TEXT:
        return "text"
    if base == "BOOLEAN":
        return "boolean"
    if base.startswith(_TEMPORAL):
        return "temporal"
    return "other"


class SnowflakeEngine(SnowflakeSchedules, Engine):
    """The protocol on Snowflake. Construct with :meth:`from_connection`; tests pass a runner double."""

    kind = "snowflake"

    def __init__(
        self,
        runner: SqlRunner,
        profile: ConnectionProfile,
        *,
        session: Any = None,
        journal: Journal | None = None,
        open_runner: Callable[[], SqlRunner] | None = None,
        wait: SuspendWait | None = None,
        replay_journal: bool = True,
    ) -> None:
        """Read the session's context and replay any warehouse journal left by a crash (unless
        ``replay_journal`` is False: an account check changes nothing). ``open_runner`` opens another
        session of the same login (a dedicated training warehouse runs its call there); ``wait``: how long a
        warehouse may take to suspend. Raises ConnectionFailed/InvalidInput when no database is set."""
        super().__init__()
        self._runner = runner
        self._open_runner = open_runner
        self._spare_runners: list[SqlRunner] = []
        self._open_runners: list[SqlRunner] = []
        self._runners_lock = threading.Lock()
        self._session = session
        self._profile = profile
        self._local = threading.local()
        self._closed = False
        context = {k.upper(): v for k, v in self._rows(sql.current_context(), "connect")[0].items()}
        self._account = str(context.get("ACCOUNT") or profile.account)
        self._user = context.get("USER_NAME") or profile.user or None
        self._role = context.get("ROLE_NAME") or profile.role or None
        self._warehouse_name = str(context.get("WAREHOUSE") or profile.warehouse or "")
        # CURRENT_DATABASE() is canonical already; the profile's text is what the user typed.
        database = str(context.get("DATABASE_NAME") or "") or (
            normalize(profile.database, what="database") if profile.database.strip() else ""
        )
        if not database:
            raise InvalidInput(
                f"Connection {profile.name!r} has no database.",
                hint="Set a database in the connection manager.",
            )
        self._loc = sql.Location(database, profile.app_schema or "SNOWML", profile.data_schema or "DATA")
        self._guard = WarehouseGuard(
            runner, account=self._account, journal=journal, role=self._role, wait=wait
        )
        #: Messages about warehouses restored after an interrupted operation, for the UI to show once.
        self.restored: list[str] = self._guard.replay() if replay_journal else []
        self.capabilities = self._capabilities()

    @classmethod
    def from_connection(
        cls,
        name: str,
        *,
        secrets: SecretStore | None = None,
        ask: AskSecret | None = None,
        passcode: str | None = None,
        typed: Mapping[str, str] | None = None,
        replay_journal: bool = True,
    ) -> SnowflakeEngine:
        """Connect with a saved connection. ``typed``: secrets typed for this login (they win over stored
        ones); ``ask``: called for a secret found nowhere; ``passcode``: the MFA code; ``replay_journal``:
        see ``__init__``. Raises NotFound, ConnectionFailed, PermissionDenied."""
        profile = get_profile(name)
        if profile.kind != "snowflake":
            raise InvalidInput(f"Connection {profile.name!r} is not a Snowflake connection.")
        session = open_session(profile, secrets, ask=ask, passcode=passcode, typed=typed)

        def open_runner() -> SqlRunner:
            # A second login of the same user (the MFA passcode was single-use; a cached MFA token or SSO
            # credential spares a second prompt where the account allows it).
            return SnowparkRunner(open_session(profile, secrets, ask=ask, typed=typed))

        try:
            return cls(
                SnowparkRunner(session),
                profile,
                session=session,
                open_runner=open_runner,
                replay_journal=replay_journal,
            )
        except BaseException:
            session.close()
            raise

    # --- plumbing ----------------------------------------------------------------------------------------
    def _rows(
        self, statement: sql.Statement, operation: str, task: TaskContext | None = None
    ) -> list[dict[str, Any]]:
        return self._execute(statement, operation=operation, task=task).rows

    def _activity_started(self) -> list[str] | None:
        """Collect this thread's query ids afresh for the operation; returns the enclosing one's list."""
        outer = getattr(self._local, "query_ids", None)
        self._local.query_ids = []
        return outer

    def _activity_query_id(self, started: list[str] | None) -> str | None:
        """The operation's last query id; its ids also count for an enclosing operation."""
        ids = self._local.query_ids
        self._local.query_ids = started if started is None else started + ids
        return ids[-1] if ids else None

    def _execute(
        self,
        statement: sql.Statement,
        *,
        operation: str,
        task: TaskContext | None = None,
        runner: SqlRunner | None = None,
    ) -> QueryResult:
        """Run one statement (on ``runner``, default the engine's session), keeping its query id for the
        operation's Activity."""
        result = (runner or self._runner).execute(statement, operation=operation, task=task)
        ids = getattr(self._local, "query_ids", None)
        if ids is not None and result.query_id:
            ids.append(result.query_id)
        return result

    def _capabilities(self) -> Capabilities:
        # Whether the role may MODIFY the warehouse is Snowflake's to say when the change is made: grants
        # listed on the warehouse miss MANAGE WAREHOUSES and inherited ones, so nothing is disabled on them.
        reason = None if self._warehouse_name else "No warehouse is selected in this connection."
        return Capabilities(
            local=False,
            supports_zero_copy_clone=True,
            supports_snowpark_optimized=reason is None,
            supports_query_ids=True,
            supports_bad_numbers=False,
            snowpark_optimized_reason=reason,
        )

    def _require_warehouse(self) -> str:
        if not self._warehouse_name:
            raise InvalidInput("No warehouse is selected.", hint="Set a warehouse in the connection manager.")
        return self._warehouse_name

    def _setup_state(self) -> setup.SetupState:
        state = setup.read_state(self._runner, self._loc)
        if state is None:
            raise EngineError(
                f"Snowflake setup has not been run in {display(self._loc.database)}.{display(self._loc.app_schema)}.",
                hint="Run it with File > Snowflake setup… in the app or `snowml setup --yes` (both show what "
                "it creates first).",
            )
        return state

    # --- setup -------------------------------------------------------------------------------------------
    @activity("plan_setup")
    def plan_setup(self) -> SetupPlan:
        """See ``Engine.plan_setup``; reads SETUP_STATE and INFORMATION_SCHEMA.PACKAGES (``setup.py``)."""
        return _public_plan(setup.plan_setup(_SetupRunner(self), self._loc))

    @activity("setup")
    def run_setup(self, *, task: TaskContext | None = None) -> SetupPlan:
        """See ``Engine.run_setup`` and ``setup.py``. Snowflake names only the object when a privilege is
        missing, so the PermissionDenied raised here names the grant the failing step needs."""
        try:
            setup.run_setup(_SetupRunner(self), self._session, self._loc, task=task)
        except EngineError:
            raise
        except Exception as exc:  # registering procedures goes through Snowpark, not the runner
            if not _is_snowflake_error(exc):
                raise
            error = translate_error(exc, where="Setup")
            if isinstance(error, PermissionDenied):
                error = self._setup_permission(error, f"CREATE PROCEDURE on schema {self._app_schema()}")
            raise error from None
        plan = self.plan_setup()
        if plan.needed:  # e.g. the role may write SETUP_STATE but not read it
            raise EngineError(
                f"Setup ran, but the engine still finds it needed: {plan.reason}",
                hint=f"Check that the role may SELECT from {self._app_schema()}.{sql.SETUP_STATE}.",
            )
        return plan

    @activity("check_account")
    def check_account(self) -> AccountCheck:
        """See ``Engine.check_account`` and ``doctor.py``."""
        target = doctor.Target(
            _DoctorRunner(self),
            self._profile,
            self._loc,
            self._account,
            self._user,
            self._warehouse_name,
            self._guard.journal,
        )
        return doctor.check_account(target)

    @activity("setup_grants")
    def grant_app_role(self, role: str, *, task: TaskContext | None = None) -> list[str]:
        """See ``Engine.grant_app_role`` and ``setup.app_role_grants``."""
        return [s.text for s in setup.grant_app_role(_SetupRunner(self), self._loc, role, task=task)]

    def _app_schema(self) -> str:
        return f"{display(self._loc.database)}.{display(self._loc.app_schema)}"

    def _setup_permission(self, error: PermissionDenied, privilege: str) -> PermissionDenied:
        role = f"role {display(self._role)}" if self._role else "the current role"
        said = " ".join(error.message.split())  # Snowflake's words, on one line
        return PermissionDenied(
            f"Setup needs {privilege}, which {role} does not have.",
            hint=f"Ask an admin to grant it, or run setup with a role that has it. ({said})",
        )

    def _setup_privilege(self, statement: sql.Statement) -> str:
        """The grant a setup statement needs (setup's statements are CREATE, PUT and MERGE)."""
        database, app = display(self._loc.database), self._app_schema()
        created = re.match(
            r"CREATE (?:OR REPLACE )?(SCHEMA|STAGE|FILE FORMAT|TABLE|SEQUENCE|VIEW)\b", statement.text
        )
        if created:
            kind = created.group(1)
            return f"CREATE {kind} on " + (f"database {database}" if kind == "SCHEMA" else f"schema {app}")
        if statement.text.startswith("PUT "):
            return f"WRITE on stage {app}.PROCEDURES"
        if statement.text.startswith("GRANT ") and " ON FUTURE " in statement.text:
            return f"MANAGE GRANTS (on the account or on schema {app}) to define future grants"
        if statement.text.startswith("GRANT "):
            return f"ownership of the objects setup created in {app} (or MANAGE GRANTS) to grant them"
        if statement.text.startswith("MERGE "):
            return f"INSERT and UPDATE on {app}.{sql.SETUP_STATE}"
        return f"USAGE on database {database} and schema {app}"

    # --- connection --------------------------------------------------------------------------------------
    def describe(self) -> ConnectionInfo:
        return ConnectionInfo(
            engine="snowflake",
            account=self._account,
            user=self._user,
            role=self._role,
            database=self._loc.database,
            schema=self._loc.data_schema,
            warehouse=self.warehouse()
            if self._warehouse_name
            else WarehouseState("", "X-Small", sizes.STANDARD, "NONE"),
        )

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            with self._runners_lock:
                extra, self._open_runners, self._spare_runners = self._open_runners, [], []
            for runner in extra:
                runner.close()
            self._runner.close()

    def cancel_all(self) -> None:
        with self._runners_lock:
            extra = list(self._open_runners)
        for runner in extra:
            runner.cancel_all()
        self._runner.cancel_all()

    @contextlib.contextmanager
    def _session_on(self, warehouse: str, task: TaskContext | None) -> Iterator[SqlRunner]:
        """Another session of this login whose current warehouse is ``warehouse``. A session has one
        current warehouse, so USE WAREHOUSE on the shared one would move every concurrent preview, profile
        and scoring; spare sessions are kept for the next call and closed with the engine."""
        if self._open_runner is None:
            raise EngineError(
                "A dedicated training warehouse needs a second session, and this connection cannot open one.",
                hint="Use the convert mode, or reconnect.",
            )
        with self._runners_lock:
            runner = self._spare_runners.pop() if self._spare_runners else None
        if runner is None:
            try:
                runner = self._open_runner()
            except EngineError as exc:
                raise type(exc)(
                    f"Could not open a second session for the dedicated training warehouse: {exc.message}",
                    hint=exc.hint,
                ) from None
            with self._runners_lock:
                self._open_runners.append(runner)
        healthy = False
        try:
            self._execute(sql.use_warehouse(warehouse), operation="use_warehouse", task=task, runner=runner)
            yield runner
            healthy = True
        finally:
            with self._runners_lock:
                if healthy and not self._closed:
                    self._spare_runners.append(runner)
                elif runner in self._open_runners:
                    self._open_runners.remove(runner)
            if not healthy or self._closed:
                runner.close()

    # --- stages ------------------------------------------------------------------------------------------
    def list_stages(self) -> list[str]:
        return list(USER_STAGES)

    def _stage(self, stage: str) -> str:
        name = normalize(stage, what="stage")
        if name not in sql.STAGES:
            raise NotFound(f"No stage {display(name)}.", hint="Use one of: " + ", ".join(USER_STAGES) + ".")
        return name

    @activity("list_files")
    def list_files(self, stage: str) -> list[StageFile]:
        name = self._stage(stage)
        files = []
        for row in self._rows(sql.list_stage(self._loc, name), "list_files"):
            row = {str(k).lower(): v for k, v in row.items()}
            path = str(row["name"]).split("/", 1)[-1]  # LIST shows "<stage in lower case>/<path>"
            modified = row.get("last_modified")
            files.append(
                StageFile(
                    name,
                    path,
                    int(row.get("size") or 0),
                    email.utils.parsedate_to_datetime(modified) if modified else None,
                )
            )
        return sorted(files, key=lambda f: f.name)

    @activity("upload")
    def upload(
        self, paths: Sequence[Path], stage: str = "LOAD_DATA", *, task: TaskContext | None = None
    ) -> list[StageFile]:
        name = self._stage(stage)
        task = task or TaskContext()
        missing = [str(p) for p in paths if not Path(p).is_file()]
        if missing:
            raise NotFound(f"No such file: {', '.join(missing)}.")
        for i, path in enumerate(paths):
            task.report(i / max(len(paths), 1), f"Uploading {Path(path).name}")
            self._rows(sql.put_file(self._loc, str(Path(path).resolve()), name), "upload", task)
        uploaded = {Path(p).name for p in paths}
        return [f for f in self.list_files(name) if f.name in uploaded]

    @activity("load")
    def load(self, request: LoadRequest, *, task: TaskContext | None = None) -> LoadResult:
        """CALL SNOWML_LOAD: INFER_SCHEMA + COPY INTO (ON_ERROR = CONTINUE) into a staging table that replaces
        the target only when complete; rejected rows counted, the first reasons returned. A killed call's
        staging table is dropped here (the procedure drops it on its own failures)."""
        task = task or TaskContext()
        if request.mode not in LOAD_MODES or request.header not in HEADER_MODES:
            raise InvalidInput(
                f"Unknown load mode {request.mode!r} or header mode {request.header!r}.",
                hint=f"Modes: {', '.join(LOAD_MODES)}; header: {', '.join(HEADER_MODES)}.",
            )
        _check_bad_numbers(request.bad_numbers)
        table = user_table(request.table, what="table")
        normalized = dataclasses.replace(
            request,
            stage=self._stage(request.stage),
            table=table,
            columns_from=normalize(request.columns_from, what="table") if request.columns_from else None,
        )
        task.report(0.1, f"Loading {request.file} into {display(table)}")
        try:
            with self._guard.running(self._require_warehouse(), task=task) as used:
                row = self._call("SNOWML_LOAD", self._request_json(normalized, used.to_state()), "load", task)
        except (Cancelled, ConnectionFailed):
            with contextlib.suppress(EngineError):
                self._rows(sql.drop_table_if_exists(self._loc, table + sql.LOADING_SUFFIX), "load")
            raise
        from snowml_desktop.engines.snowflake.procedures import load_result_from_row

        task.report(1.0, f"Loaded {display(table)}")
        return load_result_from_row(row)

    # --- tables ------------------------------------------------------------------------------------------
    @activity("list_tables")
    def list_tables(self) -> list[TableInfo]:
        widths = {
            str(r["TABLE_NAME"]): int(r["N"]) for r in self._rows(sql.column_counts(self._loc), "list_tables")
        }
        result = []
        for row in self._rows(sql.list_tables(self._loc), "list_tables"):
            upper = {str(k).upper(): v for k, v in row.items()}
            name = str(upper["TABLE_NAME"])
            if name.endswith(sql.LOADING_SUFFIX):  # a load in progress (or interrupted): not a user table yet
                continue
            result.append(
                TableInfo(
                    name,
                    int(upper.get("ROW_COUNT") or 0),
                    widths.get(name, 0),
                    upper.get("CREATED"),
                    upper.get("BYTES"),
                )
            )
        return result

    def _columns(self, table: str) -> list[ColumnInfo]:
        columns = []
        for row in self._rows(sql.table_columns(self._loc, table), "table_columns"):
            upper = {str(k).upper(): v for k, v in row.items()}
            sql_type = str(upper["DATA_TYPE"]).upper()
            if sql_type == "NUMBER":
                sql_type = f"NUMBER({upper.get('NUMERIC_PRECISION') or 38},{upper.get('NUMERIC_SCALE') or 0})"
            elif sql_type == "TEXT":
                sql_type = "VARCHAR"
            columns.append(ColumnInfo(str(upper["COLUMN_NAME"]), sql_type, kind_of(sql_type)))
        return columns

    def _table(self, table: str) -> tuple[str, list[ColumnInfo]]:
        name = normalize(table, what="table")
        columns = self._columns(name)
        if not columns:
            raise NotFound(
                f"Table {display(name)} does not exist in {display(self._loc.data_schema)} or is not visible to the role."
            )
        return name, columns

    def _column(self, columns: list[ColumnInfo], text: str, table: str) -> ColumnInfo:
        name = normalize(text, what="column")
        for column in columns:
            if column.name == name:
                return column
        raise NotFound(f"Table {display(table)} has no column {display(name)}.")

    @activity("table_columns")
    def table_columns(self, table: str) -> list[ColumnInfo]:
        return self._table(table)[1]

    @activity("preview")
    def preview(self, table: str, limit: int = 1000) -> pd.DataFrame:
        import pandas as pd

        name, columns = self._table(table)
        rows = self._rows(sql.preview(self._loc, name, min(max(limit, 0), sql.MAX_PREVIEW)), "preview")
        return pd.DataFrame(rows, columns=[c.name for c in columns])

    @activity("profile")
    def profile(self, table: str, *, task: TaskContext | None = None) -> TableProfile:
        task = task or TaskContext()
        name, columns = self._table(table)
        kinds = [(c.name, c.kind) for c in columns]
        row = {
            str(k).upper(): v
            for k, v in self._rows(sql.profile_columns(self._loc, name, kinds), "profile", task)[0].items()
        }
        total = int(row["ROWS"])
        profiles = []
        for i, column in enumerate(columns):
            task.report(i / len(columns), f"Profiling {column.name}")
            count = int(row[f"C_{i}"] or 0)
            stats: dict[str, Any] = {"min": row.get(f"MIN_{i}"), "max": row.get(f"MAX_{i}")}
            if column.kind == "numeric":
                stats = {
                    k: _float(row.get(f"{key}_{i}"))
                    for k, key in (
                        ("mean", "MEAN"),
                        ("std", "STD"),
                        ("min", "MIN"),
                        ("q25", "Q25"),
                        ("median", "MED"),
                        ("q75", "Q75"),
                        ("max", "MAX"),
                    )
                }
                top: list[tuple[str, int]] = []
            else:  # the most common values matter for text and boolean columns only
                top = self._top(name, column.name, 5) if column.kind in ("text", "boolean") else []
            profiles.append(
                ColumnProfile(
                    column.name,
                    column.sql_type,
                    column.kind,
                    count,
                    total - count,
                    int(row[f"D_{i}"] or 0),
                    top_values=top,
                    **stats,
                )
            )
        return TableProfile(name, total, profiles)

    def _top(self, table: str, column: str, limit: int) -> list[tuple[str, int]]:
        return [
            (str(r["VALUE"]), int(r["N"]))
            for r in self._rows(sql.top_values(self._loc, table, column, limit), "top_values")
        ]

    def _nulls(self, table: str, column: str) -> tuple[int, int]:
        row = self._rows(sql.null_and_total(self._loc, table, column), "nulls")[0]
        return int(row["TOTAL"]), int(row["NULLS"])

    @activity("histogram")
    def histogram(self, table: str, column: str, bins: int = 30) -> Histogram:
        if not 1 <= bins <= MAX_BINS:
            raise InvalidInput(f"A histogram has 1 to {MAX_BINS} bins, not {bins}.")
        name, columns = self._table(table)
        col = self._column(columns, column, name)
        if col.kind != "numeric":
            total, nulls = self._nulls(name, col.name)
            top = self._top(name, col.name, bins)
            counts = [n for _, n in top]
            return Histogram(
                name,
                col.name,
                "categorical",
                counts,
                categories=[v for v, _ in top],
                other=total - nulls - sum(counts),
                nulls=nulls,
            )
        bounds = self._rows(sql.numeric_range(self._loc, name, col.name), "histogram")[0]
        lo, hi, nulls = _float(bounds["LO"]), _float(bounds["HI"]), int(bounds["NULLS"])
        if lo is None or hi is None:
            return Histogram(name, col.name, "numeric", [], nulls=nulls)
        if hi == lo:
            lo, hi = lo - 0.5, hi + 0.5
        counts = [0] * bins
        for row in self._rows(sql.histogram_counts(self._loc, name, col.name, bins, lo, hi), "histogram"):
            counts[min(max(int(row["BIN"]), 1), bins) - 1] += int(row["N"])
        width = (hi - lo) / bins
        return Histogram(
            name, col.name, "numeric", counts, edges=[lo + i * width for i in range(bins)] + [hi], nulls=nulls
        )

    @activity("class_balance")
    def class_balance(self, table: str, column: str, limit: int = 50) -> ClassBalance:
        if limit < 1:
            raise InvalidInput(f"The class limit must be at least 1, not {limit}.")
        name, columns = self._table(table)
        col = self._column(columns, column, name)
        total, nulls = self._nulls(name, col.name)
        top = self._top(name, col.name, limit)
        counts = [n for _, n in top]
        return ClassBalance(
            name, col.name, [v for v, _ in top], counts, other=total - nulls - sum(counts), nulls=nulls
        )

    @activity("correlation")
    def correlation(self, table: str, columns: Sequence[str] | None = None, limit: int = 30) -> Correlation:
        name, all_columns = self._table(table)
        if columns is None:
            chosen = [c for c in all_columns if c.kind == "numeric"][: max(limit, 0)]
        else:
            chosen = [self._column(all_columns, text, name) for text in columns]
            bad = [display(c.name) for c in chosen if c.kind != "numeric"]
            if bad:
                raise InvalidInput(
                    f"Correlation needs numeric columns; {', '.join(bad)} in {display(name)} not numeric."
                )
        names = [c.name for c in chosen]
        if len(names) < 2:
            return Correlation(name, names, [[1.0]] if names else [])
        row = self._rows(sql.correlation(self._loc, name, names), "correlation")[0]
        matrix: list[list[float | None]] = [
            [1.0 if i == j else None for j in range(len(names))] for i in range(len(names))
        ]
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                matrix[i][j] = matrix[j][i] = _float(row.get(f"{i}_{j}"))
        return Correlation(name, names, matrix)

    @activity("create_demo_table")
    def create_demo_table(
        self, table: str, rows: int, *, seed: int = 0, replace: bool = False, task: TaskContext | None = None
    ) -> TableInfo:
        """Generate the churn demo table in the warehouse (one CREATE TABLE ... AS over GENERATOR rows;
        CREATE OR REPLACE swaps an old table only on success). Raises InvalidInput, AlreadyExists."""
        from snowml_desktop.core import demo_data

        task = task or TaskContext()
        name = user_table(table, what="table name")
        statement = sql.create_demo_churn_table(
            self._loc, name, rows, seed, replace=replace
        )  # checks rows/seed
        if self._columns(name) and not replace:
            raise AlreadyExists(
                f"The table {display(name)} already exists.", hint="Choose another name, or replace it."
            )
        task.report(0.0, f"Generating {rows:,} rows in Snowflake")
        self._rows(statement, "create_demo_table", task)
        task.report(1.0, f"Generated {rows:,} rows")
        return TableInfo(name, rows, len(demo_data.CHURN_COLUMNS))

    @activity("drop_table")
    def drop_table(self, table: str) -> None:
        user_table(table)  # refused before anything is looked up
        name, _ = self._table(table)
        self._rows(sql.drop_table(self._loc, name), "drop_table")

    # --- models ------------------------------------------------------------------------------------------
    def _request_json(self, request: Any, warehouse: WarehouseState, **extra: Any) -> str:
        state = self._setup_state()
        data = dataclasses.asdict(request)
        data.update(
            database=self._loc.database,
            app_schema=self._loc.app_schema,
            data_schema=self._loc.data_schema,
            warehouse_size=warehouse.size,
            warehouse_type=warehouse.type,
            packages=state.packages.pins(),
            code_imports=[state.code_import],
            udf_stage="@" + self._loc.app("PROCEDURES"),
            **extra,
        )
        return json.dumps(data)

    def _call(
        self,
        procedure: str,
        request_json: str,
        operation: str,
        task: TaskContext | None,
        runner: SqlRunner | None = None,
    ) -> dict[str, Any]:
        from snowml_desktop.engines.snowflake.procedures import decode_result

        statement = sql.call_procedure(self._loc, procedure, request_json)
        rows = self._execute(statement, operation=operation, task=task, runner=runner).rows
        return decode_result(str(next(iter(rows[0].values()))))

    def _next_number(self) -> int:
        return int(self._rows(sql.next_sequence_value(self._loc), "sequence")[0]["N"])

    @contextlib.contextmanager
    def _training_warehouse(
        self, request: TrainRequest, task: TaskContext
    ) -> Iterator[tuple[WarehouseState, SqlRunner | None]]:
        """The warehouse the training call runs on, and the session to send it on (None: the engine's)."""
        if not request.optimized:
            yield self.warehouse(), None
            return
        if request.optimized_mode not in OPTIMIZED_MODES:
            raise InvalidInput(
                f"Unknown optimized mode {request.optimized_mode!r}.", hint="Use convert or dedicated."
            )
        shared = self._require_warehouse()
        preparing = task.sub(0.05, 0.15)
        if request.optimized_mode == "convert":
            with self._guard.converted(shared, task=preparing) as used:
                yield used.to_state(), None
            return
        training = normalize(
            request.training_warehouse or DEFAULT_TRAINING_WAREHOUSE, what="training warehouse"
        )
        with (
            self._guard.dedicated(shared, training, task=preparing) as used,
            self._session_on(training, task) as runner,
        ):
            yield used.to_state(), runner

    @activity("train")
    def train(self, request: TrainRequest, *, task: TaskContext | None = None) -> ModelRecord:
        from snowml_desktop.core.methods import get_method

        task = task or TaskContext()
        method = get_method(request.method)
        normalized = self._with_names(request)
        table = normalized.table
        model_name = f"{method.prefix}_{self._next_number()}"
        task.report(0.05, "Preparing the warehouse")
        with self._training_warehouse(request, task) as (warehouse, runner):
            task.report(0.15, f"Training {model_name} in Snowflake")
            request_json = self._request_json(normalized, warehouse, model_name=model_name)
            try:
                row = self._call("SNOWML_TRAIN", request_json, "train", task, runner)
            except (Cancelled, ConnectionFailed):
                # The procedure was killed (or its answer lost) and may not have undone its own steps.
                self._discard_partial_model(model_name, table)
                raise
        task.report(1.0, f"Trained {model_name}")
        return records.model_from_row(row)

    def _with_names(self, request: Any) -> Any:
        """``request`` (train or compare) with its table checked to exist and every name canonical."""
        table, _ = self._table(request.table)
        features = (
            None if request.features is None else [normalize(f, what="feature") for f in request.features]
        )
        return dataclasses.replace(
            request, table=table, target=normalize(request.target, what="target column"), features=features
        )

    @activity("compare")
    def compare(self, request: CompareRequest, *, task: TaskContext | None = None) -> Comparison:
        """See ``Engine.compare``: one SNOWML_COMPARE call fits methods x folds in the warehouse."""
        from snowml_desktop.core.compare import comparison_from_json
        from snowml_desktop.core.methods import get_method

        task = task or TaskContext()
        normalized = dataclasses.replace(
            self._with_names(request),
            methods=[get_method(m).key for m in request.methods],
            params={get_method(k).key: dict(v) for k, v in request.params.items()},
        )
        task.report(0.05, f"Comparing {len(normalized.methods)} methods in Snowflake")
        row = self._call("SNOWML_COMPARE", self._request_json(normalized, self.warehouse()), "compare", task)
        task.report(1.0, "Compared")
        return comparison_from_json(row)

    def _discard_partial_model(self, model: str, table: str) -> None:
        """Remove whatever a killed SNOWML_TRAIN call left for ``model``: its catalog row (a cancel that came
        too late), UDF, artifact and clone. Best effort: failures are logged, the cancel is what counts."""
        try:
            if self._rows(sql.select_models(self._loc, model), "discard_model"):
                self._rows(sql.delete_model_row(self._loc, model), "discard_model")
            self._drop_model_udf(model)
            self._rows(sql.drop_table_if_exists(self._loc, clone_table(table, model)), "discard_model")
            self._rows(sql.remove_file(self._loc, "MODELS", f"{model}.joblib"), "discard_model")
        except EngineError as exc:
            log.warning("Could not remove all traces of the interrupted model %s: %s", model, exc)

    def _drop_model_udf(self, model: str) -> None:
        """Drop a model's UDF by the signature SHOW USER FUNCTIONS reports (none: nothing to drop)."""
        from snowml_desktop.engines.snowflake import udf

        name = udf.udf_name(model)
        for row in self._rows(sql.show_functions(self._loc, name), "delete_model"):
            lower = {str(k).lower(): v for k, v in row.items()}
            if lower.get("name") != name:
                continue
            # "arguments" looks like PREDICT_M_1(FLOAT, VARCHAR) RETURN VARIANT
            inside = str(lower.get("arguments", "")).split("(", 1)[-1].split(")", 1)[0]
            types = [t.strip() for t in inside.split(",") if t.strip()]
            self._rows(sql.drop_function(self._loc, name, types), "delete_model")

    @activity("list_models")
    def list_models(self) -> list[ModelRecord]:
        return [records.model_from_row(r) for r in self._rows(sql.select_models(self._loc), "list_models")]

    @activity("get_model")
    def get_model(self, name: str) -> ModelRecord:
        return self._model(name)

    def _model(self, name: str) -> ModelRecord:
        canonical = normalize(name, what="model")
        rows = self._rows(sql.select_models(self._loc, canonical), "get_model")
        if not rows:
            raise NotFound(f"No model {display(canonical)} in the catalog.")
        return records.model_from_row(rows[0])

    @activity("check_drift")
    def check_drift(self, model: str, table: str, *, exact: bool = False) -> DriftReport:
        from snowml_desktop.core import drift

        record = self._model(model)
        name, columns = self._table(table)
        names = [c.name for c in columns]
        drift.check_request(record, name, names, exact=exact)
        training = record.training_table
        try:
            self._table(training)
        except NotFound:
            if exact:
                raise
            training = None

        def run(text: str, params: list[Any]) -> list[list[Any]]:
            rows = self._rows(sql.Statement(text, tuple(params)), "check_drift")
            return [list(r.values()) for r in rows]

        return drift.check(
            run,
            record.drift_profile or {},
            self._loc.data(name),
            model=record.name,
            table=name,
            prediction_column="PREDICTION" if "PREDICTION" in names else None,
            training_sql=self._loc.data(training) if training else None,
            training_table=training,
            exact=exact,
        )

    @activity("set_threshold")
    def set_threshold(self, name: str, threshold: float | None) -> ModelRecord:
        """The SNOWML_SCORE procedure reads the catalog row, so the next run applies it in SQL on the UDF's
        result (see ``udf.scoring_columns``); the UDF itself stays as registered."""
        from snowml_desktop.core.threshold import check_threshold

        record = self._model(name)
        value = check_threshold(threshold, record.classes)
        self._rows(sql.update_model_threshold(self._loc, record.name, value), "set_threshold")
        return dataclasses.replace(record, threshold=value)

    @activity("delete_model")
    def delete_model(self, name: str) -> None:
        """Catalog row first (the model disappears at once), then its UDF and artifact file."""
        from snowml_desktop.engines.snowflake import udf

        record = self._model(name)
        self._suspend_schedules_of(record.name, f"Suspended: its model {record.name} was deleted.")
        self._rows(sql.delete_model_row(self._loc, record.name), "delete_model")
        types = udf.argument_sql_types(record.features)
        self._rows(sql.drop_function(self._loc, udf.udf_name(record.name), types), "delete_model")
        artifact = record.artifact_path.rsplit("/", 1)[-1]
        with contextlib.suppress(EngineError):  # a missing file is fine: the row is what made the model exist
            self._rows(sql.remove_file(self._loc, "MODELS", artifact), "delete_model")

    @activity("check_scoring_input")
    def check_scoring_input(self, model: str, table: str) -> list[str]:
        record = self._model(model)
        _, columns = self._table(table)
        present = {c.name for c in columns}
        return [f for f in record.feature_names if f not in present]

    @activity("score")
    def score(self, request: ScoreRequest, *, task: TaskContext | None = None) -> InferenceRun:
        """See ``Engine.score``. The whole operation runs inside ``WarehouseGuard.running`` (a suspended
        warehouse without AUTO_RESUME refuses even the checks' queries), the resize to ``request.size``
        only around the CALL."""
        task = task or TaskContext()
        with self._guard.running(self._require_warehouse(), task=task):
            return self._score(request, task)

    def _score_sample(self, request: ScoreRequest, task: TaskContext) -> InferenceRun:
        with self._guard.running(self._require_warehouse(), task=task):
            return self._score(request, task, internal_output=True)

    def _score(self, request: ScoreRequest, task: TaskContext, *, internal_output: bool = False) -> InferenceRun:
        """``internal_output``: the output is a calibration's table (``__SNOWML_`` name), not a user's."""
        record = self._model(request.model)
        table, columns = self._table(request.table)
        user_columns([c.name for c in columns], table)
        missing = [f for f in record.feature_names if f not in {c.name for c in columns}]
        if missing:
            raise InvalidInput(
                f"Table {display(table)} lacks the model's feature(s) {', '.join(display(m) for m in missing)}.",
                hint=f"Score a table with the columns {record.name} was trained on.",
            )
        self._check_numbers(table, columns, record)
        if internal_output and request.output:
            output = normalize(request.output, what="output table")
        else:
            output = (
                user_table(request.output, what="output table")
                if request.output
                else default_output_table(table, record.name)
            )
        existed = bool(self._columns(output))
        if existed and not request.overwrite:
            raise AlreadyExists(
                f"Table {display(output)} already exists.", hint="Choose another name or allow overwriting."
            )
        normalized = dataclasses.replace(request, model=record.name, table=table, output=output)
        run_id = self._next_number()
        warehouse_name = self._require_warehouse()
        context = (
            self._guard.resized(warehouse_name, request.size, task=task)
            if request.size
            else contextlib.nullcontext(None)
        )
        started = time.perf_counter()
        state: WarehouseState | None = None
        row: dict[str, Any] | None = None
        try:
            with context as used:
                state = used.to_state() if used is not None else self.warehouse()
                task.report(0.1, f"Scoring {display(table)} with {record.name} on {state.size}")
                request_json = self._request_json(normalized, state, run_id=run_id, output=output)
                before = len(getattr(self._local, "query_ids", None) or [])
                row = self._call("SNOWML_SCORE", request_json, "score", task)
                call_ids = list(getattr(self._local, "query_ids", None) or [])[before:]  # the CALL's id
        except (Cancelled, ConnectionFailed) as exc:
            if state is None or row is not None:  # stopped before the CALL, or after its answer came
                raise
            # A killed procedure records nothing; its output, if it got that far, is dropped.
            interrupted = InferenceRun(
                run_id, datetime.now(timezone.utc), record.name, table, None, 0,
                time.perf_counter() - started, 0.0, state.size, state.type, None, 0.0,
                status=RUN_CANCELLED if isinstance(exc, Cancelled) else RUN_FAILED, error=str(exc),
            )  # fmt: skip
            self._record_interrupted_run(interrupted, output, drop_output=not existed)
            raise
        run = records.run_from_row(row)
        # The procedure cannot see its own CALL's id, only its statements' (the CREATE TABLE AS). The CALL is
        # what QUERY_ATTRIBUTION_HISTORY charges the procedure's own Python work to, and the ROOT_QUERY_ID of
        # every statement it ran: keep it first so actual_credits counts the whole call.
        ids = list(dict.fromkeys([*call_ids, *run.query_ids]))
        if ids != run.query_ids:
            run.query_ids = ids
            with contextlib.suppress(EngineError):
                self._rows(sql.update_run_query_ids(self._loc, run.run_id, json.dumps(ids)), "score")
        task.report(1.0, "Scored")
        return run

    def _check_numbers(self, table: str, columns: list[ColumnInfo], record: ModelRecord) -> None:
        """Refuse a table whose column for a numeric feature (by its type in the schema) holds values that are
        not numbers, as the local engine does: they would be scored as missing, silently. Counted in the
        warehouse; a text column of numbers only is fine."""
        from snowml_desktop.core.scoring import mistyped_error, mistyped_features

        types = {c.name: c.sql_type for c in columns}
        for name in mistyped_features({c.name: c.kind for c in columns}, record.features):
            row = self._rows(sql.not_numbers(self._loc, table, name), "score")[0]
            counts = {str(k).upper(): v for k, v in row.items()}
            if counts.get("BAD"):
                raise mistyped_error(
                    name,
                    types[name],
                    table,
                    record.name,
                    bad=int(counts["BAD"]),
                    values=int(counts.get("N") or 0),
                    example=counts.get("EXAMPLE"),
                )

    def _record_interrupted_run(self, run: InferenceRun, output: str, *, drop_output: bool) -> None:
        """After a cancelled (or lost) SNOWML_SCORE call, leave things as before the call: drop the output
        table it created (one it was allowed to overwrite is either untouched or completely replaced, since
        CREATE TABLE AS is atomic), drop the run row it recorded if it finished before the cancel took effect,
        and record ``run`` instead. A run the procedure recorded as failed stays. Best effort: the network may
        be gone, and the user's Cancel is what counts."""
        try:
            recorded = self._rows(sql.select_runs(self._loc, run_id=run.run_id), "score_cancelled")
            if recorded and records.run_from_row(recorded[0]).status != records.RUN_SUCCEEDED:
                return
            if drop_output:
                self._rows(sql.drop_table_if_exists(self._loc, output), "score_cancelled")
            if recorded:
                self._rows(sql.delete_run_row(self._loc, run.run_id), "score_cancelled")
            statement = sql.insert_record(
                self._loc, sql.INFERENCE_RUNS, records.INFERENCE_RUNS_COLUMNS, records.run_to_row(run)
            )
            self._rows(statement, "score_cancelled")
        except EngineError as exc:
            log.warning("Could not record the interrupted run %s: %s", run.run_id, exc)

    @activity("list_runs")
    def list_runs(self, model: str | None = None, table: str | None = None) -> list[InferenceRun]:
        statement = sql.select_runs(
            self._loc,
            model=normalize(model, what="model") if model else None,
            table=normalize(table, what="table") if table else None,
        )
        return [records.run_from_row(r) for r in self._rows(statement, "list_runs")]

    @activity("get_run")
    def get_run(self, run_id: int) -> InferenceRun:
        rows = self._rows(sql.select_runs(self._loc, run_id=int(run_id)), "get_run")
        if not rows:
            raise NotFound(f"No inference run {run_id}.")
        return records.run_from_row(rows[0])

    @activity("actual_credits")
    def actual_credits(self, run_id: int) -> float | None:
        """Replace a run's credit estimate by the credits Snowflake attributed to its queries (the CALL and
        every statement whose ROOT_QUERY_ID it is), once ACCOUNT_USAGE has them (hours later; warehouse idle
        time is never attributed to a query). Returns them, or None when not available yet or the role may
        not read ACCOUNT_USAGE (the estimate stays)."""
        run = self.get_run(run_id)
        if not run.query_ids:
            return None
        try:
            row = self._rows(sql.query_credits(run.query_ids), "actual_credits")[0]
        except (PermissionDenied, NotFound):
            return None
        if not int(row.get("N") or 0) or row.get("CREDITS") is None:
            return None
        credits = float(row["CREDITS"])
        self._rows(sql.update_run_credits(self._loc, run.run_id, credits), "actual_credits")
        return credits

    # --- calibration hooks (see ``Engine.calibrate``) ------------------------------------------------------
    def _calibration_table(self) -> str:
        return f"{INTERNAL_PREFIX}CALIBRATION_{uuid.uuid4().hex.upper()}"

    def _create_sample(self, source: str, rows: int, name: str, *, sampled: bool) -> None:
        self._rows(sql.create_sample_table(self._loc, name, source, rows, sampled=sampled), "calibrate")

    def _drop_calibration_table(self, name: str) -> None:
        self._rows(sql.drop_table_if_exists(self._loc, name), "calibrate")

    def _mark_run(self, run_id: int, kind: str, table: str) -> None:
        self._rows(sql.mark_run(self._loc, run_id, kind, table), "calibrate")

    # --- warehouse ---------------------------------------------------------------------------------------
    def warehouse(self) -> WarehouseState:
        return self._guard.settings(self._require_warehouse()).to_state()

    @activity("set_warehouse")
    def set_warehouse(self, size: str | None = None, type: str | None = None) -> WarehouseState:
        """Change the warehouse for good (the user asked), through ``WarehouseGuard.change``: a type change
        waits for SUSPENDED and leaves the warehouse running or suspended as found; the generation and memory
        option are stated. Raises InvalidInput, PermissionDenied naming the grant Snowflake wants."""
        return self._guard.change(self._require_warehouse(), size=size, warehouse_type=type).to_state()


class _SetupRunner:
    """The SqlRunner setup runs on: the engine's runner, with query ids kept for the Activity log and a
    missing privilege reported as the grant the statement needs."""

    def __init__(self, engine: SnowflakeEngine) -> None:
        self._engine = engine

    def execute(
        self, statement: sql.Statement, *, operation: str, task: TaskContext | None = None
    ) -> QueryResult:
        try:
            return self._engine._execute(statement, operation=operation, task=task)
        except PermissionDenied as error:
            privilege = self._engine._setup_privilege(statement)
            raise self._engine._setup_permission(error, privilege) from None

    def cancel_all(self) -> None:
        self._engine.cancel_all()

    def close(self) -> None:  # the engine owns the connection
        pass


class _DoctorRunner:
    """The SqlRunner the account check runs on: the engine's runner, with query ids kept for the Activity
    log. Only read-only statements pass: the check must never change the account."""

    _READ_ONLY = ("SELECT ", "SHOW ")

    def __init__(self, engine: SnowflakeEngine) -> None:
        self._engine = engine

    def execute(
        self, statement: sql.Statement, *, operation: str, task: TaskContext | None = None
    ) -> QueryResult:
        if not statement.text.startswith(self._READ_ONLY):
            raise EngineError(
                f"Internal error: the account check may only read, not run {statement.text[:40]!r}."
            )
        return self._engine._execute(statement, operation=operation, task=task)

    def cancel_all(self) -> None:
        self._engine.cancel_all()

    def close(self) -> None:  # the engine owns the connection
        pass


def _check_bad_numbers(mode: str) -> None:
    """SNOWML_LOAD types the columns by INFER_SCHEMA, which reads a sample of the file; COPY INTO then rejects
    the rows whose values do not fit (ON_ERROR = CONTINUE, reported as rejections). Finding a column of
    numbers with a few values that are not, and loading it rejecting those rows or with those values NULL,
    is not done on Snowflake: refused rather than ignored."""
    if mode == "text":
        return
    if mode not in BAD_NUMBER_MODES:
        raise InvalidInput(
            f"Unknown setting {mode!r} for values that are not numbers.",
            hint=f"Use one of: {', '.join(BAD_NUMBER_MODES)}.",
        )
    action = "rejecting their rows" if mode == "reject" else "set to NULL"
    raise InvalidInput(
        f"Loading into Snowflake cannot load a column of numbers with values that are not numbers "
        f"{action} (bad numbers: {mode}); nothing was loaded.",
        hint="Load with the default setting (Snowflake types each column from a sample of the file and "
        "reports the rows whose values do not fit as rejected), or load the file with the local engine.",
    )


def _public_plan(plan: setup.BootstrapPlan) -> SetupPlan:
    """The protocol's view of setup's plan: its SQL, with the steps Snowpark runs shown as comments."""
    loc = plan.location
    pins = ", ".join(plan.packages.pins()) if plan.packages else ""
    statements = [s.text for s in plan.statements]
    statements.append(f"-- PUT the app's code (one zip file) to {loc.stage('PROCEDURES')}")
    statements += [
        f"-- CREATE OR REPLACE PROCEDURE {loc.app(name)}(STRING) RETURNS STRING EXECUTE AS CALLER, "
        f"PACKAGES {pins}, IMPORTS the code zip (registered through Snowpark)"
        for name in sql.PROCEDURES
    ]
    statements.append(f"-- MERGE INTO {loc.app(sql.SETUP_STATE)}: the app version and package set")
    return SetupPlan(plan.needed, plan.reason, list(plan.objects), list(plan.privileges), statements)


def _is_snowflake_error(exc: BaseException) -> bool:
    """An error of Snowpark or the connector (an account's answer), as opposed to a bug of ours."""
    from snowflake.connector.errors import Error
    from snowflake.snowpark.exceptions import SnowparkClientException

    return isinstance(exc, (Error, SnowparkClientException))


def _float(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None

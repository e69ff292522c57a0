"""The schedule methods of ``SnowflakeEngine`` (the contracts are ``engines.base.Engine``'s).

Kept apart from ``engine.py`` and mixed into the engine class: they use only the engine's plumbing
(``_rows``, ``_loc``, ``_model``, ``_table``, ``_columns``, ``_request_json``, ``warehouse``). The SQL and the
documentation it follows are in ``engines.snowflake.schedules``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from typing import TYPE_CHECKING, Any

from snowml_desktop.core import schedules as cron_rules
from snowml_desktop.core import sizes
from snowml_desktop.core.errors import AlreadyExists, EngineError, InvalidInput, NotFound, PermissionDenied
from snowml_desktop.core.identifiers import display, normalize, user_columns, user_table
from snowml_desktop.engines.base import Schedule, ScheduleRequest, ScheduleRun, ScoreRequest, activity
from snowml_desktop.engines.snowflake import schedules as ddl
from snowml_desktop.engines.snowflake import sql

if TYPE_CHECKING:
    from snowml_desktop.core.records import ModelRecord

log = logging.getLogger(__name__)


class SnowflakeSchedules:
    """Streams and tasks that score new rows on a schedule. Mixed into ``SnowflakeEngine``."""

    _loc: sql.Location

    if TYPE_CHECKING:  # provided by SnowflakeEngine

        def _rows(
            self, statement: sql.Statement, operation: str, task: Any = None
        ) -> list[dict[str, Any]]: ...
        def _model(self, name: str) -> ModelRecord: ...
        def _table(self, table: str) -> tuple[str, list[Any]]: ...
        def _columns(self, table: str) -> list[Any]: ...
        def _request_json(self, request: Any, warehouse: Any, **extra: Any) -> str: ...
        def _require_warehouse(self) -> str: ...
        def warehouse(self) -> Any: ...

    @activity("create_schedule")
    def create_schedule(self, request: ScheduleRequest) -> Schedule:
        cron = cron_rules.parse_cron(request.cron)
        if request.size and not request.serverless:
            raise InvalidInput(
                "A size is only for serverless schedules.",
                hint="Add --serverless, or leave the size out to run on the connection's warehouse.",
            )
        output = user_table(request.output, what="output table")  # as score: no __SNOWML_ name
        record = self._model(request.model)
        table, columns = self._table(request.table)
        user_columns([c.name for c in columns], table)  # each run scores the table's rows as score does
        missing = [f for f in record.feature_names if f not in {c.name for c in columns}]
        if missing:
            raise InvalidInput(
                f"Table {display(table)} lacks the model's feature(s) {', '.join(display(m) for m in missing)}.",
                hint=f"Schedule a table with the columns {record.name} was trained on.",
            )
        if output == table:
            raise InvalidInput(
                "The output table cannot be the table being scored.", hint="Choose another name."
            )
        output_columns = self._columns(output)
        user_columns([c.name for c in output_columns], output)  # an existing output gets rows appended
        name = ddl.task_name(
            record.name, table, normalize(request.name, what="schedule name") if request.name else None
        )
        if any(s.name == name for s in self.list_schedules()):
            raise AlreadyExists(
                f"A schedule named {display(name)} exists.", hint="Drop it first or choose another name."
            )
        self._require_schedule_privileges(request.serverless)
        size = sizes.parse_size(request.size) if request.size else None
        plan = ddl.Plan(
            task=name,
            stream=ddl.stream_name(name),
            model=record.name,
            table=table,
            output=output,
            cron=cron,
            warehouse=None if request.serverless else self._require_warehouse(),
            size=size,
            initial_rows=not output_columns,
        )
        state = self.warehouse()
        if size is not None:
            state = dataclasses.replace(state, size=size.label)
        call = ScoreRequest(record.name, table, output)
        call_json = self._request_json(call, state, output=output, source_stream=self._loc.app(plan.stream))
        created: list[sql.Statement] = []
        try:
            self._rows(ddl.create_stream(self._loc, plan), "create_schedule")
            created.append(ddl.drop_stream(self._loc, plan.stream))
            self._rows(ddl.create_task(self._loc, plan, call_json), "create_schedule")
            created.insert(0, ddl.drop_task(self._loc, plan.task))
            self._rows(ddl.alter_task_state(self._loc, plan.task, True), "create_schedule")
        except BaseException:
            for undo in created:  # leave nothing half made
                with contextlib.suppress(EngineError):
                    self._rows(undo, "create_schedule_undo")
            raise
        return self._schedule(name)

    def _require_schedule_privileges(self, serverless: bool) -> None:
        """Raise PermissionDenied naming every privilege no role of the session holds. When the role may not
        list grants, the statements themselves are the check (Snowflake names what is missing)."""
        try:
            on_account = self._rows(ddl.show_grants_on_account(), "check_privileges")
            on_schema = self._rows(ddl.show_grants_on_schema(self._loc), "check_privileges")
        except PermissionDenied:
            return
        missing = []
        for privilege, where in ddl.needed_privileges(serverless):
            roles = sorted(ddl.granted_roles(on_account if where == "ACCOUNT" else on_schema, privilege))
            held = roles and any(
                bool(v) for v in self._rows(sql.roles_in_session(roles), "check_privileges")[0].values()
            )
            if not held:
                missing.append((privilege, where))
        if missing:
            names = ", ".join(f"{p} on the {'account' if w == 'ACCOUNT' else 'schema'}" for p, w in missing)
            raise PermissionDenied(
                f"The current role lacks {names}, which a schedule needs.",
                hint=ddl.grant_hint(missing, self._loc),
            )

    @activity("list_schedules")
    def list_schedules(self) -> list[Schedule]:
        found = [ddl.schedule_from_row(r) for r in self._rows(ddl.show_tasks(self._loc), "list_schedules")]
        return sorted((s for s in found if s is not None), key=lambda s: s.name)

    def _schedule(self, name: str) -> Schedule:
        canonical = normalize(name, what="schedule name")
        for schedule in self.list_schedules():
            if schedule.name in (canonical, ddl.TASK_PREFIX + canonical):
                return schedule
        raise NotFound(f"No schedule {display(canonical)}.", hint="List them with `snowml schedule list`.")

    @activity("set_schedule_state")
    def set_schedule_state(self, name: str, active: bool, reason: str | None = None) -> Schedule:
        schedule = self._schedule(name)
        if active:
            self._check_model_fits(schedule)
        plan_comment = _comment(schedule, None if active else reason)
        if active:  # set the comment first so a resumed task never shows an old reason
            self._rows(ddl.set_task_comment(self._loc, schedule.name, plan_comment), "set_schedule_state")
            self._rows(ddl.alter_task_state(self._loc, schedule.name, True), "set_schedule_state")
        else:
            self._rows(ddl.alter_task_state(self._loc, schedule.name, False), "set_schedule_state")
            self._rows(ddl.set_task_comment(self._loc, schedule.name, plan_comment), "set_schedule_state")
        return self._schedule(schedule.name)

    def _check_model_fits(self, schedule: Schedule) -> None:
        try:
            record = self._model(schedule.model)
        except NotFound:
            raise InvalidInput(
                f"Schedule {display(schedule.name)} scores with model {display(schedule.model)}, which was deleted.",
                hint="Drop the schedule and create one with another model.",
            ) from None
        present = {c.name for c in self._columns(schedule.table)}
        missing = [f for f in record.feature_names if f not in present]
        if missing:
            raise InvalidInput(
                f"Table {display(schedule.table)} no longer has the feature(s) "
                f"{', '.join(display(m) for m in missing)} of model {display(record.name)}.",
                hint="Restore the columns, or drop the schedule and create one for a model that fits.",
            )

    @activity("run_schedule_now")
    def run_schedule_now(self, name: str) -> None:
        schedule = self._schedule(name)
        self._check_model_fits(schedule)
        self._rows(ddl.execute_task(self._loc, schedule.name), "run_schedule_now")

    @activity("drop_schedule")
    def drop_schedule(self, name: str) -> None:
        schedule = self._schedule(name)
        self._rows(ddl.drop_task(self._loc, schedule.name), "drop_schedule")
        if schedule.stream:
            self._rows(ddl.drop_stream(self._loc, schedule.stream), "drop_schedule")

    @activity("schedule_history")
    def schedule_history(self, name: str, limit: int = 50) -> list[ScheduleRun]:
        schedule = self._schedule(name)
        rows = self._rows(ddl.task_history(self._loc, schedule.name, limit), "schedule_history")
        return [ddl.run_from_row(r) for r in rows]

    def _suspend_schedules_of(self, model: str, reason: str) -> list[str]:
        """Suspend every started schedule scoring with ``model``, recording ``reason``; return their names.
        Best effort per schedule: a failure is logged and the others are still suspended."""
        suspended = []
        with contextlib.suppress(EngineError):
            for schedule in self.list_schedules():
                if schedule.model != model or schedule.state != "started":
                    continue
                try:
                    self._rows(ddl.alter_task_state(self._loc, schedule.name, False), "delete_model")
                    self._rows(
                        ddl.set_task_comment(self._loc, schedule.name, _comment(schedule, reason)),
                        "delete_model",
                    )
                    suspended.append(schedule.name)
                except EngineError as exc:
                    log.warning("Could not suspend schedule %s: %s", schedule.name, exc)
        return suspended


def _comment(schedule: Schedule, reason: str | None) -> str:
    """The task comment of ``schedule`` with ``reason`` (same bookkeeping fields as at creation)."""
    plan = ddl.Plan(
        task=schedule.name,
        stream=schedule.stream or ddl.stream_name(schedule.name),
        model=schedule.model,
        table=schedule.table,
        output=schedule.output,
        cron=cron_rules.parse_cron(schedule.cron),
        warehouse=schedule.warehouse,
        size=sizes.parse_size(schedule.size) if schedule.size else None,
        initial_rows=False,
    )
    return plan.comment(reason)

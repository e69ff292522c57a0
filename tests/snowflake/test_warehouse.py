"""WarehouseGuard: conversion and resizing are always undone, by ``finally`` or by the journal's replay.

The session is a test double of the account (sf_fake_account), which stands in for the network; failures are
injected at every statement of each operation.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from tests.snowflake.sf_fake_account import FakeAccount, FakeWarehouse

from snowml_desktop.core.connections import config_dir
from snowml_desktop.core.errors import (
    Cancelled,
    ConnectionFailed,
    EngineError,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.engines.snowflake import sql
from snowml_desktop.engines.snowflake.warehouse import (
    Journal,
    SuspendWait,
    WarehouseGuard,
    WarehouseSettings,
    parse_show_warehouses,
    read_warehouse,
    training_settings,
)

ORIGINAL = ("XSMALL", "STANDARD", "1")


def _snapshot(account: FakeAccount, name: str = "WH") -> tuple:
    w = account.warehouses[name]
    return (w.size, w.type, w.generation)


def _guard(account: FakeAccount, **wait) -> WarehouseGuard:
    """A guard whose waits pass on the account's clock."""
    return WarehouseGuard(
        account, account="acct", role="ANALYST", wait=SuspendWait(sleep=account.sleep, **wait)
    )


def _train(account: FakeAccount, body=None, task: TaskContext | None = None, **options) -> None:
    with _guard(account).converted("WH", task=task, **options) as used:
        assert account.warehouses["WH"].type == "SNOWPARK-OPTIMIZED"
        assert used.size == account.warehouses["WH"].size
        account.execute(sql.call_procedure(sql.Location("DB"), "SNOWML_TRAIN", "{}"), operation="train")
        if body:
            body()


def _set_statements(account: FakeAccount) -> list[str]:
    return [s.text for s in account.log if s.text.startswith('ALTER WAREHOUSE "WH" SET')]


def test_convert_switches_and_restores_with_a_journal_meanwhile() -> None:
    account = FakeAccount()
    seen = []
    _train(account, lambda: seen.append(Journal("acct").read("WH")))
    assert seen[0] == WarehouseSettings(
        "WH", "XSMALL", "STANDARD", "STARTED", "STANDARD_GEN_1", "1", auto_resume=True, auto_suspend=600
    )
    # Back as it was, and running as it was found.
    assert _snapshot(account) == ORIGINAL and account.warehouses["WH"].state == "STARTED"
    assert Journal("acct").pending() == []
    texts = [s.text for s in account.log]
    assert 'ALTER WAREHOUSE "WH" SUSPEND' in texts
    assert texts[-4:] == [
        "ALTER WAREHOUSE \"WH\" SET WAREHOUSE_TYPE = STANDARD WAREHOUSE_SIZE = XSMALL GENERATION = '1'",
        "SHOW WAREHOUSES LIKE 'WH'",  # checked before the journal goes
        "SHOW WAREHOUSES LIKE 'WH'",  # suspended now, running when found
        'ALTER WAREHOUSE "WH" RESUME IF SUSPENDED',
    ]


# --- 1. generation --------------------------------------------------------------------------------------


def test_generation_is_read_from_the_generation_column_or_the_older_resource_constraint() -> None:
    row = {"name": "WH", "size": "Small", "type": "STANDARD", "state": "STARTED", "auto_resume": "false"}
    new = parse_show_warehouses([{**row, "generation": "2", "resource_constraint": None}], "WH")
    old = parse_show_warehouses([{**row, "resource_constraint": "STANDARD_GEN_2"}], "WH")
    neither = parse_show_warehouses([row], "WH")
    assert (new.generation, old.generation, neither.generation) == ("2", "2", None)
    assert (new.auto_resume, new.auto_suspend) == (False, None)
    account = FakeAccount(warehouses={"WH": FakeWarehouse("SMALL", generation="2", auto_suspend=60)})
    read = read_warehouse(account, "WH")  # what an account check reads
    assert (read.size, read.type, read.generation, read.auto_resume, read.auto_suspend) == (
        "SMALL", "STANDARD", "2", True, 60,
    )  # fmt: skip


def test_a_gen2_warehouse_is_restored_with_the_generation_clause() -> None:
    """Bundle 2026_02: RESOURCE_CONSTRAINT = STANDARD_GEN_2 can no longer be set; GENERATION = '2' can."""
    account = FakeAccount(warehouses={"WH": FakeWarehouse("SMALL", "STANDARD", "STARTED", "STANDARD_GEN_2")})
    _train(account)
    assert _snapshot(account) == ("SMALL", "STANDARD", "2")
    assert "GENERATION = '2'" in _set_statements(account)[-1]
    assert Journal("acct").pending() == []


def test_an_account_without_the_generation_clause_falls_back_to_resource_constraint() -> None:
    account = FakeAccount(
        warehouses={"WH": FakeWarehouse("SMALL", "STANDARD", "STARTED", "STANDARD_GEN_2")},
        bundles=frozenset(),
        accepts_generation=False,
    )
    _train(account)
    assert _snapshot(account) == ("SMALL", "STANDARD", "2")
    assert _set_statements(account)[-1].endswith("RESOURCE_CONSTRAINT = STANDARD_GEN_2")


def test_a_gen1_warehouse_stays_gen1_when_altering_without_generation_would_make_it_gen2() -> None:
    """Bundle 2026_03: an ALTER that leaves the generation out may move Gen1 to Gen2, so every ALTER of a
    standard warehouse states it: the conversion back, and a resize for scoring."""
    account = FakeAccount()
    _train(account)
    with _guard(account).resized("WH", "LARGE"):
        assert _snapshot(account) == ("LARGE", "STANDARD", "1")
    assert _snapshot(account) == ORIGINAL
    standard = [t for t in _set_statements(account) if "SNOWPARK" not in t]
    assert standard and all("GENERATION = '1'" in t for t in standard)


# --- 2. a type change needs SUSPENDED ---------------------------------------------------------------------


def test_conversion_waits_until_running_statements_have_finished() -> None:
    account = FakeAccount()
    account.busy("WH", 40)  # another user's query: SUSPEND lets it finish
    progress = []
    _train(account, task=TaskContext(progress=lambda f, text: progress.append(text)))
    assert _snapshot(account) == ORIGINAL and account.clock >= 40
    assert any("Waiting for warehouse WH" in text for text in progress)


def test_an_auto_resume_before_the_type_change_is_waited_out_and_retried() -> None:
    account = FakeAccount()
    # Just before the type change another user's query arrives and auto-resumes the warehouse.
    account.interject(r"SET WAREHOUSE_TYPE = 'SNOWPARK", lambda: account.busy("WH", 20))
    _train(account)
    assert len([t for t in _set_statements(account) if "'SNOWPARK-OPTIMIZED'" in t]) == 2
    assert _snapshot(account) == ORIGINAL and Journal("acct").pending() == []


def test_waiting_for_suspended_is_bounded_and_leaves_the_warehouse_unchanged() -> None:
    account = FakeAccount()
    account.busy("WH", 10_000)
    guard = _guard(account, timeout=60)
    with pytest.raises(EngineError, match="still finishing running statements"), guard.converted("WH"):
        pytest.fail("the body must not run")
    assert _snapshot(account) == ORIGINAL and Journal("acct").pending() == []
    assert account.warehouses["WH"].state == "STARTED"  # the SUSPEND given up on is taken back


def test_waiting_for_suspended_is_cancellable() -> None:
    account = FakeAccount()
    account.busy("WH", 10_000)
    task = TaskContext()
    account.interject(r"^SHOW WAREHOUSES", lambda: None)  # first read
    account.interject(r"^SHOW WAREHOUSES", lambda: None)  # after SUSPEND: still finishing
    account.interject(r"^SHOW WAREHOUSES", task.token.cancel)  # the user cancels while we wait
    with pytest.raises(Cancelled), _guard(account).converted("WH", task=task):
        pytest.fail("the body must not run")
    assert _snapshot(account) == ORIGINAL and Journal("acct").pending() == []
    assert account.warehouses["WH"].state == "STARTED"


@pytest.mark.parametrize("state", ["SUSPENDED", "STARTED"])
def test_a_warehouse_without_auto_resume_is_resumed_for_the_call_and_left_as_found(state: str) -> None:
    account = FakeAccount(warehouses={"WH": FakeWarehouse(state=state, auto_resume=False)})
    _train(account)  # the CALL inside would be refused on a suspended warehouse without AUTO_RESUME
    assert _snapshot(account) == ORIGINAL and account.warehouses["WH"].state == state


# --- 3. memory option ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("option", "size"), [(None, "MEDIUM"), ("memory_1x", "XSMALL")])
def test_conversion_always_states_the_memory_option(option: str | None, size: str) -> None:
    account = FakeAccount(bundles=frozenset({"2025_07"}))  # any account: not a matter of bundles
    seen = []
    _train(
        account, lambda: seen.append(account.warehouses["WH"].resource_constraint), resource_constraint=option
    )
    convert = next(t for t in _set_statements(account) if "'SNOWPARK-OPTIMIZED'" in t)
    expected = (option or "MEMORY_16X").upper()
    assert convert.endswith(f"WAREHOUSE_SIZE = {size} RESOURCE_CONSTRAINT = {expected}")
    assert seen == [expected]


# --- 10. privileges ---------------------------------------------------------------------------------------


def test_modify_through_manage_warehouses_is_not_refused_beforehand() -> None:
    """SHOW GRANTS ON WAREHOUSE lists only USAGE; MANAGE WAREHOUSES on the account allows the change."""
    account = FakeAccount(
        grants={"WH": [("USAGE", "ANALYST")]}, account_grants=[("MANAGE WAREHOUSES", "WH_ADMIN")]
    )
    account.session_roles.add("WH_ADMIN")  # inherited by the session's role
    assert _guard(account).check_privilege("WH").allowed is None  # not seen: unknown, not "no"
    _train(account)
    assert _snapshot(account) == ORIGINAL and Journal("acct").pending() == []


def test_a_refused_change_names_the_grant_and_changes_nothing() -> None:
    account = FakeAccount(grants={"WH": [("USAGE", "ANALYST"), ("MODIFY", "SYSADMIN")]})
    with pytest.raises(PermissionDenied, match="lacks MODIFY") as info:
        _train(account)
    assert 'GRANT MODIFY ON WAREHOUSE "WH" TO ROLE "ANALYST"' in info.value.hint
    assert "MANAGE WAREHOUSES" in info.value.hint
    assert not any("SUSPEND" in s.text for s in account.log)  # refused before anything changed
    assert _snapshot(account) == ORIGINAL and account.warehouses["WH"].state == "STARTED"
    assert Journal("acct").pending() == []
    inherited = FakeAccount(
        grants={"WH": [("MODIFY", "SYSADMIN"), ("OPERATE", "SYSADMIN")]}, session_roles={"SYSADMIN"}
    )
    _train(inherited)  # a role in the session's hierarchy holds MODIFY and OPERATE
    assert _snapshot(inherited) == ORIGINAL


def test_a_restore_that_does_not_take_keeps_the_journal() -> None:
    """Snowflake accepts the ALTER but the warehouse is not as it was (e.g. someone changed it meanwhile)."""
    account = FakeAccount()
    account.answer(r"^ALTER WAREHOUSE .* SET WAREHOUSE_TYPE = STANDARD", [])  # accepted, but nothing changes
    with pytest.raises(EngineError, match="after restoring"):
        _train(account)
    assert Journal("acct").pending()[0].type == "STANDARD"
    healthy = FakeAccount(warehouses=account.warehouses)
    WarehouseGuard(healthy, account="acct").replay()
    assert _snapshot(healthy) == ORIGINAL and Journal("acct").pending() == []


def _steps(run) -> int:
    account = FakeAccount()
    run(account)
    return len(account.log)


@pytest.mark.parametrize("mode", ["transient", "dead"])
def test_failure_at_each_step_of_convert_restores_or_leaves_a_journal(mode: str) -> None:
    total = _steps(_train)
    assert total >= 8
    for step in range(total):
        account = FakeAccount(**({"fail_at": step} if mode == "transient" else {"dead_from": step}))
        with contextlib.suppress(EngineError):
            _train(account)
        journal = Journal("acct").pending()
        if _snapshot(account) != ORIGINAL:
            assert journal and (journal[0].size, journal[0].type) == ORIGINAL[:2], (
                f"step {step}: nothing to replay"
            )
        # The next connect (network back) replays whatever is left.
        healthy = FakeAccount(warehouses=account.warehouses)
        WarehouseGuard(healthy, account="acct").replay()
        assert _snapshot(healthy) == ORIGINAL, f"step {step} ({mode})"
        assert Journal("acct").pending() == []


def _score(account: FakeAccount) -> None:
    guard = _guard(account)
    with guard.resized("WH", "Large"):
        assert account.warehouses["WH"].size == "LARGE"
        account.execute(sql.call_procedure(sql.Location("DB"), "SNOWML_SCORE", "{}"), operation="score")


@pytest.mark.parametrize("mode", ["transient", "dead"])
def test_failure_at_each_step_of_resize_restores_or_leaves_a_journal(mode: str) -> None:
    total = _steps(_score)
    for step in range(total):
        account = FakeAccount(**({"fail_at": step} if mode == "transient" else {"dead_from": step}))
        with pytest.raises(EngineError):
            _score(account)
        if _snapshot(account) != ORIGINAL:
            assert Journal("acct").pending(), f"step {step}"
        healthy = FakeAccount(warehouses=account.warehouses)
        WarehouseGuard(healthy, account="acct").replay()
        assert _snapshot(healthy) == ORIGINAL and Journal("acct").pending() == []


def test_resize_waits_for_completion_and_skips_when_size_is_right() -> None:
    account = FakeAccount()
    _score(account)
    assert any("WAIT_FOR_COMPLETION = TRUE" in s.text for s in account.log)
    assert _snapshot(account) == ORIGINAL
    quiet = FakeAccount()
    with WarehouseGuard(quiet, account="acct").resized("WH", "x-small"):
        pass
    assert [s.text for s in quiet.log] == ["SHOW WAREHOUSES LIKE 'WH'"]


def test_crash_leaves_journal_that_next_connect_replays() -> None:
    account = FakeAccount()

    class Crash(BaseException):
        """The process dying: finally blocks run, but the network is already gone."""

    guard = WarehouseGuard(account, account="acct")
    with pytest.raises(Crash), guard.converted("WH"):
        account.dead_from = len(account.log)
        raise Crash()
    assert account.warehouses["WH"].type == "SNOWPARK-OPTIMIZED"
    files = list((config_dir() / "warehouse-journal").glob("*.json"))
    entry = json.loads(files[0].read_text())
    assert (entry["warehouse"], entry["operation"], entry["original"]["size"]) == ("WH", "convert", "XSMALL")
    healthy = FakeAccount(warehouses=account.warehouses)
    messages = WarehouseGuard(healthy, account="acct").replay()
    assert "restored to X-Small STANDARD" in messages[0]
    assert _snapshot(healthy) == ORIGINAL


def test_other_accounts_journal_is_left_alone(tmp_path: Path) -> None:
    Journal("other").write(WarehouseSettings("WH", "LARGE", "STANDARD", "STARTED"), "resize")
    account = FakeAccount()
    assert WarehouseGuard(account, account="acct").replay() == []
    assert len(Journal("other").pending()) == 1 and account.log == []


def test_leftover_journal_is_restored_before_a_new_change() -> None:
    account = FakeAccount(warehouses={"WH": FakeWarehouse("LARGE", "STANDARD", "SUSPENDED")})
    Journal("acct").write(
        WarehouseSettings("WH", "XSMALL", "STANDARD", "STARTED", "STANDARD_GEN_1"), "resize"
    )
    with WarehouseGuard(account, account="acct").resized("WH", "MEDIUM"):
        assert account.warehouses["WH"].size == "MEDIUM"
    assert account.warehouses["WH"].size == "XSMALL"  # the true original, not the leftover LARGE


def test_dedicated_mode_creates_the_warehouse_and_never_changes_the_sessions_warehouse() -> None:
    account = FakeAccount()
    guard = _guard(account)
    with guard.dedicated("WH", "ML_TRAIN_WH") as used:
        assert used.type == "SNOWPARK-OPTIMIZED" and used.size == "MEDIUM"
        assert used.resource_constraint == "MEMORY_16X"  # stated when created
    assert account.current_warehouse == "WH"
    assert not any(s.text.startswith("USE WAREHOUSE") for s in account.log)
    assert _snapshot(account) == ORIGINAL and account.warehouses["WH"].state == "STARTED"
    assert account.warehouses["ML_TRAIN_WH"].state == "SUSPENDED"
    assert not any(s.text.startswith('ALTER WAREHOUSE "WH"') for s in account.log)
    account.warehouses["STD"] = FakeWarehouse()
    with pytest.raises(InvalidInput, match="not Snowpark-optimized"), guard.dedicated("WH", "STD"):
        pass
    account.warehouses["MANUAL"] = FakeWarehouse(
        "MEDIUM", "SNOWPARK-OPTIMIZED", "SUSPENDED", "MEMORY_16X", auto_resume=False
    )
    with guard.dedicated("WH", "MANUAL"):
        assert account.warehouses["MANUAL"].state == "STARTED"  # resumed for the call
    assert account.warehouses["MANUAL"].state == "SUSPENDED"  # and left as found


def test_training_sizes_follow_the_memory_options() -> None:
    small = WarehouseSettings("WH", "XSMALL", "STANDARD", "STARTED")
    assert training_settings(small, None, None) == ("MEDIUM", "MEMORY_16X")
    assert training_settings(small, None, "memory_1x") == ("XSMALL", "MEMORY_1X")
    assert training_settings(WarehouseSettings("WH", "XLARGE", "STANDARD", "STARTED"), None, None) == (
        "XLARGE",
        "MEMORY_16X",
    )
    with pytest.raises(InvalidInput, match="at least Large"):
        training_settings(small, "MEDIUM", "MEMORY_64X")
    optimized = WarehouseSettings("SO", "XSMALL", "SNOWPARK-OPTIMIZED", "STARTED", "MEMORY_1X")
    assert training_settings(optimized, None, None) == ("XSMALL", "MEMORY_1X")  # its own option is kept


def test_show_warehouses_rows_are_matched_exactly() -> None:
    rows = [
        {"name": "WH_1", "size": "Large", "type": "STANDARD", "state": "STARTED"},
        {
            "name": "WH",
            "size": "2X-Large",
            "type": "SNOWPARK-OPTIMIZED",
            "state": "SUSPENDED",
            "resource_constraint": "MEMORY_16X",
        },
    ]
    settings = parse_show_warehouses(rows, "WH")
    assert (settings.size, settings.type, settings.resource_constraint) == (
        "XXLARGE",
        "SNOWPARK-OPTIMIZED",
        "MEMORY_16X",
    )
    state = settings.to_state()
    assert (state.size, state.credits_per_hour) == ("2X-Large", 48.0)
    with pytest.raises(NotFound, match="USAGE"):
        parse_show_warehouses(rows, "wh")
    shown = [{"name": "SO", "size": "Medium", "type": "SNOWPARK-OPTIMIZED", "state": "STARTED"}]
    shown[0]["resource_constraint"] = "MEMORY_16X_X86"  # SHOW's case: kept in the builder's spelling
    assert parse_show_warehouses(shown, "SO").resource_constraint == "MEMORY_16X_x86"
    shown[0]["resource_constraint"] = "SOMETHING_NEW"  # undocumented: kept as shown, never set by restore
    assert parse_show_warehouses(shown, "SO").resource_constraint == "SOMETHING_NEW"


def test_journal_write_failure_changes_nothing(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    account = FakeAccount()
    guard = WarehouseGuard(account, account="acct", journal=Journal("acct", blocked / "journal"))
    with pytest.raises(EngineError, match="nothing was changed"), guard.resized("WH", "LARGE"):
        pass
    assert not any(s.text.startswith("ALTER") for s in account.log)
    assert isinstance(ConnectionFailed("x"), EngineError)


def test_a_journal_of_another_running_app_is_not_replayed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A second app instance must not restore a warehouse the first one is still using."""
    import subprocess
    import sys

    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with monkeypatch.context() as patch:  # the entry looks written by the other process
            patch.setattr("os.getpid", lambda: other.pid)
            Journal("acct").write(WarehouseSettings("WH", "XSMALL", "STANDARD", "STARTED"), "convert")
        account = FakeAccount(
            warehouses={"WH": FakeWarehouse("MEDIUM", "SNOWPARK-OPTIMIZED", "STARTED", "MEMORY_16X")}
        )
        guard = WarehouseGuard(account, account="acct")
        assert guard.replay() == [] and account.warehouses["WH"].type == "SNOWPARK-OPTIMIZED"
        with pytest.raises(EngineError, match=f"process {other.pid}"), guard.resized("WH", "LARGE"):
            pass
        assert not any(s.text.startswith("ALTER") for s in account.log)
    finally:
        other.kill()
        other.wait()
    assert WarehouseGuard(FakeAccount(warehouses=account.warehouses), account="acct").replay()  # owner gone


def test_the_fake_account_decides_by_documented_rules_not_by_engine_code() -> None:
    """Every rule the fake applies cites Snowflake's documentation, and the fake imports from the engine only
    the statement type and the runner's result/error types, never a helper deciding what is accepted."""
    import ast

    from tests.snowflake import sf_fake_account

    assert all(
        rule.source.startswith("https://docs.snowflake.com/") for rule in sf_fake_account.RULES.values()
    )
    tree = ast.parse(Path(sf_fake_account.__file__).read_text(encoding="utf-8"))
    imported = {
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("snowml_desktop")
        for alias in node.names
    }
    assert imported == {
        ("snowml_desktop.core.errors", "ConnectionFailed"),
        ("snowml_desktop.core.errors", "EngineError"),
        ("snowml_desktop.core.errors", "PermissionDenied"),
        ("snowml_desktop.engines.snowflake", "sql"),  # Statement and its verify marks only
        ("snowml_desktop.engines.snowflake.session", "QueryResult"),
    }
    used = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and getattr(node.value, "id", "") == "sql"
    }
    assert used <= {"Statement", "PARSED"}, used
    # Each refusal names its rule.
    account = FakeAccount()
    with pytest.raises(EngineError) as info:
        account.execute(sql.alter_warehouse_set("WH", warehouse_type="SNOWPARK-OPTIMIZED"), operation="x")
    assert info.value.rule == "type_change_needs_suspended"

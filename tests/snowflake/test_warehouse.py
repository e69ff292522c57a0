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
from snowml_desktop.core.errors import ConnectionFailed, EngineError, InvalidInput, NotFound, PermissionDenied
from snowml_desktop.engines.snowflake import sql
from snowml_desktop.engines.snowflake.warehouse import (
    Journal,
    WarehouseGuard,
    WarehouseSettings,
    parse_show_warehouses,
    training_settings,
)

ORIGINAL = ("XSMALL", "STANDARD", "STANDARD_GEN_1")


def _snapshot(account: FakeAccount, name: str = "WH") -> tuple:
    w = account.warehouses[name]
    return (w.size, w.type, w.resource_constraint)


def _train(account: FakeAccount, body=None) -> None:
    guard = WarehouseGuard(account, account="acct")
    with guard.converted("WH") as used:
        assert account.warehouses["WH"].type == "SNOWPARK-OPTIMIZED"
        assert used.size == "MEDIUM"  # MEMORY_16X (the default) needs Medium or larger
        account.execute(sql.call_procedure(sql.Location("DB"), "SNOWML_TRAIN", "{}"), operation="train")
        if body:
            body()


def test_convert_switches_and_restores_with_a_journal_meanwhile() -> None:
    account = FakeAccount()
    seen = []
    _train(account, lambda: seen.append(Journal("acct").read("WH")))
    assert seen[0] == WarehouseSettings("WH", "XSMALL", "STANDARD", "STARTED", "STANDARD_GEN_1")
    assert _snapshot(account) == ORIGINAL and account.warehouses["WH"].state == "SUSPENDED"
    assert Journal("acct").pending() == []
    texts = [s.text for s in account.log]
    assert 'ALTER WAREHOUSE "WH" SUSPEND' in texts
    assert "ALTER WAREHOUSE \"WH\" SET WAREHOUSE_TYPE = 'SNOWPARK-OPTIMIZED' WAREHOUSE_SIZE = MEDIUM" in texts
    assert texts[-2:] == [
        'ALTER WAREHOUSE "WH" SET WAREHOUSE_TYPE = STANDARD WAREHOUSE_SIZE = XSMALL '
        "RESOURCE_CONSTRAINT = STANDARD_GEN_1",
        "SHOW WAREHOUSES LIKE 'WH'",  # checked before the journal goes
    ]


def test_a_generation_2_warehouse_comes_back_as_generation_2() -> None:
    account = FakeAccount(warehouses={"WH": FakeWarehouse("SMALL", "STANDARD", "STARTED", "STANDARD_GEN_2")})
    _train(account)
    assert _snapshot(account) == ("SMALL", "STANDARD", "STANDARD_GEN_2")
    assert Journal("acct").pending() == []


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
    guard = WarehouseGuard(account, account="acct")
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


def test_missing_modify_privilege_is_explained_before_any_change() -> None:
    account = FakeAccount(grants={"WH": [("USAGE", "ANALYST"), ("MODIFY", "SYSADMIN")]})
    with pytest.raises(PermissionDenied, match="lacks MODIFY on warehouse 'WH'.*GRANT MODIFY"):
        _train(account)
    assert not any(s.text.startswith("ALTER") for s in account.log)
    assert Journal("acct").pending() == []
    inherited = FakeAccount(grants={"WH": [("MODIFY", "SYSADMIN")]}, session_roles={"SYSADMIN"})
    _train(inherited)  # a role in the session's hierarchy holds MODIFY
    assert _snapshot(inherited) == ORIGINAL


def test_dedicated_mode_uses_a_separate_warehouse_and_leaves_shared_untouched() -> None:
    account = FakeAccount()
    guard = WarehouseGuard(account, account="acct")
    with guard.dedicated("WH", "ML_TRAIN_WH") as used:
        assert account.current_warehouse == "ML_TRAIN_WH"
        assert used.type == "SNOWPARK-OPTIMIZED" and used.size == "MEDIUM"
    assert account.current_warehouse == "WH"
    assert _snapshot(account) == ORIGINAL and account.warehouses["WH"].state == "STARTED"
    assert account.warehouses["ML_TRAIN_WH"].state == "SUSPENDED"
    assert not any(s.text.startswith('ALTER WAREHOUSE "WH"') for s in account.log)
    account.warehouses["STD"] = FakeWarehouse()
    with pytest.raises(InvalidInput, match="not Snowpark-optimized"), guard.dedicated("WH", "STD"):
        pass


def test_dedicated_mode_switches_back_when_the_call_fails() -> None:
    account = FakeAccount()
    with pytest.raises(RuntimeError), WarehouseGuard(account, account="acct").dedicated("WH", "ML_TRAIN_WH"):
        raise RuntimeError("train failed")
    assert account.current_warehouse == "WH"


def test_training_sizes_follow_the_memory_options() -> None:
    small = WarehouseSettings("WH", "XSMALL", "STANDARD", "STARTED")
    assert training_settings(small, None, None) == ("MEDIUM", None)
    assert training_settings(small, None, "memory_1x") == ("XSMALL", "MEMORY_1X")
    assert training_settings(WarehouseSettings("WH", "XLARGE", "STANDARD", "STARTED"), None, None) == (
        "XLARGE",
        None,
    )
    with pytest.raises(InvalidInput, match="at least Large"):
        training_settings(small, "MEDIUM", "MEMORY_64X")


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

"""Engines behind one protocol (``engines.base.Engine``): the embedded local warehouse and Snowflake.

Engine modules are imported lazily so that opening the local engine never imports Snowpark.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from snowml_desktop.core.connections import LOCAL

if TYPE_CHECKING:
    from snowml_desktop.core.connections import AskSecret
    from snowml_desktop.engines.base import Engine


def open_engine(
    connection: str | None = None,
    *,
    workspace: Path | None = None,
    memory_limit: int | None = None,
    ask: AskSecret | None = None,
    passcode: str | None = None,
    replay_journal: bool = True,
) -> Engine:
    """Open the engine for a saved connection name; None or "local" opens the embedded engine.

    ``workspace`` overrides the local workspace folder (else ``SNOWML_HOME``, else the user data dir);
    ``memory_limit`` (bytes) bounds the local warehouse's memory (else ``core.memory.default_memory_limit()``).
    ``ask`` is called for a Snowflake secret found nowhere; ``passcode`` is an MFA code.
    ``replay_journal`` False: connect without restoring warehouses a crash left changed (an account
    check reports them instead of changing anything).
    Raises NotFound for an unknown connection, ConnectionFailed when it cannot connect, InvalidInput for
    a memory limit below ``core.memory.MIN_MEMORY_LIMIT``.
    """
    if connection is None or connection.strip().lower() == LOCAL:
        from snowml_desktop.engines.local.engine import LocalEngine

        return LocalEngine(workspace, memory_limit=memory_limit)
    from snowml_desktop.engines.snowflake.engine import SnowflakeEngine

    return SnowflakeEngine.from_connection(
        connection, ask=ask, passcode=passcode, replay_journal=replay_journal
    )

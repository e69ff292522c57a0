import threading

import pytest

from snowml_desktop.core.errors import Cancelled
from snowml_desktop.core.tasks import CancelToken, TaskContext


def test_report_clamps_and_forwards_progress() -> None:
    seen: list[tuple[float, str]] = []
    task = TaskContext(progress=lambda f, t: seen.append((f, t)))
    task.report(1.5, "done")
    task.sub(0.5, 1.0).report(0.5, "half of the second half")
    assert seen == [(1.0, "done"), (0.75, "half of the second half")]


def test_cancel_runs_callbacks_once_and_raises_at_next_check() -> None:
    token = CancelToken()
    calls: list[str] = []
    token.on_cancel(lambda: calls.append("interrupt"))
    unregister = token.on_cancel(lambda: calls.append("removed"))
    unregister()
    thread = threading.Thread(target=token.cancel)
    thread.start()
    thread.join()
    token.cancel()
    assert calls == ["interrupt"]
    with pytest.raises(Cancelled):
        TaskContext(token).report(0.1, "step")


def test_callback_registered_after_cancel_runs_immediately() -> None:
    token = CancelToken()
    token.cancel()
    calls: list[int] = []
    token.on_cancel(lambda: calls.append(1))
    assert calls == [1]

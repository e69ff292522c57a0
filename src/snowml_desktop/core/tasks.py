"""Progress reporting and cancellation for long engine calls, without Qt.

A :class:`TaskContext` is handed to every long engine call. The engine reports progress through it and
checks for cancellation between chunks of work. Engines that run something cancellable outside Python
(a SQL statement, a worker process) register a callback with :meth:`CancelToken.on_cancel`, so that a
cancel from the GUI thread interrupts it at once instead of at the next check.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from snowml_desktop.core.errors import Cancelled

ProgressFn = Callable[[float, str], None]


class CancelToken:
    """A thread-safe, one-way cancellation flag with callbacks."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        """Set the flag and run the registered callbacks once (from the calling thread)."""
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Run ``callback`` when cancelled (at once if already cancelled). Returns an unregister function."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return lambda: self._discard(callback)
        callback()
        return lambda: None

    def _discard(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


def _ignore_progress(fraction: float, text: str) -> None:
    """Progress sink for callers that do not watch progress."""


@dataclass
class TaskContext:
    """What a long call gets: where to report progress and how to learn it was cancelled."""

    token: CancelToken = field(default_factory=CancelToken)
    progress: ProgressFn = _ignore_progress

    def report(self, fraction: float, text: str) -> None:
        """Report ``fraction`` (0..1) done with a short stage text, then honour a pending cancel."""
        self.progress(min(max(fraction, 0.0), 1.0), text)
        self.token.raise_if_cancelled()

    def check(self) -> None:
        self.token.raise_if_cancelled()

    def sub(self, start: float, end: float) -> TaskContext:
        """A context whose 0..1 maps onto ``start..end`` of this one: for steps of a larger job."""
        span = end - start
        return TaskContext(self.token, lambda f, text: self.progress(start + span * f, text))

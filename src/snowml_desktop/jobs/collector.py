"""Python's cyclic garbage collector, run on the GUI thread only.

Left automatic, the collector runs on whichever thread happens to allocate when a threshold is crossed —
often a job's worker thread. If the cycle it frees holds a Qt object (a widget captured by a slot, a
QObject owned by a Python wrapper), that object's destructor then runs off the GUI thread, which Qt does
not allow and which can crash the process. So automatic collection is switched off and a timer on the GUI
thread collects instead, generation by generation, with the thresholds the interpreter would have used.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer

INTERVAL_MS = 500  # cycles are few in this app; half a second bounds how long garbage waits


class GuiThreadCollector(QObject):
    """Owns the collection of reference cycles while it lives; ``stop`` gives it back to the interpreter.
    Create it on the GUI thread."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.collect_due)
        self._timer.start()

    def collect_due(self) -> int:
        """Collect the oldest generation whose count is over its threshold (as the interpreter would);
        returns the number of objects found unreachable."""
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self._thresholds[generation]:
                return gc.collect(generation)
        return 0

    def stop(self) -> None:
        self._timer.stop()
        if self._was_enabled:
            gc.enable()


_running: GuiThreadCollector | None = None


def ensure_running() -> None:
    """Start the one collector of this process (a child of the QApplication, so it lives as long), once a
    QApplication exists; the job manager calls this before it starts any worker thread."""
    global _running
    app = QCoreApplication.instance()
    if _running is None and app is not None:
        _running = GuiThreadCollector(app)
        _running.destroyed.connect(_forget)


def _forget() -> None:
    """The QApplication (and so the collector) is gone: hand collection back to the interpreter."""
    global _running
    _running = None
    gc.enable()

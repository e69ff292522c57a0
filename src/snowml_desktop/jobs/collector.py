"""Python's cyclic garbage collector, run on the GUI thread only.

Left automatic, the collector runs on whichever thread happens to allocate when a threshold is crossed —
often a job's worker thread. If the cycle it frees holds a Qt object (a widget captured by a slot, a
QObject owned by a Python wrapper), that object's destructor then runs off the GUI thread, which Qt does
not allow and which can crash the process. So automatic collection is switched off and a timer on the GUI
thread collects instead, generation by generation, with the rules the interpreter would have used: its
thresholds, and its limit on full collections, which walk every object of the app (0.5 s for 180,000
objects on the loaded 2-core build machine: a stall of the GUI). CPython runs one only when the objects that
reached the oldest generation since the last one are at least a quarter of those it kept then
(``gcmodule.c``: ``long_lived_pending < long_lived_total / 4`` skips it). To count those objects without
walking them all, what a full collection keeps is frozen (``gc.freeze``: the oldest generation then holds
only the newcomers) and unfrozen for the next full collection.
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
        # What exists at start (imported modules, mostly) counts as kept by a full collection.
        gc.freeze()
        self._long_lived = gc.get_freeze_count()  # objects a full collection kept (frozen until the next one)
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.collect_due)
        self._timer.start()

    def collect_due(self) -> int:
        """Collect the oldest generation whose count is over its threshold, the oldest one only when it grew
        by a quarter since its last collection (as the interpreter would); returns the number of objects
        found unreachable."""
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] <= self._thresholds[generation]:
                continue
            if generation == 2:
                if len(gc.get_objects(generation=2)) < self._long_lived / 4:
                    continue
                return self._collect_all()
            return gc.collect(generation)
        return 0

    def _collect_all(self) -> int:
        gc.unfreeze()
        found = gc.collect(2)
        gc.freeze()
        self._long_lived = gc.get_freeze_count()
        return found

    def stop(self) -> None:
        self._timer.stop()
        gc.unfreeze()
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
    gc.unfreeze()
    gc.enable()

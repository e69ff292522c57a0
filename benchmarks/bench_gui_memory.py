"""Memory benchmark of the desktop app (issue 3): GUI process memory while browsing a 10M-row table in the
Analyze panel.

Target: flat. The panel only ever receives bounded results (a 1,000-row preview, a profile, histogram
bins, class counts, a correlation matrix), so memory must not grow with the table nor with browsing.

The real main window (offscreen, every panel built) runs on a throw-away local workspace holding a
churn-like table made by ``snowml demo big`` and the small breast-cancer demo table. Each browse cycle, as
a user would: select the big table and wait for every view (preview, statistics, histogram, class balance,
correlation), look at each tab, scroll and sort the preview, draw the histogram of every column, count the
classes of two label columns, then select the small table. The resident set size (RSS) of the process
is sampled every 50 ms (it includes the embedded DuckDB engine, which runs in this process).

Run:  python benchmarks/bench_gui_memory.py [--rows 10000000] [--cycles 5]
Prints the RSS before, after each cycle and at its peak, the growth per cycle (median of the cycles after
the first) and how the peak compares with the table's size as plain 8-byte values.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))  # the isolated, real main window of scripts/screenshots.py

import screenshots  # noqa: E402

BIG = "CHURN_BIG"
SMALL = "BREAST_CANCER"
LABEL_COLUMNS = ("CHURNED", "CONTRACT")
MB = 1024 * 1024
screenshots.WAIT_MS = 30 * 60_000  # profiling 10M rows on a busy machine can take minutes


def rss_bytes() -> int:
    """This process's resident set size, from /proc (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("VmRSS not found in /proc/self/status")


class PeakSampler:
    """Samples RSS every 50 ms on a plain thread (no Qt) and keeps the peak since the last reset."""

    def __init__(self) -> None:
        self.peak = rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, rss_bytes())

    def reset(self) -> None:
        self.peak = rss_bytes()

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def prepare(workspace: Path, rows: int) -> None:
    """The big table (``snowml demo big``) and the small demo table (``snowml load``), by the CLI."""
    started = time.perf_counter()
    for command in (
        ["demo", "big", "--rows", str(rows), "--table", BIG],
        ["load", "LOAD_DATA/BREAST_CANCER.csv", "--table", SMALL],
    ):
        subprocess.run(["snowml", "--workspace", str(workspace), *command], check=True, capture_output=True)
    print(f"made {BIG} ({rows:,} rows) and {SMALL} in {time.perf_counter() - started:.1f} s")


def browse(session: screenshots.Session, sampler: PeakSampler) -> tuple[float, dict[str, int]]:
    """One browse cycle (see the module docstring); returns the seconds until the big table's views
    were all shown, and the peak RSS of each step (the views, each histogram, the class counts)."""
    peaks: dict[str, int] = {}

    def step(name: str) -> None:
        peaks[name] = sampler.peak
        sampler.reset()

    window = session.window
    analyze = window.panel("analyze")
    started = time.perf_counter()
    window.navigate("analyze", BIG)
    session.wait(lambda: analyze.current_table() == BIG, f"{BIG} to be selected")
    charts = (analyze.histogram, analyze.balance_chart, analyze.correlation_chart)
    session.wait(
        lambda: analyze.preview_model.total_rows() > 0 and all(chart.message() == "" for chart in charts),
        f"every view of {BIG}",
    )
    shown = time.perf_counter() - started
    step("views")
    for index in range(analyze.tabs.count()):
        analyze.tabs.setCurrentIndex(index)
        screenshots.pause(30)
    analyze.tabs.setCurrentIndex(0)
    analyze.preview_view.scrollToBottom()
    analyze.preview_view.sortByColumn(1, analyze.preview_view.horizontalHeader().sortIndicatorOrder())
    screenshots.pause(30)
    analyze.tabs.setCurrentIndex(1)
    for index in range(analyze.histogram_combo.count()):
        analyze.histogram_combo.setCurrentIndex(index)
        column = analyze.histogram_combo.currentText()
        session.wait(lambda: analyze.histogram.message() == "", f"the histogram of {column}")
        step(f"histogram {column}")
    analyze.tabs.setCurrentIndex(2)
    for column in LABEL_COLUMNS:
        analyze.label_combo.setCurrentIndex(analyze.label_combo.findData(column))
        session.wait(lambda: analyze.balance_chart.message() == "", f"the class balance of {column}")
        step(f"balance {column}")
    analyze.select_table(SMALL)
    session.wait(lambda: analyze.current_table() == SMALL, f"{SMALL} to be selected")
    session.settle()
    step("small table")
    return shown, peaks


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--cycles", type=int, default=5)
    args = parser.parse_args(argv)
    if args.cycles < 3:
        parser.error("--cycles must be at least 3 (the growth is the median over the cycles after the first)")
    print(f"load average before: {load_average()}")
    with tempfile.TemporaryDirectory(prefix="bench_gui_memory_") as tmp:
        root = Path(tmp)
        prepare(root / "workspace", args.rows)
        with screenshots.demo_session(root) as session, PeakSampler() as sampler:
            before = rss_bytes()
            print(f"RSS with the window open, before browsing: {before / MB:,.0f} MB")
            after, peaks, shown, steps = [], [], [], {}
            for cycle in range(args.cycles):
                sampler.reset()
                seconds, step_peaks = browse(session, sampler)
                shown.append(seconds)
                after.append(rss_bytes())
                peaks.append(max(step_peaks.values()))
                for name, peak in step_peaks.items():
                    steps.setdefault(name, []).append(peak)
                print(
                    f"cycle {cycle + 1}: views shown in {shown[-1]:.1f} s; RSS after {after[-1] / MB:,.0f} MB, "
                    f"peak {peaks[-1] / MB:,.0f} MB"
                )
    print("median peak RSS of each step:")
    for name, values in steps.items():
        print(f"    {name:<32} {statistics.median(values) / MB:7,.0f} MB")
    growth = [(b - a) / MB for a, b in zip(after, after[1:], strict=False)]
    table_mb = args.rows * 14 * 8 / MB  # the demo table's 14 columns as plain 8-byte values
    print(f"median time to every view of {BIG}: {statistics.median(shown):.1f} s")
    print(
        f"RSS growth per cycle after the first (median): {statistics.median(growth):+.1f} MB (each: "
        f"{', '.join(f'{g:+.1f}' for g in growth)})"
    )
    print(
        f"RSS first cycle -> last cycle: {(after[-1] - after[0]) / MB:+.1f} MB; before -> max peak: "
        f"{(max(peaks) - before) / MB:+.1f} MB"
    )
    print(
        f"max peak over the table's plain size ({table_mb:,.0f} MB): {(max(peaks) - before) / MB / table_mb:.2f}"
    )
    print(f"load average after: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Startup benchmark of the desktop app (issue 3): time from process start to the main window shown.

Target: <= 1.5 s from launching ``snowml-desktop`` to an exposed main window.

Each repeat launches the real app in a fresh process (``python -m snowml_desktop.app --quit-after-show``,
on a fresh config dir and workspace, so that nothing is remembered from the last run) and waits for the
line the app prints once its window is exposed. Two figures per run:

- *process start -> shown*: from just before the process is spawned to that line (interpreter start,
  imports, building and showing the window) — the figure the target is about;
- *in-process*: what the app itself measured from entering ``run_gui`` (after the interpreter started).

A first, unmeasured launch warms the disk cache. The platform is offscreen unless ``--platform`` says
otherwise (e.g. ``xcb`` on a Linux desktop).

Run:  python benchmarks/bench_gui_startup.py [--repeats 5] [--platform offscreen]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 1.5
MARKER = "window-shown"
TIMEOUT_SECONDS = 60


def launch_once(root: Path, platform: str) -> tuple[float, float]:
    """Launch the app once on fresh locations inside ``root``; (process start -> shown, in-process) s."""
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM=platform,
        SNOWML_HOME=str(root / "workspace"),
        SNOWML_CONFIG_DIR=str(root / "config"),
        SNOWML_LOG_DIR=str(root / "logs"),
        SNOWFLAKE_HOME=str(root / "snowflake"),
        XDG_CONFIG_HOME=str(root / "xdg-config"),
        XDG_DATA_HOME=str(root / "xdg-data"),
    )
    command = [
        sys.executable,
        "-m",
        "snowml_desktop.app",
        "--quit-after-show",
        "--workspace",
        str(root / "ws"),
    ]
    started = time.perf_counter()
    with subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as child:
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith(MARKER):
                shown = time.perf_counter() - started
                in_process = float(line.split()[1])
                break
        else:
            child.wait(TIMEOUT_SECONDS)
            raise RuntimeError(
                f"The app exited ({child.returncode}) without showing its window: {child.stderr.read()}"
            )
        child.wait(TIMEOUT_SECONDS)
    return shown, in_process


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--platform", default=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    args = parser.parse_args(argv)
    print(f"load average before: {load_average()}; platform {args.platform}")
    with tempfile.TemporaryDirectory(prefix="bench_gui_startup_") as tmp:
        warm, _ = launch_once(Path(tmp) / "warm-up", args.platform)
        print(f"warm-up launch: {warm:.3f} s (not counted)")
        shown, in_process = [], []
        for run in range(args.repeats):
            total, inside = launch_once(Path(tmp) / f"run{run}", args.platform)
            shown.append(total)
            in_process.append(inside)
            print(f"run {run + 1}: process start -> shown {total:.3f} s (in-process {inside:.3f} s)")
    median = statistics.median(shown)
    print(f"median process start -> shown: {median:.3f} s (min {min(shown):.3f}, max {max(shown):.3f})")
    print(f"median in-process (run_gui -> shown): {statistics.median(in_process):.3f} s")
    print(f"ratio to target ({TARGET_SECONDS} s): {median / TARGET_SECONDS:.2f}  (<= 1.00 meets it)")
    print(f"load average after: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

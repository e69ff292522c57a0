"""Schedules: a cron expression checked once, and the texts that make the user's OS scheduler run a command.

The local engine has no server to run a schedule when the app is closed, so the app writes the schedule for
the scheduler the user already has — a crontab line, a systemd ``--user`` timer and service, a Windows
Task Scheduler ``schtasks`` command, or a launchd agent plist — with the exact ``snowml`` command. These
functions only build text; nothing here installs anything.

A cron expression is the five POSIX fields ``minute hour day-of-month month day-of-week``. The crontab line
takes any valid one; the other schedulers get the common shapes they can express exactly: a fixed minute
and hour (or every hour), optionally on given days of the week or one day of the month.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from snowml_desktop.core.errors import InvalidInput

SCHEDULERS = ("cron", "systemd", "schtasks", "launchd")
SCHEDULER_LABELS = {
    "cron": "cron (crontab line)",
    "systemd": "systemd user timer",
    "schtasks": "Windows Task Scheduler",
    "launchd": "launchd agent (macOS)",
}
_FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
)
_DAY_NAMES = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
_SCHTASKS_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_CRON_HINT = 'Five fields: minute hour day-of-month month day-of-week, e.g. "0 2 * * *" (every day at 02:00).'


@dataclass(frozen=True)
class Cron:
    """A checked cron expression; ``fields`` are the five fields as typed (whitespace normalized)."""

    fields: tuple[str, str, str, str, str]

    @property
    def text(self) -> str:
        return " ".join(self.fields)


@dataclass(frozen=True)
class SchedulerText:
    """What to give one OS scheduler: files to write (name -> content, may be empty) and the commands that
    install them, for the user to run."""

    scheduler: str
    files: dict[str, str]
    install: list[str]

    def as_text(self) -> str:
        """One block to show and copy: each file under a comment naming it, then the install commands."""
        parts = [f"# --- {name} ---\n{content.rstrip()}\n" for name, content in self.files.items()]
        if self.install:
            parts.append("# --- install (run yourself) ---\n" + "\n".join(self.install) + "\n")
        return "\n".join(parts)


def parse_cron(text: str) -> Cron:
    """Check a five-field cron expression (numbers, ``*``, ``a-b``, lists and ``/step``). Raises
    InvalidInput naming the bad field."""
    fields = text.split()
    if len(fields) != 5:
        raise InvalidInput(f"The schedule {text!r} has {len(fields)} fields, not 5.", hint=_CRON_HINT)
    for value, (name, low, high) in zip(fields, _FIELDS, strict=True):
        for item in value.split(","):
            _check_item(item, name, low, high, text)
    return Cron(tuple(fields))  # type: ignore[arg-type]


def _check_item(item: str, name: str, low: int, high: int, text: str) -> None:
    base, _, step = item.partition("/")
    numbers = [] if base == "*" else base.split("-")
    if step and not (step.isdigit() and int(step) > 0):
        raise InvalidInput(f"The {name} field of {text!r} has a bad step {step!r}.", hint=_CRON_HINT)
    if len(numbers) > 2 or not all(n.isdigit() and low <= int(n) <= high for n in numbers):
        raise InvalidInput(
            f"The {name} field of {text!r} has {item!r}; it takes numbers {low}-{high}, *, ranges a-b, "
            "lists a,b and steps /n.",
            hint=_CRON_HINT,
        )


def _simple(cron: Cron, scheduler: str) -> tuple[int, int | None, list[int], int | None]:
    """(minute, hour or None for every hour, weekdays 0-6 (empty: every day), day of month or None) for the
    schedulers that cannot take every cron expression. Raises InvalidInput naming what they cannot do."""
    minute, hour, dom, month, dow = cron.fields
    hint = (
        f"{SCHEDULER_LABELS[scheduler]} gets a fixed minute and hour (or every hour), optionally on days of "
        'the week ("0 2 * * 1-5") or one day of the month ("0 2 1 * *"). Use the crontab line for other '
        "schedules."
    )
    if not minute.isdigit() or not (hour.isdigit() or hour == "*") or month != "*":
        raise InvalidInput(
            f"The schedule {cron.text!r} cannot be written for {SCHEDULER_LABELS[scheduler]}.", hint=hint
        )
    if dom != "*" and (dow != "*" or not dom.isdigit()):
        raise InvalidInput(
            f"The schedule {cron.text!r} cannot be written for {SCHEDULER_LABELS[scheduler]}.", hint=hint
        )
    days: set[int] = set()
    if dow != "*":
        for item in dow.split(","):
            if "/" in item:
                raise InvalidInput(
                    f"The schedule {cron.text!r} cannot be written for {SCHEDULER_LABELS[scheduler]}.",
                    hint=hint,
                )
            first, _, last = item.partition("-")
            days.update(d % 7 for d in range(int(first), int(last or first) + 1))
    return int(minute), (int(hour) if hour != "*" else None), sorted(days), (int(dom) if dom != "*" else None)


def cron_line(cron: Cron, command: Sequence[str]) -> str:
    """A crontab line (``crontab -e``) running ``command``; cron runs it with ``/bin/sh``."""
    return f"{cron.text} {shlex.join(command)}"


def systemd_units(cron: Cron, command: Sequence[str], name: str) -> dict[str, str]:
    """``<name>.service`` and ``<name>.timer`` for ``systemctl --user``; ``Persistent=true`` runs a missed
    schedule at the next boot."""
    minute, hour, days, dom = _simple(cron, "systemd")
    weekdays = ",".join(_DAY_NAMES[d] for d in days) + " " if days else ""
    calendar = f"{weekdays}*-*-{f'{dom:02d}' if dom else '*'} {f'{hour:02d}' if hour is not None else '*'}:{minute:02d}:00"
    service = (
        "[Unit]\n"
        f"Description=snowml scheduled scoring ({name})\n\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"ExecStart={shlex.join(command)}\n"
    )
    timer = (
        "[Unit]\n"
        f"Description=Run {name}.service on schedule {cron.text}\n\n"
        "[Timer]\n"
        f"OnCalendar={calendar}\n"
        "Persistent=true\n\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )
    return {f"{name}.service": service, f"{name}.timer": timer}


def schtasks_command(cron: Cron, command: Sequence[str], name: str) -> str:
    """A ``schtasks /Create`` command line for Windows Task Scheduler (cmd.exe quoting)."""
    minute, hour, days, dom = _simple(cron, "schtasks")
    if hour is None:
        timing = ["/SC", "HOURLY", "/ST", f"00:{minute:02d}"]
    elif days:
        timing = [
            "/SC",
            "WEEKLY",
            "/D",
            ",".join(_SCHTASKS_DAYS[d] for d in days),
            "/ST",
            f"{hour:02d}:{minute:02d}",
        ]
    elif dom:
        timing = ["/SC", "MONTHLY", "/D", str(dom), "/ST", f"{hour:02d}:{minute:02d}"]
    else:
        timing = ["/SC", "DAILY", "/ST", f"{hour:02d}:{minute:02d}"]
    if dom and hour is None:
        raise InvalidInput(
            f"The schedule {cron.text!r} cannot be written for {SCHEDULER_LABELS['schtasks']}.",
            hint="Windows Task Scheduler runs hourly schedules every day; use a fixed hour with a day of the month.",
        )
    run = subprocess.list2cmdline(list(command))
    return subprocess.list2cmdline(["schtasks", "/Create", "/TN", name, "/TR", run, *timing, "/F"])


def launchd_plist(cron: Cron, command: Sequence[str], label: str) -> str:
    """A launchd agent plist (``~/Library/LaunchAgents/<label>.plist``) with StartCalendarInterval."""
    minute, hour, days, dom = _simple(cron, "launchd")
    base = {"Minute": minute, **({"Hour": hour} if hour is not None else {}), **({"Day": dom} if dom else {})}
    intervals = [{**base, "Weekday": d} for d in days] or [base]
    dicts = "\n".join(
        "    <dict>\n"
        + "".join(f"      <key>{k}</key><integer>{v}</integer>\n" for k, v in item.items())
        + "    </dict>"
        for item in intervals
    )
    arguments = "\n".join(f"    <string>{escape(part)}</string>" for part in command)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n'
        '<plist version="1.0">\n<dict>\n'
        f"  <key>Label</key>\n  <string>{escape(label)}</string>\n"
        f"  <key>ProgramArguments</key>\n  <array>\n{arguments}\n  </array>\n"
        f"  <key>StartCalendarInterval</key>\n  <array>\n{dicts}\n  </array>\n"
        "</dict>\n</plist>\n"
    )


def scheduler_text(scheduler: str, cron: Cron, command: Sequence[str], name: str) -> SchedulerText:
    """The files and install commands for ``scheduler`` (one of :data:`SCHEDULERS`). ``name`` names the
    job (letters, digits, ``-``, ``_`` and ``.``). Raises InvalidInput."""
    if not name or not all(c.isalnum() or c in "-_." for c in name):
        raise InvalidInput(
            f"The job name {name!r} is not usable.", hint="Use letters, digits, '-', '_' and '.'."
        )
    if scheduler == "cron":
        line = cron_line(cron, command)
        return SchedulerText("cron", {}, [f"(crontab -l 2>/dev/null; echo {shlex.quote(line)}) | crontab -"])
    if scheduler == "systemd":
        units = systemd_units(cron, command, name)
        return SchedulerText(
            "systemd",
            units,
            [
                f"cp {name}.service {name}.timer ~/.config/systemd/user/",
                "systemctl --user daemon-reload",
                f"systemctl --user enable --now {name}.timer",
            ],
        )
    if scheduler == "schtasks":
        return SchedulerText("schtasks", {}, [schtasks_command(cron, command, name)])
    if scheduler == "launchd":
        label = f"com.snowml.{name}"
        return SchedulerText(
            "launchd",
            {f"{label}.plist": launchd_plist(cron, command, label)},
            [
                f"cp {label}.plist ~/Library/LaunchAgents/",
                f"launchctl load ~/Library/LaunchAgents/{label}.plist",
            ],
        )
    raise InvalidInput(f"Unknown scheduler {scheduler!r}.", hint=f"Schedulers: {', '.join(SCHEDULERS)}.")


def snowml_program() -> list[str]:
    """How a scheduler starts ``snowml``: the installed script's full path (schedulers run with a bare
    PATH), else this Python running the CLI module."""
    found = shutil.which("snowml")
    return [str(Path(found).resolve())] if found else [sys.executable, "-m", "snowml_desktop.cli"]


def score_command(
    program: Sequence[str],
    workspace: str,
    model: str,
    table: str,
    output: str,
    size: str | None = None,
    *,
    overwrite: bool = False,
) -> list[str]:
    """The command a local schedule runs: incremental scoring of ``table`` into ``output``. ``overwrite``
    lets the first run replace an ``output`` that exists but was not written incrementally (later runs
    append)."""
    command = [
        *program,
        "--workspace",
        workspace,
        "score",
        "--incremental",
        "--model",
        model,
        "--table",
        table,
    ]
    command += ["--output", output] + (["--size", size] if size else [])
    return command + (["--overwrite"] if overwrite else [])

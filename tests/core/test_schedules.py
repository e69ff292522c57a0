"""Scheduler texts for local schedules: cron checking and the four OS schedulers' formats."""

from __future__ import annotations

import plistlib
import shlex

import pytest

from snowml_desktop.core import schedules
from snowml_desktop.core.errors import InvalidInput

COMMAND = schedules.score_command(
    ["/opt/snowml bin/snowml"], "/home/u/my ws", "RANDOM_FOREST_1", "CHURN", "CHURN_SCORED", "Small"
)


def test_score_command_is_the_incremental_cli_call():
    assert COMMAND == [
        "/opt/snowml bin/snowml", "--workspace", "/home/u/my ws", "score", "--incremental",
        "--model", "RANDOM_FOREST_1", "--table", "CHURN", "--output", "CHURN_SCORED", "--size", "Small",
    ]  # fmt: skip


def test_snowml_program_is_an_absolute_script_or_this_python(monkeypatch, tmp_path):
    monkeypatch.setattr(schedules.shutil, "which", lambda name: None)
    assert schedules.snowml_program() == [schedules.sys.executable, "-m", "snowml_desktop.cli"]
    script = tmp_path / "snowml"
    script.write_text("")
    monkeypatch.setattr(schedules.shutil, "which", lambda name: "snowml" if name == "snowml" else None)
    monkeypatch.chdir(tmp_path)
    assert schedules.snowml_program() == [str(script.resolve())]


@pytest.mark.parametrize(
    "text", ["0 2 * * *", "*/15 * * * *", "0 2 * * 1-5", "5,35 8-18 1 1,6 0", " 0  2 * * * "]
)
def test_valid_cron_expressions_are_accepted(text):
    assert schedules.parse_cron(text).text == " ".join(text.split())


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("0 2 * *", "4 fields"),
        ("60 2 * * *", "minute field"),
        ("0 24 * * *", "hour field"),
        ("0 2 0 * *", "day of month field"),
        ("0 2 * 13 *", "month field"),
        ("0 2 * * 8", "day of week field"),
        ("*/0 * * * *", "bad step"),
        ("a 2 * * *", "minute field"),
    ],
)
def test_bad_cron_expressions_name_the_field(text, words):
    with pytest.raises(InvalidInput, match=words):
        schedules.parse_cron(text)


def test_cron_line_quotes_the_command_for_sh():
    line = schedules.cron_line(schedules.parse_cron("0 2 * * *"), COMMAND)
    assert line.startswith("0 2 * * * ")
    assert shlex.split(line)[5:] == COMMAND  # sh splits it back into exactly the command


def test_systemd_daily_timer_and_oneshot_service():
    units = schedules.systemd_units(schedules.parse_cron("30 2 * * *"), COMMAND, "snowml-churn")
    assert set(units) == {"snowml-churn.service", "snowml-churn.timer"}
    assert "OnCalendar=*-*-* 02:30:00\n" in units["snowml-churn.timer"]
    assert "Persistent=true" in units["snowml-churn.timer"]
    exec_line = next(x for x in units["snowml-churn.service"].splitlines() if x.startswith("ExecStart="))
    assert shlex.split(exec_line.removeprefix("ExecStart=")) == COMMAND


@pytest.mark.parametrize(
    ("cron", "calendar"),
    [("0 2 * * 1-5", "Mon,Tue,Wed,Thu,Fri *-*-* 02:00:00"), ("15 * * * *", "*-*-* *:15:00"),
     ("0 6 1 * *", "*-*-01 06:00:00"), ("0 6 * * 7", "Sun *-*-* 06:00:00")],
)  # fmt: skip
def test_systemd_calendar_shapes(cron, calendar):
    timer = schedules.systemd_units(schedules.parse_cron(cron), COMMAND, "j")["j.timer"]
    assert f"OnCalendar={calendar}\n" in timer


@pytest.mark.parametrize(
    ("cron", "timing"),
    [("0 2 * * *", "/SC DAILY /ST 02:00"), ("0 2 * * 1,3", "/SC WEEKLY /D MON,WED /ST 02:00"),
     ("10 * * * *", "/SC HOURLY /ST 00:10"), ("0 4 15 * *", "/SC MONTHLY /D 15 /ST 04:00")],
)  # fmt: skip
def test_schtasks_command(cron, timing):
    line = schedules.schtasks_command(schedules.parse_cron(cron), COMMAND, "snowml-churn")
    assert line.startswith("schtasks /Create /TN snowml-churn /TR ")
    assert line.endswith(f"{timing} /F")
    # the program path with a space is quoted inside the /TR argument
    assert '\\"/opt/snowml bin/snowml\\"' in line


def test_launchd_plist_parses_and_carries_the_command():
    text = schedules.launchd_plist(schedules.parse_cron("0 2 * * 1,2"), COMMAND, "com.snowml.churn")
    plist = plistlib.loads(text.encode())
    assert plist["Label"] == "com.snowml.churn"
    assert plist["ProgramArguments"] == COMMAND
    assert plist["StartCalendarInterval"] == [
        {"Minute": 0, "Hour": 2, "Weekday": 1},
        {"Minute": 0, "Hour": 2, "Weekday": 2},
    ]


@pytest.mark.parametrize("scheduler", ["systemd", "schtasks", "launchd"])
@pytest.mark.parametrize("cron", ["*/15 * * * *", "0 2 * 6 *", "0 2 1 * 1"])
def test_schedules_a_scheduler_cannot_express_are_refused_with_the_crontab_alternative(scheduler, cron):
    with pytest.raises(InvalidInput, match="cannot be written") as caught:
        schedules.scheduler_text(scheduler, schedules.parse_cron(cron), COMMAND, "j")
    assert "crontab" in str(caught.value) or "Task Scheduler" in str(caught.value)


def test_any_valid_cron_gets_a_crontab_line():
    text = schedules.scheduler_text("cron", schedules.parse_cron("*/15 * * 6 *"), COMMAND, "j")
    assert text.files == {}
    assert "*/15 * * 6 * " in text.install[0] and "crontab -" in text.install[0]


def test_scheduler_text_lists_files_then_install_commands():
    text = schedules.scheduler_text("systemd", schedules.parse_cron("0 2 * * *"), COMMAND, "snowml-churn")
    block = text.as_text()
    assert block.index("# --- snowml-churn.service ---") < block.index("# --- install (run yourself) ---")
    assert "systemctl --user enable --now snowml-churn.timer" in block


def test_bad_scheduler_and_job_names_are_refused():
    cron = schedules.parse_cron("0 2 * * *")
    with pytest.raises(InvalidInput, match="Unknown scheduler"):
        schedules.scheduler_text("at", cron, COMMAND, "j")
    with pytest.raises(InvalidInput, match="job name"):
        schedules.scheduler_text("cron", cron, COMMAND, "a b;rm")


def test_score_command_can_let_the_first_run_replace_an_existing_output():
    command = schedules.score_command(["snowml"], "/ws", "M_1", "T", "O", overwrite=True)
    assert command[-3:] == ["--output", "O", "--overwrite"] and "--size" not in command

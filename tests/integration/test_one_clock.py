"""One clock: after ``rectify demo`` every process on the database runs on the demo's day, an
explicit ``--as-of`` wins for its own process, ``rectify clock real`` goes back to real time;
times are printed in the installation's zone, named."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from cli.main import app as cli_app
from services.bootstrap import build_app
from services.core.clock import SHANGHAI, from_stored, local_text, stored_value

DEMO_DAY = date(2021, 7, 19)


def rectify(settings, *args: str, **env: str):
    """One command, as a clerk types it (no --as-of unless given), on the test's database."""
    result = CliRunner().invoke(
        cli_app,
        list(args),
        env={
            "RECTIFY_DATABASE_URL": settings.database_url,
            "RECTIFY_DATA_DIR": str(settings.data_dir),
            "RECTIFY_SECRET_KEY": "test-secret",
            "RECTIFY_AS_OF": None,
            "RECTIFY_TIMEZONE": None,
            "COLUMNS": "200",
            **env,
        },
    )
    return result


def ok(settings, *args: str, **env: str) -> str:
    result = rectify(settings, *args, **env)
    assert result.exit_code == 0, result.output
    return result.stdout


def clock_of(settings, **overrides):
    """The clock a new process on the database (web, worker, flow run, command) starts with."""
    application = build_app(settings.model_copy(update=overrides))
    try:
        return application.clock
    finally:
        application.close()


def test_after_rectify_demo_a_new_process_runs_on_the_demo_day(app, settings):
    assert clock_of(settings).source == "real"  # nothing chosen yet: real time

    out = ok(settings, "demo")
    assert "系统日期已设为演示数据的通报日 2021-07-19" in out

    clock = clock_of(settings)
    assert clock.today() == DEMO_DAY and clock.source == "installation"
    assert clock.now().astimezone(SHANGHAI).hour == 9  # 09:00 on the day, running on from there
    assert clock.label() == "2021-07-19（演示数据 lincang-2021）"
    shown = ok(settings, "clock")
    assert "系统日期：2021-07-19（演示数据 lincang-2021；" in shown
    assert "当前系统时间：2021-07-19 09:0" in shown


def test_an_explicit_day_wins_for_its_own_process_only(app, settings):
    ok(settings, "demo")
    given = build_app(settings, as_of=date(2021, 8, 2))
    assert given.clock.today() == date(2021, 8, 2) and given.clock.source == "as_of"
    given.close()
    assert clock_of(settings, as_of=date(2021, 9, 1)).today() == date(2021, 9, 1)  # RECTIFY_AS_OF
    assert clock_of(settings).today() == DEMO_DAY  # the others still run on the stored day

    out = ok(settings, "--as-of", "2021-08-02", "clock")
    assert "系统日期：2021-07-19" in out and "本命令按 2021-08-02 运行" in out
    assert "当前系统时间：2021-08-02 09:00（北京时间，Asia/Shanghai）" in out


def test_rectify_clock_set_and_real_change_the_day_of_every_new_process(app, settings):
    ok(settings, "demo")
    out = ok(settings, "clock", "set", "2021-08-05")
    assert "系统日期已设为 2021-08-05" in out and "重启后生效" in out
    assert clock_of(settings).today() == date(2021, 8, 5)

    out = ok(settings, "clock", "real")
    assert "已改回实时。系统日期：实时" in out
    clock = clock_of(settings)
    assert clock.source == "real"
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(minutes=1)
    assert "系统日期：实时，今天" in ok(settings, "clock")

    # The choice is kept: `make run` again (demo --if-empty) does not take the demo day back.
    assert "系统日期已设为" not in ok(settings, "demo", "--if-empty")
    assert clock_of(settings).source == "real"


def test_demo_if_empty_gives_an_older_demo_database_its_day(app, settings):
    """A database loaded before the clock was stored (the demo's data, no day chosen)."""
    from services.ops import demo

    with app.uow() as uow:
        demo.load_demo(uow)
        uow.commit()
    assert clock_of(settings).source == "real"
    out = ok(settings, "demo", "--if-empty")
    assert "跳过加载演示数据" in out and "系统日期已设为演示数据的通报日 2021-07-19" in out
    assert clock_of(settings).today() == DEMO_DAY


def test_a_wrong_day_is_refused_in_chinese(app, settings):
    result = rectify(settings, "clock", "set", "2021-13-01")
    assert result.exit_code == 2 and "日期格式应为 YYYY-MM-DD：2021-13-01" in result.stderr
    result = rectify(settings, "clock", "set", "1900-01-01")
    assert result.exit_code == 2 and "系统日期应在 2000–2099 年之间" in result.stderr


def test_the_stored_clock_runs_on_from_the_moment_it_was_set():
    """Leases, retries and sessions still expire: the day starts at 09:00 and time goes on."""
    set_two_hours_ago = stored_value(DEMO_DAY, since=datetime.now(UTC) - timedelta(hours=2))
    clock = from_stored(set_two_hours_ago, SHANGHAI)
    assert clock.now().astimezone(SHANGHAI).strftime("%Y-%m-%d %H") == "2021-07-19 11"
    assert clock.today() == DEMO_DAY
    assert from_stored({"real": True}, SHANGHAI) is None
    assert from_stored({"day": "not a day", "since": "x"}, SHANGHAI) is None


# --- the domain's rules on that clock, through the commands a clerk types ----------------


def test_an_extension_into_the_past_is_refused_in_chinese(app, settings):
    ok(settings, "demo")
    assert "整改期限 2021-07-29" in ok(settings, "case", "notify", "12", "--actor", "张三")
    ok(settings, "clock", "set", "2021-08-05")  # a week after the deadline

    result = rectify(
        settings,
        "case",
        "extend",
        "12",
        "--until",
        "2021-08-01",
        "--reason",
        "补办",
        "--actor",
        "张三",
    )
    assert result.exit_code == 2, result.output
    assert "新期限 2021-08-01 必须晚于今天 2021-08-05" in result.stderr
    assert "整改期限：2021-07-29" in ok(settings, "case", "show", "12")  # nothing changed

    out = ok(
        settings,
        "case",
        "extend",
        "12",
        "--until",
        "2021-08-20",
        "--reason",
        "补办",
        "--actor",
        "张三",
    )
    assert "整改期限已延长至 2021-08-20" in out
    history = ok(settings, "case", "show", "12")
    assert re.search(r"2021-08-05 09:\d\d\s+│\s*延长整改期限", history), history


def test_an_action_may_not_be_stamped_before_the_cases_last_event(app, settings):
    """The clock set back (a day before the case's last entry): the action is refused, and the
    refusal names both moments in Beijing time."""
    ok(settings, "demo")
    ok(settings, "clock", "set", "2021-08-05")
    ok(settings, "case", "notify", "12", "--actor", "张三")  # stamped 2021-08-05 09:00
    ok(settings, "clock", "set", "2021-07-20")

    result = rectify(settings, "case", "start", "12", "--actor", "张三")
    assert result.exit_code != 0, result.output
    assert "早于该案件最近一次记录的时间 2021-08-05 09:0" in result.stderr, result.stderr
    assert "rectify clock" in result.stderr
    assert "状态：已通知" in ok(settings, "case", "show", "12")


def test_notify_never_sets_a_deadline_before_the_notice_day(app, settings):
    """The round's deadline (2021-07-29) has passed on 2021-08-05: notifying then may not
    leave the case due before the day it is notified."""
    ok(settings, "demo")
    ok(settings, "clock", "set", "2021-08-05")
    result = rectify(settings, "case", "notify", "13", "--actor", "张三")
    shown = ok(settings, "case", "show", "13")
    if result.exit_code == 0:
        deadline = re.search(r"整改期限 (\d{4}-\d{2}-\d{2})", result.stdout)
        assert deadline and date.fromisoformat(deadline.group(1)) >= date(2021, 8, 5), result.output
    else:
        assert re.search("[\u4e00-\u9fff]", result.stderr) and "2021-07-29" in result.stderr
        assert "状态：已发现" in shown


# --- times a person reads: in the installation's zone, the zone named ---------------------


def test_case_show_and_outbox_list_print_times_in_the_named_zone(app, settings):
    ok(settings, "demo")
    ok(settings, "case", "notify", "12", "--actor", "张三")  # 2021-07-19 09:00 Beijing time

    shown = ok(settings, "case", "show", "12")
    assert "时间（北京时间）" in shown and re.search(r"2021-07-19 09:\d\d\s+│\s*通知", shown)
    outbox = ok(settings, "outbox", "list")
    assert "下次尝试/发送时间（北京时间）" in outbox and "2021-07-19 09:" in outbox

    utc = ok(settings, "case", "show", "12", RECTIFY_TIMEZONE="UTC")
    assert "时间（UTC）" in utc and re.search(r"2021-07-19 01:\d\d\s+│\s*通知", utc)
    assert "下次尝试/发送时间（UTC）" in ok(settings, "outbox", "list", RECTIFY_TIMEZONE="UTC")


def test_json_output_gives_moments_with_the_zones_offset(app, settings):
    ok(settings, "demo")
    ok(settings, "case", "notify", "12", "--actor", "张三")
    out = ok(settings, "outbox", "list", "--json")
    assert '"next_attempt_at": "2021-07-19T09:' in out and "+08:00" in out


@pytest.mark.parametrize(
    ("zone", "text"), [("Asia/Shanghai", "2021-07-19 09:30"), ("UTC", "2021-07-19 01:30")]
)
def test_local_text_is_the_one_way_a_moment_is_written_for_people(zone, text):
    moment = datetime(2021, 7, 19, 1, 30, tzinfo=UTC)
    assert local_text(moment, ZoneInfo(zone)) == text
    assert local_text(None, SHANGHAI) == "—"


# --- `make run`: `rectify up` starts every child on the one clock ---------------------------


class FakeChild:
    """A child process that is started, and has exited by the time the third one starts."""

    started: list[FakeChild]

    def __init__(self, command: list[str], env: dict[str, str]):
        self.command, self.env, self.pid = command, env, -1
        FakeChild.started.append(self)

    def poll(self):
        return 0 if len(FakeChild.started) >= 3 else None

    def wait(self, timeout=None):
        return 0


@pytest.mark.parametrize("as_of", [None, "2021-08-01"])
def test_rectify_up_starts_every_child_on_the_one_clock(app, settings, monkeypatch, capsys, as_of):
    import signal

    from cli import supervisor
    from cli.context import STATE

    ok(settings, "demo")
    FakeChild.started = []
    for name, value in {
        "RECTIFY_DATABASE_URL": settings.database_url,
        "RECTIFY_DATA_DIR": str(settings.data_dir),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("RECTIFY_AS_OF", raising=False)
    monkeypatch.setattr(supervisor, "_start", FakeChild)
    monkeypatch.setattr(supervisor, "_wait_healthy", lambda port, server: True)
    monkeypatch.setattr(supervisor, "_signal_group", lambda child, sig: None)
    monkeypatch.setattr(supervisor.time, "sleep", lambda seconds: None)
    monkeypatch.setattr(signal, "signal", lambda *args: None)
    monkeypatch.setattr(STATE, "as_of", date.fromisoformat(as_of) if as_of else None)

    supervisor.run_all(prefect_port=4299, web_port=8099)

    server, worker, web = FakeChild.started
    assert worker.command[1:] == ["worker"] and web.command[1:] == ["serve", "--port", "8099"]
    for child in FakeChild.started:  # a given day reaches them all, else each reads the stored one
        assert child.env.get("RECTIFY_AS_OF") == as_of
    said = capsys.readouterr().out
    if as_of:
        assert "系统日期：2021-08-01（本次运行指定的固定日期）" in said
    else:
        assert "系统日期：2021-07-19（演示数据 lincang-2021；" in said

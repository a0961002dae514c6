"""deploy/: the systemd units, the cron line and the env file agree with the command they run — every
ExecStart / cron command parses with govaudit's own argument parser once the env file is substituted."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import pytest

from govaudit.cli import build_parser
from govaudit.nightly import KEEP_RUNS_ENV, REPORTS_ENV, keep_runs_setting, reports_dir_for

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def _unit(name: str) -> configparser.ConfigParser:
    cp = configparser.ConfigParser(strict=False, interpolation=None, comment_prefixes=("#", ";"))
    cp.optionxform = str  # systemd keys are case-sensitive
    cp.read_string((DEPLOY / "systemd" / name).read_text(encoding="utf-8"))
    return cp


def _env() -> dict[str, str]:
    out = {}
    for line in (DEPLOY / "env.example").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            assert re.fullmatch(r"[A-Z_]+", key) and '"' not in value, f"not systemd-compatible: {line}"
            out[key] = value
    return out


def _govaudit_args(command: str, env: dict[str, str]) -> list[str]:
    command = re.sub(r"\$\{(\w+)\}|\"\$(\w+)\"", lambda mt: shlex.quote(env[mt.group(1) or mt.group(2)]), command)
    argv = shlex.split(command)
    i = next(i for i, a in enumerate(argv) if a.endswith("/govaudit"))
    return argv[i + 1:]


def test_nightly_timer_is_0130_and_persistent() -> None:
    timer = _unit("govaudit-nightly.timer")
    assert timer["Timer"]["OnCalendar"] == "*-*-* 01:30:00"
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Timer"]["Unit"] == "govaudit-nightly.service"


@pytest.mark.parametrize("name", ["govaudit-nightly.service", "govaudit-worker@.service",
                                  "govaudit-enqueue.service"])
def test_units_run_a_valid_govaudit_command_as_a_dedicated_user(name: str) -> None:
    svc = _unit(name)["Service"]
    assert svc["User"] == "govaudit" and svc["EnvironmentFile"] == "/etc/govaudit/env"
    args = build_parser().parse_args(_govaudit_args(svc["ExecStart"].replace("%i", "1"), _env()))
    if name == "govaudit-nightly.service":
        assert args.command == "crawl" and args.nightly and args.sites == _env()["GOVAUDIT_SITES"]
        # exit 3 (some sites unreachable) and 5 (locked) are not service failures
        assert set(svc["SuccessExitStatus"].split()) == {"3", "5"}


def test_cron_line_runs_the_nightly_at_0130() -> None:
    lines = [ln for ln in (DEPLOY / "cron" / "govaudit.cron").read_text(encoding="utf-8").splitlines()
             if ln.strip() and not ln.startswith("#") and "=" not in ln.split()[0]]
    [line] = lines
    minute, hour, dom, month, dow, user, command = line.split(None, 6)
    assert (minute, hour, dom, month, dow, user) == ("30", "1", "*", "*", "*", "govaudit")
    assert ". /etc/govaudit/env" in command
    args = build_parser().parse_args(_govaudit_args(command.split("&&")[-1].split(">>")[0], _env()))
    assert args.command == "crawl" and args.nightly


def test_env_settings_are_the_ones_the_code_reads(monkeypatch) -> None:
    env = _env()
    for key in ("GOVAUDIT_DB", "GOVAUDIT_BLOBS", REPORTS_ENV, KEEP_RUNS_ENV, "GOVAUDIT_REDIS", "GOVAUDIT_SITES"):
        assert key in env
    monkeypatch.setenv(KEEP_RUNS_ENV, env[KEEP_RUNS_ENV])
    assert keep_runs_setting(None) == int(env[KEEP_RUNS_ENV])
    monkeypatch.setenv(REPORTS_ENV, env[REPORTS_ENV])
    import datetime as dt

    target = reports_dir_for(None, 12, dt.date(2026, 11, 20))
    assert target == Path("/var/lib/govaudit/reports/2026-11-20-run12")


def test_reports_dir_default_and_plain_directory(monkeypatch) -> None:
    import datetime as dt

    monkeypatch.delenv(REPORTS_ENV, raising=False)
    day = dt.date(2026, 11, 20)
    assert reports_dir_for(None, 7, day) == Path("govaudit-reports/7")
    assert reports_dir_for("/srv/r", 7, day) == Path("/srv/r/7")  # a plain directory: one subdirectory per run
    with pytest.raises(ValueError):
        reports_dir_for("/srv/{site}", 7, day)

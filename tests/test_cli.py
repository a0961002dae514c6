import subprocess
import sys

import pytest

from govaudit import EXIT_BAD_INPUT
from govaudit.cli import build_parser, main

SUBCOMMANDS = sorted(build_parser()._subparsers._group_actions[0].choices)  # noqa: SLF001


def test_top_level_help_lists_every_subcommand(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in ("demo", "crawl", "check", "score", "report", "checks", "rubrics", "runs", "diff", "dispute"):
        assert name in out


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_subcommand_has_help(name: str, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main([name, "--help"])
    assert exc.value.code == 0
    assert "usage: govaudit" in capsys.readouterr().out


def test_bad_sites_file_exits_2_naming_the_line(tmp_path, capsys) -> None:
    bad = tmp_path / "units.csv"
    bad.write_text("site_id,name,unit_type,url,rubric\nx,名称,planet,http://127.0.0.1/,r\n", encoding="utf-8")
    code = main(["--db", str(tmp_path / "g.db"), "crawl", "--sites", str(bad)])
    assert code == EXIT_BAD_INPUT
    assert "line 2" in capsys.readouterr().err


def test_unknown_check_and_missing_run_are_bad_input(tmp_path, capsys) -> None:
    db = str(tmp_path / "g.db")
    assert main(["--db", db, "check", "no-such-check", "--site", "x"]) == EXIT_BAD_INPUT
    assert "unknown check" in capsys.readouterr().err
    assert main(["--db", db, "runs"]) == 0
    assert "no runs yet" in capsys.readouterr().out


def test_console_script_module_entry_point() -> None:
    out = subprocess.run([sys.executable, "-m", "govaudit", "--version"], capture_output=True, text=True,
                         check=True)
    assert out.stdout.startswith("govaudit ")


def test_module_entry_point_ignores_folders_named_like_its_packages(tmp_path) -> None:
    for name in ("reports", "checks", "storage"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("raise ImportError('shadowed')\n")
    out = subprocess.run([sys.executable, "-m", "govaudit", "checks"], capture_output=True, text=True,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "guide" in out.stdout

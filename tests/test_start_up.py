"""What a command loads before it works: each command's module only when it is run or
listed, and a scan of a database already at this mpscan's schema without Alembic, the
reports, the tables' renderer or the scheduler. What is imported is checked, never how
long it takes (benchmarks/scan_tiny.py prints the figures)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

from scanner.cli import COMMAND_MODULES, cli
from tests.support import make_group

ROOT = Path(__file__).resolve().parents[1]

# Runs the command line as the console script does, then writes the names of the modules
# it imported, and whether the cycle collector runs, to the file named by MODULES_OUT.
MAIN_AND_REPORT_MODULES = """
import atexit, gc, json, os, sys
atexit.register(lambda: open(os.environ["MODULES_OUT"], "w").write(
    json.dumps({"modules": list(sys.modules), "collecting": gc.isenabled()})))
sys.argv = ["mpscan", *sys.argv[1:]]
from scanner.cli import main
main()
"""

NOT_FOR_A_SCAN = (
    "alembic",
    "mako",
    "jinja2",
    "rich",
    "apscheduler",
    "prometheus_client",
    "scanner.reports",
    "scanner.scheduler",
    "scanner.cli.render",
    "scanner.cli.query",
    "scanner.cli.report",
)


def run_main(tmp_path: Path, *args: str) -> tuple[int, dict, str]:
    out = tmp_path / "modules.json"
    result = subprocess.run(
        [sys.executable, "-c", MAIN_AND_REPORT_MODULES, *args],
        env={**os.environ, "PYTHONPATH": str(ROOT), "MODULES_OUT": str(out)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result.returncode, json.loads(out.read_text()), result.stderr


def modules_of(tmp_path: Path, *args: str) -> tuple[int, set[str], str]:
    code, seen, err = run_main(tmp_path, *args)
    return code, set(seen["modules"]), err


def loaded(modules: set[str], package: str) -> bool:
    return any(m == package or m.startswith(package + ".") for m in modules)


def test_the_command_table_names_every_command_of_every_module():
    modules = {
        path.stem
        for path in (ROOT / "scanner" / "cli").glob("*.py")
        if "\nCOMMANDS = " in path.read_text()
    }
    assert set(COMMAND_MODULES.values()) == modules
    for module in modules:
        names = {c.name for c in importlib.import_module(f"scanner.cli.{module}").COMMANDS}
        assert names == {n for n, m in COMMAND_MODULES.items() if m == module}, module
    assert sorted(cli.commands) == sorted(COMMAND_MODULES)
    assert all(cli.commands[name].name == name for name in COMMAND_MODULES)


def test_a_rescan_loads_no_alembic_reports_renderer_or_scheduler(standin, sm, tmp_path):
    make_group(sm["us-east-1"], "g", 2)
    scan = ("scan", "--regions", "us-east-1", "--db", f"sqlite:///{tmp_path / 'm.db'}")

    code, first, err = modules_of(tmp_path, *scan, "-q")
    assert code == 0, err
    assert loaded(first, "alembic")  # a new database is migrated by Alembic

    code, again, err = modules_of(tmp_path, *scan)  # progress to a pipe: none drawn
    assert code == 0, err
    assert loaded(again, "scanner.app.scan") and loaded(again, "sqlalchemy")
    assert [p for p in NOT_FOR_A_SCAN if loaded(again, p)] == []
    others = {f"scanner.cli.{m}" for m in COMMAND_MODULES.values()} - {"scanner.cli.scan"}
    assert sorted(again & others) == []


def test_help_loads_every_command_and_no_alembic(tmp_path):
    code, modules, err = modules_of(tmp_path, "--help")
    assert code == 0, err
    assert {f"scanner.cli.{m}" for m in COMMAND_MODULES.values()} <= modules
    assert not loaded(modules, "alembic")


def test_the_program_pauses_the_collector_only_while_a_command_starts(standin, tmp_path):
    """main() pauses it; reading the settings (every command that works does) resumes it,
    so that a long scan or `mpscan schedule` collects as usual. In-process runs (the
    tests' click runner) never pause it."""
    db = f"sqlite:///{tmp_path / 'm.db'}"
    for args in (("status", "--db", db), ("scan", "--regions", "us-east-1", "--db", db, "-q")):
        code, seen, err = run_main(tmp_path, *args)
        assert seen["collecting"], (args, code, err)
    code, seen, err = run_main(tmp_path, "iam-policy")  # reads no settings: a moment's work
    assert code == 0 and not seen["collecting"], err

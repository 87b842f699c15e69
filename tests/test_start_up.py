"""What a command loads before it works: each command's module only when it is run or
listed."""

from __future__ import annotations

import importlib
from pathlib import Path

from scanner.cli import COMMAND_MODULES, cli

ROOT = Path(__file__).resolve().parents[1]


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

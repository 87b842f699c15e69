"""The `mpscan` command line. Each command's docstring is its --help; the README repeats them.

One module per command (or group of commands); this one holds the group, the options every
command shares, and the single place where errors become one line and an exit code.
"""

from __future__ import annotations

import importlib
import logging
import signal
import sys
import threading
from collections.abc import Iterator, MutableMapping, Sequence
from typing import Any, NoReturn

import click

from scanner import __version__, logs
from scanner.cli import startup
from scanner.cli.options import CONTEXT
from scanner.errors import (
    ALL_EXIT_CODES_HELP,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    MpscanError,
    Terminated,
)

log = logging.getLogger(__name__)


class Cli(click.Group):
    """Turns every MpscanError, and click's own usage errors, into one line on stderr and
    its documented exit code."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,  # not used: errors always end here, in one line
        **extra: Any,
    ) -> NoReturn:
        _terminate_like_ctrl_c()
        try:
            code = super().main(
                args=args,
                prog_name=prog_name,
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
        except click.UsageError as exc:  # a bad option or value: one line, like every error
            where = exc.ctx.command_path if exc.ctx else "mpscan"
            click.echo(
                f"mpscan: usage error: {exc.format_message()} (see: {where} --help)", err=True
            )
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"mpscan: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("mpscan: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except MpscanError as exc:
            click.echo(f"mpscan: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except Terminated:
            click.echo("mpscan: terminated (SIGTERM)", err=True)
            ctx.exit(EXIT_TERMINATED)
        except KeyboardInterrupt:
            click.echo("mpscan: interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)


def _terminate_like_ctrl_c() -> None:
    """SIGTERM raises Terminated (a KeyboardInterrupt) in the main thread: a scan records
    itself interrupted, releases its lock and keeps every unfinished region's inventory, as
    on Ctrl-C, and exits 143. `mpscan schedule` installs its own handlers over this one."""

    def terminated(_signum, _frame):
        Terminated.received = True
        raise Terminated()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, terminated)


@click.group(cls=Cli, context_settings=CONTEXT, epilog=ALL_EXIT_CODES_HELP)
@click.version_option(__version__, prog_name="mpscan")
@click.option(
    "-v", "--verbose", count=True, help="More log lines on stderr: -v info, -vv debug, -vvv AWS."
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one object a line, for services and log collectors.",
)
def cli(verbose: int, log_format: str) -> None:
    """Inventory and compliance scanner for the Amazon SageMaker model registry.

    \b
    Quick start:
      mpscan demo                          # a local stand-in registry, scanned into SQLite
      mpscan scan --regions us-east-1,eu-west-1
      mpscan query "SELECT model_package_arn FROM model_packages WHERE kms_key_id IS NULL"
      mpscan -v scan --log-format json     # info logs, one JSON object a line

    Settings come from options, then environment variables (MPSCAN_DATABASE_URL,
    MPSCAN_CONFIG, the standard AWS_* variables), then the config file (--config,
    default ./mpscan.toml; see config.example.toml), then defaults.
    """
    logs.setup(verbose, log_format)


# Each command's module (scanner/cli/<module>.py, whose COMMANDS holds it), imported when the
# command is run, or listed for --help: `mpscan scan` loads neither the reports nor the
# tables' renderer, nor any other command's imports. tests/test_start_up.py checks this
# table against every module's COMMANDS.
COMMAND_MODULES = {
    "scan": "scan",
    "query": "query",
    "tables": "schema",
    "schema": "schema",
    "rules": "judge",
    "evaluate": "judge",
    "check": "judge",
    "report": "report",
    "diff": "history",
    "prune": "history",
    "status": "status",
    "schedule": "schedule",
    "listen": "listen",
    "export": "export",
    "db": "db",
    "demo": "demo",
    "iam-policy": "permissions",
}


class LazyCommands(MutableMapping[str, click.Command]):
    """A group's commands by name, each module imported on the first look at one of its
    commands; the names are known without importing any."""

    def __init__(self, modules: dict[str, str]) -> None:
        self._modules = dict(modules)
        self._loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            module = importlib.import_module(f"scanner.cli.{self._modules[name]}")
            for command in module.COMMANDS:
                self._loaded.setdefault(command.name, command)
            if name not in self._loaded:
                raise RuntimeError(f"{module.__name__}.COMMANDS has no command {name!r}")
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._loaded[name] = command
        self._modules.pop(name, None)

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self._loaded.pop(name, None)
        self._modules.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self._modules, *self._loaded]))

    def __len__(self) -> int:
        return len(self._modules.keys() | self._loaded.keys())

    def __contains__(self, name: object) -> bool:
        return name in self._modules or name in self._loaded


cli.commands = LazyCommands(COMMAND_MODULES)


def main() -> None:
    """The `mpscan` program: the console script and `python -m scanner`."""
    startup.pause()  # resumed once the command has loaded its modules and settings
    try:
        cli(prog_name="mpscan")
    finally:
        startup.end()

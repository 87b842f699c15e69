"""Options shared by several commands, as decorators (one definition, one help text)."""

from __future__ import annotations

import click

from scanner.cli import startup
from scanner.config import Settings, override

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def config_option(f):
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        help="Config file (default: $MPSCAN_CONFIG or ./mpscan.toml if present).",
    )(f)


def db_option(f):
    return click.option(
        "--db",
        "db_url",
        metavar="URL",
        help="Database URL (default: $MPSCAN_DATABASE_URL, the config, sqlite:///mpscan.db).",
    )(f)


def format_option(*choices: str, help: str | None = None):
    """-f/--format: the first choice is the default."""
    return click.option(
        "-f",
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=choices[0],
        show_default=True,
        help=help,
    )


def settings_from(config_path, db_url) -> Settings:
    # Imported here: `mpscan --help` and a bad option load neither the rules nor APScheduler.
    from scanner.settings_check import load_checked_settings

    settings = override(load_checked_settings(config_path), "database", url=db_url)
    startup.resume()  # every command reads its settings once it has loaded its modules
    return settings

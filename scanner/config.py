"""TOML file -> validated settings. Every setting, its default and its check live here.

Precedence, highest first: command-line option, environment variable, config file, default.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from scanner.errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite:///mpscan.db"
DEFAULT_CONFIG_FILE = "mpscan.toml"


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = field(default=DEFAULT_DATABASE_URL, metadata={"env": "MPSCAN_DATABASE_URL"})


@dataclass(frozen=True)
class AwsSettings:
    profile: str | None = None
    regions: tuple[str, ...] | str = ()  # () = the session's default region; "all" = every enabled
    retry_mode: str = "adaptive"
    max_attempts: int = 10
    # Workers per region, each describing then tagging a package. Few, because botocore's
    # adaptive limiter cuts its rate once per throttled reply: the more calls in flight when
    # the limit is first hit, the deeper the cut (benchmarks/README.md has the figures).
    concurrency: int = 4
    region_concurrency: int = 8  # regions scanned at once
    max_rate: float = 0.0  # calls/s per operation and region; 0 = no client-side cap
    connect_timeout: float = 10.0
    read_timeout: float = 60.0


@dataclass(frozen=True)
class ScanSettings:
    batch_size: int = 500


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings = DatabaseSettings()
    aws: AwsSettings = AwsSettings()
    scan: ScanSettings = ScanSettings()
    source: str = "defaults"


def _check_positive(key: str, value: float) -> None:
    if value <= 0:
        raise ConfigError(f"config error: '{key}' must be greater than 0, got {value!r}")


def _validate(settings: Settings) -> Settings:
    aws = settings.aws
    if aws.retry_mode not in ("adaptive", "standard", "legacy"):
        raise ConfigError(
            f"config error: 'aws.retry_mode' must be adaptive, standard or legacy, "
            f"got {aws.retry_mode!r}"
        )
    if not 1 <= aws.max_attempts <= 100:
        raise ConfigError(
            f"config error: 'aws.max_attempts' must be between 1 and 100, got {aws.max_attempts}"
        )
    if not 1 <= aws.concurrency <= 256:
        raise ConfigError(
            f"config error: 'aws.concurrency' must be between 1 and 256, got {aws.concurrency}"
        )
    if not 1 <= aws.region_concurrency <= 64:
        raise ConfigError(
            f"config error: 'aws.region_concurrency' must be between 1 and 64, "
            f"got {aws.region_concurrency}"
        )
    if aws.max_rate < 0:
        raise ConfigError(f"config error: 'aws.max_rate' must be 0 or more, got {aws.max_rate}")
    _check_positive("aws.connect_timeout", aws.connect_timeout)
    _check_positive("aws.read_timeout", aws.read_timeout)
    if not 1 <= settings.scan.batch_size <= 10_000:  # IN lists: one bind parameter a row
        raise ConfigError(
            f"config error: 'scan.batch_size' must be between 1 and 10000, "
            f"got {settings.scan.batch_size}"
        )
    if isinstance(aws.regions, str) and aws.regions != "all":
        raise ConfigError(
            f"config error: 'aws.regions' must be a list of region names or \"all\", "
            f"got {aws.regions!r}"
        )
    return settings


def parse_regions(text: str) -> tuple[str, ...] | str:
    """`--regions us-east-1,eu-west-1` or `--regions all`."""
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if names == ("all",):
        return "all"
    if "all" in names:
        raise ConfigError("usage error: 'all' cannot be combined with region names")
    return names


def _coerce(section: str, key: str, expected: Any, value: Any) -> Any:
    name = f"{section}.{key}"
    if key == "regions":
        if isinstance(value, str):
            return parse_regions(value)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        raise ConfigError(f"config error: '{name}' must be a list of strings or \"all\"")
    kind = type(expected) if expected is not None else str
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(
            f"config error: '{name}' must be {kind.__name__}, got {type(value).__name__} {value!r}"
        )
    return value


def _section_from_toml(section: str, cls: type, data: Any) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"config error: '{section}' must be a table")
    known = {f.name: f for f in fields(cls)}
    values = {}
    defaults = cls()
    for key, value in data.items():
        if key not in known:
            raise ConfigError(
                f"config error: unknown key '{section}.{key}' (known: {', '.join(known)})"
            )
        values[key] = _coerce(section, key, getattr(defaults, key), value)
    return cls(**values)


SECTIONS = {"database": DatabaseSettings, "aws": AwsSettings, "scan": ScanSettings}


def load_settings(path: str | os.PathLike | None = None) -> Settings:
    """Read the config file (explicit path, $MPSCAN_CONFIG, or ./mpscan.toml if present)."""
    explicit = path or os.environ.get("MPSCAN_CONFIG")
    candidate = Path(explicit) if explicit else Path(DEFAULT_CONFIG_FILE)
    if not candidate.exists():
        if explicit:
            raise ConfigError(f"config error: config file {str(candidate)!r} not found")
        settings = Settings()
    else:
        try:
            data = tomllib.loads(candidate.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config error: {candidate}: {exc}") from None
        sections = {}
        for name, value in data.items():
            if name not in SECTIONS:
                raise ConfigError(
                    f"config error: unknown key '{name}' (known sections: {', '.join(SECTIONS)})"
                )
            sections[name] = _section_from_toml(name, SECTIONS[name], value)
        settings = Settings(**sections, source=str(candidate))
    env_url = os.environ.get("MPSCAN_DATABASE_URL")
    if env_url:
        settings = replace(settings, database=replace(settings.database, url=env_url))
    return _validate(settings)


def override(settings: Settings, section: str, **values: Any) -> Settings:
    """Apply command-line options (None means 'not given')."""
    given = {k: v for k, v in values.items() if v is not None}
    if not given:
        return settings
    updated = replace(getattr(settings, section), **given)
    return _validate(replace(settings, **{section: updated}))

"""TOML file -> validated settings. Every setting, its default and its check live here.

Precedence, highest first: command-line option, environment variable, config file, default.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from scanner.errors import ConfigError, UsageError

DEFAULT_DATABASE_URL = "sqlite:///mpscan.db"
DEFAULT_CONFIG_FILE = "mpscan.toml"


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = field(default=DEFAULT_DATABASE_URL, metadata={"env": "MPSCAN_DATABASE_URL"})


@dataclass(frozen=True)
class AwsSettings:
    profile: str | None = field(default=None, metadata={"env": "AWS_PROFILE"})
    regions: tuple[str, ...] | str = ()  # () = the session's default region; "all" = every enabled
    retry_mode: str = "adaptive"
    max_attempts: int = 10
    # Workers per region, each describing then tagging a package. Few, because botocore's
    # adaptive limiter cuts its rate once per throttled reply: the more calls in flight when
    # the limit is first hit, the deeper the cut (benchmarks/README.md has the figures).
    concurrency: int = 4
    region_concurrency: int = 8  # regions scanned at once, per account
    account_concurrency: int = 4  # accounts scanned at once ([[accounts]], [organization])
    max_rate: float = 0.0  # calls/s per operation and region; 0 = no client-side cap
    connect_timeout: float = 10.0
    read_timeout: float = 60.0


@dataclass(frozen=True)
class ScanSettings:
    batch_size: int = 500
    # A running scan refreshes its heartbeat this often; a `running` scan whose heartbeat is
    # older than stale_after_seconds is taken for dead (marked interrupted, its staging
    # deleted, its lock free), whatever host or process it ran in.
    heartbeat_seconds: float = 10.0
    stale_after_seconds: float = 60.0


@dataclass(frozen=True)
class AccountTarget:
    """`[[accounts]]`: an account scanned through STS AssumeRole from the base credentials."""

    role_arn: str
    external_id: str | None = None
    session_name: str = "mpscan"
    regions: tuple[str, ...] | str | None = None  # None = aws.regions

    @property
    def account_id(self) -> str:
        return self.role_arn.split(":")[4]


@dataclass(frozen=True)
class OrganizationSettings:
    """`[organization]`: every active account of the organization (ListAccounts), through
    arn:aws:iam::<id>:role/<role_name>."""

    role_name: str
    include: tuple[str, ...] = ()  # only these account ids (empty = all)
    exclude: tuple[str, ...] = ()
    external_id: str | None = None
    session_name: str = "mpscan"


ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
ACCOUNT_ID = re.compile(r"^\d{12}$")
ROLE_NAME = re.compile(r"^[\w+=,.@/-]{1,64}$")


def _strings(where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"config error: '{where}' must be a list of strings")
    return tuple(value)


def _accounts_from_toml(data: Any) -> tuple[AccountTarget, ...]:
    if not isinstance(data, list) or not all(isinstance(a, dict) for a in data):
        raise ConfigError("config error: 'accounts' must be [[accounts]] tables")
    targets = []
    for i, entry in enumerate(data):
        where = f"accounts[{i}]"
        known = {f.name for f in fields(AccountTarget)}
        unknown = set(entry) - known
        if unknown:
            raise ConfigError(
                f"config error: unknown key '{where}.{sorted(unknown)[0]}' "
                f"(known: {', '.join(sorted(known))})"
            )
        role = entry.get("role_arn")
        if not isinstance(role, str) or not ROLE_ARN.match(role):
            raise ConfigError(
                f"config error: '{where}.role_arn' must be a role ARN like "
                f"arn:aws:iam::111122223333:role/mpscan-reader, got {role!r}"
            )
        regions = entry.get("regions")
        if regions is not None:
            regions = _coerce(where, "regions", (), regions)
        for key in ("external_id", "session_name"):
            if key in entry and not isinstance(entry[key], str):
                raise ConfigError(f"config error: '{where}.{key}' must be str")
        targets.append(
            AccountTarget(
                role,
                entry.get("external_id"),
                entry.get("session_name", "mpscan"),
                regions,
            )
        )
    return tuple(targets)


def _organization_from_toml(data: Any) -> OrganizationSettings:
    if not isinstance(data, dict):
        raise ConfigError("config error: 'organization' must be a table")
    known = {f.name for f in fields(OrganizationSettings)}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(
            f"config error: unknown key 'organization.{sorted(unknown)[0]}' "
            f"(known: {', '.join(sorted(known))})"
        )
    name = data.get("role_name")
    if not isinstance(name, str) or not ROLE_NAME.match(name):
        raise ConfigError("config error: 'organization.role_name' (a role name) is required")
    ids = {}
    for key in ("include", "exclude"):
        ids[key] = _strings(f"organization.{key}", data.get(key, []))
        bad = [v for v in ids[key] if not ACCOUNT_ID.match(v)]
        if bad:
            raise ConfigError(
                f"config error: 'organization.{key}' holds account ids (12 digits), got {bad[0]!r}"
            )
    for key in ("external_id", "session_name"):
        if key in data and not isinstance(data[key], str):
            raise ConfigError(f"config error: 'organization.{key}' must be str")
    return OrganizationSettings(
        name,
        ids["include"],
        ids["exclude"],
        data.get("external_id"),
        data.get("session_name", "mpscan"),
    )


@dataclass(frozen=True)
class RulesSettings:
    """`[rules]`: per-rule tables (`[rules.MP-006]`: enabled, severity, parameters), custom
    SQL rules (`[[rules.custom]]` and *.toml files in `folder`), and a waivers file. Checked
    against the rule registry by scanner.rules.catalog when the config is loaded."""

    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    custom: tuple[dict[str, Any], ...] = ()
    folder: str | None = None
    waivers_file: str | None = None


@dataclass(frozen=True)
class QuerySettings:
    # Seconds a statement of user SQL (`mpscan query`, each custom SQL rule) may run before
    # the database cancels it.
    timeout: float = 300.0


@dataclass(frozen=True)
class ReportSettings:
    # A folder whose templates replace the built-in ones of the same name.
    templates: str | None = None


SCHEDULE_COMMANDS = ("scan", "report")
REPORT_FORMATS = ("html", "csv", "json", "sarif")


@dataclass(frozen=True)
class ScheduleJob:
    """`[[schedule.jobs]]`: a scan or a report run by `mpscan schedule`, on a 5-field crontab
    (`cron`) or every so often (`every`, in seconds once parsed)."""

    name: str
    command: str  # scan or report
    cron: str | None = None
    every: float | None = None
    regions: tuple[str, ...] | str | None = None  # scan jobs: instead of aws.regions
    format: str = "html"  # report jobs from here on
    output_dir: str | None = None
    keep: int = 10


@dataclass(frozen=True)
class ScheduleSettings:
    """`[schedule]`: how `mpscan schedule` runs its jobs (APScheduler)."""

    jitter_seconds: float = 0.0  # each run starts up to this much later, at random
    misfire_grace_seconds: int = 300  # a run this late (service busy or down) still runs
    coalesce: bool = True  # runs missed in a row run once, not once each
    jobs: tuple[ScheduleJob, ...] = ()


SCHEDULE_JOB_KEYS = ("name", "command", "cron", "every", "regions", "format", "output_dir", "keep")
REPORT_ONLY_KEYS = ("format", "output_dir", "keep")


def _schedule_from_toml(data: Any, base: Path) -> ScheduleSettings:
    if not isinstance(data, dict):
        raise ConfigError("config error: 'schedule' must be a table")
    known = [f.name for f in fields(ScheduleSettings)]
    for key in data:
        if key not in known:
            raise ConfigError(
                f"config error: unknown key 'schedule.{key}' (known: {', '.join(known)})"
            )
    defaults = ScheduleSettings()
    values = {
        key: _coerce("schedule", key, getattr(defaults, key), data[key])
        for key in ("jitter_seconds", "misfire_grace_seconds", "coalesce")
        if key in data
    }
    if values.get("jitter_seconds", 0) < 0:
        raise SettingError("schedule.jitter_seconds", "must be 0 or more")
    if values.get("misfire_grace_seconds", 1) <= 0:
        raise SettingError("schedule.misfire_grace_seconds", "must be greater than 0")
    jobs = data.get("jobs", [])
    if not isinstance(jobs, list) or not all(isinstance(j, dict) for j in jobs):
        raise ConfigError("config error: 'schedule.jobs' must be [[schedule.jobs]] tables")
    parsed = tuple(_job_from_toml(i, entry, base) for i, entry in enumerate(jobs))
    seen: set[str] = set()
    for i, job in enumerate(parsed):
        if job.name in seen:
            raise ConfigError(
                f"config error: 'schedule.jobs[{i}].name' {job.name!r} is used by another job "
                "(names must be unique)"
            )
        seen.add(job.name)
    return ScheduleSettings(**values, jobs=parsed)


def _job_from_toml(i: int, entry: dict[str, Any], base: Path) -> ScheduleJob:
    where = f"schedule.jobs[{i}]"
    unknown = sorted(set(entry) - set(SCHEDULE_JOB_KEYS))
    if unknown:
        raise ConfigError(
            f"config error: unknown key '{where}.{unknown[0]}' "
            f"(known: {', '.join(SCHEDULE_JOB_KEYS)})"
        )
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"config error: '{where}.name' (a non-empty string) is required")
    command = entry.get("command")
    if command not in SCHEDULE_COMMANDS:
        raise ConfigError(
            f"config error: '{where}.command' must be scan or report, got {command!r}"
        )
    if ("cron" in entry) == ("every" in entry):
        raise ConfigError(
            f"config error: '{where}' needs exactly one of 'cron' (a 5-field crontab) or "
            "'every' (30s, 15min, 6h)"
        )
    cron = entry.get("cron")
    every = None
    if cron is not None:
        if not isinstance(cron, str):
            raise ConfigError(f"config error: '{where}.cron' must be a crontab string")
    else:
        try:
            every = parse_duration(entry["every"], f"'{where}.every'")
        except UsageError as exc:
            raise ConfigError(
                str(exc).replace("usage error:", "config error:", 1) + f" (job {name!r})"
            ) from None
    if command == "scan":
        misplaced = [k for k in REPORT_ONLY_KEYS if k in entry]
        if misplaced:
            raise ConfigError(f"config error: '{where}.{misplaced[0]}' applies to report jobs only")
    elif "regions" in entry:
        raise ConfigError(f"config error: '{where}.regions' applies to scan jobs only")
    regions = _coerce(where, "regions", (), entry["regions"]) if "regions" in entry else None
    fmt = entry.get("format", "html")
    if fmt not in REPORT_FORMATS:
        raise ConfigError(
            f"config error: '{where}.format' must be one of {', '.join(REPORT_FORMATS)}, "
            f"got {fmt!r}"
        )
    output_dir = entry.get("output_dir")
    if command == "report" and not isinstance(output_dir, str):
        raise ConfigError(f"config error: '{where}.output_dir' (a folder) is required")
    keep = entry.get("keep", ScheduleJob.keep)
    if not isinstance(keep, int) or isinstance(keep, bool) or keep < 1:
        raise ConfigError(f"config error: '{where}.keep' must be an integer of 1 or more")
    return ScheduleJob(
        name=name,
        command=command,
        cron=cron,
        every=every,
        regions=regions,
        format=fmt,
        output_dir=_relative(base, output_dir),
        keep=keep,
    )


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings = DatabaseSettings()
    aws: AwsSettings = AwsSettings()
    scan: ScanSettings = ScanSettings()
    rules: RulesSettings = RulesSettings()
    waivers: tuple[dict[str, Any], ...] = ()  # [[waivers]]: rule, resource, reason, owner, expires
    accounts: tuple[AccountTarget, ...] = ()
    organization: OrganizationSettings | None = None
    report: ReportSettings = ReportSettings()
    query: QuerySettings = QuerySettings()
    schedule: ScheduleSettings = ScheduleSettings()
    source: str = "defaults"


class SettingError(ConfigError):
    """A bad value, with its key: the CLI names the option instead when an option gave it."""

    def __init__(self, key: str, problem: str):
        super().__init__(f"config error: '{key}' {problem}")
        self.key = key
        self.problem = problem


def _check_between(key: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise SettingError(key, f"must be between {low} and {high}, got {value}")


def _check_positive(key: str, value: float) -> None:
    if value <= 0:
        raise SettingError(key, f"must be greater than 0, got {value!r}")


def _validate(settings: Settings) -> Settings:
    aws = settings.aws
    if aws.retry_mode not in ("adaptive", "standard", "legacy"):
        raise SettingError(
            "aws.retry_mode", f"must be adaptive, standard or legacy, got {aws.retry_mode!r}"
        )
    _check_between("aws.max_attempts", aws.max_attempts, 1, 100)
    _check_between("aws.concurrency", aws.concurrency, 1, 256)
    _check_between("aws.region_concurrency", aws.region_concurrency, 1, 64)
    _check_between("aws.account_concurrency", aws.account_concurrency, 1, 64)
    if aws.max_rate < 0:
        raise SettingError("aws.max_rate", f"must be 0 or more, got {aws.max_rate}")
    _check_positive("aws.connect_timeout", aws.connect_timeout)
    _check_positive("aws.read_timeout", aws.read_timeout)
    _check_positive("query.timeout", settings.query.timeout)
    # IN lists: one bind parameter a row
    _check_between("scan.batch_size", settings.scan.batch_size, 1, 10_000)
    scan = settings.scan
    _check_between("scan.heartbeat_seconds", scan.heartbeat_seconds, 0.1, 3600)
    if scan.stale_after_seconds < 3 * scan.heartbeat_seconds:
        raise SettingError(
            "scan.stale_after_seconds",
            "must be at least 3 times scan.heartbeat_seconds "
            f"({3 * scan.heartbeat_seconds:g}), got {scan.stale_after_seconds:g}",
        )
    if isinstance(aws.regions, str) and aws.regions != "all":
        raise SettingError(
            "aws.regions", f'must be a list of region names or "all", got {aws.regions!r}'
        )
    return settings


_UNITS = {"s": 1, "min": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$")
DURATION_EXAMPLES = "90s, 15min, 6h, 2d or 12w"


def parse_duration(text: str, what: str = "duration") -> float:
    """'90s', '15min', '6h', '2d', '12w' -> seconds. The unit is required and never
    ambiguous: a bare number, or 'm' (minutes or months?), is refused."""
    match = _DURATION.match(str(text).lower())
    unit = match.group(2) if match else None
    if unit == "m":
        raise UsageError(
            f"usage error: {what} {text!r} is ambiguous ('m' could mean minutes or months): "
            f"write {match.group(1)}min for minutes, or days (30d) or weeks (12w)"
        )
    seconds = float(match.group(1)) * _UNITS[unit] if unit in _UNITS else 0.0
    if seconds <= 0:
        raise UsageError(
            f"usage error: {what} must be a positive duration with its unit, like "
            f"{DURATION_EXAMPLES}, got {text!r}"
        )
    return seconds


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


# Settings whose command-line option is not --KEY (with dashes for underscores).
OPTIONS = {"url": "--db"}

SECTIONS = {
    "database": DatabaseSettings,
    "aws": AwsSettings,
    "scan": ScanSettings,
    "report": ReportSettings,
    "query": QuerySettings,
}
# Sections read by their own parsers (lists of tables, rule ids as keys), not field by field.
LIST_SECTIONS = ("rules", "waivers", "accounts", "organization", "schedule")


def _relative(base: Path, value: str | None) -> str | None:
    """A path in the config file is relative to that file, as users expect."""
    return None if value is None else str((base.parent / value).resolve())


def _rules_from_toml(data: Any, base: Path) -> RulesSettings:
    if not isinstance(data, dict):
        raise ConfigError("config error: 'rules' must be a table")
    overrides, known = {}, ("custom", "folder", "waivers_file")
    for key, value in data.items():
        if key in known:
            continue
        if not isinstance(value, dict):
            raise ConfigError(
                f"config error: 'rules.{key}' must be a table of a rule's settings "
                f"(or one of: {', '.join(known)})"
            )
        overrides[key] = value
    custom = data.get("custom", [])
    if not isinstance(custom, list) or not all(isinstance(c, dict) for c in custom):
        raise ConfigError(
            "config error: 'rules.custom' must be an array of tables ([[rules.custom]])"
        )
    for key in ("folder", "waivers_file"):
        if key in data and not isinstance(data[key], str):
            raise ConfigError(f"config error: 'rules.{key}' must be a path (str)")
    return RulesSettings(
        overrides=overrides,
        custom=tuple(custom),
        folder=_relative(base, data.get("folder")),
        waivers_file=_relative(base, data.get("waivers_file")),
    )


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
        sections: dict[str, Any] = {}
        for name, value in data.items():
            if name == "rules":
                sections[name] = _rules_from_toml(value, candidate)
            elif name == "waivers":
                if not isinstance(value, list) or not all(isinstance(w, dict) for w in value):
                    raise ConfigError("config error: 'waivers' must be [[waivers]] tables")
                sections[name] = tuple(value)
            elif name == "accounts":
                sections[name] = _accounts_from_toml(value)
            elif name == "organization":
                sections[name] = _organization_from_toml(value)
            elif name == "schedule":
                sections[name] = _schedule_from_toml(value, candidate)
            elif name in SECTIONS:
                sections[name] = _section_from_toml(name, SECTIONS[name], value)
            else:
                known = ", ".join([*SECTIONS, *LIST_SECTIONS])
                raise ConfigError(f"config error: unknown key '{name}' (known sections: {known})")
        if "report" in sections and sections["report"].templates:
            sections["report"] = ReportSettings(
                templates=_relative(candidate, sections["report"].templates)
            )
        if sections.get("accounts") and sections.get("organization"):
            raise ConfigError(
                "config error: use [[accounts]] or [organization], not both (the accounts "
                "to scan must be one list)"
            )
        settings = Settings(**sections, source=str(candidate))
    return _validate(_from_environment(settings))


def _from_environment(settings: Settings) -> Settings:
    """Settings with an "env" in their metadata (all text) take that variable when it is set."""
    for name, cls in SECTIONS.items():
        given = {
            f.name: os.environ[f.metadata["env"]]
            for f in fields(cls)
            if os.environ.get(f.metadata.get("env", ""))
        }
        if given:
            settings = replace(settings, **{name: replace(getattr(settings, name), **given)})
    return settings


def override(settings: Settings, section: str, **values: Any) -> Settings:
    """Apply command-line options (None means 'not given')."""
    given = {k: v for k, v in values.items() if v is not None}
    if not given:
        return settings
    updated = replace(getattr(settings, section), **given)
    try:
        return _validate(replace(settings, **{section: updated}))
    except SettingError as exc:
        where, _, key = exc.key.partition(".")
        if where != section or key not in given:
            raise
        raise UsageError(
            f"usage error: {OPTIONS.get(key, '--' + key.replace('_', '-'))} {exc.problem}"
        ) from None

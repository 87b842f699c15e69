"""TOML file -> validated, frozen settings: every setting, its default and its check.

The dataclasses are the schema: pydantic validates a file against them, with each check
declared on its field in scanner.config_checks' terms. Crontabs and [rules]/[[waivers]]
are judged by other parts of mpscan: commands load through scanner.settings_check.

Precedence, highest first: command-line option, environment variable, config file, default.
"""

import os
import re
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from scanner import config_checks as checks
from scanner.config_checks import parse_duration, parse_regions  # noqa: F401 - public here
from scanner.errors import ConfigError
from scanner.stages import SEVERITIES

DEFAULT_DATABASE_URL = "sqlite:///mpscan.db"
DEFAULT_CONFIG_FILE = "mpscan.toml"

ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
ACCOUNT_ID = re.compile(r"^\d{12}$")
ROLE_NAME = re.compile(r"^[\w+=,.@/-]{1,64}$")
RETRY_MODES = ("adaptive", "standard", "legacy")
_RETRY = "must be adaptive, standard or legacy"
SCHEDULE_COMMANDS = ("scan", "report", "export", "listen")
REPORT_FORMATS = ("html", "csv", "json", "sarif", "ocsf", "asff")
_FORMATS = f"must be one of {', '.join(REPORT_FORMATS)}"


@dataclass(frozen=True)
class DatabaseSettings(checks.Table):
    url: StrictStr = field(default=DEFAULT_DATABASE_URL, metadata={"env": "MPSCAN_DATABASE_URL"})


@dataclass(frozen=True)
class AwsSettings(checks.Table):
    profile: StrictStr | None = field(default=None, metadata={"env": "AWS_PROFILE"})
    regions: checks.Regions = ()  # () = the session's default region; "all" = every enabled
    retry_mode: Annotated[StrictStr, checks.one_of(RETRY_MODES, _RETRY, before=False)] = "adaptive"
    max_attempts: Annotated[StrictInt, checks.between(1, 100)] = 10
    # Workers per region, each describing then tagging a package. Few, because botocore's
    # adaptive limiter cuts its rate once per throttled reply: the more calls in flight when
    # the limit is first hit, the deeper the cut (benchmarks/README.md has the figures).
    concurrency: Annotated[StrictInt, checks.between(1, 256)] = 4
    # Regions scanned at once in each account; accounts at once ([[accounts]], [organization]).
    region_concurrency: Annotated[StrictInt, checks.between(1, 64)] = 8
    account_concurrency: Annotated[StrictInt, checks.between(1, 64)] = 4
    # Calls/s per operation and region; 0 = no client-side cap.
    max_rate: Annotated[StrictFloat, checks.AT_LEAST_0] = 0.0
    connect_timeout: Annotated[StrictFloat, checks.POSITIVE] = 10.0
    read_timeout: Annotated[StrictFloat, checks.POSITIVE] = 60.0


COLLECT_MODES = ("search", "describe")


@dataclass(frozen=True)
class ScanSettings(checks.Table):
    # How records are read: search (Search's records, 100 a call, describing only what
    # Search lags on) or describe (each resource described and its tags listed).
    collect: Annotated[str, checks.one_of(COLLECT_MODES, "must be search or describe")] = "search"
    # Responses staged per database write; at most 10,000 as IN lists take a parameter a row.
    batch_size: Annotated[StrictInt, checks.between(1, 10_000)] = 500
    # A running scan refreshes its heartbeat this often; a `running` scan whose heartbeat is
    # older than stale_after_seconds is taken for dead (marked interrupted, its staging
    # deleted, its lock free), whatever host or process it ran in.
    heartbeat_seconds: Annotated[StrictFloat, checks.between(0.1, 3600)] = 10.0
    stale_after_seconds: StrictFloat = 60.0

    @field_validator("stale_after_seconds")
    @classmethod
    def _three_heartbeats(cls, value: float, info: ValidationInfo) -> float:
        heartbeat = info.data.get("heartbeat_seconds")  # absent: its own check failed
        if heartbeat is not None and value < 3 * heartbeat:
            least = f"at least 3 times scan.heartbeat_seconds ({3 * heartbeat:g})"
            checks.fail(f"must be {least}, got {value:g}")
        return value


_ARN = "arn:aws:iam::111122223333:role/mpscan-reader"
_STR = checks.string("must be str")  # what [[accounts]] and [organization] have always said


@dataclass(frozen=True)
class AccountTarget(checks.Table):
    """`[[accounts]]`: an account scanned through STS AssumeRole from the base credentials."""

    keys_sorted = True
    role_arn: Annotated[
        str, checks.matches(ROLE_ARN, lambda v: f"must be a role ARN like {_ARN}, got {v!r}")
    ]
    external_id: Annotated[str | None, _STR] = None
    session_name: Annotated[str, _STR] = "mpscan"
    regions: checks.Regions | None = None  # None = aws.regions

    @property
    def account_id(self) -> str:
        return self.role_arn.split(":")[4]


_ACCOUNT_IDS = Annotated[
    tuple[str, ...],
    checks.STRINGS,
    checks.each_matches(ACCOUNT_ID, "holds account ids (12 digits)"),
]


@dataclass(frozen=True)
class OrganizationSettings(checks.Table):
    """`[organization]`: every active account of the organization (ListAccounts), through
    arn:aws:iam::<id>:role/<role_name>."""

    keys_sorted = True
    role_name: Annotated[str, checks.matches(ROLE_NAME, "(a role name) is required")]
    include: _ACCOUNT_IDS = ()  # only these account ids (empty = all)
    exclude: _ACCOUNT_IDS = ()
    external_id: Annotated[str | None, _STR] = None
    session_name: Annotated[str, _STR] = "mpscan"


_RULES_KEYS = ("custom", "folder", "waivers_file")


@dataclass(frozen=True)
class RulesSettings(checks.Table):
    """`[rules]`: per-rule tables (`[rules.MP-006]`: enabled, severity, parameters), custom
    SQL rules (`[[rules.custom]]` and *.toml files in `folder`), and a waivers file. Checked
    against the rule registry by scanner.settings_check when commands load the config."""

    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    custom: Annotated[
        tuple[dict[str, Any], ...], checks.tables("must be an array of tables ([[rules.custom]])")
    ] = ()
    folder: checks.FilePath = None
    waivers_file: checks.FilePath = None

    @model_validator(mode="before")
    @classmethod
    def _rule_tables(cls, data: Any) -> Any:
        # In the file, rules' tables ([rules.MP-006]) sit beside the other keys.
        if not isinstance(data, dict):
            return data
        for key, value in data.items():
            if key not in _RULES_KEYS and not isinstance(value, dict):
                known = ", ".join(_RULES_KEYS)
                checks.fail(f"must be a table of a rule's settings (or one of: {known})", at=(key,))
        rules = {k: v for k, v in data.items() if k not in _RULES_KEYS}
        return {k: v for k, v in data.items() if k in _RULES_KEYS} | {"overrides": rules}


@dataclass(frozen=True)
class QuerySettings(checks.Table):
    # Seconds a statement of user SQL (`mpscan query`, each custom SQL rule) may run before
    # the database cancels it.
    timeout: Annotated[StrictFloat, checks.POSITIVE] = 300.0


@dataclass(frozen=True)
class ListenSettings(checks.Table):
    """`[listen]`: `mpscan listen` and `command = "listen"` jobs (docs/operations.md)."""

    # The SQS queue EventBridge delivers registry events to. Option: --queue-url.
    queue_url: StrictStr | None = field(default=None, metadata={"env": "MPSCAN_QUEUE_URL"})
    # Long polling: seconds a receive waits for a message (SQS allows 0 to 20).
    wait_seconds: Annotated[StrictInt, checks.between(0, 20)] = 20
    max_messages: Annotated[StrictInt, checks.between(1, 10)] = 10  # per receive (SQS: 1-10)
    # Seconds a received message stays hidden from other listeners; 0: the queue's own.
    visibility_timeout: Annotated[StrictInt, checks.between(0, 43200)] = 0
    # A message that is no registry change mpscan can apply: "delete" it, or "keep" it for
    # the queue's dead-letter redrive.
    unmatched: Annotated[
        StrictStr, checks.one_of(("delete", "keep"), "must be delete or keep", before=False)
    ] = "delete"


SNS_TOPIC = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$")
NOTIFY_TYPES = ("webhook", "sns")
_SEVERITY = checks.one_of(SEVERITIES, f"must be one of {', '.join(SEVERITIES)}", before=False)


@dataclass(frozen=True)
class NotifyTarget(checks.Table):
    """`[[notify]]`: where the findings a scan or an event opens are sent."""

    name: Annotated[str, checks.matches(re.compile(r"\S"), "(a non-empty string) is required")]
    type: Annotated[str, checks.one_of(NOTIFY_TYPES, "must be webhook or sns")]
    # webhook: the URL (a secret: a Slack webhook's path is its key), or better the name of
    # the environment variable that holds it.
    url: StrictStr | None = None
    url_env: StrictStr | None = None
    topic_arn: Annotated[
        str | None, checks.matches(SNS_TOPIC, "must be an SNS topic ARN (arn:aws:sns:...)")
    ] = None
    # Findings at this severity or worse; new and regressed ones only.
    min_severity: Annotated[StrictStr, _SEVERITY] = "high"
    digest_after: Annotated[StrictInt, checks.between(1, 1000)] = 20  # then counts by rule

    @model_validator(mode="after")
    def _where(self) -> "NotifyTarget":
        if self.type == "webhook" and (self.url is None) == (self.url_env is None):
            checks.fail("a webhook needs exactly one of 'url' or 'url_env'")
        if self.type == "webhook" and self.url and not self.url.startswith(("https://", "http://")):
            checks.fail("must be an http(s) URL", at=("url",))
        if self.type == "sns" and self.topic_arn is None:
            checks.fail("(an SNS topic ARN) is required", at=("topic_arn",))
        return self


def _templates_beside_the_file(value: str | None, info: ValidationInfo) -> str | None:
    return value and checks.beside_the_file(value, info)  # "" has always meant the built-in ones


@dataclass(frozen=True)
class ReportSettings(checks.Table):
    # A folder whose templates replace the built-in ones of the same name.
    templates: Annotated[StrictStr | None, AfterValidator(_templates_beside_the_file)] = None


_KEEP = checks.check(
    lambda v: type(v) is int and v >= 1, "must be an integer of 1 or more", before=True
)
_ONLY_FOR = {
    "regions": "scan",
    "format": "report",
    "output_dir": "report",
    "keep": "report",
    "queue_url": "listen",
}


@dataclass(frozen=True)
class ScheduleJob(checks.Table):
    """`[[schedule.jobs]]`: a scan, a report or an export to Security Hub run by `mpscan
    schedule`, on a 5-field crontab (`cron`) or every so often (`every`, in seconds once
    parsed); or a listener of registry events (`listen`), which runs from the service's
    start to its end."""

    name: Annotated[str, checks.matches(re.compile(r"\S"), "(a non-empty string) is required")]
    command: Annotated[
        str, checks.one_of(SCHEDULE_COMMANDS, "must be scan, report, export or listen")
    ]
    cron: Annotated[str | None, checks.string("must be a crontab string")] = None
    every: float | None = None
    regions: checks.Regions | None = None  # scan jobs: instead of aws.regions
    format: Annotated[str, checks.one_of(REPORT_FORMATS, _FORMATS)] = "html"  # report jobs on
    output_dir: Annotated[checks.FilePath, checks.string("(a folder) is required")] = None
    keep: Annotated[int, _KEEP] = 10
    queue_url: StrictStr | None = None  # listen jobs: instead of [listen] queue_url

    @field_validator("every", mode="plain")
    @classmethod
    def _duration(cls, value: Any, info: ValidationInfo) -> float:
        every, problem = checks.seconds(value)
        if problem:
            checks.fail(f"{problem} (job {info.data.get('name')!r})")
        return every

    @field_validator(*_ONLY_FOR, mode="before")
    @classmethod
    def _for_its_kind(cls, value: Any, info: ValidationInfo) -> Any:
        # A key of the other kind of job is refused once given, whatever its value.
        assert info.field_name is not None  # a field validator's, so it names its field
        kind = _ONLY_FOR[info.field_name]
        if info.data.get("command", kind) != kind:
            checks.fail(f"applies to {kind} jobs only")
        return value

    @model_validator(mode="after")
    def _when_and_where(self) -> "ScheduleJob":
        if self.command == "listen":
            if self.cron is not None or self.every is not None:
                checks.fail("a listen job runs all the time: give it no 'cron' or 'every'")
            return self
        if (self.cron is None) == (self.every is None):
            checks.fail(
                "needs exactly one of 'cron' (a 5-field crontab) or 'every' (30s, 15min, 6h)"
            )
        if self.command == "report" and self.output_dir is None:
            checks.fail("(a folder) is required", at=("output_dir",))
        return self


@dataclass(frozen=True)
class ScheduleSettings(checks.Table):
    """`[schedule]`: how `mpscan schedule` runs its jobs (APScheduler)."""

    # Each run starts up to this much later, at random.
    jitter_seconds: Annotated[StrictFloat, checks.at_least(0, "must be 0 or more")] = 0.0
    # A run this late (service busy or down) still runs.
    misfire_grace_seconds: Annotated[StrictInt, checks.above(0, "must be greater than 0")] = 300
    coalesce: StrictBool = True  # runs missed in a row run once, not once each
    jobs: Annotated[
        tuple[ScheduleJob, ...],
        checks.tables("must be [[schedule.jobs]] tables"),
        checks.unique("name", "is used by another job (names must be unique)"),
    ] = ()


@dataclass(frozen=True)
class Settings(checks.Table):
    database: DatabaseSettings = DatabaseSettings()
    aws: AwsSettings = AwsSettings()
    scan: ScanSettings = ScanSettings()
    rules: RulesSettings = RulesSettings()
    # [[waivers]]: rule, resource, reason, owner, expires (checked by scanner.rules.catalog)
    waivers: Annotated[tuple[dict[str, Any], ...], checks.tables("must be [[waivers]] tables")] = ()
    accounts: Annotated[
        tuple[AccountTarget, ...], checks.tables("must be [[accounts]] tables")
    ] = ()
    organization: OrganizationSettings | None = None
    report: ReportSettings = ReportSettings()
    query: QuerySettings = QuerySettings()
    listen: ListenSettings = ListenSettings()
    notify: Annotated[
        tuple[NotifyTarget, ...],
        checks.tables("must be [[notify]] tables"),
        checks.unique("name", "is used by another target (names must be unique)"),
    ] = ()
    schedule: ScheduleSettings = ScheduleSettings()
    source: Annotated[str, checks.NOT_A_KEY] = "defaults"  # the file's path, set by load_settings

    @model_validator(mode="after")
    def _one_list_of_accounts(self) -> "Settings":
        if self.accounts and self.organization is not None:
            checks.fail(
                "use [[accounts]] or [organization], not both (the accounts to scan must be "
                "one list)"
            )
        return self


# Settings whose command-line option is not --KEY (with dashes for underscores).
OPTIONS = {"url": "--db"}
# Sections whose every setting is checked for being text and nothing else (tests/test_config.py
# keeps it so): `override` takes text for them without validating the settings again, which
# costs a command without a config file (`--db` alone) more than a small scan's lock does.
TEXT_ONLY = ("database",)

SECTIONS = {
    "database": DatabaseSettings,
    "aws": AwsSettings,
    "scan": ScanSettings,
    "report": ReportSettings,
    "query": QuerySettings,
    "listen": ListenSettings,
}
# The other sections: lists of tables, or rule ids as keys.
LIST_SECTIONS = ("rules", "waivers", "accounts", "organization", "schedule", "notify")
_ALL_SECTIONS = [*SECTIONS, *LIST_SECTIONS]  # as an unknown one's message lists them


def load_settings(path: str | os.PathLike | None = None) -> Settings:
    """Read the config file (explicit path, $MPSCAN_CONFIG, or ./mpscan.toml if present).
    Commands load through scanner.settings_check.load_checked_settings, which judges more."""
    explicit = path or os.environ.get("MPSCAN_CONFIG")
    candidate = Path(explicit) if explicit else Path(DEFAULT_CONFIG_FILE)
    if not candidate.exists():
        if explicit:
            raise ConfigError(f"config error: config file {str(candidate)!r} not found")
        return _from_environment(Settings())
    try:
        data = tomllib.loads(candidate.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config error: {candidate}: {exc}") from None
    settings = checks.validate(Settings, data, _ALL_SECTIONS, candidate)
    return _from_environment(replace(settings, source=str(candidate)))


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
    settings = replace(settings, **{section: replace(getattr(settings, section), **given)})
    if section in TEXT_ONLY and all(isinstance(v, str) for v in given.values()):
        return settings  # text, where nothing but text is asked for: nothing to check again
    # These sections are checked whole again: an option can make a value from the file
    # wrong (--heartbeat-seconds against scan.stale_after_seconds).
    data = {name: asdict(getattr(settings, name)) for name in SECTIONS}
    checks.validate(Settings, data, _ALL_SECTIONS, options=(section, given, OPTIONS))
    return settings

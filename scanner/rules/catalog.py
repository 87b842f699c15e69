"""The rules in force: built-ins and custom SQL rules, with the config's overrides, and the
waivers. Everything here is checked when the config is loaded, so a typo in a rule id, a
parameter or a waiver stops mpscan with a config error (exit 2) before any scan."""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from scanner.config import QuerySettings
from scanner.errors import ConfigError
from scanner.rules import (  # noqa: F401 - registers the built-in rules
    approvals,
    cards,
    deployments,
    groups,
    packages,
)
from scanner.rules.base import REGISTRY, SEVERITIES, Rule, RuleDefinitionError

CUSTOM_FIELDS = (
    "id",
    "title",
    "severity",
    "resource_type",
    "rationale",
    "remediation",
    "remediation_cli",
    "sql",
)
WAIVER_FIELDS = ("rule", "resource", "reason", "owner", "expires")


@dataclass(frozen=True)
class ActiveRule:
    rule: Rule
    severity: str
    params: dict[str, Any]
    enabled: bool = True

    @property
    def id(self) -> str:
        return self.rule.id

    @property
    def applicable(self) -> bool:
        """False while a parameter the rule requires is empty: it judges nothing then."""
        return all(self.params.get(name) for name in self.rule.requires)


@dataclass(frozen=True)
class Waiver:
    rule_id: str
    resource: str  # an ARN, or a pattern with * and ?
    reason: str
    owner: str
    expires: date  # the last day it applies

    def matches(self, rule_id: str, arn: str) -> bool:
        return rule_id == self.rule_id and fnmatch.fnmatchcase(arn, self.resource)

    def active(self, today: date) -> bool:
        return today <= self.expires


@dataclass(frozen=True)
class Catalog:
    rules: tuple[ActiveRule, ...]
    waivers: tuple[Waiver, ...] = ()
    sources: dict[str, str] = field(default_factory=dict)
    sql_timeout: float = QuerySettings.timeout  # each SQL rule's, unless it sets its own

    def enabled(self, resource_type: str | None = None) -> list[ActiveRule]:
        return [
            r
            for r in self.rules
            if r.enabled and (resource_type is None or r.rule.resource_type == resource_type)
        ]

    def get(self, rule_id: str) -> ActiveRule:
        return next(r for r in self.rules if r.id == rule_id)


def _custom_rule(data: dict[str, Any], where: str) -> Rule:
    unknown = set(data) - set(CUSTOM_FIELDS) - {"reads", "timeout"}
    missing = [f for f in CUSTOM_FIELDS if f not in data]
    if unknown or missing:
        raise ConfigError(
            f"config error: custom rule in {where}: "
            + "; ".join(
                ([f"unknown keys {sorted(unknown)}"] if unknown else [])
                + ([f"missing {', '.join(missing)}"] if missing else [])
            )
        )
    sql = str(data["sql"]).strip()
    if not sql.lower().startswith(("select", "with")):
        raise ConfigError(
            f"config error: custom rule {data['id']} in {where}: sql must be a SELECT"
        )
    timeout = data.get("timeout")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
    ):
        raise ConfigError(
            f"config error: custom rule {data['id']} in {where}: timeout must be a number of "
            f"seconds greater than 0, got {timeout!r}"
        )
    try:
        return Rule(
            id=str(data["id"]),
            title=str(data["title"]),
            severity=str(data["severity"]),
            resource_type=str(data["resource_type"]),
            rationale=str(data["rationale"]),
            remediation=str(data["remediation"]),
            remediation_cli=str(data["remediation_cli"]),
            reads=tuple(data.get("reads", ())),
            sql=sql,
            timeout=float(timeout) if timeout is not None else None,
            source=where,
        ).validate()
    except RuleDefinitionError as exc:
        raise ConfigError(f"config error: {exc} (in {where})") from None


def _custom_rules(settings) -> list[Rule]:
    found = [_custom_rule(c, "[[rules.custom]]") for c in settings.rules.custom]
    folder = settings.rules.folder
    if folder:
        path = Path(folder)
        if not path.is_dir():
            raise ConfigError(f"config error: 'rules.folder' {folder!r} is not a directory")
        for file in sorted(path.glob("*.toml")):
            try:
                data = tomllib.loads(file.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise ConfigError(f"config error: {file}: {exc}") from None
            found.append(_custom_rule(data, str(file)))
    return found


def _apply(rule: Rule, override: dict[str, Any]) -> ActiveRule:
    where = f"rules.{rule.id}"
    severity, enabled, params = rule.severity, True, dict(rule.params)
    for key, value in override.items():
        if key == "enabled":
            if not isinstance(value, bool):
                raise ConfigError(f"config error: '{where}.enabled' must be true or false")
            enabled = value
        elif key == "severity":
            if value not in SEVERITIES:
                raise ConfigError(
                    f"config error: '{where}.severity' must be one of {', '.join(SEVERITIES)}, "
                    f"got {value!r}"
                )
            severity = value
        elif key in rule.params:
            expected = type(rule.params[key])
            if not isinstance(value, expected) or isinstance(value, bool) != isinstance(
                rule.params[key], bool
            ):
                raise ConfigError(
                    f"config error: '{where}.{key}' must be {expected.__name__}, got {value!r}"
                )
            if isinstance(value, list) and not all(isinstance(v, str) for v in value):
                raise ConfigError(f"config error: '{where}.{key}' must be a list of strings")
            if key in rule.bounds and not rule.bounds[key][0] <= value <= rule.bounds[key][1]:
                least, most = rule.bounds[key]
                raise ConfigError(
                    f"config error: '{where}.{key}' must be from {least} to {most}, got {value!r}"
                )
            params[key] = value
        else:
            known = ["enabled", "severity", *rule.params]
            raise ConfigError(
                f"config error: unknown parameter '{where}.{key}' (known: {', '.join(known)})"
            )
    return ActiveRule(rule, severity, params, enabled)


def _waivers(settings, known_ids: set[str]) -> list[Waiver]:
    entries = [(w, "[[waivers]]") for w in settings.waivers]
    if settings.rules.waivers_file:
        path = Path(settings.rules.waivers_file)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config error: waivers file {str(path)!r} not found") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config error: {path}: {exc}") from None
        entries += [(w, str(path)) for w in data.get("waivers", [])]
    waivers = []
    for entry, where in entries:
        unknown = set(entry) - set(WAIVER_FIELDS)
        missing = [f for f in WAIVER_FIELDS if not entry.get(f)]
        if unknown or missing:
            problem = (
                f"unknown keys {sorted(unknown)}" if unknown else f"missing {', '.join(missing)}"
            )
            raise ConfigError(f"config error: waiver in {where}: {problem}")
        if entry["rule"] not in known_ids:
            raise ConfigError(f"config error: waiver in {where}: unknown rule {entry['rule']!r}")
        expires = entry["expires"]
        if isinstance(expires, str):
            try:
                expires = date.fromisoformat(expires)
            except ValueError:
                expires = None
        if not isinstance(expires, date):
            raise ConfigError(
                f"config error: waiver in {where}: 'expires' must be a date (2027-01-31)"
            )
        waivers.append(
            Waiver(
                entry["rule"],
                str(entry["resource"]),
                str(entry["reason"]),
                str(entry["owner"]),
                expires,
            )
        )
    return waivers


def load(settings) -> Catalog:
    custom = _custom_rules(settings)
    rules: dict[str, Rule] = dict(REGISTRY)
    for rule in custom:
        if rule.id in rules:
            raise ConfigError(f"config error: custom rule {rule.id} ({rule.source}) reuses an id")
        rules[rule.id] = rule
    for rule_id in settings.rules.overrides:
        if rule_id not in rules:
            raise ConfigError(
                f"config error: unknown rule 'rules.{rule_id}' (see the rules with: mpscan rules)"
            )
    active = tuple(
        _apply(rule, settings.rules.overrides.get(rule_id, {}))
        for rule_id, rule in sorted(rules.items())
    )
    return Catalog(
        active, tuple(_waivers(settings, set(rules))), sql_timeout=settings.query.timeout
    )


def check_settings(settings) -> None:
    load(settings)

"""What a rule is: small code plus metadata, validated when the rule is registered.

A rule judges one resource (a model package or a model package group, as a row of the
inventory with its JSON columns parsed) and answers a `Result`: `fail` with a message,
`error` when the data it needs is unknown (it never passes what it did not see), or None
for a pass. Waivers are applied afterwards, by the evaluator.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from scanner import kinds
from scanner.rules import frameworks
from scanner.stages import SEVERITIES

PACKAGE = kinds.MODEL_PACKAGE.name
GROUP = kinds.MODEL_PACKAGE_GROUP.name
ENDPOINT = kinds.ENDPOINT.name
RESOURCE_TYPES = tuple(k.name for k in kinds.KINDS)
STATUSES = ("fail", "pass", "error", "waived")
RULE_ID = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*-\d{3,}$")


class RuleDefinitionError(ValueError):
    """A rule whose metadata is incomplete or wrong: a bug (built-in) or a config error."""


@dataclass(frozen=True)
class Result:
    status: str  # "fail" or "error"
    message: str


def fail(message: str) -> Result:
    return Result("fail", message)


def error(message: str) -> Result:
    return Result("error", message)


Check = Callable[[Mapping[str, Any], Mapping[str, Any]], Result | None]


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: str
    resource_type: str
    rationale: str
    remediation: str
    remediation_cli: str  # an AWS CLI command, with <placeholders>
    reads: tuple[str, ...]  # the inventory columns the check reads
    check: Check | None = None  # None for SQL rules, which judge in the database
    params: Mapping[str, Any] = field(default_factory=dict)  # defaults; config overrides
    # an int parameter's least and greatest values, checked when the config is loaded
    bounds: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    sql: str | None = None
    timeout: float | None = None  # SQL rules: seconds, instead of [query] timeout
    source: str = "built-in"
    # (framework, control) pairs it gives evidence for (scanner.rules.frameworks)
    controls: tuple[tuple[str, str], ...] = ()
    references: tuple[str, ...] = ()  # https URLs of where its heuristic or check comes from
    # (resource type, column) of other kinds its verdicts rest on: what the judge joins to
    # its rows (scanner.store.read.deployed), such as the package an endpoint serves
    joins: tuple[tuple[str, str], ...] = ()
    # Columns of `reads` the check only tests for holding something (Python's truth of the
    # value): the judge reads whether they do (scanner.store.json_sql), not their JSON,
    # unless another rule in force reads their content.
    present: tuple[str, ...] = ()
    # Parameters without which the rule judges nothing (not applicable while any is empty):
    # the judge neither runs it nor reads for it then.
    requires: tuple[str, ...] = ()

    @property
    def needs(self) -> tuple[str, ...]:
        """The IAM actions whose answers its verdicts rest on: the calls that fill the
        columns it reads and joins (scanner.kinds), Search and the describe it falls back to."""
        read = [(self.resource_type, c) for c in self.reads] + list(self.joins)
        return tuple(
            dict.fromkeys(
                f"sagemaker:{op}" for t, c in read for op in kinds.BY_NAME[t].operations_for(c)
            )
        )

    def validate(self) -> Rule:
        problems = []
        if not RULE_ID.match(self.id):
            problems.append(f"id {self.id!r} must look like MP-001 (letters, dash, 3+ digits)")
        if self.severity not in SEVERITIES:
            problems.append(f"severity must be one of {', '.join(SEVERITIES)}")
        if self.resource_type not in RESOURCE_TYPES:
            problems.append(f"resource_type must be one of {', '.join(RESOURCE_TYPES)}")
        for name in ("title", "rationale", "remediation"):
            if not str(getattr(self, name) or "").strip():
                problems.append(f"{name} is empty")
        if "aws " not in self.remediation_cli:
            problems.append("remediation_cli must be an AWS CLI command ('aws ...')")
        if (self.check is None) == (self.sql is None):
            problems.append("a rule has either code (check) or SQL, not both or neither")
        if self.check is not None and not self.reads:
            problems.append("reads must name the columns the check uses")
        for name, (least, most) in self.bounds.items():
            default = self.params.get(name)
            if not isinstance(default, int) or not least <= default <= most:
                problems.append(f"parameter {name} must have an int default in its bounds")
        if any(not url.startswith("https://") for url in self.references):
            problems.append("references must be https URLs")
        if stray := sorted(set(self.present) - set(self.reads)):
            problems.append(f"present names columns it does not read: {', '.join(stray)}")
        if stray := sorted(set(self.requires) - set(self.params)):
            problems.append(f"requires names unknown parameters: {', '.join(stray)}")
        if unknown := sorted({t for t, _ in self.joins} - set(RESOURCE_TYPES)):
            problems.append(f"joins name unknown resource types: {', '.join(unknown)}")
        if missing := frameworks.unknown(self.controls):
            problems.append(f"controls not in scanner.rules.frameworks: {', '.join(missing)}")
        if problems:
            raise RuleDefinitionError(f"rule {self.id}: " + "; ".join(problems))
        return self


REGISTRY: dict[str, Rule] = {}


def rule(**metadata: Any) -> Callable[[Check], Check]:
    """Register a built-in rule: `@rule(id=..., title=..., ...)` above its check."""

    def register(check: Check) -> Check:
        meta = dict(metadata)
        meta["reads"] = tuple(meta.get("reads", ()))
        meta["controls"] = tuple(tuple(c) for c in meta.get("controls", ()))
        meta["references"] = tuple(meta.get("references", ()))
        meta["joins"] = tuple(tuple(j) for j in meta.get("joins", ()))
        built = Rule(check=check, **meta).validate()
        if built.id in REGISTRY:
            raise RuleDefinitionError(f"rule {built.id} is registered twice")
        REGISTRY[built.id] = built
        return check

    return register

"""Test support for the exports (OCSF, ASFF, Security Hub): a scanned registry whose
findings have every status, and ASFF checked against botocore's `securityhub` model."""

from __future__ import annotations

import re
from functools import cache

import botocore.session
from botocore.validate import ParamValidator

from tests.report_support import hostile_registry, write_config

WAIVER = """
[[waivers]]
rule = "MP-001"
resource = "arn:aws:sagemaker:us-east-1:123456789012:model-package/plain/1"
reason = "Legacy <b>model</b>, re-registered in Q1"
owner = "ml-platform@example.com"
expires = 2099-12-31
"""


def scanned_with_every_status(sm, mpscan, db_url, plain: int = 3) -> dict[str, list[str]]:
    """Two scans: the second after a package was deleted, so its findings are resolved
    (pass); one MP-001 finding is waived, the others fail."""
    write_config(WAIVER, db_url)
    arns = hostile_registry(sm, plain_packages=plain)
    for step in ("first", "second"):
        result = mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q")
        assert result.exit_code == 0, result.stderr
        if step == "first":
            sm["us-east-1"].delete_model_package(ModelPackageName=arns["formula"][0])
    return arns


@cache
def _model():
    return botocore.session.get_session().get_service_model("securityhub")


def _documented_max(shape_member_doc: str) -> tuple[int | None, int | None]:
    """(max characters, max items) a member's documentation states, if any."""
    text = re.sub(r"<[^>]+>", "", shape_member_doc or "")
    chars = re.search(r"Maximum (?:length )?of (\d+)(?: length)?\.", text)
    items = re.search(r"Maximum number of (\d+) items", text)
    return (int(chars.group(1)) if chars else None, int(items.group(1)) if items else None)


def documented_limits(shape_name: str, member: str) -> tuple[int | None, int | None]:
    raw = _model()._shape_resolver._shape_map[shape_name]["members"][member]
    return _documented_max(raw.get("documentation", ""))


def _walk(value, shape, path: str, doc: str, problems: list[str]) -> None:
    max_chars, max_items = _documented_max(doc)
    if shape.type_name == "structure":
        for name, member_value in value.items():
            member = shape.members[name]  # ParamValidator reports unknown members
            raw = shape._shape_model["members"][name]
            _walk(member_value, member, f"{path}.{name}", raw.get("documentation", ""), problems)
    elif shape.type_name == "list":
        if max_items is not None and len(value) > max_items:
            problems.append(f"{path}: {len(value)} items, at most {max_items}")
        for i, item in enumerate(value):
            _walk(item, shape.member, f"{path}[{i}]", "", problems)
    elif shape.type_name == "map":
        for key, item in value.items():
            _walk(key, shape.key, f"{path} key", "", problems)
            _walk(item, shape.value, f"{path}[{key}]", "", problems)
    elif shape.type_name == "string":
        if shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} is not one of {shape.enum}")
        pattern = shape.metadata.get("pattern")
        # Security Hub matches the whole value, and `.` matches no line break (Java's rule)
        if pattern and not re.fullmatch(pattern, value):
            problems.append(f"{path}: {value!r} does not match {pattern}")
        if max_chars is not None and len(value) > max_chars:
            problems.append(f"{path}: {len(value)} characters, at most {max_chars}")


def asff_problems(findings: list[dict]) -> list[str]:
    """What botocore's model says is wrong with a BatchImportFindings request of these
    findings: ParamValidator (required members, unknown members, types) and then each
    value against its shape's enum and pattern and its member's documented limits."""
    request_shape = _model().operation_model("BatchImportFindings").input_shape
    report = ParamValidator().validate({"Findings": findings}, request_shape)
    problems = [report.generate_report()] if report.has_errors() else []
    finding_shape = _model().shape_for("AwsSecurityFinding")
    for i, finding in enumerate(findings):
        _walk(finding, finding_shape, f"Findings[{i}]", "", problems)
        fields = finding.get("ProductFields", {})
        # FieldMap's limits are on the member's documentation, in prose
        if len(fields) > 50 or any(len(k) > 128 or len(v) > 2048 for k, v in fields.items()):
            problems.append(f"Findings[{i}].ProductFields: beyond 50 pairs, 128/2048 characters")
    return problems

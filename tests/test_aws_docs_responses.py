"""Real DescribeModelPackage responses published in AWS's documentation (tests/data/aws_docs,
cited in its SOURCES.md) go through the same transform and rules as a scanned package, and
are judged as a reader of that documentation would expect."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scanner import transform
from scanner.rules import catalog  # noqa: F401 - registers the built-in rules
from scanner.rules.base import REGISTRY
from scanner.store.inventory import table_rows
from scanner.store.schema import ModelPackage

DOCS = Path(__file__).parent / "data" / "aws_docs"
RESPONSES = sorted(DOCS.glob("*.json"))
NOW = {"now": datetime(2026, 12, 1, tzinfo=UTC)}
# What each documented package breaks, as a reader of its page sees it; every other package
# rule passes.
EXPECTED = {
    "model_registry_details": {
        "MP-001": "fail",  # no SecurityConfig at all
        "MP-004": "fail",  # a tag (with SageMaker's recorded digest)
        "MP-006": "error",  # the page shows no ListTags, so tags are unknown
        "MP-007": "fail",  # PendingManualApproval since 2020-10-29
        "MP-011": "fail",  # no MetadataProperties
    },
}


def row_of(path: Path) -> dict:
    response = json.loads(path.read_text())
    response.pop("ResponseMetadata", None)  # boto3's, not the service's
    region = response["ModelPackageArn"].split(":")[3]
    document = {"describe": response}
    rows = transform.package_rows(document, "123456789012", region)
    [row] = table_rows(ModelPackage, [rows.package])
    return row


def test_every_fixture_is_cited_and_judged():
    sources = (DOCS / "SOURCES.md").read_text()
    assert RESPONSES and {p.stem for p in RESPONSES} == set(EXPECTED)
    for path in RESPONSES:
        assert f"`{path.name}`" in sources and "https://docs.aws.amazon.com/" in sources


@pytest.mark.parametrize("path", RESPONSES, ids=lambda p: p.stem)
def test_a_documented_tag_with_recorded_digest_is_named_as_such(path):
    row = row_of(path)
    [container] = row["inference_specification"]["Containers"]
    image, digest = container["Image"], container["ImageDigest"]
    assert "@" not in image and digest.startswith("sha256:")

    rule = REGISTRY["MP-004"]
    result = rule.check(row, {**rule.params, **NOW})
    assert result is not None and result.status == "fail"
    repository = image.rsplit(":", 1)[0]
    assert f"{image} (tag with recorded ImageDigest {digest}, not pinned" in result.message
    assert f"use {repository}@{digest}" in result.message


@pytest.mark.parametrize("path", RESPONSES, ids=lambda p: p.stem)
def test_a_documented_response_is_judged_by_every_package_rule(path):
    row = row_of(path)
    verdicts = {}
    for rule in REGISTRY.values():
        if rule.resource_type == "model_package":
            result = rule.check(row, {**rule.params, **NOW})
            verdicts[rule.id] = "pass" if result is None else result.status
    expected = EXPECTED[path.stem]
    assert verdicts == {rule_id: expected.get(rule_id, "pass") for rule_id in verdicts}

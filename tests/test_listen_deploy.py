"""docs/deploy/events*.yaml: valid CloudFormation (cfn-lint, offline), and their rules'
event patterns, put into moto's EventBridge with the queue as target, deliver exactly the
registry events mpscan applies (and `mpscan listen` applies them)."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
import yaml
from cfnlint.api import ManualArgs, lint

from tests.conftest import query
from tests.support import make_group
from tests.support_events import api_call, state_change

DEPLOY = Path(__file__).resolve().parents[1] / "docs" / "deploy"
REGION = "us-east-1"


class _Template(yaml.SafeLoader):
    """CloudFormation YAML: its !Ref, !GetAtt ... tags read as plain values."""


_Template.add_multi_constructor("!", lambda loader, suffix, node: None)


def _rules(name: str) -> dict[str, dict]:
    template = yaml.load((DEPLOY / name).read_text(), Loader=_Template)  # noqa: S506
    return {
        key: resource["Properties"]["EventPattern"]
        for key, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Events::Rule"
    }


@pytest.mark.parametrize("name", ["events.yaml", "events-member.yaml"])
def test_templates_pass_cfn_lint(name):
    # cfn-lint's defaults, as its command line runs them: errors and warnings
    problems = lint((DEPLOY / name).read_text(), config=ManualArgs(regions=["us-east-1"]))
    assert not problems, [str(p) for p in problems]


def test_member_accounts_forward_what_the_queue_account_listens_to():
    central, member = _rules("events.yaml"), _rules("events-member.yaml")
    assert member["StateChangeRule"] == central["StateChangeRule"]
    assert member["ApiCallRule"] == central["ApiCallRule"]


def test_the_rules_send_registry_events_to_the_queue_and_listen_applies_them(
    standin, sm, mpscan, tmp_path
):
    client = sm[REGION]
    arn = make_group(client, "g", 1, ModelApprovalStatus="PendingManualApproval")[0]
    db_url = f"sqlite:///{tmp_path / 'inventory.db'}"
    assert mpscan("scan", "--regions", REGION, "--db", db_url, "-q").exit_code == 0
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events = boto3.client("events", region_name=REGION)
    for name, pattern in _rules("events.yaml").items():
        if name.startswith("Central"):
            continue  # on the central bus, as the member rules' target
        events.put_rule(Name=name, EventPattern=json.dumps(pattern))
        events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": queue_arn}])

    client.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    client.add_tags(ResourceArn=arn, Tags=[{"Key": "owner", "Value": "ml"}])
    sent = [
        state_change(client.describe_model_package(ModelPackageName=arn), REGION),
        api_call("AddTags", REGION, {"resourceArn": arn}),
        api_call("CreateModel", REGION, {"modelName": "m"}),  # nothing mpscan refreshes
    ]
    answer = events.put_events(
        Entries=[
            {
                "Source": "aws.sagemaker",
                "DetailType": e["detail-type"],
                "Detail": json.dumps(e["detail"]),
                "Resources": e["resources"],
            }
            for e in sent
        ]
    )
    assert answer["FailedEntryCount"] == 0
    (tmp_path / "l.toml").write_text("[listen]\nwait_seconds = 0\n")

    result = mpscan(
        "listen",
        "--drain",
        "--queue-url",
        url,
        "--db",
        db_url,
        "--config",
        str(tmp_path / "l.toml"),
    )

    assert result.exit_code == 0, result.stderr
    assert "2 received, 2 applied" in result.stderr  # CreateModel matched no rule
    assert query(db_url, "SELECT model_approval_status FROM model_packages") == [("Approved",)]
    assert query(db_url, "SELECT key, value FROM model_package_tags") == [("owner", "ml")]

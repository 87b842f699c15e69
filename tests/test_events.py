"""What a queued message says changed: AWS's documented events and the registry calls."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from scanner.aws.events import NotApplicable, parse
from tests.support_events import api_call, documented, state_change, validate

ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/3"
ENDPOINT_ARN = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/live"
CARD_ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-card/card"
GROUP_ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/churn"


def test_the_documented_state_change_names_its_package_and_time():
    text = documented("eventbridge_model_package_state_change.json")
    validate(json.loads(text))
    change = parse(text)
    assert (change.kind, change.account_id, change.region) == (
        "model_package",
        "123456789012",
        "us-east-2",
    )
    assert change.name.endswith(":model-package/versionedmp-p-idy6c3e1fiqj/2")
    assert change.event_id == "844e2571-85d4-695f-b930-0153b71dcb42"
    assert change.modified == datetime(2021, 2, 24, 17, 0, 14, tzinfo=UTC)


def test_the_documented_endpoint_state_change_names_the_endpoint():
    """AWS's example endpoint state change (tests/data/aws_docs_events): the endpoint by its
    name (the ARN spells it in lower case), always read again (no LastModifiedTime kept: an
    endpoint's status may move without it)."""
    change = parse(documented("eventbridge_endpoint_state_change.json"))
    assert (change.kind, change.name, change.modified) == ("endpoint", "MyEndpoint", None)
    assert (change.account_id, change.region) == ("123456789012", "us-west-2")
    assert change.event_id == "d2921b5a-b0ad-cace-a8e3-0f159d018e06"
    assert change.event_time == datetime(2020, 3, 10, 9, 18, 9, 50000, tzinfo=UTC)


def test_a_documented_call_mpscan_does_not_refresh_is_not_applicable():
    detail = json.loads(documented("cloudtrail_create_model.json"))
    event = api_call(detail["eventName"], "us-west-2", detail["requestParameters"])
    with pytest.raises(NotApplicable, match="changes no registry resource"):
        parse(json.dumps(event))


def test_the_documented_create_endpoint_record_names_the_endpoint():
    """AWS's CreateEndpoint record (tests/data/aws_docs_events): the endpoint by its name (the
    ARN in its response spells it in lower case), where the call ran."""
    detail = json.loads(documented("cloudtrail_create_endpoint.json"))
    event = api_call(
        detail["eventName"], detail["awsRegion"], detail["requestParameters"],
        detail["responseElements"],
    )  # fmt: skip
    event["detail"]["recipientAccountId"] = detail["recipientAccountId"]
    change = parse(json.dumps(event))
    assert (change.kind, change.name, change.event_name) == (
        "endpoint",
        "ExampleEndpoint",
        "CreateEndpoint",
    )
    assert (change.account_id, change.region) == ("444455556666", "us-west-2")


@pytest.mark.parametrize(
    ("call", "request_", "kind", "name"),
    [
        (
            "AddTags",
            {"resourceArn": ARN, "tags": [{"key": "a", "value": "b"}]},
            "model_package",
            ARN,
        ),
        (
            "DeleteTags",
            {"resourceArn": GROUP_ARN, "tagKeys": ["a"]},
            "model_package_group",
            GROUP_ARN,
        ),
        (
            "PutModelPackageGroupPolicy",
            {"modelPackageGroupName": "churn", "resourcePolicy": "{}"},
            "model_package_group",
            "churn",
        ),
        (
            "DeleteModelPackageGroupPolicy",
            {"modelPackageGroupName": "churn"},
            "model_package_group",
            "churn",
        ),
        (
            "DeleteModelPackageGroup",
            {"modelPackageGroupName": "churn"},
            "model_package_group",
            "churn",
        ),
        (
            "CreateModelPackageGroup",
            {"modelPackageGroupName": "churn"},
            "model_package_group",
            "churn",
        ),
        ("DeleteModelPackage", {"modelPackageName": ARN}, "model_package", ARN),
        (
            "UpdateModelPackage",
            {"modelPackageArn": ARN, "modelApprovalStatus": "Approved"},
            "model_package",
            ARN,
        ),
        ("CreateEndpoint", {"endpointName": "Live", "endpointConfigName": "c"}, "endpoint", "Live"),
        (
            "UpdateEndpoint",
            {"endpointName": "Live", "endpointConfigName": "c2"},
            "endpoint",
            "Live",
        ),
        ("UpdateEndpointWeightsAndCapacities", {"endpointName": "Live"}, "endpoint", "Live"),
        ("DeleteEndpoint", {"endpointName": "Live"}, "endpoint", "Live"),
        ("AddTags", {"resourceArn": ENDPOINT_ARN}, "endpoint", ENDPOINT_ARN),
        ("CreateModelCard", {"modelCardName": "card"}, "model_card", "card"),
        ("UpdateModelCard", {"modelCardName": "card", "modelCardStatus": "Draft"},
         "model_card", "card"),
        ("DeleteModelCard", {"modelCardName": "card"}, "model_card", "card"),
        ("DeleteTags", {"resourceArn": CARD_ARN}, "model_card", CARD_ARN),
    ],
)  # fmt: skip
def test_each_registry_call_names_the_resource_to_read_again(call, request_, kind, name):
    change = parse(json.dumps(api_call(call, "us-east-1", request_)))
    assert (change.kind, change.name, change.event_name) == (kind, name, call)
    assert (change.account_id, change.region) == ("123456789012", "us-east-1")


def test_the_record_says_where_the_call_ran():
    event = api_call("AddTags", "eu-west-1", {"resourceArn": ARN})
    event["detail"]["recipientAccountId"] = "444455556666"
    change = parse(json.dumps(event))
    assert (change.account_id, change.region) == ("444455556666", "eu-west-1")


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps({"id": "x"}), "not an EventBridge event"),
        (
            json.dumps(
                {
                    **api_call("AddTags", "us-east-1", {"resourceArn": ARN}),
                    "detail-type": "EC2 Instance State-change Notification",
                    "source": "aws.ec2",
                }
            ),
            "not a registry event",
        ),
        (
            json.dumps(
                api_call(
                    "AddTags",
                    "us-east-1",
                    {"resourceArn": "arn:aws:sagemaker:us-east-1:123456789012:training-job/t"},
                )
            ),
            "outside the model registry",
        ),
    ],
)
def test_other_messages_say_why_they_are_not_applicable(body, why):
    with pytest.raises(NotApplicable, match=why):
        parse(body)


def test_a_failed_call_changed_nothing():
    event = api_call("DeleteModelPackage", "us-east-1", {"modelPackageName": ARN})
    event["detail"]["errorCode"] = "AccessDenied"
    with pytest.raises(NotApplicable, match="AccessDenied"):
        parse(json.dumps(event))


def test_an_event_through_sns_is_unwrapped():
    describe = {"ModelPackageArn": ARN, "LastModifiedTime": "2026-12-01T10:00:00Z"}
    inner = state_change(describe, "us-east-1")
    wrapped = {"Type": "Notification", "MessageId": "m", "Message": json.dumps(inner)}
    change = parse(json.dumps(wrapped))
    assert change.name == ARN
    assert change.modified == datetime(2026, 12, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    "value", [1614186014254, "1614186014254", 1614186014254.0, "2021-02-24T17:00:14.254Z"]
)
def test_times_as_aws_examples_write_them(value):
    describe = {"ModelPackageArn": ARN, "LastModifiedTime": value}
    change = parse(json.dumps(state_change(describe, "us-east-1")))
    assert change.modified == datetime(2021, 2, 24, 17, 0, 14, 254000, tzinfo=UTC)

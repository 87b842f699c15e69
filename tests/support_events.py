"""Registry events for the tests, shaped like AWS's documented examples and checked against
the fields those examples document (tests/data/aws_docs_events/SOURCES.md)."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import botocore.session
import jsonschema

DOCS = Path(__file__).parent / "data" / "aws_docs_events"
ACCOUNT = "123456789012"

# EventBridge's event structure: every field its reference lists as always present.
ENVELOPE = {
    "type": "object",
    "required": [
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    ],
    "properties": {
        "version": {"type": "string"},
        "id": {"type": "string"},
        "detail-type": {"type": "string"},
        "account": {"type": "string", "pattern": "^[0-9]{12}$"},
        "time": {"type": "string"},
        "region": {"type": "string"},
        "resources": {"type": "array", "items": {"type": "string"}},
        "detail": {"type": "object"},
    },
}
# A CloudTrail record: the fields of the records in SageMaker's CloudTrail page.
RECORD = {
    "type": "object",
    "required": [
        "eventVersion",
        "userIdentity",
        "eventTime",
        "eventSource",
        "eventName",
        "awsRegion",
        "sourceIPAddress",
        "userAgent",
        "requestParameters",
        "responseElements",
        "requestID",
        "eventID",
        "eventType",
        "recipientAccountId",
    ],
    "properties": {
        "eventSource": {"const": "sagemaker.amazonaws.com"},
        "eventType": {"const": "AwsApiCall"},
        "requestParameters": {"type": ["object", "null"]},
        "responseElements": {"type": ["object", "null"]},
        "recipientAccountId": {"type": "string", "pattern": "^[0-9]{12}$"},
    },
}


def documented(name: str) -> str:
    return (DOCS / name).read_text()


def _describe_members() -> set[str]:
    model = botocore.session.get_session().get_service_model("sagemaker")
    return set(model.shape_for("DescribeModelPackageOutput").members)


def validate(event: dict[str, Any]) -> None:
    """The event has every documented field; a state change's detail only members of
    DescribeModelPackageOutput; a CloudTrail record every field of the documented ones."""
    jsonschema.validate(event, ENVELOPE)
    if event["detail-type"] == "AWS API Call via CloudTrail":
        jsonschema.validate(event["detail"], RECORD)
    else:
        extra = set(event["detail"]) - _describe_members()
        assert not extra, f"not DescribeModelPackage members: {extra}"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def state_change(describe: dict[str, Any], region: str, **envelope: Any) -> dict[str, Any]:
    """A "SageMaker Model Package State Change" as AWS's example is, for this package (its
    DescribeModelPackage answer: the detail holds those members)."""
    template = json.loads(documented("eventbridge_model_package_state_change.json"))
    detail = {
        k: (v.isoformat() if isinstance(v, datetime) else v)
        for k, v in describe.items()
        if k != "ResponseMetadata"
    }
    event = {
        **template,
        "id": str(uuid.uuid4()),
        "source": "aws.sagemaker",
        "account": ACCOUNT,
        "time": _now(),
        "region": region,
        "resources": [describe["ModelPackageArn"]],
        "detail": detail,
        **envelope,
    }
    validate(event)
    return event


def api_call(
    name: str,
    region: str,
    request: dict[str, Any],
    response: dict[str, Any] | None = None,
    **envelope: Any,
) -> dict[str, Any]:
    """An "AWS API Call via CloudTrail" event of SageMaker call `name`, its record shaped as
    the documented CreateEndpoint record (camelCase parameters, as CloudTrail logs them)."""
    record = copy.deepcopy(json.loads(documented("cloudtrail_create_endpoint.json")))
    record.update(
        eventTime=_now(),
        eventName=name,
        awsRegion=region,
        requestParameters=request,
        responseElements=response,
        eventID=str(uuid.uuid4()),
        recipientAccountId=ACCOUNT,
    )
    event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.sagemaker",
        "account": ACCOUNT,
        "time": _now(),
        "region": region,
        "resources": [],
        "detail": record,
        **envelope,
    }
    validate(event)
    return event


def endpoint_state_change(describe: dict[str, Any], region: str) -> dict[str, Any]:
    """A "SageMaker Endpoint State Change" as AWS's example is, for this endpoint (its
    DescribeEndpoint answer), its status spelled as the example spells it (IN_SERVICE)."""
    event = json.loads(documented("eventbridge_endpoint_state_change.json"))
    status = str(describe["EndpointStatus"])
    event.update(
        id=str(uuid.uuid4()),
        account=ACCOUNT,
        region=region,
        time=_now(),
        resources=[describe["EndpointArn"]],
    )
    event["detail"].update(
        EndpointName=describe["EndpointName"],
        EndpointArn=describe["EndpointArn"],
        EndpointConfigName=describe["EndpointConfigName"],
        EndpointStatus="".join("_" + c if c.isupper() else c for c in status).lstrip("_").upper(),
    )
    return event


def send(sqs, queue_url: str, *events: dict[str, Any] | str) -> None:
    """Each event as EventBridge's SQS target delivers it: the event's JSON as the body."""
    for event in events:
        body = event if isinstance(event, str) else json.dumps(event)
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)

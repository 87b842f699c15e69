"""`mpscan listen`: registry events from a real SQS queue (moto's, in the stand-in) reach the
inventory, its history and the findings, once each, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from sqlalchemy import create_engine

from scanner.store import history
from tests.conftest import query
from tests.support import make_group, make_unversioned, public_policy
from tests.support_events import api_call, endpoint_state_change, send, state_change
from tests.support_serving import make_card, make_config, make_endpoint, make_model

REGION = "us-east-1"


@pytest.fixture
def queue(standin):
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="mpscan-events")["QueueUrl"]
    return sqs, url


@pytest.fixture
def listen(mpscan, tmp_path, queue):
    """`mpscan listen --drain` of the queue: applies what is queued, then exits."""
    (tmp_path / "mpscan.toml").write_text(
        f'[aws]\nregions = ["{REGION}"]\n[listen]\nwait_seconds = 0\n'
    )

    def run(db_url: str, *extra: str):
        return mpscan(
            "listen",
            "--drain",
            "--queue-url",
            queue[1],
            "--db",
            db_url,
            "--config",
            str(tmp_path / "mpscan.toml"),
            *extra,
        )

    return run


def _scan(mpscan, db_url):
    result = mpscan("scan", "--regions", REGION, "--db", db_url)
    assert result.exit_code == 0, result.output


def _left(queue) -> int:
    sqs, url = queue
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


def _calls(standin) -> int:
    return sum(
        sum(regions.values(), start=0)
        if isinstance(regions, int)
        else sum(k["ok"] + k["error"] for k in regions.values())
        for op, regions in standin.stats()["operations"].items()
    )


def _verdicts(db_url, rule: str, arn: str) -> list[tuple]:
    """(status, message, said by an event) of a finding after each of its changes, newest
    first."""
    return query(
        db_url,
        "SELECT f.status, f.message, fe.event_id IS NOT NULL FROM findings f "
        "JOIN finding_events fe ON fe.finding_id = f.id WHERE f.rule_id = :r "
        "AND f.resource_arn = :a ORDER BY fe.id DESC",
        r=rule,
        a=arn,
    )


def _deployed(client, group: str, second: str, endpoint: str) -> tuple[str, str, str]:
    """Two versions of `group`, the first Approved and served by `endpoint` (through model
    m-<group>), the second with approval status `second`: (first, second, endpoint ARN)."""
    first, other = make_group(client, group, versions=2, ModelApprovalStatus="Approved")
    client.update_model_package(ModelPackageArn=other, ModelApprovalStatus=second)
    make_model(client, f"m-{group}", first)
    return first, other, make_endpoint(client, endpoint, ("main", f"m-{group}", 1.0))


def test_an_approval_reaches_the_inventory_history_and_findings(
    standin, sm, mpscan, db_url, queue, listen
):
    arn = make_group(sm[REGION], "churn", versions=1, ModelApprovalStatus="PendingManualApproval")[
        0
    ]
    _scan(mpscan, db_url)
    assert query(
        db_url,
        "SELECT model_approval_status FROM model_packages WHERE model_package_arn = :a",
        a=arn,
    ) == [("PendingManualApproval",)]
    sm[REGION].update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    event = state_change(sm[REGION].describe_model_package(ModelPackageName=arn), REGION)
    send(*queue, event, event)  # AWS may deliver one event twice
    standin.clear_stats()

    result = listen(db_url)

    assert result.exit_code == 0, result.output
    assert query(
        db_url,
        "SELECT model_approval_status, last_event_id IS NOT NULL FROM model_packages "
        "WHERE model_package_arn = :a",
        a=arn,
    ) == [("Approved", True)]
    changes = query(
        db_url,
        "SELECT c.field, c.new, e.event_id FROM resource_changes c "
        "JOIN registry_events e ON e.id = c.event_id WHERE c.resource_arn = :a",
        a=arn,
    )
    fields = {c[0] for c in changes}
    assert "model_approval_status" in fields
    assert {c[2] for c in changes} == {event["id"]}
    assert query(
        db_url, "SELECT outcome, calls FROM registry_events WHERE event_id = :e", e=event["id"]
    ) == [("changed", 2)]
    # An approved package without a model card fails MP-002 from now on, said by the event.
    opened = query(
        db_url,
        "SELECT f.rule_id, fe.change FROM findings f JOIN finding_events fe "
        "ON fe.finding_id = f.id WHERE f.resource_arn = :a AND fe.event_id IS NOT NULL "
        "AND f.status = 'fail'",
        a=arn,
    )
    assert ("MP-002", "new") in opened
    ops = standin.stats()["operations"]
    assert set(ops) == {"DescribeModelPackage", "ListTags"}, ops  # the duplicate cost none
    assert sum(k["ok"] for r in ops.values() for k in r.values()) == 2
    assert _left(queue) == 0
    diff = json.loads(mpscan("diff", "--db", db_url, "--format", "json").stdout)
    by_event = [c for c in diff if c["resource_arn"] == arn and c["event_id"] is not None]
    assert {c["field"] for c in by_event} >= {"model_approval_status"}
    assert "event " in mpscan("diff", "--db", db_url).stdout
    status = json.loads(mpscan("status", "--db", db_url, "--format", "json").stdout)
    (region,) = status["regions"]
    assert region["last_event_at"] is not None
    table = mpscan("status", "--db", db_url).stdout
    assert "last event" in table


def test_a_package_event_rejudges_the_endpoints_that_serve_its_group(
    standin, sm, mpscan, db_url, queue, listen
):
    """What an endpoint serves is judged from the packages: an event that rejects the
    version an endpoint serves opens DEP-001 on the endpoint, and one that approves a newer
    version of its group opens DEP-005, each said by its event, without a scan."""
    client = sm[REGION]
    v1, v2, live = _deployed(client, "served", "PendingManualApproval", "live")
    _scan(mpscan, db_url)

    def dep(rule: str):
        return _verdicts(db_url, rule, live)

    assert dep("DEP-001") == [] and dep("DEP-005") == []  # it serves the latest approved
    assert dep("DEP-003")[0][0] == "fail"  # v1 has no KMS key (MP-001, high)
    client.update_model_package(ModelPackageArn=v1, ModelApprovalStatus="Rejected")
    send(*queue, state_change(client.describe_model_package(ModelPackageName=v1), REGION))
    assert listen(db_url).exit_code == 0
    status, message, by_event = dep("DEP-001")[0]
    assert (status, by_event) == ("fail", True)
    assert "(Rejected)" in message
    assert dep("DEP-003")[0][0] == "fail"  # judged alone, the endpoint still sees MP-001

    client.update_model_package(ModelPackageArn=v2, ModelApprovalStatus="Approved")
    send(*queue, state_change(client.describe_model_package(ModelPackageName=v2), REGION))
    assert listen(db_url).exit_code == 0
    assert dep("DEP-005")[0] == (
        "fail",
        "variant main, weight 1 serves version 1 of served; the latest approved is 2",
        True,
    )
    assert _left(queue) == 0


def test_a_package_event_judges_an_endpoint_in_another_account(
    standin, mpscan, db_url, queue, tmp_path
):
    """An endpoint in account B serving a version of account A: A's event that rejects the
    version judges B's endpoint too, in B's inventory, by that event."""
    a_id, b_id = "111111111111", "222222222222"

    def sagemaker_of(account: str):
        return boto3.client(
            "sagemaker", region_name=REGION, aws_access_key_id=account, aws_secret_access_key="x"
        )

    a, b = sagemaker_of(a_id), sagemaker_of(b_id)
    [version] = make_group(a, "shared", versions=1, ModelApprovalStatus="Approved")
    make_model(b, "m-shared", version)
    live = make_endpoint(b, "b-live", ("main", "m-shared", 1.0))
    config = tmp_path / "accounts.toml"
    config.write_text(
        "".join(
            f'[[accounts]]\nrole_arn = "arn:aws:iam::{n}:role/mpscan-reader"\n'
            for n in (a_id, b_id)
        )
        + f'[aws]\nregions = ["{REGION}"]\n[listen]\nwait_seconds = 0\n'
    )
    assert mpscan("scan", "--config", str(config), "--db", db_url, "-q").exit_code == 0
    assert _verdicts(db_url, "DEP-001", live) == []

    a.update_model_package(ModelPackageArn=version, ModelApprovalStatus="Rejected")
    event = state_change(a.describe_model_package(ModelPackageName=version), REGION, account=a_id)
    send(*queue, event)
    result = mpscan(
        "listen", "--drain", "--queue-url", queue[1], "--db", db_url, "--config", str(config)
    )
    assert result.exit_code == 0, result.output
    assert _verdicts(db_url, "DEP-001", live)[0][::2] == ("fail", True)
    assert query(
        db_url,
        "SELECT account_id FROM findings WHERE rule_id = 'DEP-001' AND resource_arn = :e",
        e=live,
    ) == [(b_id,)]


def test_an_endpoint_the_database_refuses_to_judge_leaves_the_others_judged(
    standin, sm, mpscan, db_url, queue, listen, monkeypatch
):
    """One judgement of an event's fan-out failing (the database refused it) is said once
    and left to the next scan; the endpoints after it are still judged by the event."""
    from sqlalchemy.exc import OperationalError

    from scanner.app import rejudged

    client = sm[REGION]
    [version] = make_group(client, "fan", versions=1, ModelApprovalStatus="Approved")
    make_model(client, "m-fan", version)
    first = make_endpoint(client, "a-first", ("main", "m-fan", 1.0))
    second = make_endpoint(client, "b-second", ("main", "m-fan", 1.0))
    _scan(mpscan, db_url)
    real = rejudged.judge_resource

    def refusing(engine, rules, *, scope, **kwargs):
        if scope.resource[2] == first:
            raise OperationalError("UPDATE findings", {}, Exception("database is locked"))
        return real(engine, rules, scope=scope, **kwargs)

    monkeypatch.setattr(rejudged, "judge_resource", refusing)
    client.update_model_package(ModelPackageArn=version, ModelApprovalStatus="Rejected")
    send(*queue, state_change(client.describe_model_package(ModelPackageName=version), REGION))
    result = listen(db_url)
    assert result.exit_code == 0
    assert f"{first} not judged: " in result.stderr and "database is locked" in result.stderr
    assert _verdicts(db_url, "DEP-001", first) == []  # the next scan judges it
    assert _verdicts(db_url, "DEP-001", second)[0][::2] == ("fail", True)
    assert _left(queue) == 0


def test_an_endpoint_deployed_updated_and_deleted_by_events(
    standin, sm, mpscan, db_url, queue, listen
):
    """What is in production follows CloudTrail's endpoint calls: an UpdateEndpoint to a
    configuration serving a rejected version stores the endpoint with that configuration
    and model (read with it, whatever their own events do) and opens DEP-001 by the event;
    a DeleteEndpoint removes the endpoint and resolves its findings."""
    client = sm[REGION]
    approved, rejected, live = _deployed(client, "prod", "Rejected", "Live")
    _scan(mpscan, db_url)

    def dep_001():
        return [(status, by_event) for status, _, by_event in _verdicts(db_url, "DEP-001", live)]

    assert dep_001() == []
    make_model(client, "m-rejected", rejected)
    make_config(client, "live-v2", ("main", "m-rejected", 1.0))
    client.update_endpoint(EndpointName="Live", EndpointConfigName="live-v2")
    update = api_call(
        "UpdateEndpoint", REGION, {"endpointName": "Live", "endpointConfigName": "live-v2"}
    )
    send(*queue, update)
    standin.clear_stats()
    result = listen(db_url)
    assert result.exit_code == 0, result.output

    assert query(db_url, "SELECT endpoint_config_name FROM endpoints") == [("live-v2",)]
    assert query(
        db_url,
        "SELECT model_name, model_package_arn FROM deployments WHERE endpoint_arn = :e",
        e=live,
    ) == [("m-rejected", rejected)]
    assert dep_001()[0] == ("fail", True)
    ops = {op: sum(k["ok"] for k in r.values()) for op, r in standin.stats()["operations"].items()}
    # the endpoint and its tags, its configuration, its one model and its tags
    assert ops == {
        "DescribeEndpoint": 1,
        "ListTags": 2,
        "DescribeEndpointConfig": 1,
        "DescribeModel": 1,
    }
    assert query(
        db_url,
        "SELECT outcome, calls, resource_type FROM registry_events WHERE event_id = :e",
        e=update["id"],
    ) == [("changed", 5, "endpoint")]
    changed = query(
        db_url, "SELECT c.resource_arn FROM resource_changes c JOIN registry_events e "
        "ON e.id = c.event_id WHERE e.event_id = :e AND c.change = 'added'", e=update["id"],
    )  # fmt: skip
    assert len(changed) == 2  # the new configuration and model, added by the event

    client.delete_endpoint(EndpointName="Live")
    send(*queue, api_call("DeleteEndpoint", REGION, {"endpointName": "Live"}))
    assert listen(db_url).exit_code == 0
    assert query(db_url, "SELECT count(*) FROM endpoints") == [(0,)]
    assert dep_001()[0] == ("pass", True)  # resolved by the event
    assert _left(queue) == 0


def test_an_endpoint_state_change_reads_the_endpoint_as_it_settled(
    standin, sm, mpscan, db_url, queue, listen
):
    """A deployment's calls find the endpoint in transition (Creating, Updating); its state
    change says it settled: the listener reads it again then, with what it now serves."""
    client = sm[REGION]
    approved, rejected, live = _deployed(client, "settle", "Rejected", "Settled")
    _scan(mpscan, db_url)
    make_model(client, "m-bad", rejected)
    make_config(client, "settled-v2", ("main", "m-bad", 1.0))
    client.update_endpoint(EndpointName="Settled", EndpointConfigName="settled-v2")
    send(*queue, endpoint_state_change(client.describe_endpoint(EndpointName="Settled"), REGION))
    assert listen(db_url).exit_code == 0
    assert query(db_url, "SELECT endpoint_config_name FROM endpoints") == [("settled-v2",)]
    assert _verdicts(db_url, "DEP-001", live)[0][::2] == ("fail", True)
    assert query(db_url, "SELECT detail_type, outcome FROM registry_events") == [
        ("SageMaker Endpoint State Change", "changed")
    ]


def test_a_model_an_endpoint_names_that_is_gone_is_removed_with_its_refresh(
    standin, sm, mpscan, db_url, queue, listen
):
    """An endpoint's refresh reads the models its configuration names: one AWS says is gone
    is removed from the inventory by the event (the deployments view shows it missing)."""
    client = sm[REGION]
    make_model(client, "m-doomed")
    make_endpoint(client, "doomed-live", ("main", "m-doomed", 1.0))
    _scan(mpscan, db_url)
    client.delete_model(ModelName="m-doomed")
    send(
        *queue, endpoint_state_change(client.describe_endpoint(EndpointName="doomed-live"), REGION)
    )
    assert listen(db_url).exit_code == 0
    assert query(db_url, "SELECT count(*) FROM models WHERE model_name = 'm-doomed'") == [(0,)]
    assert query(db_url, "SELECT model_name, model_arn FROM deployments") == [("m-doomed", None)]
    assert query(db_url, "SELECT outcome FROM registry_events") == [("changed",)]


def test_model_card_events_rejudge_the_packages_they_document(
    standin, sm, mpscan, db_url, queue, listen
):
    """A model card documents its group's versions (MP-002, MC-001 read it): creating an
    approved card for the group resolves MP-002 on its approved version, drafting it opens
    MC-001, deleting it resolves MC-001 and opens MP-002 again, each by its event."""
    client = sm[REGION]
    [version] = make_group(client, "documented", versions=1, ModelApprovalStatus="Approved")
    _scan(mpscan, db_url)

    def status(rule: str):
        rows = _verdicts(db_url, rule, version)
        return (rows[0][0], rows[0][2]) if rows else None

    def card_event(call: str) -> None:
        send(*queue, api_call(call, REGION, {"modelCardName": "documented-card"}))
        assert listen(db_url).exit_code == 0

    assert status("MP-002") == ("fail", False)  # approved, no card: said by the scan
    make_card(client, "documented-card", "Approved", group="documented")
    card_event("CreateModelCard")
    assert status("MP-002") == ("pass", True)
    assert status("MC-001") is None

    client.update_model_card(ModelCardName="documented-card", ModelCardStatus="Draft")
    card_event("UpdateModelCard")
    assert status("MC-001") == ("fail", True)
    assert query(db_url, "SELECT model_card_status FROM model_cards") == [("Draft",)]

    client.delete_model_card(ModelCardName="documented-card")
    card_event("DeleteModelCard")
    assert query(db_url, "SELECT count(*) FROM model_cards") == [(0,)]
    assert status("MC-001") == ("pass", True)
    assert status("MP-002") == ("fail", True)  # regressed, by the event
    assert _left(queue) == 0


def test_a_card_event_reaches_the_endpoints_serving_what_it_documents(
    standin, sm, mpscan, db_url, queue, listen, tmp_path
):
    """With MP-002 made high by the config, a version served without a model card fails
    DEP-003 on its endpoint; the card's event judges the version, then the endpoint."""
    config = tmp_path / "mpscan.toml"
    config.write_text(config.read_text() + '[rules.MP-002]\nseverity = "high"\n')
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    client = sm[REGION]
    [version] = make_group(
        client,
        "carded",
        versions=1,
        ModelApprovalStatus="Approved",
        SecurityConfig={"KmsKeyId": key},
    )
    make_model(client, "m-carded", version)
    live = make_endpoint(client, "carded-live", ("main", "m-carded", 1.0))
    assert mpscan("scan", "--config", str(config), "--db", db_url, "-q").exit_code == 0
    status, message, _ = _verdicts(db_url, "DEP-003", live)[0]
    assert status == "fail" and message.endswith(f"serves {version}: MP-002"), message

    make_card(client, "carded-card", "Approved", group="carded")
    send(*queue, api_call("CreateModelCard", REGION, {"modelCardName": "carded-card"}))
    assert listen(db_url).exit_code == 0
    assert _verdicts(db_url, "MP-002", version)[0][::2] == ("pass", True)
    assert _verdicts(db_url, "DEP-003", live)[0][::2] == ("pass", True)


def test_a_card_moved_to_another_group_judges_both_groups(
    standin, sm, mpscan, db_url, queue, listen
):
    """An UpdateModelCard that points the card at another group judges what it documented
    before (MP-002 fails again there) and what it documents now (MP-002 resolved)."""
    from tests.support_serving import card_content

    client = sm[REGION]
    [left] = make_group(client, "left", versions=1, ModelApprovalStatus="Approved")
    [right] = make_group(client, "right", versions=1, ModelApprovalStatus="Approved")
    make_card(client, "moving", "Approved", group="left")
    _scan(mpscan, db_url)
    assert _verdicts(db_url, "MP-002", left) == []  # documented by the card
    assert _verdicts(db_url, "MP-002", right)[0][0] == "fail"

    client.update_model_card(ModelCardName="moving", Content=card_content(group="right"))
    send(*queue, api_call("UpdateModelCard", REGION, {"modelCardName": "moving"}))
    assert listen(db_url).exit_code == 0
    assert _verdicts(db_url, "MP-002", left)[0][::2] == ("fail", True)
    assert _verdicts(db_url, "MP-002", right)[0][::2] == ("pass", True)


def test_tags_policies_and_deletions_from_cloudtrail(standin, sm, mpscan, db_url, queue, listen):
    client = sm[REGION]
    arn = make_group(client, "fraud", versions=2)[0]
    other = make_unversioned(client, "solo")
    _scan(mpscan, db_url)
    group_arn = client.describe_model_package_group(ModelPackageGroupName="fraud")[
        "ModelPackageGroupArn"
    ]
    client.add_tags(ResourceArn=arn, Tags=[{"Key": "owner", "Value": "risk-team"}])
    client.put_model_package_group_policy(
        ModelPackageGroupName="fraud", ResourcePolicy=json.dumps(public_policy(REGION, "fraud"))
    )
    client.delete_model_package(ModelPackageName=other)
    send(
        *queue,
        api_call("AddTags", REGION, {"resourceArn": arn, "tags": [{"key": "owner"}]}),
        api_call("PutModelPackageGroupPolicy", REGION, {"modelPackageGroupName": "fraud"}),
        api_call("DeleteModelPackage", REGION, {"modelPackageName": other}),
    )

    result = listen(db_url)

    assert result.exit_code == 0, result.output
    assert query(
        db_url, "SELECT key, value FROM model_package_tags WHERE model_package_arn = :a", a=arn
    ) == [("owner", "risk-team")]
    assert query(
        db_url,
        "SELECT resource_policy_status FROM model_package_groups "
        "WHERE model_package_group_arn = :g",
        g=group_arn,
    ) == [("present",)]
    assert query(
        db_url, "SELECT count(*) FROM model_packages WHERE model_package_arn = :a", a=other
    ) == [(0,)]
    assert query(
        db_url,
        "SELECT c.change FROM resource_changes c WHERE c.resource_arn = :a "
        "AND c.event_id IS NOT NULL",
        a=other,
    ) == [("removed",)]
    assert query(db_url, "SELECT count(*) FROM removed_resources WHERE arn = :a", a=other) == [(1,)]
    public = query(
        db_url,
        "SELECT status FROM findings WHERE resource_arn = :g AND rule_id = 'MPG-001'",
        g=group_arn,
    )
    assert public == [("fail",)]
    assert query(db_url, "SELECT outcome, calls FROM registry_events ORDER BY id") == [
        ("changed", 2),
        ("changed", 3),
        ("removed", 1),
    ]


def test_an_unversioned_package_deleted_by_its_name(standin, sm, mpscan, db_url, queue, listen):
    """DeleteModelPackage names an unversioned package by its name: the stored one of that
    name is removed (the call's record gives no ARN to look it up by)."""
    client = sm[REGION]
    arn = make_unversioned(client, "named")
    _scan(mpscan, db_url)
    client.delete_model_package(ModelPackageName="named")
    send(*queue, api_call("DeleteModelPackage", REGION, {"modelPackageName": "named"}))
    assert listen(db_url).exit_code == 0
    assert query(
        db_url, "SELECT count(*) FROM model_packages WHERE model_package_arn = :a", a=arn
    ) == [(0,)]
    assert query(db_url, "SELECT outcome, resource_arn FROM registry_events") == [("removed", arn)]


def test_a_group_created_by_an_event_is_judged_by_it(standin, sm, mpscan, db_url, queue, listen):
    """CreateModelPackageGroup names the group by its name: the event stores and judges it
    by the ARN it read (MPG-001: its policy, put before the event arrived, is public)."""
    client = sm[REGION]
    _scan(mpscan, db_url)
    arn = client.create_model_package_group(ModelPackageGroupName="fresh")["ModelPackageGroupArn"]
    client.put_model_package_group_policy(
        ModelPackageGroupName="fresh", ResourcePolicy=json.dumps(public_policy(REGION, "fresh"))
    )
    send(*queue, api_call("CreateModelPackageGroup", REGION, {"modelPackageGroupName": "fresh"}))
    assert listen(db_url).exit_code == 0
    assert query(
        db_url,
        "SELECT f.status, fe.change, fe.event_id IS NOT NULL FROM findings f JOIN finding_events "
        "fe ON fe.finding_id = f.id WHERE f.rule_id = 'MPG-001' AND f.resource_arn = :a",
        a=arn,
    ) == [("fail", "new", True)]


def test_messages_it_cannot_apply_are_logged_once_and_deleted(
    standin, sm, mpscan, db_url, queue, listen
):
    make_group(sm[REGION], "g", versions=1)
    _scan(mpscan, db_url)
    foreign = api_call(
        "AddTags",
        REGION,
        {"resourceArn": "arn:aws:sagemaker:us-east-1:999999999999:model-package/x/1"},
        account="999999999999",
    )
    foreign["detail"]["recipientAccountId"] = "999999999999"
    send(*queue, "{not json", json.dumps({"source": "aws.ec2"}), foreign)

    result = listen(db_url)

    assert result.exit_code == 0, result.output
    assert _left(queue) == 0
    ignored = [line for line in result.stderr.splitlines() if " ignored: " in line]
    assert len(ignored) == 3, ignored
    assert any("not JSON" in m for m in ignored)
    assert any("999999999999 is not one mpscan scans" in m for m in ignored)
    assert query(db_url, "SELECT count(*) FROM registry_events") == [(0,)]


def test_unmatched_keep_leaves_them_for_the_dead_letter_queue(
    standin, sm, mpscan, db_url, queue, listen, tmp_path
):
    make_group(sm[REGION], "g", versions=1)
    _scan(mpscan, db_url)
    send(*queue, "{not json")
    config = tmp_path / "keep.toml"
    config.write_text('[listen]\nwait_seconds = 0\nunmatched = "keep"\nvisibility_timeout = 60\n')

    result = listen(db_url, "--config", str(config))

    assert result.exit_code == 0, result.output
    assert _left(queue) == 1


def test_an_event_for_a_region_never_scanned_waits_for_a_scan(
    standin, sm, mpscan, db_url, queue, listen
):
    arn = make_group(sm[REGION], "g", versions=1)[0]
    send(*queue, state_change(sm[REGION].describe_model_package(ModelPackageName=arn), REGION))

    result = listen(db_url)

    assert result.exit_code == 0, result.output
    assert query(db_url, "SELECT count(*) FROM model_packages") == [(0,)]
    assert _left(queue) == 0  # logged and deleted: the first scan reads the region whole


def test_an_older_event_never_overwrites_newer_data(standin, sm, mpscan, db_url, queue, listen):
    client = sm[REGION]
    arn = make_group(client, "g", 1, ModelApprovalStatus="PendingManualApproval")[0]
    client.update_model_package(ModelPackageArn=arn, ApprovalDescription="under review")
    _scan(mpscan, db_url)
    old = state_change(client.describe_model_package(ModelPackageName=arn), REGION)
    client.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    new = state_change(client.describe_model_package(ModelPackageName=arn), REGION)
    send(*queue, new)
    assert listen(db_url).exit_code == 0
    standin.clear_stats()
    send(*queue, old)  # delivered late, after the change it preceded

    result = listen(db_url)

    assert result.exit_code == 0, result.stderr
    assert "1 duplicate" in result.stderr
    assert standin.stats()["operations"] == {}  # no call for it
    assert query(
        db_url,
        "SELECT model_approval_status FROM model_packages WHERE model_package_arn = :a",
        a=arn,
    ) == [("Approved",)]
    assert query(
        db_url, "SELECT outcome, calls FROM registry_events WHERE event_id = :e", e=old["id"]
    ) == [("unchanged", 0)]

    # Retention: an event nothing names any more goes with `mpscan prune`; the one whose
    # change the package and its history still name stays.
    engine = create_engine(db_url)
    try:
        counts = history.prune(engine, datetime.now(UTC) + timedelta(hours=1), dry_run=False)
    finally:
        engine.dispose()
    assert counts.events == 1
    assert query(db_url, "SELECT event_id FROM registry_events") == [(new["id"],)]


def test_an_event_of_another_account_is_read_through_its_role(
    standin, mpscan, db_url, queue, tmp_path
):
    member = "111111111111"
    client = boto3.client(
        "sagemaker", region_name=REGION, aws_access_key_id=member, aws_secret_access_key="x"
    )
    arn = make_group(client, "theirs", 1, ModelApprovalStatus="PendingManualApproval")[0]
    config = tmp_path / "accounts.toml"
    config.write_text(
        f'[aws]\nregions = ["{REGION}"]\n[listen]\nwait_seconds = 0\n'
        f'[[accounts]]\nrole_arn = "arn:aws:iam::{member}:role/mpscan-reader"\n'
    )
    assert mpscan("scan", "--db", db_url, "--config", str(config)).exit_code == 0
    client.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    event = state_change(client.describe_model_package(ModelPackageName=arn), REGION)
    event["account"] = member
    send(*queue, event)

    result = mpscan(
        "listen", "--drain", "--queue-url", queue[1], "--db", db_url, "--config", str(config)
    )

    assert result.exit_code == 0, result.stderr
    assert query(
        db_url,
        "SELECT account_id, model_approval_status FROM model_packages WHERE model_package_arn = :a",
        a=arn,
    ) == [(member, "Approved")]


def test_a_refresh_that_fails_leaves_the_message_for_a_retry(
    standin, sm, mpscan, db_url, queue, listen
):
    arn = make_group(sm[REGION], "g", 1)[0]
    _scan(mpscan, db_url)
    send(*queue, state_change(sm[REGION].describe_model_package(ModelPackageName=arn), REGION))
    standin.faults.update(fail_operations={"DescribeModelPackage": "AccessDeniedException"})

    result = listen(db_url)

    assert result.exit_code == 0, result.stderr
    assert "left for a retry" in result.stderr and "AccessDeniedException" in result.stderr
    assert "1 failed" in result.stderr
    sqs, url = queue
    hidden = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]["ApproximateNumberOfMessagesNotVisible"]
    assert hidden == "1"  # not deleted: SQS delivers it again after its visibility timeout
    assert query(db_url, "SELECT count(*) FROM registry_events") == [(0,)]

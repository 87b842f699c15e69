"""The local AWS stand-in: moto gap fills, fault injection, control API, seeding."""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from scanner.standin import moto_ext, start_standin
from scanner.standin.seed import HOSTILE_DESCRIPTION, seed_registry
from tests.standin_faults import Faults, FaultyStandIn, start_faulty_standin

ROOT = Path(__file__).resolve().parents[1]
OWN = "123456789012"
PARTNER = "210987654321"
# botocore's ``max_attempts`` counts *retries* (1 = two attempts); ``total_max_attempts``
# counts attempts, so this is a client that truly never retries.
NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})
ONE_RETRY = Config(retries={"max_attempts": 1, "mode": "standard"})
SPEC = {
    "Containers": [{"Image": "111.dkr.ecr.us-east-1.amazonaws.com/m:latest"}],
    "SupportedContentTypes": ["text/csv"],
    "SupportedResponseMIMETypes": ["application/json"],
}
SM_MODEL = botocore.session.get_session().get_service_model("sagemaker")


@pytest.fixture(scope="module")
def standin():
    server = start_faulty_standin()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _isolated(standin: FaultyStandIn, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "MOTO_ACCOUNT_ID"):
        monkeypatch.delenv(var, raising=False)
    standin.reset()
    yield
    standin.reset()


def _raw_bodies(c, operation: str) -> list[dict]:
    bodies: list[dict] = []

    def grab(response_dict, **_):
        if response_dict["status_code"] < 300:
            bodies.append(json.loads(response_dict["body"] or b"{}"))

    c.meta.events.register(f"before-parse.sagemaker.{operation}", grab)
    return bodies


def _members(operation: str) -> set[str]:
    return set(SM_MODEL.operation_model(operation).output_shape.members)


def _group(sm, name: str, versions: int = 1, **extra) -> list[str]:
    sm.create_model_package_group(ModelPackageGroupName=name)
    return [
        sm.create_model_package(ModelPackageGroupName=name, InferenceSpecification=SPEC, **extra)[
            "ModelPackageArn"
        ]
        for _ in range(versions)
    ]


def test_patches_are_idempotent():
    moto_ext.apply()
    moto_ext.apply()
    assert getattr(moto_ext.Backend, moto_ext._MARK)


def test_describe_returns_new_fields(client):
    sm = client()
    raw = _raw_bodies(sm, "DescribeModelPackage")
    extra = {
        "SecurityConfig": {"KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/abc"},
        "ModelCard": {"ModelCardContent": "{}", "ModelCardStatus": "Draft"},
        "SourceUri": "s3://bucket/source.tar.gz",
        "ModelLifeCycle": {"Stage": "Production", "StageStatus": "Approved"},
    }
    (arn,) = _group(sm, "G1", **extra)
    d = sm.describe_model_package(ModelPackageName=arn)
    assert d["ModelPackageName"] == "G1" and d["ModelPackageGroupName"] == "G1"
    for key, value in extra.items():
        assert d[key] == value
    plain = sm.create_model_package(ModelPackageName="plain", InferenceSpecification=SPEC)
    d2 = sm.describe_model_package(ModelPackageName=plain["ModelPackageArn"])
    assert not set(extra) & set(d2)
    assert raw and all(set(body) <= _members("DescribeModelPackage") for body in raw)

    sm.update_model_package(
        ModelPackageArn=plain["ModelPackageArn"],
        ModelLifeCycle={"Stage": "Staging", "StageStatus": "Pending"},
        SourceUri="s3://b/new",
    )
    d3 = sm.describe_model_package(ModelPackageName="plain")
    assert d3["ModelLifeCycle"]["Stage"] == "Staging" and d3["SourceUri"] == "s3://b/new"


def test_an_update_changes_only_the_members_it_is_given(client):
    """AWS's UpdateModelPackage leaves the members it is not given; moto 5.2.5 cleared them
    (an approval description wiped the approval status) and replaced the metadata map."""
    sm = client()
    (arn,) = _group(
        sm,
        "kept",
        ModelApprovalStatus="PendingManualApproval",
        CustomerMetadataProperties={"team": "ml", "build": "1"},
    )
    sm.update_model_package(ModelPackageArn=arn, ApprovalDescription="reviewed")
    sm.update_model_package(
        ModelPackageArn=arn,
        CustomerMetadataProperties={"build": "2", "stage": "qa"},
        CustomerMetadataPropertiesToRemove=["team"],
    )
    d = sm.describe_model_package(ModelPackageName=arn)
    assert d["ModelApprovalStatus"] == "PendingManualApproval"
    assert d["ApprovalDescription"] == "reviewed"
    assert d["CustomerMetadataProperties"] == {"build": "2", "stage": "qa"}
    listed = sm.list_model_packages(ModelPackageGroupName="kept")["ModelPackageSummaryList"]
    assert [s["ModelApprovalStatus"] for s in listed] == ["PendingManualApproval"]


def test_a_model_card_update_keeps_what_it_is_not_given(client):
    """AWS's UpdateModelCard takes content or status, and keeps the other; moto 5.2.5's new
    version cleared it (a status change lost the card's content)."""
    sm = client()
    content = json.dumps({"model_package_details": {"model_package_group_name": "g"}})
    sm.create_model_card(ModelCardName="kept", Content=content, ModelCardStatus="Approved")
    sm.update_model_card(ModelCardName="kept", ModelCardStatus="Draft")
    drafted = sm.describe_model_card(ModelCardName="kept")
    assert (drafted["ModelCardStatus"], drafted["Content"]) == ("Draft", content)
    sm.update_model_card(ModelCardName="kept", Content="{}")
    updated = sm.describe_model_card(ModelCardName="kept")
    assert (updated["ModelCardStatus"], updated["Content"], updated["ModelCardVersion"]) == (
        "Draft",
        "{}",
        3,
    )


def test_tags_on_versioned_and_unversioned_packages_page(client):
    sm = client()
    raw = _raw_bodies(sm, "ListTags")
    versioned = _group(sm, "Tagged-Group", versions=3)[2]
    assert versioned.endswith(":model-package/tagged-group/3")  # moto lower-cases the name
    unversioned = sm.create_model_package(ModelPackageName="Solo", InferenceSpecification=SPEC)[
        "ModelPackageArn"
    ]
    group_arn = sm.describe_model_package_group(ModelPackageGroupName="Tagged-Group")[
        "ModelPackageGroupArn"
    ]
    for arn in (versioned, unversioned, group_arn):
        tags = [{"Key": f"k{i:02d}", "Value": str(i)} for i in range(60)]
        sm.add_tags(ResourceArn=arn, Tags=tags[:30])
        sm.add_tags(ResourceArn=arn, Tags=tags[30:])
        first = sm.list_tags(ResourceArn=arn, MaxResults=50)
        assert len(first["Tags"]) == 50 and first["NextToken"]
        second = sm.list_tags(ResourceArn=arn, MaxResults=50, NextToken=first["NextToken"])
        assert len(second["Tags"]) == 10 and "NextToken" not in second
        sm.add_tags(ResourceArn=arn, Tags=[{"Key": "k00", "Value": "new"}])
        sm.delete_tags(ResourceArn=arn, TagKeys=[f"k{i:02d}" for i in range(1, 60)])
        assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "k00", "Value": "new"}]
    assert all(set(body) <= _members("ListTags") for body in raw)
    with pytest.raises(ClientError) as err:
        sm.list_tags(ResourceArn=versioned[:-1] + "9")
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_group_policy_get_put_delete(client):
    sm = client()
    raw = _raw_bodies(sm, "GetModelPackageGroupPolicy")
    _group(sm, "Pol")
    with pytest.raises(ClientError) as err:
        sm.get_model_package_group_policy(ModelPackageGroupName="Pol")
    error = err.value.response["Error"]
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Code"] == "ValidationException"
    assert error["Message"] == (
        f"Cannot find resource policy for arn:aws:sagemaker:us-east-1:{OWN}:model-package-group/Pol"
    )
    with pytest.raises(ClientError) as missing:
        sm.get_model_package_group_policy(ModelPackageGroupName="Nope")
    assert missing.value.response["Error"]["Code"] == "ValidationException"
    assert "does not exist" in missing.value.response["Error"]["Message"]

    policy = json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*"}]})
    put = sm.put_model_package_group_policy(ModelPackageGroupName="Pol", ResourcePolicy=policy)
    assert put["ModelPackageGroupArn"].endswith(":model-package-group/Pol")
    assert (
        sm.get_model_package_group_policy(ModelPackageGroupName="Pol")["ResourcePolicy"] == policy
    )
    assert all(set(body) <= _members("GetModelPackageGroupPolicy") for body in raw)
    sm.delete_model_package_group_policy(ModelPackageGroupName="Pol")
    with pytest.raises(ClientError):
        sm.get_model_package_group_policy(ModelPackageGroupName="Pol")


def _share(sm, name: str, principal) -> str:
    arn = _group(sm, name, versions=2)[0]
    if principal is not None:
        policy = {"Statement": [{"Effect": "Allow", "Principal": principal, "Action": "*"}]}
        sm.put_model_package_group_policy(
            ModelPackageGroupName=name, ResourcePolicy=json.dumps(policy)
        )
    return arn


def test_cross_account_listing(client):
    me, partner = client(), client(key=PARTNER)
    raw = _raw_bodies(me, "ListModelPackageGroups")
    _group(me, "mine")
    shared_pkg = _share(partner, "shared-root", {"AWS": f"arn:aws:iam::{OWN}:root"})
    _share(partner, "shared-id", {"AWS": [OWN]})
    _share(partner, "public", "*")
    _share(partner, "other-account", {"AWS": "arn:aws:iam::999999999999:root"})
    _share(partner, "private", None)
    _share(client(region="eu-west-1", key=PARTNER), "other-region", "*")

    def names(**kw):
        groups = me.list_model_package_groups(**kw)["ModelPackageGroupSummaryList"]
        return sorted(g["ModelPackageGroupName"] for g in groups)

    assert names() == ["mine"]
    assert names(CrossAccountFilterOption="SameAccount") == ["mine"]
    assert names(CrossAccountFilterOption="CrossAccount") == ["public", "shared-id", "shared-root"]
    page = me.list_model_package_groups(CrossAccountFilterOption="CrossAccount", MaxResults=2)
    rest = me.list_model_package_groups(
        CrossAccountFilterOption="CrossAccount", NextToken=page["NextToken"]
    )
    assert (
        len(page["ModelPackageGroupSummaryList"]) + len(rest["ModelPackageGroupSummaryList"]) == 3
    )
    assert all(set(body) <= _members("ListModelPackageGroups") for body in raw)

    # A shared group can be read by ARN from the other account.
    group_arn = f"arn:aws:sagemaker:us-east-1:{PARTNER}:model-package-group/shared-root"
    assert (
        me.describe_model_package_group(ModelPackageGroupName=group_arn)["ModelPackageGroupArn"]
        == group_arn
    )
    versions = me.list_model_packages(ModelPackageGroupName=group_arn)["ModelPackageSummaryList"]
    assert len(versions) == 2
    assert me.describe_model_package(ModelPackageName=shared_pkg)["ModelPackageArn"] == shared_pkg
    private = f"arn:aws:sagemaker:us-east-1:{PARTNER}:model-package-group/private"
    with pytest.raises(ClientError) as err:
        me.describe_model_package_group(ModelPackageGroupName=private)
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"


def test_twelve_digit_key_selects_account(client):
    sts = client("sts", key=PARTNER)
    assert sts.get_caller_identity()["Account"] == PARTNER


def test_latency(standin, client):
    sm = client()
    sm.list_model_package_groups()
    standin.faults.latency_ms = 150
    start = time.perf_counter()
    sm.list_model_package_groups()
    assert time.perf_counter() - start >= 0.15


def test_throttle_next_burst_then_pass(standin, client):
    sm = client(config=NO_RETRY)
    _group(sm, "B")
    standin.faults.update(throttle_next={"DescribeModelPackageGroup": 2})
    for _ in range(2):
        with pytest.raises(ClientError) as err:
            sm.describe_model_package_group(ModelPackageGroupName="B")
        assert err.value.response["Error"]["Code"] == "ThrottlingException"
        assert err.value.response["Error"]["Message"] == "Rate exceeded"
    sm.describe_model_package_group(ModelPackageGroupName="B")
    counts = standin.stats()["operations"]["DescribeModelPackageGroup"]["us-east-1"]
    assert counts["throttled"] == 2 and counts["ok"] == 1
    assert standin.faults.throttle_next == {}


def test_throttle_next_with_max_attempts_one(standin, client):
    # max_attempts=1 still makes two attempts: a burst of 2 exhausts it, then calls pass.
    sm = client(config=ONE_RETRY)
    _group(sm, "B")
    standin.faults.update(throttle_next={"DescribeModelPackageGroup": 2})
    with pytest.raises(ClientError) as err:
        sm.describe_model_package_group(ModelPackageGroupName="B")
    assert err.value.response["Error"]["Code"] == "ThrottlingException"
    sm.describe_model_package_group(ModelPackageGroupName="B")
    counts = standin.stats()["operations"]["DescribeModelPackageGroup"]["us-east-1"]
    assert counts == {**counts, "throttled": 2, "ok": 1}


def test_deny_regions_only_that_region(standin, client):
    standin.faults.deny_regions = {"eu-west-1"}
    with pytest.raises(ClientError) as err:
        client(region="eu-west-1").list_model_packages()
    error = err.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    assert "is not authorized to perform: sagemaker:ListModelPackages" in error["Message"]
    client(region="us-east-1").list_model_packages()
    client("sts", region="eu-west-1").get_caller_identity()  # only SageMaker is affected
    assert standin.stats()["operations"]["ListModelPackages"]["eu-west-1"]["denied"] == 1


def test_rate_limit_throttles_beyond_rate(standin, client):
    standin.faults.update(rate_limit=5)
    sm = client(config=NO_RETRY)
    outcomes = []
    for _ in range(12):
        try:
            sm.list_model_package_groups()
            outcomes.append("ok")
        except ClientError as exc:
            outcomes.append(exc.response["Error"]["Code"])
    # 5 tokens up front; a slow machine may refill one or two more during the loop.
    assert outcomes[:5] == ["ok"] * 5
    assert outcomes.count("ThrottlingException") >= 3
    client(region="eu-west-1", config=NO_RETRY).list_model_package_groups()  # own bucket
    time.sleep(0.25)
    sm.list_model_package_groups()  # refilled
    totals = standin.stats()["totals"]
    assert totals["throttled"] == outcomes.count("ThrottlingException")


def test_fail_operations(standin, client):
    standin.faults.update(fail_operations={"ListModelPackages": "InternalFailure"})
    with pytest.raises(ClientError) as err:
        client(config=NO_RETRY).list_model_packages()
    assert err.value.response["Error"]["Code"] == "InternalFailure"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


def _http(url: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=5) as resp:
        return json.loads(resp.read())


def test_http_control_and_stats(standin, client):
    sm = client(config=NO_RETRY)
    _group(sm, "H", versions=2)
    snap = _http(f"{standin.url}/_standin/faults", {"deny_regions": ["ap-south-1"]})
    assert snap["deny_regions"] == ["ap-south-1"] and standin.faults.deny_regions == {"ap-south-1"}
    stats = _http(f"{standin.url}/_standin/stats")
    assert stats["operations"]["CreateModelPackage"]["us-east-1"]["ok"] == 2
    assert stats["totals"]["ok"] == 3 and stats["elapsed_s"] >= 0
    assert stats == standin.stats()
    assert _http(f"{standin.url}/_standin/reset", {}) == {"reset": True}
    assert sm.list_model_package_groups()["ModelPackageGroupSummaryList"] == []
    assert standin.faults.deny_regions == set()
    assert standin.stats()["totals"]["ok"] == 1
    with pytest.raises(urllib.error.HTTPError) as err:  # moto's own API is closed too
        _http(f"{standin.url}/moto-api/reset", {})
    assert err.value.code == 404


def test_seed_registry(standin, client):
    counts = seed_registry(standin.url, ["us-east-1"], versions_in_big_group=101)
    us = counts["us-east-1"]
    assert us["groups"] == 5 and us["packages_unversioned"] == 3
    assert us["packages_versioned"] == 101 + 18
    sm = client()
    pages = sm.get_paginator("list_model_packages").paginate(ModelPackageGroupName="churn-model")
    assert sum(len(p["ModelPackageSummaryList"]) for p in pages) == 101
    hostile = sm.describe_model_package(
        ModelPackageName="arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-detector/1"
    )
    assert hostile["ModelPackageDescription"] == HOSTILE_DESCRIPTION
    assert "SecurityConfig" in sm.describe_model_package(
        ModelPackageName=hostile["ModelPackageArn"][:-1] + "2"
    )
    public = json.loads(
        sm.get_model_package_group_policy(ModelPackageGroupName="fraud-detector")["ResourcePolicy"]
    )
    assert public["Statement"][0]["Principal"] == "*"
    assert len(client(key=PARTNER).list_model_package_groups()["ModelPackageGroupSummaryList"]) == 1
    shared = sm.list_model_package_groups(CrossAccountFilterOption="CrossAccount")
    assert [g["ModelPackageGroupName"] for g in shared["ModelPackageGroupSummaryList"]] == [
        "partner-shared-model"
    ]


def test_faults_object_defaults_and_validation():
    f = Faults()
    assert f.latency_ms == 0 and f.rate_limit is None and f.deny_regions == set()
    with pytest.raises(ValueError):
        f.update(bogus=1)
    f.update(throttle_next={"X": 1})
    assert f.take_burst("X") and not f.take_burst("X")


def test_fault_runner_prints_ready_and_serves_control_routes():
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.standin_faults", "--port", "0", "--latency-ms", "1"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("READY http://127.0.0.1:")
        faults = _http(line.split()[1].strip() + "/_standin/faults")
        assert faults["latency_ms"] == 1.0
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_shipped_package_has_no_fault_injection():
    for name in ("faults", "middleware", "__main__"):
        assert importlib.util.find_spec(f"scanner.standin.{name}") is None, name
    sources = list((ROOT / "scanner").rglob("*.py"))
    assert sources
    for path in sources:
        text = path.read_text()
        assert "/_standin" not in text and "standin_faults" not in text, path
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom | ast.Import):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                names += [a.name for a in node.names]
                assert not any(n.split(".")[0] == "tests" for n in names), path


def test_shipped_standin_has_no_control_routes():
    with start_standin() as plain:
        assert plain.host == "127.0.0.1"
        sm = boto3.client(
            "sagemaker",
            endpoint_url=plain.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        sm.create_model_package_group(ModelPackageGroupName="survives")
        for path, body in (("/_standin/faults", None), ("/_standin/stats", None)):
            with pytest.raises(urllib.error.HTTPError) as err:
                _http(plain.url + path, body)
            assert err.value.code == 404
            assert b"NoSuchBucket" in err.value.read()  # moto's S3 answer, not ours
        for path in ("/_standin/reset", "/_standin/faults", "/moto-api/reset"):
            with pytest.raises(urllib.error.HTTPError):
                _http(plain.url + path, {"latency_ms": 5000})
        for path in ("/moto-api/data.json", "/moto-api/"):
            with pytest.raises(urllib.error.HTTPError) as err:
                _http(plain.url + path)
            assert err.value.code == 404
        groups = sm.list_model_package_groups()["ModelPackageGroupSummaryList"]
        assert [g["ModelPackageGroupName"] for g in groups] == ["survives"]

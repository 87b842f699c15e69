"""Seed a stand-in with a realistic model registry, through boto3 over HTTP.

Per region and per scale unit (unit 0 has no name suffix, unit i>0 suffixes ``-i``):

========================  ========================  ==========================================
group                     versions                  resource policy
========================  ========================  ==========================================
churn-model               ``versions_in_big_group``  shared with account 111122223333
fraud-detector            8                         public (Principal "*")
pricing-forecast          4                         shared with arn:aws:iam::444455556666:root
recommender               6                         none
empty-group               0                         none
========================  ========================  ==========================================

plus 3 unversioned packages, and in the first region (unit 0) four endpoints serving
``recommender``'s versions, with their models and a model card (scanner.standin.seed_serving).
Packages vary approval status, KMS SecurityConfig, images pinned
by digest / tag+ImageDigest / ``:latest``, ModelCard, SourceUri, ModelLifeCycle and tags.
``fraud-detector`` v1 of unit 0 carries a hostile description (HTML and a spreadsheet
formula). With ``shared_from_account`` set, that account also owns one group per region whose
policy names the seeding account, so CrossAccount listing has something to find.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

from scanner.standin.seed_serving import seed_serving

HOSTILE_DESCRIPTION = (
    'Fraud model <script>alert(1)</script> =HYPERLINK("http://x","click") @SUM(1+1) \u202egnp.exe'
)
APPROVALS = ("Approved", "PendingManualApproval", "Approved", "Rejected")
DEFAULT_ACCOUNT = "123456789012"


@dataclass(frozen=True)
class _GroupPlan:
    name: str
    versions: int
    principal: Any  # None = no policy


def _client(endpoint_url: str, region: str, access_key: str) -> Any:
    return boto3.client(
        "sagemaker",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key="testing",
        config=Config(max_pool_connections=32, retries={"max_attempts": 8, "mode": "standard"}),
    )


def _digest(*parts: object) -> str:
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()


def _policy(group_arn: str, principal: Any) -> str:
    package_arns = group_arn.replace(":model-package-group/", ":model-package/").lower() + "/*"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ShareModelPackageGroup",
                    "Effect": "Allow",
                    "Principal": principal,
                    "Action": [
                        "sagemaker:DescribeModelPackageGroup",
                        "sagemaker:DescribeModelPackage",
                        "sagemaker:ListModelPackages",
                    ],
                    "Resource": [group_arn, package_arns],
                }
            ],
        }
    )


def _package_kwargs(account: str, region: str, name: str, v: int) -> dict[str, Any]:
    repo = f"{account}.dkr.ecr.{region}.amazonaws.com/{name}"
    digest = _digest(name, v, region)
    container: dict[str, Any] = {"ModelDataUrl": f"s3://models-{region}/{name}/{v}/model.tar.gz"}
    if v % 3 == 0:
        container["Image"] = f"{repo}@sha256:{digest}"
    elif v % 3 == 1:
        container.update(Image=f"{repo}:v{v}", ImageDigest=f"sha256:{digest}")
    else:
        container["Image"] = f"{repo}:latest"
    metrics_prefix = f"s3://metrics-{region}/{name}/{v}"
    kwargs: dict[str, Any] = {
        "ModelPackageDescription": f"{name} version {v}",
        "ModelApprovalStatus": APPROVALS[v % len(APPROVALS)],
        "InferenceSpecification": {
            "Containers": [container],
            "SupportedContentTypes": ["text/csv", "application/json"],
            "SupportedResponseMIMETypes": ["application/json"],
            "SupportedRealtimeInferenceInstanceTypes": ["ml.m5.xlarge", "ml.c5.xlarge"],
            "SupportedTransformInstanceTypes": ["ml.m5.xlarge"],
        },
        "ModelMetrics": {
            "ModelQuality": {
                "Statistics": {
                    "ContentType": "application/json",
                    "S3Uri": f"{metrics_prefix}/statistics.json",
                },
                "Constraints": {
                    "ContentType": "application/json",
                    "S3Uri": f"{metrics_prefix}/constraints.json",
                },
            },
            "Bias": {
                "Report": {
                    "ContentType": "application/json",
                    "S3Uri": f"{metrics_prefix}/bias.json",
                }
            },
        },
        "CustomerMetadataProperties": {"team": "risk" if v % 2 else "growth", "build": str(v)},
        "Domain": "MACHINE_LEARNING",
        "Task": "CLASSIFICATION",
    }
    if v % 2 == 0:
        kwargs["SecurityConfig"] = {
            "KmsKeyId": f"arn:aws:kms:{region}:{account}:key/{_digest('kms', name)[:32]}"
        }
    if v % 4 == 0:
        kwargs["ModelCard"] = {
            "ModelCardContent": json.dumps({"model_overview": {"model_description": name}}),
            "ModelCardStatus": "Draft" if v % 8 else "Approved",
        }
    if v % 5 == 0:
        kwargs["SourceUri"] = f"s3://models-{region}/{name}/{v}/source.tar.gz"
    if v % 2 == 1:
        kwargs["ModelLifeCycle"] = {
            "Stage": "Production" if v % 3 else "Staging",
            "StageStatus": "Approved",
            "StageDescription": "promoted by pipeline",
        }
    if v % 3 != 2:
        kwargs["Tags"] = [
            {"Key": "owner", "Value": "ml-platform"},
            {"Key": "cost-center", "Value": f"cc-{v % 7}"},
        ]
    return kwargs


def _seed_group(
    client: Any, account: str, region: str, plan: _GroupPlan, hostile: bool
) -> dict[str, int]:
    arn = client.create_model_package_group(
        ModelPackageGroupName=plan.name,
        ModelPackageGroupDescription=f"{plan.name} models",
        Tags=[{"Key": "team", "Value": "ml"}, {"Key": "group", "Value": plan.name}],
    )["ModelPackageGroupArn"]
    if plan.principal is not None:
        client.put_model_package_group_policy(
            ModelPackageGroupName=plan.name, ResourcePolicy=_policy(arn, plan.principal)
        )
    # Versions are numbered by creation order, so a group's versions are created serially.
    for v in range(1, plan.versions + 1):
        kwargs = _package_kwargs(account, region, plan.name, v)
        if hostile and v == 1:
            kwargs["ModelPackageDescription"] = HOSTILE_DESCRIPTION
        client.create_model_package(ModelPackageGroupName=plan.name, **kwargs)
    return {
        "groups": 1,
        "groups_with_policy": int(plan.principal is not None),
        "packages_versioned": plan.versions,
    }


def _seed_unversioned(client: Any, account: str, region: str, name: str, v: int) -> dict[str, int]:
    client.create_model_package(ModelPackageName=name, **_package_kwargs(account, region, name, v))
    return {"packages_unversioned": 1}


def seed_registry(
    endpoint_url: str,
    regions: list[str],
    *,
    versions_in_big_group: int = 120,
    scale: int = 1,
    access_key: str = "testing",
    shared_from_account: str | None = "210987654321",
    workers: int = 16,
) -> dict[str, dict[str, int]]:
    """Create the registry described in the module docstring; return counts per region.

    Each region gets ``scale * (versions_in_big_group + 18 + 3)`` packages. With the default
    ``versions_in_big_group=120``, ``scale=4`` over two regions gives 1,128 packages.
    """
    account = access_key if access_key.isdigit() and len(access_key) == 12 else DEFAULT_ACCOUNT
    jobs = []
    for region in regions:
        client = _client(endpoint_url, region, access_key)
        for unit in range(scale):
            sfx = f"-{unit}" if unit else ""
            plans = [
                _GroupPlan(
                    f"churn-model{sfx}",
                    versions_in_big_group,
                    {"AWS": ["arn:aws:iam::111122223333:root"]},
                ),
                _GroupPlan(f"fraud-detector{sfx}", 8, "*"),
                _GroupPlan(f"pricing-forecast{sfx}", 4, {"AWS": "arn:aws:iam::444455556666:root"}),
                _GroupPlan(f"recommender{sfx}", 6, None),
                _GroupPlan(f"empty-group{sfx}", 0, None),
            ]
            for plan in plans:
                hostile = unit == 0 and plan.name.startswith("fraud-detector")
                jobs.append((region, _seed_group, (client, account, region, plan, hostile)))
            for i, base in enumerate(("legacy-xgboost", "legacy-sklearn", "imported-onnx")):
                jobs.append((region, _seed_unversioned, (client, account, region, base + sfx, i)))
        if shared_from_account:
            partner = _client(endpoint_url, region, shared_from_account)
            plan = _GroupPlan("partner-shared-model", 3, {"AWS": f"arn:aws:iam::{account}:root"})
            jobs.append(
                ("cross_account", _seed_group, (partner, shared_from_account, region, plan, False))
            )
    # Biggest groups first so the long serial chains start early.
    jobs.sort(key=lambda j: -getattr(j[2][3], "versions", 0))
    counts: dict[str, dict[str, int]] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [(key, pool.submit(fn, *args)) for key, fn, args in jobs]
        for key, fut in futures:
            bucket = counts.setdefault(key, {})
            for k, n in fut.result().items():
                bucket[k] = bucket.get(k, 0) + n
    if regions:  # what is in production: once, in the first region
        region = regions[0]
        served = seed_serving(_client(endpoint_url, region, access_key), account, region)
        counts.setdefault(region, {}).update(served)
    for bucket in counts.values():
        for k in ("groups", "groups_with_policy", "packages_versioned", "packages_unversioned"):
            bucket.setdefault(k, 0)
        bucket["packages"] = bucket["packages_versioned"] + bucket["packages_unversioned"]
    return counts

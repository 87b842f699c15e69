"""Seed what is in production on a seeded registry (scanner.standin.seed), through boto3:
four endpoints on versions of the ``recommender`` group (versions 2, 4 and 6 Approved, 3
Rejected), each with its own model and endpoint configuration, and a model card:

================  =====================================  ======================
endpoint          serves                                 judged
================  =====================================  ======================
recommender-live  version 6 (Approved, the latest)       passes DEP-001, 005
recommender-ab    version 6 (90%) and version 3 (10%)    DEP-001: Rejected
batch-scorer      a model built from an image, no        DEP-004
                  package
recommender-old   version 4 (Approved, older than 6)     DEP-005
================  =====================================  ======================
"""

from __future__ import annotations

import json
from typing import Any

GROUP = "recommender"
ROLE = "arn:aws:iam::{account}:role/sagemaker-serving"


def _model(client: Any, account: str, name: str, container: dict[str, Any]) -> None:
    client.create_model(
        ModelName=name,
        ExecutionRoleArn=ROLE.format(account=account),
        PrimaryContainer=container,
        Tags=[{"Key": "owner", "Value": "ml-platform"}],
    )


def _endpoint(client: Any, name: str, *variants: tuple[str, str, float]) -> None:
    client.create_endpoint_config(
        EndpointConfigName=f"{name}-config",
        ProductionVariants=[
            {
                "VariantName": variant,
                "ModelName": model,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "InitialVariantWeight": weight,
            }
            for variant, model, weight in variants
        ],
    )
    client.create_endpoint(
        EndpointName=name,
        EndpointConfigName=f"{name}-config",
        Tags=[{"Key": "owner", "Value": "ml-platform"}],
    )


def seed_serving(client: Any, account: str, region: str) -> dict[str, int]:
    """The models, endpoints and model card of the module docstring, in one region."""
    versions = {
        p["ModelPackageVersion"]: p["ModelPackageArn"]
        for page in client.get_paginator("list_model_packages").paginate(
            ModelPackageGroupName=GROUP
        )
        for p in page["ModelPackageSummaryList"]
    }
    for v in (3, 4, 6):
        _model(client, account, f"{GROUP}-v{v}", {"ModelPackageName": versions[v]})
    image = f"{account}.dkr.ecr.{region}.amazonaws.com/batch-scorer:2.1"
    data = f"s3://models-{region}/batch-scorer/model.tar.gz"
    _model(client, account, "batch-scorer", {"Image": image, "ModelDataUrl": data})
    _endpoint(client, "recommender-live", ("main", f"{GROUP}-v6", 1.0))
    _endpoint(
        client, "recommender-ab", ("main", f"{GROUP}-v6", 0.9), ("canary", f"{GROUP}-v3", 0.1)
    )
    _endpoint(client, "batch-scorer", ("main", "batch-scorer", 1.0))
    _endpoint(client, "recommender-old", ("main", f"{GROUP}-v4", 1.0))
    client.create_model_card(
        ModelCardName=f"{GROUP}-card",
        ModelCardStatus="Approved",
        Content=json.dumps(
            {
                "model_overview": {"model_description": "product recommendations"},
                "intended_uses": {"risk_rating": "Low"},
                "model_package_details": {"model_package_group_name": GROUP},
            }
        ),  # fmt: skip
        Tags=[{"Key": "owner", "Value": "ml-platform"}],
    )
    return {"models": 4, "endpoints": 4, "model_cards": 1}

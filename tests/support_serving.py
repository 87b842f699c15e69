"""Test support: what is in production, built in the stand-in through boto3 as a user's
deployment pipeline would (models, endpoint configurations, endpoints, model cards)."""

from __future__ import annotations

import json

ROLE = "arn:aws:iam::123456789012:role/sagemaker-execution"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/serve:1.0"


def make_model(sm, name: str, package: str | None = None, **extra) -> str:
    """A model whose primary container is the package (its ARN or name), or an image
    with model data when `package` is None (not from the registry)."""
    if package is not None:
        container = {"ModelPackageName": package}
    else:
        container = {"Image": IMAGE, "ModelDataUrl": "s3://models/loose/model.tar.gz"}
    return sm.create_model(
        ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer=container, **extra
    )["ModelArn"]


def make_config(sm, name: str, *variants: tuple[str, str, float], **extra) -> str:
    """An endpoint configuration; each variant is (variant name, model name, weight)."""
    return sm.create_endpoint_config(
        EndpointConfigName=name,
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
        **extra,
    )["EndpointConfigArn"]


def make_endpoint(sm, name: str, *variants: tuple[str, str, float], **tags) -> str:
    """An endpoint with its own configuration (`<name>-config`) of these variants."""
    make_config(sm, f"{name}-config", *variants)
    return sm.create_endpoint(
        EndpointName=name,
        EndpointConfigName=f"{name}-config",
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
    )["EndpointArn"]


def card_content(*, group: str | None = None, model_id: str | None = None, risk="medium"):
    content: dict = {"intended_uses": {"risk_rating": risk}}
    if model_id is not None:
        content["model_overview"] = {"model_id": model_id}
    if group is not None:
        content["model_package_details"] = {"model_package_group_name": group}
    return json.dumps(content)


def make_card(sm, name: str, status: str = "Draft", **content) -> str:
    return sm.create_model_card(
        ModelCardName=name,
        Content=card_content(**content),
        ModelCardStatus=status,
        Tags=[{"Key": "owner", "Value": "ml"}],
    )["ModelCardArn"]

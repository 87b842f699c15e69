"""Test support: build registries in the stand-in through boto3, as a user's pipeline would."""

from __future__ import annotations

import json

INFERENCE = {
    "Containers": [
        {
            "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/model:latest",
            "ModelDataUrl": "s3://bucket/model.tar.gz",
            "Framework": "XGBOOST",
            "FrameworkVersion": "1.7",
        }
    ],
    "SupportedContentTypes": ["text/csv"],
    "SupportedResponseMIMETypes": ["text/csv"],
}


def make_group(sm, name: str, versions: int = 0, *, policy: dict | None = None, **package):
    sm.create_model_package_group(ModelPackageGroupName=name)
    if policy is not None:
        sm.put_model_package_group_policy(
            ModelPackageGroupName=name, ResourcePolicy=json.dumps(policy)
        )
    return [
        sm.create_model_package(
            ModelPackageGroupName=name, InferenceSpecification=INFERENCE, **package
        )["ModelPackageArn"]
        for _ in range(versions)
    ]


def make_unversioned(sm, name: str, **package) -> str:
    return sm.create_model_package(
        ModelPackageName=name, InferenceSpecification=INFERENCE, **package
    )["ModelPackageArn"]


def public_policy(region: str, group: str, account: str = "123456789012") -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Everyone",
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["sagemaker:DescribeModelPackage"],
                "Resource": f"arn:aws:sagemaker:{region}:{account}:model-package/{group}/*",
            }
        ],
    }

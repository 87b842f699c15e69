"""Every account's clients share one service model and one client class per service
(scanner.aws.shared_models); each still signs with its own account's credentials, and a
boto3 session that is not mpscan's is left as botocore makes it."""

from __future__ import annotations

import gc

import boto3
import botocore.credentials

from scanner.aws import shared_models
from scanner.aws.session import ClientFactory
from scanner.config import Settings


def test_account_clients_share_models_and_classes_not_credentials(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "base")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "base-secret")
    base = ClientFactory(Settings().aws)
    first = base.for_account(botocore.credentials.Credentials("first", "s1"))
    second = base.for_account(botocore.credentials.Credentials("second", "s2"))

    a = first.client("sagemaker", "us-east-1")
    b = second.client("sagemaker", "eu-west-1")

    assert type(a) is type(b)
    assert a.meta.service_model is b.meta.service_model
    assert (a.meta.region_name, b.meta.region_name) == ("us-east-1", "eu-west-1")
    keys = [c._request_signer._credentials.access_key for c in (a, b)]
    assert keys == ["first", "second"]
    assert "describe_model_package" in dir(a) and a.can_paginate("search")
    # another service has its own class and model
    sts = first.client("sts", "us-east-1")
    assert sts.meta.service_model is not a.meta.service_model
    assert hasattr(sts, "assume_role") and not hasattr(sts, "describe_model_package")

    other = boto3.Session(region_name="us-east-1").client("sagemaker")
    assert type(other) is not type(a)
    assert other.meta.service_model is not a.meta.service_model


def test_what_is_shared_goes_with_the_base_session(monkeypatch):
    """A service makes a base session per scan: the models and classes of a finished scan's
    session are not kept."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "base")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "base-secret")

    def scan() -> None:
        base = ClientFactory(Settings().aws)
        account = base.for_account(botocore.credentials.Credentials("first", "s1"))
        account.client("sagemaker", "us-east-1")

    scan()
    gc.collect()
    before = (len(shared_models._models), len(shared_models._classes))
    for _ in range(3):
        scan()
    gc.collect()
    assert (len(shared_models._models), len(shared_models._classes)) <= before

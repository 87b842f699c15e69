"""No credential reaches a log line, at any verbosity and log format: a multi-account scan at
-vvv (botocore's own lines: signed requests, STS response bodies) is searched for every
secret the stand-in issued."""

from __future__ import annotations

from pathlib import Path

import pytest
from moto.sts.models import sts_backends

from tests.support import make_unversioned
from tests.test_accounts import A, B, accounts_toml, sagemaker_of


def issued_secrets() -> set[str]:
    """The secret keys and session tokens moto's STS handed out, in every account."""
    found = set()
    for account in list(sts_backends):
        for backend in sts_backends[account].values():
            for role in backend.assumed_roles:
                found.update({role.secret_access_key, role.session_token})
    return found


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_vvv_multi_account_scan_logs_no_credential(standin, mpscan, tmp_path, log_format):
    make_unversioned(sagemaker_of(A), "a-model")
    make_unversioned(sagemaker_of(B, "eu-west-1"), "b-model")
    Path("mpscan.toml").write_text(accounts_toml(A, B))

    result = mpscan(
        "-vvv", "--log-format", log_format, "scan", "--regions", "us-east-1,eu-west-1",
        "--db", f"sqlite:///{tmp_path / 'inventory.db'}",
    )  # fmt: skip

    assert result.exit_code == 0, result.stderr[-2000:]
    logged = result.stderr
    assert "AssumeRole" in logged and "Response body" in logged  # botocore's lines are there
    secrets = issued_secrets() | {"testing"}  # the base secret key of the test's environment
    assert len(secrets) >= 3  # two assumed roles, the base key
    leaked = [s for s in secrets if s in logged]
    assert leaked == []
    assert "X-Amz-Security-Token" in logged and "<redacted>" in logged

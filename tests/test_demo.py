"""`mpscan demo`: a fresh user's first command."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import query


def test_demo_scans_a_realistic_registry(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MPSCAN_"))}
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    run = subprocess.run(
        [sys.executable, "-m", "scanner", "demo", "--db", db, "--quiet"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "complete" in run.stdout and "mpscan query" in run.stdout

    regions = query(db, "SELECT DISTINCT region FROM model_packages ORDER BY 1")
    assert [r[0] for r in regions] == ["eu-west-1", "us-east-1"]
    biggest = query(
        db,
        "SELECT max(n) FROM (SELECT count(*) AS n FROM model_packages "
        "GROUP BY region, model_package_group_name) t",
    )[0][0]
    assert biggest > 100
    assert (
        query(db, "SELECT count(*) FROM model_packages WHERE model_package_type = 'Unversioned'")[
            0
        ][0]
        > 0
    )
    assert query(db, "SELECT count(*) FROM model_packages WHERE kms_key_id IS NULL")[0][0] > 0
    policies = query(
        db,
        "SELECT resource_policy IS NULL, count(*) FROM model_package_groups "
        "WHERE shared = :f GROUP BY 1",
        f=False,
    )
    assert {bool(r[0]) for r in policies} == {True, False}  # groups with and without policies

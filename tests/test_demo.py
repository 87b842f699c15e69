"""`mpscan demo`: a fresh user's first command."""

from __future__ import annotations

import json
import os
import queue
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import query


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MPSCAN_"))}


def _demo(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scanner", "demo", *args],
        cwd=tmp_path,
        env={**_env(), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _hints(stdout: str) -> list[str]:
    """The `mpscan query` commands under "Try next:", as a user would copy them."""
    commands: list[str] = []
    for line in stdout.split("Try next:", 1)[1].splitlines():
        if line.startswith("  mpscan "):
            commands.append(line.strip())
        elif commands and line.startswith("      "):
            commands[-1] += "\n" + line
    return commands


def _assert_hints_return_rows(stdout: str, password: str | None = None) -> None:
    hints = _hints(stdout)
    assert len(hints) == 6
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    for hint in hints:
        assert hint.startswith("mpscan query --db ")
        if password:
            hint = hint.replace(":***@", f":{password}@")  # as the hint tells a user to
        run = subprocess.run(
            ["bash", "-c", hint + " --format json"],  # the last --format wins
            env={**_env(), "PATH": path},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0, (hint, run.stderr)
        assert json.loads(run.stdout), hint


def test_demo_scans_a_realistic_registry(tmp_path):
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    run = _demo(tmp_path, "--db", db, "--quiet")
    assert run.returncode == 0, run.stderr
    assert "complete" in run.stdout
    _assert_hints_return_rows(run.stdout)

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
    dep = query(db, "SELECT resource_arn, message FROM findings "
                "WHERE rule_id = 'DEP-001' AND status = 'fail'")  # fmt: skip
    assert [(arn.rsplit("/", 1)[1], message.split(" serves ")[0]) for arn, message in dep] == [
        ("recommender-ab", "variant canary, weight 0.1")
    ]  # the one endpoint serving a Rejected version


@pytest.mark.postgres
def test_demo_on_postgresql_never_prints_the_password(tmp_path, postgres_url):
    url = make_url(postgres_url)
    password = url.password or "s3cret"  # trust auth ignores it; a real server checks it
    db = url.set(password=password).render_as_string(hide_password=False)
    run = _demo(tmp_path, "--db", db)
    assert run.returncode == 0, run.stderr
    assert password not in run.stdout + run.stderr
    assert ":***@" in run.stdout and "type yours" in run.stdout
    _assert_hints_return_rows(run.stdout, password)


@pytest.mark.parametrize("scale", ["0", "-1"])
def test_demo_refuses_a_scale_below_one(mpscan, scale):
    result = mpscan("demo", "--scale", scale)
    assert result.exit_code == 2
    assert "--scale" in result.output


def _listening(port: int) -> list[str]:
    """Local addresses (hex, as the kernel lists them) with a listening socket on ``port``."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                found.append(local.rsplit(":", 1)[0])
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc/net/tcp")
def test_demo_serve_keeps_a_loopback_standin_until_ctrl_c(tmp_path):
    db = f"sqlite:///{tmp_path / 'served.db'}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "scanner", "demo", "--serve", "--db", db],
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stderr], daemon=True).start()
    try:
        deadline = time.monotonic() + 300
        line = ""
        while "keeps running" not in line:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        url = line.split(" at ", 1)[1].split()[0]
        host, port = url.removeprefix("http://").rsplit(":", 1)
        assert host == "127.0.0.1"
        assert _listening(int(port)) == ["0100007F"]  # 127.0.0.1, and no other address

        sm = boto3.client(
            "sagemaker",
            endpoint_url=url,
            region_name="eu-west-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        assert sm.list_model_package_groups()["ModelPackageGroupSummaryList"]

        again = shlex.split(lines.get(timeout=5))
        env = dict(a.split("=", 1) for a in again[:3])
        assert again[3:5] == ["mpscan", "scan"] and again[-2:] == ["--db", db]
        rescan = subprocess.run(
            [sys.executable, "-m", "scanner", *again[4:]],
            cwd=tmp_path,
            env={**_env(), **env},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert rescan.returncode == 0, rescan.stderr
        assert query(db, "SELECT count(*) FROM scans WHERE status = 'complete'")[0][0] == 2

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", int(port))) != 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()


def test_demo_ignores_the_users_own_aws_settings(tmp_path):
    """A user who pointed STS elsewhere, or has a profile, still gets a working demo."""
    (tmp_path / "aws-config").write_text("[default]\nregion = ap-south-1\n")
    run = _demo(
        tmp_path,
        "--db",
        f"sqlite:///{tmp_path / 'demo.db'}",
        "-q",
        AWS_ENDPOINT_URL_STS="http://127.0.0.1:1",
        AWS_ENDPOINT_URL_SAGEMAKER="http://127.0.0.1:1",
        AWS_PROFILE="nobody",
        AWS_CONFIG_FILE=str(tmp_path / "aws-config"),
    )
    assert run.returncode == 0, run.stderr


def test_demo_with_a_bad_database_url_fails_before_seeding(tmp_path):
    run = _demo(tmp_path, "--db", "mysql://x@localhost/db")
    assert run.returncode == 2
    assert "seeding" not in run.stderr and "unsupported database URL" in run.stderr

"""Shared fixtures: the AWS stand-in (moto's server over HTTP) and databases.

boto3 reaches the stand-in only through the standard AWS_ENDPOINT_URL setting, as a user's
LocalStack or moto would be reached. PostgreSQL tests use MPSCAN_TEST_POSTGRES_URL
(default: the local server); they skip with the reason when it is unreachable, unless
MPSCAN_REQUIRE_POSTGRES=1 (set by CI), where they fail instead.
"""

from __future__ import annotations

import os
import uuid

import boto3
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from scanner.cli import cli
from tests.standin_faults import start_faulty_standin

POSTGRES_URL = os.environ.get(
    "MPSCAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REGIONS = ("us-east-1", "eu-west-1")
ACCOUNT = "123456789012"


@pytest.fixture(scope="session")
def _standin():
    server = start_faulty_standin()
    yield server
    server.stop()


@pytest.fixture
def standin(_standin, monkeypatch, tmp_path):
    """A clean stand-in, with this process's AWS settings pointed at it and nowhere else."""
    _standin.reset()
    for name in list(os.environ):
        if name.startswith("AWS_") or name.startswith("MPSCAN_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ENDPOINT_URL", _standin.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.chdir(tmp_path)  # no stray ./mpscan.toml or ./mpscan.db
    yield _standin
    _standin.reset()


@pytest.fixture
def sm(standin):
    """boto3 SageMaker clients per region, talking HTTP to the stand-in."""
    return {r: boto3.client("sagemaker", region_name=r) for r in REGIONS}


def _postgres_url() -> str:
    try:
        engine = create_engine(POSTGRES_URL)
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:  # any failure to connect means: no server to test against
        reason = f"PostgreSQL not reachable at {POSTGRES_URL}: {type(exc).__name__}"
        if os.environ.get("MPSCAN_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason + " (MPSCAN_REQUIRE_POSTGRES=1)")
        pytest.skip(reason + "; set MPSCAN_TEST_POSTGRES_URL to run these tests")
    return POSTGRES_URL


@pytest.fixture
def postgres_url():
    """A fresh, empty PostgreSQL schema for one test (search_path points at it)."""
    base = _postgres_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """Each store test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'inventory.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def mpscan():
    """Run the real `mpscan` command line in-process; returns click's Result."""
    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        return runner.invoke(cli, list(args), input=input, catch_exceptions=False)

    return run


def query(db_url: str, sql: str, **params):
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).all()
    finally:
        engine.dispose()


def pytest_collection_modifyitems(items):
    """Mark each test by the database it needs, so `pytest -m postgres` (or `-m sqlite`)
    selects them: postgres_url directly, or the db_url fixture's parameter."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        database = callspec.params.get("db_url") if callspec else None
        names = getattr(item, "fixturenames", ())
        # demo_dbs (test_query_output) scans into both databases for every test
        if database == "postgresql" or "postgres_url" in names or "demo_dbs" in names:
            item.add_marker(pytest.mark.postgres)
        elif database == "sqlite":
            item.add_marker(pytest.mark.sqlite)


@pytest.fixture
def client(standin):
    """boto3 clients of the test module's stand-in, refusing any other endpoint."""

    def make(service="sagemaker", region="us-east-1", key="testing", config=None):
        c = boto3.client(
            service,
            endpoint_url=standin.url,
            region_name=region,
            aws_access_key_id=key,
            aws_secret_access_key="testing",
            config=config,
        )

        def only_standin(request, **_):
            assert request.url.startswith(standin.url), request.url

        c.meta.events.register("before-send", only_standin)
        return c

    return make

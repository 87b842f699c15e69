"""Benchmark: what is in production at scale (issue 15's figures).

Seeds the tests' stand-in (in this process, no latency) with 2,000 model package versions
(10 groups of 100 per region), 400 models (200 per region, each built from a version; one
in ten from an image only), 200 endpoint configurations and 200 endpoints (100 per region,
one in four with a second variant) in us-east-1 and eu-west-1, then scans them once in
search mode onto SQLite and prints:

* the AWS calls of the scan by operation, and the bound the issue sets: 1.1 x (list and
  Search pages + one DescribeEndpointConfig per configuration), the pages counted from the
  resources' numbers (100 a page); the groups' GetModelPackageGroupPolicy calls (one a
  group, no bulk API answers them) are shown beside it;
* the `deployments` view's time, the median of `--repeat` runs (default 21), on SQLite and
  on PostgreSQL (MPSCAN_TEST_POSTGRES_URL or the local server, in a schema of its own,
  dropped after; the PostgreSQL inventory is a copy of the same scan): the whole view, and
  the README's two example queries.

    .venv/bin/python benchmarks/serving_scale.py
    .venv/bin/python benchmarks/serving_scale.py --repeat 51 --json

Not a test; nothing is asserted on time. Only localhost is contacted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
from botocore.config import Config
from click.testing import CliRunner
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scanner.cli import cli  # noqa: E402
from tests.standin_faults import start_faulty_standin  # noqa: E402
from tests.support import INFERENCE  # noqa: E402
from tests.test_serving import readme_queries  # noqa: E402

REGIONS = ("us-east-1", "eu-west-1")
GROUPS, VERSIONS, MODELS, ENDPOINTS = 10, 100, 200, 100  # per region
PAGE = 100
POSTGRES = os.environ.get(
    "MPSCAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _client(url: str, region: str):
    config = Config(max_pool_connections=16, retries={"max_attempts": 8, "mode": "standard"})
    return boto3.client("sagemaker", endpoint_url=url, region_name=region, config=config)


def seed(url: str, region: str) -> None:
    sm = _client(url, region)

    def group(g: int) -> list[str]:
        sm.create_model_package_group(ModelPackageGroupName=f"g{g}")
        return [
            sm.create_model_package(
                ModelPackageGroupName=f"g{g}",
                InferenceSpecification=INFERENCE,
                ModelApprovalStatus=("Approved", "Rejected", "PendingManualApproval")[v % 3],
            )["ModelPackageArn"]
            for v in range(VERSIONS)
        ]

    with ThreadPoolExecutor(8) as pool:
        versions = [arn for arns in pool.map(group, range(GROUPS)) for arn in arns]
    role = "arn:aws:iam::123456789012:role/serving"
    for m in range(MODELS):
        container = (
            {
                "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1",
                "ModelDataUrl": "s3://b/m",
            }
            if m % 10 == 9
            else {"ModelPackageName": versions[(m * 7) % len(versions)]}
        )
        sm.create_model(ModelName=f"m{m}", ExecutionRoleArn=role, PrimaryContainer=container)
    for e in range(ENDPOINTS):
        variants = [("main", f"m{(2 * e) % MODELS}", 0.9 if e % 4 == 0 else 1.0)]
        if e % 4 == 0:
            variants.append(("canary", f"m{(2 * e + 1) % MODELS}", 0.1))
        sm.create_endpoint_config(
            EndpointConfigName=f"e{e}-config",
            ProductionVariants=[
                {
                    "VariantName": v,
                    "ModelName": model,
                    "InitialInstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                    "InitialVariantWeight": w,
                }
                for v, model, w in variants
            ],  # fmt: skip
        )
        sm.create_endpoint(EndpointName=f"e{e}", EndpointConfigName=f"e{e}-config")


def expected_calls() -> tuple[int, int]:
    """(list and Search pages + DescribeEndpointConfig calls, GetModelPackageGroupPolicy)."""
    pages = 0
    for n, searched in (
        (GROUPS * VERSIONS, True),  # packages
        (GROUPS, True),  # own groups
        (0, False),  # shared groups
        (MODELS, True),
        (ENDPOINTS, False),  # configurations: listed, then described
        (ENDPOINTS, True),
        (0, True),  # model cards
    ):
        listed = max(1, math.ceil(n / PAGE))
        pages += listed * (2 if searched else 1)
    return len(REGIONS) * (pages + ENDPOINTS), len(REGIONS) * GROUPS


def timed(url: str, sql: str, repeat: int) -> float:
    engine = create_engine(url)
    try:
        runs = []
        with engine.connect() as conn:
            conn.execute(text(sql)).all()  # warm
            for _ in range(repeat):
                started = time.perf_counter()
                conn.execute(text(sql)).all()
                runs.append(time.perf_counter() - started)
        return statistics.median(runs) * 1000
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    standin = start_faulty_standin()
    tmp = Path(tempfile.mkdtemp(prefix="mpscan-serving-"))
    os.environ.update(
        AWS_ENDPOINT_URL=standin.url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGIONS[0],
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    os.chdir(tmp)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES)
    try:
        started = time.perf_counter()
        for region in REGIONS:
            seed(standin.url, region)
        seeded = time.perf_counter() - started
        standin.clear_stats()
        sqlite = f"sqlite:///{tmp / 'inventory.db'}"
        runner = CliRunner()
        scan = ["scan", "--regions", ",".join(REGIONS), "-q"]
        started = time.perf_counter()
        result = runner.invoke(cli, [*scan, "--db", sqlite])
        scanned = time.perf_counter() - started
        assert result.exit_code == 0, result.output
        calls = {op: sum(r["ok"] + r["error"] for r in per.values())
                 for op, per in standin.stats()["operations"].items()}  # fmt: skip
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        postgres = f"{POSTGRES}{'&' if '?' in POSTGRES else '?'}options=-csearch_path%3D{schema}"
        assert runner.invoke(cli, [*scan, "--db", postgres]).exit_code == 0
        base, policies = expected_calls()
        queries = {"the whole view": "SELECT * FROM deployments"}
        queries.update(
            zip(("not Approved (README)", "older (README)"), readme_queries(), strict=True)
        )
        timings = {
            engine: {name: timed(url, sql, args.repeat) for name, sql in queries.items()}
            for engine, url in (("sqlite", sqlite), ("postgresql", postgres))
        }
        count = "SELECT count(*) FROM deployments"
        rows = {
            engine: create_engine(url).connect().execute(text(count)).scalar()
            for engine, url in (("sqlite", sqlite), ("postgresql", postgres))
        }
        report = {
            "seeded_s": round(seeded, 1),
            "scan_s": round(scanned, 1),
            "calls": dict(sorted(calls.items())),
            "calls_total": sum(calls.values()),
            "bound": round(1.1 * base, 1),
            "pages_and_configurations": base,
            "group_policy_calls": policies,
            "deployments_rows": rows,
            "view_ms": {e: {q: round(t, 2) for q, t in ts.items()} for e, ts in timings.items()},
        }
        if args.json:
            print(json.dumps(report, indent=2))
        else:
            print(f"seeded in {report['seeded_s']} s, scanned (SQLite) in {report['scan_s']} s")
            for op, n in report["calls"].items():
                print(f"  {op:28} {n:6}")
            print(
                f"calls: {report['calls_total']}; bound 1.1 x ({base} pages and "
                f"configurations) = {report['bound']}; plus {policies} group policy calls"
            )
            print(f"deployments rows: {rows}")
            for engine, ts in report["view_ms"].items():
                for name, ms in ts.items():
                    print(f"  {engine:10} {name:24} {ms:8.2f} ms (median of {args.repeat})")
        return 0
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
        standin.stop()


if __name__ == "__main__":
    raise SystemExit(main())

"""Many accounts: `mpscan scan` over N accounts × R regions × P packages on the local
stand-in, against a bare boto3 thread pool making the same calls in the same run.

Prints, for each: wall time, API calls per second, and CPU time per API call of the
scanning process (the stand-in runs in this process and is not counted). Both run as
subprocesses with the same number of calls in flight.

    .venv/bin/python benchmarks/accounts_scale.py                       # 200 × 2 × 50
    .venv/bin/python benchmarks/accounts_scale.py --accounts 20 --packages 10

Run from the repository root (it imports tests.standin_faults). Figures in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.standin_faults.server import start_faulty_standin  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SPEC = {
    "Containers": [{"Image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/m:1"}],
    "SupportedContentTypes": ["text/csv"],
    "SupportedResponseMIMETypes": ["text/csv"],
}

BARE = r"""
import boto3, json, sys, time
from concurrent.futures import ThreadPoolExecutor
from botocore.config import Config
accounts, regions, workers = json.loads(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3])
cfg = Config(retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=workers + 4)
base = boto3.Session()
def account(acct):
    creds = base.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{acct}:role/mpscan-reader", RoleSessionName="bare")["Credentials"]
    s = boto3.Session(aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
    s.client("sts", region_name=regions[0]).get_caller_identity()
    for region in regions:
        sm = s.client("sagemaker", region_name=region, config=cfg)
        arns = [p["ModelPackageArn"]
                for page in sm.get_paginator("list_model_packages").paginate(
                    ModelPackageType="Both", PaginationConfig={"PageSize": 100})
                for p in page["ModelPackageSummaryList"]]
        groups = [g["ModelPackageGroupName"]
                  for page in sm.get_paginator("list_model_package_groups").paginate()
                  for g in page["ModelPackageGroupSummaryList"]]
        list(sm.get_paginator("list_model_package_groups").paginate(
            CrossAccountFilterOption="CrossAccount"))
        for arn in arns:
            sm.describe_model_package(ModelPackageName=arn)
            sm.list_tags(ResourceArn=arn)
        for g in groups:
            d = sm.describe_model_package_group(ModelPackageGroupName=g)
            try:
                sm.get_model_package_group_policy(ModelPackageGroupName=g)
            except sm.exceptions.ClientError:
                pass
            sm.list_tags(ResourceArn=d["ModelPackageGroupArn"])
with ThreadPoolExecutor(workers) as pool:
    list(pool.map(account, accounts))
"""


def seed(url: str, accounts: list[str], regions: list[str], packages: int) -> None:
    def one(job):
        account, region = job
        sm = boto3.client(
            "sagemaker",
            endpoint_url=url,
            region_name=region,
            aws_access_key_id=account,  # the stand-in maps a 12-digit key to its account
            aws_secret_access_key="x",
        )
        sm.create_model_package_group(ModelPackageGroupName="models")
        for _ in range(packages):
            sm.create_model_package(ModelPackageGroupName="models", InferenceSpecification=SPEC)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, [(a, r) for a in accounts for r in regions]))


def child_run(cmd: list[str], env: dict[str, str], cwd: str) -> tuple[float, float, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    run = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if run.returncode not in (0,):
        print(run.stderr[-2000:], file=sys.stderr)
        raise SystemExit(f"{cmd[2:4]} exited {run.returncode}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, run.returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=200)
    ap.add_argument("--regions", default="us-east-1,eu-west-1")
    ap.add_argument("--packages", type=int, default=50, help="per account and region")
    ap.add_argument("--latency-ms", type=float, default=10.0, help="per SageMaker call")
    args = ap.parse_args()
    regions = args.regions.split(",")
    accounts = [f"{100000000000 + i:012d}" for i in range(args.accounts)]

    standin = start_faulty_standin()
    t = time.perf_counter()
    seed(standin.url, accounts, regions, args.packages)
    print(
        f"seeded {len(accounts)} accounts × {len(regions)} regions × {args.packages} packages "
        f"in {time.perf_counter() - t:.1f} s"
    )
    standin.faults.update(latency_ms=args.latency_ms)
    work = tempfile.mkdtemp(prefix="mpscan-accounts-")
    Path(work, "mpscan.toml").write_text(
        "[aws]\naccount_concurrency = 8\nregion_concurrency = 2\nconcurrency = 4\n"
        + "".join(
            f'[[accounts]]\nrole_arn = "arn:aws:iam::{a}:role/mpscan-reader"\n' for a in accounts
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MPSCAN_"))}
    env.update(
        AWS_ENDPOINT_URL=standin.url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=regions[0],
        PYTHONPATH=str(ROOT),
    )
    in_flight = 8 * 2 * 4  # accounts × regions × workers, as configured above

    results = {}
    for name, cmd in (
        (
            "mpscan scan",
            [
                sys.executable,
                "-m",
                "scanner",
                "scan",
                "-q",
                "--regions",
                args.regions,
                "--db",
                f"sqlite:///{work}/inv.db",
            ],
        ),
        (
            "bare boto3 pool",
            [sys.executable, "-c", BARE, json.dumps(accounts), json.dumps(regions), str(in_flight)],
        ),
    ):
        standin.clear_stats()
        wall, cpu, _ = child_run(cmd, env, work)
        calls = standin.stats()["totals"]["ok"]
        results[name] = (wall, cpu, calls)
        print(
            f"{name:16} wall {wall:7.1f} s   {calls / wall:7.0f} calls/s   "
            f"{1000 * cpu / calls:6.2f} ms CPU per call   ({calls} SageMaker calls)"
        )
    (mw, mc, mn), (bw, bc, bn) = results["mpscan scan"], results["bare boto3 pool"]
    print(f"mpscan / bare: wall ×{mw / bw:.2f}, CPU per call ×{(mc / mn) / (bc / bn):.2f}")
    standin.stop()


if __name__ == "__main__":
    main()

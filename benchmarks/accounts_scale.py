"""Many accounts: `mpscan scan` over N accounts × R regions × P packages on the local
stand-in, against a bare boto3 thread pool making the same calls in the same run.

Prints, for each: wall time, API calls per second, CPU time per API call and peak RSS of
the scanning process (the stand-in runs in this process and is not counted), then the cost
per account-region and what one process would need for a larger organisation. Both run as
subprocesses with the same number of calls in flight.

    .venv/bin/python benchmarks/accounts_scale.py                    # 1,000 × 2 × 5, no latency
    .venv/bin/python benchmarks/accounts_scale.py --backend postgresql
    .venv/bin/python benchmarks/accounts_scale.py --organization     # [organization], ListAccounts
    .venv/bin/python benchmarks/accounts_scale.py --accounts 200 --packages 50 --latency-ms 10
    .venv/bin/python benchmarks/accounts_scale.py --accounts 200 --collect both --no-bare

Run from the repository root (it imports tests.standin_faults). PostgreSQL:
MPSCAN_TEST_POSTGRES_URL (default: the tests' local server), in a schema of its own that is
dropped afterwards. Figures in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.standin_faults.server import start_faulty_standin  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get(
    "MPSCAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SPEC = {
    "Containers": [{"Image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/m:1"}],
    "SupportedContentTypes": ["text/csv"],
    "SupportedResponseMIMETypes": ["text/csv"],
}
ACCOUNTS, REGIONS, PER_ACCOUNT = 8, 2, 4  # account_concurrency, region_concurrency, concurrency

# What a boto3 script does: a Session per account (boto3's advice for threads), a client per
# region, the same calls as mpscan's describe collection.
BARE = r"""
import boto3, json, sys
from concurrent.futures import ThreadPoolExecutor
from botocore.config import Config
accounts, regions, workers = json.loads(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3])
cfg = Config(retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=workers + 4)
base = boto3.Session()
sts = base.client("sts")
def account(acct):
    creds = sts.assume_role(
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


def organization(url: str, count: int) -> list[str]:
    """An organisation of `count` member accounts (moto's Organizations); their ids."""
    org = boto3.client(
        "organizations", endpoint_url=url, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip
    org.create_organization(FeatureSet="ALL")
    for i in range(count):
        org.create_account(Email=f"a{i}@example.com", AccountName=f"a{i}")
    pages = list(org.get_paginator("list_accounts").paginate(PaginationConfig={"PageSize": 20}))
    ids = [a["Id"] for page in pages for a in page["Accounts"]]
    print(f"organization: {len(ids)} accounts (management included), ListAccounts pages of "
          f"{len(pages[0]['Accounts'])}: {len(pages)} pages")  # fmt: skip
    return ids


# The child's own peak RSS, as the kernel counts it for its program (VmHWM, read when it
# exits). Not ru_maxrss: that keeps the high-water mark of the forked copy of this process
# (the stand-in and its seeded registry) from before the exec.
PEAK = (
    "import atexit, runpy, sys; peak_file = sys.argv.pop(1); atexit.register(lambda: "
    "open(peak_file, 'w').write(open('/proc/self/status').read().split('VmHWM:')[1].split()[0]))"
    "; del sys.argv[0]; "
)


def child_run(cmd: list[str], env: dict[str, str], cwd: str) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one child process, and its stdout.
    cmd: [python, "-m", module, args...] or [python, "-c", code, args...]."""
    peak_file = Path(cwd, "peak-kb")
    if cmd[1] == "-m":
        run = PEAK + f"runpy.run_module({cmd[2]!r}, run_name='__main__')"
    else:
        run = PEAK + f"exec(compile({cmd[2]!r}, '<bare>', 'exec'))"
    cmd = [cmd[0], "-c", run, str(peak_file), cmd[2], *cmd[3:]]
    start = time.perf_counter()
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    child = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=err)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    out.seek(0)
    err.seek(0)
    if child.returncode != 0:
        print(err.read().decode()[-3000:], file=sys.stderr)
        raise SystemExit(f"{cmd[4]} exited {child.returncode}")
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, int(peak_file.read_text()) / 1024, out.read().decode()


def database(backend: str, stem: str) -> tuple[str, callable]:
    if backend == "sqlite":
        return f"sqlite:///{stem}.db", lambda: None
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"

    def drop():
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}", drop


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=1000)
    ap.add_argument("--regions", default="us-east-1,eu-west-1")
    ap.add_argument("--packages", type=int, default=5, help="per account and region")
    ap.add_argument("--latency-ms", type=float, default=0.0, help="per SageMaker call")
    ap.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument(
        "--organization", action="store_true", help="[organization] instead of [[accounts]]"
    )
    ap.add_argument("--no-bare", action="store_true", help="mpscan only")
    ap.add_argument(
        "--collect",
        choices=["search", "describe", "both"],
        default="search",
        help="mpscan --collect; both: a scan in each mode, each into a new database",
    )
    args = ap.parse_args()
    regions = args.regions.split(",")

    standin = start_faulty_standin()
    t = time.perf_counter()
    if args.organization:
        accounts = organization(standin.url, args.accounts)
        config = '[organization]\nrole_name = "mpscan-reader"\n'
    else:
        accounts = [f"{100000000000 + i:012d}" for i in range(args.accounts)]
        config = "".join(
            f'[[accounts]]\nrole_arn = "arn:aws:iam::{a}:role/mpscan-reader"\n' for a in accounts
        )
    seed(standin.url, accounts, regions, args.packages)
    print(
        f"seeded {len(accounts)} accounts × {len(regions)} regions × {args.packages} packages "
        f"and a group in {time.perf_counter() - t:.1f} s; latency {args.latency_ms:g} ms; "
        f"{args.backend}"
    )
    standin.faults.update(latency_ms=args.latency_ms)
    work = tempfile.mkdtemp(prefix="mpscan-accounts-")
    Path(work, "mpscan.toml").write_text(
        f"[aws]\naccount_concurrency = {ACCOUNTS}\nregion_concurrency = {REGIONS}\n"
        f"concurrency = {PER_ACCOUNT}\n{config}"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MPSCAN_"))}
    env.update(
        AWS_ENDPOINT_URL=standin.url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=regions[0],
        PYTHONPATH=str(ROOT),
    )
    in_flight = ACCOUNTS * REGIONS * PER_ACCOUNT
    modes = ["describe", "search"] if args.collect == "both" else [args.collect]
    dbs = [database(args.backend, f"{work}/{mode}") for mode in modes]
    mpscan = [sys.executable, "-m", "scanner", "scan", "-q", "--format", "json"]
    runs = [
        (f"mpscan {mode}", mpscan + ["--regions", args.regions, "--db", url, "--collect", mode])
        for mode, (url, _) in zip(modes, dbs, strict=True)
    ]
    if not args.no_bare:
        bare = [sys.executable, "-c", BARE, json.dumps(accounts), json.dumps(regions)]
        runs.append(("bare boto3 pool", bare + [str(in_flight)]))
    results = {}
    try:
        for name, cmd in runs:
            standin.clear_stats()
            own = time.process_time()  # this process: the stand-in answering the child
            wall, cpu, rss, out = child_run(cmd, env, work)
            served = time.process_time() - own
            calls = standin.stats()["totals"]["ok"]
            results[name] = (wall, cpu, calls, rss)
            print(
                f"{name:16} wall {wall:7.1f} s   {calls / wall:6.0f} calls/s   "
                f"{1000 * cpu / calls:6.2f} ms CPU per call   peak RSS {rss:5.0f} MB   "
                f"({calls} SageMaker calls; the stand-in used {served:.0f} s CPU)"
            )
            if name.startswith("mpscan"):
                summary = json.loads(out)
                results[name] += (summary["totals"]["packages"],)
                print(
                    f"{'':16} exit {summary['exit_code']}, {summary['status']}, "
                    f"{summary['totals']['packages']} packages, "
                    f"{len(summary['regions'])} account-regions, findings "
                    f"{summary['findings']['open_by_status']}"
                )
    finally:
        for _, drop in dbs:
            drop()
        standin.stop()
    pairs = len(accounts) * len(regions)
    for mode in modes:
        mw, mc, mn, _, packages = results[f"mpscan {mode}"]
        print(
            f"{mode}: per account-region {1000 * mw / pairs:.1f} ms wall, "
            f"{1000 * mc / pairs:.1f} ms CPU; per package {1000 * mw / packages:.2f} ms wall, "
            f"{1000 * mc / packages:.2f} ms CPU; 5,000 accounts × 4 regions in one process: "
            f"about {20000 * mw / pairs / 60:.0f} min wall, {20000 * mc / pairs / 60:.0f} min CPU"
        )
    if len(modes) == 2:
        (dw, dc, dn, _, _), (sw, sc, sn, _, _) = (results[f"mpscan {m}"] for m in modes)
        print(f"search / describe: wall ×{sw / dw:.2f}, CPU ×{sc / dc:.2f}, calls ×{sn / dn:.2f}")
    mw, mc, mn, *_ = results[f"mpscan {modes[-1]}"]
    if "bare boto3 pool" in results:
        bw, bc, bn, *_ = results["bare boto3 pool"]
        print(
            f"mpscan {modes[-1]} / bare (describe calls): wall ×{mw / bw:.2f}, "
            f"CPU per call ×{(mc / mn) / (bc / bn):.2f}"
        )


if __name__ == "__main__":
    main()

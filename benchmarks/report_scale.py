"""Benchmark: `mpscan report` of about 100,000 findings, every format, SQLite and PostgreSQL.

For each database: creates a fresh one (`mpscan db upgrade`), inserts a scan, its regions
(2 accounts x 4 regions, all complete) and enough model packages with their container
rows (SQLAlchemy Core executemany; approved packages with tagged images, no KMS key, no
model card, metrics, lineage or owner tag, and varied descriptions and names) that the
built-in rules make about
100,000 findings, then runs `mpscan evaluate` once to store them. Then, for each format,
runs `python -m scanner report --format X --output FILE` as a child process and prints its
wall time, peak RSS (os.wait4 rusage: the whole command, re-judging included) and the size
of what it wrote. Target: peak RSS <= 300 MB for every format.

Usage (from the project root, with the project's venv)::

    .venv/bin/python benchmarks/report_scale.py                  # SQLite and PostgreSQL
    .venv/bin/python benchmarks/report_scale.py --backends sqlite --findings 20000
    .venv/bin/python benchmarks/report_scale.py --keep DIR       # keep the reports in DIR

PostgreSQL: MPSCAN_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test);
a schema of its own is created and dropped. Not a test: pytest never runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scanner import transform  # noqa: E402
from scanner.store.schema import (  # noqa: E402
    Finding,
    ModelPackage,
    ModelPackageContainer,
    Scan,
    ScanRegion,
)

FORMATS = ("html", "csv", "json", "sarif", "ocsf", "asff")
ACCOUNTS = ("123456789012", "210987654321")
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2")
PER_PACKAGE = 10  # findings the built-in rules make for each package below (MP-014 too)
TARGET_MB = 300
POSTGRES_URL = os.environ.get(
    "MPSCAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def run(args: list[str], env: dict[str, str]) -> tuple[int, float, float, str]:
    """(exit code, wall seconds, peak RSS in MB, stderr) of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "scanner", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    stderr = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return child.returncode, time.perf_counter() - started, usage.ru_maxrss / 1024, stderr


def container_rows(package: dict) -> list[dict]:
    """The package's model_package_containers rows, as the store makes them."""
    return [
        {"model_package_arn": package["model_package_arn"], **c, "last_seen_scan_id": 1}
        for c in transform.containers(
            {"InferenceSpecification": package["inference_specification"]}
        )
    ]


def package_rows(count: int, scan_id: int, at: datetime, accounts=ACCOUNTS, regions=REGIONS):
    for i in range(count):
        account = accounts[i % len(accounts)]
        region = regions[(i // len(accounts)) % len(regions)]
        group = f"team-{i % 97:02d}-model"
        version = i // 97 + 1
        arn = f"arn:aws:sagemaker:{region}:{account}:model-package/{group}/{version}"
        image = f"{account}.dkr.ecr.{region}.amazonaws.com/{group}:v{version % 13}"
        spec = {
            "Containers": [
                {"Image": image, "ModelDataUrl": f"s3://models-{account}/{group}/{version}.tgz"}
            ]
        }
        yield {
            "model_package_arn": arn,
            "account_id": account,
            "region": region,
            "model_package_type": "Versioned",
            "model_package_group_name": group,
            "model_package_version": version,
            "model_package_description": f"Churn model {i} <b>retrained</b> weekly; see wiki",
            "model_approval_status": "Approved",
            "model_package_status": "Completed",
            "creation_time": at - timedelta(days=i % 400),
            "inference_specification": spec,
            "tags": [{"Key": "cost-centre", "Value": f"cc-{i % 31}"}],
            "raw": {"ModelPackageArn": arn, "InferenceSpecification": spec},
            "first_seen_at": at,
            "last_seen_at": at,
            "first_seen_scan_id": scan_id,
            "last_seen_scan_id": scan_id,
        }


def _insert(conn, packages: list[dict]) -> None:
    conn.execute(insert(ModelPackage), packages)
    conn.execute(insert(ModelPackageContainer), [c for p in packages for c in container_rows(p)])


def prepare(
    url: str, findings: int, env: dict[str, str], accounts=ACCOUNTS, regions=REGIONS
) -> tuple[int, float]:
    code, _, _, err = run(["db", "upgrade", "--db", url], env)
    if code:
        raise SystemExit(f"db upgrade failed: {err}")
    engine = create_engine(url)
    at = datetime.now(UTC).replace(microsecond=0)
    packages = -(-findings // PER_PACKAGE)
    with engine.begin() as conn:
        conn.execute(
            insert(Scan),
            [
                {
                    "id": 1,
                    "started_at": at,
                    "finished_at": at,
                    "status": "complete",
                    "packages_seen": packages,
                    "groups_seen": 0,
                    "mpscan_version": "bench",
                }
            ],
        )
        conn.execute(
            insert(ScanRegion),
            [
                {
                    "scan_id": 1,
                    "account_id": a,
                    "region": r,
                    "status": "complete",
                    "started_at": at,
                    "finished_at": at,
                    "packages": packages // (len(accounts) * len(regions)),
                }
                for a in accounts
                for r in regions
            ],
        )
        batch = []
        for row in package_rows(packages, 1, at, accounts, regions):
            batch.append(row)
            if len(batch) == 2000:
                _insert(conn, batch)
                batch = []
        if batch:
            _insert(conn, batch)
    started = time.perf_counter()
    code, _, _, err = run(["evaluate", "--db", url], env)
    if code:
        raise SystemExit(f"evaluate failed: {err}")
    seconds = time.perf_counter() - started
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(Finding)).scalar()
    engine.dispose()
    return stored, seconds


def bench(backend: str, url: str, findings: int, out_dir: Path, env, formats=FORMATS) -> list[dict]:
    stored, evaluate_s = prepare(url, findings, env)
    print(f"\n{backend}: {stored} findings stored (first evaluate {evaluate_s:.1f} s)")
    print(f"  {'format':<6} {'wall s':>7} {'peak RSS MB':>12} {'output MB':>10}  verdict")
    records = []
    for fmt in formats:
        target = out_dir / f"{backend}.{fmt}"
        code, wall, rss, err = run(
            ["report", "--format", fmt, "--output", str(target), "--db", url], env
        )
        size = target.stat().st_size / 1e6 if target.exists() else 0.0
        ok = code == 0 and rss <= TARGET_MB
        verdict = "ok" if ok else f"FAIL (exit {code}) {err.strip()[-200:]}"
        print(f"  {fmt:<6} {wall:>7.1f} {rss:>12.0f} {size:>10.1f}  {verdict}")
        records.append(
            {
                "backend": backend,
                "format": fmt,
                "findings": stored,
                "wall_s": round(wall, 2),
                "peak_rss_mb": round(rss, 1),
                "output_mb": round(size, 1),
                "exit": code,
            }
        )
    return records


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--findings", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--formats", default=",".join(FORMATS), help="e.g. ocsf,asff")
    parser.add_argument("--keep", help="write the reports into this folder and keep them")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MPSCAN_", "AWS_"))}
    env["MPSCAN_CONFIG"] = os.devnull  # the built-in rules only, whatever ./mpscan.toml says
    work = Path(tempfile.mkdtemp(prefix="mpscan-report-bench-"))
    out_dir = Path(args.keep) if args.keep else work
    out_dir.mkdir(parents=True, exist_ok=True)
    records: list[dict] = []
    try:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                records += bench(
                    backend,
                    f"sqlite:///{work / 'bench.db'}",
                    args.findings,
                    out_dir,
                    env,
                    args.formats.split(","),
                )
            elif backend == "postgresql":
                schema = f"bench_{uuid.uuid4().hex[:10]}"
                admin = create_engine(POSTGRES_URL)
                try:
                    with admin.begin() as conn:
                        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
                except Exception as exc:  # no server: say so, run the rest
                    print(f"\npostgresql: skipped ({type(exc).__name__}: not reachable)")
                    continue
                sep = "&" if "?" in POSTGRES_URL else "?"
                try:
                    url = f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
                    records += bench(
                        backend, url, args.findings, out_dir, env, args.formats.split(",")
                    )
                finally:
                    with admin.begin() as conn:
                        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                    admin.dispose()
            else:
                raise SystemExit(f"unknown backend {backend!r}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        elif work != out_dir:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(records, indent=2))
    return 0 if all(r["exit"] == 0 and r["peak_rss_mb"] <= TARGET_MB for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())

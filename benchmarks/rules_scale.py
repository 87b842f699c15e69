"""Benchmark: the rules over 100,000 model packages and 5,000 groups, SQLite and PostgreSQL.

Builds an inventory directly in a fresh SQLite file and a fresh PostgreSQL schema (migrated
with scanner.store.db.ensure_schema): one `scans` row, a `scan_regions` row per region
(complete), and `model_packages` / `model_package_groups` rows with their child rows
(containers, tags, validation statuses, metric sources) made the way a scan stores them,
from botocore-valid DescribeModelPackage / DescribeModelPackageGroup documents run through
scanner.transform and scanner.store.inventory.table_rows. The documents vary, so every built-in
rule both fails and passes somewhere. Then it times
`scanner.app.judging.judge_and_persist(engine, catalog.load(Settings()), now=NOW)` twice:
the first run opens every finding (all new), the second re-judges the same inventory (no
changes). Both judge as of the same NOW (`--now`, default the start of the run).

After the first run it prints a sha256 of every finding's rule, resource, account, region,
type, severity, status and message (`--findings FILE` writes them, one a line, sorted): the
same inventory judged as of the same `--now` by two versions of mpscan must give the same
digest, which is how a change to the judge is checked for a change of verdicts.

Usage (from the project root, with the project's venv)::

    .venv/bin/python benchmarks/rules_scale.py                       # both backends
    .venv/bin/python benchmarks/rules_scale.py --backend sqlite --packages 20000
    .venv/bin/python benchmarks/rules_scale.py --profile             # cProfile of run 1
    .venv/bin/python benchmarks/rules_scale.py --now 2026-12-01T00:00:00+00:00 --findings f.tsv
    .venv/bin/python benchmarks/rules_scale.py --config rules.toml   # rules with parameters set

PostgreSQL: MPSCAN_TEST_POSTGRES_URL (default: the tests' local server); the schema is
dropped afterwards, the SQLite file lives in a temporary directory that is removed.
Target: the first evaluation <= 5 s, the re-judge <= 10 s, on 2 cores (exit status 1 when
one is over). Each line gives the wall time, mpscan's own CPU time (PostgreSQL's server
works outside it) and the load average, since other work on the machine stretches the
wall time. Not a test: pytest never collects it.
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import hashlib
import json
import os
import pstats
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
from scanner.app.judging import judge_and_persist  # noqa: E402
from scanner.config import Settings, load_settings  # noqa: E402
from scanner.rules import catalog  # noqa: E402
from scanner.store import planner  # noqa: E402
from scanner.store.db import ensure_schema, make_engine  # noqa: E402
from scanner.store.inventory import table_rows  # noqa: E402
from scanner.store.schema import (  # noqa: E402
    Finding,
    ModelPackage,
    ModelPackageContainer,
    ModelPackageGroup,
    ModelPackageGroupTag,
    ModelPackageMetricSource,
    ModelPackageTag,
    ModelPackageValidationStatus,
    Scan,
    ScanRegion,
)

ACCOUNT = "123456789012"
OTHER = "210987654321"
REGIONS = ("us-east-1", "eu-west-1")
DATA = ROOT / "tests" / "data"
PG_URL = os.environ.get(
    "MPSCAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
CHUNK = 5000
TARGETS = {"first (all new)": 5, "second (re-judge)": 10}  # seconds


def _validate(document: dict, operation: str) -> dict:
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model("sagemaker")
    report = ParamValidator().validate(document, model.operation_model(operation).output_shape)
    if report.has_errors():
        raise SystemExit(f"{operation} template is not botocore-valid:\n{report.generate_report()}")
    return document


def package_templates() -> list[dict]:
    """Variants of the recorded full response: each fails some rules and passes others."""
    full = json.loads((DATA / "describe_model_package_full.json").read_text())
    pinned = full["InferenceSpecification"]["Containers"][0]["Image"]
    templates = []
    for i in range(24):
        d = copy.deepcopy(full)
        if i % 3 == 0:
            del d["SecurityConfig"]  # MP-001
        d["ModelApprovalStatus"] = ("Approved", "PendingManualApproval", "Rejected")[i % 3]
        if i % 4 == 0:
            del d["ModelCard"]  # MP-002 when approved
        if i % 5 == 0:
            del d["ModelMetrics"]  # MP-003
        if i % 2 == 0:  # MP-004 passes: every image pinned
            d["InferenceSpecification"]["Containers"][1]["Image"] = pinned
            d["AdditionalInferenceSpecifications"][0]["Containers"][0]["Image"] = pinned
        if i % 6 != 1:
            d["ModelPackageStatusDetails"]["ValidationStatuses"][0]["Status"] = "Completed"
            del d["ModelPackageStatusDetails"]["ValidationStatuses"][0]["FailureReason"]
        d["CertifyForMarketplace"] = i % 11 == 0  # MP-008
        if i % 7 == 0:
            d["SkipModelValidation"] = "All"  # MP-009
        if i % 8 == 0:
            del d["ApprovalDescription"]  # MP-010
        if i % 9 == 0:
            del d["MetadataProperties"]  # MP-011
        if i % 5 == 1:
            del d["DriftCheckBaselines"]  # MP-013
        if i % 4 == 1:  # MP-007 fails when pending
            d["CreationTime"] = "2024-01-01T00:00:00+00:00"
        templates.append(_validate(d, "DescribeModelPackage"))
    return templates


POLICIES = [
    None,  # no policy
    {  # MPG-001 fails
        "Version": "2012-10-17",
        "Statement": [{"Sid": "Any", "Effect": "Allow", "Principal": "*", "Action": "*"}],
    },
    {  # narrowed to the organisation: passes MPG-001
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "sagemaker:DescribeModelPackage",
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
            }
        ],
    },
    {  # MPG-002 fails: an untrusted account
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
                "Action": "sagemaker:DescribeModelPackage",
            }
        ],
    },
]


def package_rows(n: int, scan_id: int, at: datetime) -> list[tuple[object, list[dict]]]:
    """(table, rows) for model_packages and each of its child tables, parents first."""
    templates = package_templates()
    packages, containers, tags, statuses, sources = [], [], [], [], []
    for i in range(n):
        region = REGIONS[i % len(REGIONS)]
        group = f"model-{i // 20}"
        d = dict(templates[i % len(templates)])
        d["ModelPackageName"] = d["ModelPackageGroupName"] = group
        d["ModelPackageVersion"] = i % 20 + 1
        d["ModelPackageArn"] = f"arn:aws:sagemaker:{region}:{ACCOUNT}:model-package/{group}/{i}"
        tags_of = [{"Key": "owner", "Value": "ml"}] if i % 10 else [{"Key": "team", "Value": "x"}]
        built = transform.package_rows({"describe": d, "tags": tags_of}, ACCOUNT, region)
        built.package.update(
            first_seen_at=at, last_seen_at=at, first_seen_scan_id=scan_id, last_seen_scan_id=scan_id
        )
        packages.append(built.package)
        containers += built.containers
        tags += built.tags
        statuses += built.validation_statuses
        sources += built.metric_sources
    return _tables(
        scan_id,
        (ModelPackage, packages),
        (ModelPackageContainer, containers),
        (ModelPackageTag, tags),
        (ModelPackageValidationStatus, statuses),
        (ModelPackageMetricSource, sources),
    )


def _tables(scan_id: int, *tables) -> list[tuple[object, list[dict]]]:
    """Each table's rows as the store writes them (children carry the scan that saw them)."""
    for _, rows in tables[1:]:
        for row in rows:
            row["last_seen_scan_id"] = scan_id
    return [(table, table_rows(table, rows)) for table, rows in tables]


def group_rows(n: int, scan_id: int, at: datetime) -> list[tuple[object, list[dict]]]:
    rows, tags = [], []
    for i in range(n):
        region = REGIONS[i % len(REGIONS)]
        name = f"model-{i}"
        arn = f"arn:aws:sagemaker:{region}:{ACCOUNT}:model-package-group/{name}"
        summary = {
            "ModelPackageGroupName": name,
            "ModelPackageGroupArn": arn,
            "CreationTime": "2026-01-01T00:00:00+00:00",
            "ModelPackageGroupStatus": "Completed",
        }
        policy = POLICIES[i % len(POLICIES)]
        document = {
            "summary": summary,
            "shared": False,
            "describe": {
                **summary,
                "ModelPackageGroupDescription": "models",
                "CreatedBy": {"UserProfileName": "ana"},
            },
            "policy": {"status": "none"}
            if policy is None
            else {"status": "present", "text": json.dumps(policy)},
            "tags": [{"Key": "owner", "Value": "ml"}],
        }
        if i == 0:
            _validate(document["describe"], "DescribeModelPackageGroup")
        built = transform.group_rows(document, ACCOUNT, region)
        built.group.update(
            first_seen_at=at, last_seen_at=at, first_seen_scan_id=scan_id, last_seen_scan_id=scan_id
        )
        rows.append(built.group)
        tags += built.tags
    return _tables(scan_id, (ModelPackageGroup, rows), (ModelPackageGroupTag, tags))


def build(engine, packages: int, groups: int) -> float:
    started = time.perf_counter()
    ensure_schema(engine)
    at = datetime.now(UTC) - timedelta(minutes=5)
    with engine.begin() as conn:
        scan_id = conn.execute(
            insert(Scan).returning(Scan.id),
            {
                "started_at": at,
                "finished_at": at,
                "status": "complete",
                "mpscan_version": "bench",
                "packages_seen": packages,
                "groups_seen": groups,
            },
        ).scalar_one()
        conn.execute(
            insert(ScanRegion),
            [
                {
                    "scan_id": scan_id,
                    "account_id": ACCOUNT,
                    "region": r,
                    "status": "complete",
                    "started_at": at,
                    "finished_at": at,
                }
                for r in REGIONS
            ],
        )
        for table, rows in package_rows(packages, scan_id, at) + group_rows(groups, scan_id, at):
            for start in range(0, len(rows), CHUNK):
                conn.execute(insert(table), rows[start : start + CHUNK])
    planner.refresh(engine, packages + groups)  # what a scan does before judging
    return time.perf_counter() - started


def _load() -> str:
    """The 1-minute load average: other work on the machine shows in the wall time."""
    return f"{os.getloadavg()[0]:.1f}"


FINDING_COLUMNS = (
    Finding.rule_id,
    Finding.resource_arn,
    Finding.account_id,
    Finding.region,
    Finding.resource_type,
    Finding.severity,
    Finding.status,
    Finding.message,
)


def findings_digest(conn, path: str | None) -> str:
    """sha256 of every finding's verdict, one tab-separated line each in a fixed order
    (sorted here, not by the database's collation); `path` gets the lines too."""
    lines = sorted("\t".join(str(v) for v in row) for row in conn.execute(select(*FINDING_COLUMNS)))
    text = "".join(line + "\n" for line in lines)
    if path:
        Path(path).write_text(text, encoding="utf-8")
    return hashlib.sha256(text.encode()).hexdigest()


def run(name: str, url: str, args) -> dict:
    engine = make_engine(url)
    try:
        built = build(engine, args.packages, args.groups)
        print(
            f"{name}: built {args.packages:,} packages and {args.groups:,} groups in {built:.1f} s"
        )
        rules = catalog.load(load_settings(args.config) if args.config else Settings())
        figures = {"backend": name, "build_s": round(built, 2), "runs": []}
        for label in ("first (all new)", "second (re-judge)"):
            profiler = cProfile.Profile() if args.profile and label.startswith("first") else None
            started, cpu = time.perf_counter(), time.process_time()
            if profiler:
                profiler.enable()
            e = judge_and_persist(engine, rules, now=args.now)
            if profiler:
                profiler.disable()
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            with engine.connect() as conn:
                total = conn.execute(select(func.count()).select_from(Finding)).scalar()
                open_ = conn.execute(
                    select(func.count()).select_from(Finding).where(Finding.status != "pass")
                ).scalar()
            c = e.counts
            print(
                f"  {label:<18} {wall:6.2f} s (mpscan CPU {cpu:5.2f} s, load {_load()})  "
                f"{e.resources / wall:7,.0f} resources/s  "
                f"{total:,} findings ({open_:,} open): {c.new:,} new, {c.changed:,} changed, "
                f"{c.resolved:,} resolved, {c.open:,} still open"
                + (f"  OVER {TARGETS[label]} s" if wall > TARGETS[label] else "")
            )
            if label.startswith("first"):
                with engine.connect() as conn:
                    out = args.findings and f"{args.findings}.{name}"
                    figures["findings_sha256"] = findings_digest(conn, out)
                print(
                    f"  findings sha256 {figures['findings_sha256']}" + (f" ({out})" if out else "")
                )
            figures["runs"].append(
                {
                    "run": label,
                    "seconds": round(wall, 2),
                    "cpu_seconds": round(cpu, 2),
                    "resources": e.resources,
                    "findings": total,
                }
            )
            if profiler:
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        return figures
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--packages", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=5_000)
    parser.add_argument("--profile", action="store_true", help="cProfile the first evaluation")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument(
        "--now",
        type=datetime.fromisoformat,
        default=datetime.now(UTC),
        help="judge as of this ISO 8601 time (default: now); fixes MP-007's day counts",
    )
    parser.add_argument(
        "--config", metavar="TOML", help="judge with this config's rules (default: built-in)"
    )
    parser.add_argument(
        "--findings", metavar="FILE", help="write the first run's findings to FILE.<backend>"
    )
    args = parser.parse_args()
    results = []
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="mpscan-rules-") as tmp:
            results.append(run("sqlite", f"sqlite:///{tmp}/bench.db", args))
    if args.backend in ("postgresql", "both"):
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        admin = create_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            sep = "&" if "?" in PG_URL else "?"
            results.append(
                run("postgresql", f"{PG_URL}{sep}options=-csearch_path%3D{schema}", args)
            )
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    if args.json:
        print(json.dumps(results, indent=2))
    return 0 if all(r["seconds"] <= TARGETS[r["run"]] for f in results for r in f["runs"]) else 1


if __name__ == "__main__":
    sys.exit(main())

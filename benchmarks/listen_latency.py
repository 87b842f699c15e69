"""Benchmark: `mpscan listen`, event to finding, for a stream of registry events.

Starts the local stand-in in this process (the tests' one, for its call counts), seeds one
group of `--packages` model packages in us-east-1, scans them into a new database, creates
an SQS queue (moto's), and starts `python -m scanner listen` on it as a child process, as a
service would run. Then it sends `--events` events at `--rate` a second, as EventBridge
would: each is a package's change (UpdateModelPackage through boto3, alternating approval,
then the package's "SageMaker Model Package State Change" built from its describe), and a
share `--duplicates` of them is a copy of an earlier event (AWS sends several per change).

For each distinct event it measures sent -> applied: from just before the send to the
`registry_events.applied_at` the listener wrote once it had stored and judged the package
(same machine, same clock). It prints the median, p95, p99 and max; the events applied,
duplicate (no call) and the AWS calls per applied event, counted twice: by the stand-in
(the listener's DescribeModelPackage and ListTags) and by mpscan (`registry_events.calls`).
Targets (issue "Live refresh"): median <= 2 s, p99 <= 5 s, <= 3 calls an applied event,
none for a duplicate.

    .venv/bin/python benchmarks/listen_latency.py
    .venv/bin/python benchmarks/listen_latency.py --rate 50 --backend postgresql
    .venv/bin/python benchmarks/listen_latency.py --events 200 --json

Not a test; nothing is asserted on time. Exit status 1 when an event was not applied.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import boto3
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scan_throttled import _env  # noqa: E402 - the same sanitised AWS environment

from tests.standin_faults import start_faulty_standin  # noqa: E402
from tests.support import make_group  # noqa: E402
from tests.support_events import state_change  # noqa: E402

REGION = "us-east-1"
POSTGRES = os.environ.get(
    "MPSCAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _database(backend: str, folder: Path) -> tuple[str, callable]:
    if backend == "sqlite":
        return f"sqlite:///{folder / 'listen.db'}", lambda: None
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop():
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return f"{POSTGRES}?options=-csearch_path%3D{schema}", drop


def _seconds(value) -> float:
    """A timestamp column as Unix time (SQLite gives its text, PostgreSQL a datetime)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run(args: argparse.Namespace) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="mpscan-listen-"))
    standin = start_faulty_standin()
    env = _env(AWS_ENDPOINT_URL=standin.url)
    os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_")})
    db_url, drop = _database(args.backend, folder)
    listener = None
    try:
        sm = boto3.client("sagemaker", region_name=REGION)
        arns = make_group(sm, "bench", args.packages, ModelApprovalStatus="PendingManualApproval")
        scan = subprocess.run(
            [sys.executable, "-m", "scanner", "scan", "--regions", REGION, "--db", db_url, "-q"],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if scan.returncode != 0:
            raise SystemExit(f"the scan failed: {scan.stderr}")
        sqs = boto3.client("sqs", region_name=REGION)
        queue = sqs.create_queue(QueueName="bench")["QueueUrl"]
        config = folder / "mpscan.toml"
        config.write_text(f'[aws]\nregions = ["{REGION}"]\n')
        log = (folder / "listen.log").open("w")
        listener = subprocess.Popen(
            [sys.executable, "-m", "scanner", "-v", "listen", "--queue-url", queue,
             "--db", db_url, "--config", str(config)],
            env=env, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
        time.sleep(3)  # its start-up, before the clock starts
        standin.clear_stats()
        sent_at: dict[str, float] = {}
        sent: list[dict] = []
        producer_describes = 0
        rng = random.Random(7)
        started = time.time()
        for i in range(args.events):
            due = started + i / args.rate
            time.sleep(max(0.0, due - time.time()))
            if sent and rng.random() < args.duplicates:
                event = rng.choice(sent)
            else:
                arn = arns[i % len(arns)]
                status = "Approved" if (i // len(arns)) % 2 == 0 else "Rejected"
                sm.update_model_package(
                    ModelPackageArn=arn,
                    ModelApprovalStatus=status,
                    CustomerMetadataProperties={"event": str(i)},
                )
                event = state_change(sm.describe_model_package(ModelPackageName=arn), REGION)
                producer_describes += 1
                sent.append(event)
                sent_at[event["id"]] = time.time()
            sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(event))
        engine = create_engine(db_url)
        deadline = time.time() + args.timeout
        while time.time() < deadline:
            with engine.connect() as conn:
                done = conn.execute(text("SELECT count(*) FROM registry_events")).scalar()
            if done >= len(sent_at):
                break
            time.sleep(0.2)
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT event_id, applied_at, outcome, calls FROM registry_events")
            ).all()
        engine.dispose()
        listener.send_signal(signal.SIGTERM)
        exit_code = listener.wait(30)
        log.close()
        said = (folder / "listen.log").read_text()
        summary = next((line for line in said.splitlines() if "listener stopped" in line), "")
        ops = standin.stats()["operations"]
        listener_calls = (
            sum(
                k["ok"] + k["error"]
                for op in ("DescribeModelPackage", "ListTags")
                for k in ops.get(op, {}).values()
            )
            - producer_describes
        )
        latencies = [
            _seconds(r.applied_at) - sent_at[r.event_id] for r in rows if r.event_id in sent_at
        ]
        outcomes: dict[str, int] = {}
        for r in rows:
            outcomes[r.outcome] = outcomes.get(r.outcome, 0) + 1
        refreshed = [r for r in rows if r.calls]
        return {
            "backend": args.backend,
            "events_sent": args.events,
            "distinct_events": len(sent_at),
            "duplicates_sent": args.events - len(sent_at),
            "rate_per_s": args.rate,
            "packages": args.packages,
            "applied": len(rows),
            "outcomes": outcomes,
            "latency_s": {
                "median": statistics.median(latencies) if latencies else None,
                "p95": _quantile(latencies, 0.95) if latencies else None,
                "p99": _quantile(latencies, 0.99) if latencies else None,
                "max": max(latencies) if latencies else None,
            },
            "calls_per_applied_event_standin": listener_calls / max(1, len(rows)),
            "calls_per_refresh_mpscan": sum(r.calls for r in refreshed) / max(1, len(refreshed)),
            "events_without_calls": len(rows) - len(refreshed),
            "listener_exit_code": exit_code,
            "listener_summary": summary.split("listener stopped: ")[-1],
        }
    finally:
        if listener is not None and listener.poll() is None:
            listener.kill()
        standin.stop()
        drop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--packages", type=int, default=100)
    parser.add_argument("--rate", type=float, default=20.0, help="events sent a second")
    parser.add_argument("--duplicates", type=float, default=0.3, help="share sent twice")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        lat = result["latency_s"]
        print(
            f"{result['backend']}: {result['events_sent']} events "
            f"({result['distinct_events']} distinct, {result['duplicates_sent']} duplicates) "
            f"at {result['rate_per_s']:g}/s over {result['packages']} packages"
        )
        if lat["median"] is not None:
            print(
                f"  sent -> applied: median {lat['median']:.3f} s, p95 {lat['p95']:.3f} s, "
                f"p99 {lat['p99']:.3f} s, max {lat['max']:.3f} s"
            )
        print(f"  applied {result['applied']} {result['outcomes']}")
        print(
            f"  AWS calls per applied event: {result['calls_per_applied_event_standin']:.2f} "
            f"(stand-in), {result['calls_per_refresh_mpscan']:.2f} per refresh (mpscan); "
            f"{result['events_without_calls']} applied without a call"
        )
        print(
            f"  listener exit code after SIGTERM: {result['listener_exit_code']} "
            f"({result['listener_summary']})"
        )
    return 0 if result["applied"] >= result["distinct_events"] else 1


if __name__ == "__main__":
    sys.exit(main())

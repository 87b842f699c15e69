"""Benchmark: the HTML report's trend over many scans (issue "Reports people read": the trend
over 1,000 scans renders in <= 2 s).

Creates a fresh SQLite database (and, with --backend postgresql, a fresh schema on the local
server), records `--scans` complete scans and `--findings` findings whose status flips in a
share `--churn` of the scans (each flip a `finding_events` row, as evaluations write them),
then times `scanner.store.read.trend.trend` (the last 30 scans, replayed from the events)
and the chart's SVG, and prints both with the events read.

    .venv/bin/python benchmarks/report_trend.py
    .venv/bin/python benchmarks/report_trend.py --scans 1000 --findings 5000 --backend postgresql

Not a test; nothing is asserted on time.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scanner.reports.svg import trend_chart  # noqa: E402
from scanner.stages import SEVERITIES  # noqa: E402
from scanner.store.db import ensure_schema, make_engine  # noqa: E402
from scanner.store.read.trend import trend  # noqa: E402
from scanner.store.schema import Finding, FindingEvent, Scan, ScanRegion  # noqa: E402

POSTGRES = os.environ.get(
    "MPSCAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def seed(url: str, scans: int, findings: int, churn: float) -> int:
    engine = make_engine(url)
    ensure_schema(engine)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rng = random.Random(3)
    events = []
    with engine.begin() as conn:
        conn.execute(
            insert(Scan),
            [
                {"id": i, "started_at": start + timedelta(hours=i), "status": "complete",
                 "mpscan_version": "bench"}
                for i in range(1, scans + 1)
            ],
        )  # fmt: skip
        conn.execute(
            insert(ScanRegion),
            [
                {"scan_id": i, "account_id": "123456789012", "region": "us-east-1",
                 "status": "complete", "started_at": start + timedelta(hours=i)}
                for i in range(1, scans + 1)
            ],
        )  # fmt: skip
        rows = []
        for f in range(1, findings + 1):
            severity = SEVERITIES[f % len(SEVERITIES)]
            rows.append(
                {"id": f, "rule_id": f"MP-{f % 13 + 1:03d}", "resource_arn": f"arn:{f}",
                 "account_id": "123456789012", "region": "us-east-1",
                 "resource_type": "model_package", "severity": severity, "status": "fail",
                 "message": "m", "scan_id": scans, "first_seen_at": start,
                 "first_seen_scan_id": 1, "last_seen_at": start, "opened_scan_id": 1}
            )  # fmt: skip
            events.append((f, 1, "new", "fail", severity))
            status = "fail"
            for s in range(2, scans + 1):
                if rng.random() < churn:
                    status = "pass" if status == "fail" else "fail"
                    change = "resolved" if status == "pass" else "regressed"
                    events.append((f, s, change, status, severity))
        conn.execute(insert(Finding), rows)
        keys = ("finding_id", "scan_id", "change", "status", "severity")
        batch = [dict(zip(keys, e, strict=True)) | {"at": start, "message": "m"} for e in events]
        for i in range(0, len(batch), 20000):
            conn.execute(insert(FindingEvent), batch[i : i + 20000])
    engine.dispose()
    return len(events)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scans", type=int, default=1000)
    parser.add_argument("--findings", type=int, default=2000)
    parser.add_argument("--churn", type=float, default=0.02, help="flips per finding a scan")
    parser.add_argument("--points", type=int, default=30, help="scans the trend shows")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        schema = None
        if args.backend == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'trend.db'}"
        else:
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            admin = create_engine(POSTGRES)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
        try:
            n = seed(url, args.scans, args.findings, args.churn)
            engine = make_engine(url)
            rules = [f"MP-{i:03d}" for i in range(1, 14)]
            started = time.perf_counter()
            points = trend(engine, args.scans, rules, scans=args.points)
            read = time.perf_counter() - started
            started = time.perf_counter()
            chart = trend_chart(
                [{"scan_id": p.scan_id, "open": p.open} for p in points], SEVERITIES
            )
            drawn = time.perf_counter() - started
            engine.dispose()
        finally:
            if schema is not None:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
    print(
        f"{args.backend}: {args.scans} scans, {args.findings} findings, {n:,} finding events: "
        f"trend of the last {len(points)} scans read in {read:.3f} s, chart drawn in "
        f"{drawn * 1000:.1f} ms ({len(chart):,} bytes)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: `mpscan export securityhub` of N findings: the BatchImportFindings calls it
makes against the bound, throttling retried with nothing lost, wall time and peak RSS.

Stores about N findings as benchmarks/report_scale.py does (2 accounts x 4 regions, SQLite),
starts the stand-in (moto's Security Hub behind the tests' fault injection) as a process of
its own (`python -m tests.standin_faults`: a child forked from a process holding the
stand-in reports that process's memory as its own peak RSS), and runs
`python -m scanner export securityhub` as a child process through the accounts' roles
([[accounts]]), twice: as is, then with its first THROTTLED answers throttled. Prints the
calls per account and region against ceil(n / 100), the findings Security Hub holds
against those stored, and the command's wall time and peak RSS (the whole command, its
re-judgement included).

Usage (from the project root, with the project's venv)::

    .venv/bin/python benchmarks/export_calls.py                   # 10,000 findings
    .venv/bin/python benchmarks/export_calls.py --findings 2000

moto's Security Hub looks each imported Id up in a list, so an import of n findings costs
it n^2/2 comparisons: 10,000 findings take seconds, 100,000 would take the stand-in
hours; the calls are counted the same way at any n. Not a test: pytest never runs it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import urllib.request
from collections import Counter
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from report_scale import ACCOUNTS, prepare, run  # noqa: E402

# Throttled answers in a row: fewer than [aws] max_attempts (10), so botocore's retries
# see each batch through (10 in a row would fail that batch, reported with exit 8).
THROTTLED = 5


def held(account: str, region: str) -> int:
    hub = boto3.client(
        "securityhub", region_name=region, aws_access_key_id=account, aws_secret_access_key="x"
    )
    pages = hub.get_paginator("get_findings").paginate(PaginationConfig={"PageSize": 100})
    return sum(len(page["Findings"]) for page in pages)


def stored_by_place(url: str) -> Counter:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT account_id, region, count(*) FROM findings GROUP BY 1, 2"))
        counts = Counter({(a, r): n for a, r, n in rows})
    engine.dispose()
    return counts


class StandIn:
    """`python -m tests.standin_faults` on a free port, driven by its control routes."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.standin_faults", "--port", "0"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline()
        if not line.startswith("READY "):
            raise SystemExit(f"the stand-in did not start: {line!r}")
        self.url = line.split()[1]

    def _call(self, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        with urllib.request.urlopen(f"{self.url}/_standin/{path}", data=data, timeout=30) as r:
            return json.load(r)

    def stats(self) -> dict:
        return self._call("stats")

    def clear_stats(self) -> None:
        self._call("stats/clear", {})

    def faults(self, **faults) -> None:
        self._call("faults", faults)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def export(standin: StandIn, url: str, env: dict[str, str], label: str) -> None:
    standin.clear_stats()
    code, wall, rss, err = run(["export", "securityhub", "--db", url], env)
    stats = standin.stats()
    calls = stats["operations"].get("BatchImportFindings", {})
    ok = sum(c["ok"] for c in calls.values())
    throttled = sum(c["throttled"] for c in calls.values())
    print(f"\n{label}: exit {code}, {wall:.1f} s, peak RSS {rss:.0f} MB")
    print(f"  BatchImportFindings: {ok} answered, {throttled} throttled and retried by botocore")
    print(f"  {err.strip().splitlines()[-1] if err.strip() else ''}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=10_000)
    args = parser.parse_args()
    standin = StandIn()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'export.db'}"
        config = Path(tmp) / "mpscan.toml"
        config.write_text(
            "".join(f'[[accounts]]\nrole_arn = "arn:aws:iam::{a}:role/mpscan"\n' for a in ACCOUNTS)
        )
        os.environ.update(
            AWS_ENDPOINT_URL=standin.url,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION="us-east-1",
            MPSCAN_CONFIG=str(config),
        )
        env = dict(os.environ)
        stored, _ = prepare(url, args.findings, env)
        places = stored_by_place(url)
        bound = sum(math.ceil(n / 100) for n in places.values())
        print(f"{stored} findings stored in {len(places)} account-regions")
        print(f"  bound: sum of ceil(n / 100) per account-region = {bound}")
        print(f"  (ceil(N / 100) = {math.ceil(stored / 100)} if they were in one)")
        export(standin, url, env, "first export")
        holding = sum(held(a, r) for a, r in places)
        print(f"  Security Hub holds {holding} of {stored} findings")
        standin.faults(throttle_next={"BatchImportFindings": THROTTLED})
        export(standin, url, env, f"second export, {THROTTLED} answers throttled")
        again = sum(held(a, r) for a, r in places)
        print(f"  Security Hub holds {again} of {stored} findings (updated by Id, none added)")
    standin.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: `mpscan export securityhub` of 100,000 findings against moto's Security Hub:
the BatchImportFindings calls against ceil(n / 100), throttling injected and retried, the
findings Security Hub holds afterwards (nothing lost), wall time and peak RSS.

Stores the findings as benchmarks/report_scale.py does (SQLite; `prepare`: packages whose
built-in rules make 10 findings each, judged by `mpscan evaluate`), all in one account and
region by default (so the bound is ceil(n / 100) itself; `--spread`: 2 accounts x 4
regions through [[accounts]] roles, the bound the sum of ceil(n / 100) per account-region).
Starts the tests' stand-in (moto behind their fault injection) in this process, and runs
`python -m scanner export securityhub` as a child process against it: the whole command,
its re-judgement included. While it runs, a watcher arms a burst of `--burst` throttled
answers (LimitExceededException, HTTP 429) every `--every` answered calls, so throttling
meets the export all along, not only at its start; botocore retries them (the config's
retry mode and attempts). Counts come from the stand-in's call stats; what Security Hub
holds is read from moto's backend (distinct finding Ids) and compared with the Ids of the
findings stored.

moto's BatchImportFindings looks each Id up in a list (n^2/2 comparisons: hours at
100,000), so this process gives moto's Security Hub backend an index by Id for the run,
with the same outcome (a known Id is updated in place, a new one appended). The export's
peak RSS is the child's high-water mark (VmHWM, read from /proc while it runs; rusage
would report this process's, which holds moto's 100,000 findings, as the child's).

Usage (from the project root, with the project's venv)::

    .venv/bin/python benchmarks/securityhub_export.py                  # 100,000 findings
    .venv/bin/python benchmarks/securityhub_export.py --findings 10000 --spread
    .venv/bin/python benchmarks/securityhub_export.py --burst 0        # no throttling

Exit status 0 when calls == the bound, every throttled answer was retried (the export
exited 0) and Security Hub holds exactly the stored findings' Ids. Not a test.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from report_scale import ACCOUNTS, REGIONS, prepare  # noqa: E402

ACCOUNT, REGION = "123456789012", "us-east-1"  # the stand-in's base credentials' own


def index_moto_findings() -> None:
    """moto's BatchImportFindings with its Id lookup by dict instead of by list."""
    from moto.securityhub.models import Finding, SecurityHubBackend

    def batch_import_findings(self, findings):
        by_id = self.__dict__.setdefault("_by_id", {f.id: f for f in self.findings})
        failed = []
        for data in findings:
            if not isinstance(data.get("Resources"), list) or not data["Resources"]:
                failed.append(
                    {
                        "Id": data.get("Id", ""),
                        "ErrorCode": "InvalidInput",
                        "ErrorMessage": "Finding must contain at least one resource",
                    }
                )
                continue
            known = by_id.get(data["Id"])
            if known is not None:
                known.data.update(data)
            else:
                by_id[data["Id"]] = finding = Finding(data["Id"], data)
                self.findings.append(finding)
        return len(failed), len(findings) - len(failed), failed

    SecurityHubBackend.batch_import_findings = batch_import_findings


def held_ids(places) -> dict[tuple[str, str], set[str]]:
    """The finding Ids moto's Security Hub holds, per (account, region)."""
    from moto.securityhub.models import securityhub_backends

    return {(a, r): {f.id for f in securityhub_backends[a][r].findings} for a, r in places}


def stored_ids(url: str) -> dict[tuple[str, str], set[str]]:
    """The Ids `mpscan export securityhub` gives the stored findings (scanner.reports.asff),
    per (account, region)."""
    from sqlalchemy import create_engine, text

    from scanner.reports.asff import finding_id

    engine = create_engine(url)
    found: dict[tuple[str, str], set[str]] = {}
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT account_id, region, rule_id, resource_arn FROM findings"))
        for account, region, rule_id, arn in rows:
            finding = {"account_id": account, "rule_id": rule_id, "resource_arn": arn}
            found.setdefault((account, region), set()).add(finding_id(finding))
    engine.dispose()
    return found


class Watcher(threading.Thread):
    """Arms `burst` throttled BatchImportFindings answers every `every` answered calls."""

    def __init__(self, standin, burst: int, every: int, until: int):
        super().__init__(daemon=True)
        self.standin, self.burst, self.every, self.until = standin, burst, every, until
        self.armed = 0
        self.stop = threading.Event()

    def run(self) -> None:
        next_at = 0
        while not self.stop.is_set():
            answered = _counts(self.standin)["ok"]
            if self.burst and next_at <= answered < self.until:
                self.standin.faults.update(throttle_next={"BatchImportFindings": self.burst})
                self.armed += self.burst
                next_at = answered + self.every
            time.sleep(0.02)


def _counts(standin) -> Counter:
    calls = standin.stats()["operations"].get("BatchImportFindings", {})
    return sum((Counter(c) for c in calls.values()), Counter())


def run_export(url: str, env: dict[str, str]) -> tuple[int, float, float, str]:
    """(exit code, wall seconds, peak RSS MB from VmHWM, stderr) of the export."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(
            [sys.executable, "-m", "scanner", "export", "securityhub", "--db", url],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
            text=True,
        )
        peak = 0
        while child.poll() is None:
            try:
                status = Path(f"/proc/{child.pid}/status").read_text()
                peak = max(peak, int(status.split("VmHWM:")[1].split()[0]))
            except (OSError, IndexError):
                pass
            time.sleep(0.05)
        wall = time.perf_counter() - started
        err.seek(0)
        return child.returncode, wall, peak / 1024, err.read()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=100_000)
    parser.add_argument("--spread", action="store_true", help="2 accounts x 4 regions")
    parser.add_argument("--burst", type=int, default=3, help="throttled answers in a row")
    parser.add_argument("--every", type=int, default=100, help="answered calls between bursts")
    args = parser.parse_args()
    if args.burst >= 10:
        raise SystemExit("--burst must stay under [aws] max_attempts (10)")
    from tests.standin_faults import start_faulty_standin

    index_moto_findings()
    standin = start_faulty_standin()
    accounts, regions = (ACCOUNTS, REGIONS) if args.spread else ((ACCOUNT,), (REGION,))
    try:
        with tempfile.TemporaryDirectory(prefix="mpscan-hub-bench-") as tmp:
            url = f"sqlite:///{Path(tmp) / 'export.db'}"
            config = Path(tmp) / "mpscan.toml"
            roles = [f'[[accounts]]\nrole_arn = "arn:aws:iam::{a}:role/mpscan"\n' for a in accounts]
            config.write_text("".join(roles) if args.spread else "")
            env = {k: v for k, v in os.environ.items() if not k.startswith(("MPSCAN_", "AWS_"))}
            env.update(
                AWS_ENDPOINT_URL=standin.url,
                AWS_ACCESS_KEY_ID="testing",
                AWS_SECRET_ACCESS_KEY="testing",
                AWS_DEFAULT_REGION=REGION,
                AWS_CONFIG_FILE=os.devnull,
                AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                MPSCAN_CONFIG=str(config),
            )
            stored, judged_s = prepare(url, args.findings, env, accounts, regions)
            expected = stored_ids(url)
            bound = sum(math.ceil(len(ids) / 100) for ids in expected.values())
            print(
                f"findings stored: {stored:,} in {len(expected)} account-region(s) "
                f"(mpscan evaluate {judged_s:.1f} s)"
            )
            print(
                f"ceil(n / 100): {math.ceil(stored / 100):,}; the bound, sum of ceil(n / 100) "
                f"per account-region: {bound:,}"
            )

            standin.clear_stats()
            watcher = Watcher(standin, args.burst, args.every, bound)
            watcher.start()
            code, wall, rss, err = run_export(url, env)
            watcher.stop.set()
            watcher.join()
            counts = _counts(standin)
            holds = held_ids(expected)
            held = sum(len(ids) for ids in holds.values())
            whole = all(holds[p] == ids for p, ids in expected.items())
            print(f"export: exit {code}, wall {wall:.1f} s, peak RSS {rss:.0f} MB")
            print(f"BatchImportFindings calls answered: {counts['ok']:,} (bound {bound:,})")
            print(
                f"throttled answers injected: {counts['throttled']:,} (armed "
                f"{watcher.armed:,}), retried by botocore: "
                f"{counts['throttled'] if code == 0 else 'not all'}"
            )
            print(f"other failed answers: {counts['error'] + counts['failed']:,}")
            print(
                f"findings in Security Hub after: {held:,} distinct Ids of {stored:,} "
                f"stored ({'exactly the stored Ids' if whole else 'NOT the stored Ids'})"
            )
            tail = err.strip().splitlines()
            if tail:
                print(f"export said: {tail[-1]}")
            ok = code == 0 and counts["ok"] == bound and held == stored and whole
            return 0 if ok else 1
    finally:
        standin.stop()


if __name__ == "__main__":
    raise SystemExit(main())

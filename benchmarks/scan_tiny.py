"""Benchmark: `mpscan scan` of a tiny registry (2 model packages in 1 group), start to exit.

What a small scan costs is its fixed cost: starting Python, the imports, the config, the
account lookup (STS), the schema check, the lock, the judgement, the summary. This starts
the local stand-in in this process (the tests' one, for its call counts; no latency, no
rate limit), seeds 2 model packages in one group in us-east-1, then runs the `mpscan`
console script as a child process, as a user would (`mpscan scan --db sqlite:///FILE`,
the region from AWS_DEFAULT_REGION=us-east-1, stdout and stderr to files):

* `--first` times (default 3) onto a new SQLite file: creates and migrates the database;
* `--repeat` times (default 10) onto the file of the first: a re-scan of an existing
  database at the current schema.

For each it prints the wall time (start to exit, os.wait4), the child's CPU time, the time
to its first AWS call and from its last call to its exit; then the medians.
The machine's load average is printed before and after: on a shared machine the wall time
follows it.

    .venv/bin/python benchmarks/scan_tiny.py                      # 3 first scans, 10 re-scans
    .venv/bin/python benchmarks/scan_tiny.py --repeat 20 --json
    .venv/bin/python benchmarks/scan_tiny.py --bytecode-cache     # as an installed wheel runs
    .venv/bin/python benchmarks/scan_tiny.py --quiet              # mpscan scan -q
    .venv/bin/python benchmarks/scan_tiny.py --regions us-east-1  # mpscan scan --regions ...

Python reads mpscan's modules from bytecode only where it may cache it: a checkout run with
PYTHONDONTWRITEBYTECODE=1 (this machine sets it) compiles every mpscan module at every
start, which an installed wheel (compiled by pip) never does. `--bytecode-cache` gives the
scans a cache of their own (PYTHONPYCACHEPREFIX in the temporary directory, filled by one
untimed scan first); without it they run as the environment says, which is printed.

Not a test (it is not named test_* and lives outside tests/); nothing is asserted on time.
Only localhost is contacted. Exit status 0 when every scan exited 0.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scan_throttled import _env  # noqa: E402 - the same sanitised AWS environment

from tests.standin_faults import start_faulty_standin  # noqa: E402

SCAN_TIMEOUT_S = 120.0
REGION = "us-east-1"
SPEC = {
    "Containers": [{"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/tiny:latest"}],
    "SupportedContentTypes": ["text/csv"],
    "SupportedResponseMIMETypes": ["text/csv"],
}


def seed(url: str) -> None:
    sm = boto3.client(
        "sagemaker",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    sm.create_model_package_group(ModelPackageGroupName="tiny")
    for _ in range(2):
        sm.create_model_package(
            ModelPackageGroupName="tiny",
            ModelApprovalStatus="Approved",
            InferenceSpecification=SPEC,
        )


def mpscan() -> list[str]:
    """The console script beside this Python (what `pip install` makes), else -m scanner."""
    script = Path(sys.executable).parent / "mpscan"
    return [str(script)] if script.exists() else [sys.executable, "-m", "scanner"]


def options(args: argparse.Namespace) -> list[str]:
    return (["--regions", args.regions] if args.regions else []) + (["-q"] if args.quiet else [])


def scan(standin, env: dict[str, str], db: Path, workdir: Path, extra: list[str]) -> dict[str, Any]:
    cmd = [*mpscan(), "scan", "--db", f"sqlite:///{db}", *extra]
    new = not db.exists()
    standin.clear_stats()
    with open(workdir / "scan.stdout", "wb") as out, open(workdir / "scan.stderr", "wb") as err:
        started, started_epoch = time.perf_counter(), time.time()
        proc = subprocess.Popen(
            cmd, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
        try:
            _, status, usage = os.wait4(proc.pid, 0)  # the child's own rusage
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        wall, ended_epoch = time.perf_counter() - started, time.time()
    proc.returncode = os.waitstatus_to_exitcode(status)
    stats = standin.stats()
    first, last = stats["first_request_at"], stats["last_request_at"]
    record = {
        "new_database": new,
        "exit_code": proc.returncode,
        "wall_s": round(wall, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "to_first_call_s": round(first - started_epoch, 3) if first else None,
        "after_last_call_s": round(ended_epoch - last, 3) if last else None,
        "aws_calls": stats["requests"],
    }
    if proc.returncode != 0:
        record["stderr"] = (workdir / "scan.stderr").read_text(errors="replace")[-2000:]
    return record


def median(records: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in records if r[key] is not None]
    return round(statistics.median(values), 3) if values else None


def summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("wall_s", "cpu_s", "to_first_call_s", "after_last_call_s")
    return {"runs": len(records), **{f"{k}_median": median(records, k) for k in keys}}


def line(name: str, r: dict[str, Any]) -> str:
    text = (
        f"{name}: wall {r['wall_s']:.3f} s, CPU {r['cpu_s']:.3f} s, to 1st AWS call "
        f"{r['to_first_call_s']} s, last call to exit {r['after_last_call_s']} s, "
        f"{r['aws_calls']} AWS calls, exit {r['exit_code']}"
    )
    return text + ("\n  " + r["stderr"].strip().replace("\n", "\n  ") if "stderr" in r else "")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--first", type=int, default=3, help="scans onto a new file")
    ap.add_argument("--repeat", type=int, default=10, help="re-scans of an existing file")
    ap.add_argument("--quiet", action="store_true", help="mpscan scan -q")
    ap.add_argument("--regions", metavar="LIST", help="mpscan scan --regions LIST")
    ap.add_argument("--bytecode-cache", action="store_true", help="a bytecode cache for the scans")
    ap.add_argument("--json", action="store_true", help="print one JSON record")
    args = ap.parse_args(argv)
    if args.first < 1 or args.repeat < 1:
        ap.error("--first and --repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="mpscan-tiny-"))
    standin = start_faulty_standin()
    try:
        seed(standin.url)
        env = _env(AWS_ENDPOINT_URL=standin.url)
        if args.bytecode_cache:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
            scan(standin, env, workdir / "warm-up.db", workdir, options(args))  # fills the cache
        bytecode = (
            "a cache of its own (PYTHONPYCACHEPREFIX)"
            if args.bytecode_cache
            else "none written: PYTHONDONTWRITEBYTECODE=1"
            if env.get("PYTHONDONTWRITEBYTECODE")
            else "as the environment caches it"
        )
        load_before = os.getloadavg()
        firsts = [
            scan(standin, env, workdir / f"first-{n}.db", workdir, options(args))
            for n in range(args.first)
        ]
        rescans = [
            scan(standin, env, workdir / "first-0.db", workdir, options(args))
            for _ in range(args.repeat)
        ]
        load_after = os.getloadavg()
    finally:
        standin.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    record = {
        "command": " ".join(
            [
                Path(mpscan()[0]).name,
                *mpscan()[1:],
                "scan",
                "--db",
                "sqlite:///FILE",
                *options(args),
            ]
        ),
        "bytecode": bytecode,
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "first_scan": summary(firsts),
        "rescan": summary(rescans),
    }
    if args.json:
        print(json.dumps({**record, "first_scans": firsts, "rescans": rescans}, indent=2))
    else:
        print(f"command: {record['command']}; mpscan's bytecode: {bytecode}")
        print(f"{record['cpus']} CPUs, load average {load_before[0]:.2f} before")
        for n, r in enumerate(firsts, 1):
            print(line(f"first scan {n} (new file)", r))
        for n, r in enumerate(rescans, 1):
            print(line(f"re-scan {n}", r))
        print(f"load average {load_after[0]:.2f} after")
        for name in ("first_scan", "rescan"):
            s = record[name]
            print(
                f"median of {s['runs']} {name.replace('_', ' ')}s: wall {s['wall_s_median']} s, "
                f"CPU {s['cpu_s_median']} s, to 1st AWS call {s['to_first_call_s_median']} s, "
                f"last call to exit {s['after_last_call_s_median']} s"
            )
    return 0 if all(r["exit_code"] == 0 for r in firsts + rescans) else 1


if __name__ == "__main__":
    sys.exit(main())

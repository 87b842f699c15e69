"""Benchmark: a full `mpscan scan` against a throttled, slow AWS stand-in.

Starts the local stand-in with the tests' fault injection (``python -m tests.standin_faults``,
run from the project root; not shipped) in its own process with injected latency and a
per-(operation, region) rate limit, seeds a registry of about 1,000 model packages over two
regions, then runs ``python -m scanner scan`` as a second process and reports:

* wall time of the scan process (start to exit);
* the throttle floor: the busiest (operation, region)'s successful calls / the rate, the least
  time any scanner could take under that limit; and wall / floor (target <= 1.15);
* API calls per package, per group and list pages (describe mode: target <= 2 per package,
  3 per group, and list pages of 100);
* search mode (``--collect search``, the scanner's default): calls against the bound
  list pages + Search pages (100 records each) + one policy call per group + two calls per
  package Search lagged on or answered stale (target <= 1.10 x the bound);
* ``--collect both``: a describe-mode scan, a search-mode scan and a search-mode re-scan of
  the unchanged registry, in the same run against the same stand-in; the speed-up (target
  >= 8x) and the re-scan's calls as a share of the describe-mode scan's (it must make no
  describe or ListTags call);
* throttled calls, in total and per operation;
* peak memory (max RSS) of the scan process; CPU time of the scan and of the stand-in;
* packages and groups stored in the SQLite database, and the exit code.

Usage (from the project root, with the project's venv)::

    .venv/bin/python benchmarks/scan_throttled.py                 # defaults
    .venv/bin/python benchmarks/scan_throttled.py --max-rate 25
    .venv/bin/python benchmarks/scan_throttled.py --retry-mode standard --repeat 3 --json
    .venv/bin/python benchmarks/scan_throttled.py --timeline       # calls/s, second by second
    .venv/bin/python benchmarks/scan_throttled.py --collect both --scale 4

This is not a test (it lives outside tests/ and is not named test_*); pytest never runs it.
Only localhost is contacted. Both processes and the temporary directory are always cleaned up.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SEED_TIMEOUT_S = 600.0  # seeding ~1,000 packages into moto takes a while on a small machine
SCAN_TIMEOUT_S = 600.0
HTTP_TIMEOUT_S = 30.0
PAGE_SIZE = 100
CLK_TCK = os.sysconf("SC_CLK_TCK")

PACKAGE_OPS = ("DescribeModelPackage",)
GROUP_OPS = ("DescribeModelPackageGroup", "GetModelPackageGroupPolicy")
LIST_OPS = ("ListModelPackages", "ListModelPackageGroups")


# --------------------------------------------------------------------------------------------
# The stand-in process


class StandIn:
    def __init__(self, args: argparse.Namespace, workdir: Path):
        self.args = args
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.seed_s = 0.0

    def start(self) -> StandIn:
        a = self.args
        cmd = [
            sys.executable, "-m", "tests.standin_faults", "--port", "0",
            "--latency-ms", str(a.latency_ms), "--rate-limit", str(a.rate),
            "--seed-demo", "--seed-scale", str(a.scale), "--seed-regions", a.regions,
        ]  # fmt: skip
        self.stderr_path = self.workdir / "standin.stderr"
        started = time.perf_counter()
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=err, env=_env(), text=True,
                start_new_session=True,  # so killing it never reaches us
            )  # fmt: skip
        line = _readline_with_timeout(self.proc, SEED_TIMEOUT_S)
        if not line.startswith("READY "):
            raise RuntimeError(
                f"stand-in did not start (got {line!r}); stderr:\n{self._stderr_tail()}"
            )
        self.url = line.split(None, 1)[1].strip()
        self.seed_s = time.perf_counter() - started
        return self

    def _stderr_tail(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def seed_counts(self) -> dict[str, Any]:
        for line in self._stderr_tail().splitlines():
            if line.startswith("SEEDED "):
                return json.loads(line[7:])
        return {}

    def get(self, path: str) -> dict[str, Any]:
        with urllib.request.urlopen(self.url + path, timeout=HTTP_TIMEOUT_S) as r:
            return json.load(r)

    def post(self, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        body = json.dumps(payload or {}).encode()
        req = urllib.request.Request(
            self.url + path, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT_S) as r:
            return json.load(r)

    def reset_for_run(self) -> None:
        """Fresh stats and full token buckets (re-posting the faults empties the buckets map)."""
        self.post(
            "/_standin/faults", {"latency_ms": self.args.latency_ms, "rate_limit": self.args.rate}
        )
        self.post("/_standin/stats/clear")

    def stop(self) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        try:
            proc.send_signal(signal.SIGTERM)  # its handler stops the server cleanly
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        finally:
            if proc.stdout:
                proc.stdout.close()


def _readline_with_timeout(proc: subprocess.Popen, timeout: float) -> str:
    box: list[str] = []
    reader = threading.Thread(target=lambda: box.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if reader.is_alive():
        raise RuntimeError(f"stand-in not READY within {timeout:.0f}s")
    return box[0] if box else ""


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    # Never let a real AWS profile or config leak into the benchmark.
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_SAGEMAKER", "MPSCAN_CONFIG",
                "MPSCAN_DATABASE_URL"):  # fmt: skip
        env.pop(key, None)
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def _cpu_seconds(pid: int) -> float | None:
    """utime + stime of a live process, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


# --------------------------------------------------------------------------------------------
# One scan


class Sampler(threading.Thread):
    """Once a second: the stand-in's stats and the CPU time of both processes (--timeline)."""

    def __init__(self, standin: StandIn, scan_pid: int, interval: float = 1.0):
        super().__init__(daemon=True, name="sampler")
        self.standin, self.scan_pid, self.interval = standin, scan_pid, interval
        self.samples: list[dict[str, Any]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        t0 = time.perf_counter()
        while not self.halt.wait(self.interval):
            try:
                stats = self.standin.get("/_standin/stats")
            except OSError:
                continue
            self.samples.append(
                {
                    "t": time.perf_counter() - t0,
                    "ops": stats["operations"],
                    "standin_cpu": _cpu_seconds(self.standin.proc.pid),
                    "scan_cpu": _cpu_seconds(self.scan_pid),
                }
            )


def run_scan(
    args: argparse.Namespace,
    standin: StandIn,
    workdir: Path,
    n: int,
    collect: str,
    db_name: str | None = None,
) -> dict[str, Any]:
    """One scan process; `db_name` names the database (an existing one: a re-scan)."""
    db = workdir / (db_name or f"scan-{n}.db")
    rescan = db.exists()
    cmd = [sys.executable, "-m", "scanner", "scan", "--regions", args.regions,
           "--db", f"sqlite:///{db}", "-q", "--retry-mode", args.retry_mode,
           "--max-rate", str(args.max_rate), "--collect", collect]  # fmt: skip
    if args.concurrency is not None:
        cmd += ["--concurrency", str(args.concurrency)]
    if args.max_attempts is not None:
        cmd += ["--max-attempts", str(args.max_attempts)]
    standin.reset_for_run()
    standin_cpu0 = _cpu_seconds(standin.proc.pid)
    out_path, err_path = workdir / f"scan-{n}.stdout", workdir / f"scan-{n}.stderr"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started, started_epoch = time.perf_counter(), time.time()
        proc = subprocess.Popen(
            cmd, cwd=workdir, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
            env=_env(AWS_ENDPOINT_URL=standin.url), start_new_session=True,
        )  # fmt: skip
    # Reap the child with wait4 in a thread: exact exit time and the child's own rusage.
    reaped: dict[str, Any] = {}

    def reap() -> None:
        _, status, usage = os.wait4(proc.pid, 0)
        reaped.update(t=time.perf_counter(), epoch=time.time(), status=status, usage=usage)

    reaper = threading.Thread(target=reap, daemon=True)
    reaper.start()
    sampler = Sampler(standin, proc.pid) if args.timeline else None
    if sampler:
        sampler.start()
    reaper.join(SCAN_TIMEOUT_S)
    timed_out = reaper.is_alive()
    if timed_out:
        os.killpg(proc.pid, signal.SIGKILL)
        reaper.join(30)
    if sampler:
        sampler.halt.set()
        sampler.join(5)
    proc.returncode = os.waitstatus_to_exitcode(reaped["status"]) if reaped else -9
    wall = (reaped.get("t", time.perf_counter())) - started
    standin_cpu1 = _cpu_seconds(standin.proc.pid)
    stats = standin.get("/_standin/stats")

    usage = reaped.get("usage")
    record = analyse(args, stats, db)
    record.update(
        run=n,
        collect=collect,
        rescan=rescan,
        exit_code=proc.returncode,
        timed_out=timed_out,
        wall_s=round(wall, 3),
        peak_rss_mib=round(usage.ru_maxrss / 1024, 1) if usage else None,
        scan_cpu_s=round(usage.ru_utime + usage.ru_stime, 2) if usage else None,
        standin_cpu_s=(
            round(standin_cpu1 - standin_cpu0, 2)
            if standin_cpu0 is not None and standin_cpu1 is not None
            else None
        ),
    )
    # Where the wall time outside the stand-in's busy window goes: process start (imports,
    # migrations, STS) before the first SageMaker call, and the end (last writes, exit) after it.
    first, last = stats.get("first_request_at"), stats.get("last_request_at")
    record["startup_s"] = round(first - started_epoch, 3) if first else None
    record["teardown_s"] = round(reaped["epoch"] - last, 3) if last and reaped else None
    record["ratio"] = round(wall / record["floor_s"], 3) if record["floor_s"] else None
    record["api_window_ratio"] = (
        round(record["api_window_s"] / record["floor_s"], 3) if record["floor_s"] else None
    )
    if sampler:
        record["timeline"] = _timeline(sampler.samples)
    if proc.returncode != 0:
        record["scan_stderr"] = err_path.read_text(errors="replace")[-2000:]
    return record


def analyse(args: argparse.Namespace, stats: dict[str, Any], db: Path) -> dict[str, Any]:
    ops: dict[str, dict[str, dict[str, int]]] = stats["operations"]

    def total(op: str, *kinds: str) -> int:
        return sum(c[k] for c in ops.get(op, {}).values() for k in kinds)

    answered = ("ok", "error")  # GetModelPackageGroupPolicy answers 400 for "no policy"
    busiest = max(
        ((op, region, c["ok"]) for op, regions in ops.items() for region, c in regions.items()),
        key=lambda x: x[2],
        default=("-", "-", 0),
    )
    floor = busiest[2] / args.rate if args.rate else 0.0

    stored = _stored(db)
    own_groups = stored["own_groups"]
    packages = stored["packages"]
    list_tags = total("ListTags", *answered)
    package_calls = total("DescribeModelPackage", *answered) + (list_tags - own_groups)
    group_calls = sum(total(op, *answered) for op in GROUP_OPS) + own_groups
    list_pages = sum(total(op, *answered) for op in LIST_OPS)
    # Pages of 100: per region, packages + own groups + shared groups (each listing >= 1 page).
    ideal_pages = sum(
        max(1, math.ceil(r["packages"] / PAGE_SIZE))
        + max(1, math.ceil(r["own_groups"] / PAGE_SIZE))
        + max(1, math.ceil(r["shared_groups"] / PAGE_SIZE))
        for r in stored["regions"].values()
    )
    throttled = {op: total(op, "throttled") for op in sorted(ops) if total(op, "throttled")}
    # Search mode: Search pages of 100 per region (packages, own groups), one policy call per
    # own group, two calls per resource described (Search lagged on it or answered it stale).
    ideal_search_pages = sum(
        max(1, math.ceil(r["packages"] / PAGE_SIZE))
        + max(1, math.ceil(r["own_groups"] / PAGE_SIZE))
        for r in stored["regions"].values()
    )
    all_calls = sum(total(op, *answered, "throttled") for op in ops)
    bound = ideal_pages + ideal_search_pages + own_groups + 2 * stored["described"]
    return {
        "floor_s": round(floor, 3),
        "busiest": {"operation": busiest[0], "region": busiest[1], "ok_calls": busiest[2]},
        "api_window_s": round(stats.get("elapsed_s") or 0.0, 3),
        "packages": packages,
        "groups": stored["groups"],
        "own_groups": own_groups,
        "per_region": stored["regions"],
        "calls_per_package": round(package_calls / packages, 3) if packages else None,
        "calls_per_group": round(group_calls / own_groups, 3) if own_groups else None,
        "list_pages": list_pages,
        "list_pages_ideal": ideal_pages,
        "throttled_total": sum(throttled.values()),
        "throttled": throttled,
        "calls": {
            op: {k: total(op, k) for k in ("ok", "error", "throttled", "denied", "failed")}
            for op in sorted(ops)
        },
        "requests": stats.get("requests"),
        "all_calls": all_calls,
        "search_pages": total("Search", *answered),
        "search_pages_ideal": ideal_search_pages,
        "describe_calls": sum(
            total(op, *answered) for op in ("DescribeModelPackage", "DescribeModelPackageGroup")
        )
        + list_tags,
        "described": stored["described"],
        "searched": stored["searched"],
        "collect_modes": stored["collect_modes"],
        "search_bound": bound,
        "calls_over_bound": round(all_calls / bound, 3) if bound else None,
    }


def _stored(db: Path) -> dict[str, Any]:
    empty = {
        "packages": 0,
        "groups": 0,
        "own_groups": 0,
        "regions": {},
        "described": 0,
        "searched": 0,
        "collect_modes": [],
    }
    if not db.exists():
        return empty
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        packages = con.execute("SELECT count(*) FROM model_packages").fetchone()[0]
        groups = con.execute("SELECT count(*) FROM model_package_groups").fetchone()[0]
        regions: dict[str, dict[str, int]] = {}
        for region, n in con.execute("SELECT region, count(*) FROM model_packages GROUP BY 1"):
            regions.setdefault(region, {"packages": 0, "own_groups": 0, "shared_groups": 0})
            regions[region]["packages"] = n
        for region, own, n in con.execute(
            "SELECT region, owner_account_id = account_id, count(*) "
            "FROM model_package_groups GROUP BY 1, 2"
        ):
            regions.setdefault(region, {"packages": 0, "own_groups": 0, "shared_groups": 0})
            regions[region]["own_groups" if own else "shared_groups"] = n
        described, searched = con.execute(
            "SELECT sum(described), sum(searched) FROM scan_regions "
            "WHERE scan_id = (SELECT max(id) FROM scans)"
        ).fetchone()
        modes = [m for (m,) in con.execute(
            "SELECT DISTINCT collect FROM scan_regions WHERE scan_id = (SELECT max(id) FROM scans)"
        )]  # fmt: skip
    except sqlite3.Error:
        return empty
    finally:
        con.close()
    return {
        "packages": packages,
        "groups": groups,
        "own_groups": sum(r["own_groups"] for r in regions.values()),
        "regions": regions,
        "described": described or 0,
        "searched": searched or 0,
        "collect_modes": modes,
    }


def _timeline(samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-interval deltas: ok/throttled calls per (operation, region), CPU use."""
    rows = []
    prev: dict[str, Any] | None = None
    for s in samples:
        row: dict[str, Any] = {"t": round(s["t"], 1), "ok": {}, "throttled": {}}
        for op, regions in s["ops"].items():
            for region, c in regions.items():
                key = f"{op}@{region}"
                before = (prev or {}).get("ops", {}).get(op, {}).get(region, {})
                d_ok = c["ok"] + c["error"] - before.get("ok", 0) - before.get("error", 0)
                d_thr = c["throttled"] - before.get("throttled", 0)
                if d_ok:
                    row["ok"][key] = d_ok
                if d_thr:
                    row["throttled"][key] = d_thr
        dt = s["t"] - (prev["t"] if prev else 0.0)
        for name in ("standin_cpu", "scan_cpu"):
            a, b = (prev or {}).get(name), s[name]
            row[name + "_pct"] = (
                round(100 * (b - a) / dt) if a is not None and b is not None else None
            )
        rows.append(row)
        prev = s
    return rows


# --------------------------------------------------------------------------------------------
# Output


SHORT = {
    "DescribeModelPackage": "DescPkg",
    "ListTags": "Tags",
    "DescribeModelPackageGroup": "DescGrp",
    "GetModelPackageGroupPolicy": "Policy",
    "ListModelPackages": "ListPkg",
    "ListModelPackageGroups": "ListGrp",
    "Search": "Search",
}
REGION_SHORT = {"us-east-1": "use1", "eu-west-1": "euw1"}


def print_record(r: dict[str, Any], args: argparse.Namespace) -> None:
    b = r["busiest"]
    what = f"{r['collect']} mode" + (", re-scan of the same database" if r["rescan"] else "")
    print(
        f"run {r['run']} ({what}): exit code {r['exit_code']}"
        + (" (TIMED OUT)" if r["timed_out"] else "")
    )
    print(
        f"  wall time:        {r['wall_s']:.2f} s  "
        f"(start to 1st SageMaker call {r['startup_s']} s, "
        f"SageMaker calls {r['api_window_s']:.2f} s, last call to exit {r['teardown_s']} s)"
    )
    print(
        f"  throttle floor:   {r['floor_s']:.2f} s  "
        f"({b['ok_calls']} ok {b['operation']} in {b['region']} / {args.rate:g} per s)"
    )
    ratio = r["ratio"]
    verdict = "" if ratio is None else ("  OK" if ratio <= 1.15 else "  ABOVE TARGET 1.15")
    if r["collect"] == "search":  # the target is describe mode's; Search's floor is tiny
        verdict = ""
    print(
        f"  wall / floor:     {ratio if ratio is not None else '-'}{verdict}  "
        f"(API window / floor {r['api_window_ratio']})"
    )
    cpp = r["calls_per_package"]
    cpg = r["calls_per_group"]
    if r["collect"] == "describe":
        print(
            f"  calls per package: {cpp if cpp is None else f'{cpp:.2f}'} (Describe + ListTags), "
            f"per group: {cpg if cpg is None else f'{cpg:.2f}'} (Describe + Policy + ListTags), "
            f"list pages: {r['list_pages']} (ideal {r['list_pages_ideal']})"
        )
    else:
        over = r["calls_over_bound"]
        verdict = "" if over is None else ("  OK" if over <= 1.10 else "  ABOVE TARGET 1.10")
        print(
            f"  search mode:      {r['all_calls']} calls / bound {r['search_bound']} = {over}"
            f"{verdict}  (list pages {r['list_pages']}, Search pages {r['search_pages']} "
            f"(ideal {r['search_pages_ideal']}), {r['own_groups']} policy calls, "
            f"{r['described']} described, {r['searched']} from Search; "
            f"describe/ListTags calls {r['describe_calls']}; regions read by "
            f"{', '.join(r['collect_modes'])})"
        )
    per_op = ", ".join(f"{op} {n}" for op, n in r["throttled"].items()) or "none"
    print(f"  throttled calls:  {r['throttled_total']}  ({per_op})")
    print(f"  peak memory:      {r['peak_rss_mib']} MiB max RSS (scan process)")
    print(f"  CPU:              scan {r['scan_cpu_s']} s, stand-in {r['standin_cpu_s']} s")
    print(
        f"  stored:           {r['packages']} packages, {r['groups']} groups "
        f"({r['own_groups']} own)"
    )
    if r.get("scan_stderr"):
        print("  scan stderr (tail):\n    " + r["scan_stderr"].strip().replace("\n", "\n    "))
    if r.get("timeline"):
        print("  timeline (answered calls / throttled per interval; CPU % of one core):")
        for row in r["timeline"]:
            ok = " ".join(f"{_short(k)}={v}" for k, v in sorted(row["ok"].items()))
            thr = " ".join(f"{_short(k)}={v}" for k, v in sorted(row["throttled"].items()))
            print(
                f"    t={row['t']:5.1f}s cpu standin {row['standin_cpu_pct']}% scan "
                f"{row['scan_cpu_pct']}% | ok: {ok or '-'}" + (f" | thr: {thr}" if thr else "")
            )


def _short(key: str) -> str:
    op, region = key.split("@")
    return f"{SHORT.get(op, op)}@{REGION_SHORT.get(region, region)}"


# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description="Benchmark mpscan scan against a throttled local AWS stand-in.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    ap.add_argument("--scale", type=int, default=4, help="seed scale (4 = ~1,128 packages)")
    ap.add_argument("--regions", default="us-east-1,eu-west-1")
    ap.add_argument("--latency-ms", type=float, default=20.0, help="injected latency per call")
    ap.add_argument(
        "--rate", type=float, default=25.0, help="stand-in limit, calls/s per op+region"
    )
    ap.add_argument(
        "--concurrency", type=int, default=None, help="mpscan --concurrency (default: scanner's)"
    )
    ap.add_argument("--max-rate", type=float, default=0.0, help="mpscan --max-rate (0 = none)")
    ap.add_argument("--retry-mode", default="adaptive", choices=["adaptive", "standard", "legacy"])
    ap.add_argument(
        "--max-attempts", type=int, default=None, help="mpscan --max-attempts (default: scanner's)"
    )
    ap.add_argument(
        "--collect",
        default="search",
        choices=["search", "describe", "both"],
        help="mpscan --collect; both: describe, search, then a search re-scan, compared",
    )
    ap.add_argument("--repeat", type=int, default=1, help="scans to run (one seeded stand-in)")
    ap.add_argument("--timeline", action="store_true", help="sample stats and CPU once a second")
    ap.add_argument("--json", action="store_true", help="print one JSON record (all runs)")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    if args.rate <= 0:
        ap.error("--rate must be greater than 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="mpscan-bench-"))
    standin = StandIn(args, workdir)
    runs: list[dict[str, Any]] = []
    seed: dict[str, Any] = {}
    try:
        standin.start()
        seed = standin.seed_counts()
        config = {
            k: getattr(args, k)
            for k in (
                "scale",
                "regions",
                "latency_ms",
                "rate",
                "concurrency",
                "max_rate",
                "retry_mode",
                "max_attempts",
                "collect",
                "repeat",
            )  # fmt: skip
        }
        if not args.json:
            print(f"config: {json.dumps(config)}")
            print(f"stand-in {standin.url} seeded in {standin.seed_s:.1f} s: "
                  f"{json.dumps(seed, sort_keys=True)}")  # fmt: skip
        plan = [("describe", None), ("search", "same.db"), ("search", "same.db")]
        n = 0
        for _ in range(args.repeat):
            for collect, db_name in plan if args.collect == "both" else [(args.collect, None)]:
                n += 1
                record = run_scan(args, standin, workdir, n, collect, db_name)
                runs.append(record)
                if not args.json:
                    print_record(record, args)
            if args.collect == "both":
                _unlink(workdir / "same.db")
    finally:
        standin.stop()
        _rmtree(workdir)
    walls = [r["wall_s"] for r in runs]
    summary: dict[str, Any] = {
        "wall_s_min": min(walls),
        "wall_s_median": sorted(walls)[len(walls) // 2],
        "ratio_min": min((r["ratio"] for r in runs if r["ratio"]), default=None),
    }
    if args.collect == "both":
        summary.update(compare(runs))
        if not args.json:
            print(f"comparison: {json.dumps(compare(runs))}")
    if args.json:
        record = {"config": config, "seed": seed, "seed_s": round(standin.seed_s, 1)}
        print(json.dumps({**record, "runs": runs, "summary": summary}, indent=2))
    elif len(runs) > 1:
        print(f"summary: {json.dumps(summary)}")
    return 0 if all(r["exit_code"] == 0 for r in runs) else 1


def compare(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Describe vs search vs re-scan, medians over the repeats."""

    def median(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    describe = [r for r in runs if r["collect"] == "describe"]
    search = [r for r in runs if r["collect"] == "search" and not r["rescan"]]
    rescan = [r for r in runs if r["collect"] == "search" and r["rescan"]]
    d_wall, s_wall = median([r["wall_s"] for r in describe]), median([r["wall_s"] for r in search])
    d_calls = median([r["all_calls"] for r in describe])
    return {
        "describe_wall_s": d_wall,
        "search_wall_s": s_wall,
        "rescan_wall_s": median([r["wall_s"] for r in rescan]),
        "speedup": round(d_wall / s_wall, 2) if s_wall else None,
        "describe_calls": d_calls,
        "search_calls": median([r["all_calls"] for r in search]),
        "rescan_calls": median([r["all_calls"] for r in rescan]),
        "rescan_share_of_describe": round(median([r["all_calls"] for r in rescan]) / d_calls, 4)
        if d_calls
        else None,
        "rescan_describe_or_listtags_calls": max(r["describe_calls"] for r in rescan),
        "search_calls_over_bound_max": max(r["calls_over_bound"] or 0 for r in search + rescan),
        "peak_rss_mib": {
            "describe": median([r["peak_rss_mib"] or 0 for r in describe]),
            "search": median([r["peak_rss_mib"] or 0 for r in search]),
        },
    }


def _unlink(path: Path) -> None:
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        p.unlink(missing_ok=True)


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

"""``python -m tests.standin_faults`` (from the repository root): run a stand-in with fault
injection and the ``/_standin/`` control routes in the foreground, for the benchmarks.

Prints ``READY http://HOST:PORT`` on one line once listening (and seeded, with --seed-demo).
Faults are applied after seeding so the seed itself is never slowed or throttled.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from scanner.standin.seed import seed_registry

from .server import start_faulty_standin


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.standin_faults", description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=5000, help="0 picks a free port")
    ap.add_argument("--latency-ms", type=float, default=0.0)
    ap.add_argument("--rate-limit", type=float, default=None, help="calls/s per (op, region)")
    ap.add_argument("--deny-region", action="append", default=[], metavar="REGION")
    ap.add_argument("--seed-demo", action="store_true", help="seed a demo registry first")
    ap.add_argument("--seed-regions", default="us-east-1,eu-west-1")
    ap.add_argument("--seed-scale", type=int, default=1)
    args = ap.parse_args(argv)

    standin = start_faulty_standin(args.host, args.port)
    if args.seed_demo:
        regions = [r for r in args.seed_regions.split(",") if r]
        counts = seed_registry(standin.url, regions, scale=args.seed_scale)
        print(f"SEEDED {json.dumps(counts, sort_keys=True)}", file=sys.stderr, flush=True)
        standin.clear_stats()  # a benchmark wants to measure its own calls, not the seed's
    standin.faults.update(
        latency_ms=args.latency_ms, rate_limit=args.rate_limit, deny_regions=args.deny_region
    )
    print(f"READY {standin.url}", flush=True)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    standin.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

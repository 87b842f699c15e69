"""Make docs/report.png, the screenshot docs/reports.md shows: `mpscan demo` into a new
SQLite file, `mpscan report` of it, and Debian's headless chromium (/usr/bin/chromium, or
$MPSCAN_TEST_CHROMIUM) rendering the top of the page at 1366 px. Nothing is downloaded.

    .venv/bin/python docs/report_screenshot.py [--output docs/report.png] [--height 1800]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", default=str(DOCS / "report.png"))
    parser.add_argument("--height", type=int, default=1800)
    args = parser.parse_args()
    chromium = os.environ.get("MPSCAN_TEST_CHROMIUM", "/usr/bin/chromium")
    with tempfile.TemporaryDirectory(prefix="mpscan-shot-") as tmp:
        db = f"sqlite:///{Path(tmp) / 'demo.db'}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MPSCAN_"))}
        mpscan = [sys.executable, "-m", "scanner"]
        subprocess.run([*mpscan, "demo", "--db", db, "-q"], check=True, env=env, cwd=tmp)
        page = Path(tmp) / "report.html"
        subprocess.run(
            [*mpscan, "report", "--db", db, "--output", str(page)], check=True, env=env, cwd=tmp
        )
        subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--user-data-dir={Path(tmp) / 'profile'}",
                f"--window-size=1366,{args.height}",
                f"--screenshot={Path(args.output).resolve()}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
        )
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

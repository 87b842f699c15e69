"""`mpscan demo`: a local stand-in registry, scanned like a real account.

The demo sets only the standard AWS settings (AWS_ENDPOINT_URL, credentials, region) in
its own process, exactly as a user pointing mpscan at LocalStack or moto would.
"""

from __future__ import annotations

import os
import shlex
import threading

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from scanner.config import Settings, override
from scanner.errors import UsageError
from scanner.store.db import make_engine, safe_url

DEMO_REGIONS = ("us-east-1", "eu-west-1")

NEXT_STEPS = """
Try next:
  mpscan query --db {db} "SELECT region, model_package_type, count(*) AS n
      FROM model_packages GROUP BY region, model_package_type"
  mpscan query --db {db} "SELECT model_package_arn FROM model_packages WHERE kms_key_id IS NULL"
  mpscan query --db {db} "SELECT DISTINCT image FROM model_package_containers
      WHERE image NOT LIKE '%@sha256:%'"
  mpscan query --db {db} "SELECT model_package_group_name, resource_policy
      FROM model_package_groups WHERE resource_policy IS NOT NULL" --format json
  mpscan query --db {db} "SELECT * FROM scan_regions" --format csv
  mpscan query --db {db} "SELECT endpoint_name, variant_name, current_weight,
      model_package_version, model_approval_status FROM deployments"
"""
HIDDEN_PASSWORD = "  (the password is shown as ***: type yours in its place)\n"


def shown_db(db_url: str) -> str:
    """The database URL as the hints print it: password hidden, quoted for a POSIX shell."""
    return shlex.quote(safe_url(db_url))


def next_steps(db_url: str) -> str:
    try:
        hidden = make_url(db_url).password is not None
    except (ArgumentError, ValueError):
        hidden = False
    return NEXT_STEPS.format(db=shown_db(db_url)) + (HIDDEN_PASSWORD if hidden else "")


def _start_standin():
    try:
        from scanner.standin import start_standin
        from scanner.standin.seed import seed_registry
    except ImportError as exc:
        raise UsageError(
            f"usage error: the demo needs the local AWS stand-in ({exc.name} is missing): "
            "pip install 'mpscan[demo]'"
        ) from None
    # Loopback only: the stand-in answers anyone, with no credentials checked.
    return start_standin(host="127.0.0.1"), seed_registry


def run_demo(db_url: str, *, scale: int, serve: bool, quiet: bool, runner, report):
    from scanner.app.scan import run_scan

    make_engine(db_url).dispose()  # a bad --db fails now, not after seeding
    standin, seed_registry = _start_standin()
    try:
        os.environ.update(
            AWS_ENDPOINT_URL=standin.url,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION=DEMO_REGIONS[0],
        )
        # Nothing of the user's AWS setup may steer the demo elsewhere: no profile, no
        # per-service endpoint (AWS_ENDPOINT_URL_STS...), no config or credentials file.
        for name in list(os.environ):
            if name.startswith("AWS_ENDPOINT_URL_") or name in (
                "AWS_PROFILE",
                "AWS_SESSION_TOKEN",
                "AWS_REGION",
            ):
                os.environ.pop(name)
        os.environ.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
        if not quiet:
            click.echo(
                f"stand-in listening on {standin.url}; seeding {', '.join(DEMO_REGIONS)}…", err=True
            )
        counts = seed_registry(standin.url, list(DEMO_REGIONS), scale=scale)
        if not quiet:
            own = [c for region, c in counts.items() if region in DEMO_REGIONS]
            click.echo(
                f"seeded {sum(c['packages'] for c in own)} model packages and "
                f"{sum(c['groups'] for c in own)} groups, plus groups shared from another "
                f"account, and {sum(c.get('endpoints', 0) for c in own)} endpoints",
                err=True,
            )
        settings: Settings = override(Settings(), "database", url=db_url)  # ignores ./mpscan.toml
        settings = override(settings, "aws", regions=DEMO_REGIONS)
        result = runner(run_scan, settings, quiet)
        report(result)
        click.echo(next_steps(db_url))
        if serve:
            click.echo(
                f"The stand-in keeps running at {standin.url} (Ctrl-C to stop). Scan it again:\n"
                f"  AWS_ENDPOINT_URL={standin.url} AWS_ACCESS_KEY_ID=testing "
                f"AWS_SECRET_ACCESS_KEY=testing mpscan scan --regions {','.join(DEMO_REGIONS)} "
                f"--db {shown_db(db_url)}",
                err=True,
            )
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                pass
        return result
    finally:
        standin.stop()

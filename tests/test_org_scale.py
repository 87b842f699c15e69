"""An organisation's scale: 1,100 account-regions stored by the scan's own writer, judged
as a scan judges them, and re-judged by `mpscan evaluate`, on SQLite and PostgreSQL.

A clause per (account, region) pair made SQLite refuse the judgement past about 1,000 pairs
("Expression tree is too large") after every region had been stored. The AWS side of many
accounts is tested in test_accounts (and measured with 1,000 accounts by
benchmarks/accounts_scale.py); here the store and the judge see what 550 accounts × 2
regions look like to them.
"""

from __future__ import annotations

import json
from pathlib import Path

from scanner.app.judging import judge_and_persist
from scanner.config import Settings
from scanner.rules import catalog
from scanner.stages import PACKAGE, RegionOutcome
from scanner.store import scans, staging
from scanner.store.db import ensure_schema, make_engine
from scanner.store.scope import Scope
from tests.conftest import query

ROOT = Path(__file__).parent
MINIMAL = json.loads((ROOT / "data" / "describe_model_package_minimal.json").read_text())
ACCOUNTS = [f"{300000000000 + i:012d}" for i in range(550)]
REGIONS = ("us-east-1", "eu-west-1")
FAILED = ACCOUNTS[7]  # its role refuses in the second scan
EMPTIED = ACCOUNTS[-1]  # its packages are gone in the second scan


def package(account: str, region: str) -> dict:
    arn = f"arn:aws:sagemaker:{region}:{account}:model-package/m-{account}"
    describe = {**MINIMAL, "ModelPackageName": f"m-{account}", "ModelPackageArn": arn}
    return {"describe": describe, "tags": []}  # no KMS key: MP-001 fails


def store_scan(engine, failed: str | None = None, emptied: str | None = None) -> int:
    """One scan of every account and region through staging.Writer, as `mpscan scan` writes."""
    scan_id = scans.begin_scan(engine, list(REGIONS), "test", 60.0)
    writer = staging.Writer(engine, scan_id).start()
    for account in ACCOUNTS:
        for region in REGIONS:
            writer.region_started(account, region)
            outcome = RegionOutcome(account, region)
            if account == failed:
                outcome.status, outcome.error_kind = "failed", "denied"
            elif account != emptied:
                writer.emit(PACKAGE, account, region, package(account, region))
                outcome.packages = 1
            writer.region_finished(outcome)
    writer.close()
    scans.end_scan(engine, scan_id, "partial" if failed else "complete")
    return scan_id


def mp001(db_url: str, account: str) -> list[tuple]:
    return [
        tuple(r)
        for r in query(
            db_url,
            "SELECT region, status, scan_id, last_seen_at FROM findings "
            "WHERE rule_id = 'MP-001' AND account_id = :a ORDER BY region",
            a=account,
        )
    ]


def test_1100_account_regions_are_judged_and_rejudged(db_url, mpscan, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    engine = make_engine(db_url)
    ensure_schema(engine)
    rules = catalog.load(Settings())
    try:
        first = store_scan(engine)
        judged = judge_and_persist(engine, rules, scan_id=first, scope=Scope.of_scan(first))
        assert judged.resources == 1100
        assert judged.counts.by_status["fail"] >= 1100
        rows = query(db_url, "SELECT COUNT(*) FROM findings WHERE rule_id = 'MP-001'")
        assert rows[0][0] == 1100
        kept = mp001(db_url, FAILED)

        second = store_scan(engine, failed=FAILED, emptied=EMPTIED)
        judged = judge_and_persist(engine, rules, scan_id=second, scope=Scope.of_scan(second))
    finally:
        engine.dispose()

    assert judged.resources == 1100 - 4  # the failed account's two, the emptied account's two
    assert judged.counts.resolved >= 2 and judged.counts.new == 0
    assert mp001(db_url, FAILED) == kept  # outside the scope: untouched, as last seen
    assert {r[1] for r in mp001(db_url, EMPTIED)} == {"pass"}  # resolved
    seen = query(
        db_url,
        "SELECT COUNT(*) FROM findings WHERE rule_id = 'MP-001' AND scan_id = :s",
        s=second,
    )
    assert seen[0][0] == 1100 - 4

    # A re-judge reaches every stored inventory, the failed account's last good one too.
    Path("mpscan.toml").write_text(
        f'[[waivers]]\nrule = "MP-001"\nresource = "arn:aws:sagemaker:*:{FAILED}:*"\n'
        'reason = "legacy"\nowner = "me@example.com"\nexpires = 2099-01-01\n'
    )
    rejudged = mpscan("evaluate", "--db", db_url)
    assert rejudged.exit_code == 0, rejudged.stderr
    assert "2 changed" in rejudged.stdout
    assert [r[1] for r in mp001(db_url, FAILED)] == ["waived", "waived"]
    gate = mpscan("check", "--db", db_url, "--fail-on", "high", "--format", "json")
    assert gate.exit_code == 4, gate.stderr

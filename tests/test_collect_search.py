"""Search-based collection (`--collect search`, the default): the listing says what exists,
Search's records fill the rows, and what Search lags on or answers stale is described.

Every test reads the stand-in's own call counts (what a user's CloudTrail would show) and
the stored tables (what a user queries)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import pytest
from moto.sagemaker import models as sm_models
from sqlalchemy import create_engine, inspect, text

from scanner import kinds
from scanner.standin.seed import seed_registry
from tests.conftest import query
from tests.support import make_group, make_unversioned

REGION = "us-east-1"
ACCOUNT = "123456789012"
DESCRIBES = (
    "DescribeModelPackage",
    "DescribeModelPackageGroup",
    "DescribeModel",
    "DescribeEndpoint",
    "DescribeModelCard",
    "ListTags",
)
# What differs between two scans of the same registry by design: when and by which scan a
# row was seen, row ids, and which call answered.
NOT_FACTS = {
    "id",
    "first_seen_at",
    "last_seen_at",
    "first_seen_scan_id",
    "last_seen_scan_id",
    "opened_scan_id",
    "scan_id",
    "record_source",
}


@pytest.fixture
def two_dbs(db_url, tmp_path):
    """Two empty databases on the engine under test."""
    if db_url.startswith("sqlite"):
        yield db_url, f"sqlite:///{tmp_path / 'other.db'}"
        return
    base = db_url.split("?")[0]
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield db_url, f"{base}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def without_describe_only(rows: list[str]) -> list[str]:
    """Package rows without the members Search's records lack (scanner.kinds), in their
    columns and in the record as received (and so its hash)."""
    lacking = kinds.MODEL_PACKAGE.search_lacks
    found = []
    for row in map(json.loads, rows):
        raw = json.loads(row["raw"]) if isinstance(row["raw"], str) else row["raw"]
        row["raw"] = {k: v for k, v in raw.items() if k not in lacking}
        for column in (*kinds.MODEL_PACKAGE.describe_only, "content_hash"):
            row.pop(column)
        found.append(json.dumps(row, sort_keys=True))
    return sorted(found)


def calls(standin) -> dict[str, int]:
    return {
        op: sum(sum(counts.values()) for counts in by_region.values())
        for op, by_region in standin.stats()["operations"].items()
    }


def scan(mpscan, db: str, *extra: str):
    result = mpscan("scan", "--regions", REGION, "--db", db, "--format", "json", "-q", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def facts(db: str) -> dict[str, list]:
    """Every inventory table (each kind's and its children) and the findings, as sorted rows
    of the columns that are facts about the registry."""
    tables = [t for k in kinds.KINDS for t in (k.table, *k.children)] + ["findings"]
    engine = create_engine(db)
    try:
        found = {}
        with engine.connect() as conn:
            for table in tables:
                columns = [
                    c["name"]
                    for c in inspect(conn).get_columns(table)
                    if c["name"] not in NOT_FACTS
                ]
                rows = conn.execute(text(f"SELECT {', '.join(columns)} FROM {table}")).all()
                found[table] = sorted(
                    json.dumps(dict(zip(columns, r, strict=True)), sort_keys=True, default=str)
                    for r in rows
                )
        return found
    finally:
        engine.dispose()


def test_a_search_scan_stores_the_same_facts_as_a_describe_scan(standin, mpscan, two_dbs):
    """Two pages of packages, groups with and without policies, tags, model cards, lifecycles,
    a hostile description, a group shared from another account: every table the same."""
    seed_registry(standin.url, [REGION], versions_in_big_group=105, workers=4)
    backend = sm_models.sagemaker_backends[ACCOUNT][REGION]
    pkg = next(p for p in backend.model_packages.values() if p.model_package_version == 3)
    pkg.managed_storage_type = "Managed"  # a describe-only member: not in Search's records
    described, searched = two_dbs

    standin.clear_stats()
    by_describe = scan(mpscan, described, "--collect", "describe")
    describe_calls = calls(standin)
    standin.clear_stats()
    by_search = scan(mpscan, searched)  # the default: search
    search_calls = calls(standin)

    [region] = by_search["regions"]
    # only what no bulk API answers is described: the endpoint configurations
    assert (region["collect"], region["collect_note"]) == ("search", None)
    assert region["described"] == region["endpoint_configs"] == 4
    serving = region["models"] + region["endpoints"] + region["model_cards"]
    assert serving == 4 + 4 + 1  # the seeded endpoints, their models, a model card
    assert region["searched"] == region["packages"] + region["groups"] - 1 + serving
    assert by_search["totals"] == by_describe["totals"]
    assert not set(DESCRIBES) & set(search_calls)
    # packages in 2 pages of 100, groups in 1, models, endpoints and model cards in 1 each
    assert search_calls["Search"] == 2 + 1 + 3
    assert search_calls["DescribeEndpointConfig"] == 4  # no bulk API has them
    assert sum(search_calls.values()) * 10 < sum(describe_calls.values())

    d, s = facts(described), facts(searched)
    assert sum('"managed_storage_type": "Managed"' in row for row in d["model_packages"]) == 1
    assert not any('"Managed"' in row for row in s["model_packages"])  # describe-only
    assert d.keys() == s.keys()
    for table in d:
        if table == "model_packages":  # the one describe-only value aside, the same rows
            assert without_describe_only(d[table]) == without_describe_only(s[table])
        else:
            assert d[table] == s[table], table
    sources = query(searched, "SELECT DISTINCT record_source FROM model_packages")
    assert sources == [("search",)]


def test_a_rescan_of_an_unchanged_registry_describes_nothing(standin, sm, mpscan, tmp_path):
    make_group(sm[REGION], "g", 5, Tags=[{"Key": "team", "Value": "ml"}])
    make_unversioned(sm[REGION], "loose")
    db = f"sqlite:///{tmp_path / 'inv.db'}"
    scan(mpscan, db, "--collect", "describe")
    standin.clear_stats()
    again = scan(mpscan, db)
    assert again["totals"]["added"] == again["totals"]["removed"] == 0
    assert set(calls(standin)) == {
        "ListModelPackages",
        "ListModelPackageGroups",
        "ListModels",
        "ListEndpointConfigs",
        "ListEndpoints",
        "ListModelCards",
        "Search",
        "GetModelPackageGroupPolicy",
    }
    # nothing changed: no history, the rows of the describe scan kept (not rewritten)
    assert query(db, "SELECT count(*) FROM resource_changes WHERE change = 'modified'") == [(0,)]
    assert query(db, "SELECT DISTINCT record_source FROM model_packages") == [("describe",)]


def test_a_describe_only_member_keeps_its_last_described_value(standin, sm, mpscan, tmp_path):
    [arn] = make_group(sm[REGION], "g", 1)
    backend = sm_models.sagemaker_backends[ACCOUNT][REGION]
    [pkg] = backend.model_packages.values()
    pkg.managed_storage_type = "Managed"
    db = f"sqlite:///{tmp_path / 'inv.db'}"
    scan(mpscan, db, "--collect", "describe")
    sm[REGION].update_model_package(ModelPackageArn=arn, ApprovalDescription="reviewed")
    standin.clear_stats()
    scan(mpscan, db)
    assert "DescribeModelPackage" not in calls(standin)  # Search had the update
    row = query(
        db,
        "SELECT managed_storage_type, approval_description, record_source FROM model_packages",
    )
    assert row == [("Managed", "reviewed", "search")]
    changed = query(db, "SELECT field FROM resource_changes WHERE change = 'modified'")
    assert ("managed_storage_type",) not in changed and ("approval_description",) in changed


def test_what_search_lags_on_is_described(standin, sm, mpscan, tmp_path):
    make_group(sm[REGION], "old", 3)
    db = f"sqlite:///{tmp_path / 'inv.db'}"
    scan(mpscan, db)
    fresh = make_group(sm[REGION], "new", 2)  # a group and two versions Search has not indexed
    standin.faults.update(search_lag=2)
    standin.clear_stats()
    result = scan(mpscan, db)
    [region] = result["regions"]
    assert (region["packages"], region["groups"], region["added"]) == (5, 2, 3)
    n = calls(standin)
    # the two newest packages, and the newest group (groups lag by the same count: both)
    assert n["DescribeModelPackage"] == 2 and n["ListTags"] == 2 + 2
    assert n["DescribeModelPackageGroup"] == 2
    assert region["described"] == 4 and region["searched"] == 3
    stored = {
        r[0]: r[1] for r in query(db, "SELECT model_package_arn, record_source FROM model_packages")
    }
    assert {stored[a] for a in fresh} == {"describe"}


def test_a_stale_record_never_overwrites_what_the_listing_contradicts(standin, sm, mpscan, db_url):
    arns = make_group(sm[REGION], "g", 3, ModelApprovalStatus="PendingManualApproval")
    scan(mpscan, db_url)
    standin.faults.update(search_stale_arns=arns[:2])  # Search keeps answering them as now
    sm[REGION].update_model_package(ModelPackageArn=arns[0], ModelApprovalStatus="Approved")
    sm[REGION].update_model_package(ModelPackageArn=arns[1], ApprovalDescription="checked")
    standin.clear_stats()
    result = scan(mpscan, db_url)
    # arns[0]: the listing's approval status contradicts the record; arns[1]: the listing
    # agrees, and the record is no older than the stored row, so nothing tells it apart
    assert calls(standin)["DescribeModelPackage"] == 1
    assert result["regions"][0]["described"] == 1
    rows = dict(
        query(db_url, "SELECT model_package_arn, model_approval_status FROM model_packages")
    )
    assert rows[arns[0]] == "Approved"

    # A record older than the stored row (a describe stored the update) is not used either.
    scan(mpscan, db_url, "--collect", "describe")
    standin.clear_stats()
    scan(mpscan, db_url)
    assert calls(standin)["DescribeModelPackage"] == 2  # both stale records: older
    rows = dict(query(db_url, "SELECT model_package_arn, approval_description FROM model_packages"))
    assert rows[arns[1]] == "checked"


@pytest.mark.parametrize(
    ("code", "said", "retries"),
    [
        ("AccessDeniedException", "denied", ()),
        ("ThrottlingException", "throttled", ("--max-attempts", "2", "--retry-mode", "standard")),
    ],
    ids=["denied", "throttled"],
)
def test_search_failing_falls_back_to_describe_and_says_so_once(
    standin, sm, mpscan, tmp_path, code, said, retries
):
    make_group(sm[REGION], "g", 3)
    standin.faults.update(fail_operations={"Search": code})
    db = f"sqlite:///{tmp_path / 'inv.db'}"
    result = mpscan("scan", "--regions", REGION, "--db", db, *retries)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if "Search" in line]
    assert len(lines) == 1 and said in lines[0] and REGION in lines[0], result.stderr
    assert "described instead" in lines[0]
    if not retries:  # tried (for packages and groups at once, at most), then described
        assert 1 <= calls(standin)["Search"] <= 2
    [(collect, note, packages, described)] = query(
        db, "SELECT collect, collect_note, packages, described FROM scan_regions"
    )
    assert (collect, packages, described) == ("describe", 3, 4)
    assert code in note
    assert query(db, "SELECT count(*) FROM model_packages") == [(3,)]


def test_the_collection_mode_comes_from_the_config(standin, sm, mpscan, tmp_path):
    make_unversioned(sm[REGION], "loose")
    config = tmp_path / "mpscan.toml"
    config.write_text('[scan]\ncollect = "describe"\n')
    db = f"sqlite:///{tmp_path / 'inv.db'}"
    result = scan(mpscan, db, "--config", str(config))
    assert result["regions"][0]["collect"] == "describe"
    assert "Search" not in calls(standin)
    config.write_text('[scan]\ncollect = "bulk"\n')
    bad = mpscan("scan", "--regions", REGION, "--db", db, "--config", str(config))
    assert bad.exit_code == 2
    assert "scan.collect" in bad.stderr and "must be search or describe" in bad.stderr


def test_records_and_listing_pair_in_creation_order_however_they_page():
    """The merge holds only records of one creation instant; out-of-order ones pair with
    nothing (their resources are described: correct, only slower)."""
    from scanner.aws.matching import Matcher

    t = [datetime(2026, 1, 1, 0, 0, s) for s in range(5)]

    def rec(arn, at):
        return {"ModelPackageArn": arn, "CreationTime": at}

    listed = [rec("a", t[0]), rec("b", t[1]), rec("c", t[1]), rec("d", t[3]), rec("e", t[4])]
    records = iter([rec("a", t[0]), rec("c", t[1]), rec("b", t[1]), rec("x", t[2]), rec("e", t[4])])
    matcher = Matcher(records, "ModelPackageArn")
    paired = [
        (s["ModelPackageArn"], (matcher.record_for(s) or {}).get("ModelPackageArn")) for s in listed
    ]
    assert paired == [("a", "a"), ("b", "b"), ("c", "c"), ("d", None), ("e", "e")]
    assert matcher._held == {}

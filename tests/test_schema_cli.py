"""`mpscan tables` and `mpscan schema`: what there is to query, read from the models."""

from __future__ import annotations

import json

from scanner.store.schema import Base
from tests.support import make_group, make_unversioned

QUERYABLE = {
    "model_packages",
    "model_package_containers",
    "model_package_tags",
    "model_package_validation_statuses",
    "model_package_metric_sources",
    "model_package_groups",
    "model_package_group_tags",
    "removed_resources",
    "scans",
    "scan_regions",
    "findings",
    "finding_events",
    "resource_changes",
    "registry_events",
    "models",
    "model_containers",
    "endpoint_configs",
    "endpoint_config_variants",
    "endpoints",
    "endpoint_variants",
    "model_cards",
    "deployments",  # the view
}


def test_tables_lists_what_users_query_with_row_counts(standin, sm, mpscan, db_url):
    make_group(sm["us-east-1"], "g", 2)
    make_unversioned(sm["us-east-1"], "u")
    assert mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q").exit_code == 0

    result = mpscan("tables", "--db", db_url, "--format", "json")

    assert result.exit_code == 0, result.stderr
    records = {r["table"]: r for r in json.loads(result.stdout)}
    assert set(records) == QUERYABLE  # staged_resources is a scan's scratch space
    assert records["model_packages"]["rows"] == 3
    assert records["model_package_groups"]["rows"] == 1
    assert records["model_packages"]["description"].startswith("One model package")
    table = mpscan("tables", "--db", db_url)
    assert "model_package_groups" in table.stdout and " 3 " in table.stdout


def test_tables_without_a_database_still_lists_them(standin, mpscan):
    result = mpscan("tables")
    assert result.exit_code == 0
    assert all(name in result.stdout for name in QUERYABLE)
    assert "rows" not in result.stdout and "no row counts" in result.stderr


def test_schema_of_a_table_gives_type_null_and_comment(standin, mpscan):
    result = mpscan("schema", "model_package_groups", "--format", "json")
    assert result.exit_code == 0
    columns = {c["column"]: c for c in json.loads(result.stdout)}
    model = Base.metadata.tables["model_package_groups"]
    assert list(columns) == [c.name for c in model.columns]
    assert columns["shared"]["type"] == "boolean" and not columns["shared"]["nullable"]
    assert columns["creation_time"]["type"] == "timestamp" and columns["creation_time"]["nullable"]
    assert columns["resource_policy"]["type"] == "json"
    assert columns["resource_policy"]["comment"] == model.c.resource_policy.comment
    text = mpscan("schema", "model_package_groups").stdout
    assert "resource_policy" in text and model.c.resource_policy.comment in text


def test_schema_without_a_table_lists_every_table(standin, mpscan):
    columns = json.loads(mpscan("schema", "--format", "json").stdout)
    assert {c["table"] for c in columns} == QUERYABLE
    text = mpscan("schema").stdout
    assert all(f"{name}:" in text or f"\n{name}\n" in text for name in QUERYABLE)


def test_unknown_table_is_a_usage_error_naming_mpscan_tables(standin, mpscan):
    result = mpscan("schema", "model_pakages")
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert "model_pakages" in line and "mpscan tables" in line

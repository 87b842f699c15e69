"""What is in production, collected through the stand-in like packages: models, endpoint
configurations, endpoints and model cards stored in their tables on SQLite and PostgreSQL,
in both collection modes; the `deployments` view; history (mpscan diff) and pruning."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import create_engine, text

from scanner.store.schema import DEPLOYMENTS
from tests.conftest import query
from tests.support import make_group
from tests.support_serving import make_card, make_config, make_endpoint, make_model

REGION = "us-east-1"


def scan(mpscan, db, collect="search"):
    result = mpscan("scan", "--regions", REGION, "--db", db, "-q", "--collect", collect)
    assert result.exit_code == 0, result.stderr
    return result


def diff(mpscan, db):
    result = mpscan("diff", "--db", db, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def production(db):
    """endpoint, variant, weight, model, package version, approval: what a user reads."""
    return sorted(
        tuple(r)
        for r in query(
            db,
            "SELECT endpoint_name, variant_name, current_weight, model_name, "
            "model_package_version, model_approval_status FROM deployments",
        )
    )


@pytest.mark.parametrize("collect", ["search", "describe"])
def test_what_is_in_production_is_stored_joined_and_historied(standin, sm, mpscan, db_url, collect):
    client = sm[REGION]
    v1, v2 = make_group(client, "churn", 2, ModelApprovalStatus="Approved")
    client.update_model_package(ModelPackageArn=v2, ModelApprovalStatus="Rejected")
    make_model(client, "churn-v1", v1)
    make_model(client, "churn-v2", v2)
    make_model(client, "loose")
    live = make_endpoint(client, "live", ("main", "churn-v1", 0.9), ("canary", "loose", 0.1),
                         team="ml")  # fmt: skip
    card = make_card(client, "churn-card", "Approved", group="churn", risk="low")
    said = mpscan("scan", "--regions", REGION, "--db", db_url, "--collect", collect)
    assert said.exit_code == 0, said.stderr
    # 2 packages, a group, 3 models, a configuration, an endpoint and a card: all new
    assert "2 model packages, 1 model package groups, 1 endpoints stored (9 new, 0 removed)" in (
        said.stdout
    )

    assert production(db_url) == [
        ("live", "canary", 0.1, "loose", None, None),
        ("live", "main", 0.9, "churn-v1", 1, "Approved"),
    ]
    [(source,)] = query(db_url, "SELECT DISTINCT record_source FROM endpoints")
    assert source == collect
    counts = query(
        db_url, "SELECT models, endpoint_configs, endpoints, model_cards FROM scan_regions"
    )
    assert counts == [(3, 1, 1, 1)]
    assert query(db_url, "SELECT endpoint_status, tags FROM endpoints")[0][0] == "InService"
    cards = query(
        db_url, "SELECT model_card_arn, model_card_status, risk_rating, "
        "model_package_group_name FROM model_cards"
    )  # fmt: skip
    assert cards == [(card, "Approved", "low", "churn")]
    [(package,)] = query(
        db_url, "SELECT model_package_arn FROM model_containers WHERE model_package_arn "
        "IS NOT NULL AND model_arn LIKE '%churn-v1'"
    )  # fmt: skip
    assert package == v1
    engine = create_engine(db_url)
    with engine.connect() as conn:
        columns = list(conn.execute(text("SELECT * FROM deployments")).keys())
    engine.dispose()
    assert columns == [c.name for c in DEPLOYMENTS.columns]  # as mpscan schema says

    scan(mpscan, db_url, collect)
    assert diff(mpscan, db_url) == []  # nothing changed in AWS, nothing recorded

    # the canary switches to the rejected version, and the weights change
    make_config(client, "live-next", ("main", "churn-v1", 0.5), ("canary", "churn-v2", 0.5))
    client.update_endpoint(EndpointName="live", EndpointConfigName="live-next")
    client.delete_model(ModelName="loose")
    scan(mpscan, db_url, collect)
    assert production(db_url) == [
        ("live", "canary", 0.5, "churn-v2", 2, "Rejected"),
        ("live", "main", 0.5, "churn-v1", 1, "Approved"),
    ]
    by = {(c["resource_arn"].rsplit("/", 1)[1], c["change"], c["field"]): c
          for c in diff(mpscan, db_url)}  # fmt: skip
    switched = by[("live", "modified", "endpoint_config_name")]
    assert (switched["old"], switched["new"]) == ("live-config", "live-next")
    canary = by[("live", "modified", "serves:canary")]  # the variant switched versions
    assert (canary["old"], canary["new"]) == (["model loose"], [v2])
    assert ("live", "modified", "serves:main") not in by  # still version 1
    weights = by[("live", "modified", "production_variants")]
    assert [v["CurrentWeight"] for v in weights["new"]] == [0.5, 0.5]
    assert ("live-next", "added", None) in by and ("loose", "removed", None) in by
    assert by[("live", "modified", "endpoint_config_name")]["resource_arn"] == live
    removed = query(db_url, "SELECT resource_type FROM removed_resources")
    assert removed == [("model",)]


def test_values_as_long_as_botocore_allows_are_stored(standin, sm, mpscan, db_url):
    client = sm[REGION]
    name = "m" * 63
    [version] = make_group(client, "g" * 63, 1)
    make_model(client, name, version, Containers=[{
        "Image": "i" * 255, "Environment": {"K" * 1024: "\u00e9\u2603" * 500},
        "ModelDataUrl": "s3://" + "b" * 1019,
    }])  # fmt: skip
    make_endpoint(client, "e" * 63, ("v" * 63, name, 1.0))
    make_card(client, "c" * 63, "PendingReview", group="g" * 63, risk="x" * 5000)
    scan(mpscan, db_url, "describe")
    assert query(db_url, "SELECT count(*) FROM deployments") == [(2,)]
    [(risk,)] = query(db_url, "SELECT risk_rating FROM model_cards")
    assert risk == "x" * 5000


def readme_queries() -> list[str]:
    import shlex
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("### What is in production", 1)[1].split("\n### ", 1)[0]
    return [
        shlex.split(line)[2] for line in section.splitlines() if line.startswith("mpscan query")
    ]


def test_the_readme_queries_answer_what_they_say(standin, sm, mpscan, db_url):
    client = sm[REGION]
    old, rejected, latest = make_group(client, "churn", 3, ModelApprovalStatus="Approved")
    client.update_model_package(ModelPackageArn=rejected, ModelApprovalStatus="Rejected")
    make_model(client, "old", old)
    make_model(client, "bad", rejected)
    make_model(client, "new", latest)
    make_endpoint(client, "stale", ("main", "old", 1.0))
    make_endpoint(client, "risky", ("main", "bad", 1.0))
    make_endpoint(client, "good", ("main", "new", 1.0))
    scan(mpscan, db_url)
    not_approved, older = readme_queries()

    answered = mpscan("query", not_approved, "--db", db_url, "--format", "json")
    assert answered.exit_code == 0, answered.stderr
    assert [(r["endpoint_name"], r["model_approval_status"]) for r in json.loads(
        answered.stdout)] == [("risky", "Rejected")]  # fmt: skip
    answered = mpscan("query", older, "--db", db_url, "--format", "json")
    assert answered.exit_code == 0, answered.stderr
    rows = json.loads(answered.stdout)
    assert sorted((r["endpoint_name"], r["model_package_version"], r["latest_approved_version"])
                  for r in rows) == [("risky", 2, 3), ("stale", 1, 3)]  # fmt: skip


def test_prune_keeps_the_scans_what_is_in_production_points_to(standin, sm, mpscan, db_url):
    from tests.support import make_unversioned

    client = sm[REGION]
    package = make_unversioned(client, "p")
    scan(mpscan, db_url)
    make_model(client, "m", package)  # first seen by scan 2, which nothing else points to
    make_endpoint(client, "e", ("main", "m", 1.0))
    scan(mpscan, db_url)
    scan(mpscan, db_url)
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE scans SET started_at = '2020-01-01 00:00:00+00'"))
    engine.dispose()
    result = mpscan("prune", "--older-than", "30d", "--db", db_url)
    assert result.exit_code == 0, result.stderr
    assert query(db_url, "SELECT first_seen_scan_id FROM models") == [(2,)]
    assert query(db_url, "SELECT id FROM scans ORDER BY id") == [(1,), (2,), (3,)]
    assert production(db_url) == [("e", "main", 1.0, "m", None, None)]


def test_the_html_report_shows_what_is_in_production(standin, sm, mpscan, db_url):
    from html.parser import HTMLParser
    from pathlib import Path

    client = sm[REGION]
    [version] = make_group(client, "churn", 1, ModelApprovalStatus="Rejected")
    make_model(client, "churn-v1", version)
    make_model(client, "<b>loose</b>")  # model names are AWS's text: shown, never markup
    make_endpoint(client, "live", ("main", "churn-v1", 0.8), ("side", "<b>loose</b>", 0.2))
    scan(mpscan, db_url)
    result = mpscan("report", "--db", db_url, "--output", "report.html")
    assert result.exit_code == 0, result.stderr
    html = Path("report.html").read_text()
    section = html.split('<section id="production">', 1)[1].split("</section>", 1)[0]

    class Text(HTMLParser):
        def __init__(self):
            super().__init__()
            self.parts: list[str] = []

        def handle_data(self, data):
            if data.strip():
                self.parts.append(data.strip())

    text = Text()
    text.feed(section)
    shown = " ".join(text.parts)
    assert "In production" in shown and "live" in shown and "1 critical" in shown
    assert "main 0.8 churn-v1" in shown and "Rejected" in shown
    assert "side 0.2 <b>loose</b> none: not from the registry" in shown
    assert "<b>loose" not in section  # escaped
    # The endpoint and its models open their pages in the AWS console, in a new tab.
    console = r'<a class="console" href="([^"]+)" target="_blank" rel="noopener noreferrer"'
    links = re.findall(console, section)
    home = f"https://{REGION}.console.aws.amazon.com/sagemaker/home?region={REGION}"
    assert links == [
        f"{home}#/endpoints/live",
        f"{home}#/models/churn-v1",
        f"{home}#/models/%3Cb%3Eloose%3C%2Fb%3E",  # AWS's text, quoted
    ]


@pytest.mark.parametrize(
    ("arn", "kind", "name", "page"),
    [
        ("arn:aws:sagemaker:eu-west-1:123456789012:endpoint/live", "endpoint", "Live",
         "https://eu-west-1.console.aws.amazon.com/sagemaker/home?region=eu-west-1#/endpoints/Live"),
        ("arn:aws-cn:sagemaker:cn-north-1:123456789012:endpoint/live", "endpoint-config", "c",
         "https://cn-north-1.console.amazonaws.cn/sagemaker/home?region=cn-north-1#/endpointConfig/c"),
        ("arn:aws-us-gov:sagemaker:us-gov-west-1:123456789012:model/m", "model", "m",
         "https://console.amazonaws-us-gov.com/sagemaker/home?region=us-gov-west-1#/models/m"),
        ("arn:aws-iso:sagemaker:us-iso-east-1:123456789012:model/m", "model", "m", None),
        ("arn:aws:sagemaker:us-east-1:123456789012:model-package/g/1", "model-package", "g", None),
        ("arn:aws:s3:::bucket", "model", "m", None),
        (None, "endpoint", "e", None),
    ],
)  # fmt: skip
def test_console_pages_exist_for_what_the_console_shows(arn, kind, name, page):
    """The console's page of an endpoint, configuration or model, in the ARN's partition and
    region (the name as given: ARNs lower-case it); none for the registry's resources, whose
    pages are in SageMaker Studio, nor where the partition has no console mpscan knows."""
    from scanner.reports.console import console_page

    assert console_page(arn, kind, name) == page

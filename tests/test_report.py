"""`mpscan report`: every format from a real scan of the stand-in, on SQLite and PostgreSQL;
CSV injection, hostile text in the HTML, waivers, --scan, templates, errors."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from scanner.reports.data import COLUMNS
from tests.report_support import FORMULA, IMG, SCRIPT, hostile_registry, write_config

WAIVERS = """
[[waivers]]
rule = "MP-001"
resource = "arn:aws:sagemaker:us-east-1:123456789012:model-package/plain/1"
reason = "Legacy <b>model</b>, re-registered in Q1"
owner = "ml-platform@example.com"
expires = 2099-12-31

[[waivers]]
rule = "MP-001"
resource = "arn:aws:sagemaker:us-east-1:123456789012:model-package/plain/2"
reason = "Was fine for a while"
owner = "old-team@example.com"
expires = 2020-01-31

[[waivers]]
rule = "MP-001"
resource = "arn:aws:sagemaker:*:123456789012:model-package/gone-*"
reason = "Nothing matches this"
owner = "nobody@example.com"
expires = 2099-12-31
"""


def scan(mpscan, db_url):
    result = mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q")
    assert result.exit_code == 0, result.stderr


def report(mpscan, db_url, fmt, *extra):
    result = mpscan("report", "--format", fmt, "--db", db_url, *extra)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_csv_has_the_documented_columns_and_neutralises_formulas(standin, sm, mpscan, db_url):
    write_config(db_url=db_url)
    arns = hostile_registry(sm)
    scan(mpscan, db_url)
    text = report(mpscan, db_url, "csv")
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == COLUMNS
    assert COLUMNS[:7] == (
        "rule_id",
        "severity",
        "status",
        "resource_arn",
        "account_id",
        "region",
        "message",
    )
    found = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    formula = [
        f for f in found if f["rule_id"] == "ORG-001" and f["resource_arn"] in arns["formula"]
    ]
    assert [f["message"] for f in formula] == ["'" + FORMULA]
    assert all(not f["message"].startswith(("=", "+", "-", "@", "\t", "\r")) for f in found)
    assert {f["status"] for f in found} <= {"fail", "pass", "error", "waived"}
    no_kms = {f["resource_arn"] for f in found if f["rule_id"] == "MP-001"}
    assert no_kms == {a for group in arns.values() for a in group}
    assert all(f["account_id"] == "123456789012" and f["region"] == "us-east-1" for f in found)
    assert all(f["change"] == "new" for f in found)
    hostile = next(f for f in found if f["rule_id"] == "ORG-001" and SCRIPT in f["message"])
    assert hostile["message"] == SCRIPT  # CSV carries text as it is: no HTML escaping


def test_json_report_has_the_documented_fields(standin, sm, mpscan, db_url):
    write_config(db_url=db_url)
    hostile_registry(sm)
    scan(mpscan, db_url)
    doc = json.loads(report(mpscan, db_url, "json"))
    assert doc["schema_version"] == 1
    assert set(doc) == {
        "schema_version",
        "generator",
        "generated_at",
        "scan",
        "summary",
        "coverage",
        "waivers",
        "rule_errors",
        "rules",
        "findings",
    }
    assert doc["scan"]["id"] == 1 and doc["scan"]["status"] == "complete"
    assert doc["scan"]["latest"] is True and doc["scan"]["previous_scan_id"] is None
    summary = doc["summary"]
    assert summary["total"] == len(doc["findings"]) > 0
    assert sum(summary["by_status"].values()) == summary["total"]
    assert list(summary["by_severity"]) == ["critical", "high", "medium", "low", "info"]
    per_rule = {}
    for f in doc["findings"]:
        assert set(f) == set(COLUMNS)
        per_rule[f["rule_id"]] = per_rule.get(f["rule_id"], 0) + 1
    assert {r: sum(c.values()) for r, c in summary["by_rule"].items()} == per_rule
    assert summary["by_account"]["123456789012"]["fail"] == summary["by_status"]["fail"]
    assert set(summary["by_region"]) == {"us-east-1"}
    assert summary["changes"] == {
        "new": summary["total"],
        "regressed": 0,
        "resolved": 0,
        "changed": 0,
    }
    assert doc["coverage"] == [
        {
            "account_id": "123456789012",
            "region": "us-east-1",
            "status": "complete",
            "packages": 5,
            "groups": 3,
            "started_at": doc["coverage"][0]["started_at"],
            "finished_at": doc["coverage"][0]["finished_at"],
            "error_kind": None,
            "error_code": None,
            "error_message": None,
        }
    ]
    rules = {r["id"]: r for r in doc["rules"]}
    assert {"MP-001", "MPG-001", "ORG-001"} <= set(rules)
    assert rules["MP-001"]["rationale"] and rules["MP-001"]["remediation_cli"].startswith("aws ")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z", doc["findings"][0]["first_seen_at"])
    severities = [f["severity"] for f in doc["findings"] if f["status"] == "fail"]
    order = ["critical", "high", "medium", "low", "info"]
    assert severities == sorted(severities, key=order.index)  # worst first


SARIF_SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())


def sarif_errors(doc: dict) -> list[str]:
    """What the official SARIF 2.1.0 schema (OASIS, errata01; tests/data/README.md) says."""
    import jsonschema

    validator = jsonschema.Draft4Validator(SARIF_SCHEMA)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]


def github_limits(doc: dict) -> None:
    """GitHub code scanning's hard limits (docs.github.com: SARIF results exceed limit)."""
    assert len(doc["runs"]) <= 20
    for run in doc["runs"]:
        assert len(run["results"]) <= 25_000
        assert len(run["tool"]["driver"]["rules"]) <= 25_000
        assert len(run["tool"].get("extensions", [])) <= 100
        for rule in run["tool"]["driver"]["rules"]:
            assert len(rule["properties"].get("tags", [])) <= 20
            assert 0.0 < float(rule["properties"]["security-severity"]) <= 10.0
        for res in run["results"]:
            assert len(res["locations"]) <= 1000
            for loc in res["locations"]:
                uri = loc["physicalLocation"]["artifactLocation"]["uri"]
                assert ":" not in uri and not uri.startswith("/")  # relative: no scheme
            assert res["partialFingerprints"]["primaryLocationLineHash"]
            if res["kind"] != "fail":
                assert res["level"] == "none"  # SARIF 2.1.0 §3.27.10


def test_sarif_report_structure(standin, sm, mpscan, db_url):
    """The SARIF 2.1.0 structure code-scanning viewers need, validated by the official
    schema and GitHub's documented limits."""
    write_config(WAIVERS, db_url)
    arns = hostile_registry(sm)
    scan(mpscan, db_url)
    doc = json.loads(report(mpscan, db_url, "sarif"))
    assert sarif_errors(doc) == []
    github_limits(doc)
    again = json.loads(report(mpscan, db_url, "sarif"))
    fingerprints = [r["partialFingerprints"] for r in doc["runs"][0]["results"]]
    assert fingerprints == [r["partialFingerprints"] for r in again["runs"][0]["results"]]
    assert len({f["primaryLocationLineHash"] for f in fingerprints}) == len(fingerprints)
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-schema-2.1.0.json")
    [run] = doc["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "mpscan" and driver["version"]
    rules = driver["rules"]
    for r in rules:
        assert r["id"] and r["name"] and r["shortDescription"]["text"]
        assert r["fullDescription"]["text"] and "aws " in r["help"]["text"]
        assert float(r["properties"]["security-severity"]) > 0
        assert r["defaultConfiguration"]["level"] in ("error", "warning", "note")
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = run["results"]
    assert results
    for res in results:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"] and res["ruleId"] in index
        assert res["level"] in ("error", "warning", "note", "none")
        assert res["message"]["text"]
        [loc] = res["locations"]
        arn = loc["logicalLocations"][0]["fullyQualifiedName"]
        assert arn.startswith("arn:aws:sagemaker:us-east-1:123456789012:")
        where = loc["physicalLocation"]["artifactLocation"]
        assert where["uriBaseId"] == "AWS_RESOURCES"
        assert where["uri"] == "123456789012/us-east-1/" + arn.split(":", 5)[5]
        assert res["partialFingerprints"]
    mp001 = [r for r in results if r["ruleId"] == "MP-001"]
    assert all(r["level"] == "error" for r in mp001)  # high
    waived = [r for r in results if "suppressions" in r]
    assert len(waived) == 1
    assert (
        waived[0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == (arns["plain"][0])
    )
    [suppression] = waived[0]["suppressions"]
    assert suppression["kind"] == "external" and "Legacy" in suppression["justification"]
    assert "ml-platform@example.com" in suppression["justification"]


def test_waived_expired_and_stale_waivers_are_reported(standin, sm, mpscan, db_url):
    write_config(WAIVERS, db_url)
    arns = hostile_registry(sm)
    scan(mpscan, db_url)
    doc = json.loads(report(mpscan, db_url, "json"))
    mp001 = {f["resource_arn"]: f for f in doc["findings"] if f["rule_id"] == "MP-001"}
    waived = mp001[arns["plain"][0]]
    assert waived["status"] == "waived"
    assert waived["waiver_reason"] == "Legacy <b>model</b>, re-registered in Q1"
    assert waived["waiver_owner"] == "ml-platform@example.com"
    assert waived["waiver_expires"] == "2099-12-31"
    expired = mp001[arns["plain"][1]]
    assert expired["status"] == "fail" and "expired 2020-01-31" in expired["message"]
    assert [w["owner"] for w in doc["waivers"]["expired"]] == ["old-team@example.com"]
    assert [w["resource"] for w in doc["waivers"]["stale"]] == [
        "arn:aws:sagemaker:*:123456789012:model-package/gone-*"
    ]
    assert doc["summary"]["by_status"]["waived"] == 1

    page = Path("mpscan-report.html")
    result = mpscan("report", "--db", db_url)
    assert result.exit_code == 0, result.stderr
    assert "mpscan-report.html" in result.stderr
    html = page.read_text()
    expired_part = html.split('id="expired-waivers"', 1)[1].split("</div>", 1)[0]
    assert "old-team@example.com" in expired_part and "expired 2020-01-31" in expired_part
    stale_part = html.split('id="stale-waivers"', 1)[1].split("</div>", 1)[0]
    assert "model-package/gone-*" in stale_part and "nobody@example.com" in stale_part
    # The waived finding's reason travels in the table data, escaped for a script block.
    assert "Legacy \\u003cb\\u003emodel\\u003c/b\\u003e, re-registered in Q1" in html


def test_html_is_self_contained_and_hostile_text_is_inert(standin, sm, mpscan, db_url):
    write_config(db_url=db_url)
    hostile_registry(sm)
    scan(mpscan, db_url)
    result = mpscan("report", "--db", db_url, "--output", "out/report.html")
    assert result.exit_code == 1 and "cannot write out/report.html" in result.stderr
    Path("out").mkdir()
    result = mpscan("report", "--db", db_url, "--output", "out/report.html")
    assert result.exit_code == 0, result.stderr
    assert "could not run" not in result.stderr
    html = Path("out/report.html").read_text()
    # No network: nothing is fetched from anywhere.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "@import" not in html and "url(" not in html
    assert "default-src 'none'" in html
    # The hostile text is never markup: not in the page, not in the data block.
    assert "<script>window.__pwned" not in html and "<img" not in html
    assert html.count("<script") == 5  # four JSON data blocks and the page's own script
    data = html.split('id="findings-data">', 1)[1].split("</script>", 1)[0]
    rows = json.loads(data)
    assert any(SCRIPT in r[COLUMNS.index("message")] for r in rows)
    assert any(IMG in r[COLUMNS.index("message")] for r in rows)
    for part in ("summary", "changes", "coverage", "waivers", "findings", "rules"):
        assert f'<section id="{part}">' in html
    assert 'id="rule-MP-001"' in html and "aws sagemaker create-model-package" in html


def test_report_of_an_older_scan_shows_that_scans_state(standin, sm, mpscan, db_url):
    write_config(db_url=db_url)
    arns = hostile_registry(sm)
    scan(mpscan, db_url)
    first = json.loads(report(mpscan, db_url, "json"))
    gone = arns["plain"][0]
    sm["us-east-1"].delete_model_package(ModelPackageName=gone)
    scan(mpscan, db_url)

    latest = json.loads(report(mpscan, db_url, "json"))
    assert latest["scan"]["id"] == 2 and latest["scan"]["previous_scan_id"] == 1
    resolved = [f for f in latest["findings"] if f["resource_arn"] == gone]
    assert resolved and all(f["status"] == "pass" for f in resolved)
    assert all(f["change"] == "resolved" and f["resolved_at"] for f in resolved)
    assert latest["summary"]["changes"]["resolved"] == len(resolved)
    assert latest["summary"]["changes"]["new"] == 0
    assert {f["change"] for f in latest["findings"] if f["status"] != "pass"} == {"open"}

    old = json.loads(report(mpscan, db_url, "json", "--scan", "1"))
    assert old["scan"]["id"] == 1 and old["scan"]["latest"] is False
    assert old["summary"] == first["summary"]
    as_of_1 = [f for f in old["findings"] if f["resource_arn"] == gone]
    assert len(as_of_1) == len(resolved)
    assert all(f["status"] == "fail" and f["change"] == "new" for f in as_of_1)
    assert all(f["resolved_at"] is None for f in as_of_1)
    assert old["summary"]["by_status"]["pass"] == 0

    result = mpscan("report", "--format", "csv", "--db", db_url, "--scan", "9")
    assert result.exit_code == 2 and "no scan 9" in result.stderr


def test_templates_folder_overrides_a_builtin_template(standin, sm, mpscan):
    write_config('\n[report]\ntemplates = "mine"\n')
    Path("mine").mkdir()
    Path("mine/_header.html").write_text(
        "<h1>Team report {{ scan.id }} {{ '<i>escaped</i>' }}</h1>\n"
    )
    hostile_registry(sm)
    scan(mpscan, "sqlite:///r.db")
    result = mpscan("report", "--db", "sqlite:///r.db", "-o", "r.html")
    assert result.exit_code == 0, result.stderr
    html = Path("r.html").read_text()
    assert "<h1>Team report 1 &lt;i&gt;escaped&lt;/i&gt;</h1>" in html
    assert '<section id="rules">' in html  # the other templates are the built-in ones


def test_report_without_a_database_is_one_line_exit_1(standin, mpscan):
    result = mpscan("report", "--format", "json", "--db", "sqlite:///missing.db")
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "no database" in lines[0]
    assert result.stdout == "" and not Path("missing.db").exists()


def test_sarif_keeps_to_githubs_result_limit(standin, sm, mpscan, tmp_path):
    """More open findings than GitHub accepts in a run: the worst 25,000 are written (the
    stream comes worst first) and the rest counted; the file still validates."""
    from scanner.app import reporting as report_data
    from scanner.app.judging import judge_and_persist
    from scanner.config import Settings
    from scanner.reports import sarif
    from scanner.rules import catalog
    from scanner.store.db import make_engine

    db = f"sqlite:///{tmp_path / 'inventory.db'}"
    hostile_registry(sm)
    scan(mpscan, db)
    engine = make_engine(db)
    try:
        rules = catalog.load(Settings())
        evaluation = judge_and_persist(engine, rules)
        data = report_data.load(engine, 1, latest=True, catalog=rules, evaluation=evaluation)
        [one] = list(
            report_data.iter_findings(
                engine, 1, latest=True, rule_ids=["MP-001"], titles=data.rule_titles()
            )
        )[:1]
    finally:
        engine.dispose()
    many = (
        {**one, "resource_arn": f"{one['resource_arn']}-{i}"} for i in range(sarif.MAX_RESULTS + 7)
    )
    out = io.StringIO()

    written = sarif.write(out, data, many)

    doc = json.loads(out.getvalue())
    assert written == sarif.MAX_RESULTS == len(doc["runs"][0]["results"])
    assert doc["runs"][0]["invocations"][0]["properties"]["results_left_out"] == 7
    github_limits(doc)
    assert sarif_errors(doc) == []


def test_the_trend_is_each_scan_s_open_findings_as_its_own_report_says(standin, sm, mpscan, db_url):
    from scanner.rules import catalog
    from scanner.settings_check import load_checked_settings
    from scanner.store.db import make_engine
    from scanner.store.read.trend import trend

    write_config()
    registry = hostile_registry(sm, plain_packages=4)
    assert mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q").exit_code == 0
    for arn in registry["plain"][:2]:
        sm["us-east-1"].delete_model_package(ModelPackageName=arn)
    assert mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q").exit_code == 0
    rules = [r.id for r in catalog.load(load_checked_settings(None)).enabled()]
    engine = make_engine(db_url)
    try:
        points = trend(engine, 2, rules)
    finally:
        engine.dispose()

    assert [p.scan_id for p in points] == [1, 2]
    for point in points:
        result = mpscan("report", "--db", db_url, "--format", "json", "--scan", str(point.scan_id))
        by_severity = json.loads(result.stdout)["summary"]["by_severity"]
        assert point.open == {sev: counts["fail"] for sev, counts in by_severity.items()}
    assert sum(points[1].open.values()) < sum(points[0].open.values())
    assert points[1].resolved > 0 and points[0].opened > 0


def test_a_report_per_framework_control(standin, sm, mpscan, db_url):
    from scanner.rules.frameworks import FRAMEWORKS

    write_config()
    hostile_registry(sm, plain_packages=2)
    assert mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q").exit_code == 0

    result = mpscan("report", "--db", db_url, "--format", "json", "--framework", "nist-ai-rmf")

    assert result.exit_code == 0, result.stderr
    section = json.loads(result.stdout)["framework"]
    assert section["name"] == "NIST AI Risk Management Framework 1.0"
    assert section["url"] == "https://doi.org/10.6028/NIST.AI.100-1"
    controls = {c["id"]: c for c in section["controls"]}
    assert set(controls) == set(FRAMEWORKS["nist-ai-rmf"].controls)
    security = controls["MEASURE 2.7"]  # MP-001: the packages have no KMS key
    assert security["status"] == "failing"
    assert {"id": "MP-001", "title": "Model package has no KMS key", "severity": "high",
            "open": 4, "error": 0} in security["rules"]  # fmt: skip
    html = mpscan("report", "--db", db_url, "--framework", "eu-ai-act", "--output", "eu.html")
    assert html.exit_code == 0
    page = Path("eu.html").read_text()
    assert "Regulation (EU) 2024/1689" in page and "Art. 15" in page
    bad = mpscan("report", "--db", db_url, "--framework", "gdpr")
    assert bad.exit_code == 2 and "gdpr" in bad.stderr


def test_a_report_per_aws_ml_lens_best_practice(standin, sm, mpscan, db_url):
    """AWS's own framework: the Well-Architected Machine Learning Lens's best practices."""
    from scanner.rules.frameworks import FRAMEWORKS

    write_config()
    registry = hostile_registry(sm, plain_packages=2)
    assert mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q").exit_code == 0

    result = mpscan("report", "--db", db_url, "--format", "json", "--framework", "aws-ml-lens")

    assert result.exit_code == 0, result.stderr
    section = json.loads(result.stdout)["framework"]
    assert section["name"] == "AWS Well-Architected Machine Learning Lens"
    assert section["url"].startswith("https://docs.aws.amazon.com/wellarchitected/latest/")
    controls = {c["id"]: c for c in section["controls"]}
    assert set(controls) == set(FRAMEWORKS["aws-ml-lens"].controls)
    packages = sum(len(arns) for arns in registry.values())
    encryption = controls["MLSEC02-BP01"]  # MP-001: no package has a KMS key
    assert encryption["status"] == "failing"
    assert {"id": "MP-001", "title": "Model package has no KMS key", "severity": "high",
            "open": packages, "error": 0} in encryption["rules"]  # fmt: skip
    lineage = controls["MLSEC03-BP04"]["rules"]
    assert [r["id"] for r in lineage] == ["MP-011"]


def test_every_mapping_names_a_control_of_a_sourced_framework():
    from scanner.rules import catalog  # noqa: F401 - registers the built-in rules
    from scanner.rules.base import REGISTRY, Rule, RuleDefinitionError
    from scanner.rules.frameworks import FRAMEWORKS

    for fw in FRAMEWORKS.values():
        assert fw.url.startswith("https://") and fw.source and fw.controls
    mapped = {c for r in REGISTRY.values() for c in r.controls}
    assert mapped == {(f.id, c) for f in FRAMEWORKS.values() for c in f.controls}  # none idle
    wrong = Rule(**{**REGISTRY["MP-001"].__dict__, "controls": (("nist-ai-rmf", "GOVERN 9.9"),)})
    with pytest.raises(RuleDefinitionError, match="nist-ai-rmf GOVERN 9.9"):
        wrong.validate()


def test_cyclonedx_ml_bom_is_valid_for_cyclonedx_and_lists_each_package(
    standin, sm, mpscan, db_url
):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    write_config()
    registry = hostile_registry(sm, plain_packages=2)
    assert mpscan("scan", "--regions", "us-east-1", "--db", db_url, "-q").exit_code == 0

    result = mpscan("report", "--db", db_url, "--format", "cyclonedx")

    assert result.exit_code == 0, result.stderr
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(result.stdout)
    assert errors is None, errors
    bom = json.loads(result.stdout)
    models = [c for c in bom["components"] if c["type"] == "machine-learning-model"]
    arns = sorted(arn for arns in registry.values() for arn in arns)
    assert sorted(c["bom-ref"] for c in models) == arns
    hostile = next(c for c in models if c["bom-ref"] == registry["hostile"][0])
    assert hostile["description"] == SCRIPT  # text from AWS stays text (JSON-escaped)
    props = {p["name"]: p["value"] for p in hostile["properties"]}
    assert props["mpscan:region"] == "us-east-1" and "mpscan:approval_status" not in props
    images = [c for c in bom["components"] if c["type"] == "container"]
    assert images and all(c["bom-ref"].startswith("image:") for c in images)
    depends = {d["ref"]: d.get("dependsOn", []) for d in bom["dependencies"]}
    assert depends[hostile["bom-ref"]] == [images[0]["bom-ref"]]

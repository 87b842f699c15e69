"""Test support for the report tests: a stand-in registry with hostile text, its config."""

from __future__ import annotations

from pathlib import Path

from tests.support import make_group

SCRIPT = "<script>window.__pwned=1</script>"
IMG = '"><img src=x onerror="window.__pwned=2">'
FORMULA = '=HYPERLINK("http://evil.example/x","click")'

# Custom SQL rules that put AWS text (a description, a tag value) into finding messages,
# as a team's own rules do: the report must carry it as inert text.
RULES = """
[[rules.custom]]
id = "ORG-001"
title = "Description under review"
severity = "high"
resource_type = "model_package"
rationale = "Descriptions are reviewed."
remediation = "Edit the description."
remediation_cli = "aws sagemaker update-model-package --model-package-arn <arn>"
sql = '''SELECT model_package_arn AS resource_arn, model_package_description AS message
         FROM model_packages WHERE model_package_description IS NOT NULL'''

[[rules.custom]]
id = "ORG-002"
title = "Tags under review"
severity = "low"
resource_type = "model_package"
rationale = "Tags are reviewed."
remediation = "Edit the tags."
remediation_cli = "aws sagemaker add-tags --resource-arn <arn> --tags Key=k,Value=v"
sql = '''SELECT model_package_arn AS resource_arn, 'team tag: ' || (TAG_VALUE) AS message
         FROM model_packages WHERE (TAG_VALUE) IS NOT NULL'''
"""


TAG_VALUE = {"sqlite": "json_extract(tags, '$[0].Value')", "postgresql": "tags->0->>'Value'"}


def write_config(extra: str = "", db_url: str = "sqlite://") -> None:
    dialect = "postgresql" if db_url.startswith("postgresql") else "sqlite"
    Path("mpscan.toml").write_text(RULES.replace("TAG_VALUE", TAG_VALUE[dialect]) + extra)


def hostile_registry(sm, *, plain_packages: int = 3) -> dict[str, list[str]]:
    """Packages in us-east-1: one with a <script> description and an <img> tag value, one
    whose description is a spreadsheet formula, and some plain ones (no KMS key, no tags)."""
    east = sm["us-east-1"]
    return {
        "hostile": make_group(
            east,
            "hostile",
            1,
            ModelPackageDescription=SCRIPT,
            Tags=[{"Key": "team", "Value": IMG}],
        ),
        "formula": make_group(east, "formula", 1, ModelPackageDescription=FORMULA),
        "plain": make_group(east, "plain", plain_packages),
    }

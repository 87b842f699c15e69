"""Built-in rules on model package groups (MPG-0xx): their resource policies."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from scanner.rules.base import GROUP, error, fail, rule

# Condition keys that tie a statement to known accounts, organisations or networks.
NARROWING_KEYS = {
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceip",
    "aws:userid",
}
ACCOUNT = re.compile(r"^(?:arn:aws[a-z-]*:(?:iam|sts)::)?(\d{12})(?::|$)")
READS = ("resource_policy", "resource_policy_status", "resource_policy_error", "owner_account_id")


def _unreadable(g: Mapping[str, Any]):
    """error() when the policy was not seen or not parsed, else None."""
    status = g.get("resource_policy_status")
    if status == "unknown":
        return error(f"the group's policy is unknown: {g.get('resource_policy_error')}")
    policy = g.get("resource_policy")
    if status == "present" and (not isinstance(policy, dict) or "unparsed" in policy):
        return error("the group's policy is not valid JSON")
    return None


def _allow_statements(policy: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    statements = policy.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    for s in statements:
        if isinstance(s, dict) and s.get("Effect") == "Allow":
            yield s


def _aws_principals(statement: Mapping[str, Any]) -> list[str]:
    if "NotPrincipal" in statement:
        return ["*"]  # Allow with NotPrincipal: everyone but the principals it names
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    if isinstance(principal, dict):
        aws = principal.get("AWS", [])
        return [aws] if isinstance(aws, str) else list(aws)
    return []


def _narrowing_operator(operator: str) -> bool:
    """Whether a condition operator can tie a statement to the values it names."""
    op = operator.lower().removeprefix("forallvalues:").removeprefix("foranyvalue:")
    if "not" in op:
        return False  # StringNotEquals, ArnNotLike, NotIpAddress: everyone else gets in
    if op.endswith("ifexists"):
        return False  # a request without the key passes the condition
    return op != "null"  # Null only asks whether the key is there, not whose it is


def _narrowed(statement: Mapping[str, Any]) -> bool:
    for operator, keys in (statement.get("Condition") or {}).items():
        if not _narrowing_operator(operator) or not isinstance(keys, dict):
            continue
        if any(k.lower() in NARROWING_KEYS for k in keys):
            return True
    return False


@rule(
    id="MPG-001",
    title="Group policy allows any principal",
    severity="critical",
    resource_type=GROUP,
    rationale="A statement that allows '*' without a condition tying it to your organisation "
    "or accounts lets any AWS account read (or change) the group's model packages.",
    remediation="Name the accounts that need access, or add a condition on aws:PrincipalOrgID.",
    remediation_cli="aws sagemaker put-model-package-group-policy --model-package-group-name "
    "<group> --resource-policy file://policy.json",
    controls=(
        ("nist-ai-rmf", "MEASURE 2.7"),
        ("eu-ai-act", "Art. 15"),
        ("soc2", "CC6.1"),
        ("aws-ml-lens", "MLSEC03-BP01"),  # least privilege over trained model artifacts
    ),
    reads=READS,
)
def public_policy(g, _):
    unreadable = _unreadable(g)
    if unreadable or g.get("resource_policy_status") != "present":
        return unreadable
    public = [
        s.get("Sid") or f"statement {i}"
        for i, s in enumerate(_allow_statements(g["resource_policy"]))
        if "*" in _aws_principals(s) and not _narrowed(s)
    ]
    if public:
        return fail("allows any principal with no narrowing condition: " + ", ".join(public))
    return None


@rule(
    id="MPG-002",
    title="Group policy grants an untrusted account",
    severity="high",
    resource_type=GROUP,
    rationale="Every account a group is shared with can read its models; only accounts you "
    "list as trusted (and the owner) should be there.",
    remediation="Remove the account from the policy, or add it to trusted_accounts after review.",
    remediation_cli="aws sagemaker put-model-package-group-policy --model-package-group-name "
    "<group> --resource-policy file://policy.json",
    controls=(
        ("nist-ai-rmf", "MEASURE 2.7"),
        ("soc2", "CC6.1"),
        ("aws-ml-lens", "MLSEC03-BP01"),  # least privilege over trained model artifacts
    ),
    reads=READS,
    params={"trusted_accounts": []},
)
def untrusted_account(g, params):
    unreadable = _unreadable(g)
    if unreadable or g.get("resource_policy_status") != "present":
        return unreadable
    trusted = set(params["trusted_accounts"]) | {g.get("owner_account_id")}
    granted = set()
    for statement in _allow_statements(g["resource_policy"]):
        for principal in _aws_principals(statement):
            match = ACCOUNT.match(principal)
            if match and match.group(1) not in trusted:
                granted.add(match.group(1))
    if granted:
        return fail("grants untrusted accounts: " + ", ".join(sorted(granted)))
    return None

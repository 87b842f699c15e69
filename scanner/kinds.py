"""The resource kinds mpscan inventories, each declared once: its table and key, its child
tables, the API calls that list it and fill its records (and so the IAM actions it needs),
and what its history compares.

Pure data, importing nothing of mpscan's: the collector (scanner.aws), the store's
promotion and history, the rules, `mpscan tables` and `mpscan iam-policy` (the README's
least-privilege policy) all read these declarations instead of naming a kind themselves.
A new kind is a get module in scanner/aws, its rows in scanner/transform, its tables in
scanner/store/schema.py, and one entry here; tests/test_kinds.py checks that each entry is
complete and agrees with the schema, botocore's service model and what a scan calls.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    name: str  # the resource type findings and staged documents carry
    noun: str  # how people read it: "model package"
    aws_type: str  # its CloudFormation type name, as exports name the resource
    table: str  # its table, one row per resource
    key: str  # the table's primary key: the resource's ARN
    children: tuple[str, ...]  # tables of its nested parts, keyed by `key`
    # SageMaker operations: what exists (the listing is the truth), then what fills a record
    lists: tuple[str, ...]
    fills: tuple[str, ...]
    # What history compares, from a stored row: its API members, its tags, its policy
    history: tuple[str, ...]
    counted_as: str  # the column of scan_regions (and a region's outcome) that counts it
    # Which call answers each column: `record` for most, `sources` (column, operation) for
    # the rest; what a rule reads says so which IAM actions its verdicts rest on.
    record: str = ""
    sources: tuple[tuple[str, str], ...] = ()
    # Search-based collection (`[scan] collect = "search"`): the Search `Resource` whose
    # records carry what `record` and ListTags answer; the calls still made per resource
    # (no bulk API has them); and the members of `record`'s answer that Search's record
    # lacks, filled only when a resource is described (docs/schema.md: describe-only).
    search: str = ""
    search_fills: tuple[str, ...] = ()
    search_lacks: tuple[str, ...] = ()
    # Columns a rule may read that no call about the resource answers: the judge makes them
    # from another kind's stored rows (column, that kind, the columns of it they read), so
    # what they rest on is that kind's listing and the calls filling those columns.
    derived: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    def operation_for(self, column: str) -> str:
        return dict(self.sources).get(column, self.record)

    def operations_for(self, column: str) -> tuple[str, ...]:
        """The calls that can answer a column: Search first where its records carry it."""
        for name, of, columns in self.derived:
            if name == column:
                other = BY_NAME[of]
                made = (op for c in columns for op in other.operations_for(c))
                return tuple(dict.fromkeys(other.lists + tuple(made)))
        operation = self.operation_for(column)
        searched = operation in (self.record, "ListTags") and column not in self.describe_only
        return ("Search", operation) if self.search and searched else (operation,)

    @property
    def describe_only(self) -> tuple[str, ...]:
        """The columns of `search_lacks` (botocore's snake_case, as scanner.transform)."""
        from botocore import xform_name  # here: the declarations load without botocore

        return tuple(xform_name(member) for member in self.search_lacks)

    @property
    def operations(self) -> tuple[str, ...]:
        searched = ("Search",) if self.search else ()
        return tuple(dict.fromkeys(self.lists + searched + self.fills))

    def calls(self, collect: str) -> tuple[str, ...]:
        """What a scan of a registry new to it calls for this kind, in a collection mode
        (search: where Search's index has caught up)."""
        if collect == "search" and self.search:
            return tuple(dict.fromkeys(self.lists + ("Search",) + self.search_fills))
        return tuple(dict.fromkeys(self.lists + self.fills))


MODEL_PACKAGE = Kind(
    name="model_package",
    noun="model package",
    aws_type="AWS::SageMaker::ModelPackage",
    table="model_packages",
    key="model_package_arn",
    children=(
        "model_package_containers",
        "model_package_tags",
        "model_package_validation_statuses",
        "model_package_metric_sources",
    ),
    lists=("ListModelPackages",),
    fills=("DescribeModelPackage", "ListTags"),
    history=("members", "tags"),
    counted_as="packages",
    record="DescribeModelPackage",
    sources=(("tags", "ListTags"),),
    search="ModelPackage",
    search_lacks=("ManagedStorageType",),
)

MODEL_PACKAGE_GROUP = Kind(
    name="model_package_group",
    noun="model package group",
    aws_type="AWS::SageMaker::ModelPackageGroup",
    table="model_package_groups",
    key="model_package_group_arn",
    children=("model_package_group_tags",),
    lists=("ListModelPackageGroups",),
    fills=("DescribeModelPackageGroup", "GetModelPackageGroupPolicy", "ListTags"),
    history=("members", "policy", "tags"),
    counted_as="groups",
    record="DescribeModelPackageGroup",
    sources=(
        ("resource_policy", "GetModelPackageGroupPolicy"),
        ("resource_policy_status", "GetModelPackageGroupPolicy"),
        ("resource_policy_error", "GetModelPackageGroupPolicy"),
        ("tags", "ListTags"),
        ("owner_account_id", "ListModelPackageGroups"),
    ),
    search="ModelPackageGroup",
    search_fills=("GetModelPackageGroupPolicy",),
    # its latest versions, newest first: [(version, approval status)], from model_packages
    derived=(
        (
            "latest_versions",
            "model_package",
            ("model_package_group_name", "model_package_version", "model_approval_status"),
        ),
    ),
    # Search's record lacks ManagedConfiguration, but a group's row takes it from the
    # listing's summary in either mode
)

# What is in production: the models endpoints serve, and the model cards documenting them.
MODEL = Kind(
    name="model",
    noun="model",
    aws_type="AWS::SageMaker::Model",
    table="models",
    key="model_arn",
    children=("model_containers",),
    lists=("ListModels",),
    fills=("DescribeModel", "ListTags"),
    history=("members", "tags"),
    counted_as="models",
    record="DescribeModel",
    sources=(("tags", "ListTags"),),
    search="Model",  # a ModelDashboardModel: the record is its Model, tags included
)

ENDPOINT_CONFIG = Kind(
    name="endpoint_config",
    noun="endpoint configuration",
    aws_type="AWS::SageMaker::EndpointConfig",
    table="endpoint_configs",
    key="endpoint_config_arn",
    children=("endpoint_config_variants",),
    lists=("ListEndpointConfigs",),
    fills=("DescribeEndpointConfig",),  # no bulk API answers it: one call a configuration
    history=("members",),
    counted_as="endpoint_configs",
    record="DescribeEndpointConfig",
)

ENDPOINT = Kind(
    name="endpoint",
    noun="endpoint",
    aws_type="AWS::SageMaker::Endpoint",
    table="endpoints",
    key="endpoint_arn",
    children=("endpoint_variants",),
    lists=("ListEndpoints",),
    fills=("DescribeEndpoint", "ListTags"),
    history=("members", "tags"),
    counted_as="endpoints",
    record="DescribeEndpoint",
    sources=(("tags", "ListTags"),),
    search="Endpoint",
    search_lacks=(
        "LastDeploymentConfig",
        "AsyncInferenceConfig",
        "PendingDeploymentSummary",
        "ExplainerConfig",
        "MetricsConfig",
        "CrossRegionTrafficConfig",
    ),
)

MODEL_CARD = Kind(
    name="model_card",
    noun="model card",
    aws_type="AWS::SageMaker::ModelCard",
    table="model_cards",
    key="model_card_arn",
    children=(),
    lists=("ListModelCards",),
    fills=("DescribeModelCard", "ListTags"),
    history=("members", "tags"),
    counted_as="model_cards",
    record="DescribeModelCard",
    sources=(("tags", "ListTags"),),
    search="ModelCard",
    search_lacks=("ModelCardProcessingStatus",),
)

KINDS: tuple[Kind, ...] = (
    MODEL_PACKAGE,
    MODEL_PACKAGE_GROUP,
    MODEL,
    ENDPOINT_CONFIG,
    ENDPOINT,
    MODEL_CARD,
)
BY_NAME = {k.name: k for k in KINDS}

# Calls a scan makes beyond the kinds', and when (IAM action -> why).
EXTRA_ACTIONS = {
    "ec2:DescribeRegions": "--regions all: the account's enabled regions",
}
# What reading a package encrypted with a customer managed key needs (DescribeModelPackage
# decrypts its model card), scoped to SageMaker's use of the key.
KMS_STATEMENT = {
    "Sid": "MpscanReadKmsProtectedPackages",
    "Effect": "Allow",
    "Action": ["kms:Decrypt", "kms:DescribeKey"],
    "Resource": "*",
    "Condition": {"StringLike": {"kms:ViaService": "sagemaker.*.amazonaws.com"}},
}


# What `mpscan export securityhub` needs in each account it imports findings into: its
# own default product, the only one an account imports its findings about itself into.
EXPORT_STATEMENT = {
    "Sid": "MpscanExportToSecurityHub",
    "Effect": "Allow",
    "Action": ["securityhub:BatchImportFindings"],
    "Resource": "arn:aws:securityhub:*:*:product/*/default",
}


def iam_actions() -> list[str]:
    """Every IAM action a scan needs, in the order the kinds declare them."""
    actions: list[str] = []
    for kind in KINDS:
        for operation in kind.operations:
            if f"sagemaker:{operation}" not in actions:
                actions.append(f"sagemaker:{operation}")
    return actions + list(EXTRA_ACTIONS)


def iam_policy() -> dict:
    """The least-privilege identity policy for the role mpscan scans with."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "MpscanReadModelRegistry",
                "Effect": "Allow",
                "Action": iam_actions(),
                "Resource": "*",
            },
            KMS_STATEMENT,
            EXPORT_STATEMENT,
        ],
    }

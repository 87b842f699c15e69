"""The SQL schema: SQLAlchemy 2 models. Alembic migrations are written from these.

Column names of `model_packages` follow the StackQL/CloudFormation resource
`awscc.sagemaker.model_packages` (so its documented SELECT runs here) and botocore's
`DescribeModelPackageOutput` (snake_case of each member). Objects and arrays are JSON
(JSONB on PostgreSQL) holding exactly what AWS returned, keys in AWS's PascalCase.
Every row carries the scan that last saw it.

No AWS value may be too long for its column (SQLite ignores lengths; PostgreSQL refuses):
a string from AWS is unbounded `Text`, except keys (ARNs, tag keys and values), whose
length is botocore's maximum for that member. tests/test_schema_drift.py checks both
against the installed botocore.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so migrations are reproducible across SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQL NULL (not JSON null) for an absent member, so `security_config IS NULL` means absent.
Json = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


class UtcDateTime(TypeDecorator):
    """A point in time, UTC and aware on both engines: PostgreSQL's timestamptz (normalised
    from the session's zone), and on SQLite the UTC wall time, which it keeps without an
    offset, given its zone back on reading. Nothing downstream re-attaches one."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(UTC)
        return value

    def coerce_compared_value(self, op, value):
        # `at - timedelta(...)` is timestamp arithmetic: the interval is not a timestamp
        return self.impl.coerce_compared_value(op, value)

    def process_result_value(self, value, dialect):
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value


Timestamp = UtcDateTime()
# SQLite only auto-increments INTEGER PRIMARY KEY, so BIGINT is PostgreSQL-only.
Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: Json, list[Any]: Json, datetime: Timestamp}


def _scan_fk(comment: str) -> Any:
    return mapped_column(ForeignKey("scans.id"), index=True, comment=comment)


class Scan(Base):
    """One run of `mpscan scan`."""

    __tablename__ = "scans"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(
        String(16), comment="running, complete, partial, failed or interrupted"
    )
    regions_requested: Mapped[list[Any] | None]
    packages_seen: Mapped[int] = mapped_column(default=0)
    groups_seen: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    mpscan_version: Mapped[str] = mapped_column(String(32))
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None]
    owner: Mapped[str | None] = mapped_column(
        String(64), comment="a random token of the run that holds this scan"
    )
    heartbeat_at: Mapped[datetime | None] = mapped_column(
        comment="refreshed while the scan runs; a running scan whose heartbeat is older than "
        "scan.stale_after_seconds is dead"
    )


class ScanRegion(Base):
    """The outcome of one scan in one account and region."""

    __tablename__ = "scan_regions"

    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    region: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(
        String(16), comment="running, complete, failed or interrupted"
    )
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    packages: Mapped[int] = mapped_column(default=0, comment="model packages stored")
    groups: Mapped[int] = mapped_column(default=0, comment="model package groups stored")
    models: Mapped[int] = mapped_column(default=0, server_default="0", comment="models stored")
    endpoint_configs: Mapped[int] = mapped_column(
        default=0, server_default="0", comment="endpoint configurations stored"
    )
    endpoints: Mapped[int] = mapped_column(
        default=0, server_default="0", comment="endpoints stored"
    )
    model_cards: Mapped[int] = mapped_column(
        default=0, server_default="0", comment="model cards stored"
    )
    added: Mapped[int] = mapped_column(
        default=0, server_default="0", comment="packages and groups new to the inventory"
    )
    removed: Mapped[int] = mapped_column(default=0, comment="rows that left the inventory")
    vanished: Mapped[int] = mapped_column(
        default=0, comment="resources deleted between their listing and their describe"
    )
    error_kind: Mapped[str | None] = mapped_column(
        String(32),
        comment="denied, throttled, unavailable, error (from AWS); store (a row the database "
        "refused); internal (a bug: see the log); interrupted",
    )
    error_code: Mapped[str | None] = mapped_column(Text)
    error_message: Mapped[str | None] = mapped_column(Text)
    collect: Mapped[str] = mapped_column(
        String(16),
        default="describe",
        server_default="describe",
        comment="how records were read: search (describing what Search lagged on) or describe",
    )
    collect_note: Mapped[str | None] = mapped_column(
        Text, comment="why a region asked to search was described instead (Search denied)"
    )
    searched: Mapped[int] = mapped_column(
        default=0, server_default="0", comment="resources filled from Search's records"
    )
    described: Mapped[int] = mapped_column(
        default=0,
        server_default="0",
        comment="resources read by describe calls (search mode: those Search lagged on)",
    )


_LAST_EVENT = (
    "registry_events.id of the event that last refreshed this row; null when the scan in "
    "last_seen_scan_id read it"
)
_EVENT = "registry_events.id when an event (not the scan itself) caused it; null for a scan"


class SeenMixin:
    """When a resource was first and last seen, and by which scans."""

    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    first_seen_scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"))
    last_seen_scan_id: Mapped[int] = _scan_fk("the scan that last saw this row")


class ModelPackage(SeenMixin, Base):
    """One model package (versioned or unversioned) present at the last complete listing."""

    __tablename__ = "model_packages"

    model_package_arn: Mapped[str] = mapped_column(String(2048), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(12), index=True)
    region: Mapped[str] = mapped_column(String(32), index=True)
    model_package_type: Mapped[str] = mapped_column(
        String(16), comment="Versioned (in a group) or Unversioned"
    )
    kms_key_id: Mapped[str | None] = mapped_column(
        String(2048), comment="security_config.KmsKeyId, lifted out for plain SQL"
    )
    # `json`, not `jsonb`, on PostgreSQL: read by the judge at every evaluation, and `jsonb`
    # turned into text costs the server about 6 µs a package (0.6 s per 100,000).
    container_images: Mapped[list[Any] | None] = mapped_column(
        JSON(none_as_null=True),
        comment="every container's image, as model_package_containers lists them: "
        "[{specification, specification_name, container_index, image, image_digest}]",
    )
    tags: Mapped[list[Any] | None] = mapped_column(comment="ListTags: [{Key, Value}]")
    # The StackQL resource's fields that AWS never returns from DescribeModelPackage.
    client_token: Mapped[str | None] = mapped_column(String(36), comment="create-only; null")
    additional_inference_specifications_to_add: Mapped[list[Any] | None] = mapped_column(
        comment="update-only; null"
    )
    # DescribeModelPackageOutput, member by member.
    model_package_name: Mapped[str | None] = mapped_column(Text)
    model_package_group_name: Mapped[str | None] = mapped_column(Text, index=True)
    model_package_version: Mapped[int | None]
    model_package_registration_type: Mapped[str | None] = mapped_column(Text)
    model_package_description: Mapped[str | None] = mapped_column(Text)
    creation_time: Mapped[datetime | None]
    inference_specification: Mapped[dict[str, Any] | None]
    source_algorithm_specification: Mapped[dict[str, Any] | None]
    validation_specification: Mapped[dict[str, Any] | None]
    model_package_status: Mapped[str | None] = mapped_column(Text)
    model_package_status_details: Mapped[dict[str, Any] | None]
    certify_for_marketplace: Mapped[bool | None]
    model_approval_status: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[dict[str, Any] | None]
    metadata_properties: Mapped[dict[str, Any] | None]
    model_metrics: Mapped[dict[str, Any] | None]
    last_modified_time: Mapped[datetime | None]
    last_modified_by: Mapped[dict[str, Any] | None]
    approval_description: Mapped[str | None] = mapped_column(Text)
    domain: Mapped[str | None] = mapped_column(Text)
    task: Mapped[str | None] = mapped_column(Text)
    sample_payload_url: Mapped[str | None] = mapped_column(Text)
    customer_metadata_properties: Mapped[dict[str, Any] | None]
    drift_check_baselines: Mapped[dict[str, Any] | None]
    additional_inference_specifications: Mapped[list[Any] | None]
    skip_model_validation: Mapped[str | None] = mapped_column(Text)
    source_uri: Mapped[str | None] = mapped_column(Text)
    security_config: Mapped[dict[str, Any] | None]
    model_card: Mapped[dict[str, Any] | None]
    model_life_cycle: Mapped[dict[str, Any] | None]
    managed_storage_type: Mapped[str | None] = mapped_column(
        Text,
        comment="describe-only: Search's records lack it, so it is filled when the package is "
        "described and kept from its last describe when Search reads it",
    )
    record_source: Mapped[str | None] = mapped_column(
        String(16), comment="the call whose answer is stored: search or describe"
    )
    last_event_id: Mapped[int | None] = mapped_column(Id, comment=_LAST_EVENT)
    content_hash: Mapped[str | None] = mapped_column(
        String(64), comment="sha256 of the describe response and tags: unchanged = not rewritten"
    )
    raw: Mapped[dict[str, Any]] = mapped_column(
        comment="the DescribeModelPackage response as received (timestamps as ISO 8601)"
    )

    # a group's latest approved version (the deployments view)
    __table_args__ = (
        Index(
            "ix_model_packages_by_group",
            "model_package_group_name",
            "account_id",
            "region",
            "model_approval_status",
        ),
    )


class _PackageChild(Base):
    __abstract__ = True

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    model_package_arn: Mapped[str] = mapped_column(
        ForeignKey("model_packages.model_package_arn", ondelete="CASCADE"), index=True
    )
    last_seen_scan_id: Mapped[int] = _scan_fk("the scan that last saw this row")


class ModelPackageContainer(_PackageChild):
    """One container of an inference or additional inference specification.

    After the three columns that place it, one column per member of botocore's
    `ModelPackageContainerDefinition` (snake_case), so every member AWS returns has a home;
    a test compares them with botocore's shape.
    """

    __tablename__ = "model_package_containers"

    specification: Mapped[str] = mapped_column(
        String(64), comment="InferenceSpecification or AdditionalInferenceSpecifications"
    )
    specification_name: Mapped[str | None] = mapped_column(
        Text, comment="Name of the additional inference specification"
    )
    container_index: Mapped[int]
    container_hostname: Mapped[str | None] = mapped_column(Text)
    image: Mapped[str | None] = mapped_column(Text)
    image_digest: Mapped[str | None] = mapped_column(Text)
    model_data_url: Mapped[str | None] = mapped_column(Text)
    model_data_source: Mapped[dict[str, Any] | None]
    product_id: Mapped[str | None] = mapped_column(Text)
    environment: Mapped[dict[str, Any] | None]
    model_input: Mapped[dict[str, Any] | None]
    framework: Mapped[str | None] = mapped_column(Text)
    framework_version: Mapped[str | None] = mapped_column(Text)
    nearest_model_name: Mapped[str | None] = mapped_column(Text)
    additional_model_data_sources: Mapped[list[Any] | None]
    additional_s3_data_source: Mapped[dict[str, Any] | None]
    model_data_e_tag: Mapped[str | None] = mapped_column(Text)
    is_checkpoint: Mapped[bool | None]
    base_model: Mapped[dict[str, Any] | None]
    raw: Mapped[dict[str, Any]]


class ModelPackageTag(_PackageChild):
    """One tag of a model package (ListTags), a row per key."""

    __tablename__ = "model_package_tags"

    key: Mapped[str] = mapped_column(String(128))
    value: Mapped[str | None] = mapped_column(String(256))


class ModelPackageValidationStatus(_PackageChild):
    """ModelPackageStatusDetails: one validation or image-scan status."""

    __tablename__ = "model_package_validation_statuses"

    kind: Mapped[str] = mapped_column(String(32), comment="ValidationStatuses or ImageScanStatuses")
    name: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(Text)
    failure_reason: Mapped[str | None] = mapped_column(Text)


class ModelPackageMetricSource(_PackageChild):
    """A metrics or baseline file referenced by ModelMetrics or DriftCheckBaselines."""

    __tablename__ = "model_package_metric_sources"

    section: Mapped[str] = mapped_column(String(32), comment="ModelMetrics or DriftCheckBaselines")
    category: Mapped[str] = mapped_column(Text, comment="e.g. ModelQuality, Bias")
    name: Mapped[str] = mapped_column(Text, comment="e.g. Statistics, ConfigFile")
    s3_uri: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(Text)
    content_digest: Mapped[str | None] = mapped_column(Text)


class ModelPackageGroup(SeenMixin, Base):
    """A model package group as seen from a scanned account: its own, or shared into it.

    A group shared with several scanned accounts has one row per account.
    """

    __tablename__ = "model_package_groups"

    account_id: Mapped[str] = mapped_column(
        String(12), primary_key=True, comment="the scanned account"
    )
    model_package_group_arn: Mapped[str] = mapped_column(String(2048), primary_key=True)
    owner_account_id: Mapped[str] = mapped_column(String(12))
    region: Mapped[str] = mapped_column(String(32), index=True)
    shared: Mapped[bool] = mapped_column(comment="shared into account_id from another account")
    model_package_group_name: Mapped[str] = mapped_column(Text)
    model_package_group_description: Mapped[str | None] = mapped_column(Text)
    creation_time: Mapped[datetime | None]
    created_by: Mapped[dict[str, Any] | None]
    model_package_group_status: Mapped[str | None] = mapped_column(Text)
    managed_configuration: Mapped[dict[str, Any] | None]
    resource_policy: Mapped[dict[str, Any] | None] = mapped_column(
        comment="GetModelPackageGroupPolicy, parsed; null when there is none or it is unknown"
    )
    resource_policy_status: Mapped[str] = mapped_column(
        String(16),
        default="unknown",
        server_default="unknown",
        comment="present, none (AWS said the group has no policy) or unknown (not read: "
        "see resource_policy_error)",
    )
    resource_policy_error: Mapped[str | None] = mapped_column(
        Text, comment="why the policy is unknown: the AWS error, or a shared group's owner"
    )
    tags: Mapped[list[Any] | None]
    record_source: Mapped[str | None] = mapped_column(
        String(16),
        comment="the call whose answer is stored: search, describe, or listing (a shared "
        "group: its summary)",
    )
    last_event_id: Mapped[int | None] = mapped_column(Id, comment=_LAST_EVENT)
    content_hash: Mapped[str | None] = mapped_column(
        String(64), comment="sha256 of what was collected: unchanged = not rewritten"
    )
    raw: Mapped[dict[str, Any]] = mapped_column(
        comment="{describe, policy (text), tags} as received; a shared group keeps its summary"
    )


class ModelPackageGroupTag(Base):
    """One tag of a model package group (ListTags), a row per key and scanned account."""

    __tablename__ = "model_package_group_tags"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(12))
    model_package_group_arn: Mapped[str] = mapped_column(String(2048), index=True)
    key: Mapped[str] = mapped_column(String(128))
    value: Mapped[str | None] = mapped_column(String(256))
    last_seen_scan_id: Mapped[int] = _scan_fk("the scan that last saw this row")

    __table_args__ = (
        ForeignKeyConstraint(
            ["account_id", "model_package_group_arn"],
            ["model_package_groups.account_id", "model_package_groups.model_package_group_arn"],
            ondelete="CASCADE",
        ),
    )


class _ServingResource(SeenMixin, Base):
    """What every serving kind's row holds (models, endpoint configurations, endpoints,
    model cards): its place, how it was read, its content hash and the answer as received."""

    __abstract__ = True

    account_id: Mapped[str] = mapped_column(String(12), index=True)
    region: Mapped[str] = mapped_column(String(32), index=True)
    record_source: Mapped[str | None] = mapped_column(
        String(16), comment="the call whose answer is stored: search or describe"
    )
    last_event_id: Mapped[int | None] = mapped_column(Id, comment=_LAST_EVENT)
    content_hash: Mapped[str | None] = mapped_column(
        String(64), comment="sha256 of the answer and tags: unchanged = not rewritten"
    )


class Model(_ServingResource):
    """One SageMaker model (DescribeModel): what an endpoint configuration's variants serve."""

    __tablename__ = "models"

    model_arn: Mapped[str] = mapped_column(String(2048), primary_key=True)
    model_name: Mapped[str] = mapped_column(Text)
    primary_container: Mapped[dict[str, Any] | None]
    containers: Mapped[list[Any] | None]
    inference_execution_config: Mapped[dict[str, Any] | None]
    execution_role_arn: Mapped[str | None] = mapped_column(Text)
    vpc_config: Mapped[dict[str, Any] | None]
    creation_time: Mapped[datetime | None]
    enable_network_isolation: Mapped[bool | None]
    deployment_recommendation: Mapped[dict[str, Any] | None]
    tags: Mapped[list[Any] | None] = mapped_column(comment="ListTags: [{Key, Value}]")
    raw: Mapped[dict[str, Any]] = mapped_column(
        comment="the DescribeModel response as received (timestamps as ISO 8601)"
    )

    # what an endpoint configuration's variant names (the deployments view joins on it)
    __table_args__ = (Index("ix_models_by_name", "account_id", "region", "model_name"),)


class ModelContainer(Base):
    """One container of a model (its PrimaryContainer, or one of its Containers), with the
    model package it names resolved to an ARN.

    After the columns that place it, one column per member of botocore's
    `ContainerDefinition` (snake_case)."""

    __tablename__ = "model_containers"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    model_arn: Mapped[str] = mapped_column(
        ForeignKey("models.model_arn", ondelete="CASCADE"), index=True
    )
    last_seen_scan_id: Mapped[int] = _scan_fk("the scan that last saw this row")
    place: Mapped[str] = mapped_column(String(32), comment="PrimaryContainer or Containers")
    container_index: Mapped[int]
    model_package_arn: Mapped[str | None] = mapped_column(
        Text,
        index=True,
        comment="the package model_package_name names, as an ARN (a bare name: the "
        "unversioned package in the model's account and region); null: not from the registry",
    )
    container_hostname: Mapped[str | None] = mapped_column(Text)
    image: Mapped[str | None] = mapped_column(Text)
    image_config: Mapped[dict[str, Any] | None]
    mode: Mapped[str | None] = mapped_column(Text)
    model_data_url: Mapped[str | None] = mapped_column(Text)
    model_data_source: Mapped[dict[str, Any] | None]
    additional_model_data_sources: Mapped[list[Any] | None]
    environment: Mapped[dict[str, Any] | None]
    model_package_name: Mapped[str | None] = mapped_column(Text)
    inference_specification_name: Mapped[str | None] = mapped_column(Text)
    multi_model_config: Mapped[dict[str, Any] | None]
    container_metrics_config: Mapped[dict[str, Any] | None]
    raw: Mapped[dict[str, Any]]


class EndpointConfig(_ServingResource):
    """One endpoint configuration (DescribeEndpointConfig): which model each variant serves."""

    __tablename__ = "endpoint_configs"

    endpoint_config_arn: Mapped[str] = mapped_column(String(2048), primary_key=True)
    endpoint_config_name: Mapped[str] = mapped_column(Text)
    production_variants: Mapped[list[Any] | None]
    data_capture_config: Mapped[dict[str, Any] | None]
    kms_key_id: Mapped[str | None] = mapped_column(Text)
    creation_time: Mapped[datetime | None]
    async_inference_config: Mapped[dict[str, Any] | None]
    explainer_config: Mapped[dict[str, Any] | None]
    shadow_production_variants: Mapped[list[Any] | None]
    execution_role_arn: Mapped[str | None] = mapped_column(Text)
    vpc_config: Mapped[dict[str, Any] | None]
    enable_network_isolation: Mapped[bool | None]
    metrics_config: Mapped[dict[str, Any] | None]
    cross_region_traffic_config: Mapped[dict[str, Any] | None]
    raw: Mapped[dict[str, Any]] = mapped_column(
        comment="the DescribeEndpointConfig response as received (timestamps as ISO 8601)"
    )

    __table_args__ = (
        Index("ix_endpoint_configs_by_name", "account_id", "region", "endpoint_config_name"),
    )


_VARIANT_KIND = "production (ProductionVariants) or shadow (ShadowProductionVariants)"


class EndpointConfigVariant(Base):
    """One production or shadow variant of an endpoint configuration: the model it serves
    (by name, in the configuration's account and region) and its initial weight.

    After the columns that place it, one column per member of botocore's
    `ProductionVariant` (snake_case)."""

    __tablename__ = "endpoint_config_variants"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    endpoint_config_arn: Mapped[str] = mapped_column(
        ForeignKey("endpoint_configs.endpoint_config_arn", ondelete="CASCADE"), index=True
    )
    last_seen_scan_id: Mapped[int] = _scan_fk("the scan that last saw this row")
    variant_kind: Mapped[str] = mapped_column(String(16), comment=_VARIANT_KIND)
    variant_index: Mapped[int]
    variant_name: Mapped[str | None] = mapped_column(Text)
    model_name: Mapped[str | None] = mapped_column(Text)
    initial_instance_count: Mapped[int | None]
    instance_type: Mapped[str | None] = mapped_column(Text)
    instance_pools: Mapped[list[Any] | None]
    variant_instance_provision_timeout_in_seconds: Mapped[int | None]
    initial_variant_weight: Mapped[float | None] = mapped_column(Float)
    accelerator_type: Mapped[str | None] = mapped_column(Text)
    core_dump_config: Mapped[dict[str, Any] | None]
    serverless_config: Mapped[dict[str, Any] | None]
    volume_size_in_gb: Mapped[int | None]
    model_data_download_timeout_in_seconds: Mapped[int | None]
    container_startup_health_check_timeout_in_seconds: Mapped[int | None]
    enable_ssm_access: Mapped[bool | None]
    managed_instance_scaling: Mapped[dict[str, Any] | None]
    routing_config: Mapped[dict[str, Any] | None]
    inference_ami_version: Mapped[str | None] = mapped_column(Text)
    capacity_reservation_config: Mapped[dict[str, Any] | None]
    accelerator_partition_layouts: Mapped[list[Any] | None]


class Endpoint(_ServingResource):
    """One endpoint (DescribeEndpoint): its status, configuration and current variants."""

    __tablename__ = "endpoints"

    endpoint_arn: Mapped[str] = mapped_column(String(2048), primary_key=True)
    endpoint_name: Mapped[str] = mapped_column(Text)
    endpoint_config_name: Mapped[str | None] = mapped_column(Text)
    production_variants: Mapped[list[Any] | None]
    data_capture_config: Mapped[dict[str, Any] | None]
    endpoint_status: Mapped[str | None] = mapped_column(Text)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    creation_time: Mapped[datetime | None]
    last_modified_time: Mapped[datetime | None]
    last_deployment_config: Mapped[dict[str, Any] | None] = mapped_column(
        comment="describe-only (as the five members below): Search's records lack it"
    )
    async_inference_config: Mapped[dict[str, Any] | None]
    pending_deployment_summary: Mapped[dict[str, Any] | None]
    explainer_config: Mapped[dict[str, Any] | None]
    shadow_production_variants: Mapped[list[Any] | None]
    metrics_config: Mapped[dict[str, Any] | None]
    cross_region_traffic_config: Mapped[dict[str, Any] | None]
    tags: Mapped[list[Any] | None] = mapped_column(comment="ListTags: [{Key, Value}]")
    raw: Mapped[dict[str, Any]] = mapped_column(
        comment="the DescribeEndpoint response as received (timestamps as ISO 8601)"
    )


class EndpointVariant(Base):
    """One production or shadow variant of an endpoint as it runs: its current weight and
    instance count (the model it serves is its configuration's variant of the same name).

    After the columns that place it, one column per member of botocore's
    `ProductionVariantSummary` (snake_case)."""

    __tablename__ = "endpoint_variants"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    endpoint_arn: Mapped[str] = mapped_column(
        ForeignKey("endpoints.endpoint_arn", ondelete="CASCADE"), index=True
    )
    last_seen_scan_id: Mapped[int] = _scan_fk("the scan that last saw this row")
    variant_kind: Mapped[str] = mapped_column(String(16), comment=_VARIANT_KIND)
    variant_index: Mapped[int]
    variant_name: Mapped[str | None] = mapped_column(Text)
    deployed_images: Mapped[list[Any] | None]
    current_weight: Mapped[float | None] = mapped_column(Float)
    desired_weight: Mapped[float | None] = mapped_column(Float)
    current_instance_count: Mapped[int | None]
    desired_instance_count: Mapped[int | None]
    instance_pools: Mapped[list[Any] | None]
    variant_status: Mapped[list[Any] | None]
    current_serverless_config: Mapped[dict[str, Any] | None]
    desired_serverless_config: Mapped[dict[str, Any] | None]
    managed_instance_scaling: Mapped[dict[str, Any] | None]
    routing_config: Mapped[dict[str, Any] | None]
    capacity_reservation_config: Mapped[dict[str, Any] | None]
    accelerator_partition_layouts: Mapped[list[Any] | None]


class ModelCard(_ServingResource):
    """One model card, its latest version (DescribeModelCard), and what it documents."""

    __tablename__ = "model_cards"

    model_card_arn: Mapped[str] = mapped_column(String(2048), primary_key=True)
    model_card_name: Mapped[str] = mapped_column(Text)
    model_card_version: Mapped[int | None]
    content: Mapped[str | None] = mapped_column(Text, comment="the card's JSON, as text")
    model_card_status: Mapped[str | None] = mapped_column(
        Text, comment="Draft, PendingReview, Approved or Archived"
    )
    security_config: Mapped[dict[str, Any] | None]
    kms_key_id: Mapped[str | None] = mapped_column(
        Text, comment="security_config.KmsKeyId, lifted out for plain SQL"
    )
    creation_time: Mapped[datetime | None]
    created_by: Mapped[dict[str, Any] | None]
    last_modified_time: Mapped[datetime | None]
    last_modified_by: Mapped[dict[str, Any] | None]
    model_card_processing_status: Mapped[str | None] = mapped_column(
        Text, comment="describe-only: Search's records lack it"
    )
    model_id: Mapped[str | None] = mapped_column(
        Text, comment="content's model_overview.model_id: the model it documents"
    )
    risk_rating: Mapped[str | None] = mapped_column(
        Text, comment="content's intended_uses.risk_rating (High, Medium, Low or Unknown)"
    )
    model_package_group_name: Mapped[str | None] = mapped_column(
        Text, comment="content's model_package_details.model_package_group_name"
    )
    model_package_arn: Mapped[str | None] = mapped_column(
        Text, comment="content's model_package_details.model_package_arn"
    )
    tags: Mapped[list[Any] | None] = mapped_column(comment="ListTags: [{Key, Value}]")
    raw: Mapped[dict[str, Any]] = mapped_column(
        comment="the DescribeModelCard response as received (timestamps as ISO 8601)"
    )


class ResourceChange(Base):
    """What changed between scans: a resource added or removed, or one field modified
    (a top-level member, `resource_policy`, or one tag as `tag:<key>`), old and new as JSON."""

    __tablename__ = "resource_changes"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    scan_id: Mapped[int] = _scan_fk("the scan that saw the change")
    detected_at: Mapped[datetime]
    resource_type: Mapped[str] = mapped_column(
        String(32), comment="model_package or model_package_group"
    )
    resource_arn: Mapped[str] = mapped_column(String(2048), index=True)
    account_id: Mapped[str] = mapped_column(String(12))
    region: Mapped[str] = mapped_column(String(32))
    change: Mapped[str] = mapped_column(String(16), comment="added, removed or modified")
    field: Mapped[str | None] = mapped_column(
        Text, comment="modified: the column (snake_case member), resource_policy or tag:<key>"
    )
    old: Mapped[Any | None] = mapped_column(Json, comment="the value before (JSON)")
    new: Mapped[Any | None] = mapped_column(Json, comment="the value after (JSON)")
    event_id: Mapped[int | None] = mapped_column(Id, comment=_EVENT)


class RemovedResource(Base):
    """A package or group that left the inventory: its last known state and when it was seen."""

    __tablename__ = "removed_resources"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    resource_type: Mapped[str] = mapped_column(
        String(32), comment="model_package or model_package_group"
    )
    arn: Mapped[str] = mapped_column(String(2048), index=True)
    account_id: Mapped[str] = mapped_column(String(12))
    region: Mapped[str] = mapped_column(String(32))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    last_seen_scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"))
    removed_at: Mapped[datetime]
    removed_scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"))
    raw: Mapped[dict[str, Any]]


class ScanLock(Base):
    """The lock that keeps scans from interleaving. SQLite: a row while a scan runs.
    PostgreSQL: the running scan holds the table locked (EXCLUSIVE MODE) to its end.
    """

    __tablename__ = "scan_lock"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    scan_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("scans.id"), comment="the holder's scan, once recorded"
    )
    owner: Mapped[str] = mapped_column(String(64), comment="the holder's token (scans.owner)")
    heartbeat_at: Mapped[datetime] = mapped_column(
        comment="refreshed by the holder; older than scan.stale_after_seconds: free to take"
    )


class StagedResource(Base):
    """Responses collected by a running scan, promoted only when their region completes.

    Staging keeps memory flat (rows are written as they arrive) while a region that
    fails half-way leaves the live tables untouched.
    """

    __tablename__ = "staged_resources"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"))
    account_id: Mapped[str] = mapped_column(String(12))
    region: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    document: Mapped[dict[str, Any]]

    __table_args__ = (Index("ix_staged_resources_scope", "scan_id", "account_id", "region"),)


class Finding(Base):
    """One rule on one resource in one account, over time: opened when the rule first fails
    (or cannot judge, or is waived), resolved when it passes again, regressed when it fails
    after that. `findings` holds each one's current state; `finding_events` its changes."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    resource_arn: Mapped[str] = mapped_column(String(2048))
    account_id: Mapped[str] = mapped_column(String(12))
    region: Mapped[str] = mapped_column(String(32))
    resource_type: Mapped[str] = mapped_column(
        String(32), comment="model_package or model_package_group"
    )
    severity: Mapped[str] = mapped_column(
        String(16), comment="critical, high, medium, low or info (after config overrides)"
    )
    status: Mapped[str] = mapped_column(
        String(16), comment="fail, error (data unknown), waived, or pass (resolved)"
    )
    message: Mapped[str] = mapped_column(Text, comment="what the rule saw")
    # Scan ids without foreign keys: a bulk evaluation writes hundreds of thousands of
    # findings and events, and PostgreSQL checks each key row by row (most of the time of
    # a first evaluation). mpscan writes them from the scan it runs; prune checks them.
    scan_id: Mapped[int] = mapped_column(
        Id, comment="the scan whose inventory was last judged for this finding"
    )
    first_seen_at: Mapped[datetime]
    first_seen_scan_id: Mapped[int] = mapped_column(Id)
    last_seen_at: Mapped[datetime] = mapped_column(comment="when it was last judged")
    opened_scan_id: Mapped[int] = mapped_column(
        Id, comment="where the current open period began (new or regressed)"
    )
    resolved_at: Mapped[datetime | None]
    resolved_scan_id: Mapped[int | None] = mapped_column(Id)
    regressions: Mapped[int] = mapped_column(default=0, comment="times it failed after resolving")
    waiver_reason: Mapped[str | None] = mapped_column(Text)
    waiver_owner: Mapped[str | None] = mapped_column(Text)
    waiver_expires: Mapped[date | None] = mapped_column(
        comment="the waiver's last day; a finding past it is fail again, with the note"
    )

    __table_args__ = (
        UniqueConstraint("rule_id", "resource_arn", "account_id"),
        # The only other index: scopes are a few accounts of many. Every index is paid for
        # by every finding a first evaluation writes (migration 0009 dropped two).
        Index("ix_findings_scope", "account_id", "region"),
    )


class FindingEvent(Base):
    """A change of a finding in one evaluation: new, regressed, resolved or changed."""

    __tablename__ = "finding_events"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    finding_id: Mapped[int] = mapped_column(Id, index=True, comment="findings.id")
    scan_id: Mapped[int] = mapped_column(
        Id, index=True, comment="the scan whose inventory was judged"
    )
    at: Mapped[datetime]
    change: Mapped[str] = mapped_column(String(16), comment="new, regressed, resolved or changed")
    status: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    event_id: Mapped[int | None] = mapped_column(Id, comment=_EVENT)


class RegistryEvent(Base):
    """A registry change received from EventBridge through SQS (`mpscan listen`), once per
    event id: what it named, and what refreshing that resource did. Events are applied
    to the inventory of the latest scan of their account and region (`scan_id`)."""

    __tablename__ = "registry_events"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(
        String(128), unique=True, comment="EventBridge's event id: each is applied once"
    )
    message_id: Mapped[str | None] = mapped_column(String(128), comment="the SQS message id")
    detail_type: Mapped[str] = mapped_column(
        String(128), comment="SageMaker Model Package State Change, or AWS API Call via CloudTrail"
    )
    event_name: Mapped[str | None] = mapped_column(
        String(64), comment="the CloudTrail event's API call (AddTags, DeleteModelPackage...)"
    )
    event_time: Mapped[datetime | None] = mapped_column(comment="when AWS says it happened")
    received_at: Mapped[datetime]
    applied_at: Mapped[datetime] = mapped_column(
        comment="when its refresh was stored, or its resource judged after (changed, removed)"
    )
    account_id: Mapped[str] = mapped_column(String(12))
    region: Mapped[str] = mapped_column(String(32))
    resource_type: Mapped[str] = mapped_column(
        String(32), comment="model_package or model_package_group"
    )
    resource_arn: Mapped[str] = mapped_column(String(2048))
    outcome: Mapped[str] = mapped_column(
        String(16),
        comment="changed, unchanged (the stored row was current), removed (AWS says it is "
        "gone), or superseded (the stored row was modified later than the event)",
    )
    calls: Mapped[int] = mapped_column(default=0, comment="AWS calls the refresh made")
    scan_id: Mapped[int] = mapped_column(Id, comment="the scan whose inventory it amended")

    __table_args__ = (Index("ix_registry_events_scope", "account_id", "region"),)


@functools.cache
def model(table_name: str) -> type[Base]:
    """The mapped class of a table, by name (the kinds' declarations name tables)."""
    for mapper in Base.registry.mappers:
        if mapper.class_.__tablename__ == table_name:
            return mapper.class_
    raise KeyError(table_name)


# Views: SQL that joins the tables for the questions users ask most. Declared here (their
# columns, types and comments) for `mpscan tables`, `mpscan schema` and docs/schema.md;
# the migrations create them. A separate MetaData: Alembic compares tables, not views.
VIEWS = MetaData()


def _view(name: str, doc: str, *columns: tuple[str, Any, str]) -> Table:
    return Table(
        name,
        VIEWS,
        *(Column(column, kind, comment=comment or None) for column, kind, comment in columns),
        info={"doc": doc},
    )


DEPLOYMENTS = _view(
    "deployments",
    "What is in production, one row per endpoint, variant and model container: endpoint → "
    "variant (its configuration's, with the endpoint's current weight) → model → container "
    "→ model package version → its group, approval status and open findings.\n\n"
    "Every join is a LEFT JOIN: a variant whose model is not in the inventory has a null "
    "model_arn; a container that names no package (not from the registry) a null "
    "model_package_arn; a package that is not in the inventory (deleted, or in an account "
    "or region not scanned) a null model_package_status.",
    ("account_id", String(12), "the endpoint's account"),
    ("region", String(32), "the endpoint's region"),
    ("endpoint_arn", String(2048), ""),
    ("endpoint_name", Text, ""),
    ("endpoint_status", Text, "InService, Updating, Failed..."),
    ("endpoint_config_name", Text, "the configuration the endpoint runs"),
    ("variant_kind", String(16), "production or shadow"),
    ("variant_name", Text, ""),
    ("current_weight", Float, "the variant's traffic weight now (DescribeEndpoint)"),
    ("desired_weight", Float, ""),
    ("current_instance_count", Integer, ""),
    ("initial_variant_weight", Float, "the configuration's weight for the variant"),
    ("model_name", Text, "the model the variant serves"),
    ("model_arn", String(2048), "null: the model is not in the inventory"),
    ("container_index", Integer, "the model's container (0: its PrimaryContainer)"),
    ("image", Text, "the container's image, when it names one"),
    (
        "model_package_arn",
        Text,
        "the package the container names; null: none (not from the registry)",
    ),  # fmt: skip
    ("model_package_group_name", Text, "the version's group"),
    ("model_package_version", Integer, ""),
    ("model_package_status", Text, "null: the package is not in the inventory"),
    ("model_approval_status", Text, "null for an unversioned package"),
    ("latest_approved_version", Integer, "the group's latest Approved version"),
    ("open_findings", Integer, "the package's open (failing, unwaived) findings"),
    ("open_critical_high", Integer, "of which critical or high"),
)

"""inventory core

Revision ID: 0001
Revises:
Create Date: 2026-11-27 09:04:48.365303
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "scans",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "status",
            sa.String(length=16),
            nullable=False,
            comment="running, complete, partial, failed or interrupted",
        ),
        sa.Column(
            "regions_requested",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("packages_seen", sa.Integer(), nullable=False),
        sa.Column("groups_seen", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("mpscan_version", sa.String(length=32), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scans")),
    )
    op.create_table(
        "model_package_groups",
        sa.Column(
            "account_id", sa.String(length=12), nullable=False, comment="the scanned account"
        ),
        sa.Column("model_package_group_arn", sa.String(length=2048), nullable=False),
        sa.Column("owner_account_id", sa.String(length=12), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column(
            "shared",
            sa.Boolean(),
            nullable=False,
            comment="shared into account_id from another account",
        ),
        sa.Column("model_package_group_name", sa.String(length=255), nullable=False),
        sa.Column("model_package_group_description", sa.Text(), nullable=True),
        sa.Column("creation_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_by",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("model_package_group_status", sa.String(length=32), nullable=True),
        sa.Column(
            "managed_configuration",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column(
            "resource_policy",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
            comment="GetModelPackageGroupPolicy, parsed; null when the group has no policy",
        ),
        sa.Column(
            "tags",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column(
            "raw",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
            comment="{describe, policy (text), tags} as received; a shared group keeps its summary",
        ),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "first_seen_scan_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "last_seen_scan_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            comment="the scan that last saw this row",
        ),
        sa.ForeignKeyConstraint(
            ["first_seen_scan_id"],
            ["scans.id"],
            name=op.f("fk_model_package_groups_first_seen_scan_id_scans"),
        ),
        sa.ForeignKeyConstraint(
            ["last_seen_scan_id"],
            ["scans.id"],
            name=op.f("fk_model_package_groups_last_seen_scan_id_scans"),
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "model_package_group_arn", name=op.f("pk_model_package_groups")
        ),
    )
    with op.batch_alter_table("model_package_groups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_model_package_groups_last_seen_scan_id"),
            ["last_seen_scan_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_model_package_groups_region"), ["region"], unique=False
        )

    op.create_table(
        "model_packages",
        sa.Column("model_package_arn", sa.String(length=2048), nullable=False),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column(
            "model_package_type",
            sa.String(length=16),
            nullable=False,
            comment="Versioned (in a group) or Unversioned",
        ),
        sa.Column(
            "kms_key_id",
            sa.String(length=2048),
            nullable=True,
            comment="security_config.KmsKeyId, lifted out for plain SQL",
        ),
        sa.Column(
            "tags",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
            comment="ListTags: [{Key, Value}]",
        ),
        sa.Column("client_token", sa.String(length=36), nullable=True, comment="create-only; null"),
        sa.Column(
            "additional_inference_specifications_to_add",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
            comment="update-only; null",
        ),
        sa.Column("model_package_name", sa.String(length=255), nullable=True),
        sa.Column("model_package_group_name", sa.String(length=255), nullable=True),
        sa.Column("model_package_version", sa.Integer(), nullable=True),
        sa.Column("model_package_registration_type", sa.String(length=32), nullable=True),
        sa.Column("model_package_description", sa.Text(), nullable=True),
        sa.Column("creation_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "inference_specification",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column(
            "source_algorithm_specification",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column(
            "validation_specification",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("model_package_status", sa.String(length=32), nullable=True),
        sa.Column(
            "model_package_status_details",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("certify_for_marketplace", sa.Boolean(), nullable=True),
        sa.Column("model_approval_status", sa.String(length=32), nullable=True),
        sa.Column(
            "created_by",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column(
            "metadata_properties",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column(
            "model_metrics",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("last_modified_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "last_modified_by",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("approval_description", sa.Text(), nullable=True),
        sa.Column("domain", sa.String(length=255), nullable=True),
        sa.Column("task", sa.String(length=255), nullable=True),
        sa.Column("sample_payload_url", sa.String(length=2048), nullable=True),
        sa.Column(
            "customer_metadata_properties",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column(
            "drift_check_baselines",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column(
            "additional_inference_specifications",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("skip_model_validation", sa.String(length=16), nullable=True),
        sa.Column("source_uri", sa.String(length=2048), nullable=True),
        sa.Column(
            "security_config",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column(
            "model_card",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column(
            "model_life_cycle",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("managed_storage_type", sa.String(length=64), nullable=True),
        sa.Column(
            "raw",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
            comment="the DescribeModelPackage response as received (timestamps as ISO 8601)",
        ),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "first_seen_scan_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "last_seen_scan_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            comment="the scan that last saw this row",
        ),
        sa.ForeignKeyConstraint(
            ["first_seen_scan_id"],
            ["scans.id"],
            name=op.f("fk_model_packages_first_seen_scan_id_scans"),
        ),
        sa.ForeignKeyConstraint(
            ["last_seen_scan_id"],
            ["scans.id"],
            name=op.f("fk_model_packages_last_seen_scan_id_scans"),
        ),
        sa.PrimaryKeyConstraint("model_package_arn", name=op.f("pk_model_packages")),
    )
    with op.batch_alter_table("model_packages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_model_packages_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_model_packages_last_seen_scan_id"), ["last_seen_scan_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_model_packages_model_package_group_name"),
            ["model_package_group_name"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_model_packages_region"), ["region"], unique=False)

    op.create_table(
        "removed_resources",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "resource_type",
            sa.String(length=32),
            nullable=False,
            comment="model_package or model_package_group",
        ),
        sa.Column("arn", sa.String(length=2048), nullable=False),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "last_seen_scan_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "removed_scan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "raw",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["last_seen_scan_id"],
            ["scans.id"],
            name=op.f("fk_removed_resources_last_seen_scan_id_scans"),
        ),
        sa.ForeignKeyConstraint(
            ["removed_scan_id"],
            ["scans.id"],
            name=op.f("fk_removed_resources_removed_scan_id_scans"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_removed_resources")),
    )
    with op.batch_alter_table("removed_resources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_removed_resources_arn"), ["arn"], unique=False)

    op.create_table(
        "scan_regions",
        sa.Column("scan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column(
            "status", sa.String(length=16), nullable=False, comment="running, complete or failed"
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("packages", sa.Integer(), nullable=False, comment="model packages stored"),
        sa.Column("groups", sa.Integer(), nullable=False, comment="model package groups stored"),
        sa.Column("removed", sa.Integer(), nullable=False, comment="rows that left the inventory"),
        sa.Column(
            "vanished",
            sa.Integer(),
            nullable=False,
            comment="resources deleted between their listing and their describe",
        ),
        sa.Column(
            "error_kind",
            sa.String(length=32),
            nullable=True,
            comment="denied, throttled, unavailable or error",
        ),
        sa.Column("error_code", sa.String(length=128), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["scan_id"], ["scans.id"], name=op.f("fk_scan_regions_scan_id_scans")
        ),
        sa.PrimaryKeyConstraint("scan_id", "account_id", "region", name=op.f("pk_scan_regions")),
    )
    op.create_table(
        "staged_resources",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("scan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column(
            "document",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["scan_id"], ["scans.id"], name=op.f("fk_staged_resources_scan_id_scans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staged_resources")),
    )
    with op.batch_alter_table("staged_resources", schema=None) as batch_op:
        batch_op.create_index(
            "ix_staged_resources_scope", ["scan_id", "account_id", "region"], unique=False
        )

    op.create_table(
        "model_package_containers",
        sa.Column(
            "specification",
            sa.String(length=64),
            nullable=False,
            comment="InferenceSpecification or AdditionalInferenceSpecifications",
        ),
        sa.Column(
            "specification_name",
            sa.String(length=255),
            nullable=True,
            comment="Name of the additional inference specification",
        ),
        sa.Column("container_index", sa.Integer(), nullable=False),
        sa.Column("image", sa.String(length=2048), nullable=True),
        sa.Column("image_digest", sa.String(length=255), nullable=True),
        sa.Column("model_data_url", sa.String(length=2048), nullable=True),
        sa.Column("framework", sa.String(length=255), nullable=True),
        sa.Column("framework_version", sa.String(length=64), nullable=True),
        sa.Column("nearest_model_name", sa.String(length=255), nullable=True),
        sa.Column("container_hostname", sa.String(length=255), nullable=True),
        sa.Column("product_id", sa.String(length=255), nullable=True),
        sa.Column(
            "environment",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column(
            "model_data_source",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column(
            "raw",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("model_package_arn", sa.String(length=2048), nullable=False),
        sa.Column(
            "last_seen_scan_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            comment="the scan that last saw this row",
        ),
        sa.ForeignKeyConstraint(
            ["last_seen_scan_id"],
            ["scans.id"],
            name=op.f("fk_model_package_containers_last_seen_scan_id_scans"),
        ),
        sa.ForeignKeyConstraint(
            ["model_package_arn"],
            ["model_packages.model_package_arn"],
            name=op.f("fk_model_package_containers_model_package_arn_model_packages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_package_containers")),
    )
    with op.batch_alter_table("model_package_containers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_model_package_containers_last_seen_scan_id"),
            ["last_seen_scan_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_model_package_containers_model_package_arn"),
            ["model_package_arn"],
            unique=False,
        )

    op.create_table(
        "model_package_group_tags",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("model_package_group_arn", sa.String(length=2048), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=True),
        sa.Column(
            "last_seen_scan_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            comment="the scan that last saw this row",
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "model_package_group_arn"],
            ["model_package_groups.account_id", "model_package_groups.model_package_group_arn"],
            name=op.f("fk_model_package_group_tags_account_id_model_package_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["last_seen_scan_id"],
            ["scans.id"],
            name=op.f("fk_model_package_group_tags_last_seen_scan_id_scans"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_package_group_tags")),
    )
    with op.batch_alter_table("model_package_group_tags", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_model_package_group_tags_last_seen_scan_id"),
            ["last_seen_scan_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_model_package_group_tags_model_package_group_arn"),
            ["model_package_group_arn"],
            unique=False,
        )

    op.create_table(
        "model_package_metric_sources",
        sa.Column(
            "section",
            sa.String(length=32),
            nullable=False,
            comment="ModelMetrics or DriftCheckBaselines",
        ),
        sa.Column(
            "category", sa.String(length=64), nullable=False, comment="e.g. ModelQuality, Bias"
        ),
        sa.Column(
            "name", sa.String(length=64), nullable=False, comment="e.g. Statistics, ConfigFile"
        ),
        sa.Column("s3_uri", sa.String(length=2048), nullable=True),
        sa.Column("content_type", sa.String(length=255), nullable=True),
        sa.Column("content_digest", sa.String(length=255), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("model_package_arn", sa.String(length=2048), nullable=False),
        sa.Column(
            "last_seen_scan_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            comment="the scan that last saw this row",
        ),
        sa.ForeignKeyConstraint(
            ["last_seen_scan_id"],
            ["scans.id"],
            name=op.f("fk_model_package_metric_sources_last_seen_scan_id_scans"),
        ),
        sa.ForeignKeyConstraint(
            ["model_package_arn"],
            ["model_packages.model_package_arn"],
            name=op.f("fk_model_package_metric_sources_model_package_arn_model_packages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_package_metric_sources")),
    )
    with op.batch_alter_table("model_package_metric_sources", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_model_package_metric_sources_last_seen_scan_id"),
            ["last_seen_scan_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_model_package_metric_sources_model_package_arn"),
            ["model_package_arn"],
            unique=False,
        )

    op.create_table(
        "model_package_tags",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("model_package_arn", sa.String(length=2048), nullable=False),
        sa.Column(
            "last_seen_scan_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            comment="the scan that last saw this row",
        ),
        sa.ForeignKeyConstraint(
            ["last_seen_scan_id"],
            ["scans.id"],
            name=op.f("fk_model_package_tags_last_seen_scan_id_scans"),
        ),
        sa.ForeignKeyConstraint(
            ["model_package_arn"],
            ["model_packages.model_package_arn"],
            name=op.f("fk_model_package_tags_model_package_arn_model_packages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_package_tags")),
    )
    with op.batch_alter_table("model_package_tags", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_model_package_tags_last_seen_scan_id"),
            ["last_seen_scan_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_model_package_tags_model_package_arn"),
            ["model_package_arn"],
            unique=False,
        )

    op.create_table(
        "model_package_validation_statuses",
        sa.Column(
            "kind",
            sa.String(length=32),
            nullable=False,
            comment="ValidationStatuses or ImageScanStatuses",
        ),
        sa.Column("name", sa.String(length=2048), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("model_package_arn", sa.String(length=2048), nullable=False),
        sa.Column(
            "last_seen_scan_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            comment="the scan that last saw this row",
        ),
        sa.ForeignKeyConstraint(
            ["last_seen_scan_id"],
            ["scans.id"],
            name=op.f("fk_model_package_validation_statuses_last_seen_scan_id_scans"),
        ),
        sa.ForeignKeyConstraint(
            ["model_package_arn"],
            ["model_packages.model_package_arn"],
            name=op.f("fk_model_package_validation_statuses_model_package_arn_model_packages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_package_validation_statuses")),
    )
    with op.batch_alter_table("model_package_validation_statuses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_model_package_validation_statuses_last_seen_scan_id"),
            ["last_seen_scan_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_model_package_validation_statuses_model_package_arn"),
            ["model_package_arn"],
            unique=False,
        )


def downgrade() -> None:

    with op.batch_alter_table("model_package_validation_statuses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_package_validation_statuses_model_package_arn"))
        batch_op.drop_index(batch_op.f("ix_model_package_validation_statuses_last_seen_scan_id"))

    op.drop_table("model_package_validation_statuses")
    with op.batch_alter_table("model_package_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_package_tags_model_package_arn"))
        batch_op.drop_index(batch_op.f("ix_model_package_tags_last_seen_scan_id"))

    op.drop_table("model_package_tags")
    with op.batch_alter_table("model_package_metric_sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_package_metric_sources_model_package_arn"))
        batch_op.drop_index(batch_op.f("ix_model_package_metric_sources_last_seen_scan_id"))

    op.drop_table("model_package_metric_sources")
    with op.batch_alter_table("model_package_group_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_package_group_tags_model_package_group_arn"))
        batch_op.drop_index(batch_op.f("ix_model_package_group_tags_last_seen_scan_id"))

    op.drop_table("model_package_group_tags")
    with op.batch_alter_table("model_package_containers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_package_containers_model_package_arn"))
        batch_op.drop_index(batch_op.f("ix_model_package_containers_last_seen_scan_id"))

    op.drop_table("model_package_containers")
    with op.batch_alter_table("staged_resources", schema=None) as batch_op:
        batch_op.drop_index("ix_staged_resources_scope")

    op.drop_table("staged_resources")
    op.drop_table("scan_regions")
    with op.batch_alter_table("removed_resources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_removed_resources_arn"))

    op.drop_table("removed_resources")
    with op.batch_alter_table("model_packages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_packages_region"))
        batch_op.drop_index(batch_op.f("ix_model_packages_model_package_group_name"))
        batch_op.drop_index(batch_op.f("ix_model_packages_last_seen_scan_id"))
        batch_op.drop_index(batch_op.f("ix_model_packages_account_id"))

    op.drop_table("model_packages")
    with op.batch_alter_table("model_package_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_package_groups_region"))
        batch_op.drop_index(batch_op.f("ix_model_package_groups_last_seen_scan_id"))

    op.drop_table("model_package_groups")
    op.drop_table("scans")

"""What is in production: models, endpoint configurations, endpoints and model cards, and
the `deployments` view

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 23:10:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
_LAST_EVENT = (
    "registry_events.id of the event that last refreshed this row; null when the scan in "
    "last_seen_scan_id read it"
)
COUNTS = ("models", "endpoint_configs", "endpoints", "model_cards")
TABLES = (
    "models",
    "model_containers",
    "endpoint_configs",
    "endpoint_config_variants",
    "endpoints",
    "endpoint_variants",
    "model_cards",
)

# endpoint -> variant (its configuration's, with the endpoint's current weight and
# instances) -> model -> container -> model package version -> its group, approval status
# and open findings. Every join is LEFT: a variant whose model, or a container whose
# package, is not in the inventory still shows, with nulls.
DEPLOYMENTS = """
CREATE VIEW deployments AS
SELECT
  e.account_id AS account_id,
  e.region AS region,
  e.endpoint_arn AS endpoint_arn,
  e.endpoint_name AS endpoint_name,
  e.endpoint_status AS endpoint_status,
  e.endpoint_config_name AS endpoint_config_name,
  cv.variant_kind AS variant_kind,
  cv.variant_name AS variant_name,
  ev.current_weight AS current_weight,
  ev.desired_weight AS desired_weight,
  ev.current_instance_count AS current_instance_count,
  cv.initial_variant_weight AS initial_variant_weight,
  cv.model_name AS model_name,
  m.model_arn AS model_arn,
  mc.container_index AS container_index,
  mc.image AS image,
  mc.model_package_arn AS model_package_arn,
  p.model_package_group_name AS model_package_group_name,
  p.model_package_version AS model_package_version,
  p.model_package_status AS model_package_status,
  p.model_approval_status AS model_approval_status,
  (
    SELECT MAX(a.model_package_version) FROM model_packages a
    WHERE a.account_id = p.account_id AND a.region = p.region
    AND a.model_package_group_name = p.model_package_group_name
    AND a.model_approval_status = 'Approved'
  ) AS latest_approved_version,
  COALESCE(f.open_findings, 0) AS open_findings,
  COALESCE(f.open_critical_high, 0) AS open_critical_high
FROM endpoints e
LEFT JOIN endpoint_configs c
  ON c.account_id = e.account_id AND c.region = e.region
  AND c.endpoint_config_name = e.endpoint_config_name
LEFT JOIN endpoint_config_variants cv ON cv.endpoint_config_arn = c.endpoint_config_arn
LEFT JOIN endpoint_variants ev
  ON ev.endpoint_arn = e.endpoint_arn AND ev.variant_kind = cv.variant_kind
  AND ev.variant_name = cv.variant_name
LEFT JOIN models m
  ON m.account_id = e.account_id AND m.region = e.region AND m.model_name = cv.model_name
LEFT JOIN model_containers mc ON mc.model_arn = m.model_arn
LEFT JOIN model_packages p ON p.model_package_arn = mc.model_package_arn
LEFT JOIN (
  SELECT resource_arn,
    COUNT(*) AS open_findings,
    SUM(CASE WHEN severity IN ('critical', 'high') THEN 1 ELSE 0 END) AS open_critical_high
  FROM findings
  WHERE status = 'fail' AND resource_type = 'model_package'
  GROUP BY resource_arn
) f ON f.resource_arn = mc.model_package_arn
"""


def upgrade() -> None:
    op.create_table(
        "endpoint_configs",
        sa.Column("endpoint_config_arn", sa.String(length=2048), nullable=False),
        sa.Column("endpoint_config_name", sa.Text(), nullable=False),
        sa.Column("production_variants", Json, nullable=True),
        sa.Column("data_capture_config", Json, nullable=True),
        sa.Column("kms_key_id", sa.Text(), nullable=True),
        sa.Column("creation_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("async_inference_config", Json, nullable=True),
        sa.Column("explainer_config", Json, nullable=True),
        sa.Column("shadow_production_variants", Json, nullable=True),
        sa.Column("execution_role_arn", sa.Text(), nullable=True),
        sa.Column("vpc_config", Json, nullable=True),
        sa.Column("enable_network_isolation", sa.Boolean(), nullable=True),
        sa.Column("metrics_config", Json, nullable=True),
        sa.Column("cross_region_traffic_config", Json, nullable=True),
        sa.Column(
            "raw",
            Json,
            nullable=False,
            comment="the DescribeEndpointConfig response as received (timestamps as ISO 8601)",
        ),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column(
            "record_source",
            sa.String(length=16),
            nullable=True,
            comment="the call whose answer is stored: search or describe",
        ),
        sa.Column("last_event_id", Id, nullable=True, comment=_LAST_EVENT),
        sa.Column(
            "content_hash",
            sa.String(length=64),
            nullable=True,
            comment="sha256 of the answer and tags: unchanged = not rewritten",
        ),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_seen_scan_id", Id, nullable=False),
        sa.Column(
            "last_seen_scan_id", Id, nullable=False, comment="the scan that last saw this row"
        ),
        sa.ForeignKeyConstraint(
            ["first_seen_scan_id"],
            ["scans.id"],
            name=op.f("fk_endpoint_configs_first_seen_scan_id_scans"),
        ),
        sa.ForeignKeyConstraint(
            ["last_seen_scan_id"],
            ["scans.id"],
            name=op.f("fk_endpoint_configs_last_seen_scan_id_scans"),
        ),
        sa.PrimaryKeyConstraint("endpoint_config_arn", name=op.f("pk_endpoint_configs")),
    )
    op.create_index(
        op.f("ix_endpoint_configs_account_id"), "endpoint_configs", ["account_id"], unique=False
    )
    op.create_index(
        op.f("ix_endpoint_configs_last_seen_scan_id"),
        "endpoint_configs",
        ["last_seen_scan_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_endpoint_configs_region"), "endpoint_configs", ["region"], unique=False
    )
    op.create_table(
        "endpoints",
        sa.Column("endpoint_arn", sa.String(length=2048), nullable=False),
        sa.Column("endpoint_name", sa.Text(), nullable=False),
        sa.Column("endpoint_config_name", sa.Text(), nullable=True),
        sa.Column("production_variants", Json, nullable=True),
        sa.Column("data_capture_config", Json, nullable=True),
        sa.Column("endpoint_status", sa.Text(), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("creation_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_modified_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "last_deployment_config",
            Json,
            nullable=True,
            comment="describe-only (as the five members below): Search's records lack it",
        ),
        sa.Column("async_inference_config", Json, nullable=True),
        sa.Column("pending_deployment_summary", Json, nullable=True),
        sa.Column("explainer_config", Json, nullable=True),
        sa.Column("shadow_production_variants", Json, nullable=True),
        sa.Column("metrics_config", Json, nullable=True),
        sa.Column("cross_region_traffic_config", Json, nullable=True),
        sa.Column("tags", Json, nullable=True, comment="ListTags: [{Key, Value}]"),
        sa.Column(
            "raw",
            Json,
            nullable=False,
            comment="the DescribeEndpoint response as received (timestamps as ISO 8601)",
        ),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column(
            "record_source",
            sa.String(length=16),
            nullable=True,
            comment="the call whose answer is stored: search or describe",
        ),
        sa.Column("last_event_id", Id, nullable=True, comment=_LAST_EVENT),
        sa.Column(
            "content_hash",
            sa.String(length=64),
            nullable=True,
            comment="sha256 of the answer and tags: unchanged = not rewritten",
        ),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_seen_scan_id", Id, nullable=False),
        sa.Column(
            "last_seen_scan_id", Id, nullable=False, comment="the scan that last saw this row"
        ),
        sa.ForeignKeyConstraint(
            ["first_seen_scan_id"], ["scans.id"], name=op.f("fk_endpoints_first_seen_scan_id_scans")
        ),
        sa.ForeignKeyConstraint(
            ["last_seen_scan_id"], ["scans.id"], name=op.f("fk_endpoints_last_seen_scan_id_scans")
        ),
        sa.PrimaryKeyConstraint("endpoint_arn", name=op.f("pk_endpoints")),
    )
    op.create_index(op.f("ix_endpoints_account_id"), "endpoints", ["account_id"], unique=False)
    op.create_index(
        op.f("ix_endpoints_last_seen_scan_id"), "endpoints", ["last_seen_scan_id"], unique=False
    )
    op.create_index(op.f("ix_endpoints_region"), "endpoints", ["region"], unique=False)
    op.create_table(
        "model_cards",
        sa.Column("model_card_arn", sa.String(length=2048), nullable=False),
        sa.Column("model_card_name", sa.Text(), nullable=False),
        sa.Column("model_card_version", sa.Integer(), nullable=True),
        sa.Column("content", sa.Text(), nullable=True, comment="the card's JSON, as text"),
        sa.Column(
            "model_card_status",
            sa.Text(),
            nullable=True,
            comment="Draft, PendingReview, Approved or Archived",
        ),
        sa.Column("security_config", Json, nullable=True),
        sa.Column(
            "kms_key_id",
            sa.Text(),
            nullable=True,
            comment="security_config.KmsKeyId, lifted out for plain SQL",
        ),
        sa.Column("creation_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", Json, nullable=True),
        sa.Column("last_modified_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_modified_by", Json, nullable=True),
        sa.Column(
            "model_card_processing_status",
            sa.Text(),
            nullable=True,
            comment="describe-only: Search's records lack it",
        ),
        sa.Column(
            "model_id",
            sa.Text(),
            nullable=True,
            comment="content's model_overview.model_id: the model it documents",
        ),
        sa.Column(
            "risk_rating",
            sa.Text(),
            nullable=True,
            comment="content's intended_uses.risk_rating (High, Medium, Low or Unknown)",
        ),
        sa.Column(
            "model_package_group_name",
            sa.Text(),
            nullable=True,
            comment="content's model_package_details.model_package_group_name",
        ),
        sa.Column(
            "model_package_arn",
            sa.Text(),
            nullable=True,
            comment="content's model_package_details.model_package_arn",
        ),
        sa.Column("tags", Json, nullable=True, comment="ListTags: [{Key, Value}]"),
        sa.Column(
            "raw",
            Json,
            nullable=False,
            comment="the DescribeModelCard response as received (timestamps as ISO 8601)",
        ),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column(
            "record_source",
            sa.String(length=16),
            nullable=True,
            comment="the call whose answer is stored: search or describe",
        ),
        sa.Column("last_event_id", Id, nullable=True, comment=_LAST_EVENT),
        sa.Column(
            "content_hash",
            sa.String(length=64),
            nullable=True,
            comment="sha256 of the answer and tags: unchanged = not rewritten",
        ),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_seen_scan_id", Id, nullable=False),
        sa.Column(
            "last_seen_scan_id", Id, nullable=False, comment="the scan that last saw this row"
        ),
        sa.ForeignKeyConstraint(
            ["first_seen_scan_id"],
            ["scans.id"],
            name=op.f("fk_model_cards_first_seen_scan_id_scans"),
        ),
        sa.ForeignKeyConstraint(
            ["last_seen_scan_id"], ["scans.id"], name=op.f("fk_model_cards_last_seen_scan_id_scans")
        ),
        sa.PrimaryKeyConstraint("model_card_arn", name=op.f("pk_model_cards")),
    )
    op.create_index(op.f("ix_model_cards_account_id"), "model_cards", ["account_id"], unique=False)
    op.create_index(
        op.f("ix_model_cards_last_seen_scan_id"), "model_cards", ["last_seen_scan_id"], unique=False
    )
    op.create_index(op.f("ix_model_cards_region"), "model_cards", ["region"], unique=False)
    op.create_table(
        "models",
        sa.Column("model_arn", sa.String(length=2048), nullable=False),
        sa.Column("model_name", sa.Text(), nullable=False),
        sa.Column("primary_container", Json, nullable=True),
        sa.Column("containers", Json, nullable=True),
        sa.Column("inference_execution_config", Json, nullable=True),
        sa.Column("execution_role_arn", sa.Text(), nullable=True),
        sa.Column("vpc_config", Json, nullable=True),
        sa.Column("creation_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("enable_network_isolation", sa.Boolean(), nullable=True),
        sa.Column("deployment_recommendation", Json, nullable=True),
        sa.Column("tags", Json, nullable=True, comment="ListTags: [{Key, Value}]"),
        sa.Column(
            "raw",
            Json,
            nullable=False,
            comment="the DescribeModel response as received (timestamps as ISO 8601)",
        ),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column(
            "record_source",
            sa.String(length=16),
            nullable=True,
            comment="the call whose answer is stored: search or describe",
        ),
        sa.Column("last_event_id", Id, nullable=True, comment=_LAST_EVENT),
        sa.Column(
            "content_hash",
            sa.String(length=64),
            nullable=True,
            comment="sha256 of the answer and tags: unchanged = not rewritten",
        ),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_seen_scan_id", Id, nullable=False),
        sa.Column(
            "last_seen_scan_id", Id, nullable=False, comment="the scan that last saw this row"
        ),
        sa.ForeignKeyConstraint(
            ["first_seen_scan_id"], ["scans.id"], name=op.f("fk_models_first_seen_scan_id_scans")
        ),
        sa.ForeignKeyConstraint(
            ["last_seen_scan_id"], ["scans.id"], name=op.f("fk_models_last_seen_scan_id_scans")
        ),
        sa.PrimaryKeyConstraint("model_arn", name=op.f("pk_models")),
    )
    op.create_index(op.f("ix_models_account_id"), "models", ["account_id"], unique=False)
    op.create_index(
        op.f("ix_models_last_seen_scan_id"), "models", ["last_seen_scan_id"], unique=False
    )
    op.create_index(op.f("ix_models_region"), "models", ["region"], unique=False)
    op.create_table(
        "endpoint_config_variants",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("endpoint_config_arn", sa.String(length=2048), nullable=False),
        sa.Column(
            "last_seen_scan_id", Id, nullable=False, comment="the scan that last saw this row"
        ),
        sa.Column(
            "variant_kind",
            sa.String(length=16),
            nullable=False,
            comment="production (ProductionVariants) or shadow (ShadowProductionVariants)",
        ),
        sa.Column("variant_index", sa.Integer(), nullable=False),
        sa.Column("variant_name", sa.Text(), nullable=True),
        sa.Column("model_name", sa.Text(), nullable=True),
        sa.Column("initial_instance_count", sa.Integer(), nullable=True),
        sa.Column("instance_type", sa.Text(), nullable=True),
        sa.Column("instance_pools", Json, nullable=True),
        sa.Column("variant_instance_provision_timeout_in_seconds", sa.Integer(), nullable=True),
        sa.Column("initial_variant_weight", sa.Float(), nullable=True),
        sa.Column("accelerator_type", sa.Text(), nullable=True),
        sa.Column("core_dump_config", Json, nullable=True),
        sa.Column("serverless_config", Json, nullable=True),
        sa.Column("volume_size_in_gb", sa.Integer(), nullable=True),
        sa.Column("model_data_download_timeout_in_seconds", sa.Integer(), nullable=True),
        sa.Column("container_startup_health_check_timeout_in_seconds", sa.Integer(), nullable=True),
        sa.Column("enable_ssm_access", sa.Boolean(), nullable=True),
        sa.Column("managed_instance_scaling", Json, nullable=True),
        sa.Column("routing_config", Json, nullable=True),
        sa.Column("inference_ami_version", sa.Text(), nullable=True),
        sa.Column("capacity_reservation_config", Json, nullable=True),
        sa.Column("accelerator_partition_layouts", Json, nullable=True),
        sa.ForeignKeyConstraint(
            ["endpoint_config_arn"],
            ["endpoint_configs.endpoint_config_arn"],
            name=op.f("fk_endpoint_config_variants_endpoint_config_arn_endpoint_configs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["last_seen_scan_id"],
            ["scans.id"],
            name=op.f("fk_endpoint_config_variants_last_seen_scan_id_scans"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endpoint_config_variants")),
    )
    op.create_index(
        op.f("ix_endpoint_config_variants_endpoint_config_arn"),
        "endpoint_config_variants",
        ["endpoint_config_arn"],
        unique=False,
    )
    op.create_index(
        op.f("ix_endpoint_config_variants_last_seen_scan_id"),
        "endpoint_config_variants",
        ["last_seen_scan_id"],
        unique=False,
    )
    op.create_table(
        "endpoint_variants",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("endpoint_arn", sa.String(length=2048), nullable=False),
        sa.Column(
            "last_seen_scan_id", Id, nullable=False, comment="the scan that last saw this row"
        ),
        sa.Column(
            "variant_kind",
            sa.String(length=16),
            nullable=False,
            comment="production (ProductionVariants) or shadow (ShadowProductionVariants)",
        ),
        sa.Column("variant_index", sa.Integer(), nullable=False),
        sa.Column("variant_name", sa.Text(), nullable=True),
        sa.Column("deployed_images", Json, nullable=True),
        sa.Column("current_weight", sa.Float(), nullable=True),
        sa.Column("desired_weight", sa.Float(), nullable=True),
        sa.Column("current_instance_count", sa.Integer(), nullable=True),
        sa.Column("desired_instance_count", sa.Integer(), nullable=True),
        sa.Column("instance_pools", Json, nullable=True),
        sa.Column("variant_status", Json, nullable=True),
        sa.Column("current_serverless_config", Json, nullable=True),
        sa.Column("desired_serverless_config", Json, nullable=True),
        sa.Column("managed_instance_scaling", Json, nullable=True),
        sa.Column("routing_config", Json, nullable=True),
        sa.Column("capacity_reservation_config", Json, nullable=True),
        sa.Column("accelerator_partition_layouts", Json, nullable=True),
        sa.ForeignKeyConstraint(
            ["endpoint_arn"],
            ["endpoints.endpoint_arn"],
            name=op.f("fk_endpoint_variants_endpoint_arn_endpoints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["last_seen_scan_id"],
            ["scans.id"],
            name=op.f("fk_endpoint_variants_last_seen_scan_id_scans"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endpoint_variants")),
    )
    op.create_index(
        op.f("ix_endpoint_variants_endpoint_arn"),
        "endpoint_variants",
        ["endpoint_arn"],
        unique=False,
    )
    op.create_index(
        op.f("ix_endpoint_variants_last_seen_scan_id"),
        "endpoint_variants",
        ["last_seen_scan_id"],
        unique=False,
    )
    op.create_table(
        "model_containers",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("model_arn", sa.String(length=2048), nullable=False),
        sa.Column(
            "last_seen_scan_id", Id, nullable=False, comment="the scan that last saw this row"
        ),
        sa.Column(
            "place", sa.String(length=32), nullable=False, comment="PrimaryContainer or Containers"
        ),
        sa.Column("container_index", sa.Integer(), nullable=False),
        sa.Column(
            "model_package_arn",
            sa.Text(),
            nullable=True,
            comment="the package model_package_name names, as an ARN (a bare name: the "
            "unversioned package in the model's account and region); null: not from the "
            "registry",
        ),
        sa.Column("container_hostname", sa.Text(), nullable=True),
        sa.Column("image", sa.Text(), nullable=True),
        sa.Column("image_config", Json, nullable=True),
        sa.Column("mode", sa.Text(), nullable=True),
        sa.Column("model_data_url", sa.Text(), nullable=True),
        sa.Column("model_data_source", Json, nullable=True),
        sa.Column("additional_model_data_sources", Json, nullable=True),
        sa.Column("environment", Json, nullable=True),
        sa.Column("model_package_name", sa.Text(), nullable=True),
        sa.Column("inference_specification_name", sa.Text(), nullable=True),
        sa.Column("multi_model_config", Json, nullable=True),
        sa.Column("container_metrics_config", Json, nullable=True),
        sa.Column("raw", Json, nullable=False),
        sa.ForeignKeyConstraint(
            ["last_seen_scan_id"],
            ["scans.id"],
            name=op.f("fk_model_containers_last_seen_scan_id_scans"),
        ),
        sa.ForeignKeyConstraint(
            ["model_arn"],
            ["models.model_arn"],
            name=op.f("fk_model_containers_model_arn_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_containers")),
    )
    op.create_index(
        op.f("ix_model_containers_last_seen_scan_id"),
        "model_containers",
        ["last_seen_scan_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_model_containers_model_arn"), "model_containers", ["model_arn"], unique=False
    )
    op.create_index(
        op.f("ix_model_containers_model_package_arn"),
        "model_containers",
        ["model_package_arn"],
        unique=False,
    )

    # The deployments view's joins by name within an account and region, and its lookup of
    # a group's latest approved version
    op.create_index(
        "ix_model_packages_by_group",
        "model_packages",
        ["model_package_group_name", "account_id", "region", "model_approval_status"],
    )
    op.create_index("ix_models_by_name", "models", ["account_id", "region", "model_name"])
    op.create_index(
        "ix_endpoint_configs_by_name",
        "endpoint_configs",
        ["account_id", "region", "endpoint_config_name"],
    )
    # Plain ALTER TABLE ... ADD COLUMN on both engines: no table is copied.
    comments = ("models stored", "endpoint configurations stored", "endpoints stored",
                "model cards stored")  # fmt: skip
    for column, comment in zip(COUNTS, comments, strict=True):
        op.add_column(
            "scan_regions",
            sa.Column(column, sa.Integer(), server_default="0", nullable=False, comment=comment),
        )
    op.execute(DEPLOYMENTS)


def downgrade() -> None:
    op.execute("DROP VIEW deployments")
    op.drop_index("ix_model_packages_by_group", table_name="model_packages")
    for column in COUNTS:
        with op.batch_alter_table("scan_regions") as batch:
            batch.drop_column(column)
    for table in reversed(TABLES):
        op.drop_table(table)

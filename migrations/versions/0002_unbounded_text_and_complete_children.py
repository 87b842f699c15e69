"""Strings from AWS become unbounded text; containers get every botocore member; group
policies say whether they are present, absent or unknown.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Json = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
)

ERROR_KIND_COMMENT = (
    "denied, throttled, unavailable, error (from AWS); store (a row the database refused); "
    "internal (a bug: see the log); interrupted"
)
POLICY_COMMENT = "GetModelPackageGroupPolicy, parsed; null when there is none or it is unknown"

# (table, column, old type) for every column that becomes Text.
TO_TEXT = [
    ("model_packages", "model_package_name", sa.String(255)),
    ("model_packages", "model_package_group_name", sa.String(255)),
    ("model_packages", "model_package_registration_type", sa.String(32)),
    ("model_packages", "model_package_status", sa.String(32)),
    ("model_packages", "model_approval_status", sa.String(32)),
    ("model_packages", "domain", sa.String(255)),
    ("model_packages", "task", sa.String(255)),
    ("model_packages", "sample_payload_url", sa.String(2048)),
    ("model_packages", "skip_model_validation", sa.String(16)),
    ("model_packages", "source_uri", sa.String(2048)),
    ("model_packages", "managed_storage_type", sa.String(64)),
    ("model_package_containers", "specification_name", sa.String(255)),
    ("model_package_containers", "container_hostname", sa.String(255)),
    ("model_package_containers", "image", sa.String(2048)),
    ("model_package_containers", "image_digest", sa.String(255)),
    ("model_package_containers", "model_data_url", sa.String(2048)),
    ("model_package_containers", "product_id", sa.String(255)),
    ("model_package_containers", "framework", sa.String(255)),
    ("model_package_containers", "framework_version", sa.String(64)),
    ("model_package_containers", "nearest_model_name", sa.String(255)),
    ("model_package_validation_statuses", "name", sa.String(2048)),
    ("model_package_validation_statuses", "status", sa.String(32)),
    ("model_package_metric_sources", "category", sa.String(64)),
    ("model_package_metric_sources", "name", sa.String(64)),
    ("model_package_metric_sources", "s3_uri", sa.String(2048)),
    ("model_package_metric_sources", "content_type", sa.String(255)),
    ("model_package_metric_sources", "content_digest", sa.String(255)),
    ("model_package_groups", "model_package_group_name", sa.String(255)),
    ("model_package_groups", "model_package_group_status", sa.String(32)),
    ("scan_regions", "error_code", sa.String(128)),
]
NEW_CONTAINER_COLUMNS = [
    ("model_input", Json),
    ("additional_model_data_sources", Json),
    ("additional_s3_data_source", Json),
    ("model_data_e_tag", sa.Text()),
    ("is_checkpoint", sa.Boolean()),
    ("base_model", Json),
]


def _tables() -> dict[str, list]:
    tables: dict[str, list] = {}
    for table, column, old in TO_TEXT:
        tables.setdefault(table, []).append((column, old))
    return tables


def upgrade() -> None:
    for table, columns in _tables().items():
        with op.batch_alter_table(table) as batch:
            for column, old in columns:
                batch.alter_column(column, existing_type=old, type_=sa.Text())
            if table == "model_package_containers":
                for name, type_ in NEW_CONTAINER_COLUMNS:
                    batch.add_column(sa.Column(name, type_, nullable=True))
            if table == "scan_regions":
                batch.alter_column(
                    "status",
                    existing_type=sa.String(16),
                    existing_nullable=False,
                    comment="running, complete, failed or interrupted",
                )
                batch.alter_column(
                    "error_kind",
                    existing_type=sa.String(32),
                    existing_nullable=True,
                    comment=ERROR_KIND_COMMENT,
                )
                batch.add_column(
                    sa.Column(
                        "added",
                        sa.Integer(),
                        server_default="0",
                        nullable=False,
                        comment="packages and groups new to the inventory",
                    )
                )
            if table == "model_package_groups":
                batch.alter_column(
                    "resource_policy",
                    existing_type=Json,
                    existing_nullable=True,
                    comment=POLICY_COMMENT,
                )
                batch.add_column(
                    sa.Column(
                        "resource_policy_status",
                        sa.String(16),
                        server_default="unknown",
                        nullable=False,
                        comment="present, none (AWS said the group has no policy) or unknown "
                        "(not read: see resource_policy_error)",
                    )
                )
                batch.add_column(
                    sa.Column(
                        "resource_policy_error",
                        sa.Text(),
                        nullable=True,
                        comment="why the policy is unknown: the AWS error, or a shared "
                        "group's owner",
                    )
                )
    # Rows stored before 0002 read their policy with the old rule (any ValidationException
    # meant "none"), so only a stored policy is known for sure.
    op.execute(
        "UPDATE model_package_groups SET resource_policy_status = 'present' "
        "WHERE resource_policy IS NOT NULL"
    )


def downgrade() -> None:
    for table, columns in _tables().items():
        with op.batch_alter_table(table) as batch:
            if table == "model_package_containers":
                for name, _ in NEW_CONTAINER_COLUMNS:
                    batch.drop_column(name)
            if table == "scan_regions":
                batch.drop_column("added")
                batch.alter_column(
                    "status",
                    existing_type=sa.String(16),
                    existing_nullable=False,
                    comment="running, complete or failed",
                )
                batch.alter_column(
                    "error_kind",
                    existing_type=sa.String(32),
                    existing_nullable=True,
                    comment="denied, throttled, unavailable or error",
                )
            if table == "model_package_groups":
                batch.alter_column(
                    "resource_policy",
                    existing_type=Json,
                    existing_nullable=True,
                    comment="GetModelPackageGroupPolicy, parsed; null when the group has no policy",
                )
                batch.drop_column("resource_policy_error")
                batch.drop_column("resource_policy_status")
            for column, old in columns:
                batch.alter_column(column, existing_type=sa.Text(), type_=old)

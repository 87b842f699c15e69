"""History: a content hash per resource, and resource_changes (added, removed, modified fields)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 22:55:30.358099
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resource_changes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "scan_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            comment="the scan that saw the change",
        ),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "resource_type",
            sa.String(length=32),
            nullable=False,
            comment="model_package or model_package_group",
        ),
        sa.Column("resource_arn", sa.String(length=2048), nullable=False),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column(
            "change", sa.String(length=16), nullable=False, comment="added, removed or modified"
        ),
        sa.Column(
            "field",
            sa.Text(),
            nullable=True,
            comment="modified: the column (snake_case member), resource_policy or tag:<key>",
        ),
        sa.Column(
            "old",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
            comment="the value before (JSON)",
        ),
        sa.Column(
            "new",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
            comment="the value after (JSON)",
        ),
        sa.ForeignKeyConstraint(
            ["scan_id"], ["scans.id"], name=op.f("fk_resource_changes_scan_id_scans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resource_changes")),
    )
    with op.batch_alter_table("resource_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_resource_changes_resource_arn"), ["resource_arn"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_resource_changes_scan_id"), ["scan_id"], unique=False)

    with op.batch_alter_table("model_package_groups", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "content_hash",
                sa.String(length=64),
                nullable=True,
                comment="sha256 of what was collected: unchanged = not rewritten",
            )
        )

    with op.batch_alter_table("model_packages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "content_hash",
                sa.String(length=64),
                nullable=True,
                comment="sha256 of the describe response and tags: unchanged = not rewritten",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("model_packages", schema=None) as batch_op:
        batch_op.drop_column("content_hash")

    with op.batch_alter_table("model_package_groups", schema=None) as batch_op:
        batch_op.drop_column("content_hash")

    with op.batch_alter_table("resource_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resource_changes_scan_id"))
        batch_op.drop_index(batch_op.f("ix_resource_changes_resource_arn"))

    op.drop_table("resource_changes")

"""Search-based collection: how each region's records were read, and each row's source

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 17:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_MANAGED = (
    "describe-only: Search's records lack it, so it is filled when the package is described "
    "and kept from its last describe when Search reads it"
)


def upgrade() -> None:
    # Plain ALTER TABLE ... ADD COLUMN on both engines: no table is copied.
    op.add_column(
        "scan_regions",
        sa.Column(
            "collect",
            sa.String(length=16),
            server_default="describe",
            nullable=False,
            comment="how records were read: search (describing what Search lagged on) or describe",
        ),
    )
    op.add_column(
        "scan_regions",
        sa.Column(
            "collect_note",
            sa.Text(),
            nullable=True,
            comment="why a region asked to search was described instead (Search denied)",
        ),
    )
    op.add_column(
        "scan_regions",
        sa.Column(
            "searched",
            sa.Integer(),
            server_default="0",
            nullable=False,
            comment="resources filled from Search's records",
        ),
    )
    op.add_column(
        "scan_regions",
        sa.Column(
            "described",
            sa.Integer(),
            server_default="0",
            nullable=False,
            comment="resources read by describe calls (search mode: those Search lagged on)",
        ),
    )
    op.add_column(
        "model_packages",
        sa.Column(
            "record_source",
            sa.String(length=16),
            nullable=True,
            comment="the call whose answer is stored: search or describe",
        ),
    )
    op.add_column(
        "model_package_groups",
        sa.Column(
            "record_source",
            sa.String(length=16),
            nullable=True,
            comment="the call whose answer is stored: search, describe, or listing (a shared "
            "group: its summary)",
        ),
    )
    if op.get_context().dialect.name != "sqlite":  # SQLite keeps no comments
        op.alter_column(
            "model_packages", "managed_storage_type", existing_type=sa.Text(), comment=_MANAGED
        )


def downgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        op.alter_column(
            "model_packages",
            "managed_storage_type",
            existing_type=sa.Text(),
            comment=None,
            existing_comment=_MANAGED,
        )
    for table in ("model_package_groups", "model_packages"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("record_source")
    with op.batch_alter_table("scan_regions") as batch_op:
        for column in ("described", "searched", "collect_note", "collect"):
            batch_op.drop_column(column)

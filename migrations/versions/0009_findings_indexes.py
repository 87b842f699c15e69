"""findings: drop the indexes no query uses, which every finding written paid for

`ix_findings_status` (status, severity) and `ix_findings_scan_id`: no read of findings
selects few enough rows by status or by scan for an index to pay (a status is shared by
most findings; prune's scan checks read four scan columns, three of them unindexed). A
first evaluation of 100,000 packages writes 183,336 findings, and these two indexes cost
PostgreSQL about 1 s of it (benchmarks/README.md, "rules_scale.py").

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 05:05:00
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_findings_status", table_name="findings")
    op.drop_index("ix_findings_scan_id", table_name="findings")


def downgrade() -> None:
    op.create_index("ix_findings_scan_id", "findings", ["scan_id"])
    op.create_index("ix_findings_status", "findings", ["status", "severity"])

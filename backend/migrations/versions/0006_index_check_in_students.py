"""index check-ins by student, joining the area migrations

Revision ID: 0006
Revises: 0003, 0004, 0005
Create Date: 2026-12-04 17:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = ("0003", "0004", "0005")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Deleting a student row makes the database look for check-ins that refer
    # to it; without this index that is a scan of every check-in per row.
    with op.batch_alter_table("drop_in_check_ins", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_drop_in_check_ins_student_row_id"),
            ["student_row_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("drop_in_check_ins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drop_in_check_ins_student_row_id"))

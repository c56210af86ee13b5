"""keep the newest applied file of each scope as a baseline for previews,
and index roster rows by scope and write time

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ROSTER_TABLES = (
    "students",
    "courses",
    "course_enrollments",
    "student_metadata",
    "course_grades",
    "providers",
)


def upgrade() -> None:
    with op.batch_alter_table("import_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("baseline", sa.JSON(), nullable=True))
    for table in ROSTER_TABLES:
        op.create_index(
            f"ix_{table}_scope_updated",
            table,
            ["community_id", "source", "updated_at"],
        )


def downgrade() -> None:
    for table in ROSTER_TABLES:
        op.drop_index(f"ix_{table}_scope_updated", table_name=table)
    with op.batch_alter_table("import_runs", schema=None) as batch_op:
        batch_op.drop_column("baseline")

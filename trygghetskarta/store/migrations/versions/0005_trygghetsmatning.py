"""The police's trygghetsmätning (#17): a problem index 0–6 per sub-area and question, by year, shown beside
reported events per area.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from trygghetskarta.store.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trygghetsmatning",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("year", sa.Integer, nullable=False, index=True),
        sa.Column("area_name", sa.String(200), nullable=False),
        sa.Column("area_id", sa.Integer, sa.ForeignKey("areas.id", name="fk_trygghetsmatning_area",
                                                       ondelete="SET NULL")),
        sa.Column("question", sa.String(300), nullable=False),
        sa.Column("problem_index", sa.Float, nullable=False),
        sa.Column("respondents", sa.Integer),
        sa.Column("file_name", sa.String(300)),
        sa.Column("imported_by", sa.String(100)),
        sa.Column("imported_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("year", "area_name", "question", name="uq_trygghetsmatning_year_area_question"),
    )


def downgrade() -> None:
    op.drop_table("trygghetsmatning")

"""The data version: one row that every write transaction advances, so that the caches of every app instance
over the same database (and the CLI's writes) are refreshed at the next interaction (issue #15).

- ``data_version``: a single row (``id`` = 1) with ``version``, advanced by ``Store.write()`` inside the
  writing transaction, and ``epoch``, a random token made when the table is created, so a database made
  again at the same address never matches a cache entry of the one before.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "data_version",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("epoch", sa.String(32), nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.CheckConstraint("id = 1", name="ck_data_version_single_row"),
    )
    op.bulk_insert(table, [{"id": 1, "epoch": uuid.uuid4().hex, "version": 0}])


def downgrade() -> None:
    op.drop_table("data_version")

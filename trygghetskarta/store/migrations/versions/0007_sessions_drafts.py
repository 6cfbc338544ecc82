"""Server-side login sessions and report drafts (issue #14), so that a reload keeps the login and a half-filled
report.

- ``sessions``: one row per login. The browser holds a random token in an HttpOnly cookie; only its SHA-256
  (``token_hash``) is stored. A login first makes the row with a one-time ``ticket_hash`` valid until
  ``ticket_expires_at``; the app's ``/auth/session`` route exchanges the ticket for the token and sets the
  cookie. ``role``, ``organisation`` and ``sso_subject`` are the identity at login (checked against the user
  row at every interaction); ``last_seen_at`` gives the idle timeout.
- ``drafts``: one unsaved report per user and form (``data`` is JSON), removed when the report is saved.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from trygghetskarta.store.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), unique=True),
        sa.Column("ticket_hash", sa.String(64), unique=True),
        sa.Column("ticket_expires_at", UTCDateTime),
        sa.Column("username", sa.String(100), nullable=False, index=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("organisation", sa.String(40)),
        sa.Column("sso_subject", sa.String(300)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_seen_at", UTCDateTime, nullable=False, index=True),
    )
    op.create_table(
        "drafts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("form", sa.String(40), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("username", "form", name="uq_drafts_username_form"),
    )


def downgrade() -> None:
    op.drop_table("drafts")
    op.drop_table("sessions")

"""The public face (issue 16): residents' reports without an account, the e-mail outbox, Open311 API keys
and rate-limit counters that hold across app processes.

- ``public_reports``: one row per finding a resident (web form) or an Open311 client sent: the receipt code
  shown after sending, the long status token of the status link, the moderation state (vantar → godkand /
  avvisad), and an optional reporter e-mail with its language and one-link unsubscribe token.
- ``outbox``: every e-mail the product sends, with a unique ``dedupe_key`` (a message is queued once), its
  delivery state (queued → sending → sent, or failed on a permanent refusal), attempts, next try and sent time.
- ``api_keys``: Open311 clients' keys, kept only as argon2 hashes (the key is shown once when made).
- ``rate_counters``: hits per bucket (a client address, an address range, an API key) per fixed window.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from trygghetskarta.store.types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "public_reports",
        sa.Column("finding_id", sa.Integer, sa.ForeignKey("findings.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("receipt_code", sa.String(20), nullable=False, unique=True),
        sa.Column("status_token", sa.String(64), nullable=False, unique=True),
        sa.Column("channel", sa.String(20), nullable=False),  # webb / open311
        sa.Column("api_client", sa.String(100)),
        sa.Column("lang", sa.String(5), nullable=False),
        sa.Column("email", sa.String(320)),
        sa.Column("unsubscribe_token", sa.String(64), unique=True),
        sa.Column("unsubscribed_at", UTCDateTime),
        sa.Column("address", sa.String(300), nullable=False, server_default=""),
        sa.Column("moderation", sa.String(20), nullable=False, index=True),
        sa.Column("moderated_by", sa.String(100)),
        sa.Column("moderated_at", UTCDateTime),
        sa.Column("moderation_reason", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("dedupe_key", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("lang", sa.String(5), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("unsubscribe_url", sa.String(500)),
        sa.Column("finding_id", sa.Integer, sa.ForeignKey("findings.id", ondelete="SET NULL")),
        sa.Column("state", sa.String(20), nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_try_at", UTCDateTime, nullable=False, index=True),
        sa.Column("lease_until", UTCDateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("sent_at", UTCDateTime),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("key_prefix", sa.String(16), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(300), nullable=False),
        sa.Column("created_by", sa.String(100)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("revoked_at", UTCDateTime),
        sa.Column("last_used_at", UTCDateTime),
    )
    op.create_table(
        "rate_counters",
        sa.Column("bucket", sa.String(200), primary_key=True),
        sa.Column("window_start", sa.BigInteger, primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in ("rate_counters", "api_keys", "outbox", "public_reports"):
        op.drop_table(table)

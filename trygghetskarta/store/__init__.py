"""The store: the only place that speaks SQL. ``open_store()`` gives one; see docs/ARCHITECTURE.md."""

from __future__ import annotations

from trygghetskarta.store.actions import ActionsMixin
from trygghetskarta.store.core import (
    InsertResult,
    PreparedBatch,
    RestrictedView,
    content_key,
    deferred_view_audit,
    now_utc,
)
from trygghetskarta.store.est import EstMixin
from trygghetskarta.store.perceived import PerceivedMixin
from trygghetskarta.store.public import PublicMixin
from trygghetskarta.store.retention import RetentionMixin
from trygghetskarta.store.sessions import SessionsMixin
from trygghetskarta.store.users import UsersMixin
from trygghetskarta.store.workflow import WorkflowMixin


class Store(ActionsMixin, PublicMixin, WorkflowMixin, UsersMixin, RetentionMixin, EstMixin, PerceivedMixin,
            SessionsMixin):
    """SQLite (embedded default) or PostgreSQL + PostGIS, with the same behaviour."""


def open_store(url: str | None = None) -> Store:
    """A store for ``url`` (else ``TRYGGHETSKARTA_DB``, else the embedded SQLite file)."""
    return Store(url)


__all__ = ["InsertResult", "PreparedBatch", "RestrictedView", "Store", "content_key", "deferred_view_audit", "now_utc",
           "open_store"]

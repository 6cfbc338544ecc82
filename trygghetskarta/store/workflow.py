"""Status events, walk participants and photos: the store side of a walk and its follow-up (the lifecycle's
rules are ``lifecycle``; the service ``trygghetskarta.workflow`` applies them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import sqlalchemy as sa

from trygghetskarta import access
from trygghetskarta.access import Viewer
from trygghetskarta.errors import NotFoundError, ValidationError
from trygghetskarta.store import tables as t
from trygghetskarta.store.core import StoreCore
from trygghetskarta.timeutil import local_zone, now_utc


def _participant_name(username: str) -> str:
    name = str(username or "").strip()
    if not name or len(name) > 100:
        msg = "name the participant (a username of at most 100 characters)"
        raise ValidationError(msg)
    return name


class WorkflowMixin(StoreCore):
    """Status changes with their events, walk participants, photo references."""

    def finding_status_row(self, conn: Any, finding_id: int) -> Any:
        """(status, responsible) of one finding in the caller's transaction; ``NotFoundError`` if none."""
        row = conn.execute(sa.select(t.findings.c.status, t.findings.c.responsible).where(
            t.findings.c.id == int(finding_id))).first()
        if row is None:
            msg = f"no finding with id {finding_id}"
            raise NotFoundError(msg)
        return row

    def status_events(self, kind: str, record_id: int) -> pd.DataFrame:
        """The history of a record, oldest first."""
        with self.read_conn() as conn:
            res = conn.execute(sa.select(t.status_events).where(
                t.status_events.c.kind == kind, t.status_events.c.record_id == int(record_id)
            ).order_by(t.status_events.c.at, t.status_events.c.id))
            frame = pd.DataFrame(res.fetchall(), columns=list(res.keys()))
        if not frame.empty:
            frame["at"] = pd.to_datetime(frame["at"], utc=True)
        return frame

    def add_participant(self, walk_id: int, username: str, conn: Any = None, *, actor: Viewer | None = None) -> None:
        """Make ``username`` a participant of a walk (a deltagare then sees the walk's records as far as the walk's
        audience allows); in the caller's transaction when ``conn`` is given.

        ``actor`` is who asks (None: the local administrator). A planner or administrator invites anyone to any
        walk; a deltagare joins only themselves and only an open walk they may see (``access.check_may_join``:
        today or later in the kommun's time zone). Refused with ``PermissionDeniedError``; checked here, in the
        write transaction, so no page or report path can skip it."""
        username = _participant_name(username)

        def _do(c: Any) -> None:
            if not self._check_participation(c, walk_id, username, actor):
                c.execute(sa.insert(t.walk_participants).values(walk_id=int(walk_id), username=username))
                invited = actor is None or actor.username != username
                self.audit("walk_invite" if invited else "walk_join", actor, "walk", int(walk_id),
                           {"username": username} if invited else None, conn=c)

        if conn is not None:
            _do(conn)
            return
        with self.write() as c:
            _do(c)

    def participant_walk_ids(self, username: str) -> set[int]:
        """The walks ``username`` takes part in."""
        with self.read_conn() as c:
            return {int(i) for i in c.execute(sa.select(t.walk_participants.c.walk_id).where(
                t.walk_participants.c.username == str(username))).scalars()}

    def check_participation(self, walk_id: int, username: str, actor: Viewer | None = None) -> None:
        """Raise as ``add_participant`` would, without writing (a report checks this before storing photos)."""
        with self.read_conn() as c:
            self._check_participation(c, walk_id, _participant_name(username), actor)

    @staticmethod
    def _check_participation(c: Any, walk_id: int, username: str, actor: Viewer | None) -> bool:
        """The participation rule (``access.check_may_join``) on the walk's row; whether already a participant."""
        walk = c.execute(sa.select(t.walks.c.started_at, t.walks.c.audience).where(
            t.walks.c.id == int(walk_id))).first()
        if walk is None:
            msg = f"no walk with id {walk_id}"
            raise NotFoundError(msg)
        exists = c.execute(sa.select(t.walk_participants.c.walk_id).where(
            t.walk_participants.c.walk_id == int(walk_id),
            t.walk_participants.c.username == username)).first() is not None
        zone = local_zone()
        access.check_may_join(actor, username, walk_audience=str(walk.audience),
                              walk_day=walk.started_at.astimezone(zone).date(),
                              today=dt.datetime.now(zone).date(), already=exists)
        return exists

    def add_photo(self, finding_id: int, path: str, thumb_path: str, sha256: str, width: int, height: int,
                  taken_at: dt.datetime | None = None, conn: Any = None) -> int:
        """Reference a stored photo from a finding (the file itself is written by ``photos``)."""
        row = {"finding_id": int(finding_id), "path": path, "thumb_path": thumb_path, "sha256": sha256,
               "width": int(width), "height": int(height), "taken_at": taken_at, "created_at": now_utc()}

        def _do(c: Any) -> int:
            existing = c.execute(sa.select(t.photos.c.id).where(
                t.photos.c.finding_id == int(finding_id), t.photos.c.sha256 == sha256)).scalar()
            if existing is not None:
                return int(existing)
            return int(c.execute(sa.insert(t.photos).values(**row).returning(t.photos.c.id)).scalar())

        if conn is not None:
            return _do(conn)
        with self.write() as c:
            return _do(c)

    def photos(self, finding_ids: list[int], viewer: Viewer | None = None) -> pd.DataFrame:
        """Photo references of findings the viewer may see."""
        visible = self.read("finding", viewer, ids=[int(i) for i in finding_ids])["id"].tolist()
        if not visible:
            return pd.DataFrame(columns=[c.name for c in t.photos.columns])
        with self.read_conn() as conn:
            res = conn.execute(sa.select(t.photos).where(t.photos.c.finding_id.in_(visible)).order_by(
                t.photos.c.id))
            return pd.DataFrame(res.fetchall(), columns=list(res.keys()))

    def may_read(self, viewer: Viewer | None, kind: str) -> bool:
        """Whether the viewer may read any rows of ``kind`` (used to decide what a page offers)."""
        return access.policy(viewer, kind).mode != "none"

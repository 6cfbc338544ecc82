"""Server-side sessions and drafts (issue #14) on SQLite and on PostGIS: tickets are one-time and short-lived,
only hashes are stored, the idle timeout and the account's state end a session, logout ends it on the server,
and a draft is kept per user and form until it is deleted."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from trygghetskarta import auth, sessions
from trygghetskarta.access import Viewer
from trygghetskarta.store import Store
from trygghetskarta.store import tables as t

T0 = dt.datetime(2026, 12, 4, 18, 0, tzinfo=dt.UTC)
PASSWORD = "ett-langt-losenord-42"


@pytest.fixture
def planner(store: Store) -> Viewer:
    auth.create_user(store, "pia", "planerare", PASSWORD)
    return Viewer("pia", "planerare", None)


def _login(store: Store, viewer: Viewer, now: dt.datetime = T0, sso_subject: str | None = None) -> str:
    _sid, ticket = sessions.start(store, viewer, sso_subject=sso_subject, now=now)
    token = sessions.redeem(store, ticket, now=now + dt.timedelta(seconds=5))
    assert token is not None
    return token


def test_a_ticket_is_redeemed_once_and_only_hashes_are_stored(store: Store, planner: Viewer) -> None:
    sid, ticket = sessions.start(store, planner, now=T0)
    token = sessions.redeem(store, ticket, now=T0 + dt.timedelta(seconds=1))
    assert token is not None and token != ticket and len(token) >= 40
    assert sessions.redeem(store, ticket, now=T0 + dt.timedelta(seconds=2)) is None  # used up
    with store.read_conn() as conn:
        row = conn.execute(sa.select(t.sessions)).mappings().one()
    assert row["id"] == sid
    assert row["token_hash"] == sessions.digest(token) and row["ticket_hash"] is None
    assert token not in str(dict(row)) and ticket not in str(dict(row))
    live = sessions.check(store, token=token, now=T0 + dt.timedelta(minutes=1))
    assert live is not None and live.id == sid and live.viewer == planner


def test_an_expired_or_unknown_ticket_opens_nothing(store: Store, planner: Viewer) -> None:
    _sid, ticket = sessions.start(store, planner, now=T0)
    late = T0 + dt.timedelta(seconds=sessions.TICKET_SECONDS + 1)
    assert sessions.redeem(store, ticket, now=late) is None
    assert sessions.redeem(store, "not-a-ticket", now=T0) is None
    assert sessions.redeem(store, None, now=T0) is None
    assert sessions.check(store, token="not-a-token", now=T0) is None


def test_the_idle_timeout_ends_the_session_on_the_server(store: Store, planner: Viewer,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRYGGHETSKARTA_SESSION_TIMEOUT_MINUTES", "60")
    token = _login(store, planner)
    # each check within the timeout refreshes the last-seen time, so activity keeps it alive past 60 minutes
    for minutes in (40, 80, 120):
        assert sessions.check(store, token=token, now=T0 + dt.timedelta(minutes=minutes)) is not None
    assert sessions.check(store, token=token, now=T0 + dt.timedelta(minutes=181)) is None
    assert store.session_row(token_hash=sessions.digest(token)) is None  # deleted, not only refused
    assert sessions.check(store, token=token, now=T0 + dt.timedelta(minutes=182)) is None


def test_deactivation_and_demotion_end_the_session(store: Store, planner: Viewer) -> None:
    token = _login(store, planner)
    other = _login(store, planner)
    store.update_user("pia", active=False)
    assert sessions.check(store, token=token, now=T0 + dt.timedelta(minutes=1)) is None
    store.update_user("pia", active=True)
    assert sessions.check(store, token=token, now=T0 + dt.timedelta(minutes=1)) is None  # ended for good
    live = sessions.check(store, token=other, now=T0 + dt.timedelta(minutes=1))
    assert live is not None  # reactivated before this one was looked at: still the same role
    store.update_user("pia", role="deltagare")
    assert sessions.check(store, token=other, now=T0 + dt.timedelta(minutes=2)) is None


def test_the_organisation_comes_from_the_user_row_now(store: Store) -> None:
    auth.create_user(store, "bo", "bostadsbolag", PASSWORD, organisation="upplands_brohus")
    token = _login(store, Viewer("bo", "bostadsbolag", "upplands_brohus"))
    store.update_user("bo", organisation="privat_fastighetsagare")
    live = sessions.check(store, token=token, now=T0 + dt.timedelta(minutes=1))
    assert live is not None and live.viewer.organisation == "privat_fastighetsagare"


def test_a_single_sign_on_user_without_a_row_keeps_the_token_role_until_a_row_decides(store: Store) -> None:
    viewer = Viewer("sso:eva@kommun.se", "polis", None)
    token = _login(store, viewer, sso_subject="subject-1")
    live = sessions.check(store, token=token, now=T0 + dt.timedelta(minutes=1))
    assert live is not None and live.viewer == viewer and live.sso_subject == "subject-1"
    store.add_user("eva", "polis", None, sso_subject="subject-1")
    store.update_user("eva", active=False)
    assert sessions.check(store, token=token, now=T0 + dt.timedelta(minutes=2)) is None


def test_logout_ends_the_session_and_leaves_the_others(store: Store, planner: Viewer) -> None:
    phone, desk = _login(store, planner), _login(store, planner)
    sessions.end(store, token=phone)
    assert sessions.check(store, token=phone, now=T0 + dt.timedelta(minutes=1)) is None
    live = sessions.check(store, token=desk, now=T0 + dt.timedelta(minutes=1))
    assert live is not None
    sessions.end(store, session_id=live.id)
    assert sessions.check(store, session_id=live.id, now=T0 + dt.timedelta(minutes=1)) is None
    _login(store, planner)
    _login(store, planner)
    assert store.delete_user_sessions("pia") == 2


def test_old_sessions_and_unredeemed_tickets_are_purged_at_the_next_login(store: Store, planner: Viewer,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRYGGHETSKARTA_SESSION_TIMEOUT_MINUTES", "60")
    _login(store, planner)
    sessions.start(store, planner, now=T0)  # never redeemed
    sessions.start(store, planner, now=T0 + dt.timedelta(hours=2))
    with store.read_conn() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.sessions)).scalar_one() == 1


def test_session_writes_leave_the_data_version_alone(store: Store, planner: Viewer) -> None:
    before = store.data_version()
    token = _login(store, planner)
    sessions.check(store, token=token, now=T0 + dt.timedelta(minutes=5))
    store.save_draft("pia", "finding", "{}", T0)
    sessions.end(store, token=token)
    assert store.data_version() == before  # no cache of any instance is thrown away by a click


@pytest.mark.parametrize(("value", "expected"), [
    ("/atgarder?id=12", "/atgarder?id=12"), ("/", "/"), ("/rapportera", "/rapportera"),
    ("//evil.example/x", "/"), ("https://evil.example/", "/"), ("/\\evil.example", "/"), ("atgarder", "/"),
    ("/x\r\nSet-Cookie: a=b", "/"), (None, "/"), ("", "/"),
])
def test_next_is_a_path_on_this_site(value: str | None, expected: str) -> None:
    assert sessions.safe_next(value) == expected


def test_a_draft_is_kept_per_user_and_form_until_deleted(store: Store) -> None:
    assert store.draft("pia", "finding") is None
    store.save_draft("pia", "finding", '{"description": "mörkt"}', T0)
    store.save_draft("pia", "finding", '{"description": "mörkt vid tunneln"}', T0 + dt.timedelta(minutes=1))
    store.save_draft("ola", "finding", '{"description": "annat"}', T0)
    data, at = store.draft("pia", "finding") or ("", None)
    assert data == '{"description": "mörkt vid tunneln"}' and at == T0 + dt.timedelta(minutes=1)
    assert store.draft("pia", "sighting") is None
    assert store.delete_draft("pia", "finding") == 1
    assert store.draft("pia", "finding") is None
    assert store.draft("ola", "finding") is not None


def test_a_draft_older_than_a_week_is_removed_at_the_next_login(store: Store, planner: Viewer) -> None:
    store.save_draft("ola", "finding", '{"description": "gammalt"}', T0 - dt.timedelta(days=8))
    store.save_draft("eva", "finding", '{"description": "nytt"}', T0 - dt.timedelta(days=1))
    sessions.start(store, planner, now=T0)
    assert store.draft("ola", "finding") is None
    assert store.draft("eva", "finding") is not None

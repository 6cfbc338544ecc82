"""E-mail through the outbox (issue 16), against a real SMTP server on 127.0.0.1 (aiosmtpd): residents are
told of status changes in their language, parties of assigned and overdue actions; with the server down
nothing is lost and, once it is back, nothing is sent twice; one link unsubscribes."""

from __future__ import annotations

import datetime as dt
import smtplib
import threading
from pathlib import Path

import pytest
from e2e_support import free_port
from public_support import report_row
from smtp_support import SmtpServer

from trygghetskarta import actions, outbox, public, workflow
from trygghetskarta.access import Viewer
from trygghetskarta.errors import ValidationError
from trygghetskarta.store import Store, open_store

PLANNER = Viewer("planerare1", "planerare")
BRO = (17.6405, 59.5252)


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> SmtpServer:
    port = free_port()
    monkeypatch.setenv("TRYGGHETSKARTA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("TRYGGHETSKARTA_SMTP_PORT", str(port))
    monkeypatch.setenv("TRYGGHETSKARTA_SMTP_STARTTLS", "0")
    monkeypatch.setenv("TRYGGHETSKARTA_SMTP_RETRY_BASE_S", "0")
    monkeypatch.setenv("TRYGGHETSKARTA_SMTP_SENDER", "trygghet@upplands-bro.test")
    monkeypatch.setenv("TRYGGHETSKARTA_PUBLIC_BASE_URL", "http://tk.test")
    server = SmtpServer(port)
    yield server
    server.stop()


def _report(store: Store, lang: str = "ar", email: str = "boende@example.se", addr: str = "10.0.0.1") -> int:
    return public.submit_public_report(store, category="belysning_trasig", lon=BRO[0], lat=BRO[1],
                                       text="Lampan är släckt", email=email, lang=lang, client_addr=addr).finding_id


def test_reporter_is_told_each_status_change_in_their_language(sqlite_store: Store, smtp: SmtpServer) -> None:
    smtp.start()
    fid = _report(sqlite_store, "ar")
    public.moderate(sqlite_store, fid, True, PLANNER)
    workflow.change_status(sqlite_store, fid, "tilldelad", PLANNER, responsible="kommun_gata_park")
    workflow.change_status(sqlite_store, fid, "atgardad", PLANNER)
    assert outbox.collect(sqlite_store) == 3
    report = outbox.send_due(sqlite_store)
    assert (report.sent, report.retried, report.failed) == (3, 0, 0)
    subjects = [str(m["Subject"]) for m in smtp.inbox.messages]
    assert [s.split(": ")[-1] for s in subjects] == ["تمت المراجعة", "أُحيل إلى الجهة المسؤولة", "تم الإصلاح"]
    fixed = smtp.inbox.messages[2]
    assert fixed["To"] == "boende@example.se" and fixed["Content-Language"] == "ar"
    body = fixed.get_content()
    assert "تم إصلاح ما أبلغت عنه" in body
    row = report_row(sqlite_store, finding_id=fid)
    assert f"http://tk.test/status?t={row['status_token']}&lang=ar" in body
    assert f"http://tk.test/status?avregistrera={row['unsubscribe_token']}&lang=ar" in body
    assert fixed["List-Unsubscribe"].strip() == f"<http://tk.test/status?avregistrera={row['unsubscribe_token']}&lang=ar>"
    # the assignment named the party in the message
    # the Swedish party name is a left-to-right island in the Arabic text
    assert "تمت إحالة بلاغك إلى \u2066Kommunen (gata/park)\u2069" in smtp.inbox.messages[1].get_content()
    assert outbox.collect(sqlite_store) == 0 and outbox.send_due(sqlite_store).sent == 0


def test_rejection_reason_reaches_the_reporter_and_reporters_without_email_get_nothing(
        sqlite_store: Store, smtp: SmtpServer) -> None:
    smtp.start()
    fid = _report(sqlite_store, "sv")
    silent = public.submit_public_report(sqlite_store, category="klotter", lon=BRO[0], lat=BRO[1],
                                         client_addr="10.0.0.2").finding_id
    public.moderate(sqlite_store, fid, False, PLANNER, "Gäller privat mark, kontakta fastighetsägaren")
    public.moderate(sqlite_store, silent, True, PLANNER)
    outbox.collect(sqlite_store)
    assert outbox.send_due(sqlite_store).sent == 1
    (message,) = smtp.inbox.messages
    code = report_row(sqlite_store, finding_id=fid)["receipt_code"]
    assert message["Subject"] == f"Din anmälan {code}: Ej åtgärdas"
    assert "Skäl: Gäller privat mark, kontakta fastighetsägaren" in message.get_content()


def test_with_the_server_down_messages_wait_and_are_sent_once_when_it_is_back(store: Store, smtp: SmtpServer) -> None:
    first, second = _report(store, "so", "a@example.se", "10.0.0.1"), _report(store, "en", "b@example.se", "10.0.1.1")
    for fid in (first, second):
        public.moderate(store, fid, True, PLANNER)
        workflow.change_status(store, fid, "tilldelad", PLANNER, responsible="upplands_brohus")
    assert outbox.collect(store) == 4
    down = outbox.send_due(store)  # nothing listens on the port
    assert (down.sent, down.retried) == (0, 1)
    assert "ConnectionRefusedError" in down.error
    assert store.outbox_counts() == {"queued": 4}
    again = outbox.send_due(store)
    assert (again.sent, again.retried) == (0, 1)
    attempts = store.outbox_messages()["attempts"].tolist()
    assert sorted(attempts) == [0, 0, 1, 1]  # a failed message goes to the back of the queue; none is given up

    smtp.start()
    # two senders at once (two cron runs overlapping): each message is taken by one of them
    other = open_store(store.url)
    results: list[outbox.SendReport] = []
    threads = [threading.Thread(target=lambda s=s: results.append(outbox.send_due(s))) for s in (store, other)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    other.dispose()
    assert sum(r.sent for r in results) == 4
    assert store.outbox_counts() == {"sent": 4}
    ids = smtp.inbox.ids()
    assert len(ids) == 4 and len(set(ids)) == 4
    assert sorted(str(m["To"]) for m in smtp.inbox.messages) == ["a@example.se"] * 2 + ["b@example.se"] * 2
    assert outbox.send_due(store).sent == 0 and outbox.collect(store) == 0
    assert len(smtp.inbox.messages) == 4


def test_backoff_doubles_and_a_permanent_refusal_is_kept_as_failed(sqlite_store: Store, smtp: SmtpServer,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRYGGHETSKARTA_SMTP_RETRY_BASE_S", "60")
    fid = _report(sqlite_store)
    public.moderate(sqlite_store, fid, True, PLANNER)
    outbox.collect(sqlite_store)
    # a time after the message was queued (at the real now): a fixed date would fall behind it one day
    t0 = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(hours=1)
    outbox.send_due(sqlite_store, now=lambda: t0)
    first = sqlite_store.outbox_messages().iloc[0]
    assert first["next_try_at"] == t0 + dt.timedelta(seconds=60)
    assert outbox.send_due(sqlite_store, now=lambda: t0 + dt.timedelta(seconds=30)).retried == 0  # not due yet
    t1 = t0 + dt.timedelta(seconds=61)
    outbox.send_due(sqlite_store, now=lambda: t1)
    assert sqlite_store.outbox_messages().iloc[0]["next_try_at"] == t1 + dt.timedelta(seconds=120)
    smtp.inbox.refuse = True
    smtp.start()
    refused = outbox.send_due(sqlite_store, now=lambda: t1 + dt.timedelta(seconds=121))
    assert (refused.sent, refused.failed) == (0, 1)
    row = sqlite_store.outbox_messages().iloc[0]
    assert row["state"] == "failed" and "550" in row["last_error"]


def test_starttls_is_required_when_configured(sqlite_store: Store, smtp: SmtpServer,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRYGGHETSKARTA_SMTP_STARTTLS", "1")
    smtp.start()  # a plain server: it offers no STARTTLS
    fid = _report(sqlite_store)
    public.moderate(sqlite_store, fid, True, PLANNER)
    outbox.collect(sqlite_store)
    report = outbox.send_due(sqlite_store)
    assert report.retried == 1 and "does not offer STARTTLS" in report.error
    assert smtp.inbox.messages == []
    with pytest.raises(smtplib.SMTPNotSupportedError):
        outbox.smtp_connect()


def test_unsubscribe_with_one_link_stops_mail(sqlite_store: Store, smtp: SmtpServer) -> None:
    smtp.start()
    fid = _report(sqlite_store, "sv")
    public.moderate(sqlite_store, fid, True, PLANNER)
    outbox.collect(sqlite_store)
    token = report_row(sqlite_store, finding_id=fid)["unsubscribe_token"]
    assert sqlite_store.unsubscribe(token) is True
    assert sqlite_store.unsubscribe(token) is True  # the link works again (already done)
    assert sqlite_store.unsubscribe("not-a-token") is False
    assert sqlite_store.outbox_counts() == {"cancelled": 1}
    workflow.change_status(sqlite_store, fid, "tilldelad", PLANNER, responsible="kommun_gata_park")
    assert outbox.collect(sqlite_store) == 0
    assert outbox.send_due(sqlite_store).sent == 0 and smtp.inbox.messages == []


def test_parties_are_told_of_assigned_actions_and_get_one_overdue_digest_a_day(sqlite_store: Store,
                                                                              smtp: SmtpServer) -> None:
    smtp.start()
    outbox.set_party_contacts(sqlite_store, {"kommun_gata_park": "gata@upplands-bro.test", "trafikverket": ""}, None)
    with pytest.raises(ValidationError, match="not an e-mail address"):
        outbox.set_party_contacts(sqlite_store, {"upplands_brohus": "nej"}, None)
    fid = _report(sqlite_store, "sv", "", "10.0.0.9")
    public.moderate(sqlite_store, fid, True, PLANNER)
    action = actions.create_action(sqlite_store, [fid], "Byt armatur", "kommun_gata_park", PLANNER,
                                        deadline=dt.date(2026, 11, 1))
    assert outbox.collect(sqlite_store) == 1
    assert outbox.digest(sqlite_store, dt.date(2026, 12, 4)) == 1
    assert outbox.digest(sqlite_store, dt.date(2026, 12, 4)) == 0  # once a day, however often it runs
    assert outbox.send_due(sqlite_store).sent == 2
    assigned, digest = smtp.inbox.messages
    assert assigned["To"] == "gata@upplands-bro.test"
    assert f"Åtgärd nr {action}: Byt armatur" in assigned.get_content()
    assert digest["Subject"] == "Försenade åtgärder 2026-12-04: 1"
    assert f"nr {action}: Byt armatur (senast 2026-11-01, 33 dagar sen)" in digest.get_content()


def test_smtp_password_comes_from_the_environment_or_the_secrets_file(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from trygghetskarta import settings

    secrets = tmp_path / "secrets.toml"
    monkeypatch.setenv("TRYGGHETSKARTA_SECRETS_FILE", str(secrets))
    monkeypatch.delenv("TRYGGHETSKARTA_SMTP_PASSWORD", raising=False)
    assert settings.smtp_password() == ""
    secrets.write_text('[auth]\nredirect_uri = "x"\n\n[smtp]\npassword = "från-filen"\n', encoding="utf-8")
    assert settings.smtp_password() == "från-filen"
    monkeypatch.setenv("TRYGGHETSKARTA_SMTP_PASSWORD", "från-miljön")
    assert settings.smtp_password() == "från-miljön"
    monkeypatch.delenv("TRYGGHETSKARTA_SMTP_PASSWORD")
    secrets.write_text("[smtp\npassword=", encoding="utf-8")
    with pytest.raises(ValidationError, match="the secrets file cannot be read"):
        settings.smtp_password()


def test_sender_logs_in_with_the_user_and_the_secret_password(sqlite_store: Store, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    for name, value in (("HOST", "127.0.0.1"), ("PORT", str(port)), ("STARTTLS", "0"), ("USER", "trygghet")):
        monkeypatch.setenv(f"TRYGGHETSKARTA_SMTP_{name}", value)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[smtp]\npassword = "hemligt-losen-2026"\n', encoding="utf-8")
    monkeypatch.setenv("TRYGGHETSKARTA_SECRETS_FILE", str(secrets))
    server = SmtpServer(port, login=("trygghet", "hemligt-losen-2026")).start()
    try:
        fid = _report(sqlite_store)
        public.moderate(sqlite_store, fid, True, PLANNER)
        outbox.collect(sqlite_store)
        assert outbox.send_due(sqlite_store).sent == 1
        assert server.logins == ["trygghet"] and len(server.inbox.messages) == 1
    finally:
        server.stop()


def test_an_event_that_commits_late_below_the_last_id_is_not_skipped(sqlite_store: Store) -> None:
    fid = _report(sqlite_store)
    outbox.collect(sqlite_store)
    # another transaction had already shown a higher id when this change commits (as PostgreSQL allows)
    assert sqlite_store.status_events_after(0).empty  # a new report has no status event yet
    seen = 0
    sqlite_store.set_meta(outbox.WATERMARK_KEY, str(seen + 3))
    public.moderate(sqlite_store, fid, True, PLANNER)
    assert outbox.collect(sqlite_store) == 1
    assert outbox.collect(sqlite_store) == 0
    assert sqlite_store.get_meta(outbox.WATERMARK_KEY) == str(seen + 3)

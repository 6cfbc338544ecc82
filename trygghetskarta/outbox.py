"""E-mail through an outbox (issue 16): residents are told when their report's status changes, responsible
parties when an action is assigned to them and, once a day, which of their actions are overdue.

How a message travels:

1. ``collect`` reads the status events written since the last run (every status change of every finding and
   every new action is such an event, whichever page or command made it) and queues one message per event
   and recipient in the ``outbox`` table. Each message has a ``dedupe_key`` (``status:<event id>``,
   ``action:<id>:<party>``, ``digest:<party>:<date>``) that the table keeps unique, so running ``collect``
   twice, or from two processes, queues nothing twice. ``digest`` queues the daily overdue list.
2. ``send_due`` takes due messages one at a time (a lease in the database, so parallel senders never take
   the same message), sends each through SMTP (``smtplib``; STARTTLS when ``smtp_starttls`` is 1) and marks it
   ``sent``. A failure leaves it queued for a later try (back-off doubling from ``smtp_retry_base_s``, at most
   6 hours); only a permanent refusal (an SMTP 5xx answer) marks it ``failed``. A message is never lost while
   the mail server is down, and once ``sent`` it is never sent again. (If the sender dies between the server's
   "250 OK" and the database write, the lease runs out and the message is sent once more with the same
   Message-ID, which receiving servers use to drop the copy.)

Messages are written in the reporter's language (``public_texts``); every message to a resident carries the
status link and a one-link unsubscribe (also as a ``List-Unsubscribe`` header).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.header import Header
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid
from typing import TYPE_CHECKING, Any

import pandas as pd

from trygghetskarta import actions, geography, public, public_texts, schema, settings
from trygghetskarta.errors import ValidationError
from trygghetskarta.public_texts import lang_or_default

if TYPE_CHECKING:
    from trygghetskarta.access import Viewer
    from trygghetskarta.store import Store

WATERMARK_KEY = "outbox_status_event_id"
CONTACTS_KEY = "party_contacts"
LEASE_S = 300.0
LOOKBACK = 200  # status event ids read again behind the last run's highest (see ``collect``)
MAX_BACKOFF_S = 6 * 3600.0
_REPORTER_STATUSES = {"bedomd": "mail_status_approved", "tilldelad": "mail_status_assigned",
                      "atgardad": "mail_status_fixed", "ej_atgardas": "mail_status_wontfix"}


@dataclass
class SendReport:
    """What one ``send_due`` run did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    error: str = ""


# --- responsible parties' addresses -----------------------------------------------------------------------


def party_contacts(store: Store) -> dict[str, str]:
    """The e-mail address of each responsible party (party key → address), as the administrator saved them."""
    raw = store.app_setting(CONTACTS_KEY, {}) or {}
    return {str(k): str(v) for k, v in raw.items() if k in schema.PARTY and v}


def set_party_contacts(store: Store, contacts: dict[str, str], actor: Viewer | None = None) -> None:
    """Save the parties' addresses (administrators only); each is checked like a resident's address."""
    clean: dict[str, str] = {}
    for party, address in contacts.items():
        schema.require_key("party", party, "responsible party")
        value = str(address or "").strip()
        if not value:
            continue
        if len(value) > 254 or not public._EMAIL.match(value):
            msg = f"{schema.label('party', party)}: {value!r} is not an e-mail address"
            raise ValidationError(msg)
        clean[party] = value
    actions.set_app_setting(store, CONTACTS_KEY, clean, actor)


# --- queueing -------------------------------------------------------------------------------------------


def _kommun() -> str:
    return geography.municipality_name()


def _reporter_message(event: Any, reporter: Any, responsible: str | None) -> dict[str, Any] | None:
    to_status = str(event.to_status)
    key = _REPORTER_STATUSES.get(to_status)
    if key is None or (to_status == "bedomd" and event.from_status != "ny"):
        return None
    lang = lang_or_default(reporter.lang)
    status = public_texts.status_label(to_status, lang)
    lines = [public_texts.text("mail_greeting", lang), "",
             public_texts.text(key, lang, party=public_texts.party_label(responsible, lang),
                               reason=str(event.comment or "").strip() or "-"), "",
             public_texts.text("mail_status_link", lang, url=public.status_url(str(reporter.status_token), lang)),
             "", public_texts.text("mail_signature", lang, kommun=_kommun()), "",
             public_texts.text("mail_unsubscribe", lang,
                               url=public.unsubscribe_url(str(reporter.unsubscribe_token), lang))]
    return {"dedupe_key": f"status:{int(event.id)}", "kind": "reporter_status", "recipient": str(reporter.email),
            "lang": lang, "finding_id": int(event.record_id),
            "subject": public_texts.text("mail_status_subject", lang, code=reporter.receipt_code, status=status),
            "body": "\n".join(lines),
            "unsubscribe_url": public.unsubscribe_url(str(reporter.unsubscribe_token), lang)}


def _action_message(store: Store, action: Any, address: str) -> dict[str, Any]:
    due = action.deadline or action.planned_date
    lines = ["Hej!", "",
             f"En åtgärd har tilldelats {schema.label('party', action.responsible)} i Trygghetskarta.", "",
             f"Åtgärd nr {int(action.id)}: {action.what}",
             f"Prioritet: {schema.label('priority', str(int(action.priority)))}",
             f"Senast: {due.isoformat() if due else 'inget datum satt'}", "",
             f"Se åtgärdslistan: {public.base_url()}/atgarder", "", f"Trygghetskarta, {_kommun()}"]
    return {"dedupe_key": f"action:{int(action.id)}:{action.responsible}", "kind": "action_assigned",
            "recipient": address, "lang": "sv", "subject": f"Ny åtgärd nr {int(action.id)}: {str(action.what)[:80]}",
            "body": "\n".join(lines), "unsubscribe_url": None}


def collect(store: Store) -> int:
    """Queue the messages for every status event since the last run; returns how many were new.

    The events are read from a little before the last run's highest id (``LOOKBACK`` ids): on PostgreSQL an
    event can become visible after one with a higher id (ids are drawn before their transactions commit), and
    such an event must not be skipped. Messages already queued are recognised by their ``dedupe_key``."""
    last = int(store.get_meta(WATERMARK_KEY) or 0)
    events = store.status_events_after(max(last - LOOKBACK, 0))
    if not events.empty:  # the ones read again: only recent ones (never a message retention deleted)
        recent = pd.to_datetime(events["at"], utc=True) >= pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=1)
        events = events[(events["id"] > last) | recent]
    if events.empty:
        return 0
    rows: list[dict[str, Any]] = []
    findings = events[events["kind"] == "finding"]
    if not findings.empty:
        reporters = store.reporters(sorted({int(i) for i in findings["record_id"]}))
        if not reporters.empty:
            by_finding = {int(r.finding_id): r for r in reporters.itertuples()}
            wanted = [int(i) for i in by_finding]
            party = store.points("finding", None, ids=wanted, columns=("responsible",)) if wanted else pd.DataFrame()
            party_of = {int(i): p for i, p in zip(party.get("id", []), party.get("responsible", []), strict=True)}
            for event in findings.itertuples():
                reporter = by_finding.get(int(event.record_id))
                if reporter is None:
                    continue
                responsible = party_of.get(int(event.record_id))
                message = _reporter_message(event, reporter, None if pd.isna(responsible) else str(responsible))
                if message is not None:
                    rows.append(message)
    created = events[(events["kind"] == "action") & events["from_status"].isna()]
    if not created.empty:
        contacts = party_contacts(store)
        listed = store.read("action", None, ids=[int(i) for i in created["record_id"]])
        for action in listed.itertuples():
            address = contacts.get(str(action.responsible))
            if address:
                rows.append(_action_message(store, action, address))
    known = store.known_dedupe_keys([r["dedupe_key"] for r in rows])
    new = store.enqueue_messages([r for r in rows if r["dedupe_key"] not in known])
    store.set_meta(WATERMARK_KEY, str(max(int(events["id"].max()), last)))
    return new


def digest(store: Store, today: dt.date) -> int:
    """Queue today's list of overdue actions for each responsible party that has an address and overdue
    actions (at most one digest per party and day, however often this runs). Returns how many were new."""
    contacts = party_contacts(store)
    listed = actions.action_list_for_viewer(store, None, today, include_done=False)
    overdue = listed[listed["overdue"]]
    rows = []
    for party, group in overdue.groupby("responsible", sort=True):
        address = contacts.get(str(party))
        if not address:
            continue
        lines = ["Hej!", "",
                 f"{schema.label('party', str(party))} har {len(group)} försenade åtgärder i Trygghetskarta "
                 f"({today.isoformat()}):", ""]
        for action in group.itertuples():
            lines.append(f"- nr {int(action.id)}: {action.what} (senast {action.due_date}, "
                         f"{int(action.days_overdue)} dagar sen)")
        lines += ["", f"Se åtgärdslistan: {public.base_url()}/atgarder", "", f"Trygghetskarta, {_kommun()}"]
        rows.append({"dedupe_key": f"digest:{party}:{today.isoformat()}", "kind": "overdue_digest",
                     "recipient": address, "lang": "sv",
                     "subject": f"Försenade åtgärder {today.isoformat()}: {len(group)}", "body": "\n".join(lines),
                     "unsubscribe_url": None})
    return store.enqueue_messages(rows)


# --- sending --------------------------------------------------------------------------------------------


def _message(row: dict[str, Any]) -> MIMEText:
    """The message as sent. Built with ``email.header.Header`` (RFC 2047 words that keep their spaces: the
    newer ``EmailMessage`` folding drops the space between two encoded words, which garbles Arabic subjects)."""
    msg = MIMEText(row["body"], "plain", "utf-8")
    msg["From"] = str(settings.get("smtp_sender"))
    msg["To"] = row["recipient"]
    msg["Subject"] = Header(row["subject"], "utf-8")  # type: ignore[assignment]  # compat32 takes a Header
    msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    # Stable per message: a copy sent again after a crash carries the same id.
    digest_ = hashlib.sha256(str(row["dedupe_key"]).encode()).hexdigest()[:20]
    msg["Message-ID"] = make_msgid(idstring=f"outbox{int(row['id'])}.{digest_}", domain="trygghetskarta.local")
    msg["Content-Language"] = row["lang"]
    if row.get("unsubscribe_url"):
        msg["List-Unsubscribe"] = f"<{row['unsubscribe_url']}>"
    return msg


def smtp_connect() -> smtplib.SMTP:
    """An SMTP connection as the settings say (host, port, STARTTLS, user; the password from the environment
    or the secrets file). Raises ``OSError``/``smtplib.SMTPException`` when the server cannot be used."""
    host = str(settings.get("smtp_host"))
    if not host:
        msg = "no SMTP server configured (TRYGGHETSKARTA_SMTP_HOST); messages stay in the outbox"
        raise ValidationError(msg)
    conn = smtplib.SMTP(host, int(settings.get("smtp_port")), timeout=float(settings.get("smtp_timeout_s")))
    try:
        conn.ehlo()
        if int(settings.get("smtp_starttls")):
            if not conn.has_extn("starttls"):
                msg = f"the SMTP server {host} does not offer STARTTLS (TRYGGHETSKARTA_SMTP_STARTTLS=1)"
                raise smtplib.SMTPNotSupportedError(msg)
            conn.starttls(context=ssl.create_default_context())
            conn.ehlo()
        user = str(settings.get("smtp_user"))
        if user:
            conn.login(user, settings.smtp_password())
    except BaseException:
        conn.close()
        raise
    return conn


def _backoff(attempts: int) -> dt.timedelta:
    base = max(float(settings.get("smtp_retry_base_s")), 0.0)
    return dt.timedelta(seconds=min(base * (2 ** max(attempts, 0)), MAX_BACKOFF_S))


def _permanent(exc: BaseException) -> bool:
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [c for c, _ in exc.recipients.values()]
        return bool(codes) and all(500 <= int(c) < 600 for c in codes)
    return isinstance(code, int) and 500 <= code < 600 and not isinstance(exc, smtplib.SMTPAuthenticationError)


def send_due(store: Store, *, limit: int | None = None, connect: Callable[[], smtplib.SMTP] = smtp_connect,
             now: Callable[[], dt.datetime] | None = None) -> SendReport:
    """Send the due messages (at most ``limit``). Stops at the first connection failure: the message it was
    for goes back to the queue with a back-off, the rest stay queued as they were."""
    clock = now or (lambda: dt.datetime.now(dt.UTC))
    report = SendReport()
    conn: smtplib.SMTP | None = None
    try:
        while limit is None or report.sent + report.retried + report.failed < limit:
            row = store.claim_message(LEASE_S, clock())
            if row is None:
                break
            try:
                if conn is None:
                    conn = connect()
                conn.send_message(_message(row))
            except (TimeoutError, smtplib.SMTPException, OSError, ValidationError) as exc:
                error = f"{type(exc).__name__}: {exc}"
                report.error = error
                if _permanent(exc):
                    store.message_failed(int(row["id"]), error, retry_at=None)
                    report.failed += 1
                    continue
                store.message_failed(int(row["id"]), error, retry_at=clock() + _backoff(int(row["attempts"])))
                report.retried += 1
                if conn is not None:
                    with contextlib.suppress(smtplib.SMTPException, OSError):
                        conn.close()
                break  # the server is not answering: the next run tries again
            store.message_sent(int(row["id"]))
            report.sent += 1
    finally:
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                conn.close()
    return report

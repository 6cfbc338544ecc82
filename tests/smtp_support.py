"""A real SMTP server on 127.0.0.1 for the e-mail tests (``aiosmtpd``): it keeps every message it accepted,
can be stopped and started again on the same port (the mail server is down, then back), and can refuse."""

from __future__ import annotations

import email
import email.policy
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session


@dataclass
class Inbox:
    """What the server accepted, as parsed messages; ``refuse`` makes it answer 550 to every recipient."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 Message accepted"

    def ids(self) -> list[str]:
        with self.lock:
            return [str(m["Message-ID"]) for m in self.messages]


class SmtpServer:
    """``start()`` / ``stop()`` an aiosmtpd server on a fixed 127.0.0.1 port."""

    def __init__(self, port: int, login: tuple[str, str] | None = None) -> None:
        self.port = port
        self.inbox = Inbox()
        self.login = login  # (user, password) the server demands, or None for no AUTH
        self.logins: list[str] = []
        self._controller: Controller | None = None

    def _authenticate(self, server: Any, session: Session, envelope: Envelope, mechanism: str,
                      auth_data: Any) -> AuthResult:
        ok = self.login is not None and isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(), auth_data.password.decode()) == self.login
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)

    def start(self) -> SmtpServer:
        extra: dict[str, Any] = {}
        if self.login is not None:  # plain AUTH on loopback only (a test server has no certificate)
            extra = {"authenticator": self._authenticate, "auth_require_tls": False}
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **extra)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

"""One small error family whose messages a user can act on.

The UI and the CLI show ``str(error)`` of these; anything else is a bug and surfaces as one.
"""

from __future__ import annotations


class TrygghetskartaError(Exception):
    """Base of every error the project raises on purpose. ``msgid`` (with ``values``) names the text the UI shows
    in the user's language (``trygghetskarta/locale``); ``str(error)`` stays the English message the CLI and the
    logs print."""

    def __init__(self, *args: object, msgid: str | None = None, **values: object) -> None:
        super().__init__(*args)
        self.msgid = msgid
        self.values = values


class ValidationError(TrygghetskartaError, ValueError):
    """An input (file, row, argument) is not acceptable; the message says where and why."""


class NotFoundError(TrygghetskartaError, LookupError):
    """A record that was asked for does not exist (or the user may not see it)."""


class PermissionDeniedError(TrygghetskartaError, PermissionError):
    """The requesting user's role does not allow this."""


class StoreError(TrygghetskartaError):
    """The database could not do what was asked; nothing was written."""


class AuthenticationError(TrygghetskartaError):
    """Login failed, the account is locked, or the session has expired."""


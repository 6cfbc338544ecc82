"""One small error family whose messages a user can act on.

The UI and the CLI show ``str(error)`` of these; anything else is a bug and surfaces as one.
"""

from __future__ import annotations


class TrygghetskartaError(Exception):
    """Base of every error the project raises on purpose."""


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


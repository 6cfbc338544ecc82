"""Single sign-on in the UI: Streamlit's ``st.login`` (OpenID Connect through Authlib) with the providers named
in ``.streamlit/secrets.toml``, the issuer and audience each provider's tokens must carry, and a notice when
Streamlit itself refused a provider's answer.

Streamlit checks the ID token (signature, issuer against the provider's metadata, audience against the
``client_id``, nonce) in its ``/oauth2callback`` route. When that check fails it only logs a warning and sends
the browser back to the app, which then looks like a login that never happened. ``install_callback_notice``
wraps that route so a refused answer leaves a short-lived cookie naming the reason (issuer, audience or
other); the login page shows it as a clear message. The role mapping itself lives in ``trygghetskarta.auth``.
"""

from __future__ import annotations

import contextvars
import logging
import re
from collections.abc import Mapping
from typing import Any

import streamlit as st

ERROR_COOKIE = "tk_sso_error"
ERROR_REASONS = ("issuer", "audience", "failed")
_PROVIDER_KEYS = ("client_id", "server_metadata_url")
_failures: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("tk_sso_failures", default=None)


def _auth_section() -> Mapping[str, Any] | None:
    try:
        section = st.secrets.get("auth")
    except FileNotFoundError:  # no secrets file (StreamlitSecretNotFoundError is one)
        return None
    return section if isinstance(section, Mapping) else None


def providers() -> dict[str, Mapping[str, Any]]:
    """The OpenID Connect providers configured under ``[auth]`` in the secrets (see ``providers_in``)."""
    return providers_in(_auth_section())


def providers_in(section: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    """The providers of an ``[auth]`` section ({name for st.login: its section}): each sub-section with a
    ``client_id`` and a ``server_metadata_url``; a provider given directly in ``[auth]`` is Streamlit's
    ``default``. None without ``redirect_uri`` and ``cookie_secret``, which st.login needs."""
    if not section or "redirect_uri" not in section or "cookie_secret" not in section:
        return {}
    found = {str(name): value for name, value in section.items()
             if isinstance(value, Mapping) and all(k in value for k in _PROVIDER_KEYS) and "_" not in str(name)}
    if all(k in section for k in _PROVIDER_KEYS):
        found["default"] = section
    return found


def configured() -> bool:
    return bool(providers())


def refusal_reason(text: str) -> str:
    """Which check a refused token failed, from Authlib's error text: ``issuer``, ``audience`` or ``failed``.
    (A token for another client fails Authlib's ``azp`` check first: a foreign ``aud`` requires ``azp``.)"""
    if re.search(r"\biss\b|issuer", text, re.IGNORECASE):
        return "issuer"
    if re.search(r"\b(aud|azp)\b|audience", text, re.IGNORECASE):
        return "audience"
    return "failed"


class _RefusalFilter(logging.Filter):
    """Notes, for the callback request being handled, the reason of a refusal Streamlit logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        failures = _failures.get()
        message = record.getMessage()
        if failures is not None and (message.startswith("OAuth token exchange failed")
                                     or message.startswith("Error during authentication")):
            exc = record.exc_info[1] if record.exc_info else None
            failures.append(refusal_reason(f"{type(exc).__name__}: {exc}" if exc else message))
        return True


def install_callback_notice() -> None:
    """Wrap Streamlit's ``/oauth2callback`` handler (once per process) so that a refused provider answer sets
    the ``tk_sso_error`` cookie (two minutes, HttpOnly) with the reason, and a new login attempt or a
    successful one clears it. Without the Starlette server (another Streamlit) nothing is changed."""
    try:
        from streamlit.web.server.starlette import starlette_auth_routes as routes
    except ImportError:  # pragma: no cover - Streamlit without the Starlette server
        return
    if getattr(routes, "_tk_notice_installed", False):
        return
    original_callback = routes._auth_callback  # no public hook for a refused login
    original_login = routes._auth_login
    routes._LOGGER.addFilter(_RefusalFilter())

    async def callback(request: Any, base_url: str) -> Any:
        failures: list[str] = []
        token = _failures.set(failures)
        try:
            response = await original_callback(request, base_url)
        finally:
            _failures.reset(token)
        path = routes._get_cookie_path()
        if failures:
            response.set_cookie(ERROR_COOKIE, failures[0], max_age=120, httponly=True, samesite="lax", path=path)
        else:
            response.delete_cookie(ERROR_COOKIE, path=path)
        return response

    async def login(request: Any, base_url: str) -> Any:
        response = await original_login(request, base_url)
        response.delete_cookie(ERROR_COOKIE, path=routes._get_cookie_path())
        return response

    routes._auth_callback = callback
    routes._auth_login = login
    # a marker on Streamlit's own module (not ours, which a page rerun may reload): patch once per process
    routes._tk_notice_installed = True  # type: ignore[attr-defined]


def refused_notice() -> str | None:
    """The reason of a refused single sign-on answer in this browser (``ERROR_REASONS``), if one is recent."""
    try:
        value = st.context.cookies.get(ERROR_COOKIE)
    except (AttributeError, RuntimeError):  # pragma: no cover - no request context
        return None
    return value if value in ERROR_REASONS else None


def trust_for(provider: str | None) -> tuple[str | None, str | None]:
    """The issuer and audience the tokens of ``provider`` must carry (see ``auth.oidc_trust``)."""
    from trygghetskarta import auth

    section = providers().get(provider or "default")
    if section is None:
        return None, None
    return auth.oidc_trust(section)

"""The two HTTP routes of the server-side session (issue #14), served beside Streamlit by ``st.App``
(``serve.py``). A Streamlit script cannot set an HttpOnly cookie (it only talks over the WebSocket), so:

- ``GET /auth/session?ticket=…&next=/page`` redeems the one-time login ticket (``trygghetskarta.sessions``),
  sets the session cookie (HttpOnly, SameSite=Lax, Secure over https, path ``/``) and redirects to ``next``
  (a path on this site, else ``/``). A used, expired or unknown ticket sets nothing and redirects all the same.
- ``GET /auth/session/end?next=/`` ends the session the cookie names on the server and clears the cookie.

Both answer ``303 See Other`` with ``Cache-Control: no-store``.
"""

from __future__ import annotations

import functools
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from trygghetskarta import sessions, settings
from trygghetskarta.store import Store, open_store

# The cookie outlives the idle timeout on purpose: the server decides (``session_timeout_minutes``); the
# cookie only has to survive a reload, a closed tab or a phone that discarded the page.
COOKIE_MAX_AGE = 14 * 24 * 3600


@functools.cache
def _store(url: str) -> Store:
    return open_store(url)


def _secure(request: Request) -> bool:
    """Whether the browser reached the app over https: directly, or through a trusted reverse proxy that says
    so, or as the configured public address says."""
    if request.url.scheme == "https":
        return True
    proxy = request.headers.get("x-forwarded-proto", "")
    trusted = {p.strip() for p in str(settings.get("trusted_proxies") or "").split(",") if p.strip()}
    if proxy == "https" and request.client is not None and request.client.host in trusted:
        return True
    return str(settings.get("public_base_url")).startswith("https://")


def _redirect(request: Request) -> RedirectResponse:
    response = RedirectResponse(sessions.safe_next(request.query_params.get("next")), status_code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


async def start_session(request: Request) -> Any:
    store = _store(settings.database_url())
    token = await run_in_threadpool(sessions.redeem, store, request.query_params.get("ticket"))
    response = _redirect(request)
    if token:
        response.set_cookie(sessions.COOKIE, token, max_age=COOKIE_MAX_AGE, path="/", httponly=True,
                            samesite="lax", secure=_secure(request))
    return response


async def end_session(request: Request) -> Any:
    token = request.cookies.get(sessions.COOKIE)
    if token:
        await run_in_threadpool(functools.partial(sessions.end, _store(settings.database_url()), token=token))
    response = _redirect(request)
    response.delete_cookie(sessions.COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(request))
    return response


ROUTES = [Route("/auth/session", start_session, methods=["GET"]),
          Route("/auth/session/end", end_session, methods=["GET"])]

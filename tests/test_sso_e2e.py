"""Single sign-on end to end (issue 11): a real OpenID Connect provider (``oidc-provider-mock``, Authlib's
server parts) on 127.0.0.1, ``streamlit run serve.py`` on a free port with a ``secrets.toml`` that names that
provider, and headless Debian chromium logging in through it. Checked: the role comes from the claim named by
``TRYGGHETSKARTA_OIDC_ROLE_CLAIM``; logout ends the app session and the provider's; an ID token with a wrong
issuer or audience is refused with a clear Swedish message, not a traceback; a user without a known role is
refused. The browser may reach only the app and the provider. Screenshots go to test-output/e2e/."""

from __future__ import annotations

import base64
import json
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import SHOTS, App, free_port, new_context, prepare_data, running_app

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app_pages import _texts  # noqa: E402
from trygghetskarta.store import open_store  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.filterwarnings("ignore::authlib.deprecate.AuthlibDeprecationWarning"),
              # oidc-provider-mock 0.3.4 (the last for Python 3.11) still signs through Authlib's legacy hook
              pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning")]

CLIENT_ID = "trygghetskarta-test"
ROLE_CLAIM = "tk_roller"  # not the default "roles": the setting must be what is read
USERS = {
    "planerare-1": {"preferred_username": "per.planerare@bro.example", "email": "per.planerare@bro.example",
                    ROLE_CLAIM: ["Trygghetskarta.Planerare"], "roles": ["trygghetskarta.admin"]},
    "polis-1": {"preferred_username": "polis.pia@polisen.example", ROLE_CLAIM: "polis"},
    "utan-roll": {"preferred_username": "utan.roll@bro.example", ROLE_CLAIM: ["något.annat"]},
}


def _text(key: str) -> str:
    return _texts.text(key, "sv")


class Provider:
    """oidc-provider-mock in a thread on 127.0.0.1, with a switch that re-signs its ID tokens with changed
    claims (a token from another issuer, or one issued for another client), as an attacker or a
    misconfigured provider would send."""

    def __init__(self) -> None:
        with warnings.catch_warnings():  # the mock imports Authlib's deprecated JOSE module
            warnings.simplefilter("ignore")
            import oidc_provider_mock
            import werkzeug.serving
        self.tamper: dict[str, Any] = {}
        app = oidc_provider_mock.app(require_nonce=True, user_claims=[
            oidc_provider_mock.User(sub=sub, claims=claims) for sub, claims in USERS.items()])
        app.after_request(self._after)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = werkzeug.serving.make_server("127.0.0.1", self.port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    def _after(self, response: Any) -> Any:
        import flask

        if not self.tamper or flask.request.path != "/oauth2/token" or response.status_code != 200:
            return response
        from authlib import jose
        from oidc_provider_mock._storage import storage

        body = json.loads(response.get_data())
        head, payload, _sig = body["id_token"].split(".")
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims.update(self.tamper)
        body["id_token"] = jose.jwt.encode(header, claims, storage.jwk).decode()
        response.set_data(json.dumps(body))
        return response

    def __enter__(self) -> Provider:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(10)
        self.server.server_close()


@pytest.fixture(scope="module")
def sso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[App, Provider, Path]]:
    data = tmp_path_factory.mktemp("sso") / "data"
    prepare_data(data)
    with Provider() as provider:
        port = free_port()
        secrets = data.parent / "secrets.toml"
        secrets.write_text(
            "[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            'cookie_secret = "test-cookie-secret-0123456789-abcdefghijklmnop"\n\n'
            "[auth.kommun]\n"
            f'client_id = "{CLIENT_ID}"\n'
            'client_secret = "test-client-secret"\n'
            f'server_metadata_url = "{provider.url}/.well-known/openid-configuration"\n',
            encoding="utf-8")
        with running_app(data, port=port, extra_args=["--secrets.files", str(secrets)],
                         extra_env={"TRYGGHETSKARTA_OIDC_ROLE_CLAIM": ROLE_CLAIM}) as app:
            yield app, provider, data



def _sign_in(page: Any, app: App, sub: str) -> None:
    """From the app's login page through the provider's authorisation page as ``sub`` and back."""
    page.goto(app.url)
    page.get_by_role("button", name=_text("login_sso")).click()
    page.wait_for_url("**/oauth2/authorize**", timeout=60_000)
    page.get_by_role("button", name=sub, exact=True).click()
    page.wait_for_url(f"{app.url}/**", timeout=60_000)


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _outside(context: Any, provider: Provider) -> list[str]:
    """What the pages tried to fetch from outside (the mock provider's own pages link a CDN stylesheet)."""
    return [u for u in context.refused if not u.startswith("https://cdn.jsdelivr.net/npm/@picocss/")]


def test_sso_login_role_from_claim_and_logout(sso: tuple[App, Provider, Path], browser: Any) -> None:
    app, provider, data = sso
    context = new_context(browser, app.url, also_allowed=[provider.url])
    page = context.new_page()
    _sign_in(page, app, "planerare-1")
    # the role claim named by the setting gives the planner (the "roles" claim saying admin is not read)
    page.get_by_test_id("stSidebarNav").wait_for(state="attached", timeout=60_000)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("sso:per.planerare@bro.example").wait_for(timeout=60_000)
    assert "Planerare" in sidebar.inner_text()
    nav = page.get_by_test_id("stSidebarNav").inner_text()
    assert _text("page_vandringar") in nav and _text("page_admin") not in nav
    _shot(page, "sso_inloggad_planerare")
    # a single sign-on login is a server-side session too (issue #14): its HttpOnly cookie, and a reload keeps it
    assert any(c["name"] == "tk_session" and c["httpOnly"] for c in context.cookies())
    page.reload()
    sidebar.get_by_text("sso:per.planerare@bro.example").wait_for(timeout=60_000)
    store = open_store(f"sqlite:///{data / 'trygghetskarta.sqlite'}")
    log = store.audit_log()
    ok = log[(log["action"] == "login_ok") & (log["username"] == "sso:per.planerare@bro.example")]
    assert len(ok) >= 1 and '"role_from": "claim"' in ok.iloc[0]["detail"]
    store.dispose()

    # logout: the app's session ends, Streamlit's identity cookie goes, and the provider's end-session page
    # sends the browser back to the app's login
    page.get_by_role("button", name=_text("logout")).click()
    page.wait_for_url("**/oauth2/end_session**", timeout=60_000)
    page.get_by_role("button", name="End session").click()
    page.get_by_role("button", name=_text("login_sso")).wait_for(timeout=60_000)
    assert not any(c["name"].startswith("_streamlit_user") for c in context.cookies())
    page.goto(app.url)  # a new session is not logged in by a left-over cookie
    page.get_by_role("button", name=_text("login_sso")).wait_for(timeout=60_000)
    assert page.get_by_test_id("stSidebarNav").count() == 0
    _shot(page, "sso_utloggad")
    assert not _outside(context, provider), context.refused
    context.close()


@pytest.mark.parametrize(("claims", "message", "shot"), [
    ({"iss": "http://127.0.0.1:9/annan-utfardare"}, "sso_wrong_issuer", "sso_fel_utfardare"),
    ({"aud": "en-annan-tjanst"}, "sso_wrong_audience", "sso_fel_mottagare"),
])
def test_sso_token_from_wrong_issuer_or_for_wrong_audience_is_refused(
        sso: tuple[App, Provider, Path], browser: Any, claims: dict[str, str], message: str, shot: str) -> None:
    app, provider, _data = sso
    context = new_context(browser, app.url, also_allowed=[provider.url])
    page = context.new_page()
    provider.tamper = claims
    try:
        _sign_in(page, app, "planerare-1")
        page.get_by_text(_text(message)).wait_for(timeout=60_000)
    finally:
        provider.tamper = {}
    page.get_by_label("Användarnamn").wait_for(timeout=60_000)  # back at the login, nothing opened
    assert page.get_by_test_id("stSidebarNav").count() == 0
    assert page.get_by_test_id("stException").count() == 0 and "Traceback" not in page.content()
    _shot(page, shot)
    context.close()


def test_sso_user_without_a_known_role_is_refused(sso: tuple[App, Provider, Path], browser: Any) -> None:
    app, provider, _data = sso
    context = new_context(browser, app.url, also_allowed=[provider.url])
    page = context.new_page()
    _sign_in(page, app, "utan-roll")
    page.get_by_text(_text("sso_no_role")).wait_for(timeout=60_000)
    assert page.get_by_test_id("stSidebarNav").count() == 0
    # the identity can be signed out of, and then the plain login is back
    page.get_by_role("button", name=_text("sso_logout")).click()
    page.wait_for_url("**/oauth2/end_session**", timeout=60_000)
    page.get_by_role("button", name="End session").click()
    page.get_by_role("button", name=_text("login_sso")).wait_for(timeout=60_000)
    assert page.get_by_text(_text("sso_no_role")).count() == 0
    _shot(page, "sso_ingen_roll")
    context.close()

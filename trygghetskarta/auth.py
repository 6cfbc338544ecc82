"""Accounts: password hashing (argon2id), login with lock-out, session timeout, single sign-on role mapping.

There is no default password anywhere: the first administrator is created with
``trygghetskarta users add NAME --role admin``, which reads the password without echo.

Login failures all give the same message, whether the user is unknown, the password wrong or the account
locked, so the login page cannot be used to find out which accounts exist.

Single sign-on (OpenID Connect through Streamlit's ``st.login``, e.g. Microsoft Entra ID): the UI passes the
identity token's claims to ``viewer_from_oidc_claims``. The role comes from

1. a user row whose ``sso_subject`` is the token's ``sub`` (an administrator set it; it wins, so an
   administrator can always narrow or withdraw access: an inactive row refuses the login), else
2. the claim named by the ``oidc_role_claim`` setting (default ``roles``, where Entra ID puts app roles),
   a list or a string of values separated by spaces or commas. Each value is read case-insensitively,
   with any prefix before the last ``.``, ``/`` or ``:`` removed (``trygghetskarta.planerare``,
   ``Trygghetskarta/Planerare``, ``app:planner``) and å/ä/ö folded to a/a/o. ``OIDC_ROLE_NAMES`` lists the
   names per role (Swedish and English). When several roles match, the first in ``OIDC_ROLE_PRECEDENCE``
   wins. No known role and no user row: the login is refused.

An SSO user without a user row gets the username ``sso:<preferred_username|email|sub>``, which can never
collide with a local account's own walks or reports. A housing-company user's organisation comes only from
a user row (there are several housing companies); without one they see no organisation's detail.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import hmac
import re
import secrets
import string
import sys
import unicodedata
from collections.abc import Mapping
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from trygghetskarta import schema, settings
from trygghetskarta.access import Viewer
from trygghetskarta.errors import AuthenticationError, TrygghetskartaError, ValidationError
from trygghetskarta.timeutil import now_utc, require_aware

PASSWORD_MIN_LENGTH = 12
# Longer input is refused before hashing, so a huge "password" cannot tie up the server.
PASSWORD_MAX_LENGTH = 1024
USERNAME_MAX_LENGTH = 100

LOGIN_FAILED = "login failed: wrong username or password, or the account is temporarily locked"
SSO_REFUSED = "single sign-on: your account has no role in trygghetskarta; ask an administrator"
SSO_WRONG_ISSUER = "single sign-on: the identity token comes from an issuer this installation does not trust"
SSO_WRONG_AUDIENCE = "single sign-on: the identity token was issued for another application (audience)"
OIDC_DISCOVERY_SUFFIX = "/.well-known/openid-configuration"

# argon2id with the library's defaults (RFC 9106 low-memory profile).
_HASHER = PasswordHasher()
# Verified against when the user does not exist or is locked, so every failed login costs the same time.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(32))

OIDC_ROLE_NAMES: dict[str, tuple[str, ...]] = {
    "deltagare": ("deltagare", "participant", "walk_participant", "walker"),
    "nattvandrare": ("nattvandrare", "nattvandring", "night_walker", "nightwalker", "night_walk"),
    "faltgrupp": ("faltgrupp", "faltassistent", "field_worker", "fieldworker", "field_group", "outreach"),
    "planerare": ("planerare", "planner", "trygghetssamordnare", "coordinator"),
    "polis": ("polis", "polisen", "police"),
    "bostadsbolag": ("bostadsbolag", "fastighetsagare", "housing", "housing_company", "landlord"),
    "vaktare": ("vaktare", "vaktarbolag", "security_guard", "security_company", "guard"),
    "raddningstjanst": ("raddningstjanst", "raddningstjansten", "fire_and_rescue", "fire_service", "rescue"),
    "admin": ("admin", "administrator", "administratoer", "administrator_trygghetskarta"),
}
OIDC_ROLE_PRECEDENCE: tuple[str, ...] = (
    "admin", "planerare", "faltgrupp", "polis", "bostadsbolag", "vaktare", "raddningstjanst", "nattvandrare",
    "deltagare")
_ROLE_BY_NAME = {name: role for role, names in OIDC_ROLE_NAMES.items() for name in names}
_FOLD = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "ü": "u"})


# --- passwords -------------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (salted; safe to store)."""
    _check_length(password)
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; never raises for a wrong or malformed hash."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_password(password: str, username: str) -> None:
    """Raise ``ValidationError`` unless ``password`` follows the rules (≥ 12 characters, not the username)."""
    if not isinstance(password, str):
        msg = "a password must be text"
        raise ValidationError(msg)
    _check_length(password)
    if len(password) < PASSWORD_MIN_LENGTH:
        msg = f"a password needs at least {PASSWORD_MIN_LENGTH} characters"
        raise ValidationError(msg)
    if not password.strip():
        msg = "a password cannot be only spaces"
        raise ValidationError(msg)
    name = (username or "").strip().casefold()
    if name and (password.casefold() == name or (len(name) >= 4 and name in password.casefold())):
        msg = "a password must not be or contain the username"
        raise ValidationError(msg)


def _check_length(password: str) -> None:
    if len(password) > PASSWORD_MAX_LENGTH:
        msg = f"a password may have at most {PASSWORD_MAX_LENGTH} characters"
        raise ValidationError(msg)
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        msg = "a password contains characters that cannot be stored"
        raise ValidationError(msg) from None


def generate_password(length: int = 20) -> str:
    """A random password (letters and digits, no look-alikes such as 0/O and 1/l) that passes the rules."""
    if length < PASSWORD_MIN_LENGTH:
        msg = f"a generated password needs at least {PASSWORD_MIN_LENGTH} characters"
        raise ValidationError(msg)
    alphabet = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if any(c.isdigit() for c in candidate) and any(c.islower() for c in candidate) and any(
                c.isupper() for c in candidate):
            return candidate


# --- accounts --------------------------------------------------------------------------------------


def _default_organisation(role: str, organisation: str | None) -> str | None:
    """A partner reports for an organisation: the one given, else its role's default (``schema``)."""
    if organisation is None:
        return schema.DEFAULT_ORGANISATION.get(role)
    return organisation


def create_user(store: Any, username: str, role: str, password: str, organisation: str | None = None,
                actor: Viewer | None = None) -> int:
    """Create a local account; returns its id. The password is checked against the rules and hashed."""
    schema.require_key("role", role, "role")
    check_password(password, username)
    return store.add_user(username, role, hash_password(password), _default_organisation(role, organisation),
                          actor=actor)


DEMO_USERNAMES: dict[str, str] = {role: f"demo-{role}" for role in schema.keys("role")}


def create_demo_users(store: Any) -> dict[str, str]:
    """One demo account per role with a fresh random password, returned once (never stored in clear).

    Accounts that already exist are left as they are (and not listed). There is no default password.
    """
    created: dict[str, str] = {}
    for role, username in DEMO_USERNAMES.items():
        if store.user_row(username) is not None:
            continue
        password = generate_password()
        create_user(store, username, role, password)
        created[username] = password
    return created


def set_password(store: Any, username: str, password: str, actor: Viewer | None = None) -> None:
    """Replace a user's password (and unlock the account)."""
    check_password(password, username)
    store.update_user(username, actor=actor, audit_action="password_set", password_hash=hash_password(password),
                      failed_attempts=0, locked_until=None)


def authenticate(store: Any, username: str, password: str, now: dt.datetime | None = None) -> Viewer:
    """The viewer for a correct username and password; ``AuthenticationError`` (always the same message) else.

    After ``lockout_attempts`` wrong passwords in a row the account is locked for ``lockout_minutes``;
    while locked even the right password is refused. Each attempt is reserved in the database before the
    hash is checked (``Store.reserve_login_attempt``), so parallel guesses cannot get more than
    ``lockout_attempts`` checks against the real hash, and a right password that arrives after them is refused.
    """
    now = require_aware(now, 'now') if now is not None else now_utc()
    if not _plausible(username) or not isinstance(password, str) or len(password) > PASSWORD_MAX_LENGTH or (
            not _encodable(password)):
        verify_password(_DUMMY_HASH, "x")
        _audit_unknown(store, username)
        raise AuthenticationError(LOGIN_FAILED)
    row = store.user_row(username)
    if row is None or not row.get("active") or not row.get("password_hash"):
        verify_password(_DUMMY_HASH, password)
        _audit_unknown(store, username)
        raise AuthenticationError(LOGIN_FAILED)
    viewer = Viewer(row["username"], row["role"], row.get("organisation"))
    limit = int(settings.get("lockout_attempts"))
    lock_until = now + dt.timedelta(minutes=int(settings.get("lockout_minutes")))
    # Reserve the attempt in the database before the hash is checked: a burst of parallel guesses gets
    # attempt numbers one at a time, and only the first ``limit`` of them are checked against the real hash.
    attempt = store.reserve_login_attempt(row["username"], limit, now, lock_until)
    if attempt is None:
        verify_password(_DUMMY_HASH, password)
        _audit_unknown(store, username)
        raise AuthenticationError(LOGIN_FAILED)
    if attempt > limit:
        verify_password(_DUMMY_HASH, password)  # the same cost as a real check
        store.finish_login_attempt(row["username"], attempt, limit, False, viewer)
        raise AuthenticationError(LOGIN_FAILED)
    if not verify_password(row["password_hash"], password):
        store.finish_login_attempt(row["username"], attempt, limit, False, viewer, lock_until=lock_until)
        raise AuthenticationError(LOGIN_FAILED)
    values: dict[str, Any] = {"last_login": now}
    if _HASHER.check_needs_rehash(row["password_hash"]):
        values["password_hash"] = _HASHER.hash(password)
    store.finish_login_attempt(row["username"], attempt, limit, True, viewer, values=values)
    return viewer


def _plausible(username: Any) -> bool:
    return (isinstance(username, str) and 0 < len(username) <= USERNAME_MAX_LENGTH and "\x00" not in username
            and not any(ch.isspace() for ch in username) and _encodable(username))


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def attempted_name_hash(store: Any, username: Any) -> str:
    """A short keyed hash (HMAC-SHA-256 with this database's random key, 12 hex digits) of a name typed at the
    login that is no account. The audit log keeps this instead of the name: people type their password into
    the username box. The same name always gives the same hash, so repeated attempts can be told apart and an
    administrator can compute the hash of a name to look for it; without the database's key the hash cannot be
    tried against a list of passwords."""
    text = username if isinstance(username, str) else repr(type(username))
    data = text.encode("utf-8", "surrogatepass")
    return hmac.new(store.audit_name_key(), data, hashlib.sha256).hexdigest()[:12]


def _audit_unknown(store: Any, username: Any) -> None:
    """Record a failed login for a name that is not an account: only a short keyed hash of the name, never
    the name itself (it may be a password typed in the wrong box)."""
    store.audit("login_failed", None, "user", None,
                {"attempted_username_hash": attempted_name_hash(store, username), "reason": "unknown"},
                unauthenticated=True)


def session_expired(last_seen: dt.datetime | None, now: dt.datetime | None = None) -> bool:
    """Whether a session idle since ``last_seen`` must log in again (``session_timeout_minutes``).

    A missing ``last_seen`` is expired, and so is one in the future (a clock or a tampered value).
    """
    if last_seen is None:
        return True
    now = require_aware(now, 'now') if now is not None else now_utc()
    idle = now - require_aware(last_seen, 'last seen')
    if idle < -dt.timedelta(minutes=1):
        return True
    return idle > dt.timedelta(minutes=int(settings.get("session_timeout_minutes")))


# --- single sign-on --------------------------------------------------------------------------------


def role_from_claim_value(value: str) -> str | None:
    """The role key a single claim value names (see the module docstring), or None."""
    text = unicodedata.normalize("NFC", str(value)).strip().casefold().translate(_FOLD)
    text = re.split(r"[./:]", text)[-1].strip()
    text = re.sub(r"[\s\-]+", "_", text)
    return _ROLE_BY_NAME.get(text) or _ROLE_BY_NAME.get(text.removeprefix("trygghetskarta_"))


def roles_from_claims(claims: Mapping[str, Any]) -> list[str]:
    """Every known role named by the role claim, in precedence order."""
    raw = claims.get(settings.get("oidc_role_claim"))
    if raw is None:
        return []
    values: list[Any] = re.split(r"[\s,;]+", raw) if isinstance(raw, str) else (
        list(raw) if isinstance(raw, (list, tuple, set, frozenset)) else [])
    found = {role_from_claim_value(v) for v in values if isinstance(v, str) and v.strip()}
    return [r for r in OIDC_ROLE_PRECEDENCE if r in found]


def oidc_trust(provider: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The issuer and audience an identity token must carry, from one provider section of Streamlit's
    ``[auth]`` secrets: the issuer is ``expected_issuer`` when given, else the ``server_metadata_url`` without
    ``/.well-known/openid-configuration`` (OpenID Connect Discovery requires the provider's issuer to be exactly
    that prefix); the audience is the ``client_id``. None where the section does not say."""
    issuer = provider.get("expected_issuer")
    if not issuer:
        url = provider.get("server_metadata_url")
        issuer = url[: -len(OIDC_DISCOVERY_SUFFIX)] if isinstance(url, str) and url.endswith(
            OIDC_DISCOVERY_SUFFIX) else None
    audience = provider.get("client_id")
    return (str(issuer) if issuer else None), (str(audience) if audience else None)


def _check_token_origin(store: Any, claims: Mapping[str, Any], issuer: str | None, audience: str | None) -> None:
    """Refuse an identity whose token names another issuer or was issued for another client (audience). The
    role comes from the token's claims, so a token from any other issuer must never be taken."""
    reason = None
    if issuer is not None and claims.get("iss") != issuer:
        reason, message = "wrong issuer", SSO_WRONG_ISSUER
    aud = claims.get("aud")
    auds = [aud] if isinstance(aud, str) else list(aud) if isinstance(aud, (list, tuple)) else []
    if reason is None and audience is not None and audience not in auds:
        reason, message = "wrong audience", SSO_WRONG_AUDIENCE
    if reason is not None:
        shown = "".join(ch if ch.isprintable() else "?" for ch in str(claims.get("iss"))[:200])
        store.audit("login_failed", None, "user", None, {"method": "sso", "reason": reason, "issuer": shown},
                    unauthenticated=True)
        raise AuthenticationError(message)


def viewer_from_oidc_claims(store: Any, claims: Mapping[str, Any], issuer: str | None = None,
                            audience: str | None = None) -> Viewer:
    """The viewer for a single sign-on identity (the claims of its ID token); ``AuthenticationError`` if refused.

    ``issuer`` and ``audience`` (see ``oidc_trust``), when given, must match the token's ``iss`` and ``aud``
    (Authlib checks them against the provider's metadata too; this pins them to the configuration).
    """
    if not isinstance(claims, Mapping):
        raise AuthenticationError(SSO_REFUSED)
    _check_token_origin(store, claims, issuer, audience)
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.strip() or not _encodable(sub) or len(sub) > 300:
        raise AuthenticationError(SSO_REFUSED)
    row = store.user_by_subject(sub)
    if row is not None:
        if not row.get("active"):
            store.audit("login_failed", None, "user", int(row["id"]), {"method": "sso", "reason": "inactive"},
                        unauthenticated=True)
            raise AuthenticationError(SSO_REFUSED)
        organisation = row.get("organisation") or ("polis" if row["role"] == "polis" else None)
        viewer = Viewer(row["username"], row["role"], organisation)
        store.audit("login_ok", viewer, "user", int(row["id"]), {"method": "sso", "role_from": "user"})
        return viewer
    roles = roles_from_claims(claims)
    name = next((claims[k] for k in ("preferred_username", "email") if isinstance(claims.get(k), str)
                 and claims[k].strip()), sub)
    username = ("sso:" + re.sub(r"\s+", "_", str(name).strip()))[:USERNAME_MAX_LENGTH]
    if not roles or not _encodable(username):
        shown = "".join(ch if ch.isprintable() else "?" for ch in username)
        store.audit("login_failed", None, "user", None, {"method": "sso", "attempted_username": shown,
                                                           "reason": "no role"}, unauthenticated=True)
        raise AuthenticationError(SSO_REFUSED)
    role = roles[0]
    # a partner's organisation from SSO is its role's only one (police, väktare, räddningstjänst); a housing
    # company has several, so it comes only from a user row
    orgs = schema.PARTNER_ORGANISATIONS.get(role, ())
    viewer = Viewer(username, role, orgs[0] if len(orgs) == 1 else None)
    store.audit("login_ok", viewer, "user", None, {"method": "sso", "role_from": "claim"})
    return viewer


# --- command line ----------------------------------------------------------------------------------


def cli_users_add(store: Any, name: str, role: str, organisation: str | None = None,
                  password: str | None = None) -> int:
    """``trygghetskarta users add NAME --role ROLE``: reads the password twice without echo; exit status."""
    try:
        store.require_initialised()
        schema.require_key("role", role, "role")
        if password is None:
            first = getpass.getpass(f"Password for {name} (at least {PASSWORD_MIN_LENGTH} characters): ")
            second = getpass.getpass("Repeat the password: ")
            if first != second:
                print("error: the two passwords differ; nothing was saved", file=sys.stderr)
                return 1
            password = first
        create_user(store, name, role, password, organisation)
    except TrygghetskartaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (EOFError, KeyboardInterrupt):
        print("error: no password given; nothing was saved", file=sys.stderr)
        return 1
    print(f"user {name} created with role {role}")
    return 0

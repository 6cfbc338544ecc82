"""Accounts: hashing, password rules, lock-out under brute force, generic errors, fuzzed login, SSO role mapping,
and the database password never reaching output."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trygghetskarta import auth
from trygghetskarta import settings as tk_settings
from trygghetskarta.access import Viewer
from trygghetskarta.errors import AuthenticationError, ValidationError
from trygghetskarta.store import Store, open_store

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # app_pages is imported as the running app does
    sys.path.insert(0, str(ROOT))
T0 = dt.datetime(2026, 2, 1, 9, 0, tzinfo=dt.UTC)
GOOD = "korrekt-häst-batteri-42"


def _user(store: Store, username: str) -> dict[str, Any]:
    """The user's row, which the test expects to exist."""
    row = store.user_row(username)
    assert row is not None, f"no user {username!r}"
    return row


def test_hash_is_argon2id_salted_and_verifies() -> None:
    h1, h2 = auth.hash_password(GOOD), auth.hash_password(GOOD)
    assert h1.startswith("$argon2id$") and h1 != h2
    assert GOOD not in h1
    assert auth.verify_password(h1, GOOD)
    assert not auth.verify_password(h1, GOOD + "x")
    assert not auth.verify_password("not-a-hash", GOOD)


@pytest.mark.parametrize(("password", "reason"), [
    ("kort", "at least 12"), ("anna.lindqvist", "username"), ("xxanna.lindqvistxx", "username"),
    (" " * 14, "only spaces"), ("a" * 2000, "at most"),
])
def test_password_rules(password: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        auth.check_password(password, "anna.lindqvist")


def test_generated_passwords_pass_the_rules_and_differ() -> None:
    pws = {auth.generate_password() for _ in range(50)}
    assert len(pws) == 50
    for pw in pws:
        auth.check_password(pw, "admin")


def test_create_user_stores_only_a_hash(sqlite_store: Store) -> None:
    auth.create_user(sqlite_store, "anna", "planerare", GOOD)
    row = _user(sqlite_store, "anna")
    assert row is not None and row["password_hash"].startswith("$argon2id$")
    assert GOOD not in str(sqlite_store.users().to_dict()) and GOOD not in str(sqlite_store.audit_log().to_dict())
    with pytest.raises(ValidationError):
        auth.create_user(sqlite_store, "bertil", "planerare", "short")
    assert sqlite_store.user_row("bertil") is None
    auth.create_user(sqlite_store, "polis1", "polis", GOOD)
    assert _user(sqlite_store, "polis1")["organisation"] == "polis"


def test_login_ok_and_generic_failures(store: Store) -> None:
    auth.create_user(store, "anna", "bostadsbolag", GOOD, organisation="upplands_brohus")
    assert auth.authenticate(store, "anna", GOOD, now=T0) == Viewer("anna", "bostadsbolag", "upplands_brohus")
    messages = set()
    for user, pw in (("anna", "fel-lösenord-123"), ("finns-inte", GOOD), ("", ""), ("a b", GOOD)):
        with pytest.raises(AuthenticationError) as err:
            auth.authenticate(store, user, pw, now=T0)
        messages.add(str(err.value))
    assert messages == {auth.LOGIN_FAILED}
    actions = store.audit_log()["action"].tolist()
    assert "login_ok" in actions and "login_failed" in actions


def test_brute_force_locks_the_account(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRYGGHETSKARTA_LOCKOUT_ATTEMPTS", "5")
    monkeypatch.setenv("TRYGGHETSKARTA_LOCKOUT_MINUTES", "15")
    auth.create_user(store, "anna", "planerare", GOOD)
    for i in range(5):
        with pytest.raises(AuthenticationError):
            auth.authenticate(store, "anna", f"gissning-nummer-{i}", now=T0 + dt.timedelta(seconds=i))
    # the right password is refused while locked, with the same message
    for minutes in (0, 1, 14):
        with pytest.raises(AuthenticationError, match="wrong username or password"):
            auth.authenticate(store, "anna", GOOD, now=T0 + dt.timedelta(minutes=minutes, seconds=10))
    assert "locked" in store.audit_log()["action"].tolist()
    # after the lock expires the right password works and the counter starts again
    viewer = auth.authenticate(store, "anna", GOOD, now=T0 + dt.timedelta(minutes=16))
    assert viewer.role == "planerare"
    assert _user(store, "anna")["failed_attempts"] == 0
    for i in range(4):  # fewer than the limit: not locked
        with pytest.raises(AuthenticationError):
            auth.authenticate(store, "anna", f"igen-fel-{i}-xxxxx", now=T0 + dt.timedelta(minutes=20))
    assert auth.authenticate(store, "anna", GOOD, now=T0 + dt.timedelta(minutes=20)).username == "anna"


def test_parallel_wrong_passwords_are_all_counted(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Eight guesses at once against a limit of five: the counter is one UPDATE, so none is lost and the
    account ends locked (a read-then-write counter let parallel guesses through)."""
    import threading

    monkeypatch.setenv("TRYGGHETSKARTA_LOCKOUT_ATTEMPTS", "5")
    auth.create_user(store, "anna", "planerare", GOOD)
    start = threading.Barrier(8)

    def guess(i: int) -> None:
        start.wait()
        with pytest.raises(AuthenticationError):
            auth.authenticate(store, "anna", f"parallell-gissning-{i}", now=T0)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    import json

    row = _user(store, "anna")
    assert row["locked_until"] is not None
    log = store.audit_log()
    guesses = log[log["action"].isin(["locked", "login_failed"])]
    assert len(guesses) == 8 and (guesses["action"] == "locked").sum() == 1  # every guess audited, one lock
    # Guesses that read the row before the lock were counted (1..5 locked it, then 1..n again); a guess that
    # read it after was refused as locked. No two counted guesses saw the same count before the lock.
    # Each guess reserved its attempt number before the hash was checked: 1..5 were checked (5 locked the
    # account), the other three were refused as locked.
    counts = sorted(d["failed_attempts"] for d in map(json.loads, guesses["detail"]) if "failed_attempts" in d)
    assert counts == [1, 2, 3, 4, 5], counts
    with pytest.raises(AuthenticationError):
        auth.authenticate(store, "anna", GOOD, now=T0 + dt.timedelta(minutes=1))


def _count_checks_against(monkeypatch: pytest.MonkeyPatch, slow_wrong_s: float = 0.0) -> list[str]:
    """Record the hash of every argon2 verification (optionally slowing wrong passwords, as a slower hash would,
    to widen the window a check-then-count login leaves open)."""
    import time

    import argon2

    checked: list[str] = []
    original = argon2.PasswordHasher.verify

    def counting(self: argon2.PasswordHasher, hash: str | bytes, password: str | bytes) -> bool:
        checked.append(hash if isinstance(hash, str) else hash.decode())
        if slow_wrong_s and password != GOOD:
            time.sleep(slow_wrong_s)
        return original(self, hash, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting)
    return checked


def _burst(n: int, target: Callable[[int], object]) -> list[BaseException | None]:
    import threading

    start = threading.Barrier(n)
    outcome: list[BaseException | None] = [None] * n

    def run(i: int) -> None:
        start.wait()
        try:
            target(i)
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            outcome[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    return outcome


def test_parallel_burst_gets_at_most_the_limit_of_real_hash_checks(store: Store,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 11: 50 parallel wrong guesses got 37 (SQLite) / 48 (PostGIS) checks against the real hash with a
    limit of 5. The attempt is now reserved in the database first: exactly the limit is checked."""
    monkeypatch.setenv("TRYGGHETSKARTA_LOCKOUT_ATTEMPTS", "5")
    auth.create_user(store, "anna", "planerare", GOOD)
    real_hash = _user(store, "anna")["password_hash"]
    checked = _count_checks_against(monkeypatch)
    outcome = _burst(50, lambda i: auth.authenticate(store, "anna", f"parallell-gissning-{i:02d}", now=T0))
    assert all(isinstance(o, AuthenticationError) for o in outcome), outcome
    assert checked.count(real_hash) == 5, checked.count(real_hash)
    assert len(checked) == 50  # the refused ones cost a (dummy) check too, so timing tells nothing
    row = _user(store, "anna")
    assert row["locked_until"] is not None and row["locked_until"] > T0


def test_right_password_late_in_a_parallel_burst_is_refused(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 11: the right password sent as the 20th of a parallel burst was accepted (5 of 5 times) and left
    the account unlocked. Wrong guesses are slowed like a slow hash; the right one goes once the first five
    are under way (or after 0.4 s): it is refused and the account stays locked."""
    import time

    monkeypatch.setenv("TRYGGHETSKARTA_LOCKOUT_ATTEMPTS", "5")
    auth.create_user(store, "anna", "planerare", GOOD)
    _count_checks_against(monkeypatch, slow_wrong_s=1.5)

    def attempt(i: int) -> None:
        if i == 19:
            deadline = time.monotonic() + 0.4
            while time.monotonic() < deadline and _user(store, "anna")["failed_attempts"] < 5:
                time.sleep(0.01)
            auth.authenticate(store, "anna", GOOD, now=T0)
        else:
            auth.authenticate(store, "anna", f"parallell-gissning-{i:02d}", now=T0)

    outcome = _burst(20, attempt)
    assert isinstance(outcome[19], AuthenticationError), "the right password was accepted during the burst"
    assert all(isinstance(o, AuthenticationError) for o in outcome[:19]), outcome
    row = _user(store, "anna")
    assert row["locked_until"] is not None and row["locked_until"] > T0
    with pytest.raises(AuthenticationError):  # still locked afterwards, whatever the order
        auth.authenticate(store, "anna", GOOD, now=T0 + dt.timedelta(minutes=1))
    assert auth.authenticate(store, "anna", GOOD, now=T0 + dt.timedelta(minutes=16)).username == "anna"


def test_unknown_name_is_audited_as_nobody_logged_in(store: Store) -> None:
    with pytest.raises(AuthenticationError):
        auth.authenticate(store, "finns-inte", GOOD, now=T0)
    failed = store.audit_log().query("action == 'login_failed'").iloc[0]
    assert (failed["username"], failed["role"]) == ("(ej inloggad)", "-")
    assert "finns-inte" not in failed["detail"]
    assert auth.attempted_name_hash(store, "finns-inte") in failed["detail"]


def test_password_typed_as_username_is_not_stored_in_the_audit_log(store: Store) -> None:
    """Issue 11: a password typed in the username box was stored in clear in the audit log."""
    auth.create_user(store, "anna", "planerare", GOOD)
    typed = "Mitt-Hemliga-Lösen-77"
    for name in (typed, typed + " med mellanslag", "x" * 500):
        with pytest.raises(AuthenticationError):
            auth.authenticate(store, name, GOOD, now=T0)
    log = store.audit_log()
    text = log.to_csv()
    assert typed not in text and "Hemliga" not in text and "x" * 20 not in text
    import json

    hashes = [json.loads(d)["attempted_username_hash"] for d in log.query("action == 'login_failed'")["detail"]]
    assert len(hashes) == 3 and all(len(h) == 12 for h in hashes)
    assert hashes[-1] == auth.attempted_name_hash(store, typed)  # the same name always gives the same hash
    assert auth.attempted_name_hash(store, typed) != auth.attempted_name_hash(store, typed + "x")
    # known usernames are kept as they are (a wrong password for "anna")
    with pytest.raises(AuthenticationError):
        auth.authenticate(store, "anna", "fel-lösenord-123", now=T0)
    assert '"username": "anna"' in store.audit_log().iloc[0]["detail"]


def test_inactive_user_cannot_log_in(sqlite_store: Store) -> None:
    auth.create_user(sqlite_store, "anna", "planerare", GOOD)
    sqlite_store.update_user("anna", active=False)
    with pytest.raises(AuthenticationError):
        auth.authenticate(sqlite_store, "anna", GOOD, now=T0)


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.sqlite'}")
    s.init()
    auth.create_user(s, "anna", "planerare", GOOD)
    yield s
    s.dispose()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(username=st.one_of(st.text(max_size=300), st.just("anna"), st.binary(max_size=20), st.none(),
                          st.integers()),
       password=st.one_of(st.text(max_size=2000), st.binary(max_size=20), st.none(), st.just("")))
def test_fuzz_authenticate_only_raises_our_errors(fuzz_store: Store, username: object, password: object) -> None:
    try:
        auth.authenticate(fuzz_store, username, password, now=T0)  # type: ignore[arg-type]
    except AuthenticationError as exc:
        assert str(exc) == auth.LOGIN_FAILED
    except ValidationError:
        pass
    else:
        pytest.fail("a fuzzed login succeeded")


def test_fuzz_authenticate_on_postgis(store: Store) -> None:
    """PostgreSQL refuses NUL bytes in text; such input must still give the generic error, not a crash."""
    auth.create_user(store, "anna", "planerare", GOOD)
    for user, pw in (("an\x00na", GOOD), ("anna", "x\x00y"), ("\ud800", GOOD), ("anna", "\udfff"),
                     ("' OR 1=1 --", "' OR '1'='1"), ("anna" * 100, GOOD)):
        with pytest.raises(AuthenticationError):
            auth.authenticate(store, user, pw, now=T0)


def test_session_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRYGGHETSKARTA_SESSION_TIMEOUT_MINUTES", "60")
    assert not auth.session_expired(T0, now=T0 + dt.timedelta(minutes=59))
    assert auth.session_expired(T0, now=T0 + dt.timedelta(minutes=61))
    assert auth.session_expired(None, now=T0)
    assert auth.session_expired(T0 + dt.timedelta(hours=2), now=T0)  # from the future: tampered or clock skew
    with pytest.raises(ValidationError):
        auth.session_expired(dt.datetime(2026, 1, 1), now=T0)


# --- single sign-on --------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "role"), [
    (["trygghetskarta.planerare"], "planerare"), (["Planner"], "planerare"), ("Fältgrupp", "faltgrupp"),
    (["field_worker"], "faltgrupp"), ("Trygghetskarta/Polis", "polis"), (["police"], "polis"),
    (["Bostadsbolag"], "bostadsbolag"), ("nattvandrare", "nattvandrare"), (["Night-Walker"], "nattvandrare"),
    (["deltagare"], "deltagare"), (["Administratör"], "admin"), ("app:admin", "admin"),
    (["other.app.reader", "trygghetskarta.deltagare", "trygghetskarta.admin"], "admin"),
    ("trygghetskarta.deltagare trygghetskarta.planerare", "planerare"), (["Väktare"], "vaktare"),
    ("trygghetskarta.raddningstjanst", "raddningstjanst"),
])
def test_oidc_roles_from_claim(sqlite_store: Store, value: object, role: str) -> None:
    viewer = auth.viewer_from_oidc_claims(sqlite_store, {"sub": "abc-123", "preferred_username": "anna@bro.se",
                                                         "roles": value})
    assert viewer.role == role
    assert viewer.username == "sso:anna@bro.se"
    single = {"polis": "polis", "vaktare": "vaktarbolag", "raddningstjanst": "raddningstjanst"}
    assert viewer.organisation == single.get(role)  # a housing company has several: only from a user row


@pytest.mark.parametrize(("role", "organisation"), [("polis", "polis"), ("bostadsbolag", "upplands_brohus"),
                                                    ("vaktare", "vaktarbolag"),
                                                    ("raddningstjanst", "raddningstjanst"), ("planerare", None)])
def test_partner_users_get_their_roles_organisation(sqlite_store: Store, role: str, organisation: str | None) -> None:
    auth.create_user(sqlite_store, f"u_{role}", role, "ett långt lösenord 1")
    assert _user(sqlite_store, f"u_{role}")["organisation"] == organisation


def test_oidc_role_claim_setting(sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRYGGHETSKARTA_OIDC_ROLE_CLAIM", "groups")
    claims = {"sub": "s1", "roles": ["admin"], "groups": ["trygghetskarta.nattvandrare"]}
    assert auth.viewer_from_oidc_claims(sqlite_store, claims).role == "nattvandrare"


@pytest.mark.parametrize("claims", [
    {"sub": "s1"}, {"sub": "s1", "roles": []}, {"sub": "s1", "roles": ["superuser", "reader"]},
    {"sub": "s1", "roles": 42}, {"roles": ["admin"]}, {"sub": "", "roles": ["admin"]},
    {"sub": None, "roles": ["admin"]},
])
def test_oidc_unknown_is_refused(sqlite_store: Store, claims: dict) -> None:
    with pytest.raises(AuthenticationError):
        auth.viewer_from_oidc_claims(sqlite_store, claims)


def test_oidc_role_set_by_admin_wins(store: Store) -> None:
    store.add_user("bo.ab", "bostadsbolag", None, organisation="privat_fastighetsagare", sso_subject="sub-77")
    viewer = auth.viewer_from_oidc_claims(store, {"sub": "sub-77", "roles": ["trygghetskarta.admin"]})
    assert viewer == Viewer("bo.ab", "bostadsbolag", "privat_fastighetsagare")
    store.update_user("bo.ab", active=False)
    with pytest.raises(AuthenticationError):
        auth.viewer_from_oidc_claims(store, {"sub": "sub-77", "roles": ["trygghetskarta.admin"]})
    # an SSO account without a password can never log in with a password
    with pytest.raises(AuthenticationError):
        auth.authenticate(store, "bo.ab", "", now=T0)


ISSUER = "https://login.microsoftonline.com/0f1e2d3c-aaaa-bbbb-cccc-111122223333/v2.0"


def test_oidc_trust_comes_from_the_provider_section() -> None:
    section = {"client_id": "app-123", "server_metadata_url": ISSUER + auth.OIDC_DISCOVERY_SUFFIX}
    assert auth.oidc_trust(section) == (ISSUER, "app-123")
    assert auth.oidc_trust({**section, "expected_issuer": "https://idp.example/x"}) == ("https://idp.example/x",
                                                                                        "app-123")
    assert auth.oidc_trust({"client_id": "app-123", "server_metadata_url": "https://idp.example/meta"}) == (
        None, "app-123")


@pytest.mark.parametrize(("claims", "message"), [
    ({"iss": "https://login.microsoftonline.com/another-tenant/v2.0", "aud": "app-123"}, auth.SSO_WRONG_ISSUER),
    ({"aud": "app-123"}, auth.SSO_WRONG_ISSUER),  # no issuer at all
    ({"iss": ISSUER, "aud": "another-app"}, auth.SSO_WRONG_AUDIENCE),
    ({"iss": ISSUER, "aud": ["another-app", "third-app"]}, auth.SSO_WRONG_AUDIENCE),
    ({"iss": ISSUER}, auth.SSO_WRONG_AUDIENCE),
])
def test_oidc_token_from_another_issuer_or_for_another_client_is_refused(store: Store, claims: dict,
                                                                        message: str) -> None:
    """The role comes from the token's claims, so a token from another tenant (which could say "admin") or one
    issued for another application must never be taken, even with a user row for its subject."""
    store.add_user("anna.sso", "planerare", None, sso_subject="sub-1")
    full = {"sub": "sub-1", "roles": ["trygghetskarta.admin"], **claims}
    with pytest.raises(AuthenticationError) as err:
        auth.viewer_from_oidc_claims(store, full, issuer=ISSUER, audience="app-123")
    assert str(err.value) == message
    failed = store.audit_log().query("action == 'login_failed'")
    assert len(failed) == 1 and '"method": "sso"' in failed.iloc[0]["detail"]
    ok = auth.viewer_from_oidc_claims(store, {**full, "iss": ISSUER, "aud": ["app-123"]}, issuer=ISSUER,
                                      audience="app-123")
    assert ok == Viewer("anna.sso", "planerare", None)


def test_secrets_example_names_what_the_login_page_calls() -> None:
    """Issue 11: the example named a provider the code did not call (the page called st.login() = "default")."""
    import tomllib

    from app_pages import _sso

    example = tomllib.loads((ROOT / ".streamlit" / "secrets.toml.example").read_text(encoding="utf-8"))
    found = _sso.providers_in(example["auth"])
    assert list(found) == ["microsoft"]  # the login page calls st.login("microsoft")
    issuer, audience = auth.oidc_trust(found["microsoft"])
    assert issuer == "https://login.microsoftonline.com/<Directory (tenant) ID>/v2.0"
    assert audience == "<Application (client) ID>"
    assert _sso.providers_in({"client_id": "x", "server_metadata_url": "y"}) == {}  # no redirect_uri/cookie


@pytest.mark.parametrize(("text", "reason"), [
    ("InvalidClaimError: invalid_claim: Invalid claim: 'iss'", "issuer"),
    ("InvalidClaimError: invalid_claim: Invalid claim: 'aud'", "audience"),
    ("MissingClaimError: missing_claim: Missing claim: 'azp'", "audience"),
    ("BadSignatureError: bad_signature", "failed"),
])
def test_refused_provider_answer_is_named(text: str, reason: str) -> None:
    from app_pages import _sso

    assert _sso.refusal_reason(text) == reason


# --- command line: users add -----------------------------------------------------------------------


def test_cli_users_add_reads_password_twice_without_echo(sqlite_store: Store, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    answers = iter([GOOD, GOOD])
    prompts: list[str] = []

    def getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr(auth.getpass, "getpass", getpass)
    assert auth.cli_users_add(sqlite_store, "chef", "admin") == 0
    out = capsys.readouterr()
    assert len(prompts) == 2
    assert GOOD not in out.out + out.err
    assert auth.authenticate(sqlite_store, "chef", GOOD, now=T0).role == "admin"

    answers = iter([GOOD, GOOD + "x"])
    assert auth.cli_users_add(sqlite_store, "chef2", "admin") == 1
    assert "differ" in capsys.readouterr().err
    assert sqlite_store.user_row("chef2") is None
    assert auth.cli_users_add(sqlite_store, "chef3", "admin", password="kort") == 1
    assert "at least 12" in capsys.readouterr().err


# --- the database password never reaches output ------------------------------------------------------

SECRET = "Hemligt-Lösen-9876"


def test_redact_url_never_leaks_the_password() -> None:
    for url in (f"postgresql://alice:{SECRET}@db.example:5432/tk", f"postgres://alice:{SECRET}@db/tk",
                f"postgresql+psycopg://alice:{SECRET}@db/tk?sslmode=require", f"postgresql://alice:{SECRET}@/tk",
                f"mysql://alice:{SECRET}@db/tk", "::::not a url::::" + SECRET):
        assert SECRET not in tk_settings.redact_url(url), url
    with pytest.raises(ValidationError) as err:
        tk_settings.database_url(f"mysql://alice:{SECRET}@db/tk")
    assert SECRET not in str(err.value)


@pytest.mark.parametrize("url", [
    f"postgresql://alice@db.example/tk?password={SECRET}",
    f"postgresql://alice@db.example/tk?sslmode=require&password={SECRET}&application_name=tk",
    f"postgresql://alice@db.example/tk?PASSWORD={SECRET}",
    f"postgresql://alice@db.example/tk?p%61ssword={SECRET}",
    f"postgresql://alice@db.example/tk?sslpassword={SECRET}",
    f"postgresql+psycopg:///tk?host=/run/postgresql&password={SECRET}",
    f"host=db.example dbname=tk user=alice password={SECRET}",
    f"host=db.example password='{SECRET} with space' dbname=tk",
    f"postgresql://alice:{SECRET}/tk",  # the @host was forgotten: the password sits where the port goes
    f"postgresql://alice:{SECRET}?x@db.example/tk",  # a password with a character that needs encoding
])
def test_redact_url_hides_every_password_form(url: str) -> None:
    """Issue 11: a database URL with ``?password=`` in the query string was printed in clear."""
    shown = tk_settings.redact_url(url)
    assert SECRET not in shown and "Hemligt" not in shown, shown
    assert "***" in shown, shown


def test_redact_url_keeps_what_is_not_secret() -> None:
    assert tk_settings.redact_url("postgresql://alice@db.example:5433/tk?sslmode=require") == (
        "postgresql://alice@db.example:5433/tk?sslmode=require")
    assert tk_settings.redact_url("sqlite:////data/tk.sqlite") == "sqlite:////data/tk.sqlite"


@pytest.mark.parametrize(("url", "where"), [
    ("postgresql://alice@127.0.0.1:femtiofyra/tk", "TRYGGHETSKARTA_DB"),
    (f"postgresql://alice:{SECRET}/tk", "TRYGGHETSKARTA_DB"),
])
def test_malformed_database_url_is_one_clear_line(url: str, where: str, monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    """Issue 11: a non-numeric port gave a traceback. Now one line naming the variable, exit status 1."""
    monkeypatch.setenv("TRYGGHETSKARTA_DB", url)
    with pytest.raises(ValidationError, match=rf"^{where}: malformed database URL .*port") as err:
        tk_settings.database_url()
    assert SECRET not in str(err.value)
    with pytest.raises(ValidationError, match=r"^the database URL \(--db\): malformed database URL"):
        tk_settings.database_url(url)
    env = {**os.environ, "TRYGGHETSKARTA_DATA_DIR": str(tmp_path), "TRYGGHETSKARTA_DB": url}
    for args in (["init"], ["--db", url, "init"]):
        proc = subprocess.run([sys.executable, "-m", "trygghetskarta", *args], capture_output=True, text=True,
                              timeout=120, env=env, cwd=ROOT, input="", check=False)
        assert proc.returncode == 1, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "malformed database URL" in lines[0], proc.stderr
        assert ("--db" if "--db" in args else "TRYGGHETSKARTA_DB") in lines[0]
        assert "Hemligt" not in proc.stdout + proc.stderr and "Traceback" not in proc.stderr


def test_cli_never_prints_a_query_string_password(tmp_path: Path) -> None:
    """Issue 11: ``?password=`` in the query string was printed in clear when the database was unreachable."""
    env = {**os.environ, "TRYGGHETSKARTA_DATA_DIR": str(tmp_path)}
    env.pop("TRYGGHETSKARTA_DB", None)
    proc = subprocess.run([sys.executable, "-m", "trygghetskarta", "--db",
                           f"postgresql://alice@127.0.0.1:1/nodb?password={SECRET}", "init"],
                          capture_output=True, text=True, timeout=120, env=env, cwd=ROOT, input="", check=False)
    assert proc.returncode == 1
    assert "cannot use the database" in proc.stderr and "password=***" in proc.stderr, proc.stderr
    assert "Hemligt" not in proc.stdout + proc.stderr, proc.stderr  # neither in clear nor percent-encoded


def test_store_repr_and_errors_hide_the_password() -> None:
    s = open_store(f"postgresql://alice:{SECRET}@127.0.0.1:1/nodb")
    assert SECRET not in repr(s)
    with pytest.raises(sa.exc.OperationalError, match="Connection refused") as err:  # nothing listens on port 1
        s.require_initialised()
    assert SECRET not in str(err.value)
    s.dispose()


@pytest.mark.parametrize("command", [["init"], ["gallra", "--dry-run"], ["users", "add", "x", "--role", "admin"]])
def test_cli_never_prints_the_database_password(command: list[str], tmp_path: Path) -> None:
    env = {**os.environ, "TRYGGHETSKARTA_DATA_DIR": str(tmp_path)}
    env.pop("TRYGGHETSKARTA_DB", None)
    for url_args, extra_env in (
        (["--db", f"postgresql://alice:{SECRET}@127.0.0.1:1/nodb"], {}),
        ([], {"TRYGGHETSKARTA_DB": f"postgresql://alice:{SECRET}@127.0.0.1:1/nodb"}),
    ):
        proc = subprocess.run([sys.executable, "-m", "trygghetskarta", *url_args, *command],
                              capture_output=True, text=True, timeout=120, env={**env, **extra_env}, cwd=ROOT,
                              input="", check=False)
        assert proc.returncode != 0
        assert SECRET not in proc.stdout + proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr, proc.stderr


def test_demo_users_get_random_passwords_once(sqlite_store) -> None:
    from trygghetskarta import auth as auth_module

    first = auth_module.create_demo_users(sqlite_store)
    assert set(first) == {f"demo-{r}" for r in ("deltagare", "nattvandrare", "faltgrupp", "planerare", "polis",
                                                  "bostadsbolag", "vaktare", "raddningstjanst", "admin")}
    assert len(set(first.values())) == len(first)
    viewer = auth_module.authenticate(sqlite_store, "demo-planerare", first["demo-planerare"])
    assert viewer.role == "planerare"
    assert auth_module.create_demo_users(sqlite_store) == {}

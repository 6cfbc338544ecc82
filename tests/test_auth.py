"""Accounts: hashing, password rules, lock-out under brute force, generic errors, fuzzed login, SSO role mapping,
and the database password never reaching output."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trygghetskarta import auth
from trygghetskarta import settings as tk_settings
from trygghetskarta.access import Viewer
from trygghetskarta.errors import AuthenticationError, StoreError, ValidationError
from trygghetskarta.store import Store, open_store

ROOT = Path(__file__).resolve().parents[1]
T0 = dt.datetime(2026, 2, 1, 9, 0, tzinfo=dt.UTC)
GOOD = "korrekt-häst-batteri-42"


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
    row = sqlite_store.user_row("anna")
    assert row is not None and row["password_hash"].startswith("$argon2id$")
    assert GOOD not in str(sqlite_store.users().to_dict()) and GOOD not in str(sqlite_store.audit_log().to_dict())
    with pytest.raises(ValidationError):
        auth.create_user(sqlite_store, "bertil", "planerare", "short")
    assert sqlite_store.user_row("bertil") is None
    auth.create_user(sqlite_store, "polis1", "polis", GOOD)
    assert sqlite_store.user_row("polis1")["organisation"] == "polis"


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
    assert store.user_row("anna")["failed_attempts"] == 0
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

    row = store.user_row("anna")
    assert row["locked_until"] is not None
    log = store.audit_log()
    guesses = log[log["action"].isin(["locked", "login_failed"])]
    assert len(guesses) == 8 and (guesses["action"] == "locked").sum() == 1  # every guess audited, one lock
    # Guesses that read the row before the lock were counted (1..5 locked it, then 1..n again); a guess that
    # read it after was refused as locked. No two counted guesses saw the same count before the lock.
    counts = sorted(d["failed_attempts"] for d in map(json.loads, guesses["detail"]) if "failed_attempts" in d)
    assert counts == sorted([*range(1, 6), *range(1, row["failed_attempts"] + 1)]), counts
    with pytest.raises(AuthenticationError):
        auth.authenticate(store, "anna", GOOD, now=T0 + dt.timedelta(minutes=1))


def test_unknown_name_is_audited_as_nobody_logged_in(store: Store) -> None:
    with pytest.raises(AuthenticationError):
        auth.authenticate(store, "finns-inte", GOOD, now=T0)
    failed = store.audit_log().query("action == 'login_failed'").iloc[0]
    assert (failed["username"], failed["role"]) == ("(ej inloggad)", "-")
    assert "finns-inte" in failed["detail"]


def test_inactive_user_cannot_log_in(sqlite_store: Store) -> None:
    auth.create_user(sqlite_store, "anna", "planerare", GOOD)
    sqlite_store.update_user("anna", active=False)
    with pytest.raises(AuthenticationError):
        auth.authenticate(sqlite_store, "anna", GOOD, now=T0)


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
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
    ("trygghetskarta.deltagare trygghetskarta.planerare", "planerare"),
])
def test_oidc_roles_from_claim(sqlite_store: Store, value: object, role: str) -> None:
    viewer = auth.viewer_from_oidc_claims(sqlite_store, {"sub": "abc-123", "preferred_username": "anna@bro.se",
                                                         "roles": value})
    assert viewer.role == role
    assert viewer.username == "sso:anna@bro.se"
    assert viewer.organisation == ("polis" if role == "polis" else None)


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


# --- command line: users add -----------------------------------------------------------------------


def test_cli_users_add_reads_password_twice_without_echo(sqlite_store: Store, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    answers = iter([GOOD, GOOD])
    prompts: list[str] = []
    monkeypatch.setattr(auth.getpass, "getpass", lambda prompt="": prompts.append(prompt) or next(answers))
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


def test_store_repr_and_errors_hide_the_password() -> None:
    s = open_store(f"postgresql://alice:{SECRET}@127.0.0.1:1/nodb")
    assert SECRET not in repr(s)
    with pytest.raises(Exception) as err:
        s.require_initialised()
    assert SECRET not in str(err.value)
    if isinstance(err.value, StoreError):
        assert "***" in str(err.value) or "alice" not in str(err.value)
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
                                                  "bostadsbolag", "admin")}
    assert len(set(first.values())) == len(first)
    viewer = auth_module.authenticate(sqlite_store, "demo-planerare", first["demo-planerare"])
    assert viewer.role == "planerare"
    assert auth_module.create_demo_users(sqlite_store) == {}

"""Issue 12: admin actions that cannot hurt by accident — a role change starts from the user's current role and
is confirmed; the last active administrator can be neither demoted nor deactivated (on both backends)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from trygghetskarta import actions, auth
from trygghetskarta.errors import ValidationError
from trygghetskarta.store import Store, open_store

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
PASSWORD = "Kvällsvandring-i-Bro-2026"


def _user(store: Store, username: str) -> dict[str, Any]:
    """The user's row, which the test expects to exist."""
    row = store.user_row(username)
    assert row is not None, f"no user {username!r}"
    return row


def test_last_active_admin_cannot_be_demoted_or_deactivated(store: Store) -> None:
    auth.create_user(store, "ada", "admin", PASSWORD)
    auth.create_user(store, "pia", "planerare", PASSWORD)
    with pytest.raises(ValidationError, match="ada is the last active administrator"):
        store.update_user("ada", role="planerare")
    with pytest.raises(ValidationError, match="ada is the last active administrator"):
        store.update_user("ada", active=False)
    assert _user(store, "ada")["role"] == "admin"
    assert _user(store, "ada")["active"]
    store.update_user("pia", role="polis")  # other users change freely
    store.update_user("pia", role="admin")
    store.update_user("ada", role="planerare")  # now another admin remains
    assert _user(store, "ada")["role"] == "planerare"
    with pytest.raises(ValidationError, match="pia is the last active administrator"):
        store.update_user("pia", active=False)


def test_a_database_without_admins_still_lets_other_users_change(store: Store) -> None:
    auth.create_user(store, "pia", "planerare", PASSWORD)
    store.update_user("pia", role="polis")
    assert _user(store, "pia")["role"] == "polis"


def _admin_page(url: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("TRYGGHETSKARTA_DB", url)
    monkeypatch.setenv("TRYGGHETSKARTA_BASEMAP", "none")
    at = AppTest.from_file(str(ROOT / "app_pages" / "admin.py"), default_timeout=120)
    at.session_state["tk_user"] = {"username": "ada", "role": "admin", "organisation": None}
    at.session_state["tk_lang"] = "sv"
    return at.run()


def test_admin_page_starts_from_the_current_role_and_asks_to_confirm(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'admin.sqlite'}"
    store = open_store(url)
    store.init()
    auth.create_user(store, "ada", "admin", PASSWORD)
    auth.create_user(store, "pia", "planerare", PASSWORD)
    at = _admin_page(url, monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="chg_user").value == "ada"
    assert at.selectbox(key="chg_role_ada").value == "admin"  # the current role, not the first in the list
    assert not [b for b in at.button if b.key == "chg_confirm"]  # nothing changed: nothing to confirm
    at.selectbox(key="chg_user").set_value("pia").run()
    assert at.selectbox(key="chg_role_pia").value == "planerare"
    at.selectbox(key="chg_role_pia").set_value("polis").run()
    assert any("Ändra pia: roll från Planerare till Polis?" in w for w in (str(x.value) for x in at.warning))
    assert _user(store, "pia")["role"] == "planerare"  # not before the confirmation
    next(b for b in at.button if b.key == "chg_confirm").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert _user(store, "pia")["role"] == "polis"
    # demoting the only admin is refused with the reason, no confirm button is offered, and nothing changes
    at.selectbox(key="chg_user").set_value("ada").run()
    at.selectbox(key="chg_role_ada").set_value("planerare").run()
    assert [str(e.value) for e in at.error] == [
        "ada är den enda aktiva administratören. Gör först en annan användare till administratör."]
    assert not [b for b in at.button if b.key == "chg_confirm"]
    assert _user(store, "ada")["role"] == "admin"
    store.dispose()


def test_admin_restores_missing_default_routing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'routing.sqlite'}"
    store = open_store(url)
    store.init()
    auth.create_user(store, "ada", "admin", PASSWORD)
    written = actions.seed_default_routing(store, )
    assert written > 0
    first = store.routing_table().iloc[0]
    actions.delete_route(store, first["category"], None)
    assert len(store.routing_table()) == written - 1
    at = _admin_page(url, monkeypatch)
    next(b for b in at.button if b.key == "routing_restore").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "1 standardregler tillagda." in [str(s.value) for s in at.success]
    assert len(store.routing_table()) == written
    store.dispose()

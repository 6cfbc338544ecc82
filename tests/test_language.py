"""Issue 14, one language system: every page, for every role that may see it, run in Swedish through Streamlit's
AppTest shows no English sentence and no internal key (see ``language_support``); the same for the login page,
the public pages and the import preview; the checker itself is tested on known leaks so it cannot pass vacuously.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from language_support import leaks, problems, unique, visible_texts, vocabulary_keys
from streamlit.testing.v1 import AppTest
from test_app_pages import ALLOWED, ORG, ROOT, app_env, demo_db  # noqa: F401 - the fixtures are used by name

from trygghetskarta import schema

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PUBLIC = ("anmal", "status", "publik_karta", "hjalp")


def _run(path: Path, role: str | None, lang: str = "sv") -> AppTest:
    at = AppTest.from_file(str(path), default_timeout=120)
    if role is not None:
        at.session_state["tk_user"] = {"username": f"test_{role}", "role": role, "organisation": ORG.get(role)}
    at.session_state["tk_lang"] = lang
    return at.run()


@pytest.mark.parametrize(("page", "role"), ALLOWED)
def test_page_reads_as_swedish(app_env: str, page: str, role: str) -> None:  # noqa: F811 - fixture
    at = _run(ROOT / "app_pages" / f"{page}.py", role)
    assert not at.exception, [e.value for e in at.exception]
    assert not [e.value for e in at.error if "fel-id" in e.value]  # an unexpected error is no Swedish page
    assert visible_texts(at), "nothing collected: the collector is broken"
    found = unique(leaks(at))
    assert not found, f"{page} as {role}:\n" + "\n".join(found)


@pytest.mark.parametrize("page", PUBLIC)
def test_public_page_reads_as_swedish(app_env: str, page: str) -> None:  # noqa: F811 - fixture
    at = _run(ROOT / "app_pages" / f"{page}.py", None)
    assert not at.exception, [e.value for e in at.exception]
    found = unique(leaks(at))
    assert not found, f"{page}:\n" + "\n".join(found)


def test_login_page_reads_as_swedish(app_env: str) -> None:  # noqa: F811 - fixture
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    at.text_input[0].input("test_planerare")
    at.text_input[1].input("fel-lösenord-som-är-långt")
    at.button[0].click().run()  # the refusal is shown, in Swedish
    found = unique(leaks(at))
    assert not found, "\n".join(found)


def test_checker_finds_each_kind_of_leak() -> None:
    keys = vocabulary_keys()
    assert "belysning_trasig" in keys
    assert problems("Fynd per område", keys) == []
    assert problems("14 000 fynd i december", keys) == []
    for leak in ("Page not found", "accepted 1, rejected 5", "belysning_trasig", "responsible_label", "None",
                 "14,000", "December", "You do not have permission to do this", "⏰", "empty"):
        assert problems(leak, keys), leak


def test_import_preview_reads_as_swedish(tmp_path: Path) -> None:
    """The import preview (Import/export, Admin's areas): headings, vocabulary labels, the CRS note, the
    reasons for refused rows and the result line in Swedish; no raw key, no ``None``."""
    from app_pages import _importer
    from trygghetskarta.ingest import messages, read_file

    csv = tmp_path / "fynd.csv"
    csv.write_text("kategori,datum,lat,lon,beskrivning\n"
                   "belysning_trasig,2026-08-22,59.5115,17.6366,\n"
                   "belysning_trasig,inte ett datum,59.5116,17.6367,Mörkt\n"
                   "Okänd sak,2026-08-22,59.5117,17.6368,\n"
                   "klotter,2026-08-22,57.70,11.97,Göteborg\n", encoding="utf-8")
    plan = read_file(csv, "finding")
    assert len(plan.accepted) == 2 and plan.rejected_rows == 2  # an unknown category is kept as "övrigt"
    keys = vocabulary_keys()
    shown = _importer.accepted_preview(plan.accepted, "finding")
    refused = _importer.rejected_preview(plan.rejected)
    texts = [*map(str, shown.columns), *map(str, shown.to_numpy().ravel()), *map(str, refused.columns),
             *map(str, refused["Skäl"]), messages.crs_note(plan.crs_note, "sv"),
             messages.summary(1, 5, 0, "sv"), *(messages.warning(w, "sv") for w in plan.warnings)]
    found = [f"{text!r}: {why}" for text in texts if (why := problems(text, keys))]
    assert not found, "\n".join(found)
    assert set(shown["Kategori"]) == {schema.label("category", "belysning_trasig"), schema.label("category", "ovrigt")}
    assert messages.summary(1, 5, 0, "sv") == "Importerade rader: 1, avvisade: 5, fanns redan: 0"
    assert messages.summary(14000, 5, 0, "en") == "Rows imported: 14,000, rejected: 5, already present: 0"
    # a reason no pattern knows is shown as it is (never lost)
    assert messages.reason("a reason without a template", "sv") == "a reason without a template"


def test_collector_sees_blank_cells_and_empty_tables() -> None:
    """Streamlit writes "None" in a missing cell and "empty" in a table with no rows: both count as leaks."""
    import pandas as pd
    from language_support import _frame_columns

    class Node:
        def __init__(self, value: pd.DataFrame) -> None:
            self.value = value

    keys = vocabulary_keys()
    blank = list(_frame_columns(Node(pd.DataFrame({"Senast": ["2026-12-01", None]}))))
    empty = list(_frame_columns(Node(pd.DataFrame({"Område": []}))))
    assert [t for _w, t in blank if problems(t, keys)] == ["None"]
    assert [t for _w, t in empty if problems(t, keys)] == ["empty"]
    assert not [t for _w, t in _frame_columns(Node(pd.DataFrame({"Område": ["Bro"]}))) if problems(t, keys)]


@pytest.mark.parametrize(("lang", "year", "upload"), [("sv", "åååå", "Välj fil"), ("en", "yyyy", "Upload")])
def test_streamlit_widget_texts_are_written_in_the_language(app_env: str, lang: str, year: str,  # noqa: F811
                                                             upload: str) -> None:
    """Streamlit writes an empty date field's yyyy-mm-dd and the uploader's "Upload" in English whatever the
    language; every app page carries the CSS that writes them in the chosen one (_ui.streamlit_texts)."""
    at = _run(ROOT / "app_pages" / "import_export.py", "planerare", lang)
    assert not at.exception
    styles = "".join(n.proto.body for n in at.get("html") if "<style>" in n.proto.body)
    assert f'content: "{year}"' in styles and f'content: "{upload}"' in styles


@pytest.mark.parametrize(("raised", "shown"), [
    ('PermissionDeniedError("role bostadsbolag may not export finding records")',
     "Din roll (Bostadsbolag) får inte göra det här."),
    ('PermissionDeniedError("x", msgid="join_refused_role", role="polis")',
     "Rollen Polis kan inte gå med i vandringar"),
    ('AuthenticationError(auth.LOGIN_FAILED)', "Inloggningen misslyckades"),
])
def test_project_errors_are_shown_in_swedish(app_env: str, raised: str, shown: str) -> None:  # noqa: F811
    """The core's refusals keep their English for the CLI; a page shows them in Swedish (_ui.error_text)."""
    at = AppTest.from_string(
        f"import sys\nsys.path.insert(0, {str(ROOT)!r})\nfrom app_pages import _ui as ui\n"
        "from trygghetskarta import auth\n"
        "from trygghetskarta.errors import AuthenticationError, PermissionDeniedError\n"
        "import streamlit as st\n"
        "st.session_state['tk_user'] = {'username': 'test_bostadsbolag', 'role': 'bostadsbolag', "
        "'organisation': 'upplands_brohus'}\n"
        f"with ui.guard():\n    raise {raised}\n", default_timeout=60).run()
    [error] = [e.value.replace("\\", "") for e in at.error]  # plain text: Markdown punctuation is escaped
    assert shown in error, error
    assert not problems(error, vocabulary_keys())

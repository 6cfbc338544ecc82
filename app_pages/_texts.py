"""The app's texts are gettext catalogues (``trygghetskarta/locale/{sv,en}/LC_MESSAGES/messages.po``), read by
``trygghetskarta.i18n``; a page calls ``_ui.t("id", **values)``. This module keeps ``text(id, lang)`` for code
without a Streamlit session, and names the ids the code builds at run time (``f"page_{key}"``) so that
``make messages`` extracts them. How to add a text: docs/ARCHITECTURE.md, "Texts"."""

from __future__ import annotations

from trygghetskarta import i18n
from trygghetskarta.i18n import N_

# Ids built at run time: _ui.t(f"page_{key}"), f"layer_{k}", f"light_{k}", f"aud_{k}", f"tab_{form}",
# f"pos_{source}", f"sso_…", f"est_missing_state_{state}", the admin tabs, the flash after a timeout,
# f"a11y_lim_{key}", f"col_{column}".
RUNTIME_IDS: tuple[str, ...] = (
    N_("page_oversikt"), N_("page_karta"), N_("page_rapportera"), N_("page_vandringar"), N_("page_atgarder"),
    N_("page_lagesbild"), N_("page_est_rapport"), N_("page_granskning"), N_("page_import_export"),
    N_("page_admin"), N_("page_moderering"), N_("page_login"),
    N_("layer_areas"), N_("layer_findings"), N_("layer_incidents"), N_("layer_walks"), N_("layer_sightings"),
    N_("layer_heat"), N_("layer_grid"), N_("layer_hex"), N_("layer_gistar"), N_("layer_choropleth"),
    N_("layer_emerging"),
    N_("light_all"), N_("light_dag"), N_("light_natt"), N_("aud_intern"), N_("aud_partner"),
    N_("tab_finding"), N_("tab_sighting"), N_("tab_nightwalk"), N_("pos_gps"), N_("pos_exif"), N_("pos_tap"),
    N_("sso_failed"), N_("sso_no_role"), N_("sso_wrong_audience"), N_("sso_wrong_issuer"),
    N_("est_missing_state_saknas"), N_("est_missing_state_returnerad"),
    N_("users"), N_("areas"), N_("routing"), N_("thresholds"), N_("retention"), N_("audit_log"), N_("demo_data"),
    N_("adm_public"), N_("session_expired"),
    # the accessibility statement's limitations, f"a11y_lim_{key}" for accessibility.LIMITATIONS
    N_("a11y_lim_lang"), N_("a11y_lim_streamlit_english"), N_("a11y_lim_maps"), N_("a11y_lim_charts"),
    N_("a11y_lim_pdf"),
    # the marker table's columns, f"col_{c}" (_ui.marker_list)
    N_("col_id"), N_("col_layer"), N_("col_what"), N_("col_status"), N_("col_time"), N_("col_area"),
)


def text(key: str, lang: str = "sv", **values: object) -> str:
    """The UI string ``key`` in ``lang``; the key itself if it is missing (visible, never a crash)."""
    return i18n.gettext(key, lang, **values)

"""Upload → preview (CRS detected, accepted and rejected rows) → confirm, shared by Import/export and Admin."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from app_pages import _ui
from trygghetskarta import area_import, ingest, records
from trygghetskarta.i18n import N_
from trygghetskarta.ingest import messages, uploads


def accepted_preview(frame: Any, kind: str) -> pd.DataFrame:
    """Rows an import would write, as a user reads them: headings and vocabulary labels in the chosen language
    (``Kategori``: ``Trasig belysning``, never ``belysning_trasig``), nothing shown for a missing value."""
    lang = _ui.lang()
    table = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    vocab = {f.name: f.vocab for f in records.FIELDS.get(kind, ()) if f.vocab}
    for column, vocabulary in vocab.items():
        if column in table:
            table[column] = table[column].map(lambda k, v=vocabulary: _ui.label(v, k))
    for column in table.select_dtypes(include="bool").columns:
        table[column] = table[column].map({True: _ui.t("yes"), False: _ui.t("no")})
    table = table.astype(object).where(table.notna(), "")
    return table.rename(columns=lambda c: _ui.t("preview_rejected_row") if c == "source_row"
                        else messages.field_label(str(c), lang))


def rejected_preview(rejected: pd.DataFrame) -> pd.DataFrame:
    """The refused rows with their reasons in the chosen language."""
    lang = _ui.lang()
    table = rejected.copy()
    if "reason" in table:
        table["reason"] = table["reason"].map(lambda r: messages.reason(r, lang))
    table = table.astype(object).where(table.notna(), "")
    headings = {"source_row": N_("preview_rejected_row"), "column": N_("preview_rejected_column"),
                "value": N_("preview_rejected_value"), "reason": N_("preview_rejected_reason")}
    return table.rename(columns={c: _ui.t(m) for c, m in headings.items()})


def preview_upload(state_key: str, upload: Any, preview: Callable[[Path, str], Any]) -> None:
    """Save ``upload`` (an earlier pending one under ``state_key`` is removed), run ``preview(saved path, the
    user's file name)`` and keep ``(path, name, preview's result)`` under ``state_key`` until the user confirms;
    a preview that fails removes the file again. Every upload page previews this way, so no unconfirmed file is
    left behind."""
    state = st.session_state
    old = state.pop(state_key, None)
    if old:
        uploads.discard(old[0])
    path = uploads.save(upload.name, upload.getvalue())
    try:
        result = preview(path, upload.name)
    except Exception:
        uploads.discard(path)
        raise
    state[state_key] = (str(path), upload.name, result)


def import_flow(kind: str, key: str, defaults: dict[str, object] | None = None) -> None:
    """The whole import flow for ``kind``; nothing is written before the user confirms the preview."""
    v = _ui.viewer()
    uploads.remove_stale()
    upload = st.file_uploader(_ui.t("file"), key=f"{key}_file",
                              type=["csv", "txt", "tsv", "xlsx", "geojson", "topojson", "json", "gpkg", "zip", "kml",
                                    "kmz", "gpx"])
    crs = st.text_input(_ui.t("crs_override"), key=f"{key}_crs", placeholder="EPSG:3006").strip() or None
    state = st.session_state
    if upload is not None and st.button(_ui.t("preview"), key=f"{key}_preview", icon=":material/preview:"):
        with st.spinner():
            preview_upload(f"{key}_plan", upload,
                           lambda saved, _name: (crs, ingest.read_file(saved, kind, crs=crs, defaults=defaults)))
        plan = state[f"{key}_plan"][2][1]
        state[f"{key}_impact"] = (area_import.impact(_ui.store(), plan, ingest.municipality().geom_3006)
                                  if kind == "area" else None)
    pending: Any = state.get(f"{key}_plan")
    if not pending:
        return
    path, name, (crs, plan) = pending
    st.markdown(f"**{_ui.plain(name)}**")
    lang = _ui.lang()
    st.info(_ui.t("detected_crs", crs=_ui.plain(plan.detected_crs or "–")) + " — "
            + _ui.plain(messages.crs_note(plan.crs_note, lang)))
    for warning in plan.warnings:
        st.warning(_ui.plain(messages.warning(warning, lang)))
    c1, c2 = st.columns(2)
    c1.metric(_ui.t("accepted_rows", n="").rstrip(": "), len(plan.accepted))
    c2.metric(_ui.t("rejected_rows", n="").rstrip(": "), plan.rejected_rows)
    if len(plan.accepted):
        st.dataframe(accepted_preview(plan.accepted.head(200), kind), hide_index=True, width="stretch")
    if len(plan.rejected):
        st.dataframe(rejected_preview(plan.rejected.head(500)), hide_index=True, width="stretch")
        st.download_button(_ui.t("rejection_report"), plan.report_csv(),
                           file_name=f"avvisade_{Path(name).stem}.csv", mime="text/csv", key=f"{key}_rej")
    confirmed = True
    impact = state.get(f"{key}_impact")
    if impact is not None:
        st.markdown(f"**{_ui.t('area_impact')}**")
        st.text("\n".join(impact.lines(_ui.lang())))
        if impact.needs_confirmation:
            confirmed = st.checkbox(_ui.t("area_impact_confirm"), key=f"{key}_impact_ok")
    if st.button(_ui.t("confirm_import"), type="primary", key=f"{key}_confirm",
                 disabled=not len(plan.accepted) or not confirmed):
        bar = st.progress(0.0)

        def advance(share: float, _what: str) -> None:  # the core's step names are English: a count instead
            bar.progress(min(max(share, 0.0), 1.0), text=_ui.t("import_progress"))

        result = ingest.import_file(_ui.store(), path, kind, crs=crs, defaults=defaults, actor=v, plan=plan,
                                    progress=advance)
        uploads.discard(path)
        state.pop(f"{key}_plan", None)
        state.pop(f"{key}_impact", None)
        st.success(messages.summary(result.accepted, result.rejected, result.already_present, lang))

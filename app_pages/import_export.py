"""Import/export: upload a partner file (preview with detected CRS and rejected rows, then confirm), and
export what the viewer may see as GeoPackage, GeoJSON or CSV in EPSG:4326 or 3006."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import streamlit as st

from app_pages import _importer, _ui
from trygghetskarta import export, ingest, schema

viewer = _ui.require("import_export")
_ui.header("import_export")

with _ui.guard():
    tab_in, tab_out = st.tabs([_ui.t("import"), _ui.t("export")])
    with tab_in:
        kind = st.selectbox(_ui.t("kind"), list(ingest.SUPPORTED_KINDS), key="imp_kind",
                            format_func=lambda k: _ui.label("record_kind", k))
        _importer.import_flow(kind, f"imp_{kind}")
    with tab_out:
        c1, c2, c3 = st.columns(3)
        kind = c1.selectbox(_ui.t("kind"), list(export.EXPORT_KINDS), key="exp_kind",
                            format_func=lambda k: _ui.label("record_kind", k))
        fmt = c2.selectbox(_ui.t("format"), list(export.FORMATS), key="exp_fmt")
        srid = c3.selectbox(_ui.t("crs_out"), list(schema.EXPORT_CRS), key="exp_crs",
                            format_func=lambda s: {4326: "WGS 84 (EPSG:4326)", 3006: "SWEREF 99 TM (EPSG:3006)"}[s])
        period = st.date_input(_ui.t("period"), value=(_ui.today() - dt.timedelta(days=365), _ui.today()),
                               format="YYYY-MM-DD", key="exp_period")
        start, end = (period[0], period[-1]) if isinstance(period, tuple) and period else (None, None)
        if st.button(_ui.t("make_export"), type="primary", key="exp_make", icon=":material/file_export:"):
            with st.spinner(), tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / f"{kind}.{fmt}"
                n = export.export_kind(_ui.store(), kind, fmt, out, srid=srid, start=start, end=end, viewer=viewer)
                st.session_state["exp_file"] = (out.name, out.read_bytes(), n)
        ready = st.session_state.get("exp_file")
        if ready:
            st.download_button(f"{_ui.t('download')} {ready[0]} ({ready[2]})", ready[1], file_name=ready[0],
                               icon=":material/download:", key="exp_dl")

    # --- the police's trygghetsmätning (#17): upload, preview (dry run), confirm ----------------------------
    from trygghetskarta import perceived
    from trygghetskarta.ingest import messages, uploads

    with tab_in:
        if viewer.role in perceived.IMPORTERS:
            st.subheader(_ui.t("tm_import"))
            st.caption(_ui.t("tm_import_help"))
            tm_file = st.file_uploader(_ui.t("file"), type=["csv", "txt", "xlsx"], key="tm_file")
            state = st.session_state
            if tm_file is not None and st.button(_ui.t("preview"), key="tm_preview", icon=":material/preview:"):
                _importer.preview_upload("tm_pending", tm_file, lambda saved, name: perceived.import_file(
                    _ui.store(), saved, actor=viewer, dry_run=True, name=name))
            pending = state.get("tm_pending")
            if pending:
                saved_path, shown_name, preview = pending
                st.markdown(f"**{_ui.plain(shown_name)}** · " + messages.summary(
                    preview.added + preview.changed, preview.rejected, preview.same, _ui.lang()))
                if preview.unmatched_areas:
                    st.warning(_ui.plain(_ui.t("tm_unmatched", names=", ".join(preview.unmatched_areas))))
                if len(preview.rejections):
                    st.dataframe(_importer.rejected_preview(preview.rejections.head(500)), hide_index=True,
                                 width="stretch")
                if st.button(_ui.t("confirm_import"), type="primary", key="tm_confirm"):
                    done = perceived.import_file(_ui.store(), saved_path, actor=viewer, name=shown_name)
                    uploads.discard(saved_path)
                    state.pop("tm_pending", None)
                    st.success(messages.summary(done.added + done.changed, done.rejected, done.same, _ui.lang()))

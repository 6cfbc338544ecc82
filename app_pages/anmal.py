"""Anmäl en plats: a resident reports without an account, in the language they pick (issue 16). A link or QR
code may carry the place (``?lon=…&lat=…&plats=…``). Saving goes through ``public.submit_public_report``
(honeypot, caps, rate limits, scrubbing, photo re-encoding) and ends with the receipt code and status link."""

from __future__ import annotations

import math
import uuid

import streamlit as st

from app_pages import _public, _ui
from trygghetskarta import public, public_texts, schema, settings

lang = _public.frame("anmal")
t = _public.t
state = st.session_state
st.title(t("report_title"))

receipt = state.get("pub_receipt")
if receipt is not None:
    st.success(t("sent", code=receipt["code"]))
    st.markdown(t("sent_link"))
    st.code(receipt["url"], language=None, wrap_lines=True)
    st.link_button(t("status_title"), receipt["url"], icon=":material/manage_search:")
    if receipt["email"]:
        st.caption(t("sent_email"))
    if st.button(t("new_report"), icon=":material/add:"):
        state.pop("pub_receipt", None)
        state.pop("pub_client", None)
        _public.reset_place("pub")
        st.rerun()
    st.stop()

st.markdown(t("report_intro"))
client_id = state.setdefault("pub_client", str(uuid.uuid4()))


def _from_link() -> tuple[float, float] | None:
    try:
        lon, lat = float(st.query_params.get("lon", "")), float(st.query_params.get("lat", ""))
    except ValueError:
        return None
    return (lon, lat) if math.isfinite(lon) and math.isfinite(lat) else None


category = st.selectbox(t("category"), schema.keys("category"), index=None, placeholder="…",
                        format_func=lambda k: public_texts.category_label(k, lang), key="pub_category")
st.markdown(f"**{t('place')}**")
linked = _from_link()
place: tuple[float, float] | None
if linked is not None:
    st.info(t("place_from_link", pos=f"{linked[1]:.5f}, {linked[0]:.5f}"))
    place = linked
else:
    place = _public.pick_place("pub", "en" if lang == "en" else "sv")
address = st.text_input(t("address"), value=str(st.query_params.get("plats", ""))[:300], max_chars=300,
                        key="pub_address")
limit = int(settings.get("public_text_max_chars"))
text = st.text_area(t("text"), help=t("text_help"), max_chars=limit, key="pub_text")
photo = st.file_uploader(t("photo"), type=["jpg", "jpeg", "png", "webp"], key="pub_photo")
email = st.text_input(t("email"), max_chars=254, key="pub_email")
with st.container(key="tk_hp"):  # people never see it; a bot that fills every field does
    honeypot = st.text_input(t("honeypot"), key="pub_website", autocomplete="off")

if st.button(t("send"), type="primary", width="stretch", icon=":material/send:"):
    if category is None:
        st.error(t("bad_category"))
    elif place is None:
        st.error(t("no_place"))
    else:
        with _ui.guard():  # anything unexpected: a logged error id, never a traceback
            try:
                receipt_ = public.submit_public_report(
                    _ui.store(), category=category, lon=place[0], lat=place[1], text=text or "",
                    address=address or "", email=email or None, lang=lang,
                    photo=photo.getvalue() if photo is not None else None, client_addr=_public.client_address(),
                    honeypot=honeypot or "", client_id=client_id)
            except public.PublicRefusedError as exc:
                st.error(exc.message(lang))
            else:
                state["pub_receipt"] = {"code": receipt_.receipt_code, "url": receipt_.status_url,
                                        "email": bool(email)}
                st.rerun()

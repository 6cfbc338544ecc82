"""Hjälp och stöd: who to call now and where to get support, as the kommun's administrator wrote it
(``helpinfo``), with a quick exit that replaces the page and its history entry by a blank page, as help sites
for violence in close relationships do (issue 16). No tracking: nothing loads from outside."""

from __future__ import annotations

import html
import re

import streamlit as st

from app_pages import _public, _ui
from trygghetskarta import helpinfo, public_texts

lang = _public.frame("hjalp")
t = _public.t

# The quick exit: location.replace swaps this page's history entry for a blank page, so Back does not come
# back here; Escape does the same. The blank page is the browser's own (nothing is fetched from anywhere).
st.html(f"""
<div class="tk-exit-wrap"><button id="tk-quick-exit" type="button" class="tk-exit">{html.escape(t("quick_exit"))}
</button><div class="tk-exit-help">{html.escape(t("quick_exit_help"))}</div></div>
<style>
.tk-exit-wrap {{ position: sticky; top: 0; z-index: 999; }}
.tk-exit {{ width: 100%; min-height: 3.2rem; font-size: 1.1rem; font-weight: 600; border-radius: .5rem;
           border: 0; background: #b71c1c; color: #fff; cursor: pointer; }}
.tk-exit-help {{ font-size: .85rem; margin: .25rem 0 .5rem; }}
</style>
<script>
(function() {{
  function leave() {{ try {{ document.body.innerHTML = ''; }} catch (e) {{}} window.location.replace('about:blank'); }}
  const button = document.getElementById('tk-quick-exit');
  if (button && !button.dataset.bound) {{ button.dataset.bound = '1'; button.addEventListener('click', leave); }}
  if (!window.__tkExitKey) {{ window.__tkExitKey = true;
    document.addEventListener('keydown', (e) => {{
      if (e.key === 'Escape' && document.getElementById('tk-quick-exit')) leave(); }}); }}
}})();
</script>""", unsafe_allow_javascript=True)

st.title(t("help_title"))
with _ui.guard():
    content = helpinfo.load(_ui.store())


def _entry(entry: dict) -> None:
    name = helpinfo.localised(entry.get("name"), lang)
    phone = helpinfo.localised(entry.get("phone"), lang)
    dial = re.sub(r"[^0-9+]", "", phone)  # digits only: a tel: link that can carry nothing else
    shown = public_texts.ltr(_ui.plain(phone))  # "114 14" stays in order in Arabic
    st.markdown(f"**{_ui.plain(name)}**" + (f" — **[{shown}](tel:{dial})**" if dial else ""))
    lines = []
    for field, key in (("address", "help_address"), ("hours", "help_hours"), ("web", "help_web")):
        value = helpinfo.localised(entry.get(field), lang)
        if value:
            lines.append(t(key, **{field: _ui.plain(value)}))
    note = helpinfo.localised(entry.get("note"), lang)
    if note:
        lines.insert(0, _ui.plain(note))
    if lines:
        st.markdown("  \n".join(lines))


st.subheader(t("help_call_now"))
for item in content.get("call_now", []):
    _entry(item)
st.subheader(t("help_support"))
for item in content.get("support", []):
    _entry(item)
    if not (item.get("address") or item.get("hours") or item.get("phone")):
        st.caption(t("help_ask_kommun"))
st.subheader(t("help_hide"))
st.markdown(t("help_hide_text"))

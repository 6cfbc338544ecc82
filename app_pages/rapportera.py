"""Rapportera: the phone flow (390 px, one hand, in the dark). Findings for everyone on a walk, field
sightings for fältgrupp (no photos of people), the night-walk report for nattvandrare. Saving goes through
``capture`` (the same functions the load test drives), idempotent on a client id made when the form opens."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import pandas as pd
import shapely
import streamlit as st

from app_pages import _draft, _position, _ui
from trygghetskarta import capture, photos, places, schema, settings

# Material icons ship with Streamlit, so they render on any phone and offline (emoji fonts vary).
ICON = {
    "belysning_trasig": "lightbulb", "belysning_otillracklig": "flashlight_on", "vegetation": "park",
    "skymd_sikt": "visibility_off", "klotter": "format_paint", "nedskrapning": "delete", "skadegorelse": "broken_image",
    "gangtunnel": "subway", "orienterbarhet": "signpost", "gangvag": "directions_walk", "trafiksakerhet": "traffic",
    "parkering": "local_parking", "hallplats": "directions_bus", "overgiven_byggnad": "domain_disabled",
    "utrustning": "chair", "entre_trapphus": "door_front", "odsligt": "dark_mode", "trygg_plats": "favorite",
    "ovrigt": "help",
}
SIGHTING_ICON = {"samling_unga": "groups", "otrygg_samling": "warning", "narkotika": "medication",
                 "buskorning": "two_wheeler", "skadegorelse": "broken_image", "konflikt": "sports_mma",
                 "positiv": "star", "ovrigt": "help"}
SHOWN_ON_PHONE = 50  # the walk's newest findings on the phone's map and list (the whole walk is on Vandringar)
FORMS = {"deltagare": ("finding",), "nattvandrare": ("nightwalk",), "faltgrupp": ("sighting", "finding"),
         "planerare": ("finding", "sighting", "nightwalk"), "admin": ("finding", "sighting", "nightwalk")}

viewer = _ui.require("rapportera")
state = st.session_state
st.html("""<style>
.block-container { max-width: 720px; padding-left: .75rem; padding-right: .75rem; }
div[data-testid="stButtonGroup"] button { min-height: 2.9rem; font-size: 1.02rem; }
div[data-testid="stFormSubmitButton"] button, div[data-testid="stButton"] button { min-height: 3rem; }
</style>""")
_ui.header("rapportera")


def _client_id(form: str) -> str:
    return state.setdefault(f"rap_{form}_client", str(uuid.uuid4()))


def _confirm_pending(store, form: str) -> None:
    """If this form's pending report is already stored, confirm it and start a fresh form.

    Streamlit stops a run when a new tap arrives and drops that run's session-state writes, so a save whose
    run was cut off after the database commit (a second tap while the first was saving) would leave the
    filled form and no confirmation. The stored client id tells the next run what happened; saving again
    would only return the same id."""
    client_id = state.get(f"rap_{form}_client")
    if client_id:
        saved = capture.stored_id(store, form, client_id)
        if saved is not None:
            _done(form, _ui.t("saved", id=saved))


def _done(form: str, message: str | None) -> None:
    _draft.clear(form)
    state.pop("rap_draft_notice", None)
    state.pop(f"rap_{form}_client", None)
    state.pop("rap_stage", None)
    state[f"rap_{form}_n"] = state.get(f"rap_{form}_n", 0) + 1
    _position.reset(f"rap_{form}")
    if message:
        state["rap_flash"] = message
    st.rerun()


def _photo_refusal(exc: photos.PhotoRejectedError) -> str:
    """Why a photo is not taken, in the user's language, naming the limit."""
    name = _ui.plain(exc.filename)
    if exc.reason == "too_many_pixels":
        size = f" ({exc.width} × {exc.height})" if exc.width and exc.height else ""
        return _ui.t("photo_too_many_pixels", name=name, size=size, limit=f"{(exc.limit or 0) / 1e6:g}")
    if exc.reason == "too_many_bytes":
        return _ui.t("photo_too_many_bytes", name=name, limit=f"{exc.limit or 0:g}")
    if exc.reason == "format":
        return _ui.t("photo_format", name=name, format=_ui.plain(exc.format) if exc.format
                     else _ui.t("photo_format_unknown"))
    return _ui.t("photo_empty" if exc.reason == "empty" else "photo_unreadable", name=name)


def _accepted_photos(files: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """The chosen photos the product takes, checked from their headers as soon as they are chosen (nothing is
    decoded); each other photo is named with its reason and left out, so the form stays usable."""
    accepted = []
    for name, data in files:
        try:
            photos.check_photo(data, name)
        except photos.PhotoRejectedError as exc:
            st.error(_photo_refusal(exc), icon=":material/hide_image:")
        else:
            accepted.append((name, data))
    return accepted


Position = tuple[float, float, float | None, str]  # lon, lat, accuracy (m) and where it came from (gps, map, ...)


def _walk_choices(store) -> tuple[dict[int, str], int]:
    """The walks this viewer may report on, today's first, as titles by id; and the index of the default
    choice in ``[None, *titles]`` (today's walk when there is one, else no walk)."""
    walks = _ui.read("walk", viewer)
    walks = walks.assign(local=pd.to_datetime(walks["started_at"], utc=True).dt.tz_convert("Europe/Stockholm"))
    walks["is_today"] = walks["local"].dt.date == _ui.today()
    if viewer.role == "deltagare":  # a participant reports on open walks (today or later) and on their own
        walks = walks[(walks["local"].dt.date >= _ui.today())
                      | walks["id"].isin(store.participant_walk_ids(viewer.username))]
    walks = walks.sort_values(["is_today", "local"], ascending=[False, False])
    titles = {int(w.id): f"{w.title} ({w.local:%Y-%m-%d}{', ' + _ui.t('today') if w.is_today else ''})"
              for w in walks.itertuples()}
    default = 1 if len(walks) and bool(walks["is_today"].iloc[0]) else 0
    return titles, default


def walk_area_id(walk_id: int | None) -> int | None:
    """The area the walk was planned for (None without a walk or an area)."""
    if walk_id is None:
        return None
    walks = _ui.read("walk", viewer)
    row = walks.loc[walks["id"] == walk_id]
    value = row["area_id"].iloc[0] if len(row) and "area_id" in row.columns else None
    return None if value is None or pd.isna(value) else int(value)


def walk_bounds(walk_id: int | None) -> tuple[float, float, float, float] | None:
    """The bounds the tap map opens on: the walk's area, else its route; None (the municipality) without."""
    if walk_id is None:
        return None
    area_id = walk_area_id(walk_id)
    areas = _ui.areas()
    frame = areas.loc[areas["id"] == area_id] if area_id is not None else areas.iloc[:0]
    if frame.empty:
        walks = _ui.read("walk", viewer)
        frame = walks.loc[(walks["id"] == walk_id) & walks.geometry.notna() & ~walks.geometry.is_empty]
    if frame.empty:
        return None
    minx, miny, maxx, maxy = (float(v) for v in frame.total_bounds)
    return minx, miny, maxx, maxy


def _finding_position(n: int, files: list[tuple[str, bytes]], walk_findings: pd.DataFrame | None,
                      walk_id: int | None) -> tuple[Position | None, list[tuple[float, float]] | None]:
    """Where the finding is: one position (GPS, a photo's, a place from the list, a tap) or a stretch (a dark
    path) drawn point by point, whose middle is then its position. The map opens on the walk's area."""
    photo_position = next((p for p in (capture.position_from_photo(data) for _, data in files) if p), None)
    bounds = walk_bounds(walk_id)
    if not st.toggle(_ui.t("draw_line"), key=f"rap_line_{n}"):
        choices = places.walk_places(_ui.areas(), walk_area_id=walk_area_id(walk_id), findings=walk_findings)
        return _position.pick("rap_finding", photo_position=photo_position, findings=walk_findings, bounds=bounds,
                              choices=choices), None
    line = _position.pick_line("rap_finding", findings=walk_findings, bounds=bounds)
    middle = shapely.LineString(line).interpolate(0.5, normalized=True) if line else None
    return ((middle.x, middle.y, None, "line") if middle is not None else None), line


def _draft_fields(n: int) -> dict[str, str]:
    """The finding form's draft: each field and the session state key that holds it."""
    return {"walk": "rap_walk", "category": f"rap_cat_{n}", "severity": f"rap_sev_{n}",
            "description": f"rap_desc_{n}", "stretch": f"rap_line_{n}", "tap": "rap_finding_tap",
            "line": "rap_finding_line", "client": "rap_finding_client"}


_DRAFT_DECODE = {"tap": lambda v: (float(v[0]), float(v[1])), "line": lambda v: [(float(a), float(b)) for a, b in v]}


def _restore_draft(n: int, walks: dict[int, str]) -> bool:
    """The stored draft of a finding into the form (once per connection); drops what no longer fits (a walk that
    is gone, an unknown category). Shows the notice, with a button to start over, until the next save."""
    if _draft.restore("finding", _draft_fields(n), _DRAFT_DECODE):
        state["rap_draft_notice"] = True
        if state.get("rap_walk") not in walks:
            state.pop("rap_walk", None)
        if state.get(f"rap_cat_{n}") not in schema.CATEGORY:
            state.pop(f"rap_cat_{n}", None)
        if state.get(f"rap_sev_{n}") not in (1, 2, 3):
            state.pop(f"rap_sev_{n}", None)
        if state.get("rap_finding_tap"):
            state["rap_finding_tap_new"] = True
        restored = True
    else:
        restored = False
    if state.get("rap_draft_notice"):
        c1, c2 = st.columns([3, 1], vertical_alignment="center")
        c1.info(_ui.t("draft_restored"), icon=":material/restore_page:")
        if c2.button(_ui.t("draft_discard"), key="rap_draft_discard", width="stretch"):
            _done("finding", None)
    return restored


def _keep_draft(n: int, chosen: Position | None) -> None:
    """What the form holds now, as the finding's draft (a position from the GPS or a photo is kept as a tap)."""
    values = {name: state.get(key) for name, key in _draft_fields(n).items()}
    if not values["tap"] and chosen is not None and chosen[3] in ("gps", "exif"):
        values["tap"] = (chosen[0], chosen[1])
    filled = bool(values["category"] or (values["description"] or "").strip() or values["tap"] or values["line"])
    _draft.keep("finding", values, filled=filled)


def finding_form(store) -> None:
    _confirm_pending(store, "finding")
    n = state.get("rap_finding_n", 0)
    titles, default = _walk_choices(store)
    restored = _restore_draft(n, titles)
    options = [None, *titles]
    walk_id = st.selectbox(_ui.t("walk"), options, index=None if restored and "rap_walk" in state else default,
                           key="rap_walk", format_func=lambda k: _ui.t("no_walk") if k is None else titles[k])
    category = st.pills(_ui.t("category"), schema.keys("category"), key=f"rap_cat_{n}",
                        format_func=lambda k: f":material/{ICON[k]}: {_ui.label('category', k)}")
    severity = st.segmented_control(_ui.t("severity"), [1, 2, 3],
                                    default=None if restored and f"rap_sev_{n}" in state else 2, key=f"rap_sev_{n}",
                                    format_func=lambda k: _ui.label("severity", str(k)))
    description = st.text_area(_ui.t("description"), key=f"rap_desc_{n}", max_chars=2000, height=90,
                               placeholder=_ui.t("no_names"))
    uploads = st.file_uploader(_ui.t("upload_photos"), type=list(photos.EXTENSIONS),
                               accept_multiple_files=True, key=f"rap_files_{n}")
    camera = st.camera_input(_ui.t("camera"), key=f"rap_cam_{n}") if st.toggle(_ui.t("camera"),
                                                                                key=f"rap_camon_{n}") else None
    files = _accepted_photos([(f.name, f.getvalue()) for f in uploads or []]
                             + ([("kamera.jpg", camera.getvalue())] if camera else []))
    # the walk's newest findings on the tap map (a walk has a few dozen; more would only slow the phone)
    walk_findings = store.points("finding", viewer, walk_id=walk_id,
                                 columns=("category", "status", "description")).sort_values(
        "id").tail(SHOWN_ON_PHONE) if walk_id else None
    chosen, line = _finding_position(n, files, walk_findings, walk_id)
    _keep_draft(n, chosen)

    def submit(category: str, chosen: Position) -> None:
        lon, lat, accuracy, _source = chosen
        res = capture.submit_finding(store, viewer, category=category, severity=int(severity or 2),
                                     description=description, lon=lon, lat=lat, walk_id=walk_id, photos=files,
                                     accuracy_m=accuracy, client_id=_client_id("finding"), line=line)
        note = f" {_ui.t('masked', n=res.masked)}" if res.masked else ""
        _done("finding", _ui.t("saved", id=res.id) + note)

    if st.button(_ui.t("save"), type="primary", width="stretch", key="rap_save", icon=":material/save:"):
        if not category:
            st.warning(_ui.t("choose_category"))
        elif chosen is None:
            st.warning(_ui.t("pos_missing"))
        else:
            state["rap_stage"] = "check"
    if state.get("rap_stage") == "check" and category and chosen:
        _check_duplicates(store, category, chosen, description, files, submit)
    if walk_id:
        _walk_findings(walk_id)


def _check_duplicates(store, category: str, chosen: Position, description: str, files: list[tuple[str, bytes]],
                      submit: Callable[[str, Position], None]) -> None:
    """Save the finding, or first offer the findings of its category nearby: add to one of them instead, or
    save it as new."""
    candidates = capture.duplicate_candidates(store, category, chosen[0], chosen[1], viewer=viewer)
    if not candidates:
        state.pop("rap_stage", None)  # a failed save must not retry by itself on the next rerun
        submit(category, chosen)
    st.warning(_ui.t("dup_found", n=len(candidates), r=float(settings.get("duplicate_radius_m"))))
    for c in candidates[:3]:
        st.caption(f"{_ui.label('category', c.category)} · {_ui.label('status', c.status)} · "
                   f"{_ui.plain(c.description)}")
        if st.button(_ui.t("dup_add", id=c.id, d=c.distance_m), key=f"rap_dup_{c.id}", width="stretch"):
            # the new text and photos are kept on that finding (a retry with the same client id adds nothing)
            count = capture.add_to_existing(store, viewer, c.id, description=description, photos=files,
                                            client_id=_client_id("finding"))
            _done("finding", _ui.t("dup_added", id=c.id, n=count + 1))
    if st.button(_ui.t("dup_new"), key="rap_dup_new", type="primary", width="stretch"):
        state.pop("rap_stage", None)
        submit(category, chosen)


@st.fragment(run_every=dt.timedelta(seconds=30))
def _walk_findings(walk_id: int) -> None:
    """The walk's findings as they come in from the others on the walk (refreshed every 30 s)."""
    _ui.live_viewer()  # the session is checked before every refresh (issue 11)
    frame = _ui.store().points("finding", viewer, walk_id=walk_id, columns=("category", "status", "description"))
    st.subheader(f"{_ui.t('walk_findings')} ({len(frame)})")
    newest = frame.sort_values("id").tail(SHOWN_ON_PHONE).iloc[::-1]
    if len(frame) > len(newest):
        st.caption(_ui.t("newest_shown", n=len(newest)))
    shown = pd.DataFrame({_ui.t("category"): newest["category"].map(lambda k: _ui.label("category", k)),
                          _ui.t("statuses"): newest["status"].map(lambda k: _ui.label("status", k)),
                          _ui.t("description"): newest["description"]})
    _ui.table(shown, hide_index=True, width="stretch")


def sighting_form(store) -> None:
    _confirm_pending(store, "sighting")
    n = state.get("rap_sighting_n", 0)
    st.warning(_ui.t("no_people_photos"), icon=":material/no_photography:")
    kind = st.pills(_ui.t("sighting_type"), schema.keys("sighting_type"), key=f"sig_type_{n}",
                    format_func=lambda k: f":material/{SIGHTING_ICON[k]}: {_ui.label('sighting_type', k)}")
    group = st.segmented_control(_ui.t("group_size"), schema.keys("group_size"), key=f"sig_group_{n}",
                                 format_func=lambda k: _ui.label("group_size", k))
    age = st.selectbox(_ui.t("age_band"), schema.keys("age_band"), index=len(schema.keys("age_band")) - 1,
                       key=f"sig_age_{n}", format_func=lambda k: _ui.label("age_band", k))
    description = st.text_area(_ui.t("description"), key=f"sig_desc_{n}", max_chars=2000, height=80,
                               placeholder=_ui.t("no_names"))
    chosen = _position.pick("rap_sighting", choices=places.walk_places(_ui.areas()))
    if st.button(_ui.t("save"), type="primary", width="stretch", key="sig_save"):
        if not kind or chosen is None:
            st.warning(_ui.t("choose_category") if not kind else _ui.t("pos_missing"))
        else:
            res = capture.submit_sighting(store, viewer, type=kind, group_size=group, age_band=age,
                                          description=description, lon=chosen[0], lat=chosen[1],
                                          client_id=_client_id("sighting"))
            _done("sighting", _ui.t("saved", id=res.id))


def nightwalk_form(store) -> None:
    _confirm_pending(store, "nightwalk")
    n = state.get("rap_nightwalk_n", 0)
    names = _ui.area_names()
    with st.form(f"nightwalk_{n}"):
        organisation = st.text_input(_ui.t("nw_org"))
        walk_date = st.date_input(_ui.t("nw_date"), value=_ui.today(), format="YYYY-MM-DD")
        walkers = st.number_input(_ui.t("nw_walkers"), min_value=0, max_value=500, value=4, step=1)
        contacts = st.number_input(_ui.t("nw_contacts"), min_value=0, max_value=5000, value=0, step=1)
        area = st.selectbox(_ui.t("nw_route"), [None, *names], format_func=lambda k: "–" if k is None else names[k])
        observations = st.text_area(_ui.t("nw_observations"), placeholder=_ui.t("no_names"))
        if st.form_submit_button(_ui.t("save"), type="primary", width="stretch"):
            res = capture.submit_nightwalk(store, viewer, organisation=organisation, walk_date=walk_date,
                                           walkers=int(walkers), contacts_young=int(contacts), area_id=area,
                                           observations=observations, client_id=_client_id("nightwalk"))
            _done("nightwalk", _ui.t("saved", id=res.id))


with _ui.guard():
    flash = state.get("rap_flash")  # stays until the next save, so a rerun (e.g. a map event) cannot hide it
    if flash:
        st.success(flash, icon=":material/check_circle:")
    forms = FORMS.get(viewer.role, ("finding",))
    draw = {"finding": finding_form, "sighting": sighting_form, "nightwalk": nightwalk_form}
    if len(forms) == 1:
        draw[forms[0]](_ui.store())
    else:
        for tab, form in zip(st.tabs([_ui.t(f"tab_{f}") for f in forms]), forms, strict=True):
            with tab:
                draw[form](_ui.store())

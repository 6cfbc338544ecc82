"""A deterministic, clearly synthetic demo season for Upplands-Bro (Bro, Kungsängen, Brunna).

Ten evening walks rotating between the localities, a few hundred findings clustered where they would
be (stations, underpasses, centrum, car parks), statuses spread over the lifecycle with their events,
field sightings, night-walk reports, partner incidents and actions. Every record is marked: source
``demo``, external ids ``demo:...``, walk titles start with ``[DEMO]``, and the database's meta table
says ``demo = synthetic``. ``size`` scales the records to any number (e.g. 1,000,000 for benchmarks).
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from trygghetskarta import geography, schema
from trygghetskarta.errors import ValidationError
from trygghetskarta.progress import Progress
from trygghetskarta.store import InsertResult, Store
from trygghetskarta.timeutil import now_utc

TZ = ZoneInfo("Europe/Stockholm")
DEMO_TAG = "syntetisk demodata"
SEASON_END = dt.date(2026, 11, 20)

# Places where findings cluster: name, locality, lat, lon, spread (m), weight, typical categories.
HOTSPOTS: tuple[tuple[str, str, float, float, float, float, tuple[str, ...]], ...] = (
    ("Bro station", "bro", 59.5112, 17.6348, 45, 3.0, ("hallplats", "belysning_trasig", "klotter", "odsligt")),
    ("Bro centrum", "bro", 59.5128, 17.6330, 40, 2.5, ("nedskrapning", "skadegorelse", "entre_trapphus")),
    ("Gångtunnel under Enköpingsvägen", "bro", 59.5160, 17.6300, 25, 2.0,
     ("gangtunnel", "belysning_otillracklig", "klotter")),
    ("Råby infartsparkering", "bro", 59.5195, 17.6255, 40, 1.5, ("parkering", "belysning_trasig", "skymd_sikt")),
    ("Finnsta gångväg", "bro", 59.5222, 17.6440, 60, 1.0, ("vegetation", "gangvag", "skymd_sikt")),
    ("Trädgårdsstaden lekplats", "bro", 59.5085, 17.6480, 35, 0.8, ("utrustning", "trygg_plats")),
    ("Kungsängen station", "kungsangen", 59.4785, 17.7502, 45, 3.0,
     ("hallplats", "belysning_trasig", "klotter", "parkering")),
    ("Kungsängen centrum", "kungsangen", 59.4800, 17.7480, 40, 2.2, ("nedskrapning", "entre_trapphus", "odsligt")),
    ("Gångtunnel vid Tibble", "kungsangen", 59.4895, 17.7350, 25, 2.0,
     ("gangtunnel", "belysning_otillracklig", "klotter")),
    ("Gröna dalen stig", "kungsangen", 59.4875, 17.7170, 60, 1.2, ("vegetation", "belysning_trasig", "gangvag")),
    ("Ekhammar skolgård", "kungsangen", 59.4772, 17.7250, 40, 0.8, ("utrustning", "skadegorelse", "trygg_plats")),
    ("Brunna handelsområde parkering", "brunna", 59.5060, 17.7400, 60, 1.8,
     ("parkering", "overgiven_byggnad", "belysning_otillracklig")),
    ("Norrboda busshållplats", "brunna", 59.5085, 17.7360, 30, 1.0, ("hallplats", "trafiksakerhet", "klotter")),
)

_DESCRIPTIONS = {
    "belysning_trasig": ["Lampan vid gångvägen är släckt", "Två stolpar lyser inte", "Belysningen blinkar"],
    "belysning_otillracklig": ["Mörkt mellan stolparna", "Bländande strålkastare mot gångvägen"],
    "vegetation": ["Buskar skymmer sikten mot vägen", "Häcken har vuxit ut över gångbanan"],
    "skymd_sikt": ["Skymd hörna, svårt att se vem som kommer", "Gömställe bakom elskåpet"],
    "klotter": ["Klotter på tunnelväggen", "Nytt klotter på busskuren"],
    "nedskrapning": ["Mycket skräp och glas", "Dumpade sopsäckar"],
    "skadegorelse": ["Krossad ruta i entrén", "Sönderslagen papperskorg"],
    "gangtunnel": ["Tunneln känns trång och mörk", "Ingen insyn i tunneln"],
    "orienterbarhet": ["Skylt saknas mot stationen"],
    "gangvag": ["Gropig gångväg, svårt med rullator", "Gångvägen tar slut abrupt"],
    "trafiksakerhet": ["Höga hastigheter vid övergångsstället", "Saknas övergångsställe"],
    "parkering": ["Mörk parkering utan insyn", "Övergivna bilar på parkeringen"],
    "hallplats": ["Hållplatsen saknar belysning", "Väderskyddet är trasigt"],
    "overgiven_byggnad": ["Tom lokal med trasiga fönster"],
    "utrustning": ["Trasig gunga", "Bänkarna är borttagna"],
    "entre_trapphus": ["Entrédörren går inte i lås", "Trasig belysning i trapphuset"],
    "odsligt": ["Ödsligt på kvällen, inga människor", "Ingen insyn från bostäder"],
    "trygg_plats": ["Välbelyst torg med folk i rörelse", "Bra belysning och öppen sikt"],
    "ovrigt": ["Övrigt att följa upp"],
}
_ORGS = ("Upplands-Bro kommun", "Upplands-Brohus", "Polisen", "Storstockholms brandförsvar", "PRO Bro",
         "Villaägarna", "Grannstöd", "Bostadsrättsföreningen")
_NIGHTWALK_ORGS = ("Nattvandrarna i Bro", "Nattvandrarna i Kungsängen", "Föräldranätverket Brunna")
_INCIDENT_SOURCES = (("polisen_api", "polis", "kommun"), ("polis", "polis", "gata"),
                     ("upplands_brohus", "upplands_brohus", "exakt"), ("kommun", "kommun_gata_park", "exakt"))
_ROUTE_PARTY = {
    "belysning_trasig": "kommun_gata_park", "belysning_otillracklig": "kommun_gata_park",
    "vegetation": "kommun_gata_park", "skymd_sikt": "kommun_gata_park", "klotter": "kommun_gata_park",
    "nedskrapning": "kommun_gata_park", "skadegorelse": "kommun_fastighet", "gangtunnel": "trafikverket",
    "orienterbarhet": "kommun_gata_park", "gangvag": "kommun_gata_park", "trafiksakerhet": "trafikverket",
    "parkering": "upplands_brohus", "hallplats": "region_sl", "overgiven_byggnad": "privat_fastighetsagare",
    "utrustning": "kommun_gata_park", "entre_trapphus": "upplands_brohus", "odsligt": "kommun_gata_park",
    "trygg_plats": "kommun_gata_park", "ovrigt": "okand",
}


@dataclass
class DemoSummary:
    """How many records of each kind the demo wrote (and how many were already there)."""

    inserted: dict[str, int] = field(default_factory=dict)
    already_present: dict[str, int] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)  # username -> one-time password (demo users only)

    @property
    def total(self) -> int:
        return sum(self.inserted.values())


def _evening(day: dt.date, rng: np.random.Generator, start_hour: float = 18.5, span_h: float = 2.0) -> dt.datetime:
    minutes = int((start_hour + rng.random() * span_h) * 60)
    return dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60), tzinfo=TZ)


def _points_near(rng: np.random.Generator, n: int, weights: np.ndarray | None = None,
                 scatter: float = 0.15) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n points: most around hotspots (Gaussian, metric), some scattered; returns lon, lat, hotspot index."""
    w = np.array([h[5] for h in HOTSPOTS]) if weights is None else weights
    idx = rng.choice(len(HOTSPOTS), size=n, p=w / w.sum())
    hx, hy = geography.metric_from_lonlat(np.array([h[3] for h in HOTSPOTS]), np.array([h[2] for h in HOTSPOTS]))
    spread = np.array([h[4] for h in HOTSPOTS])
    x = hx[idx] + rng.normal(0, 1, n) * spread[idx]
    y = hy[idx] + rng.normal(0, 1, n) * spread[idx]
    scattered = rng.random(n) < scatter
    x[scattered] = hx[idx[scattered]] + rng.normal(0, 1, scattered.sum()) * 450
    y[scattered] = hy[idx[scattered]] + rng.normal(0, 1, scattered.sum()) * 450
    lon, lat = geography.lonlat_from_metric(x, y)
    return lon, lat, idx


def _inside(lon: np.ndarray, lat: np.ndarray, boundary: shapely.Geometry) -> np.ndarray:
    return shapely.contains_xy(boundary, lon, lat)


def fill(store: Store, *, seed: int = 20261123, size: int | None = None, progress: Progress | None = None,
         demo_users: bool = False) -> DemoSummary:
    """Fill ``store`` with the demo season. ``size``: total records (default: a realistic few hundred).

    Deterministic for a given seed; running it again adds nothing (external ids ``demo:...``).
    """
    if size is not None and size < 100:
        msg = f"--size must be at least 100 (got {size})"
        raise ValidationError(msg)
    say = progress or (lambda _f, _m: None)
    rng = np.random.default_rng(seed)
    summary = DemoSummary()
    boundary = geography.municipality().geometry.iloc[0].buffer(-0.0005)

    def record(kind: str, res: InsertResult) -> None:
        summary.inserted[kind] = summary.inserted.get(kind, 0) + res.inserted
        summary.already_present[kind] = summary.already_present.get(kind, 0) + res.already_present

    say(0.0, "områden")
    if store.count("area") == 0:
        record("area", store.insert("area", geography.shipped_areas()))
    areas = store.areas()
    locality_area = {row.locality: int(row.id) for row in areas.itertuples() if row.name in
                     ("Bro", "Kungsängen", "Brunna")}

    n_findings = 300 if size is None else int(size * 0.7)
    n_incidents = 420 if size is None else int(size * 0.2)
    n_sightings = 160 if size is None else size - n_findings - n_incidents - 50
    n_nightwalks = 40

    # --- walks ---------------------------------------------------------------------------------
    say(0.05, "trygghetsvandringar")
    localities = ["bro", "kungsangen", "brunna"]
    walk_days = pd.date_range("2026-09-01", SEASON_END, periods=10).date
    walk_rows = []
    for i, day in enumerate(walk_days):
        loc = localities[i % 3]
        spots = [h for h in HOTSPOTS if h[1] == loc]
        route = shapely.LineString([(h[3], h[2]) for h in spots] + [(spots[0][3], spots[0][2])])
        orgs = ", ".join(sorted(rng.choice(_ORGS, size=4, replace=False)))
        walk_rows.append({
            "title": f"[DEMO] Trygghetsvandring {schema.label('locality', loc)} {day:%Y-%m-%d}",
            "started_at": dt.datetime.combine(day, dt.time(18, 30), tzinfo=TZ),
            "area_id": locality_area[loc], "light": "morker" if day.month >= 10 else "skymning",
            "organisations": orgs, "notes": f"Cirka {rng.integers(12, 26)} deltagare. {DEMO_TAG}.",
            "audience": "publik", "created_by": "demo", "external_id": f"demo:walk:{seed}:{i}",
            "geometry": route,
        })
    res = store.insert("walk", gpd.GeoDataFrame(walk_rows, crs=schema.CRS_STORE))
    record("walk", res)
    walks = store.read("walk")
    walks = walks[walks["external_id"].astype(str).str.startswith(f"demo:walk:{seed}:")].reset_index(drop=True)
    walk_loc = {int(w.id): localities[k % 3] for k, w in enumerate(walks.itertuples())}
    walk_at = {int(w.id): w.started_at for w in walks.itertuples()}

    # --- findings --------------------------------------------------------------------------------
    say(0.1, "fynd")
    lon, lat, hot = _points_near(rng, n_findings)
    ok = _inside(lon, lat, boundary)
    while not ok.all():  # redraw the few scattered points that fell outside the kommun
        lon2, lat2, hot2 = _points_near(rng, int((~ok).sum()))
        lon[~ok], lat[~ok], hot[~ok] = lon2, lat2, hot2
        ok = _inside(lon, lat, boundary)
    cat_choice = np.array([rng.choice(HOTSPOTS[h][6]) for h in hot]) if n_findings <= 50_000 else \
        _vector_categories(rng, hot)
    # Two in three findings come from walks in the hotspot's locality; the rest are reported in the app.
    walk_ids = np.array(list(walk_loc))
    from_walk = rng.random(n_findings) < 0.67
    hot_loc = np.array([HOTSPOTS[h][1] for h in hot])
    finding_walk = np.full(n_findings, -1)
    for loc in localities:
        candidates = np.array([w for w in walk_ids if walk_loc[w] == loc])
        sel = from_walk & (hot_loc == loc)
        finding_walk[sel] = rng.choice(candidates, size=int(sel.sum()))
    season_start = pd.Timestamp("2025-10-01", tz=TZ)
    season_len = (pd.Timestamp(SEASON_END, tz=TZ) - season_start).total_seconds()
    at = season_start + pd.to_timedelta(rng.random(n_findings) * season_len, unit="s")
    walk_time = pd.Series([walk_at.get(int(w)) for w in finding_walk], dtype=object)
    has_walk = finding_walk >= 0
    minutes = pd.to_timedelta(rng.integers(0, 120, n_findings), unit="m")
    at = pd.Series(at)
    at[has_walk] = pd.to_datetime(walk_time[has_walk], utc=True) + minutes[has_walk]
    status = _lifecycle(rng, n_findings, at)
    severity = rng.choice([1, 2, 3], size=n_findings, p=[0.3, 0.5, 0.2])
    descr = _describe(rng, cat_choice)
    audience = np.where(rng.random(n_findings) < 0.85, "publik", "partner")
    findings = gpd.GeoDataFrame({
        "category": cat_choice, "description": descr, "severity": severity,
        "status": status, "responsible": [_ROUTE_PARTY[c] if s != "ny" else None for c, s in
                                          zip(cat_choice, status, strict=True)],
        "reported_at": pd.to_datetime(at, utc=True),
        "reported_by": np.where(has_walk, "deltagare", "app"),
        "walk_id": pd.array(np.where(has_walk, finding_walk, -1), dtype="Int64"),
        "audience": audience, "source": "demo",
        "external_id": [f"demo:finding:{seed}:{i}" for i in range(n_findings)],
        "light": pd.Series(["morker" if w else None for w in has_walk], dtype=object),
    }, geometry=shapely.points(lon, lat), crs=schema.CRS_STORE)
    findings.loc[findings["walk_id"] < 0, "walk_id"] = pd.NA
    due = pd.Series([None] * n_findings, dtype=object)
    planned = np.isin(status, ["planerad", "atgardad", "verifierad"])
    due[planned] = [(t + pd.Timedelta(days=int(d))).date() for t, d in
                    zip(at[planned], rng.integers(10, 60, int(planned.sum())), strict=True)]
    findings["due_date"] = due.to_numpy()
    res = _insert_chunked(store, "finding", findings, say, 0.1, 0.6)
    record("finding", res)
    written = None
    if res.inserted == len(findings):  # the ids come back in row order, so the frame needs no re-read
        written = pd.DataFrame(findings.drop(columns="geometry")).assign(
            id=list(res.ids), lon=lon, lat=lat, area_id=np.nan)
    if size is None or size <= 20_000:
        _history(store, rng, seed)

    # --- partner incidents -----------------------------------------------------------------------
    say(0.6, "partnerhändelser")
    lon, lat, hot = _points_near(rng, n_incidents, scatter=0.3)
    lon, lat = _clamp_inside(rng, lon, lat, boundary)
    src_idx = rng.choice(len(_INCIDENT_SOURCES), size=n_incidents, p=[0.35, 0.15, 0.35, 0.15])
    src = np.array([_INCIDENT_SOURCES[i][0] for i in src_idx])
    owner = np.array([_INCIDENT_SOURCES[i][1] for i in src_idx])
    precision = np.array([_INCIDENT_SOURCES[i][2] for i in src_idx])
    police_centroid = (17.752277, 59.49068)  # the police events API's single point for Upplands-Bro
    lon[precision == "kommun"], lat[precision == "kommun"] = police_centroid
    # Incidents peak in the evening and at weekends.
    day_offsets = rng.random(n_incidents) * (season_len / 86400)
    hours = rng.choice(24, size=n_incidents, p=_hour_profile())
    occurred = (season_start.normalize() + pd.to_timedelta(np.floor(day_offsets), unit="D")
                + pd.to_timedelta(hours, unit="h") + pd.to_timedelta(rng.integers(0, 60, n_incidents), unit="m"))
    types = rng.choice(schema.keys("incident_type"), size=n_incidents,
                       p=_normalised([8, 7, 2, 6, 6, 4, 3, 3, 3, 2, 3, 1, 1, 2]))
    incidents = gpd.GeoDataFrame({
        "source": src, "type": types, "occurred_at": pd.DatetimeIndex(occurred).tz_convert("UTC"),
        "precision": precision, "title": [schema.label("incident_type", t) for t in types],
        "description": f"Händelse ({DEMO_TAG})", "owner_org": owner, "audience": "partner",
        "external_id": [f"demo:incident:{seed}:{i}" for i in range(n_incidents)],
        "reported_by": np.where(src == "upplands_brohus", "bostadsbolag", "polis"),
    }, geometry=shapely.points(lon, lat), crs=schema.CRS_STORE)
    record("incident", _insert_chunked(store, "incident", incidents, say, 0.6, 0.8))

    # --- field sightings -------------------------------------------------------------------------
    say(0.8, "fältobservationer")
    if n_sightings > 0:
        lon, lat, hot = _points_near(rng, n_sightings, scatter=0.2)
        lon, lat = _clamp_inside(rng, lon, lat, boundary)
        days = rng.random(n_sightings) * (season_len / 86400)
        hours = rng.choice([15, 16, 17, 18, 19, 20, 21, 22, 23], size=n_sightings)
        observed = (season_start.normalize() + pd.to_timedelta(np.floor(days), unit="D")
                    + pd.to_timedelta(hours, unit="h"))
        stypes = rng.choice(schema.keys("sighting_type"), size=n_sightings,
                            p=_normalised([10, 4, 2, 2, 1, 1, 5, 1]))
        sightings = gpd.GeoDataFrame({
            "type": stypes, "group_size": rng.choice(schema.keys("group_size"), size=n_sightings),
            "age_band": rng.choice(["13-15", "16-17", "18-25", "blandat"], size=n_sightings),
            "observed_at": pd.DatetimeIndex(observed).tz_convert("UTC"),
            "description": f"Observation ({DEMO_TAG})", "reported_by": "faltgrupp", "audience": "begransad",
            "external_id": [f"demo:sighting:{seed}:{i}" for i in range(n_sightings)],
        }, geometry=shapely.points(lon, lat), crs=schema.CRS_STORE)
        record("sighting", _insert_chunked(store, "sighting", sightings, say, 0.8, 0.92))

    # --- night-walk reports ----------------------------------------------------------------------
    say(0.92, "nattvandringar")
    fridays = pd.date_range("2025-10-03", SEASON_END, freq="W-FRI")
    picks = rng.choice(len(fridays), size=min(n_nightwalks, len(fridays)), replace=False)
    nw_rows = []
    for j, p in enumerate(sorted(picks)):
        org_i = j % len(_NIGHTWALK_ORGS)
        loc = localities[org_i]
        spots = [h for h in HOTSPOTS if h[1] == loc][:3]
        nw_rows.append({
            "organisation": _NIGHTWALK_ORGS[org_i], "walk_date": fridays[p].date(),
            "walkers": int(rng.integers(3, 12)), "contacts_young": int(rng.integers(0, 40)),
            "observations": f"Lugn kväll, samtal med unga vid centrum ({DEMO_TAG}).",
            "reported_by": "nattvandrare", "area_id": locality_area[loc], "audience": "partner",
            "external_id": f"demo:nightwalk:{seed}:{j}",
            "geometry": shapely.LineString([(h[3], h[2]) for h in spots]),
        })
    record("nightwalk", store.insert("nightwalk", gpd.GeoDataFrame(nw_rows, crs=schema.CRS_STORE)))

    # --- actions ---------------------------------------------------------------------------------
    say(0.95, "åtgärder")
    record("action", _actions(store, rng, seed, written))
    if size is None:  # the default season only: --size N keeps its total of N records
        say(0.97, "planterad effekt")
        planted = _planted_effect(store, seed)
        record("incident", planted[0])
        record("action", planted[1])
    store.set_meta("demo", f"synthetic (seed={seed}, size={size or 'default'})")
    if demo_users:
        from trygghetskarta import auth

        summary.users = auth.create_demo_users(store)
    say(1.0, "klart")
    return summary


def _insert_chunked(store: Store, kind: str, frame: gpd.GeoDataFrame, say: Progress, lo: float,
                    hi: float) -> InsertResult:
    """One transaction per kind; progress is reported per chunk of validation work."""
    say(lo, f"{kind}: {len(frame)} poster")
    res = store.insert(kind, frame)
    say(hi, f"{kind}: klart")
    return res


def _clamp_inside(rng: np.random.Generator, lon: np.ndarray, lat: np.ndarray,
                  boundary: shapely.Geometry) -> tuple[np.ndarray, np.ndarray]:
    ok = _inside(lon, lat, boundary)
    while not ok.all():
        lon2, lat2, _ = _points_near(rng, int((~ok).sum()))
        lon[~ok], lat[~ok] = lon2, lat2
        ok = _inside(lon, lat, boundary)
    return lon, lat


def _vector_categories(rng: np.random.Generator, hot: np.ndarray) -> np.ndarray:
    out = np.empty(len(hot), dtype=object)
    for h, spot in enumerate(HOTSPOTS):
        sel = hot == h
        out[sel] = rng.choice(spot[6], size=int(sel.sum()))
    return out.astype(str)


def _describe(rng: np.random.Generator, cats: np.ndarray) -> np.ndarray:
    out = np.empty(len(cats), dtype=object)
    for cat in np.unique(cats):
        sel = cats == cat
        texts = _DESCRIPTIONS[cat]
        out[sel] = np.array(texts, dtype=object)[rng.integers(0, len(texts), int(sel.sum()))]
    return out


def _normalised(w: list[float]) -> np.ndarray:
    a = np.asarray(w, dtype=float)
    return a / a.sum()


def _hour_profile() -> np.ndarray:
    base = np.array([4, 3, 2, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 4, 5, 6, 7, 8, 9, 9, 8, 7, 5], dtype=float)
    return base / base.sum()


def _lifecycle(rng: np.random.Generator, n: int, at: pd.Series) -> np.ndarray:
    """Older findings have come further along the lifecycle."""
    age_days = (pd.Timestamp(SEASON_END, tz=TZ) - pd.to_datetime(at, utc=True)).dt.days.to_numpy()
    p_far = np.clip(age_days / 300, 0, 1)
    u = rng.random(n)
    status = np.where(u < 0.15 * (1 - p_far) + 0.03, "ny", "")
    steps = np.array(["bedomd", "tilldelad", "planerad", "atgardad", "verifierad"])
    reach = np.minimum((p_far * 5 + rng.random(n) * 2).astype(int), 4)
    status = np.where(status == "", steps[reach], status)
    rare = rng.random(n)
    status = np.where(rare < 0.03, "ej_atgardas", status)
    return status.astype(str)


def _history(store: Store, rng: np.random.Generator, seed: int) -> None:
    """Status events that lead each demo finding to its status (who, when, from, to)."""
    found = store.read("finding")
    found = found[found["external_id"].astype(str).str.startswith(f"demo:finding:{seed}:")]
    path = ["ny", "bedomd", "tilldelad", "planerad", "atgardad", "verifierad"]
    rows = []
    for f in found.itertuples():
        target = f.status
        steps = path[: path.index(target) + 1] if target in path else ["ny", "bedomd", target]
        when = f.reported_at
        for a, b in itertools.pairwise(steps):
            when = when + pd.Timedelta(days=int(rng.integers(1, 14)))
            comment = "Kan inte åtgärdas: privat mark utan avtal" if b == "ej_atgardas" else ""
            rows.append({"kind": "finding", "record_id": int(f.id), "at": when.to_pydatetime(),
                         "by": "planerare", "from_status": a, "to_status": b, "comment": comment})
    if rows:
        with store.write() as conn:
            if not store.event_count(conn, [r["record_id"] for r in rows[:1]]):
                store.insert_status_events(conn, rows)
            store.audit("demo_history", None, "finding", None, {"events": len(rows)}, conn=conn)


def _actions(store: Store, rng: np.random.Generator, seed: int, written: pd.DataFrame | None) -> InsertResult:
    """Actions grouping assigned findings of each walk by responsible party."""
    found = written if written is not None else store.points(
        "finding", columns=["external_id", "walk_id", "responsible", "status", "category", "area_id"])
    found = found[found["external_id"].astype(str).str.startswith(f"demo:finding:{seed}:")
                  & found["walk_id"].notna() & found["responsible"].notna()]
    result = InsertResult()
    groups = list(found.groupby(["walk_id", "responsible"]))[:60]
    firsts = pd.DataFrame([g.iloc[0] for _, g in groups])
    area_of = dict(zip(firsts.index, geography.area_ids_from_lonlat(
        firsts["lon"].to_numpy(float), firsts["lat"].to_numpy(float), store.areas()), strict=True)) \
        if len(firsts) else {}
    rows, links = [], []
    with store.write() as conn:
        have = store.action_ids_by_external_id(conn, [f"demo:action:{seed}:{k}" for k in range(len(groups))])
        for k, ((walk_id, party), group) in enumerate(groups):
            ext = f"demo:action:{seed}:{k}"
            if ext in have:
                result.already_present += 1
                continue
            statuses = set(group["status"])
            done = statuses <= {"atgardad", "verifierad"}
            started = bool(statuses & {"planerad", "atgardad", "verifierad"})
            planned = group["reported_at"].max() + pd.Timedelta(days=int(rng.integers(14, 75)))
            first = group.iloc[0]
            rows.append({
                "what": f"Åtgärda: {schema.label('category', first['category'])} m.fl. ({len(group)} fynd)",
                "responsible": party, "priority": int(rng.integers(1, 4)),
                "kind": "projektering" if first["category"] in ("gangtunnel", "trafiksakerhet") else "enkel",
                "planned_date": planned.date(), "done_date": planned.date() if done else None,
                "status": "klar" if done else ("pagar" if started else "oppen"), "shared": bool(rng.random() < 0.2),
                "walk_id": int(walk_id), "area_id": int(area_of[first.name]) if area_of[first.name] >= 0 else None,
                "created_by": "planerare", "external_id": ext, "created_at": now_utc(), "updated_at": now_utc(),
                "lon": float(first["lon"]), "lat": float(first["lat"])})
            links.append([int(i) for i in group["id"]])
        result.ids.extend(store.insert_actions(conn, rows, links))
        if rows:
            store.audit("demo_actions", None, "action", None, {"actions": len(rows)}, conn=conn)
    return result


# --- a planted effect (#17): new lighting in Bro centrum, so the effect example has something to find -------

EFFECT_TARGET = "Bro centrum"
EFFECT_CONTROL = "Kungsängen centrum"
EFFECT_DATE = dt.date(2026, 5, 4)
EFFECT_WEEKS = 26
EFFECT_RATE = 3.0  # incidents per week in the target before (the control's rate is the same, its trend too)
EFFECT_REDUCTION = 0.5  # the share of the target's incidents the new lighting removes after the date
EFFECT_ACTION = "Ny belysning i Bro centrum (planterad demoeffekt)"


def _planted_effect(store: Store, seed: int) -> tuple[object, object]:
    """The default demo season's extra street-level incidents in Bro centrum and Kungsängen centrum, 26 weeks
    either side of 2026-05-04: both follow the same rising trend (+20 %), and Bro centrum loses half of its
    incidents after the date, when a done action "Ny belysning i Bro centrum" put in new lighting. Its own
    random stream, so the rest of the demo season is unchanged by it."""
    import sqlalchemy as sa

    from trygghetskarta.store import tables as t
    from trygghetskarta.store.core import InsertResult, now_utc

    rng = np.random.default_rng([seed, 17])
    areas = store.areas()
    by_name = {str(n): (int(i), g) for i, n, g in zip(areas["id"], areas["name"], areas.geometry, strict=True)}
    if EFFECT_TARGET not in by_name or EFFECT_CONTROL not in by_name:
        return InsertResult(), InsertResult()  # areas replaced by an import: nothing to plant in
    rows = []
    span = dt.timedelta(weeks=EFFECT_WEEKS)
    for name, reduce in ((EFFECT_TARGET, True), (EFFECT_CONTROL, False)):
        _, polygon = by_name[name]
        for window, start in (("before", EFFECT_DATE - span), ("after", EFFECT_DATE)):
            rate = EFFECT_RATE * EFFECT_WEEKS * (1.2 if window == "after" else 1.0)
            if reduce and window == "after":
                rate *= 1 - EFFECT_REDUCTION
            n = int(rng.poisson(rate))
            minx, miny, maxx, maxy = polygon.bounds
            lon = np.empty(0)
            lat = np.empty(0)
            while lon.size < n:  # uniform in the area
                cx = rng.uniform(minx, maxx, 4 * n + 8)
                cy = rng.uniform(miny, maxy, 4 * n + 8)
                inside = shapely.contains_xy(polygon, cx, cy)
                lon, lat = np.concatenate([lon, cx[inside]]), np.concatenate([lat, cy[inside]])
            days = rng.integers(0, 7 * EFFECT_WEEKS, n)
            hours = rng.choice(24, size=n, p=_hour_profile())
            for k in range(n):
                at = dt.datetime.combine(start + dt.timedelta(days=int(days[k])), dt.time(int(hours[k])), tzinfo=TZ)
                rows.append({"name": name, "window": window, "lon": float(lon[k]), "lat": float(lat[k]), "at": at})
    types = rng.choice(["skadegorelse", "klotter", "otrygg_samling", "vald"], size=len(rows))
    frame = gpd.GeoDataFrame({
        "source": "upplands_brohus", "type": types,
        "occurred_at": pd.to_datetime([r["at"] for r in rows]).tz_convert("UTC"), "precision": "gata",
        "title": [schema.label("incident_type", x) for x in types], "description": f"Händelse ({DEMO_TAG})",
        "owner_org": "upplands_brohus", "audience": "partner", "reported_by": "bostadsbolag",
        "external_id": [f"demo:effect:{seed}:{i}" for i in range(len(rows))],
    }, geometry=shapely.points([r["lon"] for r in rows], [r["lat"] for r in rows]), crs=schema.CRS_STORE)
    incidents = store.insert("incident", frame)
    action = InsertResult()
    ext = f"demo:effect-action:{seed}"
    target_id, polygon = by_name[EFFECT_TARGET]
    centre = polygon.representative_point()
    with store.write() as conn:
        if conn.execute(sa.select(t.actions.c.id).where(t.actions.c.external_id == ext)).first():
            action.already_present += 1
        else:
            aid = conn.execute(sa.insert(t.actions).values(
                what=EFFECT_ACTION, responsible="kommun_gata_park", priority=1, kind="projektering",
                planned_date=EFFECT_DATE, done_date=EFFECT_DATE, status="klar", shared=True, walk_id=None,
                area_id=target_id, created_by="planerare", audience="partner", external_id=ext,
                created_at=now_utc(), updated_at=now_utc(), lon=float(centre.x), lat=float(centre.y), geom=None,
            ).returning(t.actions.c.id)).scalar()
            action.ids.append(int(aid))
    return incidents, action

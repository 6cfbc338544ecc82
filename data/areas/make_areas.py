"""Draw the approximate areas shipped for Upplands-Bro (kommunkod 0139) and write them as GeoJSON.

Facts used (public): SCB tätorter 2020 points and land areas (Kungsängen 0139TC104: 654686 E 6597397 N,
464 ha; Bro 0139TB101: 649216 E 6600777 N, 497 ha; Brunna 0139TB102: 654990 E 6599710 N, 354 ha, in
SWEREF 99 TM), SCB DeSO 2019 population summed per locality, and approximate neighbourhood centres
read off public maps. A locality is a disc of 1.8 x its tätort land area around the tätort point; its
neighbourhoods are the Voronoi cells of their centres inside it. Everything is clipped 50 m inside the
real municipality boundary. These shapes are *approximate* (source=approximate): import official
RegSO/DeSO polygons to replace them.

Run: python data/areas/make_areas.py  (writes trygghetskarta/data/areas_0139.geojson)
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import shapely

from trygghetskarta.geography import metric_from_lonlat, municipality, to_metric

OUT = Path(__file__).resolve().parents[2] / "trygghetskarta" / "data" / "areas_0139.geojson"

# name, x, y (EPSG:3006), land area ha, population (SCB DeSO 2019, summed per locality RegSOs)
LOCALITIES = {
    "kungsangen": ("Kungsängen", 654686, 6597397, 464, 12123),  # Centrala Kungsängen, Norrboda-Tibble, Lillsjön
    "bro": ("Bro", 649216, 6600777, 497, 9889),  # Centrala/Norra/Södra Bro, Rosenängarna-Österhagen
    "brunna": ("Brunna", 654990, 6599710, 354, 4051),  # RegSO Brunna
}
# neighbourhood name, locality, lat, lon (approximate centres)
NEIGHBOURHOODS = [
    ("Kungsängen centrum", "kungsangen", 59.4792, 17.7495),
    ("Tibble", "kungsangen", 59.4900, 17.7345),
    ("Gröna dalen", "kungsangen", 59.4875, 17.7160),
    ("Ekhammar", "kungsangen", 59.4770, 17.7245),
    ("Bro centrum", "bro", 59.5125, 17.6345),
    ("Råby", "bro", 59.5205, 17.6255),
    ("Finnsta", "bro", 59.5225, 17.6440),
    ("Trädgårdsstaden", "bro", 59.5080, 17.6490),
    ("Brunna/Norrboda", "brunna", 59.5071, 17.7386),
]


def main() -> None:
    kommun = to_metric(municipality("0139")).geometry.iloc[0].buffer(-50)
    rows = []
    discs = {}
    for key, (_name, x, y, ha, _pop) in LOCALITIES.items():
        radius = math.sqrt(1.8 * ha * 10_000 / math.pi)
        disc = shapely.Point(x, y).buffer(radius, quad_segs=16)
        # Localities do not overlap: Brunna lies between Bro and Kungsängen, so cut the others by it.
        discs[key] = disc
    discs["kungsangen"] = discs["kungsangen"].difference(discs["brunna"])
    for key, disc in discs.items():
        name, _x, _y, _ha, pop = LOCALITIES[key]
        geom = disc.intersection(kommun)
        discs[key] = geom
        rows.append({"name": name, "locality": key, "source": "approximate", "population": pop, "geometry": geom})
    for locality in LOCALITIES:
        seeds = [(n, *metric_from_lonlat([lon], [lat])) for n, loc, lat, lon in NEIGHBOURHOODS if loc == locality]
        container = discs[locality]
        if len(seeds) == 1:
            rows.append({"name": seeds[0][0], "locality": locality, "source": "approximate", "population": None,
                         "geometry": container.buffer(-10)})
            continue
        points = shapely.MultiPoint([shapely.Point(x[0], y[0]) for _, x, y in seeds])
        cells = shapely.voronoi_polygons(points, extend_to=container)
        for name, x, y in seeds:
            pt = shapely.Point(x[0], y[0])
            cell = next(c for c in cells.geoms if c.contains(pt))
            rows.append({"name": name, "locality": locality, "source": "approximate", "population": None,
                         "geometry": cell.intersection(container).buffer(-10)})
    gdf = gpd.GeoDataFrame(rows, crs="EPSG:3006")
    gdf["geometry"] = gdf.geometry.simplify(5)
    gdf = gdf.to_crs("EPSG:4326")
    gdf["geometry"] = shapely.set_precision(gdf.geometry.to_numpy(), 1e-6)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    gdf.to_file(OUT, driver="GeoJSON", COORDINATE_PRECISION=6)
    print(f"wrote {len(gdf)} areas to {OUT}")


if __name__ == "__main__":
    main()

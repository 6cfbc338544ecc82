"""Sun elevation (NOAA solar-position algorithm, vectorised), light condition and time-of-day profiles.

Light classes (keys of ``schema.LIGHT_CONDITIONS``) from the sun's geometric elevation at the place and time:
``dagsljus`` above -0.833° (the sun's upper limb above the horizon, with standard refraction), ``skymning``
down to -6° (civil twilight, still light enough to see), ``morker`` below -6°.
"Day" for the day/night filter is ``dagsljus``; "night" is ``skymning`` or ``morker``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trygghetskarta import i18n, schema
from trygghetskarta.analysis._points import aware_times, local_timezone, lonlat_from_frame, require_frame
from trygghetskarta.errors import ValidationError

DAYLIGHT_ABOVE_DEG = -0.833
TWILIGHT_ABOVE_DEG = -6.0


def _unix_seconds(times: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    index = pd.DatetimeIndex(times)
    if index.tz is None:
        msg = "times must be timezone-aware (e.g. UTC); naive times have no known zone"
        raise ValidationError(msg)
    epoch = pd.Timestamp("1970-01-01", tz="UTC")
    return np.asarray((index.tz_convert("UTC") - epoch) / pd.Timedelta(seconds=1), dtype=float)


def sun_elevation_from_times(times: pd.Series | pd.DatetimeIndex, lon: np.ndarray | float,
                             lat: np.ndarray | float) -> np.ndarray:
    """Geometric sun elevation in degrees (no refraction) for aware ``times`` at ``lon``/``lat`` (WGS 84)."""
    seconds = _unix_seconds(times)
    lon = np.broadcast_to(np.asarray(lon, dtype=float), seconds.shape)
    lat = np.broadcast_to(np.asarray(lat, dtype=float), seconds.shape)
    jc = (seconds / 86400.0 + 2440587.5 - 2451545.0) / 36525.0  # Julian centuries since J2000.0
    mean_long = np.mod(280.46646 + jc * (36000.76983 + jc * 0.0003032), 360.0)
    mean_anom = np.radians(357.52911 + jc * (35999.05029 - 0.0001537 * jc))
    eccentricity = 0.016708634 - jc * (0.000042037 + 0.0000001267 * jc)
    centre = (np.sin(mean_anom) * (1.914602 - jc * (0.004817 + 0.000014 * jc))
              + np.sin(2 * mean_anom) * (0.019993 - 0.000101 * jc) + np.sin(3 * mean_anom) * 0.000289)
    omega = np.radians(125.04 - 1934.136 * jc)
    apparent_long = np.radians(mean_long + centre - 0.00569 - 0.00478 * np.sin(omega))
    mean_obliquity = 23.0 + (26.0 + (21.448 - jc * (46.815 + jc * (0.00059 - jc * 0.001813))) / 60.0) / 60.0
    obliquity = np.radians(mean_obliquity + 0.00256 * np.cos(omega))
    declination = np.arcsin(np.sin(obliquity) * np.sin(apparent_long))
    var_y = np.tan(obliquity / 2) ** 2
    l0 = np.radians(mean_long)
    eq_time = 4 * np.degrees(var_y * np.sin(2 * l0) - 2 * eccentricity * np.sin(mean_anom)
                             + 4 * eccentricity * var_y * np.sin(mean_anom) * np.cos(2 * l0)
                             - 0.5 * var_y**2 * np.sin(4 * l0) - 1.25 * eccentricity**2 * np.sin(2 * mean_anom))
    true_solar_minutes = np.mod(np.mod(seconds, 86400.0) / 60.0 + eq_time + 4 * lon, 1440.0)
    hour_angle = np.radians(true_solar_minutes / 4.0 - 180.0)
    phi = np.radians(lat)
    cos_zenith = np.sin(phi) * np.sin(declination) + np.cos(phi) * np.cos(declination) * np.cos(hour_angle)
    return 90.0 - np.degrees(np.arccos(np.clip(cos_zenith, -1.0, 1.0)))


def light_from_elevation(elevation: np.ndarray) -> np.ndarray:
    """Light-condition keys (``dagsljus``/``skymning``/``morker``) for sun elevations in degrees."""
    elevation = np.asarray(elevation, dtype=float)
    return np.where(elevation > DAYLIGHT_ABOVE_DEG, "dagsljus",
                    np.where(elevation > TWILIGHT_ABOVE_DEG, "skymning", "morker")).astype(object)


def light_from_records(records: pd.DataFrame, time_col: str | None = None, *, keep_given: bool = True) -> pd.Series:
    """Light condition per record: the record's ``light`` value where given (``keep_given``), else from the sun.

    Records without time or position and without a given value get NA.
    """
    require_frame(records)
    times = aware_times(records, time_col)
    lon, lat = lonlat_from_frame(records)
    known = times.notna().to_numpy() & np.isfinite(lon) & np.isfinite(lat)
    out = pd.Series(pd.NA, index=records.index, dtype=object)
    if known.any():
        elevation = sun_elevation_from_times(times[known], lon[known], lat[known])
        out.iloc[np.nonzero(known)[0]] = light_from_elevation(elevation)
    if keep_given and "light" in records.columns:
        given = records["light"].astype(object)
        valid = given.isin(schema.keys("light"))
        out = out.where(~valid, given)
    return out


def day_night_from_records(records: pd.DataFrame, time_col: str | None = None) -> pd.Series:
    """``"dag"`` for daylight, ``"natt"`` for twilight or darkness, NA when unknown."""
    light = light_from_records(records, time_col)
    return light.map({"dagsljus": "dag", "skymning": "natt", "morker": "natt"}).astype(object)


def light_counts_from_records(records: pd.DataFrame, time_col: str | None = None, lang: str = "sv") -> pd.DataFrame:
    """Counts per light condition (every class, zeros included) with labels and shares."""
    light = light_from_records(records, time_col)
    keys = schema.keys("light")
    counts = light.value_counts().reindex(keys, fill_value=0).astype(np.int64)
    total = int(counts.sum())
    return pd.DataFrame({
        "light": keys,
        "label": [schema.label("light", k, lang) for k in keys],
        "count": counts.to_numpy(),
        "share": counts.to_numpy() / total if total else np.zeros(len(keys)),
    })


def weekday_hour_from_records(records: pd.DataFrame, time_col: str | None = None, tz: str | None = None,
                              lang: str = "sv") -> pd.DataFrame:
    """A 7 x 24 table of counts: rows weekdays Monday–Sunday (labels), columns local hours 0–23."""
    require_frame(records)
    local = aware_times(records, time_col).dropna().dt.tz_convert(local_timezone(tz))
    cell = local.dt.day_of_week.to_numpy() * 24 + local.dt.hour.to_numpy()
    table = np.bincount(cell.astype(np.int64), minlength=7 * 24).reshape(7, 24)
    labels = [i18n.weekday_name(day, lang).capitalize() for day in range(7)]  # Babel: "Måndag" … "Söndag"
    return pd.DataFrame(table, index=pd.Index(labels, name="weekday"), columns=pd.RangeIndex(24, name="hour"))

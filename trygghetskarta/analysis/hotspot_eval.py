"""How far the hot-spot map can be trusted: the predictive accuracy index and the recapture rate index.

For a method (count grid, KDE, Gi*) the hot spots of one period are the highest-scoring cells covering a chosen
share of the study area (1 %, 3 %, 5 %); they are scored against the next period's events:

- hit rate ``n / N``: the share of the next period's events that fall in the hot-spot cells;
- predictive accuracy index ``PAI = (n / N) / (a / A)``, hit rate over area share (Chainey, Tompson & Uhlig 2008);
  1 is what cells chosen at random give, the higher the better;
- recapture rate index ``RRI = (n₂ / n₁) / (N₂ / N₁)`` (Levine 2004, CrimeStat; Chainey et al. 2008's
  "recapture"): events in the same cells in the next period against this period, corrected for the change in
  the total; about 1 when the hot spots keep their share of events.

A method's hot spots come from a training window of the periods before (``window``, e.g. six months); the naive
baseline ("last period's counts", which a Swedish kommun found as good as KDE: Camacho Doyle, Gerell &
Andershed 2021) ranks cells by the last period's counts alone. ``evaluate_cube`` rolls this over every period of a
cube of counts, so the planner sees whether the map has been right before. Cells are equal in area, so the area
share is the share of study-area cells, the same for every model (ties among equal scores, e.g. the many cells
without events, are broken as chance would: see ``hotspot_mask``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import ndimage, stats

from trygghetskarta.analysis.gistar import gistar_z_from_values, queen_weights_from_grid
from trygghetskarta.analysis.grids import Grid
from trygghetskarta.errors import ValidationError

METHODS: tuple[str, ...] = ("count", "kde", "gistar")
DEFAULT_SHARES: tuple[float, ...] = (0.01, 0.03, 0.05)


def _check_shares(shares: Sequence[float]) -> tuple[float, ...]:
    out = tuple(float(s) for s in shares)
    if not out or any(not 0 < s <= 1 for s in out):
        msg = f"area shares must be between 0 and 1 (e.g. 0.05 for 5 %), got {list(shares)!r}"
        raise ValidationError(msg)
    return out


def hotspot_mask(scores: np.ndarray, share: float) -> np.ndarray:
    """The cells chosen as hot spots: the ``ceil(share × cells)`` highest scores.

    Cells with equal scores (above all the many cells without events) are ordered by a fixed pseudo-random
    permutation, i.e. as chance would pick them, so every model covers the same area and a quiet period's
    zero cells add only chance-level hits (PAI 1) instead of shrinking the area and inflating the PAI.
    """
    s = np.asarray(scores, dtype=float).ravel()
    k = min(int(np.ceil(share * s.size - 1e-9)), s.size)
    tie_break = np.random.default_rng(0).permutation(s.size)
    order = np.lexsort((tie_break, -s))[:k]
    mask = np.zeros(s.size, dtype=bool)
    mask[order] = True
    return mask


def pai_rri(mask: np.ndarray, counts_now: np.ndarray, counts_next: np.ndarray) -> dict[str, float | int | None]:
    """Hit rate, area share, PAI and RRI of the hot-spot ``mask`` (over the study-area cells)."""
    mask = np.asarray(mask, dtype=bool).ravel()
    now = np.asarray(counts_now, dtype=float).ravel()
    nxt = np.asarray(counts_next, dtype=float).ravel()
    if not (mask.size == now.size == nxt.size) or mask.size == 0:
        msg = "mask and counts must cover the same cells"
        raise ValidationError(msg)
    a, big_a = int(mask.sum()), mask.size
    n1, big_n1 = float(now[mask].sum()), float(now.sum())
    n2, big_n2 = float(nxt[mask].sum()), float(nxt.sum())
    area_share = a / big_a
    hit = n2 / big_n2 if big_n2 > 0 else None
    pai = hit / area_share if hit is not None and a else None
    rri = (n2 / n1) / (big_n2 / big_n1) if n1 > 0 and big_n1 > 0 and big_n2 > 0 else None
    return {"cells": a, "area_share": area_share, "hits": int(n2), "events": int(big_n2), "hit_rate": hit,
            "pai": pai, "rri": rri, "hits_now": int(n1), "events_now": int(big_n1)}


def scores_for(method: str, training: np.ndarray, grid: Grid, *, bandwidth_m: float = 200.0) -> np.ndarray:
    """Scores per study-area cell from the training counts ``(ny, nx)`` summed over the window.

    ``count``: the counts; ``kde``: a Gaussian kernel density (as ``density_from_xy``: the binned counts smoothed
    with standard deviation ``bandwidth_m``); ``gistar``: the Gi* z-score (hot spots are positive z).
    """
    if method not in METHODS:
        msg = f"unknown method {method!r}; allowed: {', '.join(METHODS)}"
        raise ValidationError(msg)
    counts = np.asarray(training, dtype=float)
    if counts.shape != grid.shape:
        msg = f"training counts must have the grid's shape {grid.shape}, got {counts.shape}"
        raise ValidationError(msg)
    active = grid.active
    if method == "count":
        surface = counts
    elif method == "kde":
        surface = ndimage.gaussian_filter(counts, sigma=bandwidth_m / grid.cell_m, mode="constant", truncate=4.0)
    else:
        z = gistar_z_from_values(counts[active], queen_weights_from_grid(grid), transform="B")
        return z
    return surface[active]


def evaluate_cube(cube: np.ndarray, grid: Grid, method: str = "count", *, window: int = 6,
                  shares: Sequence[float] = DEFAULT_SHARES, bandwidth_m: float = 200.0,
                  labels: Sequence[object] | None = None) -> pd.DataFrame:
    """Roll the evaluation over a cube of counts ``(T, ny, nx)``: for each period t ≥ 1 the method's hot spots
    from periods ``t − window … t − 1`` and the naive baseline from period ``t − 1`` alone, scored on period t.

    One row per (period, share, model): ``period`` (``labels[t]`` or t), ``share``, ``model`` ("method" or
    "naive"), and the columns of ``pai_rri`` (RRI compares period t with period t − 1 in the same cells).
    """
    shares = _check_shares(shares)
    cube = np.asarray(cube, dtype=float)
    if cube.ndim != 3 or cube.shape[1:] != grid.shape:
        msg = f"cube must have shape (periods, {grid.ny}, {grid.nx}), got {cube.shape}"
        raise ValidationError(msg)
    if not isinstance(window, int) or window < 1:
        msg = f"window must be a whole number of periods >= 1, got {window!r}"
        raise ValidationError(msg)
    if cube.shape[0] < 2:
        msg = "the evaluation needs at least two periods (one to find hot spots, one to test them)"
        raise ValidationError(msg)
    active = grid.active
    rows: list[dict[str, object]] = []
    for t in range(1, cube.shape[0]):
        training = cube[max(0, t - window):t].sum(axis=0)
        last, nxt = cube[t - 1][active], cube[t][active]
        method_scores = scores_for(method, training, grid, bandwidth_m=bandwidth_m)
        for share in shares:
            for model, scores in (("method", method_scores), ("naive", last)):
                rows.append({"period": labels[t] if labels is not None else t, "share": share, "model": model,
                             **pai_rri(hotspot_mask(scores, share), last, nxt)})
    return pd.DataFrame(rows)


def summarise(evaluation: pd.DataFrame) -> pd.DataFrame:
    """Pooled over the rolled periods, per share and model: events, hits, hit rate (hits / events), mean area
    share, PAI (pooled hit rate / mean area share) and the mean RRI."""
    if evaluation.empty:
        return pd.DataFrame(columns=["share", "model", "periods", "events", "hits", "hit_rate", "area_share",
                                     "pai", "rri"])
    g = evaluation.groupby(["share", "model"], sort=True)
    out = g.agg(periods=("period", "size"), events=("events", "sum"), hits=("hits", "sum"),
                area_share=("area_share", "mean"), rri=("rri", "mean")).reset_index()
    out["hit_rate"] = np.where(out["events"] > 0, out["hits"] / out["events"].where(out["events"] > 0, 1), np.nan)
    out["pai"] = np.where(out["area_share"] > 0, out["hit_rate"] / out["area_share"].where(
        out["area_share"] > 0, 1), np.nan)
    return out[["share", "model", "periods", "events", "hits", "hit_rate", "area_share", "pai", "rri"]]


def cell_table(counts: np.ndarray, grid: Grid, method: str, *, bandwidth_m: float = 200.0,
               share: float = 0.05) -> pd.DataFrame:
    """Per study-area cell of one period's counts: ``row``, ``col``, ``count``, ``score`` (count, density per km²
    or Gi* z), ``z`` and two-sided ``p`` (Gi* only, else NaN) and ``hot`` (in the top ``share``)."""
    counts = np.asarray(counts, dtype=float)
    rows, cols = np.nonzero(grid.active)
    scores = scores_for(method, counts, grid, bandwidth_m=bandwidth_m)
    if method == "kde":
        scores = scores / (grid.cell_m / 1000.0) ** 2
    z = scores if method == "gistar" else np.full(scores.size, np.nan)
    p = 2.0 * stats.norm.sf(np.abs(z)) if method == "gistar" else np.full(scores.size, np.nan)
    return pd.DataFrame({"row": rows, "col": cols, "count": counts[rows, cols].astype(np.int64), "score": scores,
                         "z": z, "p": p, "hot": hotspot_mask(scores, share)})

"""Emerging hot spots: Gi* per cell over consecutive periods, a Mann–Kendall trend of its z-scores, and the
classes of ArcGIS Pro's Emerging Hot Spot Analysis (also R ``sfdep::emerging_hotspot_analysis``).

Each period's counts get the spatial Gi* of ``gistar.py`` (binary queen contiguity, the cell its own neighbour;
no time lag, as ``sfdep`` with ``k = 0``). A cell's Gi* is significant when its two-sided p is below ``alpha``.
Its z-scores over time get the Mann–Kendall test (S statistic, tie-corrected variance, continuity correction;
the same test as ``pymannkendall.original_test``, checked in the tests). With n periods, "90 %" means at least
90 % of them. The classes, in ArcGIS Pro's words, checked in this order (the first that fits wins):

- ``ny`` (new): significant hot spot in the final period and never before.
- ``sammanhangande`` (consecutive): one uninterrupted run of at least two significant hot periods at the end,
  never significant hot before that run, and less than 90 % of all periods significant hot.
- ``intensifierande`` (intensifying): hot in at least 90 % of the periods including the final one, and the
  z-scores rise significantly (Mann–Kendall, p < alpha).
- ``bestaende`` (persistent): hot in at least 90 % of the periods including the final one, no significant trend.
- ``avtagande`` (diminishing): hot in at least 90 % of the periods including the final one, the z-scores fall
  significantly.
- ``sporadisk`` (sporadic): hot in the final period, on-again off-again before, less than 90 % of the periods
  hot and never a significant cold spot.
- ``oscillerande`` (oscillating): hot in the final period, a significant cold spot in some earlier period, less
  than 90 % of the periods hot.
- ``historisk`` (historical): not hot in the final period, but hot in at least 90 % of the periods.
- ``inget_monster`` (no pattern detected) otherwise. Cold-spot classes are not made (the map points at problems).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from trygghetskarta.analysis.gistar import gistar_z_from_values, queen_weights_from_grid
from trygghetskarta.analysis.grids import Grid
from trygghetskarta.errors import ValidationError
from trygghetskarta.schema import Term

EMERGING_CLASSES: tuple[Term, ...] = (
    Term("ny", "Ny het punkt", "New hot spot"),
    Term("sammanhangande", "Sammanhängande het punkt", "Consecutive hot spot"),
    Term("intensifierande", "Intensifierande het punkt", "Intensifying hot spot"),
    Term("bestaende", "Bestående het punkt", "Persistent hot spot"),
    Term("avtagande", "Avtagande het punkt", "Diminishing hot spot"),
    Term("sporadisk", "Sporadisk het punkt", "Sporadic hot spot"),
    Term("oscillerande", "Oscillerande het punkt", "Oscillating hot spot"),
    Term("historisk", "Historisk het punkt", "Historical hot spot"),
    Term("inget_monster", "Inget mönster", "No pattern detected"),
)
EMERGING_CLASS_KEYS: tuple[str, ...] = tuple(t.key for t in EMERGING_CLASSES)
MIN_PERIODS = 3  # the trend test and the 90 % rule say nothing on fewer periods


def mann_kendall(series: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mann–Kendall per row of ``series`` ``(cells, n)``: S, Kendall's tau (S / (n(n−1)/2)), z and two-sided p.

    Variance ``n(n−1)(2n+5)/18`` less the tie correction ``Σ t(t−1)(2t+5)/18`` over groups of equal values;
    ``z = (S − sign S) / √Var``. Vectorised over cells: the pairs are few (n periods), the cells many.
    """
    x = np.asarray(series, dtype=float)
    if x.ndim != 2:
        msg = f"series must be (cells, periods), got shape {x.shape}"
        raise ValidationError(msg)
    n = x.shape[1]
    i, j = np.triu_indices(n, k=1)
    s = np.sign(x[:, j] - x[:, i]).sum(axis=1)
    var = np.full(x.shape[0], n * (n - 1) * (2 * n + 5) / 18.0)
    ordered = np.sort(x, axis=1)
    # ties: run lengths of equal values in each sorted row
    same = np.concatenate([np.zeros((x.shape[0], 1), dtype=bool), ordered[:, 1:] == ordered[:, :-1]], axis=1)
    if same.any():
        for r in np.nonzero(same.any(axis=1))[0]:
            _, t = np.unique(ordered[r], return_counts=True)
            t = t[t > 1].astype(float)
            var[r] -= float((t * (t - 1) * (2 * t + 5)).sum()) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, (s - np.sign(s)) / np.sqrt(np.where(var > 0, var, 1)), 0.0)
    p = 2.0 * stats.norm.sf(np.abs(z))
    tau = s / (n * (n - 1) / 2.0)
    return s, tau, z, p


def classify(z: np.ndarray, p: np.ndarray, *, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The class key per cell from Gi* ``z`` and ``p`` ``(cells, periods)``; also the trend's tau and p."""
    z = np.asarray(z, dtype=float)
    p = np.asarray(p, dtype=float)
    if z.shape != p.shape or z.ndim != 2:
        msg = f"z and p must both be (cells, periods), got {z.shape} and {p.shape}"
        raise ValidationError(msg)
    n = z.shape[1]
    if n < MIN_PERIODS:
        msg = f"emerging hot spots need at least {MIN_PERIODS} periods, got {n}"
        raise ValidationError(msg)
    hot = (p < alpha) & (z > 0)
    cold = (p < alpha) & (z < 0)
    n_hot = hot.sum(axis=1)
    mostly = n_hot >= 0.9 * n - 1e-9
    final = hot[:, -1]
    # length of the final run of hot periods
    not_hot_rev = ~hot[:, ::-1]
    run = np.where(not_hot_rev.any(axis=1), np.argmax(not_hot_rev, axis=1), n)
    # z-scores equal up to rounding (an unchanged pattern) must not make a trend from floating-point noise
    _, tau, _, trend_p = mann_kendall(np.round(z, 9))
    rising = (trend_p < alpha) & (tau > 0)
    falling = (trend_p < alpha) & (tau < 0)
    out = np.full(z.shape[0], "inget_monster", dtype=object)
    rules = (
        ("ny", final & (n_hot == 1)),
        ("sammanhangande", final & (run >= 2) & (n_hot == run) & ~mostly),
        ("intensifierande", final & mostly & rising),
        ("bestaende", final & mostly & ~rising & ~falling),
        ("avtagande", final & mostly & falling),
        ("sporadisk", final & ~mostly & ~cold.any(axis=1)),
        ("oscillerande", final & ~mostly & cold.any(axis=1)),
        ("historisk", ~final & mostly),
    )
    done = np.zeros(z.shape[0], dtype=bool)
    for key, rule in rules:
        pick = rule & ~done
        out[pick] = key
        done |= pick
    return out, tau, trend_p


def gistar_cube(cube: np.ndarray, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Gi* z and two-sided p per study-area cell and period: two ``(cells, periods)`` arrays."""
    cube = np.asarray(cube, dtype=float)
    if cube.ndim != 3 or cube.shape[1:] != grid.shape:
        msg = f"cube must have shape (periods, {grid.ny}, {grid.nx}), got {cube.shape}"
        raise ValidationError(msg)
    if (cube < 0).any():
        msg = "counts must not be negative"
        raise ValidationError(msg)
    weights = queen_weights_from_grid(grid)
    active = grid.active
    z = np.stack([gistar_z_from_values(period[active], weights) for period in cube], axis=1)
    return z, 2.0 * stats.norm.sf(np.abs(z))


def emerging_hotspots(cube: np.ndarray, grid: Grid, *, alpha: float = 0.05) -> pd.DataFrame:
    """Per study-area cell: ``row``, ``col``, ``total`` (events over all periods), ``hot_periods``, ``final_z``,
    ``trend_tau``, ``trend_p`` and ``emerging`` (class key of ``EMERGING_CLASSES``)."""
    z, p = gistar_cube(cube, grid)
    classes, tau, trend_p = classify(z, p, alpha=alpha)
    rows, cols = np.nonzero(grid.active)
    cube = np.asarray(cube, dtype=float)
    frame = pd.DataFrame({
        "row": rows, "col": cols, "total": cube[:, rows, cols].sum(axis=0).astype(np.int64),
        "hot_periods": ((p < alpha) & (z > 0)).sum(axis=1), "final_z": z[:, -1], "trend_tau": tau,
        "trend_p": trend_p, "emerging": classes,
    })
    frame.attrs["periods"] = int(cube.shape[0])
    frame.attrs["alpha"] = alpha
    return frame

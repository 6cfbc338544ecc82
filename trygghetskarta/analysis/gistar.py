"""Getis-Ord Gi* hot and cold spots on grid counts, vectorised with scipy.sparse.

The statistic is the Gi* "star" variant of Ord & Getis (1995): binary queen contiguity on the grid with
each cell its own neighbour. It is the same computation as ``esda.G_Local(y, w, transform="B", star=True)``
(checked in the tests to 1e-9) without its weights objects and without any numba compilation.

p-values are two-sided from the normal approximation (esda's ``p_norm`` is one-sided). The
approximation needs enough points per neighbourhood: with fewer than ~5 expected points in a 3 x 3
block, Poisson counts have heavier upper tails and too many cells look hot; use larger cells then.
The mean neighbourhood count is in the result's ``attrs["mean_neighbourhood_count"]``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse, stats

from trygghetskarta.analysis.grids import Grid, grid_counts_from_records
from trygghetskarta.errors import ValidationError
from trygghetskarta.schema import Term

# Hot/cold classes: key, Swedish and English label; ``GISTAR_CLASS_CODES`` gives the signed level code.
GISTAR_CLASSES: tuple[Term, ...] = (
    Term("het_99", "Het punkt, 99 %", "Hot spot, 99 %"),
    Term("het_95", "Het punkt, 95 %", "Hot spot, 95 %"),
    Term("het_90", "Het punkt, 90 %", "Hot spot, 90 %"),
    Term("ej_signifikant", "Ej signifikant", "Not significant"),
    Term("kall_90", "Kall punkt, 90 %", "Cold spot, 90 %"),
    Term("kall_95", "Kall punkt, 95 %", "Cold spot, 95 %"),
    Term("kall_99", "Kall punkt, 99 %", "Cold spot, 99 %"),
)
GISTAR_CLASS_CODES: dict[str, int] = {
    "het_99": 3, "het_95": 2, "het_90": 1, "ej_signifikant": 0, "kall_90": -1, "kall_95": -2, "kall_99": -3,
}
_KEY_BY_CODE = np.array(["kall_99", "kall_95", "kall_90", "ej_signifikant", "het_90", "het_95", "het_99"],
                        dtype=object)
SIGNIFICANCE_LEVELS: tuple[tuple[int, float], ...] = ((3, 0.01), (2, 0.05), (1, 0.10))


def queen_weights_from_grid(grid: Grid) -> sparse.csr_matrix:
    """Binary queen-contiguity weights between the study-area cells of ``grid``, each cell its own neighbour.

    Rows and columns follow the row-major order of ``np.nonzero(grid.active)``.
    """
    if not isinstance(grid, Grid):
        msg = f"grid must be a Grid, got {type(grid).__name__}"
        raise ValidationError(msg)
    active = grid.active
    rows, cols = np.nonzero(active)
    m = rows.size
    position = np.full(grid.shape, -1, dtype=np.int64)
    position[rows, cols] = np.arange(m)
    sources: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            r2, c2 = rows + dr, cols + dc
            inside = (r2 >= 0) & (r2 < grid.ny) & (c2 >= 0) & (c2 < grid.nx)
            j = np.full(m, -1, dtype=np.int64)
            j[inside] = position[r2[inside], c2[inside]]
            ok = j >= 0
            sources.append(np.nonzero(ok)[0])
            targets.append(j[ok])
    i = np.concatenate(sources)
    j = np.concatenate(targets)
    return sparse.csr_matrix((np.ones(i.size), (i, j)), shape=(m, m))


def gistar_z_from_values(values: np.ndarray, weights: sparse.spmatrix, transform: str = "B") -> np.ndarray:
    """Gi* z-scores of ``values`` for a weights matrix that includes the diagonal (self-weights).

    ``transform`` "B" uses the weights as given (binary); "R" row-standardises them first, as esda does.
    A constant or all-zero input has no hot spots: every z is 0.
    """
    y = np.asarray(values, dtype=float).ravel()
    n = y.size
    if transform not in ("B", "R"):
        msg = f"transform must be 'B' (binary) or 'R' (row-standardised), got {transform!r}"
        raise ValidationError(msg)
    if not sparse.issparse(weights) or weights.shape != (n, n):
        msg = f"weights must be a sparse {n} x {n} matrix, got {getattr(weights, 'shape', type(weights).__name__)}"
        raise ValidationError(msg)
    if not np.isfinite(y).all():
        msg = "values must be finite"
        raise ValidationError(msg)
    w = sparse.csr_matrix(weights, dtype=float)
    if transform == "R":
        row_sums = np.asarray(w.sum(axis=1)).ravel()
        w = sparse.diags(np.divide(1.0, row_sums, out=np.zeros(n), where=row_sums != 0)) @ w
    total = y.sum()
    mean = total / n
    variance = (y**2).sum() / n - mean**2
    if n < 2 or total == 0 or variance <= 0:
        return np.zeros(n)
    statistic = (w @ y) / total
    cardinality = np.asarray(w.sum(axis=1)).ravel()
    expected = cardinality / n
    expected_variance = cardinality * (n - cardinality) / (n - 1) / n**2 * variance / mean**2
    z = np.zeros(n)
    np.divide(statistic - expected, np.sqrt(expected_variance), out=z, where=expected_variance > 0)
    return z


def gistar_from_grid_counts(counts: np.ndarray, grid: Grid, *, fdr: bool = False) -> pd.DataFrame:
    """Gi* per study-area cell: ``row``, ``col``, ``count``, ``z``, ``p``, ``code`` (-3..3) and ``gistar`` key.

    ``p`` is two-sided; with ``fdr=True`` it is the Benjamini-Hochberg adjusted p-value (q), so each
    class controls the false-discovery rate at its level (1, 5, 10 %) instead of the per-cell error.
    """
    counts = np.asarray(counts)
    if not isinstance(grid, Grid) or counts.shape != grid.shape:
        msg = f"counts must have the grid's shape {getattr(grid, 'shape', None)}, got {counts.shape}"
        raise ValidationError(msg)
    if counts.size and (counts < 0).any():
        msg = "counts must not be negative"
        raise ValidationError(msg)
    rows, cols = np.nonzero(grid.active)
    y = counts[rows, cols].astype(float)
    z = gistar_z_from_values(y, queen_weights_from_grid(grid), transform="B")
    p = 2.0 * stats.norm.sf(np.abs(z))
    if fdr and p.size:
        p = stats.false_discovery_control(p, method="bh")
    code = np.zeros(z.size, dtype=np.int8)
    for level, alpha in reversed(SIGNIFICANCE_LEVELS):  # strictest last so it wins
        code[p < alpha] = level
    code *= np.sign(z).astype(np.int8)
    frame = pd.DataFrame({
        "row": rows, "col": cols, "count": y.astype(np.int64), "z": z, "p": p, "code": code,
        "gistar": _KEY_BY_CODE[code.astype(np.int64) + 3],
    })
    frame.attrs["mean_neighbourhood_count"] = float(y.mean() * 9) if y.size else 0.0
    frame.attrs["fdr"] = bool(fdr)
    return frame


def gistar_from_records(records: pd.DataFrame, grid: Grid, *, fdr: bool = False) -> pd.DataFrame:
    """Gi* on the grid counts of the records precise enough for hot spots; see ``gistar_from_grid_counts``."""
    return gistar_from_grid_counts(grid_counts_from_records(records, grid), grid, fdr=fdr)


def gistar_grid_from_frame(gistar: pd.DataFrame, grid: Grid, column: str = "code") -> np.ndarray:
    """A Gi* result column back on the ``(ny, nx)`` grid (NaN outside the study area)."""
    if column not in gistar.columns:
        msg = f"column {column!r} not in the Gi* result"
        raise ValidationError(msg)
    out = np.full(grid.shape, np.nan)
    out[gistar["row"].to_numpy(), gistar["col"].to_numpy()] = gistar[column].to_numpy(dtype=float)
    return out

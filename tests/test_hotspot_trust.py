"""How far the hot-spot map can be trusted (#17): PAI/RRI by hand, a planted persistent hot spot against
spatially random data, and each emerging hot-spot class on a cube built to have it."""

from __future__ import annotations

import time

import numpy as np
import pymannkendall
import pytest

from trygghetskarta.analysis import emerging as em
from trygghetskarta.analysis import hotspot_eval as he
from trygghetskarta.analysis.grids import Grid
from trygghetskarta.errors import ValidationError


def test_pai_and_rri_by_hand() -> None:
    # 10 cells; the hot spot is cell 0 (10 % of the area). This period: 6 of 20 events there; next period:
    # 4 of 10. Hit rate 4/10 = 0.4; PAI = 0.4 / 0.1 = 4; RRI = (4/6) / (10/20) = 1.333.
    now = np.array([6, 2, 2, 2, 2, 2, 1, 1, 1, 1])
    nxt = np.array([4, 1, 1, 1, 1, 1, 1, 0, 0, 0])
    mask = he.hotspot_mask(now, 0.1)
    assert mask.tolist() == [True] + [False] * 9
    r = he.pai_rri(mask, now, nxt)
    assert r["hit_rate"] == pytest.approx(0.4)
    assert r["pai"] == pytest.approx(4.0)
    assert r["rri"] == pytest.approx((4 / 6) / (10 / 20))
    assert (r["hits"], r["events"], r["cells"]) == (4, 10, 1)


def test_hotspot_mask_covers_the_asked_area_and_breaks_ties_deterministically() -> None:
    scores = np.zeros(100)
    scores[[3, 7]] = [5, 2]
    mask = he.hotspot_mask(scores, 0.05)
    assert mask.sum() == 5 and mask[3] and mask[7]
    assert (he.hotspot_mask(scores, 0.05) == mask).all()
    with pytest.raises(ValidationError, match="area shares must be between 0 and 1"):
        he.evaluate_cube(np.zeros((3, 2, 2)), Grid(0, 0, 100, 2, 2), shares=[5])


def _cube(rng: np.random.Generator, periods: int, hot: bool) -> tuple[np.ndarray, Grid]:
    grid = Grid(0, 0, 100, 30, 30)
    rate = np.full(grid.shape, 0.5)
    if hot:
        rate[10:13, 20:23] = 12.0  # a persistent hot spot of 9 cells (1 % of the area)
    return rng.poisson(rate, size=(periods, *grid.shape)).astype(float), grid


@pytest.mark.parametrize("method", ["count", "kde", "gistar"])
def test_planted_persistent_hotspot_gives_pai_well_above_one(method: str) -> None:
    cube, grid = _cube(np.random.default_rng(3), 12, hot=True)
    summary = he.summarise(he.evaluate_cube(cube, grid, method, window=6, shares=[0.01, 0.05]))
    at_1 = summary[(summary["share"] == 0.01) & (summary["model"] == "method")].iloc[0]
    # 9 hot cells hold 108 of ~550 events a period: a hit rate near 0.2 on 1 % of the area is a PAI near 20
    assert at_1["pai"] > 10, summary
    naive = summary[(summary["share"] == 0.05) & (summary["model"] == "naive")].iloc[0]
    assert naive["pai"] > 3


@pytest.mark.parametrize("method", ["count", "kde", "gistar"])
def test_spatially_random_data_gives_pai_near_one(method: str) -> None:
    cube, grid = _cube(np.random.default_rng(4), 40, hot=False)
    summary = he.summarise(he.evaluate_cube(cube, grid, method, window=6, shares=[0.05]))
    for model in ("method", "naive"):
        pai = summary.loc[summary["model"] == model, "pai"].iloc[0]
        assert 0.75 < pai < 1.25, (model, pai)


def test_evaluation_of_many_periods_is_fast() -> None:
    cube, grid = _cube(np.random.default_rng(5), 30, hot=True)
    start = time.perf_counter()
    he.evaluate_cube(cube, grid, "gistar", window=6)
    assert time.perf_counter() - start < 3


def test_mann_kendall_matches_pymannkendall() -> None:
    rng = np.random.default_rng(7)
    series = np.vstack([rng.normal(size=12), np.arange(12) + rng.normal(0, 2, 12), np.r_[np.ones(6), np.zeros(6)],
                        np.round(rng.normal(size=12), 0)])  # the last two have ties
    s, tau, z, p = em.mann_kendall(series)
    for i, row in enumerate(series):
        ref = pymannkendall.original_test(row)
        assert s[i] == ref.s and z[i] == pytest.approx(ref.z) and p[i] == pytest.approx(ref.p)
        assert tau[i] == pytest.approx(ref.Tau)


GRID = Grid(0, 0, 100, 15, 15)
BACKGROUND = np.random.default_rng(1).poisson(5, GRID.shape).astype(float)


def _pattern_cube(pattern: str) -> np.ndarray:
    """A 15 x 15 cube over len(pattern) periods; the 3 x 3 block at the centre is per period: ``H`` high (40),
    ``.`` like its surroundings (5), ``C`` empty (a cold spot), ``I``/``D`` rising/falling (12 + 2t)."""
    n = len(pattern)
    cube = np.full((n, *GRID.shape), 5.0)
    for t, ch in enumerate(pattern):
        if ch in "ID":
            cube[t] = BACKGROUND
            cube[t, 6:9, 6:9] = 12 + 2 * (t if ch == "I" else n - t)
        elif ch == "H":
            cube[t, 6:9, 6:9] = 40
        elif ch == "C":
            cube[t, 6:9, 6:9] = 0
    return cube


@pytest.mark.parametrize(("pattern", "expected"), [
    (".........H", "ny"),
    (".......HHH", "sammanhangande"),
    ("IIIIIIIIII", "intensifierande"),
    ("HHHHHHHHHH", "bestaende"),
    ("DDDDDDDDDD", "avtagande"),
    ("H..H..H..H", "sporadisk"),
    ("C..H.C..HH", "oscillerande"),
    ("HHHHHHHHH.", "historisk"),
    ("..........", "inget_monster"),
])
def test_each_emerging_class_on_a_cube_built_to_have_it(pattern: str, expected: str) -> None:
    frame = em.emerging_hotspots(_pattern_cube(pattern), GRID)
    centre = frame[(frame["row"] == 7) & (frame["col"] == 7)].iloc[0]
    assert centre["emerging"] == expected, centre.to_dict()
    far = frame[(frame["row"] == 0) & (frame["col"] == 0)].iloc[0]
    assert far["emerging"] == "inget_monster"


def test_emerging_needs_three_periods() -> None:
    with pytest.raises(ValidationError, match="at least 3 periods"):
        em.emerging_hotspots(np.zeros((2, *GRID.shape)), GRID)

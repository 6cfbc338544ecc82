"""Did it help? The effect of an action against a control area, with displacement into a buffer around it.

Four areas, each counted in two equal windows (before / after the intervention date):

- target (R, "response area"), the buffer ring around it (B, where displaced events would go), the control
  area (C) and the buffer ring around the control area (CB, the displacement area's own control).

Bowers & Johnson (2003), as Guerette (2009, popcenter Tool Guide No. 10, "Analyzing Crime Displacement and
Diffusion", Appendix C) writes them (``b`` before, ``a`` after):

- success measure  ``SM = Ra/Ca − Rb/Cb`` (negative: the target fell more than the control)
- buffer measure   ``BM = Ba/Ca − Bb/Cb`` (positive: possible displacement, negative: diffusion of benefit)
- weighted displacement quotient ``WDQ = BM / SM`` (> 0 diffusion, between 0 and −1 some displacement but a net
  benefit, below −1 the benefit is eclipsed by displacement); undefined when SM = 0 or a control count is 0
- total net effect ``TNE = (Rb·Ca/Cb − Ra) + (Bb·Ca/Cb − Ba)``: events prevented in target and buffer together
  (positive: fewer events than the control's trend predicts)

Wheeler & Ratcliffe (2018, Crime Science 7:11), the weighted displacement difference with its standard error:

- ``WDD = (Ra − Rb) − (Ca − Cb) + (Ba − Bb) − (CBa − CBb)`` (negative: a reduction); the local part is the first
  two terms, the displacement part the last two.
- Under Poisson counts ``Var(WDD) = Rb + Ra + Cb + Ca + Bb + Ba + CBb + CBa``; ``z = WDD / √Var``, two-sided
  ``p`` from the normal distribution, confidence interval ``WDD ± z₁₋α/₂ · SE``.

Every function here takes arrays (one value per scenario, so a simulation of many seeds is one call) or plain
numbers; nothing reads the store.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats

from trygghetskarta.errors import ValidationError

FORMULA_VERSION = "trygghetskarta-effect/1 (Bowers & Johnson 2003 WDQ, TNE as Guerette 2009; " \
                  "Wheeler & Ratcliffe 2018 WDD, Poisson variance, normal test)"
MIN_EVENTS = 10  # fewer events in the target (before + after) than this: too few to say anything
DEFAULT_ALPHA = 0.05

ArrayLike = np.ndarray | float | int


@dataclass(frozen=True)
class EffectCounts:
    """Counts before (``*_before``) and after (``*_after``) in target, buffer, control and the control's buffer."""

    target_before: int
    target_after: int
    buffer_before: int = 0
    buffer_after: int = 0
    control_before: int = 0
    control_after: int = 0
    control_buffer_before: int = 0
    control_buffer_after: int = 0

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 0:
                msg = f"{name} must be a whole number of at least 0, got {value!r}"
                raise ValidationError(msg)

    def as_dict(self) -> dict[str, int]:
        return {k: int(v) for k, v in asdict(self).items()}


def _arr(x: ArrayLike) -> np.ndarray:
    return np.asarray(x, dtype=float)


def success_measure(rb: ArrayLike, ra: ArrayLike, cb: ArrayLike, ca: ArrayLike) -> np.ndarray:
    """``Ra/Ca − Rb/Cb``; NaN where a control count is 0."""
    rb, ra, cb, ca = map(_arr, (rb, ra, cb, ca))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = ra / ca - rb / cb
    return np.where((cb > 0) & (ca > 0), out, np.nan)


def buffer_measure(bb: ArrayLike, ba: ArrayLike, cb: ArrayLike, ca: ArrayLike) -> np.ndarray:
    """``Ba/Ca − Bb/Cb``; NaN where a control count is 0."""
    return success_measure(bb, ba, cb, ca)


def wdq(rb: ArrayLike, ra: ArrayLike, bb: ArrayLike, ba: ArrayLike, cb: ArrayLike, ca: ArrayLike) -> np.ndarray:
    """The weighted displacement quotient ``BM / SM``; NaN where it is undefined (SM = 0 or a control count 0)."""
    sm = success_measure(rb, ra, cb, ca)
    bm = buffer_measure(bb, ba, cb, ca)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = bm / sm
    return np.where(np.isfinite(sm) & (sm != 0), out, np.nan)


def total_net_effect(rb: ArrayLike, ra: ArrayLike, bb: ArrayLike, ba: ArrayLike, cb: ArrayLike,
                     ca: ArrayLike) -> np.ndarray:
    """``(Rb·Ca/Cb − Ra) + (Bb·Ca/Cb − Ba)``: events prevented in target and buffer; NaN where Cb = 0."""
    rb, ra, bb, ba, cb, ca = map(_arr, (rb, ra, bb, ba, cb, ca))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = ca / cb
        out = (rb * ratio - ra) + (bb * ratio - ba)
    return np.where(cb > 0, out, np.nan)


@dataclass(frozen=True)
class WDD:
    """The weighted displacement difference: local, displacement and total estimates with standard errors."""

    local: np.ndarray
    se_local: np.ndarray
    displacement: np.ndarray
    se_displacement: np.ndarray
    total: np.ndarray
    se_total: np.ndarray
    z: np.ndarray
    p: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray


def wdd(rb: ArrayLike, ra: ArrayLike, cb: ArrayLike, ca: ArrayLike, bb: ArrayLike = 0, ba: ArrayLike = 0,
        cbb: ArrayLike = 0, cba: ArrayLike = 0, *, alpha: float = DEFAULT_ALPHA) -> WDD:
    """Wheeler & Ratcliffe's WDD for target (rb, ra), control (cb, ca), buffer (bb, ba) and the buffer's
    control (cbb, cba); arrays broadcast, so one call evaluates many scenarios."""
    if not 0 < alpha < 1:
        msg = f"alpha must be between 0 and 1, got {alpha!r}"
        raise ValidationError(msg)
    rb, ra, cb, ca, bb, ba, cbb, cba = map(_arr, (rb, ra, cb, ca, bb, ba, cbb, cba))
    local = (ra - rb) - (ca - cb)
    var_local = rb + ra + cb + ca
    displacement = (ba - bb) - (cba - cbb)
    var_disp = bb + ba + cbb + cba
    total = local + displacement
    var_total = var_local + var_disp
    se_total = np.sqrt(var_total)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se_total > 0, total / se_total, 0.0)
    p = 2.0 * stats.norm.sf(np.abs(z))
    crit = stats.norm.ppf(1 - alpha / 2)
    return WDD(local=local, se_local=np.sqrt(var_local), displacement=displacement, se_displacement=np.sqrt(var_disp),
               total=total, se_total=se_total, z=z, p=p, ci_low=total - crit * se_total,
               ci_high=total + crit * se_total)


def _num(value: Any) -> float | None:
    v = float(np.asarray(value))
    return v if np.isfinite(v) else None


def estimate(counts: EffectCounts, *, alpha: float = DEFAULT_ALPHA) -> dict[str, Any]:
    """Every measure for one set of counts, as plain numbers (None where undefined), with ``formula_version``."""
    c = counts
    w = wdd(c.target_before, c.target_after, c.control_before, c.control_after, c.buffer_before, c.buffer_after,
            c.control_buffer_before, c.control_buffer_after, alpha=alpha)
    return {
        "formula_version": FORMULA_VERSION,
        "alpha": alpha,
        "success_measure": _num(success_measure(c.target_before, c.target_after, c.control_before,
                                                c.control_after)),
        "buffer_measure": _num(buffer_measure(c.buffer_before, c.buffer_after, c.control_before, c.control_after)),
        "wdq": _num(wdq(c.target_before, c.target_after, c.buffer_before, c.buffer_after, c.control_before,
                        c.control_after)),
        "total_net_effect": _num(total_net_effect(c.target_before, c.target_after, c.buffer_before,
                                                  c.buffer_after, c.control_before, c.control_after)),
        "wdd_local": _num(w.local), "wdd_local_se": _num(w.se_local),
        "wdd_displacement": _num(w.displacement), "wdd_displacement_se": _num(w.se_displacement),
        "wdd": _num(w.total), "wdd_se": _num(w.se_total), "z": _num(w.z), "p": _num(w.p),
        "ci_low": _num(w.ci_low), "ci_high": _num(w.ci_high),
    }


def _fmt(value: float, lang: str, decimals: int = 0) -> str:
    text = f"{value:.{decimals}f}"
    return text.replace(".", ",").replace("-", "−") if lang == "sv" else text


def _p(p: float, lang: str) -> str:
    text = "< 0,001" if lang == "sv" else "< 0.001"
    if p >= 0.001:
        text = "= " + (f"{p:.2f}" if p >= 0.01 else f"{p:.3f}")
        text = text.replace(".", ",") if lang == "sv" else text
    return text


def verdict(counts: EffectCounts, result: dict[str, Any], lang: str = "sv",
            min_events: int = MIN_EVENTS) -> str:
    """What the numbers can and cannot say, in plain words (Swedish or English), never a bare number."""
    sv = lang == "sv"
    n_target = counts.target_before + counts.target_after
    if n_target < min_events:
        return (f"För få händelser för att säga något ({n_target} i målområdet före och efter; minst {min_events} "
                "behövs)." if sv else
                f"Too few events to say anything ({n_target} in the target area before and after; at least "
                f"{min_events} are needed).")
    if counts.control_before + counts.control_after == 0:
        return ("Kontrollområdet har inga händelser, så det finns inget att jämföra med; välj ett annat "
                "kontrollområde." if sv else "The control area has no events, so there is nothing to compare "
                "with; choose another control area.")
    total, p = result["wdd"], result["p"]
    lo, hi = result["ci_low"], result["ci_high"]
    level = round((1 - result["alpha"]) * 100)
    fewer = total < 0
    if sv:
        direction = "Färre händelser än i kontrollområdet" if fewer else (
            "Fler händelser än i kontrollområdet" if total > 0 else "Samma utveckling som i kontrollområdet")
        size = (f" ({_fmt(abs(total), lang)} {'färre' if fewer else 'fler'} än kontrollområdets trend ger, "
                f"{level} % konfidensintervall {_fmt(lo, lang)} till {_fmt(hi, lang)})") if total else ""
        if p < result["alpha"]:
            text = f"{direction}{size}; skillnaden är knappast slump (p {_p(p, lang)})."
        else:
            text = f"{direction}{size}, men skillnaden kan vara slump (p {_p(p, lang)})."
    else:
        direction = "Fewer events than in the control area" if fewer else (
            "More events than in the control area" if total > 0 else "The same development as the control area")
        size = (f" ({_fmt(abs(total), lang)} {'fewer' if fewer else 'more'} than the control's trend predicts, "
                f"{level} % confidence interval {_fmt(lo, lang)} to {_fmt(hi, lang)})") if total else ""
        if p < result["alpha"]:
            text = f"{direction}{size}; the difference is unlikely to be chance (p {_p(p, lang)})."
        else:
            text = f"{direction}{size}, but the difference may be chance (p {_p(p, lang)})."
    q = result["wdq"]
    if q is not None and result["success_measure"] is not None and result["success_measure"] < 0:
        if q > 0:
            text += (" Omgivningen (bufferten) utvecklades också bättre än kontrollområdet: inget tecken på "
                     "förflyttning." if sv else
                     " The surroundings (buffer) also did better than the control area: no sign of displacement.")
        elif q < -1:
            text += (" Fler händelser i bufferten äter upp minskningen: tecken på förflyttning." if sv else
                     " More events in the buffer eclipse the reduction: signs of displacement.")
        elif q < 0:
            text += (" Något fler händelser i bufferten, men mindre än minskningen." if sv else
                     " Slightly more events in the buffer, but less than the reduction.")
    text += (" Siffrorna visar vad som hände före och efter jämfört med kontrollområdet, inte säkert varför; de "
             "förutsätter att kontrollområdet följer samma trend som målområdet." if sv else
             " The numbers show what happened before and after against the control area, not for certain why; "
             "they assume the control area follows the target area's trend.")
    return text

"""When will a signal reach its limits? A trend fitted to its recent history, and the
rule for when to say nothing.

The fit
    The window is the last :data:`WINDOW_S` of history, from the last jump on (a
    change between two samples far beyond the signal's noise that the next samples
    keep, such as a valve opening: a fit across it would read the jump as a drift; a
    spike that comes back is no jump). Two models are fitted:

    - **linear**, Theil-Sen (the median of the slopes between all pairs of points,
      ``scipy.stats.theilslopes``): a few spikes cannot tilt it, and it gives a
      confidence interval of the slope;
    - **exponential**, ``c + b * exp(k * t)``: with ``k > 0`` a run-away (a bearing or
      winding heating itself: the rise accelerates, and a line would put the limit
      too late); with ``k < 0`` a value **settling** towards ``c`` (a machine warming
      up after a start: a line would extrapolate the warm-up into a false alarm).
      ``k`` is searched on a grid (time constants from a twentieth of the window to
      twice it, either sign), ``c`` and ``b`` by least squares for each.

    A fit must pass through the latest values (the mean of its residuals over the last
    tenth of the window within three noise sigmas of zero): one that misses them (a
    warm-up that settled, then a fault that starts to heat) is tried again on the
    recent half of the window, then the recent quarter (:data:`SHORTER`).

    The exponential is chosen only when it explains the curvature clearly better
    than a least-squares line (F statistic of the extra parameter above
    :data:`F_EXPONENTIAL`); otherwise the line, which extrapolates more cautiously
    than a run-away. A settling value is predicted to cross a limit only if it
    settles beyond it.

The honesty rule: no prediction when
    - the value is not live (stale, offline, no data, last known);
    - the window holds fewer than :data:`MIN_POINTS` points or spans less than
      :data:`MIN_SPAN_S`;
    - the trend is not significant: the slope's 99 % interval contains zero, or the
      trend moves the value by less than :data:`MIN_MOVE` times its noise over the
      window (noise: the median absolute deviation of the fit's residuals);
    - the fit is poor: it explains less than :data:`MIN_R2` of the variance;
    - the limit is behind the trend (the value moves away from it) or already
      crossed (the alarm says so), or further ahead than :data:`HORIZON` times the
      window's span: no extrapolation far beyond what was seen.

The range
    Linear: the crossing times of the slope's 95 % interval, with the value now
    uncertain by two standard errors. Exponential: the crossing times of every ``k``
    whose fit is within the 95 % profile-likelihood bound of the best. Either way at
    least :data:`MIN_RANGE` of the time on each side: the statistics assume the model
    is exactly right, which a machine's drift never quite is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

WINDOW_S = 1800.0  # seconds of history fitted
MIN_POINTS = 20
MIN_SPAN_S = 120.0
MIN_MOVE = 3.0  # the trend moves the value by this many noise sigmas over the window
MIN_R2 = 0.5
HORIZON = 4.0  # predict at most this many window spans ahead
MIN_RANGE = 0.1  # a range is never narrower than this share of the time either way
SHORTER = (1.0, 0.5, 0.25)  # shares of the window fitted in turn while a fit misses the latest values
F_EXPONENTIAL = 10.0
JUMP_SIGMAS = 8.0  # a change between samples beyond this many noise sigmas starts a new window
CLOCK_SKEW_S = 300.0  # samples stamped up to this far ahead of now count as now
MAX_POINTS = 200  # a longer window is thinned to this many points (Theil-Sen is quadratic)
_K_STEPS = 48
_KEEP = 5  # samples after a jump that must stay at its new level


@dataclass(frozen=True)
class Crossing:
    """When a limit is reached: ``eta`` seconds from now, likely between ``low`` and ``high``."""

    limit: str  # e.g. "alarm_high"
    level: float
    eta: float
    low: float
    high: float

    def describe(self, brief: bool = False) -> str:
        """As a technician reads it: ``"alarm in ~35 min (25–50)"`` (``brief``: without the range)."""
        what = "alarm" if self.limit.startswith("alarm") else "warning"
        scale, unit = next((s, u) for s, u in ((3600.0, "h"), (60.0, "min"), (1.0, "s"))
                           if self.eta >= 1.5 * s or s == 1.0)
        digits = 1 if unit == "h" or (unit == "min" and self.high / scale < 10) else 0  # not "2 min (2–2)"
        high = "?" if self.high == float("inf") else f"{self.high / scale:.{digits}f}"
        text = f"{what} in ~{self.eta / scale:.{digits}f} {unit}"
        return text if brief else f"{text} ({self.low / scale:.{digits}f}–{high})"

    def as_dict(self) -> dict:
        """Plain types, for ``watch --json``: seconds from the fit."""
        return {"limit": self.limit, "level": self.level, "in_s": round(self.eta, 1),
                "low_s": round(self.low, 1), "high_s": None if self.high == float("inf") else round(self.high, 1)}


@dataclass(frozen=True)
class Forecast:
    """What the trend says, or why it says nothing (``reason``)."""

    model: str | None = None  # "linear", "exponential" or "settling"; None: no significant trend
    rate: float | None = None  # per second, now
    crossings: list[Crossing] = field(default_factory=list)  # soonest first
    reason: str = ""  # why there is no crossing, e.g. "no significant trend"
    ahead: np.ndarray | None = field(default=None, repr=False)  # (k, 2): seconds from the fit, fitted value

    @property
    def next(self) -> Crossing | None:
        """The soonest crossing, if any."""
        return self.crossings[0] if self.crossings else None

    def as_dict(self) -> dict:
        """Plain types, for ``watch --json``: rate per minute, crossings soonest first."""
        return {"model": self.model, "rate_per_min": None if self.rate is None else round(self.rate * 60, 6),
                "crossings": [c.as_dict() for c in self.crossings], "reason": self.reason}


def forecast(t, values, limits: dict[str, float], now: float, live: bool = True) -> Forecast:
    """Fit the recent history and predict when each limit is crossed (see the module).

    Parameters
    ----------
    t, values : array_like
        The signal's history, oldest first (epoch seconds; bucket means count as points).
    limits : dict of str to float
        Limit name (``alarm_high``, ``warn_low``...) -> level, in the values' unit.
    now : float
        Epoch seconds.
    live : bool
        Whether the value is live now; no prediction otherwise.

    Returns
    -------
    Forecast
    """
    if not live:
        return Forecast(reason="not live")
    t, v = np.asarray(t, float), np.asarray(values, float)
    order = np.argsort(t, kind="stable")  # a late sample arrives last but belongs where its time is
    t, v = t[order], v[order]
    if len(t) and now < t[-1] <= now + CLOCK_SKEW_S:
        now = float(t[-1])  # a device clock a little ahead of ours
    keep = (t > now - WINDOW_S) & (t <= now) & np.isfinite(v)
    t, v = t[keep], v[keep]
    if len(v) > 2:
        t, v = _after_last_jump(t, v)
    result = Forecast(reason="too few points")
    for share in SHORTER:  # the whole window, then its recent part while a fit misses the latest values
        recent = t >= t[-1] - share * (t[-1] - t[0]) if len(t) else np.zeros(0, bool)
        if recent.sum() < MIN_POINTS or t[-1] - t[recent][0] < MIN_SPAN_S:
            break
        result = _fit(t[recent], v[recent], limits, now)
        if result.reason not in ("poor fit", "misses the latest values"):
            break
    return result


def _fit(t: np.ndarray, v: np.ndarray, limits: dict[str, float], now: float) -> Forecast:
    """The forecast from one window (see :func:`forecast`)."""
    if len(v) > MAX_POINTS:
        pick = np.linspace(0, len(v) - 1, MAX_POINTS).round().astype(int)
        t, v = t[pick], v[pick]
    x = t - now  # seconds, now at 0
    span = x[-1] - x[0]
    from scipy.stats import theilslopes  # scipy.stats takes a third of a second to import

    slope, intercept, low99, high99 = theilslopes(v, x, alpha=0.99)
    residual = v - (intercept + slope * x)
    noise = 1.4826 * np.median(np.abs(residual - np.median(residual)))
    variance = float(np.var(v))
    if low99 <= 0 <= high99 or abs(slope) * span < MIN_MOVE * max(noise, 1e-12):
        return Forecast(reason="no significant trend")
    if variance == 0 or 1 - float(residual @ residual) / (variance * len(v)) < MIN_R2:
        return Forecast(reason="poor fit")

    exp = _exponential(x, v, slope)
    ols = v - np.polyval(np.polyfit(x, v, 1), x)  # least squares, as the exponential: nested models compare
    sse_line = float(ols @ ols)
    if exp is not None and (sse_line - exp[0]) / (exp[0] / (len(v) - 3)) > F_EXPONENTIAL:
        (c, b, ref), k = exp[2], exp[3]
        model, rate = "exponential" if k > 0 else "settling", exp[1]
        curve = lambda dx: c + b * np.exp(k * (dx - ref))  # noqa: E731
    else:
        model, rate = "linear", float(slope)
        curve = lambda dx: intercept + slope * dx  # noqa: E731
    last = max(5, len(v) // 10)  # the latest values: the fit must pass through them, not beside them
    bias = abs(float(np.mean(v[-last:] - curve(x[-last:]))))
    if bias > 3 * max(noise, 1e-12) / np.sqrt(last) + 0.05 * abs(rate) * span:
        return Forecast(reason="misses the latest values")

    rising = rate > 0  # the limits it moves towards and has not crossed: a value coming back crosses none
    ahead = {name: level for name, level in limits.items()
             if name.endswith("_high") == rising and (v[-1] < level if rising else v[-1] > level)}
    if model != "linear":
        crossings = [c for c in (_exp_crossing(name, level, exp, len(v)) for name, level in ahead.items()) if c]
    else:
        _, _, low95, high95 = theilslopes(v, x, alpha=0.95)
        # the value now is known to about this much (the standard error of a line at x = 0)
        now_error = 2 * noise * np.sqrt(1 / len(x) + x.mean() ** 2 / ((x - x.mean()) ** 2).sum())
        crossings = [c for c in (_line_crossing(name, level, intercept, now_error, slope, low95, high95)
                                 for name, level in ahead.items()) if c]
    crossings = sorted((_widened(c) for c in crossings if c.eta <= HORIZON * span), key=lambda c: c.eta)
    reason = "" if crossings else "no limit ahead within reach"
    # the fitted curve from now to the last crossing (or a window's span), for a trend to draw
    dx = np.linspace(0.0, max((c.eta for c in crossings), default=span), 32)
    return Forecast(model, rate, crossings, reason, np.c_[dx, curve(dx)])


def _widened(c: Crossing) -> Crossing:
    """At least +-:data:`MIN_RANGE` of the time: the statistical range assumes the model is
    exactly right, which a machine's drift never quite is."""
    return Crossing(c.limit, c.level, c.eta, min(c.low, c.eta * (1 - MIN_RANGE)), max(c.high, c.eta * (1 + MIN_RANGE)))


def _after_last_jump(t: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The samples after the last jump: a change between two samples far beyond the
    noise of the changes that the next samples keep (a spike comes back: not a jump).

    Changes are compared as rates (per second), so a 10-second bucket's change and a raw
    sample's weigh alike; the noise is at least the signal's resolution (a value reported
    in 0.1 steps changes by 0 or 0.1, and a 0.1 step is no jump)."""
    d = np.diff(v)
    steps_t = np.diff(t)
    dt = np.maximum(steps_t, max(float(np.median(steps_t)), 1e-3))  # two samples at one time: no infinite rate
    rate = d / dt
    centre = np.median(rate)
    steps = np.abs(d[d != 0])
    resolution = (steps.min() if len(steps) else 0.0) / np.median(dt)
    spread = max(1.4826 * np.median(np.abs(rate - centre)), 2 * resolution, 1e-12)
    for i in np.flatnonzero(np.abs(rate - centre) > JUMP_SIGMAS * spread)[::-1]:
        before, after = v[max(i - _KEEP + 1, 0):i + 1], v[i + 1:i + 1 + _KEEP]
        if abs(np.median(after) - np.median(before)) > abs(d[i]) / 2:
            return t[i + 1:], v[i + 1:]
    return t, v


def _exponential(x: np.ndarray, v: np.ndarray, slope: float):
    """Best ``c + b exp(k (x - ref))`` along ``slope``, run-away (k > 0) or settling
    (k < 0): (sse, rate now, (c, b, ref), k, sse per k, ks, fits per k)."""
    span = x[-1] - x[0]
    rates = 1.0 / np.geomspace(2 * span, span / 20, _K_STEPS)  # slow to fast
    ks = np.r_[-rates, rates]
    sses, fits = _exp_fits(x, v, slope, ks)
    if not np.isfinite(sses).any():
        return None
    best = ks[int(np.argmin(sses))]  # then finely around it (same sign), for the range
    ks = np.geomspace(best * 0.4, best / 0.4, 2 * _K_STEPS)  # wide enough to hold the 95 % bound
    sses, fits = _exp_fits(x, v, slope, ks)
    i = int(np.argmin(sses))
    c, b, ref = fits[i]
    return sses[i], float(b * ks[i] * np.exp(-ks[i] * ref)), fits[i], ks[i], sses, ks, fits


def _exp_fits(x, v, slope, ks):
    """Least-squares ``c, b`` and the squared error for each ``k`` (inf: not along
    ``slope``), all ``k`` at once through the 2x2 normal equations. The exponential is
    taken from where it is at most 1 (now for a run-away, the window's start for a
    settling), so that no power overflows."""
    refs = np.where(ks > 0, 0.0, x[0])
    e = np.exp(ks[:, None] * (x[None, :] - refs[:, None]))  # k x n
    n, se, sv = len(x), e.sum(axis=1), v.sum()
    see, sev = (e * e).sum(axis=1), e @ v
    det = n * see - se * se
    with np.errstate(divide="ignore", invalid="ignore"):
        b = (n * sev - se * sv) / det
    c = (sv - b * se) / n
    residual = v - c[:, None] - b[:, None] * e
    along = (np.sign(b * ks) == np.sign(slope)) & np.isfinite(b)  # moving the way the trend does
    sses = np.where(along, (residual * residual).sum(axis=1), np.inf)
    return sses, list(zip(c, b, refs))


def _line_crossing(name, level, at_now, error, slope, low, high) -> Crossing | None:
    gap = level - at_now
    if gap * slope <= 0:  # behind the trend, or crossed already
        return None
    near, far = max(abs(gap) - error, 0.0), abs(gap) + error
    steep, shallow = max(abs(low), abs(high)), min(abs(low), abs(high))
    unbounded = low * high <= 0  # the interval reaches a flat or opposite slope
    return Crossing(name, float(level), float(gap / slope), float(near / steep),
                    float("inf") if unbounded else float(far / shallow))


def _exp_crossing(name, level, exp, n) -> Crossing | None:
    sse, _, best, k, sses, ks, fits = exp
    bound = sse * (1 + 4.0 / (n - 3))  # ~95 %: F(1, n-3) near 4
    etas = [eta for i in np.flatnonzero(sses <= bound) if (eta := _exp_eta(level, *fits[i], ks[i])) is not None]
    eta = _exp_eta(level, *best, k)
    if eta is None or not etas:
        return None
    return Crossing(name, float(level), eta, float(min(etas)), float(max(etas)))


def _exp_eta(level, c, b, ref, k) -> float | None:
    """When ``c + b exp(k (x - ref))`` reaches ``level``, ahead of now; None: never."""
    ratio = (level - c) / b
    if ratio <= 0:
        return None  # a settling value stops short of it, or the curve moves away
    eta = ref + float(np.log(ratio)) / k
    return eta if eta > 0 else None

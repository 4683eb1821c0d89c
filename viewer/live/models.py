"""Behaviour models at run time: model signals computed from the values just decoded.

A model is computed when one of its inputs has a new value, at that value's time, in
an order where each model comes after those it reads (see :mod:`viewer.twin.models`);
it has no value until every input has one. Its state steps with the time between its
evaluations:

- ``lag``: the exact response of a first-order lag to an input that moves in a
  straight line between samples (so a ramp is followed without error at any sample
  rate); it starts at its first input, as a machine that was already running.
- ``integrate``: the trapezoidal rule, from zero.
- ``average``: the time-weighted mean over the window (the integral's change over it).
- ``rate``: the least-squares slope over the window, per second: a differentiated
  noisy signal would be mostly noise.

The windows keep a point per 1/200 of their length, so their memory does not grow with
the input's rate.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from viewer.live.updates import DecodeError, Update
from viewer.live.payload import PayloadError, to_number
from viewer.twin.models import ModelDef, evaluation_order

_POINTS = 200  # points a window keeps over its length


class _Lag:
    def __init__(self, tau: float):
        self.tau, self.t, self.u, self.y = tau, None, 0.0, 0.0

    def step(self, t: float, u: float) -> float:
        if self.t is None:
            self.y = u
        elif t > self.t:
            a = (t - self.t) / self.tau
            decay, rise = math.exp(-a), -math.expm1(-a) / a  # rise: the mean of 1 - decay over the step
            self.y = decay * self.y + (1.0 - rise) * u + (rise - decay) * self.u
        self.t, self.u = t if self.t is None else max(t, self.t), u
        return self.y


class _Integral:
    def __init__(self):
        self.t, self.u, self.y = None, 0.0, 0.0

    def step(self, t: float, u: float) -> float:
        if self.t is not None and t > self.t:
            self.y += 0.5 * (self.u + u) * (t - self.t)
        self.t, self.u = t if self.t is None else max(t, self.t), u
        return self.y


class _Window:
    """Points (t, x) over the last ``seconds``, one per 1/200 of it (the newest replaces
    the last point until the next is due), and the one just before the window."""

    def __init__(self, seconds: float):
        self.seconds, self.points = seconds, deque()

    def add(self, t: float, x: float) -> None:
        points = self.points
        if len(points) >= 2 and t - points[-2][0] < self.seconds / _POINTS:
            points[-1] = (t, x)
        else:
            points.append((t, x))
        while len(points) > 2 and points[1][0] <= t - self.seconds:
            points.popleft()

    def at(self, t: float) -> tuple[float, float]:
        """``(time, x)`` at ``t`` interpolated, or the oldest point if ``t`` is before it."""
        (t0, x0), *rest = self.points
        if t <= t0 or not rest:
            return t0, x0
        t1, x1 = rest[0]
        return t, x0 + (x1 - x0) * (t - t0) / (t1 - t0)


class _Average:
    def __init__(self, seconds: float):
        self.integral, self.window = _Integral(), _Window(seconds)

    def step(self, t: float, u: float) -> float:
        total = self.integral.step(t, u)
        t = self.integral.t
        self.window.add(t, total)
        start, before = self.window.at(t - self.window.seconds)
        return u if t <= start else (total - before) / (t - start)


class _Rate:
    def __init__(self, seconds: float):
        self.window, self.last = _Window(seconds), None

    def step(self, t: float, u: float) -> float | None:
        t = t if self.last is None else max(t, self.last)
        self.last = t
        self.window.add(t, u)
        ts, xs = np.array(self.window.points).T
        keep = ts >= t - self.window.seconds
        ts, xs = ts[keep], xs[keep]
        if len(ts) < 2 or ts[-1] <= ts[0]:
            return None  # no rate from one instant
        ts = ts - ts.mean()
        return float(np.dot(ts, xs - xs.mean()) / np.dot(ts, ts))


_STATES = {"lag": _Lag, "average": _Average, "rate": _Rate, "integrate": lambda seconds: _Integral()}


class _Plain:
    @staticmethod
    def step(t: float, u: float) -> float:
        return u


class Models:
    """The model signals of a twin, computed from the updates of their inputs.

    Parameters
    ----------
    models : dict of str to ModelDef
        Model signal -> its checked model (a twin without cycles: the loader saw to it).
    """

    def __init__(self, models: dict[str, ModelDef]):
        self.defs = models
        self.order, _ = evaluation_order({name: m.inputs for name, m in models.items()})
        self.inputs = {i for m in models.values() for i in m.inputs}
        self.values: dict[str, float] = {}  # the latest value of every input and model
        self._state = {name: _STATES[m.kind](m.seconds) if m.kind else _Plain for name, m in models.items()}

    def derive(self, updates: list[Update], now: float) -> tuple[list[Update], list[DecodeError]]:
        """The model updates that ``updates`` (in order) cause, and the models that failed.

        A failed model (``sqrt`` of a negative value) keeps its last good value; the
        error says why, as a payload's would.
        """
        times: dict[str, float] = {}
        for u in updates:
            if u.signal in self.inputs:
                self.values[u.signal] = u.value
                times[u.signal] = max(times.get(u.signal, u.time), u.time)
        out, errors = [], []
        if not times:
            return out, errors
        for name in self.order:
            model = self.defs[name]
            moved = [times[i] for i in model.inputs if i in times]
            if not moved or any(i not in self.values for i in model.inputs):
                continue
            t = max(moved)
            try:
                value = self._state[name].step(t, model.expr(self.values))
                if value is None:
                    continue
                value = to_number(value * model.scale)  # NaN or infinity: an error, as in a payload
            except PayloadError as exc:
                errors.append(DecodeError(name, f"model gave {exc}", t))
                continue
            except (ArithmeticError, ValueError, TypeError) as exc:
                errors.append(DecodeError(name, f"model failed: {exc}", t))
                continue
            self.values[name] = value
            times[name] = t
            out.append(Update(name, value, t, now))
        return out, errors

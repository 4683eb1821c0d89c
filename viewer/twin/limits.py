"""A twin file's limits -> the alarms of its signals (specs for :mod:`viewer.alarms`).

Limits are written in the signal's unit or as quantities with their own ("95 degC"),
converted here once; states (``alarm_when: FAULT``) are turned into the numbers the
signal's ``map`` gives them. Every problem is reported with the key it is about.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass

import pint

from viewer.alarm_types import AlarmSpec, Severity
from viewer.twin.schema import BindingSpec, LimitsSpec, SignalSpec
from viewer.twin.units import UnitError, quantity

_LIMITS = ("alarm_low", "warn_low", "warn_high", "alarm_high")


@dataclass(frozen=True)
class AlarmDef:
    """One alarm of a twin: the signal it watches, the parts it shows on, its spec.

    ``id`` is the signal's name, or ``signal@part`` for a colour binding's own limits.
    """

    id: str
    signal: str
    spec: AlarmSpec
    parts: tuple[str, ...]
    limits: dict[str, float]  # the limits given, in the signal's unit, for marks and labels


class LimitProblem(ValueError):
    """A problem with one key of a limits mapping (``key`` None: the whole mapping)."""

    def __init__(self, key: str | None, message: str):
        super().__init__(message)
        self.key = key


def twin_alarms(bindings: list[BindingSpec], signals: dict[str, SignalSpec], conversions: dict,
                error) -> list[AlarmDef]:
    """An alarm per signal with limits, shown on the parts bound to it, and one per colour
    binding with limits of its own; each colour range must reach the limits it shows.

    Parameters
    ----------
    bindings, signals
        The twin's, as loaded (signals by name).
    conversions : dict
        ``(binding index, signal) -> (scale, offset)`` into the binding's unit.
    error : callable
        ``error(location, message)`` for each problem, ``location`` a key path.
    """
    shown_on: dict[str, list[int]] = {}  # signal -> bindings that show it
    for i, b in enumerate(bindings):
        for name in set(b.signals) & signals.keys():
            shown_on.setdefault(name, []).append(i)
        if b.limits is not None and b.kind != "colour":
            error(("bindings", i, "limits"), f"only a colour binding has limits of its own; put them on "
                  f"the signal {b.signal!r}" if b.signal else "only a colour binding has limits of its own")
    alarms = []
    for name, signal in signals.items():
        if signal.limits is not None:
            indices = [i for i in shown_on.get(name, []) if bindings[i].limits is None]
            alarms += _alarm(name, name, ("signals", name, "limits"), signal, signal.limits, indices, bindings,
                             conversions, error)
    for i, b in enumerate(bindings):
        if b.kind == "colour" and b.limits is not None and b.signal in signals:
            alarms += _alarm(f"{b.signal}@{b.part}", b.signal, ("bindings", i, "limits"), signals[b.signal],
                             b.limits, [i], bindings, conversions, error)
    return alarms


def _alarm(id_: str, name: str, loc: tuple, signal: SignalSpec, limits: LimitsSpec, indices: list[int],
           bindings: list[BindingSpec], conversions: dict, error) -> list[AlarmDef]:
    spec, values, problems = alarm_spec(name, signal, limits)
    for problem in problems:
        error(loc + ((problem.key,) if problem.key else ()), str(problem))
    for i in indices:
        b = bindings[i]
        if b.kind == "colour":
            scale, offset = conversions.get((i, name), (1.0, 0.0))
            _check_reach(("bindings", i, "range"), name, b.range, {k: v * scale + offset for k, v in values.items()},
                         error)
    if spec is None:
        return []
    parts = tuple(dict.fromkeys(bindings[i].part for i in indices))
    return [AlarmDef(id_, name, spec, parts, values)]


def _check_reach(loc: tuple, name: str, range_, limits: dict[str, float], error) -> None:
    """A colour range must reach the limits its colours stand for: a limit beyond it
    would be drawn in the same colour as the range's end."""
    low, high = range_
    beyond = {key: v for key, v in limits.items() if not low <= v <= high}
    if not beyond:
        return
    lo, hi = min(low, *limits.values()), max(high, *limits.values())
    step = 10.0 ** math.floor(math.log10(hi - lo)) / 2  # a round number, a little beyond the limit
    suggestion = [math.floor((lo - step / 2) / step) * step if lo < low else low,
                  math.ceil((hi + step / 2) / step) * step if hi > high else high]
    listed = ", ".join(f"{key} {v:g}" for key, v in beyond.items())
    error(loc, f"range [{low:g}, {high:g}] does not reach {listed} of {name}: its colour could not show the "
          f"limit (e.g. range: [{suggestion[0]:g}, {suggestion[1]:g}])")


def alarm_spec(name: str, signal: SignalSpec, limits: LimitsSpec) -> tuple[AlarmSpec, dict[str, float],
                                                                           list[LimitProblem]]:
    """The alarm spec of ``limits`` on signal ``name``, its limits as numbers, and every
    problem found (the spec is None when there are problems)."""
    problems: list[LimitProblem] = []
    values: dict[str, float] = {}
    for key in _LIMITS:
        raw = getattr(limits, key)
        if raw is not None:
            try:
                values[key] = _in_unit(raw, signal.unit, difference=False)
            except LimitProblem as exc:
                problems.append(LimitProblem(key, f"signal {name} {key}: {exc}"))
    try:
        deadband = _in_unit(limits.deadband, signal.unit, difference=True)
    except LimitProblem as exc:
        problems.append(LimitProblem("deadband", f"signal {name} deadband: {exc}"))
        deadband = 0.0
    states = {}
    for key in ("alarm_when", "warn_when"):
        raw = getattr(limits, key)
        if raw is not None:
            try:
                states[key] = frozenset(_state(v, signal) for v in (raw if isinstance(raw, list) else [raw]))
            except LimitProblem as exc:
                problems.append(LimitProblem(key, f"signal {name} {key}: {exc}"))
    if problems:
        return None, values, problems
    try:
        spec = AlarmSpec(**values, deadband=deadband, on_delay=limits.on_delay, off_delay=limits.off_delay,
                         **states, on_stale=_severity(limits.on_stale), on_offline=_severity(limits.on_offline))
    except ValueError as exc:  # limits out of order, a deadband wider than the gap: all listed
        return None, values, [LimitProblem(None, f"signal {name} limits: {exc}")]
    return spec, values, []


def _severity(name: str | None) -> Severity | None:
    return None if name is None else Severity[name.upper()]


def _in_unit(raw, unit: str, difference: bool) -> float:
    """``raw`` (a number in ``unit``, or a quantity text) as a number in ``unit``. A
    ``difference`` (a deadband) converts as one: 2 degC is 3.6 degF, not 35.6."""
    if not isinstance(raw, str):
        value = float(raw)
    else:
        try:
            q = quantity(raw)
        except UnitError as exc:
            raise LimitProblem(None, str(exc)) from None
        if q.unitless:
            value = float(q.magnitude)
        elif not unit:
            raise LimitProblem(None, f"{raw!r} has a unit, but the signal has none: give a plain number "
                                     "or set the signal's unit")
        else:
            try:
                value = float(q.to(unit).magnitude)
                if difference:
                    value -= float((0 * q).to(unit).magnitude)
            except pint.errors.DimensionalityError:
                raise LimitProblem(None, f"{raw!r} cannot be compared with the signal's unit {unit!r}") from None
    if not math.isfinite(value):
        raise LimitProblem(None, f"{raw!r} is not a finite number")
    return value


def _state(value, signal: SignalSpec) -> float:
    """A state as the number the signal's value will be: through ``map`` for texts."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        if signal.map is None:
            raise LimitProblem(None, f"{value!r} is a text, but the signal has no map from texts to numbers")
        if value not in signal.map:
            close = difflib.get_close_matches(value, list(signal.map), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (it knows {', '.join(signal.map)})"
            raise LimitProblem(None, f"{value!r} is not in the signal's map{hint}")
        return float(signal.map[value])
    return float(value)

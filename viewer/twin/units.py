"""Units (pint): checked when a twin loads, converted for bindings and labels.

A conversion is affine (degC -> degF has an offset), so it is computed once as
``value * scale + offset`` and costs nothing per frame.
"""

from __future__ import annotations

from functools import cache

import pint


class UnitError(ValueError):
    """A unit that is unknown, or a conversion between incompatible units."""


@cache
def _registry() -> pint.UnitRegistry:
    return pint.UnitRegistry(autoconvert_offset_to_baseunit=True)


def check_unit(unit: str) -> None:
    """Raise :class:`UnitError` if ``unit`` is not a unit pint knows ("" is fine)."""
    if unit:
        try:
            _registry().Unit(unit)
        except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError, AssertionError,
                ValueError, TypeError, AttributeError) as exc:
            raise UnitError(f"unknown unit {unit!r} ({exc})") from None


def conversion(source: str, target: str) -> tuple[float, float]:
    """``(scale, offset)`` turning values in ``source`` into ``target``."""
    check_unit(source)
    check_unit(target)
    if not source:
        raise UnitError(f"the signal has no unit to convert to {target!r}")
    q = _registry().Quantity
    try:
        zero = q(0.0, source).to(target).magnitude
        one = q(1.0, source).to(target).magnitude
    except pint.errors.DimensionalityError:
        raise UnitError(f"cannot convert {source!r} to {target!r}") from None
    return float(one - zero), float(zero)


#: The unit each motion binding moves in, as users write it.
MOTION_UNITS = {"rotate": "deg", "translate": "m", "spin": "rpm"}
_TWO_PI = 6.283185307179586


def motion_scale(kind: str, unit: str) -> float | None:
    """Factor from a signal in ``unit`` to what a ``kind`` binding moves by (degrees,
    metres or rev/min); None for a plain number (no unit, %, counts), taken as it is.

    Raises
    ------
    UnitError
        If ``unit`` does not measure what the binding moves (an angle, a length, a speed
        of turning), e.g. a rotation driven by a temperature.
    """
    if not unit:
        return None
    check_unit(unit)
    factor, root = _registry().get_root_units(unit)
    base = dict(root._units)  # e.g. {"radian": 1, "second": -1} for rpm
    if "radian" not in base and _registry().Unit(unit).dimensionless:
        return None  # %, counts: the binding's scale says what they mean
    if kind == "rotate" and base == {"radian": 1}:
        return factor * 360.0 / _TWO_PI
    if kind == "translate" and base == {"meter": 1}:
        return factor
    if kind == "spin" and base == {"radian": 1, "second": -1}:
        return factor * 60.0 / _TWO_PI
    if kind == "spin" and base == {"second": -1}:  # Hz, 1/min: turns per unit of time
        return factor * 60.0
    wanted = {"rotate": "an angle (deg, rad, turn)", "translate": "a length (m, mm, in)",
              "spin": "a speed of turning (rpm, rad/s, Hz)"}[kind]
    raise UnitError(f"a {kind} binding needs {wanted} or a plain number, not {unit!r}")

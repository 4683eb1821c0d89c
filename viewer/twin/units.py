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

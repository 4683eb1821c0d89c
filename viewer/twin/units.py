"""Units (pint): checked when a twin loads, converted for bindings and labels.

A conversion is affine (degC -> degF has an offset), so it is computed once as
``value * scale + offset`` and costs nothing per frame.
"""

from __future__ import annotations

import difflib
from functools import cache

import pint

from meshes.cache import cache_dir


class UnitError(ValueError):
    """A unit that is unknown, or a conversion between incompatible units."""


@cache
def registry() -> pint.UnitRegistry:
    """The unit registry (one per process)."""
    # pint parses its definitions file at every start (0.1-0.2 s); its own cache of the
    # parsed result, beside the mesh cache, makes that 20 ms.
    folder = cache_dir()
    if folder is not None:
        try:
            return pint.UnitRegistry(autoconvert_offset_to_baseunit=True, cache_folder=folder / ".units")
        except Exception:  # an unwritable or damaged cache costs only the time
            pass
    return pint.UnitRegistry(autoconvert_offset_to_baseunit=True)


def check_unit(unit: str) -> None:
    """Raise :class:`UnitError` if ``unit`` is not a unit pint knows ("" is fine); the
    message suggests a known unit close to a mistyped one (degc: did you mean degC?)."""
    if unit:
        try:
            registry().Unit(unit)
        except pint.errors.UndefinedUnitError as exc:
            raise UnitError(f"unknown unit {unit!r}{_did_you_mean(unit, exc.unit_names)}") from None
        except Exception:  # pint's parser fails in many ways (TokenError for "bar(", ZeroDivisionError)
            raise UnitError(f"unknown unit {unit!r} (not a unit expression pint can read)") from None


def _did_you_mean(unit: str, undefined) -> str:
    """`` (did you mean 'degC'?)`` for the unknown part of ``unit``, or ``: 'x' is not a unit``."""
    names = undefined if isinstance(undefined, (tuple, list)) else (undefined,)
    piece = names[0] if len(names) == 1 else unit
    if piece not in unit:  # pint rewrote it (°c -> degreec): suggest for the whole text
        piece = unit
    close = _close_unit(piece)
    if close is not None:
        return f" (did you mean {unit.replace(piece, close, 1)!r}?)"
    return f": {piece!r} is not a unit" if piece != unit else ""


@cache
def _unit_names() -> dict[str, list[str]]:
    """Every unit name, symbol and alias pint knows, by its lower case."""
    by_lower: dict[str, list[str]] = {}
    for name in registry()._units:  # names, symbols and aliases alike
        by_lower.setdefault(name.lower(), []).append(name)
    return by_lower


def _close_unit(text: str) -> str | None:
    """A known unit ``text`` probably meant: the same in another case (degc, RPM), with
    a prefix (kpa -> kPa), a power written as a digit (m3 -> m³), or a near spelling."""
    names = _unit_names()
    if text.lower() in names:
        return names[text.lower()][0]
    prefixes = sorted((p for p in registry()._prefixes if p), key=len, reverse=True)
    for same_case in (True, False):  # MPA: mega (M) before milli (m)
        for prefix in prefixes:
            start, rest = text[:len(prefix)], text[len(prefix):].lower()
            if (start == prefix if same_case else start.lower() == prefix.lower()) and rest in names:
                return prefix + names[rest][0]
    base, power = text[:-1], text[-1:]
    if power in "23" and base and base.lower() in names:
        return names[base.lower()][0] + "²³"[int(power) - 2]
    if len(text) > 40:  # no unit is this long, and difflib's time grows with it
        return None
    close = difflib.get_close_matches(text, [n for group in names.values() for n in group], n=1, cutoff=0.8)
    return close[0] if close else None


def quantity(text: str) -> pint.Quantity:
    """A number with a unit, as a twin file writes it (``"95 degC"``, ``"7.1 mm/s"``, ``"3"``).

    Raises
    ------
    UnitError
        If the text is not a number followed by a unit pint knows.
    """
    number, _, unit = text.strip().partition(" ")
    try:
        magnitude = float(number)
    except ValueError:
        raise UnitError(f"{text!r} is not a number followed by a unit, e.g. '95 degC'") from None
    unit = unit.strip()
    check_unit(unit)
    return registry().Quantity(magnitude, unit or "")


def conversion(source: str, target: str) -> tuple[float, float]:
    """``(scale, offset)`` turning values in ``source`` into ``target``."""
    check_unit(source)
    check_unit(target)
    if not source:
        raise UnitError(f"the signal has no unit to convert to {target!r}")
    q = registry().Quantity
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
    factor, root = registry().get_root_units(unit)
    base = dict(root._units)  # e.g. {"radian": 1, "second": -1} for rpm
    if "radian" not in base and registry().Unit(unit).dimensionless:
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


def pretty_unit(unit: str) -> str:
    """A unit as people write it: ``degC`` -> ``°C``, ``m**3/h`` -> ``m³/h`` (pint's short
    pretty form; a unit pint does not know is shown as written)."""
    if not unit:
        return ""
    try:
        return format(quantity(f"1 {unit}").units, "~P")
    except UnitError:
        return unit

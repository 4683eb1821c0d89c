"""How values, units, limits and durations read in the window's tables (no Qt)."""

from __future__ import annotations

import string
import time

from viewer.twin.units import pretty_unit

NO_VALUE = "—"
_DEFAULT_FORMAT = ".4g"


def label_formats(twin) -> dict[str, str]:
    """Signal -> the number format its first label uses (``".1f"``), so tables show a
    value with the precision the twin's author chose for it."""
    formats: dict[str, str] = {}
    for b in twin.bindings:
        if b.kind != "label":
            continue
        try:
            fields = [(name, spec) for _, name, spec, _ in string.Formatter().parse(b.text) if name]
        except ValueError:
            continue
        for name, spec in fields:
            if spec and name not in formats:
                formats[name] = spec
    return formats


def format_number(value, spec: str = "") -> str:
    """``value`` with the format ``spec`` (default: 4 significant digits)."""
    if value is None:
        return NO_VALUE
    try:
        return format(value, spec or _DEFAULT_FORMAT)
    except (TypeError, ValueError):
        return str(value)


def format_value(signal, value, spec: str = "", with_unit: bool = True) -> str:
    """A signal's value as the plant names it: the state name of a mapped signal, else
    the number with its label's precision and (``with_unit``) its unit."""
    if value is None:
        return NO_VALUE
    if signal is not None and signal.spec.map:
        names = [name for name, number in signal.spec.map.items() if number == value]
        if names:
            return names[0]
    unit = pretty_unit(signal.unit) if (signal is not None and with_unit) else ""
    return format_number(value, spec) + (f" {unit}" if unit else "")


def format_duration(seconds: float) -> str:
    """``"42 s"``, ``"3 min 05 s"``, ``"2 h 07 min"``, ``"3 d 04 h"``."""
    s = max(int(seconds), 0)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    return f"{s // 86400} d {s % 86400 // 3600:02d} h"


def format_time(t: float | None, now: float | None = None) -> str:
    """A wall-clock time: ``"14:03:12"`` today, ``"12 Mar 14:03"`` another day."""
    if t is None:
        return ""
    now = time.time() if now is None else now
    local, today = time.localtime(t), time.localtime(now)
    if local[:3] == today[:3]:
        return time.strftime("%H:%M:%S", local)
    return time.strftime("%d %b %H:%M", local)

"""Label rule: a template such as ``"DE {temp:.1f} °C"`` -> the text shown (no VTK, so the
twin loader can check templates without a renderer)."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping


#: Shown in place of a value that has not arrived yet.
NO_VALUE = "—"
#: Marks of a limit above and below the value.
HIGH, LOW = "▲", "▼"
#: Marks of a value rising and falling.
RISING, FALLING = "↑", "↓"
_UNIT = re.compile(r" ?[^\s{},;]+(?=[\s,;]|$)")  # the word right after a value: its unit


def limit_mark(value: float | None, limits: Mapping[str, float]) -> str:
    """The limit a value is near or past, as shown after it on a label: ``"▲95"``.

    Once a value reaches its warning limit (``warn_high``, or ``alarm_high`` when there is
    no warning one), the mark shows the limit that raises the alarm (``alarm_high``, or
    ``warn_high`` when there is no alarm one): the limit it approaches while in warning,
    the one it passed while in alarm. The same below with ``warn_low``/``alarm_low`` and
    ``▼``. Nothing while the value is inside its limits.

    Parameters
    ----------
    value : float or None
        The value, in the same unit as ``limits``.
    limits : mapping
        Any of ``warn_high``, ``alarm_high``, ``warn_low``, ``alarm_low``.

    Returns
    -------
    str
        ``"▲95"``, ``"▼0.8"`` or ``""``.
    """
    if value is None or value != value:
        return ""
    for mark, warn, alarm, sign in ((HIGH, "warn_high", "alarm_high", 1), (LOW, "warn_low", "alarm_low", -1)):
        first = limits.get(warn, limits.get(alarm))
        if first is not None and sign * (value - first) >= 0:
            return f"{mark}{limits.get(alarm, first):g}"
    return ""


class LabelRule:
    """Formats a template such as ``"DE bearing {temp:.1f} °C"`` with signal values.

    Parameters
    ----------
    template : str
        Text with ``{name}`` or ``{name:format}`` fields.

    Raises
    ------
    ValueError
        If a field is not a plain name with an optional number format (no
        attributes, indices or conversions: the template comes from a user's file).
    """

    def __init__(self, template: str):
        self.template = template
        self._pieces = []
        for literal, name, spec, conversion in string.Formatter().parse(template):
            if name is not None:
                if not name.isidentifier() or conversion:
                    raise ValueError(f"label field {{{name}}} must be a signal name, optionally "
                                     "with a format such as {temp:.1f}")
                try:
                    format(1.0, spec or "")
                except ValueError:
                    raise ValueError(f"bad number format {spec!r} in label field {{{name}}}") from None
            self._pieces.append((literal, name, spec or ""))
        self.names = {name for _, name, _ in self._pieces if name}

    def text(self, values: Mapping[str, float | None], limits: Mapping[str, Mapping] | None = None,
             trends: Mapping[str, tuple] | None = None) -> str:
        """The label text; a missing value shows as :data:`NO_VALUE`.

        ``limits`` (signal -> its limits, in the unit its value is given in) adds each
        value's :func:`limit_mark` after the value and the word that follows it (its unit):
        ``"DE {t:.1f} °C"`` -> ``"DE 102.0 °C ▲95"``.

        ``trends`` (signal -> ``(rate per minute or None, what comes next or "")``, in
        the same unit) adds the rate after that, in the value's unit, and what comes next
        at the end: ``"DE 88.0 °C ↑1.8 °C/min · alarm in ~4 min (3–5)"``.
        """
        out, mark, rate, coming = [], "", None, []
        for literal, name, spec in self._pieces:
            if mark or rate:  # after the unit written right after the value, if there is one
                unit = _UNIT.match(literal)
                cut = unit.end() if unit and (unit.end() < len(literal) or not name) else 0
                if rate:
                    mark = f"{mark} {rate_text(rate, literal[:cut].strip())}".strip()
                literal = f"{literal[:cut]} {mark}{literal[cut:]}"
            out.append(literal)
            mark, rate = "", None
            if name:
                value = values.get(name)
                out.append(NO_VALUE if value is None else format(value, spec))
                mark = limit_mark(value, limits.get(name, {})) if limits else ""
                rate, next_ = (trends or {}).get(name, (None, ""))
                coming += [next_] if next_ else []
        if rate:
            mark = f"{mark} {rate_text(rate, '')}".strip()
        return "".join(out) + (f" {mark}" if mark else "") + "".join(f" · {c}" for c in coming)


def rate_text(per_minute: float, unit: str) -> str:
    """``"↑1.8 °C/min"``: two significant digits, never in exponent form (``"↑1200 rpm/min"``)."""
    size = abs(per_minute)
    number = f"{size:.0f}" if size >= 10 else f"{size:.2g}" if size >= 1e-3 else f"{size:.1e}"
    return f"{RISING if per_minute > 0 else FALLING}{number}{f' {unit}' if unit else ''}/min"

"""Label rule: a template such as ``"DE {temp:.1f} °C"`` -> the text shown (no VTK, so the
twin loader can check templates without a renderer)."""

from __future__ import annotations

import string
from collections.abc import Mapping


#: Shown in place of a value that has not arrived yet.
NO_VALUE = "—"


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

    def text(self, values: Mapping[str, float | None]) -> str:
        """The label text; a missing value shows as :data:`NO_VALUE`."""
        out = []
        for literal, name, spec in self._pieces:
            out.append(literal)
            if name:
                value = values.get(name)
                out.append(NO_VALUE if value is None else format(value, spec))
        return "".join(out)

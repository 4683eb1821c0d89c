"""JSON field paths of a twin's signals: ``a.b[0].c`` -> ``("a", "b", 0, "c")``."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"([^.\[\]]+)|\[(-?\d+)\]")


class FieldPathError(ValueError):
    """A field path is malformed."""


def parse_field_path(path: str) -> tuple[str | int, ...]:
    """Split ``"a.b[0].c"`` into ``("a", "b", 0, "c")``.

    Raises
    ------
    FieldPathError
        If the path is empty or malformed.
    """
    keys: list[str | int] = []
    pos = 0
    for match in _TOKEN.finditer(path):
        gap = path[pos:match.start()]
        if gap not in ("", ".") or (gap == "." and not keys):
            break
        keys.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        pos = match.end()
    if not keys or pos != len(path):
        raise FieldPathError(f"bad field path {path!r} (expected e.g. temperature or bearings[0].temp)")
    return tuple(keys)

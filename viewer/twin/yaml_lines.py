"""YAML loading that remembers the line of every key and item."""

from __future__ import annotations

import yaml


class Lines:
    """Line numbers (1-based) of the YAML nodes, keyed by their path tuple."""

    def __init__(self):
        self._lines: dict[tuple, int] = {}

    def set(self, path: tuple, line: int) -> None:
        self._lines.setdefault(path, line)

    def line(self, path: tuple) -> int:
        """Line of ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self._lines:
                return self._lines[path]
            path = path[:-1]
        return self._lines.get((), 1)


def load_with_lines(text: str):
    """Parse YAML ``text`` safely; return ``(data, Lines)``."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        lines = Lines()
        if node is None:
            return None, lines
        _walk(node, (), lines)
        return loader.construct_document(node), lines
    finally:
        loader.dispose()


def _walk(node, path: tuple, lines: Lines) -> None:
    lines.set(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = path + (key.value,)
            lines.set(child, key.start_mark.line + 1)
            _walk(value, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, path + (i,), lines)

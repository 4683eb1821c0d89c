"""YAML loading that remembers the line of every key and item, within limits.

A twin file is small. The limits keep a broken or hostile one from taking the machine
down: aliases that expand exponentially ("billion laughs"), nesting deeper than Python's
stack, a file too large to read. Each refusal says where, as a line.
"""

from __future__ import annotations

import yaml

#: Largest twin file read, in bytes.
MAX_BYTES = 10_000_000
#: Most values (scalars, lists, mappings, keys) in a twin, counting an alias's value
#: each time it is used.
MAX_VALUES = 100_000
#: Deepest nesting of lists and mappings.
MAX_DEPTH = 50
_MERGE = "tag:yaml.org,2002:merge"


class YamlLimitError(ValueError):
    """The YAML is beyond one of the limits; ``line`` (1-based) says where."""

    def __init__(self, line: int, message: str):
        self.line = line
        super().__init__(message)


class Lines:
    """Line numbers (1-based) of the YAML nodes, keyed by their path tuple."""

    def __init__(self):
        self._lines: dict[tuple, int] = {}
        self.duplicates: list[tuple[int, str]] = []  # (line, message) per repeated key

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


def read_limited(path) -> str:
    """The text of the file at ``path``, refused unread beyond :data:`MAX_BYTES`.

    Raises
    ------
    YamlLimitError
        If the file is larger (line 0: the whole file).
    OSError, UnicodeDecodeError
        If it cannot be read, or is not UTF-8.
    """
    with open(path, "rb") as file:
        data = file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise YamlLimitError(0, f"larger than {MAX_BYTES / 1e6:g} MB: a twin file is a few kB (its meshes "
                             "are separate files)")
    return data.decode("utf-8")


def load_with_lines(text: str):
    """Parse YAML ``text`` safely; return ``(data, Lines)``.

    Raises
    ------
    YamlLimitError
        If the YAML nests deeper than :data:`MAX_DEPTH` or holds more than
        :data:`MAX_VALUES` values, aliases expanded; checked before anything is expanded.
    yaml.YAMLError
        If it is not valid YAML.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        lines = Lines()
        if node is None:
            return None, lines
        _Measure(lines.duplicates).size(node, 1)
        _walk(node, (), lines)
        return loader.construct_document(node), lines
    finally:
        loader.dispose()


class _Loader(yaml.SafeLoader):
    """Counts values and nesting while composing, before they cost memory or stack."""

    def __init__(self, text: str):
        super().__init__(text)
        self._depth = self._values = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):  # a node composed before: measured later
            return super().compose_node(parent, index)
        line = self.peek_event().start_mark.line + 1
        self._values += 1
        if self._values > MAX_VALUES:
            raise YamlLimitError(line, f"more than {MAX_VALUES:,} values: a twin file needs far fewer")
        if self._depth >= MAX_DEPTH:
            raise YamlLimitError(line, f"nested deeper than {MAX_DEPTH} levels")
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except Exception as exc:  # PyYAML's constructors fail in many ways: 2001-02-30, !!int abc, !!int ""
            text = node.value if isinstance(node, yaml.ScalarNode) else node.tag
            raise yaml.constructor.ConstructorError(None, None, f"cannot read {text!r}: {exc}",
                                                    node.start_mark) from None


class _Measure:
    """Sizes and heights of a composed node graph, as if its aliases were expanded.

    Each node is measured once: an alias reaching it again costs its remembered size,
    so a "billion laughs" file is refused after a few hundred steps instead of
    expanding. Also notes keys repeated in a mapping, once per mapping.
    """

    def __init__(self, duplicates: list):
        self.duplicates = duplicates
        self.known: dict[int, tuple[int, int]] = {}  # id(node) -> (values, levels)
        self.open: set[int] = set()  # being measured: reaching one again is a cycle

    def size(self, node, depth: int, used_at: int = 1) -> tuple[int, int]:
        """``(values, levels)`` of ``node`` expanded, found at nesting ``depth`` in a
        list or mapping starting on line ``used_at`` (where an alias to it would be)."""
        if id(node) in self.known:  # reached again, through an alias
            values, levels = self.known[id(node)]
            if depth + levels - 1 > MAX_DEPTH:
                raise YamlLimitError(used_at, f"nested deeper than {MAX_DEPTH} levels, aliases expanded")
            return values, levels
        if id(node) in self.open:
            raise YamlLimitError(used_at, "an alias refers to a list or mapping that contains it: it never ends")
        line = node.start_mark.line + 1
        if depth > MAX_DEPTH:  # also bounds this recursion
            raise YamlLimitError(line, f"nested deeper than {MAX_DEPTH} levels, aliases expanded")
        self.open.add(id(node))
        values, levels = self.known[id(node)] = self._measure(node, depth)
        self.open.discard(id(node))
        if values > MAX_VALUES:
            raise YamlLimitError(line, f"aliases expand to more than {MAX_VALUES:,} values: a twin file needs "
                                 "far fewer (each use of an alias counts its whole value again)")
        return values, levels

    def _measure(self, node, depth: int) -> tuple[int, int]:
        if isinstance(node, yaml.MappingNode):
            self._note_duplicates(node)
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        else:
            return 1, 1
        values, levels = 1, 1
        for child in children:
            v, lv = self.size(child, depth + 1, node.start_mark.line + 1)
            values, levels = values + v, max(levels, lv + 1)
            if values > MAX_VALUES:  # no need to measure the rest
                break
        return values, levels

    def _note_duplicates(self, node: yaml.MappingNode) -> None:
        first: dict[tuple, int] = {}
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != _MERGE:  # several << merge, not override
                line = key.start_mark.line + 1
                if (key.tag, key.value) in first:
                    self.duplicates.append((line, f"duplicate key {key.value!r} (first at line "
                                                  f"{first[key.tag, key.value]}): a key may appear once"))
                else:
                    first[key.tag, key.value] = line


def _walk(node, path: tuple, lines: Lines) -> None:
    lines.set(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):  # [a, b]: 1 -- refused when constructed
                continue
            child = path + (key.value,)
            lines.set(child, key.start_mark.line + 1)
            _walk(value, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, path + (i,), lines)

"""Editing a procedure in its file, for the walkthrough editor, keeping what was not edited.

ruamel.yaml's round-trip mode keeps comments, key order, quotes and flow or block style, but
writes the whole document in its own layout (a flow mapping spread over lines comes back on
one). So a save is a three-way merge by lines of what ruamel writes before and after the
edits with the file as it is: only the lines the edits change come from ruamel.
"""

from __future__ import annotations

import io
import os
import re
import stat
import tempfile
import unicodedata
from difflib import SequenceMatcher
from pathlib import Path

import yaml
from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString, PlainScalarString, \
    SingleQuotedScalarString
from ruamel.yaml.tokens import CommentToken

from viewer.twin.loader import load_twin
from viewer.twin.messages import schema_problems
from viewer.twin.problems import Problem, TwinError
from viewer.twin.procedure import ProcedureSpec, StepSpec, load_procedures
from viewer.twin.yaml_lines import Lines, YamlLimitError, load_with_lines, read_limited

_STEP_KEYS = {key: i for i, key in enumerate(StepSpec.model_fields)}  # a key added goes in this order


class _RoundTrip:
    """A YAML file loaded for round-trip editing: ``root``, then :meth:`render` and :meth:`write`."""

    def __init__(self, path):
        self.path = Path(path)
        raw = self.path.read_bytes().decode("utf-8")
        self.newline, self.text = "\r\n" if "\r\n" in raw else "\n", raw.replace("\r\n", "\n")
        self.yaml = YAML()
        self.yaml.preserve_quotes, self.yaml.width = True, 4096  # 4096: no line folded
        self.root = self.yaml.load(self.text)
        self.yaml.indent(mapping=2, sequence=4, offset=2)
        self.yaml.indent(**_indents(self.text, self.root))  # lists as the file's, so its lines match
        self.before = self.dump(self.root)

    def dump(self, data) -> str:
        out = io.StringIO()
        self.yaml.dump(data, out)
        return out.getvalue()

    def render(self) -> str:
        after = self.dump(self.root)
        merged = _merge(self.text, self.before, after)
        try:  # the merge only chooses the layout: if it reads differently, ruamel's text it is
            return merged if self.dump(self.yaml.load(merged)) == after else after
        except YAMLError:
            return after

    def write(self, text: str, check) -> None:
        """Write ``text`` atomically if ``check(temporary file)`` passes, else leave the file."""
        file = tempfile.NamedTemporaryFile("w", encoding="utf-8", newline=self.newline, delete=False,
                                           dir=self.path.parent.resolve(), prefix=f".{self.path.name}.")
        tmp = Path(file.name)
        try:
            with file:
                file.write(text)
            os.chmod(tmp, stat.S_IMODE(self.path.stat().st_mode))
            try:
                check(tmp)
            except TwinError as exc:  # the problems name the file saved, not the temporary one
                raise TwinError([Problem(str(self.path) if p.file == str(tmp) else p.file, p.line, p.message)
                                 for p in exc.problems]) from None
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)
        self.text, self.before = text, self.dump(self.root)


class ProcedureDocument:
    """A procedure opened for editing in its file (a procedure file, or a twin file holding it inline).

    Edits change the document in memory; :meth:`save` writes them. A step's comment lines
    above it go with it when steps are added, moved or removed.
    """

    def __init__(self, file: _RoundTrip, at: tuple, twin_path):
        self._file, self.path, self.at = file, file.path, tuple(at)  # path: the file it is written in
        self.twin_path = Path(twin_path) if twin_path is not None else (file.path if self.at else None)
        node = file.root
        try:
            for key in self.at:
                node = node[key]
        except (LookupError, TypeError):
            node = None
        if not isinstance(node, CommentedMap):
            raise TwinError([Problem(str(file.path), 1, f"no procedure (a mapping) at {self.at or 'the top'}")])
        self._node = node

    @classmethod
    def open(cls, source: Path, at: tuple = (), twin_path: Path | None = None) -> "ProcedureDocument":
        """Open the procedure at ``at`` in ``source``.

        Parameters
        ----------
        source : Path
            The procedure file, or the twin file holding the procedure inline.
        at : tuple
            Its place there, as :attr:`viewer.twin.procedure.Procedure.at` (``()``: the file).
        twin_path : Path, optional
            The twin, whose signals a procedure file's conditions are checked against on save.
        """
        return cls(_RoundTrip(source), at, twin_path)

    @classmethod
    def create(cls, twin_path: Path, title: str, file_name: str | None = None) -> "ProcedureDocument":
        """Write a new procedure file beside the twin and list it in the twin's ``procedures``.

        It has one placeholder step, "New step": a procedure without steps does not load, nor
        would the twin listing it. ``file_name`` (relative to the twin's folder) defaults to a
        slug of ``title``, with ``-2``, ``-3``... rather than over a file; a given name that
        exists raises FileExistsError. The twin keeps its comments and layout.

        Raises
        ------
        TwinError
            If the twin would not load with it; then neither file is changed.
        """
        twin = _RoundTrip(twin_path)
        if not isinstance(twin.root, CommentedMap):
            raise TwinError([Problem(str(twin.path), 1, "a twin file is a mapping")])
        spec = CommentedMap(procedure=_str(title), steps=CommentedSeq([CommentedMap(title="New step")]))
        entry = _new_file(twin.path.parent, title, file_name, twin.dump(spec))
        try:
            if isinstance(twin.root.get("procedures"), CommentedSeq):
                _rearrange(twin.root, "procedures", lambda items: items.append([entry, "", None]))
            else:
                new = "procedures" not in twin.root
                twin.root["procedures"] = CommentedSeq([entry])
                if new:  # a section of its own, after a blank line
                    twin.root.yaml_set_comment_before_after_key("procedures", before="\n")
            twin.write(twin.render(), lambda tmp: load_twin(tmp, geometry=False))
        except BaseException:
            (twin.path.parent / entry).unlink(missing_ok=True)
            raise
        return cls.open(twin.path.parent / entry, twin_path=twin.path)

    @property
    def title(self) -> str:
        """The procedure's title (its ``procedure``)."""
        return self._node.get("procedure", "")

    @title.setter
    def title(self, value: str) -> None:
        self._node["procedure"] = _str(value)

    @property
    def steps(self) -> list:
        """The steps, dict-like (``title``, ``text``, ``camera``, ``highlight``...): read them, and
        change them through the methods."""
        steps = self._node.get("steps")
        return list(steps) if isinstance(steps, list) else []

    def add_step(self, title: str, text: str = "", camera: dict | None = None, highlight: list[str] = (),
                 index: int | None = None) -> int:
        """Add a step at ``index`` (default: the end) and return its index; ``camera`` as for
        :meth:`set_camera`."""
        step = CommentedMap(title=_str(title))
        for key, value in (("text", _text(text)), ("camera", _camera(camera)), ("highlight", _flow(highlight))):
            if value:
                step[key] = value
        if not isinstance(self._node.get("steps"), CommentedSeq) or not self._node["steps"]:
            self._node["steps"] = CommentedSeq()  # block style, not as `steps: []` was
        index = len(self.steps) if index is None else max(0, min(index, len(self.steps)))
        _rearrange(self._node, "steps", lambda items: items.insert(index, [step, "", None]))
        return index

    def set_title(self, index: int, title: str) -> None:
        self._set(index, "title", _str(title))

    def set_text(self, index: int, text: str) -> None:
        """Set step ``index``'s Markdown; several lines are written as a literal block (``|``)."""
        self._set(index, "text", _text(text))

    def set_camera(self, index: int, camera: dict | None) -> None:
        """Set where step ``index`` looks from: ``{"position": [x, y, z], "focal_point": [...],
        "up": [...]}`` (rounded to 4 decimals), or ``fit`` and ``view``; None: no camera."""
        self._set(index, "camera", _camera(camera))

    def set_highlight(self, index: int, parts: list[str]) -> None:
        self._set(index, "highlight", _flow(parts))

    def move_step(self, index: int, to: int) -> None:
        """Move step ``index`` to place ``to``, with the comment lines above it."""
        self._index(index, to)
        _rearrange(self._node, "steps", lambda items: items.insert(to, items.pop(index)))

    def remove_step(self, index: int) -> None:
        """Remove step ``index``, and the comment lines above it."""
        self._index(index)
        _rearrange(self._node, "steps", lambda items: items.pop(index))

    def save(self) -> None:
        """Write the edits, replacing the file only if the result loads.

        Raises
        ------
        TwinError
            If the procedure (or, inline, its twin) would not load; the file is untouched.
        """
        self._file.write(self._file.render(), self._check)

    def _index(self, *indices: int) -> None:
        """Raise IndexError before anything is changed."""
        if not all(-len(self.steps) <= i < len(self.steps) for i in indices):
            raise IndexError(f"no step {indices}: the procedure has {len(self.steps)}")

    def _set(self, index: int, key: str, value) -> None:
        """Set step ``index``'s ``key`` (an empty ``value``: remove it); a new key goes where
        the schema lists it, and the comment lines below the step stay below it."""
        self._index(index)
        step = self.steps[index]

        def change(items):
            if not value:
                step.pop(key, None)
            elif key in step:
                step[key] = value
            else:
                step.insert(sum(_STEP_KEYS.get(k, len(_STEP_KEYS)) < _STEP_KEYS[key] for k in step), key, value)
        _rearrange(self._node, "steps", change)

    def _check(self, path: Path) -> None:
        if self.at:  # inline: the twin file itself
            load_twin(path, geometry=False)
        elif self.twin_path is not None:
            problems = load_procedures([str(path)], self.twin_path, Lines(), None, _signals(self.twin_path))[1]
            if problems:
                raise TwinError(problems)
        else:
            data, lines = load_with_lines(read_limited(path))
            try:
                ProcedureSpec.model_validate(data)
            except ValidationError as exc:
                raise TwinError([Problem(str(path), lines.line(loc), message) for loc, message
                                 in schema_problems(exc.errors(), data, root=ProcedureSpec)]) from None


def _indents(text: str, root) -> dict:
    """``sequence`` and ``offset`` (of the dash) of the first block list under a key in ``root``."""
    lines, todo = text.splitlines(), [root]
    for node in todo:  # breadth first: the outermost list
        for key, value in node.items() if isinstance(node, CommentedMap) else enumerate(node):
            if isinstance(node, CommentedMap) and isinstance(value, CommentedSeq) and value and value.lc.data \
                    and not value.fa.flow_style():
                (line, column), key_column = value.lc.item(0), node.lc.key(key)[1]
                dash = lines[line].rfind("-", 0, column)
                if key_column <= dash <= column - 2:
                    return {"sequence": column - key_column, "offset": dash - key_column}
            if isinstance(value, (CommentedMap, CommentedSeq)):
                todo.append(value)
    return {}


def _signals(twin_path: Path) -> list[str]:
    """The twin's signal names, read without checking the rest of it (that may wait for this fix)."""
    try:
        data = load_with_lines(read_limited(twin_path))[0]
    except (OSError, UnicodeDecodeError, YamlLimitError, yaml.YAMLError) as exc:
        raise TwinError([Problem(str(twin_path), 0, f"cannot read the twin's signals: {exc}")]) from None
    signals = data.get("signals") if isinstance(data, dict) else None
    return list(signals) if isinstance(signals, dict) else []


def _new_file(folder: Path, title: str, name: str | None, text: str) -> str:
    """Create the file ``name`` (default: a slug of ``title``) in ``folder``, never over another;
    return its name."""
    slug = re.sub(r"[^a-z0-9]+", "-", unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower())
    stem = slug.strip("-") or "procedure"
    names = [name] if name else [f"{stem}{f'-{n}' if n > 1 else ''}.yaml" for n in range(1, 1000)]
    for entry in names:
        try:
            with open(folder / entry, "x", encoding="utf-8") as file:  # exclusive: not over a file made meanwhile
                file.write(text)
            return entry
        except FileExistsError:
            if name:
                raise
    raise FileExistsError(f"{folder / names[0]}: and {len(names) - 1} more names are taken")


def _rearrange(parent: CommentedMap, key: str, change) -> None:
    """Run ``change`` on the list ``parent[key]`` as ``[item, comment lines above it, its comment
    slot]`` items. ruamel keeps the lines above an item on the value before them (for the first,
    on the key): lifted off, and put back above their item, they move with it."""
    seq, above = parent[key], parent.ca.items.get(key)
    ca, has_key_slot = seq.ca, above is not None and len(above) > 3
    lead = _lines((ca.comment[1] if ca.comment else None) or (above[3] if has_key_slot else None))
    if ca.comment:
        ca.comment[1] = None
    if has_key_slot:
        above[3] = None
    items, gaps = [], []
    for i, item in enumerate(seq):
        slot = ca.items.get(i)
        if slot:
            lead, slot[1] = lead + _lines(slot[1]), None
        comment = lead.lstrip("\n")
        gaps.append(lead[:len(lead) - len(comment)])  # blank lines between items stay in their places
        items.append([item, comment, slot])
        lead = _after(seq, i)
        ca.items.pop(i, None)
    tail, ca.end = lead + _lines(ca.end), None
    change(items)
    seq.clear()
    seq.extend(item for item, _, _ in items)
    for i, (_, lead, slot) in enumerate(items):
        lead = (gaps[i] if i < len(gaps) else gaps[-1] if len(gaps) > 1 else "") + lead
        if lead:
            slot = slot or [None, None, None, None]
            slot[1] = _tokens(lead)
        if slot and any(slot):
            ca.items[i] = slot
    ca.end = _tokens(tail) or None


def _after(node, last) -> str:
    """Take the comment lines after ``node[last]`` off the comment of its last value, and
    return them (its end-of-line comment stays)."""
    tail, shared = "", None
    while True:
        if shared is not None and node.ca.comment and node.ca.comment[0] is shared:
            node.ca.comment[0] = None  # a flow collection holds its line's comment too
        slots, at = node.ca.items.get(last), 2 if isinstance(node, dict) else 0
        token, value = slots[at] if slots and len(slots) > at else None, node[last]
        if isinstance(token, CommentToken):
            # after a block scalar (|) there is no end-of-line comment: the lines start at once
            whole = isinstance(value, (LiteralScalarString, FoldedScalarString))
            head, rest = ("", token.value) if whole else token.value.partition("\n")[::2]
            if rest:
                tail, token.value = rest, head + "\n"
                if not head:
                    slots[at], shared = None, token
        if not isinstance(value, (CommentedMap, CommentedSeq)) or not value:
            return tail
        node, last = value, list(value)[-1] if isinstance(value, dict) else len(value) - 1


def _lines(tokens) -> str:
    return "".join(t.value if t.value.startswith("\n") else " " * t.column + t.value for t in tokens or () if t)


def _tokens(text: str) -> list:
    """Comment lines as ruamel's tokens, one a line."""
    lines = [(line.lstrip(" "), len(line) - len(line.lstrip(" "))) for line in text.splitlines(True)]
    return [CommentToken(comment if comment.strip() else "\n", CommentMark(column)) for comment, column in lines]


def _merge(original: str, before: str, after: str) -> str:
    """Three-way merge by lines: ``after``'s changes of ``before`` made to ``original``. Between
    lines all three share, the lines of ``original`` unless ``after`` changed them."""
    o, b, a = (t.splitlines(True) for t in (original, before, after))

    def matched(other: list[str]) -> dict[int, int]:
        blocks = SequenceMatcher(None, b, other, autojunk=False).get_matching_blocks()
        return {i + k: j + k for i, j, size in blocks for k in range(size)}

    to_o, to_a = matched(o), matched(a)
    out, bi, oi, ai = [], 0, 0, 0
    for k in [k for k in range(len(b)) if k in to_o and k in to_a] + [len(b)]:
        ok, ak = to_o.get(k, len(o)), to_a.get(k, len(a))
        out += (o[oi:ok] if a[ai:ak] == b[bi:k] else a[ai:ak]) + o[ok:ok + 1]
        bi, oi, ai = k + 1, ok + 1, ak + 1
    return "".join(out)


def _str(text: str):
    """``text`` plain, or quoted if the loader (YAML 1.1) would read it as something else (``yes``, ``1.0``)."""
    tag = yaml.resolver.Resolver().resolve(yaml.ScalarNode, text, (True, False))
    return PlainScalarString(text) if tag == "tag:yaml.org,2002:str" else SingleQuotedScalarString(text)


def _text(text: str):
    text = text.replace("\r\n", "\n").strip("\n")
    return LiteralScalarString(text + "\n") if "\n" in text else _str(text)  # a literal block ends with \n


def _flow(items) -> CommentedSeq | None:
    seq = CommentedSeq(_str(i) if isinstance(i, str) else i for i in items or ())
    seq.fa.set_flow_style()
    return seq or None


def _camera(camera: dict | None) -> CommentedMap | None:
    """``camera`` in flow style, as a person writes it: ``{position: [1.2, 0, 0.8], ...}``."""
    out = CommentedMap()
    for key, value in (camera or {}).items():
        if key in ("position", "focal_point", "up") and value is not None:  # 4 decimals, whole numbers without ".0", no -0
            value = [int(v) if v.is_integer() else v for v in (round(float(v), 4) + 0.0 for v in value)]
        if value is not None:
            out[key] = _flow(value) if isinstance(value, (list, tuple)) else value
    out.fa.set_flow_style()
    return out or None

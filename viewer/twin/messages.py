"""Pydantic's validation errors in the words of the twin file.

Pydantic says ``parts.0.name: Field required``; a user wants ``parts item 1 (mesh:
pump.glb): missing key 'name'``: items counted from 1 and named where they have a name,
plain words for what was expected, and a suggestion for a mistyped key.
"""

from __future__ import annotations

import difflib
import types
import typing

from pydantic import AliasChoices, BaseModel

from viewer.twin.schema import TwinSpec

#: Keys that name a list item, in the order they are tried.
_NAMING_KEYS = ("name", "colour", "color", "rotate", "translate", "spin", "label", "field", "topic", "mesh")

#: What a value must be, by pydantic error type.
_EXPECTED = {
    "float_parsing": "a number", "float_type": "a number", "finite_number": "a finite number",
    "int_parsing": "a whole number", "int_type": "a whole number", "int_from_float": "a whole number",
    "bool_parsing": "true or false", "bool_type": "true or false",
    "string_type": "text", "list_type": "a list", "tuple_type": "a list",
    "dict_type": "a mapping (key: value)", "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)",
}


def schema_problems(errors: list[dict], data, root=TwinSpec) -> list[tuple[tuple, str]]:
    """Each of pydantic's ``errors`` about ``data`` as ``(location, message)``.

    Parameters
    ----------
    errors : list of dict
        ``ValidationError.errors()`` of :class:`~viewer.twin.schema.TwinSpec`.
    data : object
        The data validated (the parsed YAML), to name list items.
    root : type
        The pydantic model validated (another file's, e.g. a procedure's).

    Returns
    -------
    list of (tuple, str)
        The location (keys and 0-based indices into ``data``, for the line) and the
        message. The errors of one value against each type it may have (``stale_after``:
        a number or ``never``) are one message.
    """
    found: dict[tuple, list[dict]] = {}  # location -> errors, in pydantic's order
    alternatives: set[tuple] = set()
    problems = []
    for error in errors:
        loc, alternative, of_key = _clean(error["loc"], root)
        if of_key:  # ON: 1 in a map: YAML read the key ON as true
            hint = " (write it in quotes)" if isinstance(error["input"], (int, float)) else ""
            problems.append((loc, _at(loc, data, f"key {_shown(error['input'])} must be "
                                                 f"{_expected(error) or 'text'}{hint}")))
            continue
        if alternative:
            alternatives.add(loc)
        found.setdefault(loc, []).append(error)
    for loc, group in found.items():
        if loc in alternatives and all(_expected(e) for e in group):
            wanted = " or ".join(dict.fromkeys(_expected(e) for e in group))
            problems.append((loc, _at(loc, data, f"must be {wanted}, not {_shown(group[0]['input'])}")))
        else:
            problems += [(loc, _message(loc, e, data, root)) for e in group]
    return problems


def _message(loc: tuple, error: dict, data, root) -> str:
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    if kind == "missing" and loc and isinstance(loc[-1], int):  # a tuple too short: (x, y) for a Vec3
        wanted = len(typing.get_args(_type_at(loc[:-1], root))) or "more"
        return _at(loc[:-1], data, f"needs {wanted} values, not {len(value) if isinstance(value, list) else 1}")
    if kind == "missing":
        return _at(loc[:-1], data, f"missing key {loc[-1]!r}")
    if kind == "invalid_key":  # 1: x in a part: YAML read the key as a number
        return _at(loc[:-1], data, f"key {_shown(loc[-1])} must be text (write it in quotes)")
    if kind == "extra_forbidden":
        known = _keys_of(_type_at(loc[:-1], root))
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return _at(loc[:-1], data, f"unknown key {loc[-1]!r}{hint}")
    if kind in ("too_short", "too_long") and ctx.get("field_type") == "Tuple":
        return _at(loc, data, f"needs {ctx.get('max_length', ctx.get('min_length'))} values, "
                              f"not {ctx.get('actual_length')}")
    if kind == "too_short":
        return _at(loc, data, f"needs at least {_count(ctx['min_length'], 'item')}, not {ctx.get('actual_length')}")
    if kind == "too_long":
        return _at(loc, data, f"takes at most {_count(ctx['max_length'], 'item')}, not {ctx.get('actual_length')}")
    if kind == "string_too_short":
        return _at(loc, data, "must not be empty")
    if kind in ("value_error", "assertion_error"):  # our validators' own words
        return _at(loc, data, error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, "))
    wanted = _expected(error)
    if wanted is None:
        return _at(loc, data, error["msg"].replace("Input should be", "must be"))
    hint = " (write it in quotes)" if kind == "string_type" and isinstance(value, (int, float)) else ""
    return _at(loc, data, f"must be {wanted}, not {_shown(value)}{hint}")


def _expected(error: dict) -> str | None:
    """What the value must be, in words; None for errors that are not about its type."""
    ctx = error.get("ctx") or {}
    bounds = {"greater_than": ("gt", "a number above {}"), "greater_than_equal": ("ge", "{} or more"),
              "less_than": ("lt", "a number below {}"), "less_than_equal": ("le", "{} or less")}
    if error["type"] in bounds:
        key, text = bounds[error["type"]]
        return text.format(f"{ctx[key]:g}" if isinstance(ctx.get(key), (int, float)) else ctx.get(key))
    if error["type"] == "literal_error":
        return ctx["expected"]
    return _EXPECTED.get(error["type"])


def _at(loc: tuple, data, text: str) -> str:
    where = _where(loc, data)
    return f"{where}: {text}" if where else text


def _where(loc: tuple, data) -> str:
    """``bindings item 2 (rotate: arm).axis``: items counted from 1, named where they can be."""
    text, node = "", data
    for i, seg in enumerate(loc):
        if isinstance(seg, int) and isinstance(node, list):
            node = node[seg] if 0 <= seg < len(node) else None
            text += f" item {seg + 1}{_name_of(node, loc[i + 1:i + 2])}"
        else:
            text += f".{seg}" if text else str(seg)
            node = node.get(seg) if isinstance(node, dict) else None
    return text.strip()


def _name_of(item, then: tuple) -> str:
    """`` (name: arm)`` for an item with a name, unless the message is about that key."""
    if isinstance(item, dict):
        for key in _NAMING_KEYS:
            value = item.get(key)
            if key in then:
                continue
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                return f" ({key}: {_clip(str(value))})"
    return ""


def _shown(value) -> str:
    """A value as the user wrote it, briefly."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return repr(_clip(value)) if isinstance(value, str) else _clip(str(value))


def _clip(text: str, size: int = 40) -> str:
    return text if len(text) <= size else text[:size - 1] + "…"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


# -- the schema's types along a location ------------------------------------------------


def _clean(loc, root) -> tuple[tuple, bool, bool]:
    """``loc`` without the names pydantic gives the members of a union (``stale_after``,
    ``constrained-float``); whether it had one (the error is one alternative); whether
    the error is about a mapping's key (then ``loc`` ends at the mapping)."""
    tp, path, alternative = root, [], False
    for seg in loc:
        if seg == "[key]":  # follows the key, which pydantic may have changed (true -> 1)
            return tuple(path[:-1]), alternative, True
        tp = _unwrap(tp)
        if _is_union(tp):  # seg names the member tried, not a key
            tp, alternative = None, True
            continue
        path.append(seg)
        tp = _child(tp, seg)
    return tuple(path), alternative, False


def _type_at(loc: tuple, root):
    tp = root
    for seg in loc:
        tp = _child(_unwrap(tp), seg)
    return _unwrap(tp)


def _child(tp, seg):
    """The type of ``seg`` (a key or an index) inside a value of type ``tp``."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        for name, field in tp.model_fields.items():
            if seg == name or seg in _aliases(field):
                return field.annotation
        return None
    args = typing.get_args(tp)
    origin = typing.get_origin(tp)
    if origin is list and args:
        return args[0]
    if origin is tuple and args:
        return args[seg] if isinstance(seg, int) and seg < len(args) else args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    return None


def _unwrap(tp):
    """``tp`` without ``Annotated`` and without ``| None``."""
    while True:
        if typing.get_origin(tp) is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif _is_union(tp) and len(members := [a for a in typing.get_args(tp) if a is not type(None)]) == 1:
            tp = members[0]
        else:
            return tp


def _is_union(tp) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _keys_of(tp) -> list[str]:
    """The keys a mapping of type ``tp`` may have: its fields and their aliases."""
    if not (isinstance(tp, type) and issubclass(tp, BaseModel)):
        return []
    return [key for name, field in tp.model_fields.items() for key in (name, *_aliases(field))]


def _aliases(field) -> tuple[str, ...]:
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return tuple(a for a in alias.choices if isinstance(a, str))
    return (alias,) if isinstance(alias, str) else ()

"""Decode MQTT payloads: plain numbers, or JSON with a field path like ``a.b[0].c``."""

from __future__ import annotations

import json
import math

MAX_PAYLOAD = 256 * 1024  # bytes; larger payloads are refused, not parsed
_scan = json.JSONDecoder().scan_once  # the C parser json.loads wraps


class PayloadError(ValueError):
    """A payload cannot give a number; the message says why."""


def parse_json(payload: bytes):
    """Parse a JSON payload, raising :class:`PayloadError` with a readable reason."""
    if len(payload) > MAX_PAYLOAD:
        raise PayloadError(f"payload too large ({len(payload)} bytes)")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("payload is not UTF-8 text") from None
    try:  # json.loads' own checks cost twice the parse of a small payload: try without them first
        document, end = _scan(text, 0)
        if end == len(text):
            return document
    except (StopIteration, ValueError, RecursionError):
        pass  # json.loads says why, below
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PayloadError(f"not JSON or a number: {exc.msg}") from None
    except RecursionError:  # [[[[...]]]] deeper than Python's recursion limit
        raise PayloadError("JSON nested too deeply") from None
    except ValueError as exc:  # an integer of more than 4,300 digits, among others
        raise PayloadError(f"not JSON or a number: {exc}"[:120]) from None


def extract(document, keys: tuple, mapping: dict[str, float] | None = None) -> float:
    """The number at ``keys`` in a parsed JSON document.

    Booleans count as 0/1; numeric strings are accepted; NaN and infinities are not.
    """
    node = document
    for key in keys:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            raise PayloadError(f"no field {_format(keys)} in payload") from None
    return to_number(node, mapping)


def to_number(node, mapping: dict[str, float] | None = None) -> float:
    """A finite float from a JSON scalar, or :class:`PayloadError`.

    A list of samples gives its last one; text found in ``mapping`` gives its number.
    """
    if type(node) is float and math.isfinite(node):  # nearly always: first, and fast
        return node
    if isinstance(node, list) and node:
        node = node[-1]
    if isinstance(node, str) and mapping is not None:
        if node in mapping:
            return float(mapping[node])
        raise PayloadError(f"{node[:40]!r} is not one of {', '.join(mapping)}")
    if isinstance(node, bool):
        return 1.0 if node else 0.0
    if isinstance(node, (int, float)):
        try:
            value = float(node)
        except OverflowError:  # an integer beyond 1e308
            raise PayloadError("number too large") from None
    elif isinstance(node, str):
        try:
            value = float(node)
        except ValueError:
            raise PayloadError(f"not a number: {node[:40]!r}") from None
    else:
        raise PayloadError(f"expected a number, got {type(node).__name__}")
    if not math.isfinite(value):
        raise PayloadError(f"not a finite number: {value}")
    return value


def _format(keys: tuple) -> str:
    return "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in keys).lstrip(".")


def set_path(document: dict, keys: tuple, value) -> None:
    """Store ``value`` at ``keys`` in ``document``, creating dicts and lists on the way."""
    node = document
    for depth, key in enumerate(keys):
        if isinstance(key, int):
            node.extend([None] * (key + 1 - len(node)))
            current = node[key]
        else:
            current = node.get(key)
        if depth == len(keys) - 1:
            node[key] = value
        else:
            if current is None:
                current = [] if isinstance(keys[depth + 1], int) else {}
                node[key] = current
            node = current

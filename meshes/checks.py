"""What a mesh file is and whether its layout holds together, before any reader runs:
the format its bytes show, why a file is not what its name says, and the glTF header
checked against the data the file holds. Plain words for the user, and no trimesh."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from urllib.parse import unquote

FORMATS = {".stl": "STL", ".obj": "OBJ", ".ply": "PLY", ".off": "OFF", ".glb": "GLB", ".gltf": "glTF",
            ".dae": "COLLADA", ".3mf": "3MF", ".step": "STEP", ".stp": "STEP"}
#: How a file of each format begins, where it always does.
SIGNATURES = {"GLB": "'glTF'", "glTF": "'{' (JSON)", "PLY": "'ply'", "OFF": "'OFF'",
               "3MF": "'PK' (a ZIP archive)", "COLLADA": "an XML <COLLADA> element",
               "STEP": "'ISO-10303-21'"}

# A file that states no unit and is larger than this many of its own units across is


class Unreadable(Exception):
    """Why a file cannot be read, in plain words (without the file name)."""



COMPONENT_BYTES = {5120: 1, 5121: 1, 5122: 2, 5123: 2, 5125: 4, 5126: 4}
TYPE_COMPONENTS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
DAMAGED = "the file is damaged or truncated"


def gltf_header(path: Path) -> dict:
    """The glTF JSON of a .glb or .gltf file, once its buffers, buffer views and
    accessors are checked to fit in the data the file holds (trimesh's own errors for
    these are empty or cryptic)."""
    size = path.stat().st_size
    binary = 0
    with open(path, "rb") as f:
        if path.suffix.lower() == ".gltf":
            text = f.read()
        else:
            head = f.read(20)
            if head[:4] != b"glTF":
                raise Unreadable(misnamed(path) or "not a GLB file: it does not begin with 'glTF'")
            if len(head) < 12:
                raise Unreadable(f"the file is truncated: its {size} bytes end inside the GLB header")
            version, total = struct.unpack("<2I", head[4:12])
            if version != 2:
                raise Unreadable(f"GLB version {version} is not supported, only glTF 2.0")
            if size < max(total, 20):
                raise Unreadable(f"the file is truncated: its header announces {total:,} bytes, "
                                  f"it holds {size:,}")
            json_length, json_type = struct.unpack("<2I", head[12:20])
            if json_type != 0x4E4F534A or 20 + json_length > size:
                raise Unreadable(f"{DAMAGED}: it has no complete JSON chunk")
            text = f.read(json_length)
            chunk = f.read(8)
            if len(chunk) == 8 and chunk[4:] == b"BIN\0":
                binary = min(struct.unpack("<I", chunk[:4])[0], size - f.tell())
    try:
        header = json.loads(text)
    except UnicodeDecodeError:
        raise Unreadable(misnamed(path) or f"{DAMAGED}: its glTF JSON is not UTF-8 text") from None
    except ValueError as exc:
        message = getattr(exc, "msg", str(exc))
        raise Unreadable(misnamed(path) or f"{DAMAGED}: its glTF JSON is not valid ({message})") from None
    if not isinstance(header, dict):
        raise Unreadable("its JSON is not a glTF description")
    try:
        _check_layout(header, path, binary)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        raise Unreadable(f"the file is damaged: its glTF description is malformed "
                          f"({type(exc).__name__}: {exc})") from None
    return header


def _check_layout(header: dict, path: Path, binary: int) -> None:
    """Raise Unreadable if a buffer, buffer view or accessor reaches past its data."""
    held = []  # the bytes each buffer declares
    for i, buffer in enumerate(header.get("buffers", [])):
        declared, uri = int(buffer.get("byteLength", 0)), buffer.get("uri")
        if uri is None:  # a GLB's BIN chunk
            have, where = binary, "the file's binary chunk"
        elif uri.startswith("data:"):
            meta, _, data = uri.partition(",")
            base64 = meta.endswith(";base64")
            have = len(data) * 3 // 4 - data[-2:].count("=") if base64 else len(unquote(data))
            where = "its data URI"
        else:
            external = path.parent / unquote(uri)
            if not external.is_file():
                raise Unreadable(f"it needs the file {unquote(uri)!r} next to it, which is missing")
            have, where = external.stat().st_size, repr(unquote(uri))
        if have < declared:
            raise Unreadable(f"{DAMAGED}: buffer {i} declares {declared:,} bytes, {where} holds {have:,}")
        held.append(declared)
    views = header.get("bufferViews", [])
    for i, view in enumerate(views):
        end = int(view.get("byteOffset", 0)) + int(view["byteLength"])
        if end > held[view["buffer"]]:
            raise Unreadable(f"{DAMAGED}: buffer view {i} reaches byte {end:,} "
                              f"of a buffer of {held[view['buffer']]:,}")
    for i, accessor in enumerate(header.get("accessors", [])):
        if "bufferView" not in accessor:  # sparse or compressed: filled in by the reader
            continue
        view = views[accessor["bufferView"]]
        item = COMPONENT_BYTES[accessor["componentType"]] * TYPE_COMPONENTS[accessor["type"]]
        count = int(accessor["count"])
        need = int(accessor.get("byteOffset", 0)) + (count - 1) * int(view.get("byteStride") or item) + item
        if count > 0 and need > int(view["byteLength"]):
            raise Unreadable(f"{DAMAGED}: accessor {i} asks for {need:,} bytes ({count:,} items), "
                              f"more than the {int(view['byteLength']):,} its buffer view holds")


def sniff(path: Path) -> str | None:
    """The supported format the file's content looks like, if any (see ``FORMATS``)."""
    with open(path, "rb") as f:
        head = f.read(4096)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:4] == b"glTF":
        return "GLB"
    if text.startswith(b"ISO-10303-21"):
        return "STEP"
    if text.startswith(b"ply"):
        return "PLY"
    if head[:4] == b"PK\x03\x04":
        return "3MF"
    if text.startswith(b"<") and b"<COLLADA" in head:
        return "COLLADA"
    if text.startswith(b"{"):
        return "glTF"
    if text.startswith((b"OFF", b"COFF", b"NOFF")):
        return "OFF"
    if len(head) >= 84 and 84 + 50 * int.from_bytes(head[80:84], "little") == path.stat().st_size:
        return "STL"
    if text.startswith(b"solid") and b"facet" in head:
        return "STL"
    if any(line.startswith((b"v ", b"vn ", b"vt ", b"f ", b"mtllib ")) for line in text.splitlines()[:50]):
        return "OBJ"
    return None


def misnamed(path: Path) -> str | None:
    """What is wrong when the content is not of the format the suffix names."""
    try:
        found = sniff(path)
    except OSError:
        return None
    suffix = path.suffix.lower()
    expected = FORMATS.get(suffix)
    if found is not None and found != expected:
        proper = next(s for s, f in FORMATS.items() if f == found)
        return f"this is {with_article(found)} file named {suffix}; rename it to {proper}"
    if found is None and expected in SIGNATURES:
        return f"not {with_article(expected)} file: it does not begin with {SIGNATURES[expected]}"
    return None


def with_article(fmt: str) -> str:
    """"a STEP", "an OBJ"."""
    return f"{'an' if fmt[0] in 'AEFHILMNORSX' else 'a'} {fmt}"

"""GLB files read straight into an :class:`~meshes.Assembly`, in this process, without trimesh.

Most machine models arrive as GLB (exported by CAD tools, or converted from STEP): a
JSON description and one binary chunk of vertex and index arrays. For the common case
(triangles, one primitive per mesh, colours from material factors and ``COLOR_0``, nodes
named uniquely) the arrays are mapped from the file and handed on as float32 and int32
views, with no copy where the file already holds them so, normals too when the file has
them (then the viewer computes none). Anything else (textures,
several primitives, compressed or sparse data, cameras, unnamed nodes) returns None
and goes to the general importer, which runs trimesh in a child process under limits.

What this reader makes of a file is exactly what :func:`meshes.importer.load_assembly`
makes of it (tests compare the two), so a twin's part names and colours never depend on
which reader ran.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from meshes.assembly import MAX_PARTS, Assembly, assemble
from meshes.checks import Unreadable, gltf_header
from meshes.formats import DEFAULT_COLOR, UNITS, MeshImportError

#: A JSON description larger than this goes to the child importer (its parse has no limit here).
MAX_JSON_BYTES = 64 << 20
_TRIANGLES = 4
_FLOAT, _UBYTE, _USHORT, _UINT = 5126, 5121, 5123, 5125
_INDEX_TYPES = {_UBYTE: np.uint8, _USHORT: np.uint16, _UINT: np.uint32}
_COLOUR_TYPES = {_FLOAT: np.float32, _UBYTE: np.uint8, _USHORT: np.uint16}
_WIDTH = {"SCALAR": 1, "VEC3": 3, "VEC4": 4}


class _Unsupported(Exception):
    """The file uses something this reader leaves to the general importer."""


def read_glb(path, name: str | None = None, units: str | None = None, label: str | None = None) -> Assembly | None:
    """The assembly in a GLB file, or None when the file needs the general importer.

    Parameters
    ----------
    path : str or Path
        A ``.glb`` file.
    name, units
        As for :func:`meshes.load_assembly`.
    label : str, optional
        The file's name in parts' sources and in messages (default: its own; a STEP
        file's name for the GLB OpenCASCADE made of it).

    Returns
    -------
    Assembly or None
        Parts whose arrays map the file (copy-on-write); None for a file outside the
        subset this reader handles (see the module doc).

    Raises
    ------
    MeshImportError
        If the file is damaged in a way the header check sees (the same message the
        general importer gives).
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(20)
        if len(head) < 20 or head[:4] != b"glTF" or struct.unpack("<I", head[12:16])[0] > MAX_JSON_BYTES:
            return None
        header = gltf_header(path)
        binary = 20 + struct.unpack("<I", head[12:16])[0] + 8
        return _assembly(path, header, binary, name or path.stem, units, label or path.name)
    except Unreadable as exc:
        raise MeshImportError(f"{label or path.name}: {exc}") from None
    except (_Unsupported, RecursionError):
        return None
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        return None  # malformed in a way the general importer explains better


def _assembly(path: Path, header: dict, binary: int, name: str, units: str | None, label: str) -> Assembly:
    if header.get("extensionsRequired") or len(header.get("buffers", [])) != 1 or "uri" in header["buffers"][0]:
        raise _Unsupported
    data = np.memmap(path, dtype=np.uint8, mode="c")  # nothing is read until used, writes stay private
    nodes = header.get("nodes", [])
    if len(nodes) > MAX_PARTS:
        raise _Unsupported  # the child importer, under its memory limit, says what is wrong
    names = [node.get("name") for node in nodes]
    if (not all(isinstance(n, str) for n in names) or len(set(names)) != len(names) or "world" in names
            or any("camera" in node for node in nodes)):
        raise _Unsupported  # trimesh would invent, rename or drop these nodes
    scene = header["scenes"][header.get("scene", 0)]
    roots = list(scene.get("nodes", []))
    parents: dict[int, int | None] = {}
    children: dict = {}
    queue = [(None, r) for r in roots]
    for parent, i in queue:  # the queue grows as it is walked
        if i in parents:
            raise _Unsupported  # a node with two parents, or a cycle
        parents[i] = parent
        children.setdefault(parent, []).append((names[i], _matrix(nodes[i]), nodes[i].get("mesh")))
        queue.extend((i, c) for c in nodes[i].get("children", []))
    children = {(None if p is None else names[p]): c for p, c in children.items()}

    scale = 1.0 if units is None else UNITS[units]
    meshes = [_mesh(header, data, binary, mesh, scale) for mesh in header.get("meshes", [])]
    if not any(m is not None for m in meshes):
        raise _Unsupported  # nothing to draw: the general importer says why
    assembly = assemble(children, None, lambda k: meshes[k], name, scale, label)
    assembly.units = "meters (from file)" if units is None else f"{units} (declared)"
    return assembly


def _matrix(node: dict) -> np.ndarray:
    """The node's local matrix: ``matrix``, then translation, rotation and scale (T R S)."""
    m = np.array(node["matrix"], dtype=np.float64).reshape(4, 4).T if "matrix" in node else np.eye(4)
    if "translation" in node:
        t = np.eye(4)
        t[:3, 3] = node["translation"]
        m = m @ t
    if "rotation" in node:
        m = m @ _rotation(np.asarray(node["rotation"], dtype=np.float64))
    if "scale" in node:
        m = m @ np.diag([*node["scale"], 1.0])
    return m


def _rotation(xyzw: np.ndarray) -> np.ndarray:
    """The rotation of a quaternion (x, y, z, w), normalised."""
    w, x, y, z = xyzw[[3, 0, 1, 2]]
    n = w * w + x * x + y * y + z * z
    r = np.eye(4)
    if n < np.finfo(float).eps * 4:
        return r
    s = 2.0 / n
    r[:3, :3] = [[1 - s * (y * y + z * z), s * (x * y - z * w), s * (x * z + y * w)],
                 [s * (x * y + z * w), 1 - s * (x * x + z * z), s * (y * z - x * w)],
                 [s * (x * z - y * w), s * (y * z + x * w), 1 - s * (x * x + y * y)]]
    return r


def _mesh(header: dict, data: np.ndarray, binary: int, mesh: dict, scale: float):
    """``(vertices, faces, colors, normals or None)`` of a mesh of one triangle primitive,
    None for no triangles."""
    if len(mesh.get("primitives", [])) != 1:
        raise _Unsupported
    primitive = mesh["primitives"][0]
    attributes = primitive["attributes"]
    if primitive.get("mode", _TRIANGLES) != _TRIANGLES or primitive.get("extensions"):
        raise _Unsupported
    vertices = _accessor(header, data, binary, attributes["POSITION"], {_FLOAT: np.float32}, "VEC3")
    if scale != 1.0:
        vertices = (vertices.astype(np.float64) * scale).astype(np.float32)  # as the general importer rounds
    if "indices" in primitive:
        indices = _accessor(header, data, binary, primitive["indices"], _INDEX_TYPES, "SCALAR")
        if len(indices) % 3:
            raise _Unsupported
        faces = indices.view(np.int32) if indices.dtype == np.uint32 else indices.astype(np.int32)
        faces = faces.reshape(-1, 3)  # indices past the vertices are refused by assemble()
    else:
        if len(vertices) % 3:
            raise _Unsupported
        faces = np.arange(len(vertices), dtype=np.int32).reshape(-1, 3)
    if not len(faces):
        return None
    normals = None
    if "NORMAL" in attributes:  # the exporter's smooth and sharp edges: nothing to compute
        normals = _accessor(header, data, binary, attributes["NORMAL"], {_FLOAT: np.float32}, "VEC3")
        normals = normals if len(normals) == len(vertices) and np.isfinite(normals).all() else None
    return vertices, faces, _colours(header, data, binary, primitive, len(vertices)), normals


def _accessor(header: dict, data: np.ndarray, binary: int, index: int, types: dict, kind: str) -> np.ndarray:
    """Accessor ``index`` as an array mapping the file (copied only when interleaved)."""
    accessor = header["accessors"][index]
    if ("bufferView" not in accessor or "sparse" in accessor or accessor["componentType"] not in types
            or accessor["type"] != kind):
        raise _Unsupported
    view = header["bufferViews"][accessor["bufferView"]]
    dtype, width, count = np.dtype(types[accessor["componentType"]]), _WIDTH[kind], int(accessor["count"])
    offsets = int(view.get("byteOffset", 0)), int(accessor.get("byteOffset", 0))
    start = binary + sum(offsets)
    row = dtype.itemsize * width
    stride = int(view.get("byteStride") or row)
    # The layout check bounds the data by the file for sane offsets and strides only: a
    # negative one, or rows that overlap, would let a strided view read outside the map.
    if min(*offsets, count) < 0 or stride < row or start + max(count - 1, 0) * stride + row > len(data):
        raise _Unsupported
    if start % dtype.itemsize or stride % dtype.itemsize:
        raise _Unsupported  # misaligned: numpy views need aligned items
    if stride == row:
        flat = data[start:start + count * row].view(dtype)
    else:
        rows = np.lib.stride_tricks.as_strided(data[start:], (count, row), (stride, 1))
        flat = np.ascontiguousarray(rows).view(dtype)
    return flat.reshape(count, width) if width > 1 else flat


def _colours(header: dict, data: np.ndarray, binary: int, primitive: dict, n: int) -> np.ndarray:
    """Per-vertex display (sRGB) RGB: baseColorFactor x COLOR_0 in linear light."""
    factor = None
    if "material" in primitive:
        material = header["materials"][primitive["material"]]
        pbr = material.get("pbrMetallicRoughness", {})
        if material.get("extensions") or "baseColorTexture" in pbr:
            raise _Unsupported  # textures are sampled by the general importer
        if "baseColorFactor" in pbr:
            factor = np.asarray(pbr["baseColorFactor"], dtype=np.float64)[:3]
    colour0 = None
    if "COLOR_0" in primitive["attributes"]:
        accessor = header["accessors"][primitive["attributes"]["COLOR_0"]]
        colour0 = _accessor(header, data, binary, primitive["attributes"]["COLOR_0"], _COLOUR_TYPES,
                            accessor["type"])
        if len(colour0) != n:
            colour0 = None
        elif colour0.dtype.kind == "u":
            colour0 = colour0[:, :3] / np.iinfo(colour0.dtype).max
        else:
            colour0 = colour0[:, :3].astype(np.float64)
    if colour0 is None:
        return np.tile(DEFAULT_COLOR if factor is None else linear_to_srgb8(np.clip(factor, 0.0, 1.0)), (n, 1))
    rgb = colour0 if factor is None else colour0 * factor
    return linear_to_srgb8(np.clip(rgb, 0.0, 1.0))


def linear_to_srgb8(linear: np.ndarray) -> np.ndarray:
    """Linear light 0..1 to sRGB bytes (both readers' glTF and STEP colours)."""
    srgb = np.where(linear > 0.00313066844250063, 1.055 * np.power(linear, 1.0 / 2.4) - 0.055, 12.92 * linear)
    return np.round(np.clip(srgb, 0.0, 1.0) * 255).astype(np.uint8)

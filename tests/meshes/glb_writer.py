"""Write small glTF binaries (GLB) by hand, for testing what the importer makes of
exact glTF content: float ``baseColorFactor``, ``COLOR_0`` in its three encodings,
and layouts that do not fit the data (damaged files).

glTF 2.0 keeps colour factors and ``COLOR_0`` in linear light; ``srgb_to_linear``
and ``linear_to_srgb`` are the sRGB transfer functions (IEC 61966-2-1), written out
here so the tests do not check the importer against its own arithmetic.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

#: glTF componentType per numpy dtype.
_COMPONENT = {np.dtype(np.float32): 5126, np.dtype(np.uint8): 5121, np.dtype(np.uint16): 5123,
              np.dtype(np.uint32): 5125}

CUBE_VERTICES = np.array([(x, y, z) for x in (0, 1) for y in (0, 1) for z in (0, 1)], dtype=np.float32)
CUBE_FACES = np.array([
    (0, 1, 3), (0, 3, 2), (4, 6, 7), (4, 7, 5), (0, 4, 5), (0, 5, 1),
    (2, 3, 7), (2, 7, 6), (0, 2, 6), (0, 6, 4), (1, 5, 7), (1, 7, 3),
], dtype=np.uint32)


def srgb_to_linear(srgb):
    """sRGB-encoded 0..1 values -> linear light 0..1."""
    c = np.asarray(srgb, dtype=float)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(linear):
    """Linear light 0..1 -> sRGB-encoded 0..1 values."""
    c = np.asarray(linear, dtype=float)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * np.power(np.maximum(c, 0), 1 / 2.4) - 0.055)


def cube(base_color=None, color0=None, material_name=None) -> tuple[dict, bytes]:
    """The glTF JSON and binary buffer of a unit cube: one node, one mesh.

    Parameters
    ----------
    base_color : sequence of 4 floats, optional
        The material's ``baseColorFactor`` (linear), written exactly as given.
    color0 : (8, 3) or (8, 4) array, optional
        ``COLOR_0`` per vertex of ``CUBE_VERTICES``: float32 (0..1), or uint8 /
        uint16 (written as normalized integers).
    material_name : str, optional
        Name of the material.
    """
    arrays = [(CUBE_FACES.ravel(), "SCALAR", 34963), (CUBE_VERTICES, "VEC3", 34962)]
    attributes = {"POSITION": 1}
    if color0 is not None:
        color0 = np.asarray(color0)
        arrays.append((color0, f"VEC{color0.shape[1]}", 34962))
        attributes["COLOR_0"] = 2
    binary, views, accessors = b"", [], []
    for i, (array, kind, target) in enumerate(arrays):
        data = np.ascontiguousarray(array).tobytes()
        views.append({"buffer": 0, "byteOffset": len(binary), "byteLength": len(data), "target": target})
        accessor = {"bufferView": i, "componentType": _COMPONENT[array.dtype], "count": len(array),
                    "type": kind}
        if kind == "VEC3" and i == 1:
            accessor.update(min=array.min(axis=0).tolist(), max=array.max(axis=0).tolist())
        if array.dtype.kind == "u" and i == 2:
            accessor["normalized"] = True
        accessors.append(accessor)
        binary += data + bytes(-len(data) % 4)
    primitive = {"attributes": attributes, "indices": 0, "mode": 4}
    gltf = {
        "asset": {"version": "2.0", "generator": "tests/meshes/glb_writer.py"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"name": "cube", "mesh": 0}],
        "meshes": [{"name": "cube", "primitives": [primitive]}],
        "accessors": accessors,
        "bufferViews": views,
        "buffers": [{"byteLength": len(binary)}],
    }
    if base_color is not None or material_name is not None:
        material = {"pbrMetallicRoughness": {}}
        if base_color is not None:
            material["pbrMetallicRoughness"]["baseColorFactor"] = [float(c) for c in base_color]
        if material_name is not None:
            material["name"] = material_name
        gltf["materials"] = [material]
        primitive["material"] = 0
    return gltf, binary


def write_glb(path, gltf: dict, binary: bytes) -> Path:
    """Write ``gltf`` (JSON) and ``binary`` (the BIN chunk) as a GLB file."""
    text = json.dumps(gltf).encode()
    text += b" " * (-len(text) % 4)
    binary += bytes(-len(binary) % 4)
    body = (struct.pack("<I4s", len(text), b"JSON") + text
            + struct.pack("<I4s", len(binary), b"BIN\0") + binary)
    path = Path(path)
    path.write_bytes(struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body)
    return path

"""The merged geometry :class:`~overlays.parts.PartMeshes` draws, made ahead on any thread.

Every rigid group (the static parts; each moving part and what rides on it) becomes one
set of arrays in the group's frame, with normals split at sharp edges, cached on disk by
the exact inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyvista as pv
from overlays import vtk_classes as vtk
from vtkmodules.util.numpy_support import numpy_to_vtk

from meshes import Assembly, cache

_FEATURE_ANGLE = 35.0  # degrees: sharper edges are drawn as edges, not smoothed
_PROCESSED = ("points", "faces", "normals", "rgb", "point_part", "cell_part")


def group_roots(assembly: Assembly, moving: list[str]) -> dict[str, str | None]:
    """Part -> the moving part it rides on (itself if it moves), or None."""
    moving = set(moving)
    return {name: next((c for c in [name, *assembly.ancestors(name)] if c in moving), None)
            for name in assembly.parts}


@dataclass
class Geometry:
    """What :class:`PartMeshes` draws, made ahead by :func:`prepare`."""

    groups: dict[str | None, dict[str, np.ndarray]]  # group root (None: static parts) -> merged arrays
    corners: list[np.ndarray | None]  # per part: the 8 corners of its box in its own frame, or None


def prepare(assembly: Assembly, moving) -> Geometry:
    """Each rigid group's merged arrays, with normals, and each part's box: the slow
    part of building :class:`PartMeshes`, safe on any thread (numpy and VTK filters,
    no rendering).

    Parameters
    ----------
    assembly : Assembly
        The machine.
    moving : iterable of str
        Parts that will get joint motions, as for :class:`PartMeshes`.

    Returns
    -------
    Geometry
        The groups with geometry, and the parts' boxes.
    """
    moving = [name for name in assembly.parts if name in set(moving)]
    root_of, rest = group_roots(assembly, moving), assembly.world_transforms()
    index = {name: i for i, name in enumerate(assembly.parts)}
    groups = {}
    for root in [None, *moving]:
        parts = [p for p in assembly if p.has_geometry and root_of[p.name] == root]
        if parts:
            to_root = np.eye(4) if root is None else np.linalg.inv(rest[root])
            groups[root] = _processed(parts, [index[p.name] for p in parts], to_root, rest)
    return Geometry(groups, [_corners(p.vertices) if p.has_geometry else None for p in assembly])


def _processed(parts: list, indices: list[int], to_root: np.ndarray, rest: dict) -> dict[str, np.ndarray]:
    """Merged arrays of ``parts`` in the group's frame, with the file's normals, or
    normals split at sharp edges: from the mesh cache when these exact inputs were
    processed before."""
    # Written straight into the merged arrays, in float32: no per-part temporaries.
    n_points = np.cumsum([0] + [len(p.vertices) for p in parts])
    n_faces = np.cumsum([0] + [len(p.faces) for p in parts])
    inputs = {
        "points": np.empty((n_points[-1], 3), np.float32),
        "faces": np.empty((n_faces[-1], 3), np.int32),
        "rgb": np.empty((n_points[-1], 3), np.uint8),
        "point_part": np.repeat(np.array(indices, dtype=np.int32), np.diff(n_points)),
        "cell_part": np.repeat(np.array(indices, dtype=np.int32), np.diff(n_faces)),
    }
    with_normals = all(p.normals is not None for p in parts)
    normals = np.empty((n_points[-1], 3), np.float32) if with_normals else None
    for i, part in enumerate(parts):
        points, m = slice(n_points[i], n_points[i + 1]), to_root @ rest[part.name]
        np.matmul(part.vertices, m[:3, :3].T.astype(np.float32), out=inputs["points"][points])
        inputs["points"][points] += m[:3, 3].astype(np.float32)
        np.add(part.faces, n_points[i], out=inputs["faces"][n_faces[i]:n_faces[i + 1]], casting="unsafe")
        inputs["rgb"][points] = part.colors
        if with_normals:  # normals turn by the inverse transpose (row vectors: times the inverse)
            np.matmul(part.normals, np.linalg.inv(m[:3, :3]).astype(np.float32), out=normals[points])
    if with_normals:  # as the file gives them: nothing to compute or cache
        length = np.linalg.norm(normals, axis=1, keepdims=True)
        np.divide(normals, length, out=normals, where=length > 0)
        return {**inputs, "normals": normals}
    entry = cache.key(inputs, options=f"feature_angle={_FEATURE_ANGLE}")
    cached = cache.load(entry, _PROCESSED)
    if cached is not None:
        return cached
    mesh = polydata(inputs["points"], inputs["faces"])
    for name in ("rgb", "point_part"):
        mesh.point_data[name] = inputs[name]
    mesh.cell_data["cell_part"] = inputs["cell_part"]
    del inputs
    # Split at sharp edges so machined faces look flat and round parts smooth.
    mesh = mesh.compute_normals(split_vertices=True, feature_angle=_FEATURE_ANGLE,
                                consistent_normals=False, auto_orient_normals=False)
    arrays = {
        "points": np.asarray(mesh.points, dtype=np.float32),
        "faces": np.asarray(mesh.regular_faces, dtype=np.int32),
        "normals": np.asarray(mesh.point_data["Normals"], dtype=np.float32),
        "rgb": np.asarray(mesh.point_data["rgb"]),
        "point_part": np.asarray(mesh.point_data["point_part"]),
        "cell_part": np.asarray(mesh.cell_data["cell_part"]),
    }
    cache.save(entry, arrays)
    return arrays


def polydata(points: np.ndarray, faces: np.ndarray) -> pv.PolyData:
    """Triangles as a PolyData whose cell array keeps 32-bit ids (half the memory of
    the 64-bit default), sharing ``points``."""
    cells = vtk.vtkCellArray()
    offsets = np.arange(0, faces.size + 1, 3, dtype=np.int32)
    cells.SetData(numpy_to_vtk(offsets, deep=True), numpy_to_vtk(np.ascontiguousarray(faces).ravel(), deep=False))
    mesh = pv.PolyData()
    mesh.points = points  # no vertex cells, unlike PolyData(points)
    mesh.SetPolys(cells)
    return mesh


def _corners(vertices: np.ndarray) -> np.ndarray:
    """The 8 corners of the axis-aligned box around ``vertices``."""
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    return np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])

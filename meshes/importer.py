"""Import CAD and mesh files through trimesh into an :class:`~meshes.Assembly`.

Every format trimesh reads as a scene keeps its node names and hierarchy: each node
becomes a part. A file with a single top node becomes one part named after the
caller's ``name``; otherwise ``name`` is a group whose children are the file's top
nodes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import trimesh

from meshes.assembly import Assembly, Part

#: File suffixes the importer accepts (STEP through cascadio, DAE through pycollada).
SUPPORTED_SUFFIXES = (
    ".stl", ".obj", ".ply", ".off", ".glb", ".gltf", ".dae", ".3mf", ".step", ".stp",
)

#: Length units a twin may declare, in metres.
UNITS = {"m": 1.0, "mm": 1e-3, "cm": 1e-2, "in": 0.0254, "ft": 0.3048}

DEFAULT_COLOR = np.array([178, 180, 186], dtype=np.uint8)

# A file that states no unit and is larger than this many of its own units across is
# taken to be in millimetres: no machine part spans 20 m, many span 20 mm.
_GUESS_MM_ABOVE = 20.0


class MeshImportError(Exception):
    """A mesh file could not be read; the message says why, for the user."""


def load_assembly(path, name: str | None = None, units: str | None = None) -> Assembly:
    """Load a mesh or CAD file as an assembly of named parts.

    Parameters
    ----------
    path : str or Path
        File to load; its suffix selects the format (see ``SUPPORTED_SUFFIXES``).
    name : str, optional
        Name of the top part; defaults to the file's stem.
    units : {'m', 'mm', 'cm', 'in', 'ft'}, optional
        Length unit of the file. When omitted, the unit the file declares is used,
        else it is guessed from the size (larger than 20 units across: mm).

    Returns
    -------
    Assembly
        Geometry in metres, parents before children. ``assembly.units`` records
        the unit used and how it was decided.

    Raises
    ------
    MeshImportError
        If the file is missing, unsupported or unreadable.
    """
    path = Path(path)
    name = name or path.stem
    if units is not None and units not in UNITS:
        raise MeshImportError(f"{path.name}: unknown units {units!r} (use one of {', '.join(UNITS)})")
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise MeshImportError(
            f"{path.name}: unsupported mesh format {path.suffix!r} "
            f"(supported: {', '.join(SUPPORTED_SUFFIXES)})"
        )
    if not path.is_file():
        raise MeshImportError(f"{path}: mesh file not found")
    try:
        scene = trimesh.load(str(path), force="scene")
    except Exception as exc:  # trimesh raises many kinds; the user needs one message
        raise MeshImportError(f"{path.name}: cannot read mesh: {exc}") from exc
    if not any(isinstance(g, trimesh.Trimesh) and len(g.faces) for g in scene.geometry.values()):
        raise MeshImportError(f"{path.name}: the file holds no triangles")

    scale, how = _scale(scene, units)
    assembly = _assembly_from_scene(scene, name, scale, path.name)
    assembly.units = how
    return assembly


def _scale(scene: trimesh.Scene, units: str | None) -> tuple[float, str]:
    """Metres per file unit, and a note of how it was decided."""
    if units is not None:
        return UNITS[units], f"{units} (declared)"
    if scene.units:
        try:
            return trimesh.units.unit_conversion(scene.units, "meters"), f"{scene.units} (from file)"
        except Exception:  # an unknown unit string in the file: fall through to a guess
            pass
    if float(np.max(scene.extents)) > _GUESS_MM_ABOVE:
        return 1e-3, "mm (guessed from size)"
    return 1.0, "m (guessed from size)"


def _assembly_from_scene(scene: trimesh.Scene, name: str, scale: float, label: str) -> Assembly:
    graph = scene.graph
    children: dict[str, list[tuple[str, dict]]] = {}
    for parent, child, data in graph.to_edgelist():
        children.setdefault(parent, []).append((child, data))
    tops = children.get(graph.base_frame, [])
    # An empty wrapper node around a single node (STEP files wrap each part in an
    # assembly node) says nothing: skip it, so the part itself takes the caller's name.
    while len(tops) == 1 and tops[0][1].get("geometry") is None and len(children.get(tops[0][0], [])) == 1:
        (node, data), [(child, child_data)] = tops[0], children[tops[0][0]]
        matrix = np.asarray(data.get("matrix", np.eye(4))) @ np.asarray(child_data.get("matrix", np.eye(4)))
        tops = [(child, {**child_data, "matrix": matrix})]

    assembly = Assembly()
    if len(tops) == 1:
        rename = {tops[0][0]: name}
        start = [(None, tops[0][0], tops[0][1])]
    else:
        assembly.add(Part(name=name, source=label))
        rename = {}
        start = [(name, child, data) for child, data in tops]

    queue = list(start)
    while queue:  # breadth first: parents before children
        parent, node, data = queue.pop(0)
        part_name = rename.get(node, node)
        local = np.array(data.get("matrix", np.eye(4)), dtype=float)
        local[:3, 3] *= scale
        if part_name in assembly:
            raise MeshImportError(f"{label}: node {node!r} has the same name as the part {name!r} "
                                  "that holds the file; give that part another name")
        part = Part(name=part_name, parent=parent, local=local, source=f"{label}:{node}")
        geom = scene.geometry.get(data.get("geometry"))
        if isinstance(geom, trimesh.Trimesh) and len(geom.faces):
            # float32 and int32, as VTK draws them: half the memory of trimesh's arrays
            part.vertices = (np.asarray(geom.vertices) * scale).astype(np.float32)
            part.faces = np.asarray(geom.faces, dtype=np.int32)
            part.colors = _vertex_colors(geom)
        assembly.add(part)
        queue.extend((part_name, c, d) for c, d in children.get(node, []))
    return assembly


def _vertex_colors(mesh: trimesh.Trimesh) -> np.ndarray:
    """Per-vertex RGB from the file's vertex colours, face colours or material."""
    n = len(mesh.vertices)
    visual = mesh.visual
    try:
        if visual.kind == "texture":
            material = getattr(visual, "material", None)
            base = _material_color(material)
            base = DEFAULT_COLOR if base is None else base
            # glTF COLOR_0 multiplies the material's base colour.
            color0 = visual.vertex_attributes.get("color")
            if color0 is not None and len(color0) == n:
                return (np.asarray(color0)[:, :3].astype(float) * base / 255.0).astype(np.uint8)
            image = getattr(material, "image", None) or getattr(material, "baseColorTexture", None)
            if image is None or visual.uv is None:
                return np.tile(base, (n, 1))
            visual = visual.to_color()  # sample the texture at the vertices
        if visual.kind in ("vertex", "face"):
            rgb = np.asarray(visual.vertex_colors)[:, :3]
            if len(rgb) == n:
                return rgb.astype(np.uint8)
    except Exception:  # a broken material must not lose the geometry
        pass
    return np.tile(DEFAULT_COLOR, (n, 1))


def _material_color(material) -> np.ndarray | None:
    for attr in ("baseColorFactor", "main_color", "diffuse"):
        value = getattr(material, attr, None)
        if value is not None:
            rgba = np.asarray(value, dtype=float).ravel()
            if rgba.max() <= 1.0:  # glTF factors are 0..1
                rgba = rgba * 255
            return np.clip(rgba[:3], 0, 255).astype(np.uint8)
    return None

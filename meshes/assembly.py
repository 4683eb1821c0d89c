"""The assembly model: named parts in a kinematic tree, geometry in local frames."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from meshes.formats import MeshImportError

MAX_PARTS = 100_000  # nodes an imported file may have
MAX_DEPTH = 256  # levels of nesting (CAD assemblies have tens)


@dataclass
class Part:
    """One named piece of a machine.

    Attributes
    ----------
    name : str
        Unique name within the assembly.
    parent : str or None
        Name of the parent part; ``None`` for a root.
    local : ndarray, shape (4, 4)
        Rest pose of this part's frame relative to its parent's frame (metres).
        The frame's origin is the part's default pivot.
    vertices : ndarray, shape (n, 3), float32
        Geometry in the part's own frame, metres. Empty for a pure group node.
    faces : ndarray, shape (m, 3), int32
        Triangles indexing ``vertices``.
    colors : ndarray, shape (n, 3), uint8
        Per-vertex base colour from the file (material or vertex colours).
    normals : ndarray, shape (n, 3), float32, or None
        Vertex normals as the file gives them (the exporter's choice of smooth and
        sharp edges); None: the viewer computes them.
    source : str
        Where the part came from (file and node), for messages.
    """

    name: str
    parent: str | None = None
    local: np.ndarray = field(default_factory=lambda: np.eye(4))
    vertices: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), dtype=np.float32))
    faces: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), dtype=np.int32))
    colors: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), dtype=np.uint8))
    normals: np.ndarray | None = None
    source: str = ""

    @property
    def has_geometry(self) -> bool:
        """True when the part has triangles of its own."""
        return len(self.faces) > 0


class Assembly:
    """Parts keyed by name, in parent-before-child order.

    Parameters
    ----------
    parts : iterable of Part
        Parents must come before their children.
    """

    def __init__(self, parts=()):
        self.parts: dict[str, Part] = {}
        self.units = "m"  # how the importer decided the file's unit, for messages
        for part in parts:
            self.add(part)

    def add(self, part: Part) -> None:
        """Add ``part``; its parent must already be present."""
        if part.name in self.parts:
            raise ValueError(f"part {part.name!r} defined twice")
        if part.parent is not None and part.parent not in self.parts:
            raise ValueError(f"part {part.name!r}: unknown parent {part.parent!r}")
        self.parts[part.name] = part

    def __contains__(self, name: str) -> bool:
        return name in self.parts

    def __getitem__(self, name: str) -> Part:
        return self.parts[name]

    def __iter__(self):
        return iter(self.parts.values())

    def __len__(self) -> int:
        return len(self.parts)

    def children(self, name: str | None) -> list[str]:
        """Names of the direct children of ``name`` (roots for ``None``)."""
        return [p.name for p in self if p.parent == name]

    def ancestors(self, name: str) -> list[str]:
        """Names from the part's parent up to its root."""
        out, parent = [], self.parts[name].parent
        while parent is not None:
            out.append(parent)
            parent = self.parts[parent].parent
        return out

    def world_transforms(self, joints: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """World matrix of every part's frame.

        ``world(p) = world(parent) @ local(p) @ joint(p)``: a joint motion is
        expressed in the part's own frame, so children follow their parents.

        Parameters
        ----------
        joints : dict of str to ndarray, optional
            Joint motion (4x4, in the part's frame) per moving part.
        """
        joints = joints or {}
        world: dict[str, np.ndarray] = {}
        for part in self:  # parents come first
            m = part.local if part.parent is None else world[part.parent] @ part.local
            joint = joints.get(part.name)
            world[part.name] = m if joint is None else m @ joint
        return world

    def bounds(self) -> np.ndarray:
        """Axis-aligned bounds of the rest pose as ``[[xmin, ymin, zmin], [xmax, ymax, zmax]]``."""
        world = self.world_transforms()
        pts = [
            p.vertices @ world[p.name][:3, :3].T + world[p.name][:3, 3]
            for p in self
            if p.has_geometry
        ]
        if not pts:
            return np.zeros((2, 3))
        allpts = np.concatenate(pts)
        return np.array([allpts.min(axis=0), allpts.max(axis=0)])

    @property
    def n_triangles(self) -> int:
        """Total triangle count."""
        return sum(len(p.faces) for p in self)


def assemble(children: dict, base, geometry, name: str, scale: float, label: str) -> Assembly:
    """An assembly from a file's node tree, as every importer makes it.

    A file with a single top node becomes one part named ``name``; otherwise ``name``
    is a group whose children are the file's top nodes. Empty wrapper nodes around a
    single node (STEP files wrap each part in one) are skipped.

    Parameters
    ----------
    children : dict
        Node -> list of ``(child node name, 4x4 matrix in the file's unit, geometry key)``
        in the file's order.
    base
        The key of the tree's root in ``children`` (not itself a part).
    geometry : callable
        Geometry key -> ``(vertices float32 in metres, faces int32, colors uint8)`` and
        optionally normals (float32 or None), or None for a node without triangles.
    name : str
        The name of the top part.
    scale : float
        Metres per file unit (applied to the matrices' translations).
    label : str
        The file's name, for the parts' ``source`` and for messages.

    Raises
    ------
    MeshImportError
        If a node has the name the top part takes, or triangles that refer to vertices
        it does not have.
    """
    tops = children.get(base, [])
    while len(tops) == 1 and tops[0][2] is None and len(children.get(tops[0][0], [])) == 1:
        (_, matrix, _), [(child, child_matrix, child_geometry)] = tops[0], children[tops[0][0]]
        tops = [(child, np.asarray(matrix) @ np.asarray(child_matrix), child_geometry)]

    assembly = Assembly()
    if len(tops) == 1:
        rename = {tops[0][0]: name}
        queue = [(None, *tops[0])]
    else:
        assembly.add(Part(name=name, source=label))
        rename = {}
        queue = [(name, *top) for top in tops]
    depth = {None: 0, name: 1}
    for parent, node, matrix, key in queue:  # breadth first (the queue grows): parents before children
        part_name = rename.get(node, node)
        depth[part_name] = depth[parent] + 1
        if depth[part_name] > MAX_DEPTH or len(assembly) >= MAX_PARTS:
            # Beyond any machine; the viewer's per-part work would take minutes (or memory).
            raise MeshImportError(f"{label}: more than {MAX_PARTS:,} nodes or nesting deeper than {MAX_DEPTH} "
                                  "levels: not a machine model the viewer can show")
        local = np.array(matrix, dtype=float)
        local[:3, 3] *= scale
        if part_name in assembly:
            raise MeshImportError(f"{label}: node {node!r} has the same name as the part {name!r} "
                                  "that holds the file; give that part another name")
        part = Part(name=part_name, parent=parent, local=local, source=f"{label}:{node}")
        arrays = None if key is None else geometry(key)
        if arrays is not None and len(arrays[1]) and (arrays[1].min() < 0 or arrays[1].max() >= len(arrays[0])):
            # The renderer would read past the vertices (and crash): no such part goes on.
            raise MeshImportError(f"{label}: the file is damaged: node {node!r} has triangles that refer to "
                                  f"vertex {int(arrays[1].max())}, but only {len(arrays[0])} vertices")
        if arrays is not None:
            part.vertices, part.faces, part.colors, *normals = arrays
            part.normals = normals[0] if normals else None
        assembly.add(part)
        queue.extend((part_name, *child) for child in children.get(node, []))
    return assembly

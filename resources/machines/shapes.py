"""Shared building blocks for the sample machines (units: metres, Z up).

* Mesh primitives and small geometry helpers (cylinders, tubes, boxes, hulls,
  frustums, tapered beams, bolt circles, flanges, manifold3d booleans).
* The colour palette and :func:`paint`, which pairs meshes with RGB colours.
* :func:`assemble`, which merges coloured parts into one PBR mesh, and
  :class:`Rig`, which builds the named node tree and exports it as GLB.
"""
import os

import numpy as np
import trimesh
from trimesh.visual.material import PBRMaterial

X, Y, Z = np.eye(3)

YELLOW, BLUE_GREY, STEEL = (214, 170, 40), (60, 90, 130), (150, 150, 155)
ORANGE, BRONZE, RAL_BLUE = (230, 120, 30), (180, 130, 60), (30, 80, 160)
PIPE, VALVE, RED = (120, 125, 130), (75, 78, 84), (200, 30, 30)
BRIGHT, DARK, WHITE, BLACK = (200, 200, 205), (50, 50, 55), (235, 235, 230), (30, 30, 32)
ROBOT, PED_GREY, ALU, CARTON = (240, 120, 20), (140, 140, 145), (175, 178, 182), (170, 125, 75)


# --------------------------------------------------------------------- shapes
def v3(*c):
    """Return ``c`` as a float numpy 3-vector."""
    return np.array(c, dtype=float)


def unit(a):
    """Return vector ``a`` normalised to unit length."""
    a = np.asarray(a, dtype=float)
    return a / np.linalg.norm(a)


def basis(axis):
    """Return two unit vectors ``(u, v)`` perpendicular to ``axis`` and to each other."""
    a = unit(axis)
    u = unit(np.cross(X if abs(a[0]) < 0.9 else Y, a))
    return u, np.cross(a, u)


def cyl(r, p0, p1, sections=32):
    """Solid cylinder of radius ``r`` between points ``p0`` and ``p1``."""
    return trimesh.creation.cylinder(radius=r, segment=[p0, p1], sections=sections)


def tube(r_in, r_out, p0, p1, sections=40):
    """Hollow cylinder (pipe) between points ``p0`` and ``p1``."""
    return trimesh.creation.annulus(r_min=r_in, r_max=r_out, segment=[p0, p1], sections=sections)


def box(lo, hi):
    """Axis-aligned box from corner ``lo`` to corner ``hi``."""
    return trimesh.creation.box(bounds=[lo, hi])


def hull(points):
    """Convex hull of a point cloud as a closed mesh."""
    return trimesh.convex.convex_hull(np.asarray(points, dtype=float))


def frustum(p0, p1, r0, r1, sections=32):
    """Truncated cone between ``p0`` (radius ``r0``) and ``p1`` (radius ``r1``)."""
    u, v = basis(np.subtract(p1, p0))
    t = np.linspace(0, 2 * np.pi, sections, endpoint=False)
    ring = np.outer(np.cos(t), u) + np.outer(np.sin(t), v)
    return hull(np.vstack([p0 + r0 * ring, p1 + r1 * ring]))


def taper(p0, p1, u, size0, size1):
    """Tapered rectangular beam from ``p0`` to ``p1``; ``size = (along u, along v)``."""
    u = unit(u)
    v = np.cross(unit(np.subtract(p1, p0)), u)
    pts = [p + su * a * u / 2 + sv * b * v / 2
           for p, (a, b) in ((p0, size0), (p1, size1)) for su in (-1, 1) for sv in (-1, 1)]
    return hull(pts)


def bolts(center, axis, radius, n, size, length, phase=0.0):
    """Hex bolt heads on a circle of ``radius`` around ``center``, sticking out along ``axis``."""
    u, v = basis(axis)
    heads = []
    for k in range(n):
        a = phase + 2 * np.pi * k / n
        p = center + radius * (np.cos(a) * u + np.sin(a) * v)
        heads.append(cyl(size, p - 0.004 * unit(axis), p + length * unit(axis), sections=6))
    return heads


def flange(center, axis, r_bore, r_out, t=0.022, n=8):
    """Pipe flange (annulus plus bolt heads) starting at ``center`` extending ``t`` along ``axis``."""
    a = unit(axis)
    ring = tube(r_bore, r_out, center, center + t * a, sections=48)
    pcd = 0.5 * (r_bore + r_out) + 0.15 * (r_out - r_bore)
    return [ring] + bolts(center - 0.008 * a, a, pcd, n, 0.008, t + 0.016, np.pi / n)


def boolean(op, meshes):
    """Run a manifold3d boolean (``'union' | 'difference' | 'intersection'``)."""
    return getattr(trimesh.boolean, op)(meshes, engine="manifold")


# ------------------------------------------------------------- scene plumbing
def paint(meshes, rgb):
    """Pair every mesh of ``meshes`` with colour ``rgb`` -> list of ``(mesh, rgb)``."""
    return [(m, tuple(rgb)) for m in (meshes if isinstance(meshes, (list, tuple)) else [meshes])]


def assemble(parts, name, metallic=0.3, rough=0.55):
    """Merge coloured parts into one mesh with a PBR material.

    Parameters
    ----------
    parts : list of (trimesh.Trimesh, tuple)
        Meshes with their RGB colours.
    name : str
        Material name.
    metallic, rough : float
        PBR metallic and roughness factors.

    Returns
    -------
    trimesh.Trimesh
        Single mesh; one colour -> ``baseColorFactor``, several -> vertex colours.
    """
    verts, faces, cols, offset = [], [], [], 0
    for mesh, rgb in parts:
        verts.append(mesh.vertices)
        faces.append(mesh.faces + offset)
        cols.append(np.tile((*_linear(rgb), 255), (len(mesh.vertices), 1)))
        offset += len(mesh.vertices)
    mesh = trimesh.Trimesh(np.vstack(verts), np.vstack(faces), process=False)
    colours = sorted({rgb for _, rgb in parts})
    base = (255, 255, 255, 255) if len(colours) > 1 else (*_linear(colours[0]), 255)
    mesh.visual = trimesh.visual.TextureVisuals(material=PBRMaterial(
        name=name, baseColorFactor=base, metallicFactor=metallic, roughnessFactor=rough))
    if len(colours) > 1:
        mesh.visual.vertex_attributes["color"] = np.vstack(cols).astype(np.uint8)
    return mesh


def _linear(rgb) -> tuple:
    """A display (sRGB) colour as glTF stores colours: linear light, 0-255."""
    linear = trimesh.visual.color.srgb_to_linear(np.asarray(rgb) / 255.0)
    return tuple(int(v) for v in np.round(linear * 255))


class Rig:
    """A node tree under construction; meshes are given in world coordinates.

    Parameters
    ----------
    root : str
        Name of the empty root group node.
    """

    def __init__(self, root):
        self.scene = trimesh.Scene()
        self.origin = {root: np.zeros(3)}
        self.scene.graph.update(frame_to=root, frame_from=self.scene.graph.base_frame,
                                matrix=np.eye(4))

    def add(self, name, parent, parts, origin=(0, 0, 0), metallic=0.3, rough=0.55):
        """Add node ``name`` under ``parent`` with its frame origin at world point ``origin``.

        The node transform is a pure translation; the world-space mesh is
        shifted so its vertices are expressed in the node's local frame.
        """
        origin = np.asarray(origin, dtype=float)
        mesh = assemble(parts, name, metallic, rough)
        mesh.apply_translation(-origin)
        matrix = trimesh.transformations.translation_matrix(origin - self.origin[parent])
        self.scene.add_geometry(mesh, node_name=name, geom_name=name,
                                parent_node_name=parent, transform=matrix)
        self.origin[name] = origin

    def export(self, path):
        """Write the scene as GLB to ``path`` (directories created as needed)."""
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.scene.export(path, file_type="glb")


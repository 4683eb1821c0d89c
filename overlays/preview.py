"""A coarse first picture of a large model, drawn while its full detail is prepared.

A model of millions of triangles takes seconds to merge, upload and draw in software
GL. A copy clustered on a grid (every vertex moved to the mean of the vertices in its
grid cell, triangles that collapse dropped: Rossignac and Borrel's vertex clustering)
keeps the model's shape and colours in about a hundred thousand triangles, made in
a fraction of that time. It is drawn flat-shaded, faceted, which a technician reads as
"not yet the real thing" next to the smooth model that replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyvista as pv

from meshes import Assembly
from overlays import camera

PREVIEW_ABOVE = 500_000  # triangles: a smaller model shows in full within half a second here
CELLS = 160  # grid cells along the model's longest side
MAX_CELLS = 1 << 21  # in the whole grid: three cell ids of a triangle pack into one int64


@dataclass
class Coarse:
    """The preview's triangles, unshared: three points per triangle, in world coordinates."""

    points: np.ndarray  # (3 n, 3) float32
    rgb: np.ndarray  # (3 n, 3) uint8, the file's colours
    triangles: int  # of the whole model

    @property
    def bounds(self) -> np.ndarray:
        """``[[min], [max]]`` of the preview's points."""
        return np.array([self.points.min(axis=0), self.points.max(axis=0)])


def coarse(assembly: Assembly, cells: int = CELLS) -> Coarse | None:
    """``assembly`` at rest, clustered on a grid of ``cells`` along its longest side;
    None without triangles.

    Safe on any thread (numpy only). About 0.4 s for 5M triangles here.
    """
    parts = [p for p in assembly if p.has_geometry and len(p.faces)]
    if not parts:
        return None
    rest = assembly.world_transforms()
    start = np.cumsum([0] + [len(p.vertices) for p in parts])
    world = np.empty((start[-1], 3), np.float32)
    rgb = np.empty((start[-1], 3), np.uint8)
    for i, part in enumerate(parts):
        m, rows = rest[part.name].astype(np.float32), slice(start[i], start[i + 1])
        np.matmul(part.vertices, m[:3, :3].T, out=world[rows])
        world[rows] += m[:3, 3]
        rgb[rows] = part.colors
    finite = np.isfinite(world).all(axis=1)
    if not finite.all():  # a damaged vertex: clustered with the first good one, its triangles then collapse
        if not finite.any():
            return None
        world[~finite] = world[np.argmax(finite)]
    cell, n_cells = _cells(world, cells)
    count = np.maximum(np.bincount(cell, minlength=n_cells), 1)
    centre = np.stack([np.bincount(cell, world[:, k], n_cells) for k in range(3)], axis=1) / count[:, None]
    colour = np.zeros((n_cells, 3), np.uint8)
    colour[cell] = rgb  # one of the cell's vertices' colours
    kept = []
    for i, part in enumerate(parts):
        tri = cell[start[i]:start[i + 1]].take(part.faces)  # take: several times faster than indexing
        kept.append(tri[(tri[:, 0] != tri[:, 1]) & (tri[:, 1] != tri[:, 2]) & (tri[:, 0] != tri[:, 2])])
    tri = np.concatenate(kept)
    ordered = np.sort(tri, axis=1)  # the same triangle, found many times over, drawn once
    _, first = np.unique((ordered[:, 0] * n_cells + ordered[:, 1]) * n_cells + ordered[:, 2], return_index=True)
    corners = tri[first].ravel()
    return Coarse(centre[corners].astype(np.float32), colour[corners], sum(len(p.faces) for p in parts))


def _cells(points: np.ndarray, cells: int) -> tuple[np.ndarray, int]:
    """Each point's grid cell id, and the number of cells in the grid."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    extent = np.maximum(hi - lo, 1e-9)
    size = max(float(extent.max()) / cells, float(np.prod(extent) / MAX_CELLS) ** (1 / 3))
    dims = np.minimum((extent / size).astype(np.int64) + 1, cells + 1)
    while np.prod(dims) > MAX_CELLS:  # rounding up each side can pass the bound
        size *= 1.01
        dims = np.minimum((extent / size).astype(np.int64) + 1, cells + 1)
    q = ((points - lo) / np.float32(size)).astype(np.int64)
    np.minimum(q, dims - 1, out=q)
    return (q[:, 0] * dims[1] + q[:, 1]) * dims[2] + q[:, 2], int(np.prod(dims))


class PreviewLayer:
    """Shows a :class:`Coarse` model in place of what ``plotter`` shows, until closed.

    What was shown is hidden, not removed, and the camera kept: :meth:`close` puts both
    back (a load that is cancelled or fails leaves the window as it was).
    """

    def __init__(self, plotter: pv.Plotter, model: Coarse):
        self.plotter = plotter
        self._hidden = [p for r in _items(plotter.render_window.GetRenderers())
                        for p in _items(r.GetViewProps()) if p.GetVisibility()]  # labels, outlines on top too
        for prop in self._hidden:
            prop.VisibilityOff()
        cam = plotter.camera
        self._camera = (cam.GetPosition(), cam.GetFocalPoint(), cam.GetViewUp(), cam.GetViewAngle())
        mesh = pv.PolyData(model.points, faces=_triangles(len(model.points) // 3))
        mesh.point_data["rgb"] = model.rgb
        self.actor = plotter.add_mesh(mesh, scalars="rgb", rgb=True, show_scalar_bar=False,
                                      reset_camera=False, render=False, pickable=False)
        camera.frame(plotter, model.bounds, "iso")

    def close(self) -> None:
        """Remove the preview; show what it hid, from where it was seen."""
        self.plotter.remove_actor(self.actor, reset_camera=False, render=False)
        for prop in self._hidden:
            prop.VisibilityOn()
        cam = self.plotter.camera
        position, focal, up, angle = self._camera
        cam.SetPosition(position)
        cam.SetFocalPoint(focal)
        cam.SetViewUp(up)
        cam.SetViewAngle(angle)
        self.plotter.renderer.ResetCameraClippingRange()


def _triangles(n: int) -> np.ndarray:
    """VTK's legacy cell array of ``n`` unshared triangles."""
    cells = np.empty((n, 4), np.int64)
    cells[:, 0] = 3
    cells[:, 1:] = np.arange(3 * n).reshape(n, 3)
    return cells.ravel()


def _items(collection) -> list:
    """The objects in a VTK collection."""
    return [collection.GetItemAsObject(i) for i in range(collection.GetNumberOfItems())]

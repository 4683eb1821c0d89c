"""Drawing over the machine, and asking the frame what the machine hides.

Badges and the x-ray ghost of a selected part must show even where other parts cover
them. They go in a renderer of their own in a higher layer of the same window that
shares the main camera: a layer above 0 clears only the depth buffer, so whatever it
holds is drawn over the finished machine.

Whether a part is hidden is read from the depth buffer of the frame being drawn, at
points sampled on the part's own surface: it is hidden when every one of them is covered. The
main renderer's ``EndEvent`` fires once the machine (layer 0) is complete and before the
higher layers draw, so what goes on top is decided from the same frame: no lag, no
extra render, and no ray casting on the CPU (measured: reading the depth of a few
hundred pixels is lost in the cost of the frame itself on software GL).
"""

from __future__ import annotations

import weakref

import numpy as np
from overlays import vtk_classes as vtk
from vtkmodules.util.numpy_support import vtk_to_numpy

#: Top layers not closed yet (a leak check for tests).
OPEN_TOP_LAYERS: weakref.WeakSet = weakref.WeakSet()
_POINT_READS = 24  # up to this many pixels are read one by one, more as one rectangle


class TopLayer:
    """A renderer drawn over ``plotter``'s, with a hook that runs between the two.

    Parameters
    ----------
    plotter : pyvista.Plotter
        The window (an offscreen plotter or a Qt interactor).
    on_frame : callable, optional
        Called with this layer after the machine is drawn and before this layer is, on
        every render; it may call :meth:`hidden` and change what this layer shows.
    """

    def __init__(self, plotter, on_frame=None):
        self.main = plotter.renderer
        self.window = plotter.ren_win
        layers = [self.window.GetRenderers().GetItemAsObject(i).GetLayer()
                  for i in range(self.window.GetRenderers().GetNumberOfItems())]
        layer = max(layers, default=0) + 1
        self.window.SetNumberOfLayers(max(self.window.GetNumberOfLayers(), layer + 1))
        self.renderer = vtk.vtkRenderer()
        self.renderer.SetLayer(layer)
        self.renderer.SetInteractive(False)  # clicks pick the machine, never this layer
        self.renderer.SetViewport(self.main.GetViewport())
        self.renderer.SetActiveCamera(self.main.GetActiveCamera())
        self.window.AddRenderer(self.renderer)
        self.on_frame = on_frame
        self._observer = self.main.AddObserver("EndEvent", self._frame)
        OPEN_TOP_LAYERS.add(self)

    def close(self) -> None:
        """Take the renderer and the hook out of the window."""
        if self._observer is not None:
            self.main.RemoveObserver(self._observer)
            self.window.RemoveRenderer(self.renderer)
            self._observer = None
        OPEN_TOP_LAYERS.discard(self)

    def _frame(self, *_) -> None:
        camera = self.main.GetActiveCamera()
        if self.renderer.GetActiveCamera() is not camera:  # the plotter may swap cameras
            self.renderer.SetActiveCamera(camera)
        if self.on_frame is not None:
            self.on_frame(self)

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Display pixels ``(n, 2)`` (origin bottom left) of world ``points`` ``(n, 3)``,
        and which of them are in front of the camera."""
        width, height = self.main.GetSize()
        x0, y0 = self.main.GetOrigin()
        m = composite_matrix(self.main)
        clip = np.c_[points, np.ones(len(points))] @ m.T
        front = clip[:, 3] > 1e-9
        w = np.where(front, clip[:, 3], 1.0)
        xy = np.c_[(clip[:, 0] / w + 1) * width / 2 + x0, (clip[:, 1] / w + 1) * height / 2 + y0]
        return xy, front

    def covered(self, points: np.ndarray, tolerance) -> np.ndarray:
        """Which world points lie behind something else drawn in the frame just drawn
        (call only from ``on_frame``).

        A point is covered when the surface drawn at its pixel is nearer the camera than
        the point by more than ``tolerance``; points on a part's own surface (see
        :meth:`overlays.parts.PartMeshes.surface_samples`) are therefore uncovered exactly
        where the part shows. A point off screen or behind the camera is not covered.

        Parameters
        ----------
        points : numpy.ndarray
            ``(n, 3)`` world points.
        tolerance : float or numpy.ndarray
            World distance (one, or one per point) a drawn surface may lie in front of a
            point and still count as the point itself: depth buffer precision, and the
            facets of a curved surface between sampled points.

        Returns
        -------
        numpy.ndarray
            ``(n,)`` bool.
        """
        n = len(points)
        result = np.zeros(n, dtype=bool)
        if not n:
            return result
        width, height = self.main.GetSize()
        x0, y0 = self.main.GetOrigin()
        xy, front = self.project(points)
        px = np.floor(xy).astype(np.int64)  # the pixel the point falls in
        idx = np.flatnonzero(front & (px[:, 0] >= x0) & (px[:, 0] < x0 + width)
                             & (px[:, 1] >= y0) & (px[:, 1] < y0 + height))
        if not len(idx):
            return result
        camera = self.main.GetActiveCamera()
        if camera.GetParallelProjection():
            direction = np.subtract(camera.GetFocalPoint(), camera.GetPosition())
            direction = np.broadcast_to(direction / np.linalg.norm(direction), (len(idx), 3))
            origin = np.broadcast_to(np.asarray(camera.GetPosition(), float), (len(idx), 3))
        else:
            origin = np.broadcast_to(np.asarray(camera.GetPosition(), float), (len(idx), 3))
            direction = points[idx] - origin
            direction = direction / np.maximum(np.linalg.norm(direction, axis=1), 1e-12)[:, None]
        depth = self._depths(px[idx])
        # Back from the depth buffer to a distance along the ray, so the tolerance is in
        # metres (depth values are not linear in distance).
        ndc = np.c_[(xy[idx] - (x0, y0)) / (width, height) * 2 - 1, depth * 2 - 1, np.ones(len(idx))]
        world = ndc @ np.linalg.inv(composite_matrix(self.main)).T
        world = world[:, :3] / world[:, 3:]
        drawn_at = ((world - origin) * direction).sum(axis=1)
        point_at = ((points[idx] - origin) * direction).sum(axis=1)
        tolerance = np.broadcast_to(np.asarray(tolerance, float), (n,))[idx]
        result[idx] = (depth < 1.0) & (drawn_at < point_at - tolerance)
        return result

    def _depths(self, px: np.ndarray) -> np.ndarray:
        """Depth buffer values (0 near .. 1 far) at display pixels ``px`` ``(n, 2)``."""
        if len(px) <= _POINT_READS:
            return np.array([self.window.GetZbufferDataAtPoint(int(x), int(y)) for x, y in px])
        (xa, ya), (xb, yb) = px.min(axis=0), px.max(axis=0)
        buffer = vtk.vtkFloatArray()
        self.window.GetZbufferData(int(xa), int(ya), int(xb), int(yb), buffer)
        rect = vtk_to_numpy(buffer).reshape(yb - ya + 1, xb - xa + 1)
        return rect[px[:, 1] - ya, px[:, 0] - xa].astype(float)


def composite_matrix(renderer) -> np.ndarray:
    """World -> clip coordinates of ``renderer``'s camera at its current aspect, 4 x 4."""
    width, height = renderer.GetSize()
    m = renderer.GetActiveCamera().GetCompositeProjectionTransformMatrix(width / max(height, 1), -1, 1)
    return np.array([[m.GetElement(r, c) for c in range(4)] for r in range(4)])

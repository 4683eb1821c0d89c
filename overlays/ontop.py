"""Drawing over the machine, and asking the frame what the machine hides.

Badges and the x-ray ghost of a selected part must show even where other parts cover
them. They go in a renderer of their own in a higher layer of the same window that
shares the main camera: a layer above 0 clears only the depth buffer, so whatever it
holds is drawn over the finished machine.

Whether a part is hidden is read from the depth buffer of the frame being drawn. The
main renderer's ``EndEvent`` fires once the machine (layer 0) is complete and before the
higher layers draw, so what goes on top is decided from the same frame: no lag, no
extra render, and no ray casting on the CPU (measured: reading the depth of a few
hundred pixels is lost in the cost of the frame itself on software GL).
"""

from __future__ import annotations

import weakref

import numpy as np
import vtk
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

    def hidden(self, boxes: np.ndarray) -> np.ndarray:
        """Which world boxes are covered by something else at their centre, in the frame
        just drawn (call only from ``on_frame``).

        A box is hidden when the depth drawn at its centre's pixel lies in front of
        where the ray through that pixel enters the box: something between the camera
        and the part covers it there. A box off screen, behind the camera or around the
        camera is not hidden.

        Parameters
        ----------
        boxes : numpy.ndarray
            ``(n, 2, 3)`` world ``[min, max]`` corners.

        Returns
        -------
        numpy.ndarray
            ``(n,)`` bool.
        """
        n = len(boxes)
        if not n:
            return np.zeros(0, dtype=bool)
        width, height = self.main.GetSize()
        x0, y0 = self.main.GetOrigin()
        centres = boxes.mean(axis=1)
        xy, front = self.project(centres)
        px = np.rint(xy).astype(np.int64)
        on_screen = front & (px[:, 0] >= x0) & (px[:, 0] < x0 + width) & (px[:, 1] >= y0) & (px[:, 1] < y0 + height)
        result = np.zeros(n, dtype=bool)
        if not on_screen.any():
            return result
        camera = self.main.GetActiveCamera()
        if camera.GetParallelProjection():
            direction = np.subtract(camera.GetFocalPoint(), camera.GetPosition())
            direction = np.broadcast_to(direction / np.linalg.norm(direction), centres.shape)
            origin = centres - direction * camera.GetDistance() * 10
        else:
            origin = np.broadcast_to(np.asarray(camera.GetPosition(), float), centres.shape)
            direction = centres - origin
            direction = direction / np.maximum(np.linalg.norm(direction, axis=1), 1e-12)[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            t0, t1 = (boxes[:, 0] - origin) / direction, (boxes[:, 1] - origin) / direction
        near = np.nan_to_num(np.minimum(t0, t1), nan=-np.inf).max(axis=1)  # where the ray enters the box
        idx = np.flatnonzero(on_screen & (near > 0))
        if not len(idx):
            return result
        depth = self._depths(px[idx])
        # Back from the depth buffer to a distance along the ray, so the tolerance is in
        # metres (depth values are not linear in distance).
        ndc = np.c_[(px[idx] - (x0, y0) + 0.5) / (width, height) * 2 - 1, depth * 2 - 1, np.ones(len(idx))]
        world = ndc @ np.linalg.inv(composite_matrix(self.main)).T
        world = world[:, :3] / world[:, 3:]
        drawn_at = ((world - origin[idx]) * direction[idx]).sum(axis=1)
        tolerance = 0.02 * np.linalg.norm(boxes[idx, 1] - boxes[idx, 0], axis=1) + 1e-6
        result[idx] = (depth < 1.0) & (drawn_at < near[idx] - tolerance)
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

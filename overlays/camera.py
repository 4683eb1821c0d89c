"""Standard views of a machine, and framing a box in the view."""

from __future__ import annotations

import numpy as np

#: Name -> (direction from the machine to the camera, the camera's up).
VIEWS = {
    "iso": ((1.0, -1.2, 0.9), (0, 0, 1)),
    "front": ((0, -1, 0), (0, 0, 1)),
    "side": ((1, 0, 0), (0, 0, 1)),
    "top": ((0, 0, 1), (0, 1, 0)),
}
VIEW_ANGLE = 30.0  # degrees


def frame(plotter, bounds: np.ndarray, view: str | None = None) -> None:
    """Point ``plotter``'s camera so that ``bounds`` (``[[min], [max]]``) fills the view.

    Parameters
    ----------
    plotter : pyvista.Plotter
        Whose camera moves (through pyvista, which would otherwise reset a camera it
        has not seen set on its first use).
    bounds : numpy.ndarray
        The box to show, in world coordinates.
    view : str, optional
        A name in :data:`VIEWS` to look from; by default the camera keeps its direction.
    """
    camera = plotter.camera
    if view is not None:
        direction, up = VIEWS[view]
        camera.SetViewUp(up)
    else:
        direction = np.subtract(camera.GetPosition(), camera.GetFocalPoint())
    centre = np.mean(bounds, axis=0)
    radius = max(np.linalg.norm(np.subtract(bounds[1], bounds[0])) / 2, 1e-3)
    camera.SetViewAngle(VIEW_ANGLE)
    # the distance at which the bounding sphere just fits the view, a little closer
    distance = radius / np.sin(np.radians(VIEW_ANGLE / 2)) * 0.95
    camera.SetFocalPoint(centre)
    camera.SetPosition(centre + np.asarray(direction, float) / np.linalg.norm(direction) * distance)
    plotter.renderer.ResetCameraClippingRange()

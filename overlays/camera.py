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


def match_pinhole(plotter, matrix: np.ndarray, size: tuple[int, int], world_to_camera: np.ndarray) -> None:
    """Make ``plotter``'s camera the real camera that took an (undistorted) image, so that
    the machine drawn lies on the machine in the image (AR).

    Parameters
    ----------
    plotter : pyvista.Plotter
        Whose camera is set; its window should have the image's aspect.
    matrix : numpy.ndarray
        The camera's 3 x 3 intrinsic matrix (fx, fy, cx, cy), in pixels of an image of ``size``.
    size : tuple of int
        The image's width and height.
    world_to_camera : numpy.ndarray
        4 x 4, the camera's pose (OpenCV's axes: x right, y down, z forward).
    """
    w, h = size
    rotation, translation = world_to_camera[:3, :3], world_to_camera[:3, 3]
    position = -rotation.T @ translation
    camera = plotter.camera
    camera.SetPosition(position)
    camera.SetFocalPoint(position + rotation[2])  # the optical axis
    camera.SetViewUp(-rotation[1])  # image rows grow downwards
    camera.SetViewAngle(np.degrees(2 * np.arctan(h / 2 / matrix[1, 1])))
    # the principal point off the centre, in VTK's -1..1 window coordinates (y up)
    camera.SetWindowCenter(-(matrix[0, 2] - w / 2) / (w / 2), (matrix[1, 2] - h / 2) / (h / 2))
    camera.SetUseExplicitAspectRatio(True)  # pixels a little wider or taller than square: fx != fy
    camera.SetExplicitAspectRatio(w / h * matrix[1, 1] / matrix[0, 0])
    plotter.renderer.ResetCameraClippingRange()

"""A smooth camera move: from where the camera is to where a view would put it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6 import QtCore

FLIGHT_MS = 400  # a flight to a part takes this long


class CameraFlight(QtCore.QObject):
    """Moves ``plotter``'s camera in :data:`FLIGHT_MS`, eased, rendering each step.

    Parameters
    ----------
    plotter : pyvistaqt.QtInteractor
        Whose camera flies.
    """

    def __init__(self, plotter, parent=None):
        super().__init__(parent)
        self.plotter = plotter
        self._animation = QtCore.QVariantAnimation(self)
        self._animation.setDuration(FLIGHT_MS)
        self._animation.setStartValue(0.0)
        self._animation.setEndValue(1.0)
        self._animation.setEasingCurve(QtCore.QEasingCurve.Type.InOutCubic)
        self._animation.valueChanged.connect(self._step)
        self._path = None
        self._along: Callable[[float], None] | None = None

    def fly(self, aim: Callable[[], None], along: Callable[[float], None] | None = None) -> None:
        """Fly to where ``aim()`` (which sets the camera, e.g. a scene's ``fit``) puts it;
        ``along(share)``, if given, is called at every step (0..1) before the render, to
        move something with the camera (a walkthrough's parts)."""
        self._finish()
        start = self._camera()
        aim()
        end = self._camera()
        self._set(*start)
        self._path, self._along = (start, end), along
        self._animation.start()

    def stop(self) -> None:
        """Stop where the camera is (what moves along it gets where it was going)."""
        self._finish()

    def cancel(self) -> None:
        """Stop at once, and forget what moved along (its scene is going away)."""
        self._along = None
        self._animation.stop()

    def _finish(self) -> None:
        running = self.flying
        self._animation.stop()
        if running and self._along is not None:
            self._along(1.0)
        self._along = None

    @property
    def flying(self) -> bool:
        """Whether the camera is on its way."""
        return self._animation.state() == QtCore.QAbstractAnimation.State.Running

    def _camera(self) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
        camera = self.plotter.camera
        return (np.array(camera.position), np.array(camera.focal_point), float(camera.view_angle),
                np.array(camera.up))

    def _set(self, position, focal_point, view_angle, up) -> None:
        camera = self.plotter.camera
        camera.position, camera.focal_point, camera.view_angle = tuple(position), tuple(focal_point), view_angle
        camera.up = tuple(up)
        camera.OrthogonalizeViewUp()
        self.plotter.renderer.ResetCameraClippingRange()

    def _step(self, share: float) -> None:
        (p0, f0, a0, u0), (p1, f1, a1, u1) = self._path
        up = u0 + (u1 - u0) * share
        if np.linalg.norm(up) < 1e-6:  # turning upside down: pass through the view direction's side
            up = np.cross(p1 - f1, u1)
        self._set(p0 + (p1 - p0) * share, f0 + (f1 - f0) * share, a0 + (a1 - a0) * share, up)
        if self._along is not None:
            self._along(share)
        self.plotter.render()

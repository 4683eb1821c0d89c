"""AR in the window: the camera's picture behind the live twin, registered by its markers.

The camera thread reads each frame, finds the markers and undistorts the picture
(:class:`viewer.ar.capture.CameraSource` with a ``process``); the UI only takes the newest
result on its frame: the picture into the view's background, the pose into the camera,
the track's state into the status bar. The twin is drawn as a ghost where the machine
is, and not at all while the markers are lost. Stopping gives the view back as it was.
"""

from __future__ import annotations

import cv2
import numpy as np
from PySide6 import QtCore, QtWidgets

from overlays.backdrop import CameraBackdrop
from overlays.camera import match_pinhole
from viewer.ar.camera import Intrinsics
from viewer.ar.capture import CameraSource
from viewer.ar.pose import MarkerLocator
from viewer.ar.tracking import Tracker
from viewer.ar_render import GHOST_OPACITY


class ArControl(QtCore.QObject):
    """AR on ``window`` (a :class:`~viewer.qt.window.MainWindow`), started by :meth:`start`."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.source: CameraSource | None = None
        self.track = None  # the latest viewer.ar.tracking.Track
        self.status = ""
        self._backdrop: CameraBackdrop | None = None
        self._camera: Intrinsics | None = None
        self._calibration: Intrinsics | None = None
        self._tracker = Tracker()
        self._shown = 0  # the number of the frame on screen
        self._saved_camera = None

    @property
    def running(self) -> bool:
        return self.source is not None

    def dialog(self) -> None:
        """View > AR camera…: where the picture comes from (and the camera's calibration)."""
        if self.running:
            return self.stop()
        where, ok = QtWidgets.QInputDialog.getText(
            self.window, "AR camera", "Camera number, video file, stream URL (rtsp://, http://) or photo:", text="0")
        if not ok or not where.strip():
            return
        calibration, _ = QtWidgets.QFileDialog.getOpenFileName(
            self.window, "The camera's calibration (Cancel: assume a 60° field of view)", "", "Calibration (*.yaml)")
        try:
            self.start(where.strip(), Intrinsics.load(calibration) if calibration else None)
        except ValueError as exc:
            QtWidgets.QMessageBox.warning(self.window, "AR camera", str(exc))

    def start(self, where, calibration: Intrinsics | None = None) -> None:
        """Show the picture from ``where`` behind the twin, registered by the twin's markers."""
        self.stop()
        twin = self.window.session.twin
        self._calibration, self._camera, self._maps = calibration, None, None
        self._locator = MarkerLocator(twin.spec.markers, twin.assembly.world_transforms())
        self._tracker = Tracker()
        self.track, self._shown, self._drawn = None, 0, True
        cam = self.window.plotter.camera
        self._saved_camera = (cam.position, cam.focal_point, cam.up, cam.view_angle)
        self._backdrop = CameraBackdrop(self.window.plotter)
        self.source = CameraSource(where, loop=True, process=self._process).start()
        self.status = f"AR · waiting for a picture from {self.source.label}"

    def stop(self) -> None:
        """Back to the twin on its own, seen as before AR."""
        if self.source is None:
            return
        self.source.stop()
        self.source = None
        self._backdrop.close()
        self._backdrop = None
        self.window.session.scene.parts.set_opacity(1.0)
        self.window.session.scene.parts.flush()
        self.window._apply_layers(["labels", "badges"])
        cam = self.window.plotter.camera
        cam.SetWindowCenter(0, 0)
        cam.SetUseExplicitAspectRatio(False)
        cam.position, cam.focal_point, cam.up, cam.view_angle = self._saved_camera
        self.window.plotter.renderer.ResetCameraClippingRange()
        self.status = ""
        self.window.plotter.render()

    # -- the camera's thread -------------------------------------------------------------

    def _process(self, frame: np.ndarray):
        """On the camera's thread: the pose from the markers, the picture undistorted."""
        h, w = frame.shape[:2]
        camera = self._camera
        if camera is None or camera.size != (w, h):
            camera = self._calibration.scaled(w, h) if self._calibration else Intrinsics.from_fov(w, h)
            self._maps = cv2.initUndistortRectifyMap(camera.matrix, camera.distortion, None, camera.matrix, (w, h),
                                                     cv2.CV_16SC2) if camera.distortion.any() else None
            self._camera = camera
        pose = self._locator.locate(frame, camera)
        picture = cv2.remap(frame, *self._maps, cv2.INTER_LINEAR) if self._maps is not None else frame
        return picture, pose, camera

    # -- the UI's frame ----------------------------------------------------------------------

    def tick(self) -> bool:
        """Take the newest processed frame, if there is one; True when a render is due."""
        if self.source is None:
            return False
        result, index = self.source.processed()
        state = self.source.state
        if result is None or index == self._shown:
            if state in ("stalled", "failed", "ended"):
                self.status = f"AR · {self.source.label} {state}" + (f": {self.source.message}"
                                                                        if self.source.message else "")
            return False
        self._shown = index
        picture, pose, camera = result
        self._backdrop.show(picture)
        self.track = self._tracker.update(pose)
        scene = self.window.session.scene
        was_shown = self._drawn
        self._drawn = self.track.shown
        if self.track.shown:
            match_pinhole(self.window.plotter, camera.matrix, camera.size, self.track.pose.world_to_camera)
            scene.parts.set_opacity(GHOST_OPACITY)
            if not was_shown:
                self.window._apply_layers(["labels", "badges"])  # as the technician has them
        else:  # no pose: nothing drawn where the machine might not be, labels and badges neither
            scene.parts.set_opacity(0.0)
            if was_shown:
                for layer in ("labels", "badges"):
                    scene.set_layer_visible(layer, False, self.window.session.state.values())
        scene.parts.flush()
        self.status = self._describe(camera)
        return True

    def _describe(self, camera: Intrinsics) -> str:
        track, where = self.track, self.source.label
        if track.pose is None:
            return f"AR · {where} · markers {'lost' if track.state == 'lost' else 'not found yet'}: the twin is not drawn"
        seen = len(track.pose.markers)
        text = f"AR · {where} · {seen} marker{'s' if seen != 1 else ''}, {track.pose.error_px:.1f} px"
        if track.state == "holding":
            text += " (markers out of sight a moment)"
        if not camera.calibrated:
            text += " · camera not calibrated"
        if not track.pose.trusted:
            text += " · NOT ALIGNED: do not trust the overlay"
        return text

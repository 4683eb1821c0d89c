"""``twinview ar``, headless: the live twin registered over a camera's picture, to a PNG.

The picture is undistorted with the camera's calibration (so that the pinhole view VTK
draws fits it), the camera's pose found from the twin's markers in it, and the machine
drawn over it as a ghost, with its live colours, labels and badges. Without a
calibration a stated field of view stands in, and the picture says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import cv2
from PIL import Image

from overlays.backdrop import CameraBackdrop
from overlays.camera import match_pinhole
from viewer.ar.camera import Intrinsics
from viewer.ar.capture import CameraSource
from viewer.ar.pose import MarkerLocator, Pose
from viewer.scene import offscreen_plotter
from viewer.session import Session
from viewer.twin.loader import Twin

#: Exit statuses of ``twinview ar``: registered and trusted, no marker seen, registered but
#: not to be trusted (reprojection error too large), no picture from the camera.
EXIT_REGISTERED, EXIT_NO_MARKERS, EXIT_UNTRUSTED, EXIT_NO_PICTURE = 0, 6, 7, 8
GHOST_OPACITY = 0.55  # the real machine shows through the twin


@dataclass
class ArReport:
    """What a headless AR frame found."""

    path: str
    pose: Pose | None
    camera: Intrinsics | None
    message: str

    @property
    def exit_status(self) -> int:
        if self.camera is None:
            return EXIT_NO_PICTURE
        if self.pose is None:
            return EXIT_NO_MARKERS
        return EXIT_REGISTERED if self.pose.trusted else EXIT_UNTRUSTED


def ar_render(twin: Twin, source: str, out: str, calibration: Intrinsics | None = None, fov: float = 60.0,
              seconds: float = 3.0, broker_url: str | None = None, password: str | None = None) -> ArReport:
    """Take a frame from ``source`` (camera, video, stream or photo), register the twin on
    it, draw the twin with ``seconds`` of live values over it, write the PNG ``out``."""
    capture = CameraSource(source).start()
    try:
        deadline = time.monotonic() + max(seconds, 5.0)
        while capture.latest()[0] is None and capture.state not in ("failed", "ended") \
                and time.monotonic() < deadline:
            time.sleep(0.02)
        frame = capture.latest()[0]
        if frame is None:
            return ArReport(out, None, None, capture.message or f"no picture from {capture.label} in time")
        h, w = frame.shape[:2]
        camera = calibration.scaled(w, h) if calibration is not None else Intrinsics.from_fov(w, h, fov)
        pose = MarkerLocator(twin.spec.markers, twin.assembly.world_transforms()).locate(frame, camera) \
            if twin.spec.markers else None
        # the picture as a pinhole camera would have taken it: what VTK draws fits it
        picture = cv2.undistort(frame, camera.matrix, camera.distortion) if camera.distortion.any() else frame
        _draw(twin, picture, camera, pose, out, seconds, broker_url, password)
        return ArReport(out, pose, camera, _quality(twin, camera, pose))
    finally:
        capture.stop()


def _quality(twin: Twin, camera: Intrinsics, pose: Pose | None) -> str:
    """What the picture says of the overlay's alignment."""
    if not twin.spec.markers:
        return "the twin declares no markers: nothing to register on"
    if pose is None:
        return "no marker of the twin in the picture: the twin is not drawn"
    seen = f"{len(pose.markers)} marker{'s' if len(pose.markers) != 1 else ''}, {pose.error_px:.1f} px"
    lens = "" if camera.calibrated else ", camera not calibrated (field of view assumed)"
    trust = "" if pose.trusted else ": NOT ALIGNED, do not trust the overlay"
    return f"AR · {seen}{lens}{trust}"


def _draw(twin, picture, camera: Intrinsics, pose: Pose | None, out: str, seconds: float, broker_url, password):
    plotter = offscreen_plotter(camera.size)
    session = backdrop = None
    try:
        session = Session(twin, plotter, broker_url, password)
        session.start()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            session.tick()
            time.sleep(1 / 30)
        session.tick()
        backdrop = CameraBackdrop(plotter)
        backdrop.show(picture)
        parts = session.scene.parts
        if pose is None:
            parts.set_opacity(0.0)
            session.scene.set_layer_visible("labels", False, session.state.values())
        else:
            parts.set_opacity(GHOST_OPACITY)
            match_pinhole(plotter, camera.matrix, camera.size, pose.world_to_camera)
        plotter.add_text(f"{twin.name} · {_quality(twin, camera, pose)}", position="upper_left", font_size=10,
                         color="white" if pose is not None and pose.trusted else "red")
        Image.fromarray(plotter.screenshot(return_img=True)).save(out, compress_level=1)
    finally:
        if backdrop is not None:
            backdrop.close()
        if session is not None:
            session.close()
        plotter.close()

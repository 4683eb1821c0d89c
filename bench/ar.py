"""AR: what a camera frame costs on its way to the screen, 720p, the demo pump.

- ``ar.camera_thread.720p``: ms per frame on the camera's thread: finding the markers,
  solving the pose, undistorting the picture (the UI does not wait for it); baseline: a
  plain frame of the machine.
- ``ar.ui_frame.720p``: ms per frame on the UI thread: the picture into the background
  texture, the camera matched, the render; baseline: a plain frame.

A 30 fps camera leaves 33 ms a frame: the camera's thread keeps up when its figure is
under that, and the newest frame wins when the UI's is not (no frames queue).

Run: ``.venv/bin/python bench/ar.py [OPACITY]`` (the ghost's, default 0.55; 1.0 shows what
the translucency costs). Prints a table; adds its figures to ``bench/results.json``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
from _common import make_plotter, median_ms, print_table, record  # noqa: E402

from overlays.backdrop import CameraBackdrop  # noqa: E402
from overlays.camera import match_pinhole  # noqa: E402
from tests.viewer.ar.synthetic import look_at, render  # noqa: E402
from viewer.ar.camera import Intrinsics  # noqa: E402
from viewer.ar.pose import MarkerLocator  # noqa: E402
from viewer.samples import SAMPLES  # noqa: E402
from viewer.session import Session  # noqa: E402
from viewer.twin.loader import load_twin  # noqa: E402
from viewer.twin.markers import marker_corners  # noqa: E402

FRAMES = 30
CAMERA = Intrinsics(np.array([[950.0, 0, 645], [0, 950.0, 355], [0, 0, 1]]), (1280, 720),
                    np.array([-0.1, 0.03, 0.0, 0.0, 0.0]))


def main() -> None:
    twin = load_twin(SAMPLES["pump"])
    worlds = twin.assembly.world_transforms()
    markers = [(m.dictionary, m.id, marker_corners(m, worlds)) for m in twin.spec.markers]
    rvec, tvec = look_at((0.1, -2.2, 1.1), (0.05, 0, 0.35))
    frames = [render(CAMERA, rvec, tvec, markers, noise=2.0, blur=0.7, seed=i) for i in range(4)]
    locator = MarkerLocator(twin.spec.markers, worlds)
    maps = cv2.initUndistortRectifyMap(CAMERA.matrix, CAMERA.distortion, None, CAMERA.matrix, CAMERA.size,
                                       cv2.CV_16SC2)
    turn = [0]

    def frame():
        turn[0] += 1
        return frames[turn[0] % len(frames)]

    found = []
    locate_ms, undistort_ms, thread_ms = median_ms(
        FRAMES, lambda: found.append(locator.locate(frame(), CAMERA)), lambda: cv2.remap(frame(), *maps, cv2.INTER_LINEAR))
    plotter = make_plotter(CAMERA.size)
    session = Session(twin, plotter, broker_url="mqtt://127.0.0.1:1")  # the scene, not connected
    render_frame = plotter.ren_win.Render
    plotter.render()
    (plain_ms,) = median_ms(FRAMES, render_frame)[-1:]
    backdrop = CameraBackdrop(plotter)
    session.scene.parts.set_opacity(float(sys.argv[1]) if len(sys.argv) > 1 else 0.55)
    pose = found[-1]

    pictures = [cv2.remap(f, *maps, cv2.INTER_LINEAR) for f in frames]  # as the camera's thread hands them over

    def ui():
        turn[0] += 1
        backdrop.show(pictures[turn[0] % len(pictures)])
        match_pinhole(plotter, CAMERA.matrix, CAMERA.size, pose.world_to_camera)
        session.scene.parts.flush()

    upload_ms, ar_render_ms, ui_ms = median_ms(FRAMES, ui, render_frame)
    backdrop.close()
    session.close()
    plotter.close()

    record("ar.camera_thread.720p", thread_ms, "ms", baseline=plain_ms, target=None)
    record("ar.ui_frame.720p", ui_ms, "ms", baseline=plain_ms, target=None)
    print_table(["figure", "ms", "baseline ms", "ratio"], [
        ["camera thread: markers + pose", locate_ms, None, None],
        ["camera thread: undistort", undistort_ms, None, None],
        ["camera thread, per frame (baseline: a plain frame)", thread_ms, plain_ms, thread_ms / plain_ms],
        ["UI: picture in, camera matched", upload_ms, None, None],
        ["UI: the render", ar_render_ms, None, None],
        ["UI frame with a new picture (baseline: a plain frame)", ui_ms, plain_ms, ui_ms / plain_ms],
        ["frames a second the UI can show", 1000 / ui_ms, None, None],
    ])


if __name__ == "__main__":
    main()

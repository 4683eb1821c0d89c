"""AR in the window: the camera's picture behind the twin, the twin where the machine is."""

import time

import cv2
import numpy as np
import pytest

from tests.viewer.ar.synthetic import look_at, render
from viewer.ar.camera import Intrinsics
from viewer.qt.window import MainWindow
from viewer.samples import SAMPLES
from viewer.twin.loader import load_twin
from viewer.twin.markers import marker_corners

CAMERA = Intrinsics(np.array([[700.0, 0, 482], [0, 700.0, 268], [0, 0, 1]]), (960, 540),
                    np.array([-0.1, 0.03, 0.0, 0.0, 0.0]))
VIEW = ((0.1, -2.0, 1.1), (0.05, 0, 0.35))


@pytest.fixture
def window(qtbot):
    win = MainWindow(load_twin(SAMPLES["pump"]), broker_url="mqtt://127.0.0.1:1")
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()


def _photo(tmp_path):
    twin = load_twin(SAMPLES["pump"], geometry=True)
    worlds = twin.assembly.world_transforms()
    rvec, tvec = look_at(*VIEW)
    markers = [(m.dictionary, m.id, marker_corners(m, worlds)) for m in twin.spec.markers]
    path = tmp_path / "pump.png"
    cv2.imwrite(str(path), render(CAMERA, rvec, tvec, markers, noise=2.0, blur=0.7))
    return path, twin, rvec, tvec


def _on_screen(window, pixel):
    """Where a pixel of the picture is in the view (the picture fills the view)."""
    h, w = window.plotter.screenshot(return_img=True).shape[:2]
    return int(pixel[1] * h / CAMERA.size[1]), int(pixel[0] * w / CAMERA.size[0])


def test_the_twin_is_drawn_over_the_camera_s_picture_where_the_machine_is(window, qtbot, tmp_path):
    photo, twin, rvec, tvec = _photo(tmp_path)
    picture = cv2.cvtColor(cv2.undistort(cv2.imread(str(photo)), CAMERA.matrix, CAMERA.distortion), cv2.COLOR_BGR2RGB)
    window.resize(1280, 900)
    window.set_layer("labels", False)  # what is under them is the question here
    window.ar.start(str(photo), CAMERA)
    qtbot.waitUntil(lambda: window.ar.track is not None and window.ar.track.shown, timeout=10000)
    qtbot.waitUntil(lambda: "markers" in window.statusBar().currentMessage(), timeout=5000)
    assert window.ar.status.startswith("AR · pump.png · ") and "px" in window.ar.status
    window.plotter.render()
    with_twin = window.plotter.screenshot(return_img=True)[..., :3].astype(int)
    parts = window.session.scene.parts
    parts.set_opacity(0.0)
    parts.flush()
    window.plotter.render()
    picture_only = window.plotter.screenshot(return_img=True)[..., :3].astype(int)
    parts.set_opacity(0.55)
    for name in ("casing", "motor"):  # each part's ghost lies over that part of the picture
        world = twin.assembly.world_transforms()[name]
        centre = twin.assembly[name].vertices.mean(axis=0) @ world[:3, :3].T + world[:3, 3]
        pixel, _ = cv2.projectPoints(centre.reshape(1, 1, 3), rvec, tvec, CAMERA.matrix, np.zeros(5))
        r, c = _on_screen(window, pixel.ravel())
        assert np.abs(with_twin[r - 2:r + 3, c - 2:c + 3] - picture_only[r - 2:r + 3, c - 2:c + 3]).mean() > 10
    corner = _on_screen(window, (CAMERA.size[0] - 40, 40))  # top right: the picture, nothing over it
    assert np.abs(with_twin[corner] - picture[40, CAMERA.size[0] - 40].astype(int)).max() < 25
    assert np.abs(with_twin[corner] - picture_only[corner]).max() == 0

    window.ar.stop()
    window.plotter.render()
    shot = window.plotter.screenshot(return_img=True)[..., :3].astype(int)
    assert shot[corner].max() < 100  # the view's own dark background again
    assert parts.groups[0].actor.GetProperty().GetOpacity() == 1.0


def test_a_camera_that_fails_is_said_and_the_window_goes_on(window, qtbot, tmp_path):
    window.ar.start(str(tmp_path / "no-such-camera.mp4"))
    qtbot.waitUntil(lambda: "failed" in window.ar.status, timeout=10000)
    started = time.perf_counter()
    for _ in range(10):
        window.tick()
    assert (time.perf_counter() - started) / 10 < 0.5  # frames go on
    assert "cannot open no-such-camera.mp4" in window.ar.status
    window.ar.stop()


def test_without_markers_in_the_picture_the_twin_is_not_drawn_over_it(window, qtbot, tmp_path):
    photo = tmp_path / "wall.png"
    cv2.imwrite(str(photo), np.full((540, 960, 3), 128, np.uint8))
    window.ar.start(str(photo), CAMERA)
    qtbot.waitUntil(lambda: "not found yet" in window.ar.status, timeout=10000)
    assert window.session.scene.parts.groups[0].actor.GetProperty().GetOpacity() == 0.0
    assert not window.session.scene.layer_visible("labels")  # no value floating where nothing is
    window.ar.stop()
    assert window.session.scene.layer_visible("labels")

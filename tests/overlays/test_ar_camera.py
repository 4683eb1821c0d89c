"""The VTK camera made from a real camera's intrinsics and pose draws the machine where that
camera sees it: a part's pixels in the render and in the camera's projection coincide."""

import cv2
import numpy as np
import pytest
import pyvista as pv

from overlays.camera import match_pinhole
from tests.viewer.ar.synthetic import look_at
from viewer.samples import SAMPLES
from viewer.twin.loader import load_twin

SIZE = (640, 360)
# a principal point well off the centre and pixels 3 % taller than wide: both must be honoured
MATRIX = np.array([[470.0, 0, 352.0], [0, 484.0, 166.0], [0, 0, 1]])


@pytest.fixture(scope="module")
def pump():
    return load_twin(SAMPLES["pump"])


def _part(twin, name):
    part, world = twin.assembly[name], twin.assembly.world_transforms()[name]
    return part.vertices @ world[:3, :3].T + world[:3, 3], part.faces


@pytest.mark.parametrize("name, view", [("casing", ((0.4, -1.6, 1.0), (0.45, 0, 0.55))),
                                        ("motor", ((-1.5, -1.4, 0.6), (-0.6, 0, 0.5)))])
def test_a_part_is_drawn_where_the_camera_sees_it(pump, name, view):
    vertices, faces = _part(pump, name)
    rvec, tvec = look_at(*view)
    # where the camera sees the part: its triangles projected and filled
    pixels, _ = cv2.projectPoints(vertices.reshape(-1, 1, 3), rvec, tvec, MATRIX, np.zeros(5))
    seen = np.zeros(SIZE[::-1], np.uint8)
    for triangle in np.round(pixels.reshape(-1, 2)[faces]).astype(np.int32):  # one by one: fillPoly is even-odd
        cv2.fillConvexPoly(seen, triangle, 1)
    # where the AR view draws it
    plotter = pv.Plotter(off_screen=True, window_size=SIZE)
    try:
        plotter.set_background("black")
        plotter.add_mesh(pv.PolyData(vertices, np.c_[np.full(len(faces), 3), faces]), color="white", lighting=False)
        world_to_camera = np.eye(4)
        world_to_camera[:3, :3], world_to_camera[:3, 3] = cv2.Rodrigues(rvec)[0], tvec.ravel()
        match_pinhole(plotter, MATRIX, SIZE, world_to_camera)
        drawn = plotter.screenshot(return_img=True)[..., 0] > 127
    finally:
        plotter.close()
    assert seen.sum() > 2000  # the part fills a fair share of the picture
    iou = np.logical_and(drawn, seen).sum() / np.logical_or(drawn, seen).sum()
    assert iou > 0.97, iou


@pytest.mark.parametrize("channels", [None, 3, 4])
def test_the_camera_s_picture_fills_the_background_and_the_view_s_own_comes_back(channels):
    rng = np.random.default_rng(0)
    grey = cv2.resize(rng.uniform(0, 255, (9, 16)).astype(np.uint8), SIZE, interpolation=cv2.INTER_NEAREST)
    frame = grey if channels is None else np.repeat(grey[:, :, None], channels, axis=2)
    plotter = pv.Plotter(off_screen=True, window_size=SIZE)
    try:
        plotter.set_background("#1d2330", top="#3b4558")
        from overlays.backdrop import CameraBackdrop

        backdrop = CameraBackdrop(plotter)
        backdrop.show(frame)
        plotter.render()
        shot = plotter.screenshot(return_img=True)[..., 0].astype(int)
        assert np.abs(shot[20:-20, 20:-20] - grey[20:-20, 20:-20]).mean() < 3  # the picture, the right way up
        backdrop.close()
        plotter.render()
        assert plotter.screenshot(return_img=True)[..., 2].max() < 100  # the dark gradient again
    finally:
        plotter.close()

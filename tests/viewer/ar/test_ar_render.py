"""``twinview ar``: the twin drawn over a photo of the machine, where the machine is."""

import subprocess
import sys

import cv2
import numpy as np
import pytest
from PIL import Image

from tests.viewer.ar.synthetic import look_at, render
from viewer.ar.camera import Intrinsics
from viewer.ar_render import EXIT_NO_MARKERS, EXIT_REGISTERED, ar_render
from viewer.samples import SAMPLES
from viewer.twin.loader import load_twin
from viewer.twin.markers import marker_corners

CAMERA = Intrinsics(np.array([[700.0, 0, 482], [0, 700.0, 268], [0, 0, 1]]), (960, 540),
                    np.array([-0.1, 0.03, 0.0, 0.0, 0.0]))
VIEW = ((0.1, -2.0, 1.1), (0.05, 0, 0.35))


@pytest.fixture(scope="module")
def pump():
    return load_twin(SAMPLES["pump"])


def _photo(tmp_path, pump, markers=True):
    rvec, tvec = look_at(*VIEW)
    worlds = pump.assembly.world_transforms()
    shown = [(m.dictionary, m.id, marker_corners(m, worlds)) for m in pump.spec.markers] if markers else []
    path = tmp_path / "pump.png"
    cv2.imwrite(str(path), render(CAMERA, rvec, tvec, shown, noise=2.0, blur=0.7))
    return path, rvec, tvec


def _where(pump, part, rvec, tvec):
    """The pixel (row, col) of a part's centre in the undistorted picture."""
    world = pump.assembly.world_transforms()[part]
    centre = pump.assembly[part].vertices.mean(axis=0) @ world[:3, :3].T + world[:3, 3]
    pixel, _ = cv2.projectPoints(centre.reshape(1, 1, 3), rvec, tvec, CAMERA.matrix, np.zeros(5))
    col, row = np.round(pixel.ravel()).astype(int)
    return row, col


def test_the_twin_is_drawn_over_the_photo_where_the_machine_is(pump, tmp_path):
    photo, rvec, tvec = _photo(tmp_path, pump)
    CAMERA.save(tmp_path / "camera.yaml")
    report = ar_render(pump, str(photo), str(tmp_path / "ar.png"), Intrinsics.load(tmp_path / "camera.yaml"),
                       seconds=0.2)
    assert report.exit_status == EXIT_REGISTERED and len(report.pose.markers) >= 3
    assert report.message.startswith("AR · ") and "not calibrated" not in report.message
    shot = np.asarray(Image.open(tmp_path / "ar.png"))[..., :3].astype(int)
    picture = cv2.cvtColor(cv2.undistort(cv2.imread(str(photo)), CAMERA.matrix, CAMERA.distortion),
                           cv2.COLOR_BGR2RGB).astype(int)
    assert shot.shape == picture.shape
    for part in ("casing", "motor"):  # the ghost of the machine over the machine
        r, c = _where(pump, part, rvec, tvec)
        assert np.abs(shot[r - 2:r + 3, c - 2:c + 3] - picture[r - 2:r + 3, c - 2:c + 3]).mean() > 15
    # away from the machine (the top right corner, under nothing but the picture): the photo itself
    assert np.abs(shot[60:100, -140:-100] - picture[60:100, -140:-100]).mean() < 4


def test_without_markers_in_the_picture_the_twin_is_not_drawn_and_the_command_says_so(pump, tmp_path):
    photo, _, _ = _photo(tmp_path, pump, markers=False)
    result = subprocess.run([sys.executable, "-m", "viewer.cli", "ar", str(SAMPLES["pump"]), "--camera", str(photo),
                             "-o", str(tmp_path / "ar.png"), "--seconds", "0.2"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == EXIT_NO_MARKERS, result.stderr
    assert "no marker of the twin in the picture" in result.stdout
    assert (tmp_path / "ar.png").is_file()

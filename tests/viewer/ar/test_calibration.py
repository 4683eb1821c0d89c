"""Camera calibration from chessboard views: the intrinsics come back as they were made."""

import numpy as np
import pytest

from tests.viewer.ar.synthetic import chessboard, look_at, render_tiles
from viewer.ar.calibration import Board, CalibrationError, calibrate, coverage
from viewer.ar.camera import Intrinsics

TRUE = Intrinsics(np.array([[820.0, 0, 331], [0, 826.0, 236], [0, 0, 1]]), (640, 480),
                  np.array([-0.18, 0.09, 0.0, 0.0, 0.0]))
BOARD = Board((9, 6), 0.025)


def _views(n: int, seed: int = 0):
    """``n`` pictures of the board held at different angles and places, 0.35-0.5 m away."""
    image, corners = chessboard(BOARD.pattern, BOARD.square)
    centre = np.array([4 * BOARD.square, 2.5 * BOARD.square, 0])
    rng = np.random.default_rng(seed)
    views = []
    for i in range(n):
        angle = 2 * np.pi * i / n
        eye = centre + np.array([0.18 * np.cos(angle), 0.14 * np.sin(angle), -rng.uniform(0.35, 0.45)])
        target = centre + np.array([0.05 * np.cos(angle + 1), 0.04 * np.sin(angle + 1), 0])
        rvec, tvec = look_at(eye, target, up=(0, -1, 0))
        views.append(render_tiles(TRUE, rvec, tvec, [(image, corners)], noise=2.0, blur=0.6, seed=i))
    return views


def test_calibration_recovers_the_camera_it_was_made_with():
    found, used = calibrate(_views(12), BOARD)
    assert used >= 8  # the board wholly in the picture
    assert np.allclose(np.diag(found.matrix)[:2], np.diag(TRUE.matrix)[:2], rtol=0.005)  # focal lengths within 0.5 %
    assert np.allclose(found.matrix[:2, 2], TRUE.matrix[:2, 2], atol=2)  # principal point within 2 px
    assert found.distortion[0] == pytest.approx(-0.18, abs=0.05)  # the barrel distortion, found
    assert found.error_px < 0.5 and found.calibrated


def test_coverage_counts_where_the_board_has_been_and_too_few_views_are_refused():
    views = _views(3)
    seen = [BOARD.find(v) for v in views]
    counts = coverage([s for s in seen if s is not None], TRUE.size)
    assert counts.shape == (3, 4) and counts.sum() > 0
    with pytest.raises(CalibrationError, match="a calibration needs 6 or more"):
        calibrate(views, BOARD)


def test_a_calibration_is_saved_and_read_back(tmp_path):
    TRUE.save(tmp_path / "camera.yaml")
    again = Intrinsics.load(tmp_path / "camera.yaml")
    assert np.allclose(again.matrix, TRUE.matrix) and np.allclose(again.distortion, TRUE.distortion)
    (tmp_path / "bad.yaml").write_text("width: 3\n")
    with pytest.raises(ValueError, match="not a camera calibration"):
        Intrinsics.load(tmp_path / "bad.yaml")


def test_the_calibrate_command_writes_what_the_ar_command_reads(tmp_path):
    import subprocess
    import sys

    import cv2

    paths = []
    for i, view in enumerate(_views(10)):
        paths.append(tmp_path / f"board-{i}.png")
        cv2.imwrite(str(paths[-1]), view)
    result = subprocess.run([sys.executable, "-m", "viewer.cli", "calibrate", *map(str, paths), "-o",
                             str(tmp_path / "camera.yaml"), "--board", "9x6", "--square", "0.025"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "640x480, fx 8" in result.stdout and "reprojection error 0.0" in result.stdout
    found = Intrinsics.load(tmp_path / "camera.yaml")
    assert np.allclose(found.matrix, TRUE.matrix, rtol=0.01, atol=3)
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.zeros((480, 640), np.uint8))
    refused = subprocess.run([sys.executable, "-m", "viewer.cli", "calibrate", str(blank), "-o",
                              str(tmp_path / "no.yaml")], capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "a calibration needs 6 or more" in refused.stderr

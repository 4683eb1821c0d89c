"""A camera's intrinsics from views of a printed chessboard (``twinview calibrate``).

OpenCV finds the board's inner corners to a fraction of a pixel; a calibration needs views
from several angles that between them cover the picture, corners included (where the
lens distorts most). :func:`coverage` says how much of the picture the views have
covered, cell by cell, so the person holding the board knows where to move it next.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from viewer.ar.camera import Intrinsics

#: Fewest views with the whole board found that a calibration takes.
MIN_VIEWS = 6
#: The picture's grid for :func:`coverage` (columns, rows).
COVERAGE_GRID = (4, 3)
_SUBPIX = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 0.001)


class CalibrationError(ValueError):
    """No calibration from these views; the message says what to do."""


@dataclass(frozen=True)
class Board:
    """A printed chessboard: its inner corners (columns, rows) and its squares' side (metres)."""

    pattern: tuple[int, int] = (9, 6)
    square: float = 0.025

    @property
    def points(self) -> np.ndarray:
        """The inner corners in the board's frame (n x 3), in OpenCV's order."""
        cols, rows = self.pattern
        grid = np.mgrid[0:cols, 0:rows].T.reshape(-1, 2) * self.square
        return np.c_[grid, np.zeros(len(grid))].astype(np.float32)

    def find(self, image: np.ndarray) -> np.ndarray | None:
        """The board's inner corners in ``image`` (n x 2 pixels), None unless all are seen."""
        grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        found, corners = cv2.findChessboardCorners(grey, self.pattern, flags=cv2.CALIB_CB_ADAPTIVE_THRESH
                                                   | cv2.CALIB_CB_NORMALIZE_IMAGE)
        if not found:
            return None
        return cv2.cornerSubPix(grey, corners, (5, 5), (-1, -1), _SUBPIX).reshape(-1, 2)


def coverage(found: list[np.ndarray], size: tuple[int, int]) -> np.ndarray:
    """Per cell of :data:`COVERAGE_GRID` (rows x columns), how many views had board corners in it."""
    cols, rows = COVERAGE_GRID
    counts = np.zeros((rows, cols), int)
    for corners in found:
        cells = set(map(tuple, np.floor(corners / size * (cols, rows)).astype(int).clip(0, (cols - 1, rows - 1))))
        for c, r in cells:
            counts[r, c] += 1
    return counts


def calibrate(images, board: Board = Board()) -> tuple[Intrinsics, int]:
    """The intrinsics of the camera that took ``images`` (views of ``board``), with their
    RMS reprojection error; and how many views had the whole board.

    Raises
    ------
    CalibrationError
        With fewer than :data:`MIN_VIEWS` usable views, or images of different sizes.
    """
    found, size = [], None
    for image in images:
        h, w = image.shape[:2]
        if size is not None and size != (w, h):
            raise CalibrationError(f"the images are of different sizes ({size[0]}x{size[1]} and {w}x{h}): "
                                   "one camera at one resolution")
        size = (w, h)
        corners = board.find(image)
        if corners is not None:
            found.append(corners)
    if len(found) < MIN_VIEWS:
        raise CalibrationError(f"the whole board was found in {len(found)} views; a calibration needs "
                               f"{MIN_VIEWS} or more, from different angles, the board filling much of the picture")
    objects = [board.points] * len(found)
    error, matrix, distortion, _, _ = cv2.calibrateCamera(objects, [c.astype(np.float32) for c in found], size,
                                                           None, None)
    return Intrinsics(matrix, size, distortion.ravel(), True, float(error)), len(found)

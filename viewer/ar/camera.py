"""A camera's intrinsics: focal lengths, principal point, lens distortion, image size."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml


@dataclass(frozen=True)
class Intrinsics:
    """A pinhole camera with OpenCV's distortion model.

    ``calibrated`` False: guessed from a stated field of view, with no distortion; the
    overlay's quality says so.
    """

    matrix: np.ndarray  # 3 x 3: fx, fy, cx, cy
    size: tuple[int, int]  # width, height in pixels
    distortion: np.ndarray = field(default_factory=lambda: np.zeros(5))  # k1 k2 p1 p2 k3
    calibrated: bool = True
    error_px: float | None = None  # the calibration's RMS reprojection error

    @classmethod
    def from_fov(cls, width: int, height: int, horizontal_fov: float = 60.0) -> Intrinsics:
        """An uncalibrated camera seeing ``horizontal_fov`` degrees across, centred."""
        f = width / 2 / math.tan(math.radians(horizontal_fov) / 2)
        return cls(np.array([[f, 0, width / 2], [0, f, height / 2], [0, 0, 1]], float), (width, height),
                   calibrated=False)

    @property
    def vertical_fov(self) -> float:
        """Degrees, top to bottom (what a VTK camera's view angle is)."""
        return math.degrees(2 * math.atan(self.size[1] / 2 / self.matrix[1, 1]))

    def scaled(self, width: int, height: int) -> Intrinsics:
        """The same camera delivering images of another size (a stream scaled down)."""
        sx, sy = width / self.size[0], height / self.size[1]
        matrix = self.matrix * np.array([[sx], [sy], [1.0]])
        return Intrinsics(matrix, (width, height), self.distortion, self.calibrated, self.error_px)

    def save(self, path) -> None:
        """Write as YAML (what ``twinview calibrate`` saves, :meth:`load` reads)."""
        data = {"width": self.size[0], "height": self.size[1], "matrix": self.matrix.round(6).tolist(),
                "distortion": self.distortion.ravel().round(8).tolist(), "error_px": self.error_px}
        Path(path).write_text(yaml.safe_dump(data, sort_keys=False))

    @classmethod
    def load(cls, path) -> Intrinsics:
        """Read a calibration saved by :meth:`save`.

        Raises
        ------
        ValueError
            If the file is not such a calibration (the message says what is wrong).
        """
        try:
            data = yaml.safe_load(Path(path).read_text())
            matrix = np.array(data["matrix"], float)
            distortion = np.array(data.get("distortion") or [0.0] * 5, float)
            size = (int(data["width"]), int(data["height"]))
        except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}: not a camera calibration ({exc})") from None
        if matrix.shape != (3, 3) or distortion.ndim != 1 or min(size) <= 0:
            raise ValueError(f"{path}: not a camera calibration (a 3x3 matrix, distortion and size expected)")
        return cls(matrix, size, distortion, True, data.get("error_px"))

"""Where the camera is, in the twin's frame: from the markers on the machine, or from points
the technician picked, always with the reprojection error that says how far to trust it.

A pose maps world points (metres, the twin's frame) into the camera's frame (OpenCV's:
x right, y down, z forward). Markers seen together are solved as one rigid set (every
corner counts), refined with Levenberg-Marquardt; a single marker uses OpenCV's planar
square solver, which has no mirror ambiguity for a marker seen face on.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from viewer.ar.camera import Intrinsics
from viewer.twin.markers import marker_corners

#: Above this RMS reprojection error (pixels) the overlay says it is not to be trusted.
TRUST_PX = 3.0
#: Fewest point pairs a picked-points pose needs.
MIN_POINTS = 4


class PoseError(ValueError):
    """No pose can be solved from what was given; the message says why."""


@dataclass(frozen=True)
class Pose:
    """A camera pose and how well it explains what the camera sees."""

    rvec: np.ndarray  # Rodrigues vector, world -> camera
    tvec: np.ndarray  # metres, world -> camera
    error_px: float  # RMS reprojection error of the points it was solved from
    points: int  # how many point pairs it was solved from
    markers: tuple = ()  # the markers seen (dictionary, id)

    @property
    def world_to_camera(self) -> np.ndarray:
        """4 x 4, world points into the camera's frame."""
        m = np.eye(4)
        m[:3, :3] = cv2.Rodrigues(self.rvec)[0]
        m[:3, 3] = self.tvec.ravel()
        return m

    @property
    def position(self) -> np.ndarray:
        """The camera's centre in the world."""
        r = cv2.Rodrigues(self.rvec)[0]
        return -r.T @ self.tvec.ravel()

    @property
    def trusted(self) -> bool:
        return self.error_px <= TRUST_PX

    def project(self, points: np.ndarray, camera: Intrinsics) -> np.ndarray:
        """Pixels (n x 2) of world ``points`` (n x 3), lens distortion included."""
        pixels, _ = cv2.projectPoints(np.asarray(points, float).reshape(-1, 1, 3), self.rvec, self.tvec,
                                      camera.matrix, camera.distortion)
        return pixels.reshape(-1, 2)


def solve_points(world: np.ndarray, pixels: np.ndarray, camera: Intrinsics, markers: tuple = ()) -> Pose:
    """The pose that best puts ``world`` points (n x 3) on ``pixels`` (n x 2).

    Raises
    ------
    PoseError
        With fewer than :data:`MIN_POINTS` pairs, or points that do not fix a pose (all
        on one line).
    """
    world = np.asarray(world, float).reshape(-1, 3)
    pixels = np.asarray(pixels, float).reshape(-1, 2)
    if len(world) != len(pixels):
        raise PoseError(f"{len(world)} points on the model but {len(pixels)} on the image")
    if len(world) < MIN_POINTS:
        raise PoseError(f"a pose needs at least {MIN_POINTS} points picked on both, not {len(world)}")
    centred = world - world.mean(axis=0)
    if np.linalg.svd(centred, compute_uv=False)[1] < 1e-6 * max(1.0, np.abs(centred).max()):
        raise PoseError("the points lie on one line: pick some away from it")
    ok, rvec, tvec = cv2.solvePnP(world, pixels, camera.matrix, camera.distortion, flags=cv2.SOLVEPNP_SQPNP)
    if not ok:
        raise PoseError("no pose puts these points on the image")
    rvec, tvec = cv2.solvePnPRefineLM(world, pixels, camera.matrix, camera.distortion, rvec, tvec)
    return Pose(rvec, tvec, _rms(world, pixels, rvec, tvec, camera), len(world), markers)


def _rms(world, pixels, rvec, tvec, camera: Intrinsics) -> float:
    projected, _ = cv2.projectPoints(world.reshape(-1, 1, 3), rvec, tvec, camera.matrix, camera.distortion)
    return float(np.sqrt(np.mean(np.sum((projected.reshape(-1, 2) - pixels) ** 2, axis=1))))


class MarkerLocator:
    """Finds the twin's declared markers in camera images and solves the camera's pose.

    Parameters
    ----------
    markers : list of MarkerSpec
        The twin's (``twin.spec.markers``).
    worlds : dict of str to ndarray
        The parts' world matrices (``assembly.world_transforms()``), where the markers sit.
    """

    def __init__(self, markers, worlds: dict[str, np.ndarray]):
        self.corners = {(m.dictionary, m.id): marker_corners(m, worlds) for m in markers}
        parameters = cv2.aruco.DetectorParameters()
        parameters.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX  # corners to a tenth of a pixel
        self._detectors = {
            name: cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, f"DICT_{name}")),
                                          parameters)
            for name in sorted({m.dictionary for m in markers})}

    def detect(self, image: np.ndarray) -> dict[tuple[str, int], np.ndarray]:
        """The declared markers seen in ``image`` (grey or BGR): (dictionary, id) -> 4 x 2
        corner pixels. Markers of the dictionary that are not declared are ignored."""
        grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        found = {}
        for name, detector in self._detectors.items():
            corners, ids, _ = detector.detectMarkers(grey)
            for c, i in zip(corners, ids.ravel() if ids is not None else ()):
                if (name, int(i)) in self.corners:
                    found[(name, int(i))] = c.reshape(4, 2).astype(float)
        return found

    def locate(self, image: np.ndarray, camera: Intrinsics) -> Pose | None:
        """The camera's pose from the markers in ``image``, None if none is seen."""
        seen = self.detect(image)
        if not seen:
            return None
        keys = tuple(sorted(seen))
        world = np.concatenate([self.corners[k] for k in keys])
        pixels = np.concatenate([seen[k] for k in keys])
        if len(keys) == 1:  # one square: the planar solver, in the marker's own plane, then to the world
            return _one_square(self.corners[keys[0]], seen[keys[0]], camera, keys)
        return solve_points(world, pixels, camera, keys)


def _one_square(world: np.ndarray, pixels: np.ndarray, camera: Intrinsics, keys: tuple) -> Pose:
    """The pose from one marker's 4 corners (IPPE_SQUARE wants them in the marker's frame)."""
    x, y = world[1] - world[0], world[0] - world[3]
    side = np.linalg.norm(x)
    x, y = x / side, y / np.linalg.norm(y)
    frame = np.eye(4)
    frame[:3, :3] = np.c_[x, y, np.cross(x, y)]
    frame[:3, 3] = world.mean(axis=0)
    h = side / 2
    local = np.array([[-h, h, 0], [h, h, 0], [h, -h, 0], [-h, -h, 0]], float)
    ok, rvec, tvec = cv2.solvePnP(local, pixels, camera.matrix, camera.distortion, flags=cv2.SOLVEPNP_IPPE_SQUARE)
    if not ok:
        raise PoseError("no pose puts this marker on the image")
    marker_to_camera = np.eye(4)
    marker_to_camera[:3, :3] = cv2.Rodrigues(rvec)[0]
    marker_to_camera[:3, 3] = tvec.ravel()
    world_to_camera = marker_to_camera @ np.linalg.inv(frame)
    rvec = cv2.Rodrigues(world_to_camera[:3, :3])[0]
    tvec = world_to_camera[:3, 3].reshape(3, 1)
    return Pose(rvec, tvec, _rms(world, pixels, rvec, tvec, camera), 4, keys)

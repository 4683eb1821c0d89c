"""Following the camera from frame to frame: the pose smoothed against jitter, and lost
when the markers are out of sight for a moment (the overlay says so instead of guessing)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from viewer.ar.pose import Pose

#: Frames without a marker before the track is lost (a hand passing in front is not a loss).
LOST_AFTER = 5
#: A pose this far from the last one is a new view, taken at once rather than smoothed.
JUMP_M, JUMP_DEG = 0.05, 5.0


@dataclass(frozen=True)
class Track:
    """Where the camera is, as far as the tracker knows."""

    pose: Pose | None  # None: lost, or never found
    state: str  # tracking, holding (markers gone a moment: the last pose kept), lost, searching

    @property
    def shown(self) -> bool:
        """Whether the overlay can be drawn."""
        return self.pose is not None


class Tracker:
    """Smooths poses: each new one moves the shown pose ``1 - smoothing`` of the way.

    Parameters
    ----------
    smoothing : float
        0 (none) to < 1; 0.5 halves jitter at the cost of a frame of lag.
    """

    def __init__(self, smoothing: float = 0.5):
        self.smoothing = smoothing
        self._pose: Pose | None = None
        self._missed = 0

    def update(self, found: Pose | None) -> Track:
        """Take this frame's pose (None: no marker seen)."""
        if found is None:
            self._missed += 1
            if self._pose is None:
                return Track(None, "searching")
            if self._missed > LOST_AFTER:
                self._pose = None
                return Track(None, "lost")
            return Track(self._pose, "holding")
        self._missed = 0
        self._pose = found if self._pose is None or _jump(self._pose, found) else _blend(self._pose, found,
                                                                                          1 - self.smoothing)
        return Track(self._pose, "tracking")


def _jump(a: Pose, b: Pose) -> bool:
    turn = np.degrees((Rotation.from_rotvec(a.rvec.ravel()).inv() * Rotation.from_rotvec(b.rvec.ravel())).magnitude())
    return float(np.linalg.norm(a.position - b.position)) > JUMP_M or turn > JUMP_DEG


def _blend(a: Pose, b: Pose, share: float) -> Pose:
    """``share`` of the way from ``a`` to ``b`` (rotation along the sphere, centre in a line)."""
    turns = Rotation.from_rotvec(np.stack([a.rvec.ravel(), b.rvec.ravel()]))
    rotation = Slerp([0.0, 1.0], turns)([share])[0]
    position = a.position + (b.position - a.position) * share
    r = rotation.as_matrix()
    return Pose(cv2.Rodrigues(r)[0], (-r @ position).reshape(3, 1), b.error_px, b.points, b.markers)

"""Transform rules: a value -> a joint matrix in the part's own frame."""

from __future__ import annotations

import numpy as np

from meshes.transforms import rotation, translation


def rotate(value: float, axis, pivot, scale: float = 1.0, offset: float = 0.0) -> np.ndarray:
    """Joint matrix for an angle of ``value * scale + offset`` degrees about ``axis`` through ``pivot``."""
    return rotation(value * scale + offset, axis, pivot)


def translate(value: float, axis, scale: float = 1.0, offset: float = 0.0) -> np.ndarray:
    """Joint matrix for a move of ``value * scale + offset`` metres along ``axis``."""
    axis = np.asarray(axis, dtype=float)
    return translation(axis / np.linalg.norm(axis) * (value * scale + offset))


class Spin:
    """A part turning continuously at a speed in rev/min, integrated frame by frame.

    Parameters
    ----------
    axis, pivot : array_like
        Rotation axis and a point on it, in the part's frame.
    scale : float
        rev/min per unit of the driving value.
    """

    def __init__(self, axis, pivot, scale: float = 1.0):
        self.axis, self.pivot, self.scale = axis, pivot, scale
        self.angle = 0.0  # degrees, kept in [0, 360)

    def advance(self, rpm: float | None, dt: float) -> np.ndarray:
        """Turn for ``dt`` seconds at ``rpm`` (None: stand still); return the joint matrix."""
        if rpm is not None and np.isfinite(rpm):
            self.angle = (self.angle + rpm * self.scale * 6.0 * dt) % 360.0  # 1 rpm = 6 deg/s
        return rotation(self.angle, self.axis, self.pivot)

"""Small 4x4 homogeneous transform helpers (numpy only)."""

from __future__ import annotations

import numpy as np


def translation(offset) -> np.ndarray:
    """Return the 4x4 matrix that translates by ``offset`` (3 values)."""
    m = np.eye(4)
    m[:3, 3] = offset
    return m


def rotation(angle_deg: float, axis, pivot=(0.0, 0.0, 0.0)) -> np.ndarray:
    """Return the 4x4 matrix rotating ``angle_deg`` about ``axis`` through ``pivot``.

    Parameters
    ----------
    angle_deg : float
        Right-handed rotation angle in degrees.
    axis : array_like
        Rotation axis (3 values, need not be unit length).
    pivot : array_like, optional
        A point on the axis.
    """
    axis = np.asarray(axis, dtype=float)
    axis = axis / np.linalg.norm(axis)
    a = np.radians(angle_deg)
    x, y, z = axis
    k = np.array([[0, -z, y], [z, 0, -x], [-y, x, 0]])
    r = np.eye(3) + np.sin(a) * k + (1 - np.cos(a)) * (k @ k)  # Rodrigues
    m = np.eye(4)
    m[:3, :3] = r
    p = np.asarray(pivot, dtype=float)
    m[:3, 3] = p - r @ p
    return m


def euler_xyz(degrees) -> np.ndarray:
    """Return the 4x4 rotation for extrinsic X, then Y, then Z angles in degrees."""
    rx, ry, rz = degrees
    return rotation(rz, (0, 0, 1)) @ rotation(ry, (0, 1, 0)) @ rotation(rx, (1, 0, 0))

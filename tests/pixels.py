"""Helpers to look at rendered frames: where a 3D point lands, what colour is there."""

from __future__ import annotations

import numpy as np
import vtk


def pixel_of(plotter, point) -> tuple[int, int]:
    """Image ``(row, col)`` of a world point in ``plotter``'s screenshot."""
    coord = vtk.vtkCoordinate()
    coord.SetCoordinateSystemToWorld()
    coord.SetValue(*map(float, point))
    x, y = coord.GetComputedDoubleDisplayValue(plotter.renderer)
    height = plotter.window_size[1]
    return int(round(height - 1 - y)), int(round(x))


def colour_at(image: np.ndarray, rc, radius: int = 2) -> np.ndarray:
    """Median colour of a small square around image pixel ``rc``."""
    r, c = rc
    patch = image[r - radius:r + radius + 1, c - radius:c + radius + 1, :3].reshape(-1, 3)
    return np.median(patch, axis=0)


def near(colour, target, tol: float = 60) -> bool:
    """True if two RGB colours are within ``tol`` (Euclidean)."""
    return float(np.linalg.norm(np.asarray(colour, float) - np.asarray(target, float))) <= tol


def same_hue(colour, target, tol: float = 30) -> bool:
    """True if two colours match once lighting (a common brightness factor) is removed."""
    a, b = np.asarray(colour, float), np.asarray(target, float)
    return near(a / max(a.max(), 1) * 255, b / max(b.max(), 1) * 255, tol)

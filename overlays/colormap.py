"""Colour rule: a value through a named colour map and range -> RGB (numpy only, no VTK)."""

from __future__ import annotations

import matplotlib
import numpy as np

#: Colour of a part whose signal has no value yet: a flat mid grey, never a map colour.
NO_DATA_RGB = np.array([128, 128, 128], dtype=np.uint8)
_N = 256


#: How a colour is drawn when its value cannot be trusted as live: washed out towards
#: grey (stale or last known), or dark (its device is offline).
QUALITY_LOOKS = {"stale": (128, 0.7), "last known": (150, 0.5), "offline": (45, 0.75)}


def untrusted(rgb: np.ndarray, quality: str) -> np.ndarray:
    """``rgb`` (n x 3) as drawn for a signal of ``quality``; unchanged when live."""
    look = QUALITY_LOOKS.get(quality)
    if look is None:
        return rgb
    grey, weight = look
    return (rgb * (1 - weight) + grey * weight).astype(np.uint8)


def known_colormap(name: str) -> bool:
    """True if ``name`` is a colour map we can draw."""
    return name in matplotlib.colormaps


class ColourRule:
    """Maps values to colours through a named colour map over ``[low, high]``.

    Values outside the range clamp to its ends; ``None`` or NaN gives
    :data:`NO_DATA_RGB`.

    Parameters
    ----------
    cmap : str
        A matplotlib colour map name, e.g. ``"inferno"``.
    low, high : float
        The values drawn at the map's two ends.
    """

    def __init__(self, cmap: str, low: float, high: float):
        self.cmap, self.low, self.high = cmap, float(low), float(high)
        samples = matplotlib.colormaps[cmap](np.linspace(0.0, 1.0, _N))
        self.table = np.round(samples[:, :3] * 255).astype(np.uint8)
        self._with_no_data = np.r_[self.table, NO_DATA_RGB[None]]  # row _N: no value

    def rgb(self, values) -> np.ndarray:
        """Colours for one value (3 uint8) or an array of values (n x 3 uint8)."""
        v = np.asarray(np.nan if values is None else values, dtype=float)
        row = np.clip((v - self.low) * ((_N - 1) / (self.high - self.low)), 0.0, _N - 1)
        row = np.where(np.isnan(row), _N, np.rint(row))  # few passes: thousands of parts per frame
        return self._with_no_data[row.astype(np.intp)]

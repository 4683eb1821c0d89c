"""The app's own colours, chosen so they can never be mistaken for data (numpy only).

Data is drawn through colour maps; everything else the app draws (the neutral look of
parts that carry no colour binding, the selection outline, the x-ray ghost) must stay
far from every colour a map in the scene can give. Distances are CIE76 ΔE in CIELAB
(about 2.3 is the smallest difference people notice; 40 and more reads as "another
colour"). Severity colours are the alarm language and are deliberately the plant's
usual red, amber and blue; the app's other colours keep away from them too.
"""

from __future__ import annotations

import numpy as np

#: Badge, tint and leader colours per severity (1 info, 2 warning, 3 alarm: the values of
#: ``viewer.alarms.Severity``): red for alarm, amber for warning, steel blue for info.
SEVERITY_RGB = {
    1: np.array([90, 150, 220], dtype=np.uint8),
    2: np.array([255, 176, 0], dtype=np.uint8),
    3: np.array([235, 30, 45], dtype=np.uint8),
}
#: Selection colours, most preferred first: a bright cyan unless a map in the scene uses
#: cyan (jet, turbo, cool ...), then magenta, white, lime.
SELECTION_CANDIDATES = np.array([[0, 230, 255], [255, 40, 255], [255, 255, 255], [120, 255, 0]], dtype=np.uint8)
#: Lightness ranges (RGB grey levels, darkest and lightest CAD colour) tried for parts
#: without a colour binding, most preferred first: light enough that shapes read on
#: the dark background and lighter than the "no data" grey (128), else a mid grey for
#: scenes whose maps have light greys in them (coolwarm's centre is 221 grey).
NEUTRAL_RANGES = ((170, 225), (120, 150))
#: How much a lit surface darkens (the dimmest face drawn, as a share of its colour).
SHADING = (0.6, 1.0)
FAR = 40.0  # ΔE from every map colour that a selection colour must keep
NEUTRAL_FAR = 20.0  # ΔE from every map colour that a neutral grey must keep (at every shade)


def lab(rgb) -> np.ndarray:
    """CIELAB (D65) of sRGB colours.

    Parameters
    ----------
    rgb : array_like
        ``(..., 3)`` sRGB, 0-255.

    Returns
    -------
    numpy.ndarray
        ``(..., 3)`` L*, a*, b*.
    """
    c = np.asarray(rgb, dtype=float) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = linear @ np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]).T
    xyz /= np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def distance(colours, avoid) -> np.ndarray:
    """ΔE from each of ``colours`` (n x 3 sRGB) to the nearest of ``avoid`` (m x 3);
    infinite when there is nothing to avoid."""
    a, b = lab(np.reshape(colours, (-1, 3))), lab(np.reshape(avoid, (-1, 3)))
    if not len(b):
        return np.full(len(a), np.inf)
    return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2)).min(axis=1)


def selection_colour(map_colours, others=()) -> np.ndarray:
    """The first of :data:`SELECTION_CANDIDATES` at least :data:`FAR` from every map
    colour and from ``others`` (severity colours, say), else the farthest one.

    Parameters
    ----------
    map_colours : array_like
        ``(n, 3)`` every colour the scene's maps can give.
    others : array_like
        ``(m, 3)`` other colours the selection must not look like.

    Returns
    -------
    numpy.ndarray
        RGB, uint8.
    """
    avoid = np.concatenate([np.reshape(map_colours, (-1, 3)), np.reshape(others, (-1, 3))])
    gaps = distance(SELECTION_CANDIDATES, avoid)
    good = np.flatnonzero(gaps >= FAR)
    return SELECTION_CANDIDATES[good[0] if len(good) else int(np.argmax(gaps))].copy()


def neutral_range(map_colours) -> tuple[int, int]:
    """The first of :data:`NEUTRAL_RANGES` whose greys, at every shade a lit surface
    takes (:data:`SHADING`), keep :data:`NEUTRAL_FAR` from every map colour; else the
    one that keeps farthest."""
    best, best_gap = NEUTRAL_RANGES[0], -1.0
    for lo, hi in NEUTRAL_RANGES:
        levels = np.linspace(lo * SHADING[0], hi * SHADING[1], 24)
        gap = float(distance(np.repeat(levels[:, None], 3, axis=1), map_colours).min())
        if gap >= NEUTRAL_FAR:
            return lo, hi
        if gap > best_gap:
            best, best_gap = (lo, hi), gap
    return best


def neutral(rgb, lo: int, hi: int) -> np.ndarray:
    """The neutral look of CAD colours: their lightness kept (so parts stay apart) but
    squeezed into greys from ``lo`` to ``hi``; hue and saturation dropped.

    Parameters
    ----------
    rgb : array_like
        ``(n, 3)`` sRGB colours from the file.
    lo, hi : int
        Grey levels of the darkest and of the lightest file colour.

    Returns
    -------
    numpy.ndarray
        ``(n, 3)`` uint8 greys.
    """
    # float32: a 5M-point model is recoloured on the UI thread, in a third of float64's time
    grey = np.asarray(rgb) @ (np.array([0.2126, 0.7152, 0.0722], np.float32) * np.float32((hi - lo) / 255.0))
    grey += np.float32(lo + 0.5)  # + 0.5: rounded, not truncated, by the cast
    return np.repeat(grey.astype(np.uint8)[:, None], 3, axis=1)

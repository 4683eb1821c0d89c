"""Fiducial markers declared on a twin: checked when it loads, placed in the machine's frame.

A marker's corners are where a detector reports them, in its order: top-left, top-right,
bottom-right, bottom-left, seen from the printed side (+Z), with the top edge towards +Y.
"""

from __future__ import annotations

import numpy as np

from meshes.transforms import euler_xyz, translation
from viewer.twin.problems import suggest

#: How many markers each dictionary has (a larger id cannot be printed or found).
DICTIONARY_SIZES = {"4X4_50": 50, "4X4_100": 100, "4X4_250": 250, "5X5_50": 50, "5X5_100": 100, "6X6_50": 50,
                    "6X6_250": 250, "7X7_50": 50, "APRILTAG_16h5": 30, "APRILTAG_25h9": 35,
                    "APRILTAG_36h10": 2320, "APRILTAG_36h11": 587}


def check_markers(markers, parts, error) -> None:
    """Report (``error(location, message)``) markers on unknown parts (``parts``: the
    names, or None when not known), ids their dictionary does not have, and the same
    marker declared twice."""
    seen: dict[tuple[str, int], int] = {}
    for i, m in enumerate(markers):
        if parts is not None and m.parent is not None and m.parent not in parts:
            error(("markers", i, "parent"), f"markers item {i + 1}: unknown part {m.parent!r}{suggest(m.parent, parts)}")
        if m.id >= DICTIONARY_SIZES[m.dictionary]:
            error(("markers", i, "id"), f"markers item {i + 1}: {m.dictionary} has ids 0 to "
                  f"{DICTIONARY_SIZES[m.dictionary] - 1}, not {m.id}")
        key = (m.dictionary, m.id)
        if key in seen:
            error(("markers", i, "id"), f"markers item {i + 1}: marker {m.id} of {m.dictionary} is "
                  f"already item {seen[key] + 1}: a camera could not tell them apart")
        seen.setdefault(key, i)


def marker_frame(marker, worlds: dict[str, np.ndarray]) -> np.ndarray:
    """The 4x4 world matrix of ``marker``'s frame, given the parts' world matrices."""
    parent = worlds[marker.parent] if marker.parent is not None else np.eye(4)
    return parent @ translation(marker.origin) @ euler_xyz(marker.rotation)


def marker_corners(marker, worlds: dict[str, np.ndarray]) -> np.ndarray:
    """The marker's 4 corners (4 x 3, world), in the detector's order."""
    h = marker.size / 2
    local = np.array([[-h, h, 0, 1], [h, h, 0, 1], [h, -h, 0, 1], [-h, -h, 0, 1]], dtype=float)
    return (local @ marker_frame(marker, worlds).T)[:, :3]

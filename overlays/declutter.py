"""Screen-space label placement: no two label boxes overlap (numpy only, no VTK).

Each label may take one of a fixed set of candidate boxes around its anchor: its home
(centred just above the anchor), then boxes stacked beside, below and above it, the
nearest first (by the length of the leader line a box away from home needs). Labels
are placed greedily in a stable order (worst severity first, then binding order), each
in a candidate that is whole on screen and overlaps neither a box placed before nor an
obstacle (an alarm badge). Among those, a candidate whose leader runs clear of every
placed box (and whose box covers no placed leader) wins over one that does not. A label
keeps the candidate it had while that stays clear (unless its home is clear again), so
labels do not hop between equally good places as the view turns. A label with no free
candidate is hidden for that frame.

Cost: the candidates of all labels are computed at once; the greedy pass is one loop
over the labels, each comparing its candidates with the placed boxes near it only.
"""

from __future__ import annotations

import numpy as np

GAP = 12  # pixels between an anchor and a box beside it
STEP = 2  # pixels between stacked boxes
_ABOVE, _BELOW, _NEAR, _FAR = range(4), range(3), range(-2, 3), range(-4, 5)  # rows of candidates


def candidate_shifts(home: np.ndarray, lift: float) -> np.ndarray:
    """Shifts ``(n, K, 2)`` from each label's home box to each of its candidates.

    Parameters
    ----------
    home : numpy.ndarray
        ``(n, 4)`` home boxes ``x0, y0, x1, y1`` relative to their anchors (pixels).
    lift : float
        Gap between an anchor and the bottom of its home box.

    Returns
    -------
    numpy.ndarray
        Candidate 0 is home (no shift); then above (stacked), below, right and left
        (in rows on the home row's grid, near the anchor and farther out), all nearest
        first by leader length.
    """
    x0, y0, x1, y1 = home.T
    step = (y1 - y0) + STEP
    zero = np.zeros_like(x0)
    shifts = [(zero, r * step) for r in _ABOVE]
    shifts += [(zero, -(y1 + lift) - r * step) for r in _BELOW]  # top edge `lift` below the anchor
    for dx in (GAP - x0, -GAP - x1):  # right, left: the near edge GAP beside the anchor
        shifts += [(dx, r * step) for r in _NEAR]
    half = (x1 - x0) / 2  # farther out: clear of a box as wide centred above or below the anchor
    for dx in (GAP + half - x0, -GAP - half - x1):
        shifts += [(dx, r * step) for r in _FAR]
    shifts = np.stack([np.stack(s, axis=-1) for s in shifts], axis=1)  # (n, K, 2)
    # Nearest first: by the distance from the anchor to the box (the leader's length).
    boxes = home[:, None, :] + np.tile(shifts, 2)
    length = np.linalg.norm(_nearest(boxes, np.zeros(2)), axis=-1)
    length[:, 0] = -1  # home first, always
    order = np.argsort(length, axis=1, kind="stable")
    return np.take_along_axis(shifts, order[..., None], axis=1)


def place(anchors: np.ndarray, home: np.ndarray, shifts: np.ndarray, order: np.ndarray, size,
          obstacles: np.ndarray | None = None, lines: np.ndarray | None = None,
          previous: np.ndarray | None = None) -> np.ndarray:
    """Choose a candidate per label so that no two boxes overlap.

    Parameters
    ----------
    anchors : numpy.ndarray
        ``(n, 2)`` anchors on screen (pixels, origin bottom left); NaN: not on screen.
    home : numpy.ndarray
        ``(n, 4)`` home boxes relative to the anchors.
    shifts : numpy.ndarray
        ``(n, K, 2)`` candidates, from :func:`candidate_shifts`.
    order : numpy.ndarray
        Label indices, first placed first.
    size : tuple of int
        Screen width and height: boxes stay whole on screen.
    obstacles : numpy.ndarray, optional
        ``(m, 4)`` boxes no label may overlap (rows with NaN are ignored).
    lines : numpy.ndarray, optional
        ``(k, 4)`` segments ``x0, y0, x1, y1`` that boxes cover only when nothing else is
        free (other leaders; rows with NaN are ignored).
    previous : numpy.ndarray, optional
        ``(n,)`` the last choice of each label (kept while it stays clear).

    Returns
    -------
    numpy.ndarray
        ``(n,)`` the chosen candidate of each label, -1 for a hidden one.
    """
    n = len(anchors)
    choice = np.full(n, -1)
    if not n:
        return choice
    previous = np.full(n, -1) if previous is None else previous
    boxes = np.tile(anchors, 2)[:, None, :] + home[:, None, :] + np.tile(shifts, 2)  # (n, K, 4)
    ends = _nearest(boxes, anchors[:, None, :])  # where each candidate's leader meets its box
    width, height = size
    fits = (boxes[..., 0] >= 0) & (boxes[..., 1] >= 0) & (boxes[..., 2] <= width) & (boxes[..., 3] <= height)
    reach = np.c_[boxes[..., 0].min(1), boxes[..., 1].min(1), boxes[..., 2].max(1), boxes[..., 3].max(1)]
    obstacles, lines = (np.zeros((0, 4)) if a is None else np.asarray(a, float).reshape(-1, 4)
                        for a in (obstacles, lines))
    obstacles, lines = (a[~np.isnan(a).any(axis=1)] for a in (obstacles, lines))
    taken = np.empty((len(obstacles) + n, 4))
    taken[:len(obstacles)] = obstacles
    count = len(obstacles)
    leaders = np.empty((len(lines) + n, 4))  # x0, y0, x1, y1 of the lines and placed leaders
    spans = np.empty((len(lines) + n, 4))  # their bounding boxes
    drawn = len(lines)
    leaders[:drawn] = lines
    spans[:drawn] = np.c_[np.minimum(lines[:, :2], lines[:, 2:]), np.maximum(lines[:, :2], lines[:, 2:])]
    for i in np.asarray(order).tolist():
        if not fits[i].any():  # off screen, or no candidate fits on it
            continue
        x0, y0, x1, y1 = reach[i]
        near = taken[:count]
        near = near[(near[:, 0] < x1) & (near[:, 2] > x0) & (near[:, 1] < y1) & (near[:, 3] > y0)]
        free = np.flatnonzero(fits[i] & ~overlaps(boxes[i], near).any(axis=1) if len(near) else fits[i])
        if not len(free):
            continue
        # Among the free candidates, the clear ones: the box covers no leader, and its own
        # leader (home has none) runs under no box.
        c = boxes[i, free]
        s = spans[:drawn]
        lines = leaders[:drawn][(s[:, 0] < x1) & (s[:, 2] > x0) & (s[:, 1] < y1) & (s[:, 3] > y0)]
        clear = np.ones(len(free), dtype=bool)
        if len(lines):
            clear &= ~_crosses(lines[:, :2], lines[:, 2:], c).any(axis=0)
        if len(near):
            clear &= (free == 0) | ~_crosses(anchors[i][None], ends[i, free], near).any(axis=1)
        k = _pick(free, clear, int(previous[i]))
        choice[i] = k
        taken[count] = boxes[i, k]
        count += 1
        if k:
            a, e = anchors[i], ends[i, k]
            leaders[drawn] = (a[0], a[1], e[0], e[1])
            spans[drawn] = (min(a[0], e[0]), min(a[1], e[1]), max(a[0], e[0]), max(a[1], e[1]))
            drawn += 1
    return choice


def leader_ends(anchors: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """The point of each box ``(n, 4)`` nearest its anchor ``(n, 2)``: where a leader ends."""
    return _nearest(boxes, anchors)


def _pick(free: np.ndarray, clear: np.ndarray, previous: int) -> int:
    """Of the ``free`` candidates (indices, nearest first): home if it is clear, else the
    previous choice if still clear, else the nearest clear one; failing all, the same among
    the merely free ones."""
    for ok in (free[clear], free):
        if len(ok):
            if ok[0] == 0 or previous not in ok:
                return int(ok[0])
            return previous
    return -1


def _nearest(boxes: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The point of each box ``(..., 4)`` nearest ``points`` ``(..., 2)``."""
    return np.clip(points, boxes[..., :2], boxes[..., 2:])


def overlaps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(len(a), len(b))``: do boxes ``a`` and ``b`` share any area (touching is not)?"""
    return ((a[:, None, 0] < b[None, :, 2]) & (b[None, :, 0] < a[:, None, 2])
            & (a[:, None, 1] < b[None, :, 3]) & (b[None, :, 1] < a[:, None, 3]))


def _crosses(start: np.ndarray, end: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """``(segments, boxes)``: does the segment from ``start`` to ``end`` (``(s, 2)`` each, or
    one start for all) run through the inside of a box? (Liang-Barsky: the part of each
    segment between a box's slabs.)"""
    d = end - start
    d = np.where(np.abs(d) < 1e-9, 1e-9, d)[:, None, :]  # parallel to a side: a huge t of the right sign
    t0 = (boxes[None, :, :2] - start[:, None, :]) / d
    t1 = (boxes[None, :, 2:] - start[:, None, :]) / d
    enter = np.maximum(np.minimum(t0, t1).max(axis=2), 0.0)
    leave = np.minimum(np.maximum(t0, t1).min(axis=2), 1.0)
    return leave - enter > 1e-6

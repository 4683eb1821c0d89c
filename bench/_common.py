"""Shared pieces of the benchmarks: an offscreen plotter as the viewer makes it, a
median timing loop, a table printer, and ``record`` from :mod:`results`.

Importing this module selects VTK's EGL window (offscreen, no display) for any later
pyvista import, as ``viewer.render`` does when there is no display. It imports
neither pyvista nor the viewer itself, so a benchmark can time those imports.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyvista

os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from results import record  # noqa: E402, F401  (re-exported for the scripts)

#: Window size of every benchmark frame.
SIZE = (1280, 800)


def make_plotter(size: tuple[int, int] = SIZE) -> pyvista.Plotter:
    """An offscreen plotter configured as ``viewer.render`` configures it.

    Parameters
    ----------
    size : tuple of int
        Window width and height in pixels.

    Returns
    -------
    pyvista.Plotter
        Offscreen, with the viewer's multisampling setting.
    """
    import pyvista as pv

    from viewer.scene import MULTI_SAMPLES

    plotter = pv.Plotter(off_screen=True, window_size=size)
    plotter.ren_win.SetMultiSamples(MULTI_SAMPLES)
    return plotter


def median_ms(frames: int, *phases: Callable[[], object],
              prepare: Callable[[], object] | None = None) -> list[float]:
    """Median time of each phase of a frame, and of the whole frame, in ms.

    Parameters
    ----------
    frames : int
        Number of timed frames.
    *phases : callable
        Called in order once per frame, each timed on its own.
    prepare : callable, optional
        Called before each frame, not timed (e.g. to draw new signal values).

    Returns
    -------
    list of float
        One median per phase, then the median of the per-frame sums (the median of
        a sum is not the sum of the medians).
    """
    per_phase: list[list[float]] = [[] for _ in phases]
    totals = []
    for _ in range(frames):
        if prepare is not None:
            prepare()
        total = 0.0
        for phase, times in zip(phases, per_phase):
            t = time.perf_counter()
            phase()
            dt = time.perf_counter() - t
            times.append(dt)
            total += dt
        totals.append(total)
    return [1e3 * statistics.median(t) for t in (*per_phase, totals)]


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print ``rows`` right-aligned under ``headers``; floats with 3 significant digits."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    print("  ".join(h.rjust(w) for h, w in zip(headers, widths)))
    for row in cells:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths)))


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return "" if value is None else str(value)

"""Surface fields: what a frame pays to colour a 200,000-point part from 8 sensors.

- ``field.update.200k``: ms per frame for new sensor readings: the interpolation (one
  matrix product), the colour lookup and the copy into the mesh's colour array
  (``FieldLayer.update`` and ``PartMeshes.flush``); baseline: the same part coloured by
  one colour binding (one colour for all its points, also copied into the array).
- ``field.frame.200k``: the same with the frame's render (the colours uploaded again);
  baseline: the colour binding's frame.
- ``field.weights.200k``: ms to precompute the weights (once per mesh), and to
  normalise them again when a sensor drops out (once per change of which sensors count).

Run: ``.venv/bin/python bench/field.py``. Prints a table; adds its figures to
``bench/results.json``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import make_plotter, median_ms, print_table, record  # noqa: E402

import pyvista as pv  # noqa: E402

from meshes import Assembly, Part  # noqa: E402
from overlays.colormap import ColourRule  # noqa: E402
from overlays.field import FieldLayer, SurfaceField  # noqa: E402
from overlays.parts import PartMeshes  # noqa: E402

POINTS, SENSORS, FRAMES = 200_000, 8, 60


def casing() -> Assembly:
    """A cylinder of 200,000 points (500 along, 400 around), 1.1 m long and 0.36 m across."""
    grid = pv.Plane(i_size=1.1, j_size=2 * np.pi, i_resolution=499, j_resolution=399).triangulate()
    x, angle = grid.points[:, 0], grid.points[:, 1]
    points = np.c_[x, 0.18 * np.cos(angle), 0.18 * np.sin(angle)].astype(np.float32)
    return Assembly([Part("casing", vertices=points, faces=grid.faces.reshape(-1, 4)[:, 1:].astype(np.int32),
                          colors=np.full((len(points), 3), 180, np.uint8))])


def main() -> None:
    assembly = casing()
    plotter = make_plotter()
    parts = PartMeshes(plotter, assembly)
    n = len(parts.surface_points("casing"))
    angles = np.linspace(0, 2 * np.pi, SENSORS, endpoint=False)
    sensors = np.c_[np.linspace(-0.5, 0.5, SENSORS), 0.18 * np.cos(angles), 0.18 * np.sin(angles)]
    rule = ColourRule("inferno", 20, 100)
    start = time.perf_counter()
    layer = FieldLayer(plotter, parts, "casing", sensors, rule)
    weights_ms = (time.perf_counter() - start) * 1e3
    rng = np.random.default_rng(0)
    live = np.ones(SENSORS, bool)
    readings = [rng.uniform(30, 90, SENSORS)]
    plotter.view_isometric()
    plotter.render()

    def new_readings():
        readings[0] = rng.uniform(30, 90, SENSORS)

    render = plotter.ren_win.Render
    field_ms, flush_ms, field_render_ms, field_total = median_ms(
        FRAMES, lambda: layer.update(readings[0], live), parts.flush, render, prepare=new_readings)
    layer.close()
    colour_ms, plain_flush_ms, render_ms, colour_total = median_ms(
        FRAMES, lambda: parts.set_colour("casing", rule.rgb(readings[0][0])), parts.flush, render, prepare=new_readings)
    field = SurfaceField(parts.surface_points("casing"), sensors)
    field.values(readings[0])
    dropped = readings[0].copy()
    start = time.perf_counter()
    for k in range(SENSORS):  # each sensor drops out in turn: a new normalisation each time
        dropped[:] = readings[0]
        dropped[k] = np.nan
        field.values(dropped)
    renormalise_ms = (time.perf_counter() - start) * 1e3 / SENSORS
    plotter.close()

    ui_ms, plain_ui_ms = field_ms + flush_ms, colour_ms + plain_flush_ms
    record(f"field.update.{n // 1000}k", ui_ms, "ms", baseline=plain_ui_ms, target=None)
    record(f"field.frame.{n // 1000}k", field_total, "ms", baseline=colour_total, target=None)
    record(f"field.weights.{n // 1000}k", weights_ms, "ms", baseline=None, target=None)
    print_table(["figure", "ms", "baseline ms", "ratio"], [
        [f"field of {SENSORS} sensors on {n:,} points: interpolate + colours", field_ms, colour_ms, field_ms / colour_ms],
        ["  copy into the mesh (flush)", flush_ms, plain_flush_ms, flush_ms / plain_flush_ms],
        ["  new readings, before the render", ui_ms, plain_ui_ms, ui_ms / plain_ui_ms],
        ["  render", field_render_ms, render_ms, field_render_ms / render_ms],
        ["  frame with new readings", field_total, colour_total, field_total / colour_total],
        ["weights, once per mesh (with the markers)", weights_ms, None, None],
        ["weights normalised again (a sensor drops out)", renormalise_ms, None, None],
    ])


if __name__ == "__main__":
    main()

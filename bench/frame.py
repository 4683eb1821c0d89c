"""Frame cost: TwinView's own CPU per frame and total frame time vs a bare pyvista render.

For N bound parts (100, 1,000, 5,000 boxes, every one coloured by its own signal and
every value changing every frame) this measures, offscreen at 1280x800:

- TwinView's own CPU per frame: ``Scene.sync`` (overlay rules + in-place VTK updates);
- total frame time (sync + render) against a bare pyvista render of the same meshes
  from the same camera with the same lighting and background, with no bindings,
  legends or labels and nothing changing, measured in the same run, frame for frame
  in turn with TwinView's (so both see the same load of a shared machine).

Run: ``.venv/bin/python bench/frame.py``. Prints a table; adds its figures to
``bench/results.json``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
import pyvista as pv  # noqa: E402
import trimesh  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import record  # noqa: E402

from viewer.scene import BACKGROUND, MULTI_SAMPLES, Scene  # noqa: E402
from viewer.twin.loader import load_twin  # noqa: E402

FRAMES = 30
SIZE = (1280, 800)
TARGETS_MS = {1000: 2.0, 5000: 8.0}  # issue targets for TwinView's own CPU per frame


def make_twin(folder: Path, n: int) -> Path:
    """A GLB of ``n`` boxes on a grid and a twin colouring each from its own signal."""
    side = int(np.ceil(np.sqrt(n)))
    scene = trimesh.Scene()
    for i in range(n):
        box = trimesh.creation.box(extents=(0.8, 0.8, 0.8))
        box.apply_translation((i % side, i // side, 0))
        scene.add_geometry(box, node_name=f"p{i}", geom_name=f"p{i}")
    scene.export(folder / "grid.glb")
    lines = ["twin: bench", "parts:", "  - {name: grid, mesh: grid.glb}", "signals:"]
    lines += [f"  s{i}: {{topic: bench/{i}}}" for i in range(n)]
    lines += ["bindings:"]
    lines += [f"  - {{colour: p{i}, signal: s{i}, cmap: viridis, range: [0, 1]}}" for i in range(n)]
    path = folder / "grid.twin.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def plotter() -> pv.Plotter:
    p = pv.Plotter(off_screen=True, window_size=SIZE)
    p.ren_win.SetMultiSamples(MULTI_SAMPLES)
    return p


def frame_ms(twin) -> tuple[float, float, float]:
    """Median TwinView sync and frame (sync + render) with every signal changing every
    frame, and median bare render of the same meshes (as TwinView built them), camera,
    lighting and background with no bindings, legends or labels and nothing changing.

    The two windows render in turn, frame by frame, so both see the same load of a
    shared machine."""
    p = plotter()
    scene = Scene(p, twin)
    p.ren_win.Render()
    bare = plotter()
    bare.set_background(BACKGROUND[0], top=BACKGROUND[1])
    for group in scene.parts.groups:
        bare.add_mesh(group.mesh.copy(), color="grey", smooth_shading=True, specular=0.25, specular_power=20)
    bare.camera_position = p.camera_position
    bare.ren_win.Render()
    names = list(twin.signals)
    rng = np.random.default_rng(0)
    sync, total, bare_ms = [], [], []
    for _ in range(FRAMES):
        values = dict(zip(names, rng.random(len(names)).tolist()))
        t0 = time.perf_counter()
        scene.sync(values, set(names), dt=1 / 30)
        t1 = time.perf_counter()
        p.ren_win.Render()
        t2 = time.perf_counter()
        bare.ren_win.Render()
        t3 = time.perf_counter()
        sync.append(t1 - t0)
        total.append(t2 - t0)
        bare_ms.append(t3 - t2)
    p.close()
    bare.close()
    return tuple(1e3 * statistics.median(t) for t in (sync, total, bare_ms))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="100 and 1,000 parts only")
    args = parser.parse_args()
    print(f"{'parts':>6} {'own CPU ms':>11} {'frame ms':>9} {'bare ms':>8} {'ratio':>6}")
    for n in (100, 1000) if args.quick else (100, 1000, 5000):
        with tempfile.TemporaryDirectory() as tmp:
            own, frame, bare = frame_ms(load_twin(make_twin(Path(tmp), n)))
        print(f"{n:>6} {own:>11.2f} {frame:>9.1f} {bare:>8.1f} {frame / bare:>6.2f}")
        record(f"frame.own_cpu.{n}_parts", own, "ms", baseline=bare, target=TARGETS_MS.get(n),
               lower_is_better=True, ratio_target=None)
        record(f"frame.total.{n}_parts", frame, "ms", baseline=bare, target=None,
               lower_is_better=True, ratio_target=1.10)


if __name__ == "__main__":
    main()

"""Opening a large model: TwinView against F3D, whole processes, to the first frame.

A generated plant of 500 parts of unique geometry (icospheres and cylinders, each its
own named GLB node with its own vertex and index arrays, every third with its own
material colour) with about 1M and 5M triangles, once with vertex normals in the file
(as CAD exporters write them) and once without (the viewer computes them). Figures, each the median of 3 runs
and each against F3D measured in the same run:

- open, cold: ``twinview render plant.twin.yaml -o x.png --seconds 0`` (the twin colours
  50 parts and labels 10) against an embedded broker, with an empty mesh cache, from
  process start to its exit after writing the first frame, against F3D's Python module
  opening the GLB offscreen (``Engine.create(True)``, ``scene.add``,
  ``render_to_image``) in a new Python process, also 1280x800, to its exit;
- open, warm: the same with the mesh cache the cold run filled;
- peak memory: the largest resident memory of the whole process tree (sampled every
  5 ms), cold, against F3D's.

A breakdown of one cold open in process (imports, twin, plotter, scene, first render)
follows, to say where the time goes.

Run: ``.venv/bin/python bench/load.py [--quick] [--profile]`` (needs ``pip install
.[bench]`` for F3D). ``--quick`` opens 200k-triangle plants only; ``--profile`` also
prints the 10 functions with the most cumulative time in one cold load of the first
size. Prints tables; adds its figures to ``bench/results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import trimesh

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SIZE, make_plotter, print_table, record  # noqa: E402

PARTS = 500
COLOURED = 50  # parts coloured from signals
LABELLED = 10  # parts with a live label
# label: (triangles, whether the GLB holds vertex normals, as CAD exporters write them)
SIZES = {"1M": (1_000_000, True), "5M": (5_000_000, True), "1M_no_normals": (1_000_000, False),
         "5M_no_normals": (5_000_000, False)}
QUICK_SIZES = {"200k": (200_000, True), "200k_no_normals": (200_000, False)}
GLB, TWIN = "plant.glb", "plant.twin.yaml"
MAX_SECTIONS = 256  # cylinder sections; see part_shapes
GRID = int(np.ceil(np.sqrt(PARTS)))
MB = 2**20
PROFILE_LINES = 10
# Colours a CAD exporter would write as materials: steel blue, safety orange, green, grey.
PALETTE = [(70, 110, 160, 255), (230, 120, 30, 255), (60, 150, 80, 255), (120, 120, 125, 255)]

COLD_RATIO_TARGET = 1.0  # whole-process first frame, empty mesh cache, vs F3D
WARM_RATIO_TARGET = 0.5  # the same with the cache filled
MEMORY_RATIO_TARGET = 1.0  # peak resident memory of the process tree vs F3D's
RUNS_EACH = 3
F3D_OPEN = """
import sys
import f3d
engine = f3d.Engine.create(True)
engine.window.size = {width}, {height}
engine.scene.add(sys.argv[1])
engine.window.render_to_image().save(sys.argv[2])
"""


# -- the plant ------------------------------------------------------------------------

def part_shapes(triangles: int) -> tuple[int, int, int]:
    """Icosphere subdivisions, cylinder sections and cylinder subdivisions so that a
    sphere-cylinder pair holds about ``2 * triangles / PARTS`` triangles.

    A cylinder has 4 triangles per section, times 4 per subdivision. Sections stay
    at most ``MAX_SECTIONS``: a cap is a fan around one vertex, and VTK's normal
    splitting slows down with a vertex's valence (4 us per triangle at 3,720
    sections against 0.3-0.6 us at 120-230), so thousand-section fans would make
    the plant's shape, not its size, dominate.
    """
    budget = triangles // PARTS
    subdivisions = max(1, int(np.log(budget / 20) / np.log(4)))
    cylinder = 2 * budget - 20 * 4**subdivisions
    splits = 0
    while cylinder / (4 * 4**splits) > MAX_SECTIONS:
        splits += 1
    return subdivisions, max(8, round(cylinder / (4 * 4**splits))), splits


def part_mesh(i: int, shapes: tuple[int, int, int]) -> trimesh.Trimesh:
    """Part ``i``: an icosphere (even) or a cylinder (odd), sized by its index so that
    no two parts share geometry; every third carries a material colour."""
    subdivisions, sections, splits = shapes
    size = 0.3 + 0.1 * i / PARTS  # unique: an exporter would otherwise share equal meshes
    if i % 2:
        mesh = trimesh.creation.cylinder(radius=size, height=0.8, sections=sections)
        for _ in range(splits):
            mesh = mesh.subdivide()
    else:
        mesh = trimesh.creation.icosphere(subdivisions=subdivisions, radius=size)
    # Faces in an order of the part's own: a glTF exporter shares equal index buffers too.
    mesh = trimesh.Trimesh(mesh.vertices, np.roll(mesh.faces, i, axis=0), process=False)
    if i % 3 == 0:
        material = trimesh.visual.material.PBRMaterial(baseColorFactor=PALETTE[(i // 3) % len(PALETTE)])
        mesh.visual = trimesh.visual.TextureVisuals(material=material)
    return mesh


def write_plant(folder: Path, triangles: int, normals: bool = True) -> tuple[Path, int, int]:
    """Write the plant's GLB and twin file into ``folder``.

    Returns
    -------
    twin : Path
        The twin file.
    vertices, faces : int
        Totals over the assembly.
    """
    shapes = part_shapes(triangles)
    scene = trimesh.Scene()
    vertices = faces = 0
    for i in range(PARTS):
        mesh = part_mesh(i, shapes)
        vertices, faces = vertices + len(mesh.vertices), faces + len(mesh.faces)
        place = trimesh.transformations.translation_matrix((i % GRID, i // GRID, 0.4))
        scene.add_geometry(mesh, node_name=f"p{i}", geom_name=f"p{i}", transform=place)
    scene.export(folder / GLB, include_normals=normals)
    twin = folder / TWIN
    twin.write_text(twin_yaml())
    return twin, vertices, faces


def twin_yaml() -> str:
    """The twin: the plant, one signal per coloured part, colour and label bindings."""
    step = PARTS // COLOURED
    lines = ["twin: load bench", "parts:", f"  - {{name: plant, mesh: {GLB}}}", "signals:"]
    lines += [f"  s{k}: {{topic: plant/{k}, field: temperature, unit: °C}}" for k in range(COLOURED)]
    lines += ["bindings:"]
    lines += [f"  - {{colour: p{k * step}, signal: s{k}, cmap: inferno, range: [20, 100]}}"
              for k in range(COLOURED)]
    lines += [f'  - {{label: p{k * step}, text: "T {{s{k}:.1f}} °C"}}' for k in range(LABELLED)]
    return "\n".join(lines) + "\n"


# -- one measurement, in a fresh process ------------------------------------------------

def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports kB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Stages:
    """Wall time and peak-RSS growth of consecutive stages of one run."""

    def __init__(self):
        self.last = (time.perf_counter(), peak_rss_mb())
        self.stages: dict[str, tuple[float, float]] = {}

    def mark(self, name: str) -> None:
        """End stage ``name`` here."""
        now = (time.perf_counter(), peak_rss_mb())
        self.stages[name] = (now[0] - self.last[0], now[1] - self.last[1])
        self.last = now


def run_cold(twin_path: Path, stages: Stages) -> None:
    """Open the twin and draw its first frame, as ``twinview render`` does."""
    from viewer.scene import Scene
    from viewer.twin.loader import load_twin

    twin = load_twin(twin_path)
    stages.mark("load_twin")
    plotter = make_plotter(SIZE)
    stages.mark("Plotter")
    Scene(plotter, twin)
    stages.mark("Scene")
    plotter.ren_win.Render()
    stages.mark("Render")


def run_empty(twin_path: Path | None, stages: Stages) -> None:
    """A plotter and its first render with nothing in it: the part of a first frame
    that does not depend on the twin."""
    make_plotter(SIZE).ren_win.Render()
    stages.mark("empty frame")


RUNS = {"cold": run_cold, "empty": run_empty}


def child(mode: str, twin_path: Path | None, profile: bool) -> dict:
    """Run one measurement (a key of ``RUNS``) in this process, after the imports a
    viewer process makes; see the module doc."""
    t = time.perf_counter()
    import pyvista.plotting  # noqa: F401  (pyvista loads it lazily at the first Plotter)

    import viewer.scene  # noqa: F401
    import viewer.twin.loader  # noqa: F401
    imports_s = time.perf_counter() - t
    base = peak_rss_mb()
    stages = Stages()
    report = {}
    if profile:
        import cProfile
        import io
        import pstats

        with cProfile.Profile() as prof:
            RUNS[mode](twin_path, stages)
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(PROFILE_LINES)
        report["profile"] = out.getvalue()
    else:
        RUNS[mode](twin_path, stages)
    return {"seconds": sum(s for s, _ in stages.stages.values()), "stages": stages.stages,
            "imports_s": imports_s, "base_mb": base, "peak_mb": peak_rss_mb() - base, **report}


def measure(mode: str, twin: Path | None = None, profile: bool = False) -> dict:
    """Run :func:`child` in a new Python process and return what it reports.

    The mesh cache lives next to the twin, so every benchmark run starts cold.
    """
    cmd = [sys.executable, __file__, "--child", mode, str(twin or "")] + (["--profile"] if profile else [])
    env = {**os.environ, "TWINVIEW_CACHE": str(twin.parent / "mesh-cache")} if twin else None
    out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


# -- the run ------------------------------------------------------------------------------

def whole_process(cmd: list[str], env: dict | None = None) -> tuple[float, float]:
    """Wall seconds of ``cmd`` from start to exit, and the peak resident MB of its
    process tree (children included, sampled every 5 ms)."""
    import psutil

    start = time.perf_counter()
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    tree, peak = psutil.Process(process.pid), 0
    while process.poll() is None:
        try:
            peak = max(peak, sum(p.memory_info().rss for p in (tree, *tree.children(recursive=True))))
        except psutil.Error:
            pass  # a child that ended meanwhile
        time.sleep(0.005)
    seconds = time.perf_counter() - start
    if process.returncode not in (0, 3, 4):  # 3, 4: render drew without (all) live data, as asked
        raise RuntimeError(f"{cmd[:3]} failed: {process.stderr.read().decode()[-2000:]}")
    process.stderr.close()
    return seconds, peak / MB


def median_runs(cmd: list[str], env: dict | None = None, before=None) -> tuple[float, float]:
    """Medians of ``RUNS_EACH`` whole-process runs (``before`` runs first each time)."""
    runs = []
    for _ in range(RUNS_EACH):
        if before is not None:
            before()
        runs.append(whole_process(cmd, env))
    return float(np.median([r[0] for r in runs])), float(np.median([r[1] for r in runs]))


def bench_size(label: str, triangles: tuple[int, bool], folder: Path, broker: str) -> tuple[list, dict]:
    """Generate one plant, time F3D and TwinView opening it, record the figures.

    Returns
    -------
    row : list
        The line of the main table.
    stages : dict
        Stage name -> (seconds, peak MB growth) of an in-process cold open.
    """
    import shutil

    twin, vertices, faces = write_plant(folder, *triangles)
    out, cache_dir = folder / "frame.png", folder / "mesh-cache"
    f3d = median_runs([sys.executable, "-c", F3D_OPEN.format(width=SIZE[0], height=SIZE[1]),
                       str(folder / GLB), str(out)])
    env = {**os.environ, "TWINVIEW_CACHE": str(cache_dir)}
    render = [sys.executable, "-m", "viewer.cli", "render", str(twin), "-o", str(out), "--seconds", "0",
              "--broker", broker]
    cold = median_runs(render, env, before=lambda: shutil.rmtree(cache_dir, ignore_errors=True))
    warm = median_runs(render, env)
    shutil.rmtree(cache_dir, ignore_errors=True)
    stages = measure("cold", twin)["stages"]  # measure() uses the same cache folder

    record(f"load.open_cold.{label}", cold[0], "s", baseline=f3d[0], target=None, ratio_target=COLD_RATIO_TARGET)
    record(f"load.open_warm.{label}", warm[0], "s", baseline=f3d[0], target=None, ratio_target=WARM_RATIO_TARGET)
    record(f"load.peak_memory.{label}", cold[1], "MiB", baseline=f3d[1], target=None,
           ratio_target=MEMORY_RATIO_TARGET)
    row = [label, faces, f3d[0], cold[0], cold[0] / f3d[0], warm[0], warm[0] / f3d[0],
           f3d[1], cold[1], cold[1] / f3d[1]]
    return row, stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200k triangles only")
    parser.add_argument("--profile", action="store_true", help="cProfile one cold load of the first size")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "TWIN"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]), args.profile)))
        return

    import tempfile

    from viewer.live.broker import EmbeddedBroker

    sizes = QUICK_SIZES if args.quick else SIZES
    rows, stages, profile = [], {}, None
    with EmbeddedBroker() as broker:
        for label, triangles in sizes.items():
            with tempfile.TemporaryDirectory() as tmp:
                row, stages[label] = bench_size(label, triangles, Path(tmp), broker.url)
                rows.append(row)
                if args.profile and profile is None:
                    profile = measure("cold", Path(tmp) / TWIN, profile=True)["profile"]
    empty = measure("empty")
    print_table(["size", "triangles", "F3D s", "cold s", "ratio", "warm s", "ratio",
                 "F3D MiB", "cold MiB", "ratio"], rows)
    print(f"whole processes to the first frame, medians of {RUNS_EACH}; ratios against F3D "
          f"(targets: cold <= {COLD_RATIO_TARGET}, warm <= {WARM_RATIO_TARGET}, memory <= {MEMORY_RATIO_TARGET})\n")
    names = list(next(iter(stages.values())))
    print_table(["cold stage", *(f"{label} {unit}" for label in stages for unit in ("s", "+MB"))],
                [[name, *(v for label in stages for v in stages[label][name])] for name in names]
                + [["(empty frame)", *empty["stages"]["empty frame"] * len(stages)]])
    print("+MB: growth of the peak RSS during the stage")
    if profile:
        print(f"\ncProfile, one cold load of {rows[0][0]}, by cumulative time:\n{profile}")


if __name__ == "__main__":
    main()

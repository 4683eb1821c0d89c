"""Label cost: frame time with 100 and 1,000 live labels against the same scene without,
and the hand-made glyph atlas against VTK's batched label mapper.

The twin is bench/frame.py's grid of N boxes, each coloured by its own signal; the
labelled twin adds ``{label: pN, text: "T {sN:.1f} °C"}`` to every part. Every
signal changes every frame (values 0-100, so the texts change too, at most ten times
a second as the scene lets them). Offscreen at 1280x800, the median over 30 frames of:

- sync: ``Scene.sync`` (our Python: colour rules, label texts and anchors; a new text
  lays out its glyph quads from the atlas in :mod:`overlays.labels`);
- render: ``Render()``, which for labels is :class:`overlays.labels.LabelLayer` placing
  every box on screen (:mod:`overlays.declutter`, again only when an anchor or a box
  moved) and drawing the quads that show, in its own top layer;
- static render: ``Render()`` again with nothing changed.

The figure is the frame time (sync + render) added by the labels, with the same twin
without label bindings as the baseline, its window rendering in turn with the labelled
one frame by frame (so both see the same load of a shared machine).

The comparison draws the same 1,000 anchors and texts (ASCII: see below) with no
machine, texts changing every frame: the hand-made atlas (LabelLayer) against VTK's
``vtkBatchedLabeledDataMapper`` (the successor in VTK 9.7 of the deprecated
``vtkFastLabeledDataMapper``), and checks in a child process whether each VTK mapper
survives a label with a non-ASCII character ("°").

Run: ``.venv/bin/python bench/labels.py [--quick]`` (``--quick``: 10 frames).
Prints tables; adds its figures to ``bench/results.json``.
"""

from __future__ import annotations

import argparse
import functools
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import make_plotter, median_ms, print_table, record  # noqa: E402
from frame import make_twin  # noqa: E402

from viewer.scene import Scene  # noqa: E402
from viewer.twin.loader import Twin, load_twin  # noqa: E402

COUNTS = (100, 1000)
FRAMES, QUICK_FRAMES = 30, 10
TARGET_ADDED_MS = {1000: 15.0}  # issue target: what 1,000 live labels may add to a frame


def write_twins(folder: Path, n: int) -> tuple[Path, Path]:
    """The grid twin of bench/frame.py, and the same with a label on every part."""
    plain = make_twin(folder, n)
    labelled = folder / "labelled.twin.yaml"
    labels = [f'  - {{label: p{i}, text: "T {{s{i}:.1f}} °C"}}' for i in range(n)]
    labelled.write_text(plain.read_text() + "\n".join(labels) + "\n")
    return plain, labelled


def frames_ms(twins: list[Twin], frames: int) -> list[dict[str, float]]:
    """Per twin: median sync, render and frame ms with every signal changing, and the
    median render with nothing changing. The twins' windows render in turn, frame by
    frame, so all see the same load of a shared machine."""
    plotters = [make_plotter() for _ in twins]
    scenes = [Scene(plotter, twin) for plotter, twin in zip(plotters, twins)]
    for plotter in plotters:
        plotter.ren_win.Render()  # the first frame compiles shaders: not part of the steady state
    names = list(twins[0].signals)
    rng = np.random.default_rng(0)
    values: dict[str, float] = {}

    def new_values() -> None:
        values.update(zip(names, (100 * rng.random(len(names))).tolist()))

    phases = []
    for scene, plotter in zip(scenes, plotters):
        phases += [functools.partial(scene.sync, values, set(names), dt=1 / 30), plotter.ren_win.Render]
    changing = median_ms(frames, *phases, prepare=new_values)[:-1]
    static = median_ms(frames, *(plotter.ren_win.Render for plotter in plotters))[:-1]
    for plotter in plotters:
        plotter.close()
    return [{"sync": sync, "render": render, "frame": sync + render, "static": still}
            for sync, render, still in zip(changing[::2], changing[1::2], static)]


def grid_anchors(n: int) -> np.ndarray:
    """The label anchors of the grid twin: the top centre of each box."""
    side = int(np.ceil(np.sqrt(n)))
    i = np.arange(n)
    return np.c_[i % side, i // side, np.full(n, 0.4)].astype(float)


def atlas_vs_vtk_ms(n: int, frames: int) -> dict[str, float]:
    """Median frame ms (new texts + render) of ``n`` labels with no machine: drawn by
    :class:`overlays.labels.LabelLayer`, and by ``vtkBatchedLabeledDataMapper``."""
    from vtkmodules.vtkCommonCore import vtkStringArray
    from vtkmodules.vtkRenderingCore import vtkActor2D
    from vtkmodules.vtkRenderingLabel import vtkBatchedLabeledDataMapper

    import pyvista as pv

    from overlays.labels import LabelLayer

    anchors, rng = grid_anchors(n), np.random.default_rng(0)
    texts: list[str] = []

    def new_texts() -> None:
        texts[:] = [f"T {v:.1f} C" for v in 100 * rng.random(n)]  # ASCII: VTK's mapper aborts on "°"

    result = {}
    for kind in ("atlas", "vtk"):
        plotter = make_plotter()
        plotter.camera_position = [(n ** 0.5 / 2, -n ** 0.5, n ** 0.5), (n ** 0.5 / 2, n ** 0.5 / 2, 0), (0, 0, 1)]
        new_texts()
        if kind == "atlas":
            layer = LabelLayer(plotter.renderer, n)

            def update() -> None:
                layer.set_many(range(n), anchors, texts)
        else:
            points = pv.PolyData(anchors)  # with a vertex per point: the mapper labels vertices
            strings = vtkStringArray()
            strings.SetName("text")
            strings.SetNumberOfValues(n)
            points.GetPointData().AddArray(strings)
            mapper = vtkBatchedLabeledDataMapper()
            mapper.SetInputData(points)
            mapper.SetLabelModeToLabelFieldData()
            mapper.SetFieldDataName("text")
            mapper.GetLabelTextProperty().SetFontSize(15)
            actor = vtkActor2D()
            actor.SetMapper(mapper)
            plotter.renderer.AddActor(actor)

            def update() -> None:
                for i, text in enumerate(texts):
                    strings.SetValue(i, text)
                strings.Modified()
        update()
        plotter.ren_win.Render()
        _, _, result[kind] = median_ms(frames, update, plotter.ren_win.Render, prepare=new_texts)
        if kind == "atlas":
            layer.close()
        plotter.close()
    return result


def survives(mapper: str, text: str) -> bool:
    """Whether VTK's ``mapper`` draws a label ``text`` without killing its process (run in
    a child process, as it may not)."""
    code = f"""
import os, warnings
os.environ["VTK_DEFAULT_OPENGL_WINDOW"] = "vtkEGLRenderWindow"
warnings.simplefilter("ignore")
import pyvista as pv
from vtkmodules.vtkCommonCore import vtkStringArray
from vtkmodules.vtkRenderingCore import vtkActor, vtkActor2D
from vtkmodules.vtkRenderingLabel import vtkBatchedLabeledDataMapper
from vtkmodules.vtkRenderingOpenGL2 import vtkFastLabeledDataMapper
points = pv.PolyData([[0.0, 0.0, 0.0]])
strings = vtkStringArray()
strings.SetName("text")
strings.InsertNextValue({text!r})
points.GetPointData().AddArray(strings)
mapper = {mapper}()
mapper.SetInputData(points)
mapper.SetLabelModeToLabelFieldData()
mapper.SetFieldDataName("text")
actor = vtkActor2D() if mapper.IsA("vtkMapper2D") else vtkActor()
actor.SetMapper(mapper)
plotter = pv.Plotter(off_screen=True, window_size=(300, 100))
plotter.renderer.AddActor(actor)
plotter.camera.position, plotter.camera.focal_point = (0, 0, 5), (0, 0, 0)
plotter.render()
plotter.screenshot(return_img=True)
"""
    return subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_FRAMES} frames instead of {FRAMES}")
    frames = QUICK_FRAMES if parser.parse_args().quick else FRAMES
    rows = []
    for n in COUNTS:
        with tempfile.TemporaryDirectory() as tmp:
            plain, labelled = write_twins(Path(tmp), n)
            without, with_labels = frames_ms([load_twin(plain), load_twin(labelled)], frames)
        added = with_labels["frame"] - without["frame"]
        for labels, m in ((0, without), (n, with_labels)):
            rows.append([n, labels, m["sync"], m["render"], m["frame"], m["static"],
                         added if labels else None, with_labels["frame"] / without["frame"] if labels else None])
        record(f"labels.frame_added.{n}", added, "ms", baseline=without["frame"],
               target=TARGET_ADDED_MS.get(n))
        if n == 1000:
            record("labels.sync.1000", with_labels["sync"], "ms", baseline=without["sync"], target=None)
    print_table(["parts", "labels", "sync ms", "render ms", "frame ms", "static ms", "added ms", "ratio"], rows)
    print(f"median of {frames} frames at 1280x800; frame = median sync + median render; static = a render with nothing "
          f"changed; added = frame with labels - frame without (target at 1,000: {TARGET_ADDED_MS[1000]:.0f} ms)")

    n = COUNTS[-1]
    ms = atlas_vs_vtk_ms(n, frames)
    record(f"labels.vtk_batched_mapper.{n}", ms["vtk"], "ms", baseline=ms["atlas"], target=None)
    texts = ("T 12.3 C", "T 12.3 °C")
    rows = [["hand-made atlas (LabelLayer)", ms["atlas"], "yes", "yes"]]
    for mapper in ("vtkBatchedLabeledDataMapper", "vtkFastLabeledDataMapper"):
        drawn = ["yes" if survives(mapper, text) else "no: the process dies" for text in texts]
        rows.append([mapper, ms["vtk"] if mapper == "vtkBatchedLabeledDataMapper" else None, *drawn])
    print()
    print_table(["labels drawn by", "frame ms", f"draws {texts[0]!r}", f"draws {texts[1]!r}"], rows)
    print(f"frame ms: {n} labels, no machine, every text new each frame (ASCII, which VTK's batched mapper "
          "survives); the atlas also places the labels so none overlaps, VTK's mapper draws them all")


if __name__ == "__main__":
    main()

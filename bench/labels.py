"""Label cost: frame time with 100 and 1,000 live labels against the same scene without.

The twin is bench/frame.py's grid of N boxes, each coloured by its own signal; the
labelled twin adds ``{label: pN, text: "T {sN:.1f} °C"}`` to every part. Every
signal changes every frame (values 0-100, so the texts change too). Offscreen at
1280x800, the median over 30 frames of:

- sync: ``Scene.sync`` (our Python: colour rules, label texts and positions);
- hierarchy: VTK's ``vtkPointSetToLabelHierarchy`` rebuilding the label octree
  from the changed points and texts (run on its own before the render);
- render: ``Render()``, which for labels is ``vtkLabelPlacementMapper`` placing and
  drawing them;
- static render: ``Render()`` again with nothing changed (placement and drawing
  alone, no new texts).

The figure is the frame time (sync + hierarchy + render) added by the labels, with
the same twin without label bindings, measured in the same run, as the baseline.

Run: ``.venv/bin/python bench/labels.py [--quick]`` (``--quick``: 10 frames).
Prints a table; adds its figures to ``bench/results.json``.
"""

from __future__ import annotations

import argparse
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
TARGET_ADDED_MS = {1000: 25.0}  # issue target: what 1,000 live labels may add to a frame


def write_twins(folder: Path, n: int) -> tuple[Path, Path]:
    """The grid twin of bench/frame.py, and the same with a label on every part."""
    plain = make_twin(folder, n)
    labelled = folder / "labelled.twin.yaml"
    labels = [f'  - {{label: p{i}, text: "T {{s{i}:.1f}} °C"}}' for i in range(n)]
    labelled.write_text(plain.read_text() + "\n".join(labels) + "\n")
    return plain, labelled


def label_hierarchy(scene: Scene):
    """The scene's ``vtkPointSetToLabelHierarchy``, or None when it has no labels."""
    if scene.label_layer is None:
        return None
    return scene.label_layer.actor.GetMapper().GetInputConnection(0, 0).GetProducer()


def frame_ms(twin: Twin, frames: int) -> dict[str, float]:
    """Median sync, hierarchy, render and frame ms with every signal changing, and the
    median render with nothing changing."""
    plotter = make_plotter()
    scene = Scene(plotter, twin)
    plotter.ren_win.Render()  # the first frame compiles shaders: not part of the steady state
    names = list(twin.signals)
    rng = np.random.default_rng(0)
    values: dict[str, float] = {}
    hierarchy = label_hierarchy(scene)

    def new_values() -> None:
        values.update(zip(names, (100 * rng.random(len(names))).tolist()))

    def apply_values() -> None:
        scene.sync(values, set(names), dt=1 / 30)

    def rebuild_labels() -> None:
        if hierarchy is not None:
            hierarchy.Update()

    sync, build, render, frame = median_ms(frames, apply_values, rebuild_labels, plotter.ren_win.Render,
                                           prepare=new_values)
    static, _ = median_ms(frames, plotter.ren_win.Render)
    plotter.close()
    return {"sync": sync, "hierarchy": build, "render": render, "frame": frame, "static": static}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_FRAMES} frames instead of {FRAMES}")
    frames = QUICK_FRAMES if parser.parse_args().quick else FRAMES
    rows = []
    for n in COUNTS:
        with tempfile.TemporaryDirectory() as tmp:
            plain, labelled = write_twins(Path(tmp), n)
            without = frame_ms(load_twin(plain), frames)
            with_labels = frame_ms(load_twin(labelled), frames)
        added = with_labels["frame"] - without["frame"]
        for labels, m in ((0, without), (n, with_labels)):
            rows.append([n, labels, m["sync"], m["hierarchy"], m["render"], m["frame"], m["static"],
                         added if labels else None, with_labels["frame"] / without["frame"] if labels else None])
        record(f"labels.frame_added.{n}", added, "ms", baseline=without["frame"],
               target=TARGET_ADDED_MS.get(n))
        if n == 1000:
            record("labels.sync.1000", with_labels["sync"], "ms", baseline=without["sync"], target=None)
    print_table(["parts", "labels", "sync ms", "hierarchy ms", "render ms", "frame ms", "static ms",
                 "added ms", "ratio"], rows)
    print(f"median of {frames} frames at 1280x800; frame = sync + hierarchy + render; static = a render "
          "with nothing changed; added = frame with labels - frame without (target at 1,000: "
          f"{TARGET_ADDED_MS[1000]:.0f} ms)")


if __name__ == "__main__":
    main()

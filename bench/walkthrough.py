"""Walkthroughs: what a step's view costs on the demo pump, against a plain frame.

- ``walkthrough.step_view``: ms to put a step's view on the machine: outline its
  highlighted parts, fade or hide the rest (labels, badges and markers with them) and
  move its parts out, then render; baseline: a plain frame of the same scene. It happens
  once per step (then the camera flies: a render per frame).
- ``walkthrough.follow``: ms per walkthrough update (the step's condition evaluated
  on the twin's values and qualities, the alarms asked), a few times a second while one
  runs; baseline: a plain frame, which it must not delay.

Run: ``.venv/bin/python bench/walkthrough.py``. Prints a table; adds its figures to
``bench/results.json``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import make_plotter, median_ms, print_table, record  # noqa: E402

from overlays.spotlight import Spotlight  # noqa: E402
from viewer.live.updates import Update  # noqa: E402
from viewer.samples import SAMPLES  # noqa: E402
from viewer.session import Session  # noqa: E402
from viewer.twin.loader import load_twin  # noqa: E402
from viewer.walkthrough import Walkthrough  # noqa: E402

FRAMES = 40


def main() -> None:
    twin = load_twin(SAMPLES["pump"])
    plotter = make_plotter()
    session = Session(twin, plotter, broker_url="mqtt://127.0.0.1:1")  # not started: the scene and the state
    scene, procedure = session.scene, twin.procedures[0]
    values = {name: 50.0 for name in twin.signals}
    spot = Spotlight(scene.parts)
    steps = [s for s in procedure.steps if s.spec.highlight or s.spec.isolate]
    render = plotter.ren_win.Render
    plotter.render()
    turn = [0]

    def step_view():
        step = steps[turn[0] % len(steps)]
        turn[0] += 1
        spot.show(step.spec.highlight, step.spec.isolate, step.spec.others)
        spot.move({m.part: np.asarray(m.by) for m in step.moves})
        scene.shown_parts_changed(values)

    view_ms, view_render_ms, view_total = median_ms(FRAMES, step_view, render)
    spot.clear()
    scene.shown_parts_changed(values)
    (plain_ms,) = median_ms(FRAMES, render)[-1:]

    now = time.time()
    session.state.apply([Update(name, 50.0, now) for name in twin.signals])  # a running plant's values
    w = Walkthrough.on_session(procedure, session, "bench")
    w.skip("bench")  # to the first step with a condition
    for _ in range(3):
        w.follow(session)
    n = 2000
    start = time.perf_counter()
    for _ in range(n):
        w.follow(session)
    follow_ms = (time.perf_counter() - start) / n * 1e3
    session.close()
    plotter.close()

    record("walkthrough.step_view", view_total, "ms", baseline=plain_ms, target=None)
    record("walkthrough.follow", follow_ms, "ms", baseline=plain_ms, target=None)
    print_table(["figure", "value", "baseline", "ratio"], [
        [f"step view ({len(steps)} steps in turn), before the render, ms", view_ms, None, None],
        ["  with its render, ms (baseline: a plain frame)", view_total, plain_ms, view_total / plain_ms],
        ["walkthrough update, ms (baseline: a plain frame)", follow_ms, plain_ms, follow_ms / plain_ms],
    ])


if __name__ == "__main__":
    main()

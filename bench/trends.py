"""Trend cost: what drawing 20 live trends with an hour of history each costs the UI
thread per update.

The panel (``viewer.qt.trends.TrendPanel``) shows 20 signals, each with an hour of
history at 1 Hz (its latest samples as they came, older ones in 10-second min/max
buckets: :mod:`viewer.history`) and limits drawn as bands. Every frame, at 30 Hz of the
signals' clock, adds a sample to each signal and refreshes the panel, which scrolls and
redraws a curve only once it has moved a pixel (the figure includes Qt's paint).
Baseline: the same frames with every curve redrawn and the view scrolled every frame.
Under a real (virtual) display at 1280x800.

- ``trends.update.20``: mean ms per frame over 60 frames (target: a few ms, 5); the
  slowest frame is printed too.

Run: ``xvfb-run -a .venv/bin/python bench/trends.py [--quick]`` (``--quick``: 20 updates).
Prints a table; adds its figures to ``bench/results.json``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table, record  # noqa: E402

SIGNALS = 20
UPDATES, QUICK_UPDATES = 60, 20
TARGET_MS = 5.0


def twin_file(folder: Path) -> Path:
    signals = "\n".join(f"  s{i}: {{topic: t/{i}, unit: degC, limits: {{warn_high: 80, alarm_high: 95}}}}"
                        for i in range(SIGNALS))
    path = folder / "trends.twin.yaml"
    path.write_text(f"twin: trends\nbroker: mqtt://127.0.0.1:1\nparts:\n  - {{name: p}}\nsignals:\n{signals}\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 updates")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        sys.exit("needs a display: run under xvfb-run")
    from PySide6 import QtWidgets

    from viewer.live.ingest import Update
    from viewer.qt.trends import TrendPanel
    from viewer.state import TwinForecasts, TwinState
    from viewer.twin.loader import load_twin

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        twin = load_twin(twin_file(Path(tmp)), geometry=False)
    names = list(twin.signals)
    state = TwinState(names)
    now = time.time()
    t = now - 3600 + np.arange(3600.0)
    for name in names:
        state.signals[name].past.extend(t, 60 + 5 * np.sin(t / 300) + np.random.default_rng(0).normal(0, 0.3, len(t)))
    session = SimpleNamespace(twin=twin, state=state, forecasts=TwinForecasts(twin.alarms), clock=time.time)
    panel = TrendPanel()
    panel.resize(1280, 800)
    panel.set_signals(session, names)
    panel.show()
    app.processEvents()

    clock = [time.time()]

    def update(redraw_all: bool) -> float:
        """One frame of a 30 Hz refresh: every signal has a new sample, 1/30 s on."""
        clock[0] += 1 / 30
        start = time.perf_counter()
        state.apply([Update(name, 60.0 + np.sin(clock[0]), clock[0]) for name in names])
        if redraw_all:  # as before the panel drew only what moved a pixel
            panel._drawn.clear()
            panel._scrolled = float("-inf")
        panel.refresh(clock[0])
        app.processEvents()  # the paint
        return (time.perf_counter() - start) * 1000

    n = QUICK_UPDATES if args.quick else UPDATES
    for _ in range(3):
        update(False)
    ours = [update(False) for _ in range(n)]
    every = [update(True) for _ in range(n)]
    mean, worst, full = float(np.mean(ours)), float(np.max(ours)), float(np.median(every))
    record(f"trends.update.{SIGNALS}", mean, "ms", full, TARGET_MS)
    print_table(["figure (ms per frame at 30 Hz)", "ms", "redraw all ms", "ratio"],
                [[f"{SIGNALS} trends, an hour each: mean", mean, full, mean / full],
                 ["  the slowest frame (a pixel on: scroll and redraw)", worst, full, worst / full]])
    panel.close()


if __name__ == "__main__":
    main()

"""Opening a large model in the window: when the first picture shows, and how long the
UI stops answering meanwhile.

The window shows the sample pump, then opens bench/load.py's plant (500 parts of
unique geometry, 1M and 5M triangles, with and without normals in the file) through
File > Open's loader, as a user would. A 10 ms Qt timer probes the UI thread: the
longest gap between two of its ticks, from the open to a second after the full
model shows, is the longest stall a user could feel (a click or a repaint waits that
long). Figures per plant, the median of 3 opens:

- ``window.first_picture``: from the open to the end of the first frame of the new
  model, its coarse preview (above 500k triangles) or the model itself (target 1 s);
- ``window.full_detail``: from the open to the end of the first frame of the model
  itself;
- ``window.longest_stall``: the longest UI stall meanwhile (target 100 ms).

Run under a display: ``xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python
bench/window_open.py [--quick]``. Prints a table; adds its figures to
``bench/results.json``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import print_table, record  # noqa: E402
from load import QUICK_SIZES, SIZES, TWIN, write_plant  # noqa: E402

PROBE_MS = 10
AFTER_S = 1.0  # the probe keeps watching this long after the picture
RUNS_EACH = 3
PICTURE_TARGET_S = 1.0
STALL_TARGET_MS = 100.0


def open_once(window, app, twin: Path) -> tuple[float, float, float]:
    """Open ``twin`` in ``window``; seconds to its first picture and to its full frame,
    longest UI stall in ms."""
    from PySide6 import QtCore

    ticks: list[float] = []
    probe = QtCore.QTimer(interval=PROBE_MS)
    probe.timeout.connect(lambda: ticks.append(time.perf_counter()))
    shown: list[float] = []
    previewed: list[float] = []
    failed: list[str] = []

    def on_loaded(_twin):  # after the window's own slots, which draw what they show
        shown.append(time.perf_counter())

    def on_preview(_model):
        previewed.append(time.perf_counter())

    window.loader.loaded.connect(on_loaded)
    window.loader.preview.connect(on_preview)
    window.loader.failed.connect(lambda title, text: failed.append(text))
    probe.start()
    start = time.perf_counter()
    ticks.append(start)
    window.loader.start(twin)
    while not failed and (not shown or time.perf_counter() < shown[0] + AFTER_S):
        app.processEvents()
        time.sleep(0.001)
    probe.stop()
    window.loader.loaded.disconnect(on_loaded)
    window.loader.preview.disconnect(on_preview)
    if failed:
        raise RuntimeError(failed[0])
    return (previewed or shown)[0] - start, shown[0] - start, float(np.diff(ticks).max() * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200k triangles only")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        sys.exit("needs a display: run under xvfb-run")
    from PySide6 import QtWidgets

    from viewer.qt.window import MainWindow
    from viewer.samples import SAMPLES
    from viewer.twin.loader import load_twin

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TWINVIEW_CACHE"] = str(Path(tmp) / "mesh-cache")
        os.environ["TWINVIEW_SETTINGS"] = str(Path(tmp) / "settings")
        window = MainWindow(load_twin(SAMPLES["pump"]), broker_url="mqtt://127.0.0.1:1")
        window.show()
        try:
            for label, (triangles, normals) in (QUICK_SIZES if args.quick else SIZES).items():
                folder = Path(tmp) / label
                folder.mkdir()
                write_plant(folder, triangles, normals)
                runs = []
                for _ in range(RUNS_EACH):
                    window.loader.start(SAMPLES["pump"])  # back to the small pump between opens
                    while window.loader.busy:
                        app.processEvents()
                    runs.append(open_once(window, app, folder / TWIN))
                picture, full, stall = (float(np.median(column)) for column in zip(*runs))
                record(f"window.first_picture.{label}", picture, "s", baseline=None, target=PICTURE_TARGET_S)
                record(f"window.full_detail.{label}", full, "s", baseline=None, target=None)
                record(f"window.longest_stall.{label}", stall, "ms", baseline=None, target=STALL_TARGET_MS)
                rows.append([label, triangles, picture, full, stall])
        finally:
            window.close()
    print_table(["plant", "triangles", "first picture s", "full detail s", "longest stall ms"], rows)
    print(f"medians of {RUNS_EACH} opens through the window's loader (cold mesh cache for the first); "
          f"targets: picture <= {PICTURE_TARGET_S} s, stall <= {STALL_TARGET_MS:g} ms")


if __name__ == "__main__":
    main()

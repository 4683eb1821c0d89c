"""Headless rendering: a twin with its live values to a PNG, no display needed."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import pyvista as pv

from viewer.scene import MULTI_SAMPLES
from viewer.session import Session
from viewer.twin.loader import Twin


@dataclass
class RenderReport:
    """What a headless render saw."""

    path: str
    connected: bool
    values: dict[str, float | None]
    status: str


def render_twin(twin: Twin, out: str, seconds: float = 3.0, size=(1280, 800),
                broker_url: str | None = None, password: str | None = None) -> RenderReport:
    """Connect, apply the values received during ``seconds``, write a PNG.

    Uses VTK's offscreen (EGL) path. With no broker reachable the machine is drawn
    in its "no data" state.
    """
    if not os.environ.get("DISPLAY"):
        # Go straight to EGL instead of letting VTK try (and warn about) a missing X server.
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    plotter = pv.Plotter(off_screen=True, window_size=tuple(size))
    plotter.ren_win.SetMultiSamples(MULTI_SAMPLES)
    connected, session = False, None
    try:
        session = Session(twin, plotter, broker_url, password)
        session.start()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            session.tick()
            connected |= session.status.state == "live"
            time.sleep(1 / 30)
        session.tick()
        status = str(session.status)
        plotter.add_text(f"{twin.name} · {status}", position="upper_left", font_size=10, color="white")
        plotter.screenshot(out)
    finally:
        if session is not None:
            session.close()
        plotter.close()
    return RenderReport(out, connected, session.state.values(), status)

"""Start the Qt application for ``twinview open`` and ``twinview demo``."""

from __future__ import annotations

import signal

from PySide6 import QtCore, QtWidgets

from viewer.live.broker import EmbeddedBroker
from viewer.live.simulator import Simulator
from viewer.qt.settings import APPLICATION, ORGANISATION
from viewer.qt.window import MainWindow
from viewer.samples import SAMPLES
from viewer.twin.loader import Twin, load_twin
from viewer.twin.scenario import load_scenario


def run_window(twin: Twin, broker_url: str | None = None, samples=None,
               screenshot: str | None = None, seconds: float = 5.0, simulators=(), source=None,
               scenario=None) -> int:
    """Show ``twin`` in the main window until it is closed.

    With ``screenshot``, the window saves itself to that PNG after ``seconds`` and
    closes (for documentation and checks). ``source`` (a replay) replaces the twin's broker;
    ``scenario`` puts virtual faults on what is shown.
    """
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    app.setOrganizationName(ORGANISATION)  # where settings are kept (viewer.qt.settings)
    app.setApplicationName(APPLICATION)
    window = MainWindow(twin, broker_url=broker_url, samples=samples, simulators=simulators, source=source,
                        scenario=scenario)
    window.show()
    if screenshot:
        def save_and_close():
            window.grab_window().save(str(screenshot))
            window.close()
        QtCore.QTimer.singleShot(int(seconds * 1000), save_and_close)
    # Ctrl+C in the terminal and `kill` close the window, which stops everything it started.
    # Python only sees signals between Qt events: the keep-alive timer below makes those.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: window.close())
    keepalive = QtCore.QTimer()
    keepalive.start(200)
    keepalive.timeout.connect(lambda: None)
    return app.exec()


def run_demo(machine: str = "pump", screenshot: str | None = None, seconds: float = 5.0,
             speed: float = 1.0, broker: str = "mosquitto", scenario=None) -> int:
    """The demo: embedded broker, simulators for every sample, the main window
    (``scenario``: a path, virtual faults on the machine shown).

    Everything started here is stopped when the window closes.
    """
    twins = {name: load_twin(path) for name, path in SAMPLES.items()}
    scenario = load_scenario(scenario, twins[machine].signals) if scenario is not None else None
    with EmbeddedBroker(prefer=broker) as server:
        simulators = [Simulator(server.url, t.spec.simulate, speed=speed).start() for t in twins.values()]
        try:
            samples = {t.name: SAMPLES[name] for name, t in twins.items()}
            return run_window(twins[machine], server.url, samples, screenshot, seconds,
                              simulators, scenario=scenario)
        finally:
            for sim in simulators:
                sim.stop()

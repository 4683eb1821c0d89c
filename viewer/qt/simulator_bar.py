"""The simulator bar: pause the demo's simulated sensors, or run them faster."""

from __future__ import annotations

from PySide6 import QtWidgets

SPEEDS = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0)


class SimulatorBar(QtWidgets.QToolBar):
    """Play/pause and speed of the simulators a window was started with (the demo's)."""

    def __init__(self, simulators, parent=None):
        super().__init__("Simulator", parent)
        self.setObjectName("simulator")
        self.simulators = list(simulators)
        self.play_button = QtWidgets.QToolButton()
        self.play_button.setToolTip("Pause or go on publishing the simulated sensors")
        self.play_button.clicked.connect(self.toggle)
        self.speed = QtWidgets.QComboBox()
        self.speed.setToolTip("Simulated seconds per second: a slow fault in minutes")
        for speed in SPEEDS:
            self.speed.addItem(f"{speed:g}x", speed)
        first = self.simulators[0].speed if self.simulators else 1.0
        self.speed.setCurrentIndex(min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - first)))
        self.speed.currentIndexChanged.connect(lambda i: [s.set_speed(self.speed.itemData(i)) for s in self.simulators])
        self.addWidget(QtWidgets.QLabel(" Simulator "))
        self.addWidget(self.play_button)
        self.addWidget(QtWidgets.QLabel(" Speed "))
        self.addWidget(self.speed)
        self.setVisible(bool(self.simulators))
        self.refresh()

    def toggle(self) -> None:
        """Pause running simulators, or let paused ones go on."""
        paused = any(s.paused for s in self.simulators)
        for s in self.simulators:
            s.play() if paused else s.pause()
        self.refresh()

    def refresh(self) -> None:
        """The button says what a click does."""
        paused = any(s.paused for s in self.simulators)
        self.play_button.setText("▶ Run" if paused else "❚❚ Pause")

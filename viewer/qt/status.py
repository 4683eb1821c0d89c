"""The window's status bar: the broker connection, the active alarms per severity, and
how many signals have data."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from viewer.alarm_types import Severity
from viewer.qt.alarm_list import severity_colour, severity_icon

_STATE_COLOURS = {"live": "#2e9d4f", "replay": "#2f6fb0", "connecting": "#c98a12", "reconnecting": "#c0392b", "failed": "#c0392b",
                  "stopped": "#777"}
_PLURALS = {Severity.ALARM: ("alarm", "alarms"), Severity.WARNING: ("warning", "warnings"),
            Severity.INFO: ("info", "info")}


class StatusBar(QtWidgets.QStatusBar):
    """Connection on the left; alarm counts (each a button to the alarm list) and signal
    counts on the right.

    Signals
    -------
    alarms_clicked()
        An alarm count was clicked: show the alarm list.
    """

    alarms_clicked = QtCore.Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.connection = QtWidgets.QLabel()
        self.counts = QtWidgets.QLabel()
        # a long connection text (an error) is cut, never widens the window; it has the room left
        self.connection.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        self.addWidget(self.connection, 1)
        self.severity_counts: dict[Severity, QtWidgets.QToolButton] = {}
        for severity in sorted(Severity, reverse=True):
            button = QtWidgets.QToolButton()
            button.setAutoRaise(True)
            button.setIcon(severity_icon(severity))
            button.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setToolTip(f"Active {_PLURALS[severity][1]}: click to open the alarm list")
            button.clicked.connect(self.alarms_clicked)
            self.severity_counts[severity] = button
            self.addPermanentWidget(button)
        self.addPermanentWidget(self.counts)

    def show_session(self, session) -> None:
        """The connection of ``session`` and how many of its signals have data."""
        status = session.status
        self.connection.setText(f"<span style='color:{_STATE_COLOURS.get(status.state, '#777')}'>●</span> {status}")
        signals = session.state.snapshot().values()
        with_data = sum(s.value is not None for s in signals)
        errors = sum(s.errors for s in signals)
        text = f"{with_data}/{len(signals)} signals with data · {session.received} messages"
        self.counts.setText(text + (f" · {errors} bad payloads" if errors else ""))

    def show_alarm_counts(self, counts: dict[Severity, int]) -> None:
        """Active alarms per severity, each in its colour (grey at 0)."""
        for severity, button in self.severity_counts.items():
            n = counts[severity]
            button.setText(f"{n} {_PLURALS[severity][n != 1]}")
            colour = severity_colour(severity).name() if n else "#8a8a8a"
            button.setStyleSheet(f"QToolButton {{ color: {colour}; font-weight: {'bold' if n else 'normal'}; }}")

    def alarm_counts(self) -> dict[str, str]:
        """The alarm counts as shown, keyed by severity name."""
        return {str(s): b.text() for s, b in self.severity_counts.items()}

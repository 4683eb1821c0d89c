"""The replay bar: play or pause a recording, at which speed, and where it is."""

from __future__ import annotations

import math
import time

from PySide6 import QtCore, QtGui, QtWidgets

from overlays.palette import SEVERITY_RGB
from viewer.live.replay import SPEEDS, ReplaySource


def speed_text(speed: float) -> str:
    """``1x``, ``0.25x``, or ``max`` for as fast as it can."""
    return "max" if math.isinf(speed) else f"{speed:g}x"


class ReplayBar(QtWidgets.QToolBar):
    """Controls of a :class:`~viewer.live.replay.ReplaySource`, shown while one plays:
    play or pause, speed, a timeline to drag (``seek_requested`` with the time to show),
    steps back and on, and where it is."""

    seek_requested = QtCore.Signal(float)  # the recording's time (epoch seconds)
    STEP_S = 10.0

    def __init__(self, parent=None):
        super().__init__("Replay", parent)
        self.setObjectName("replay")  # its place is remembered with the docks'
        self.source: ReplaySource | None = None
        self.play_button = QtWidgets.QToolButton()
        self.play_button.setToolTip("Play or pause the recording (Space)")
        self.play_button.clicked.connect(self.toggle)
        self.speed = QtWidgets.QComboBox()
        self.speed.setToolTip("Recorded seconds per second")
        for speed in SPEEDS:
            self.speed.addItem(speed_text(speed), speed)
        self.speed.currentIndexChanged.connect(lambda i: self.source and self.source.set_speed(self.speed.itemData(i)))
        self.timeline = _Timeline()
        self.timeline.setRange(0, 1000)
        self.timeline.setMinimumWidth(240)
        self.timeline.setToolTip("Drag to a moment of the recording")
        self.timeline.sliderReleased.connect(lambda: self._seek(self._time_at(self.timeline.value())))
        back, on = QtWidgets.QToolButton(), QtWidgets.QToolButton()
        back.setText(f"◀ {self.STEP_S:g} s")
        on.setText(f"{self.STEP_S:g} s ▶")
        back.clicked.connect(lambda: self.source and self._seek(self.source.now() - self.STEP_S))
        on.clicked.connect(lambda: self.source and self._seek(self.source.now() + self.STEP_S))
        self.next_alarm = QtWidgets.QToolButton()
        self.next_alarm.setText("Next alarm ⚑")
        self.next_alarm.setToolTip("Go to the next moment an alarm or warning rose (of those the replay has seen)")
        self.next_alarm.clicked.connect(self.go_to_next_alarm)
        self.loop = QtWidgets.QToolButton()
        self.loop.setText("Loop")
        self.loop.setCheckable(True)
        self.loop.setToolTip("Play from A to B again and again (without them: the minute up to now)")
        self.loop.toggled.connect(self._looping)
        self.loop_range: tuple[float, float] | None = None
        self.ends: dict[str, float] = {}  # "A", "B": the loop's ends, set at the moment shown
        self.end_buttons = {}
        for end in ("A", "B"):
            button = self.end_buttons[end] = QtWidgets.QToolButton()
            button.setText(end)
            button.setToolTip(f"The loop {'starts' if end == 'A' else 'ends'} at the moment shown")
            button.clicked.connect(lambda _=False, e=end: self.set_end(e))
        self.marks: list[tuple[float, int]] = []  # (time, severity) of the alarms seen, for the timeline
        self.where = QtWidgets.QLabel()  # the recording's wall-clock time now
        self.where.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.addWidget(self.play_button)
        self.addWidget(QtWidgets.QLabel(" Speed "))
        self.addWidget(self.speed)
        self.addWidget(QtWidgets.QLabel("  "))
        self.addWidget(back)
        self.addWidget(self.timeline)
        self.addWidget(on)
        self.addWidget(self.next_alarm)
        self.addWidget(self.end_buttons["A"])
        self.addWidget(self.end_buttons["B"])
        self.addWidget(self.loop)
        self.addWidget(QtWidgets.QLabel("  "))
        self.addWidget(self.where)
        self.hide()

    def set_source(self, source) -> None:
        """Control ``source`` (shown only for a replay; hidden for live data)."""
        self.source = source if isinstance(source, ReplaySource) else None
        self.setVisible(self.source is not None)
        if self.source is not None:
            self.speed.blockSignals(True)
            self.speed.setCurrentIndex(SPEEDS.index(source.speed if source.speed in SPEEDS else 1.0))
            self.speed.blockSignals(False)
            self.refresh()

    def toggle(self) -> None:
        """Pause a playing replay, or play a paused one (an ended one from where it is)."""
        if self.source is not None:
            self.source.play() if self.source.paused else self.source.pause()
            self.refresh()

    def set_marks(self, marks: dict) -> None:
        """The alarms the replay has seen rise (``Session.alarm_marks``), drawn on the timeline."""
        self.marks = sorted((t, severity) for (_, t), severity in marks.items())
        if self.source is not None:
            self.timeline.marks = [((t - self.source.start_time) / self._span(), severity) for t, severity in self.marks]
            self.timeline.update()

    def go_to_next_alarm(self) -> None:
        """Seek to the next moment an alarm rose after now (the first one, past the last)."""
        if self.source is not None and self.marks:
            now = self.source.now()
            later = [t for t, _ in self.marks if t > now + 0.5]
            self._seek((later or [self.marks[0][0]])[0] - 1.0)  # a second before: see it rise

    def set_end(self, end: str) -> None:
        """Put the loop's ``end`` ("A" or "B") at the moment shown."""
        if self.source is not None:
            self.ends[end] = self.source.now()
            self.end_buttons[end].setText(f"{end} {time.strftime('%H:%M:%S', time.localtime(self.ends[end]))}")

    def _looping(self, on: bool) -> None:
        """Loop from A to B (in either order), or without both, the minute up to now."""
        if self.source is None:
            return
        if len(self.ends) == 2 and self.ends["A"] != self.ends["B"]:
            self.loop_range = (min(self.ends.values()), max(self.ends.values()))
        else:
            now = self.source.now()
            self.loop_range = (max(now - 60.0, self.source.start_time), now)
        if not on:
            self.loop_range = None
        else:
            self._seek(self.loop_range[0])

    def _span(self) -> float:
        """Seconds the timeline spans: the whole recording, or as much as has been read of one cut off."""
        source = self.source
        return max((source.end_time or max(source.released_until, source.now())) - source.start_time, 1e-3)

    def _time_at(self, value: int) -> float:
        return self.source.start_time + value / 1000 * self._span()

    def _seek(self, t: float) -> None:
        if self.source is not None:
            self.seek_requested.emit(float(t))
            self.refresh()

    def refresh(self) -> None:
        """Show where the replay is (a few times a second)."""
        source = self.source
        if source is None:
            return
        self.play_button.setText("▶ Play" if source.paused or source.ended else "❚❚ Pause")
        self.play_button.setEnabled(not source.ended)
        now = source.now()
        if self.loop_range is not None and (now >= self.loop_range[1] or source.ended):
            self._seek(self.loop_range[0])
            now = source.now()
        if not self.timeline.isSliderDown():  # the user's drag wins
            self.timeline.setValue(round(1000 * (now - source.start_time) / self._span()))
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))
        state = "ended" if source.ended else "paused" if source.paused else speed_text(source.speed)
        self.where.setText(f"{stamp}  ({_duration(now - source.start_time)} into the recording, {state})")


def _duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class _Timeline(QtWidgets.QSlider):
    """A slider over the recording with a mark where each alarm the replay saw rose."""

    def __init__(self):
        super().__init__(QtCore.Qt.Orientation.Horizontal)
        self.marks: list[tuple[float, int]] = []  # (share of the timeline, severity)

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        painter = QtGui.QPainter(self)
        for share, severity in self.marks:
            x = round(7 + share * (self.width() - 14))
            painter.fillRect(x - 1, 0, 3, 6, QtGui.QColor(*map(int, SEVERITY_RGB.get(severity, SEVERITY_RGB[2]))))
        painter.end()

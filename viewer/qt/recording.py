"""The window's Record button: what the open twin receives, into an MCAP file."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from viewer.live.ingest import Ingest
from viewer.live.mqtt import MqttSource
from viewer.live.recorder import Recorder, RecordingError
from viewer.live.replay import RecordingReadError, ReplaySource


def default_path(twin_name: str) -> Path:
    """``~/TwinView recordings/<twin> <date time>.mcap``."""
    stamp = time.strftime("%Y-%m-%d %H%M%S")
    safe = "".join(c if c.isalnum() or c in " -_" else "_" for c in twin_name).strip() or "twin"
    return Path.home() / "TwinView recordings" / f"{safe} {stamp}.mcap"


class RecordControl(QtCore.QObject):
    """A checkable Record action: on, it records the session's live messages (with its
    elapsed time and size on the button); off, or when the twin changes, it finishes the file.

    Parameters
    ----------
    window : QWidget
        For dialogs.
    action_parent : QObject
        Owner of :attr:`action`.
    """

    def __init__(self, window, action_parent):
        super().__init__(window)
        self.window, self.session, self.recorder = window, None, None
        self.action = QtGui.QAction("● Record", action_parent)
        self.action.setCheckable(True)
        self.action.setToolTip("Record every message the twin receives into an MCAP file (Ctrl+R)")
        self.action.setShortcut("Ctrl+R")
        self.action.toggled.connect(self._toggled)

    def set_session(self, session) -> None:
        """A new twin: a recording of the old one ends; only live data can be recorded."""
        self.stop()
        self.session = session
        self.action.setEnabled(isinstance(session.source, MqttSource))

    def start(self, path) -> bool:
        """Start recording into ``path``; False (and a message) if it cannot be written."""
        source = self.session.source
        try:
            self.recorder = Recorder(path, source.url, Ingest(self.session.twin.signals).subscriptions,
                                     self.session.twin.path).start()
        except RecordingError as exc:
            QtWidgets.QMessageBox.warning(self.window, "Cannot record", str(exc))
            return False
        source.tap = self.recorder.add
        self.action.blockSignals(True)
        self.action.setChecked(True)
        self.action.blockSignals(False)
        self.refresh()
        return True

    def stop(self) -> Path | None:
        """Finish the recording, if one runs; return its file."""
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return None
        if self.session is not None and self.session.source is not None:
            self.session.source.tap = None
        recorder.stop()
        self.action.blockSignals(True)
        self.action.setChecked(False)
        self.action.blockSignals(False)
        self.action.setText("● Record")
        if recorder.error:
            QtWidgets.QMessageBox.warning(self.window, "Recording stopped", recorder.error)
        return recorder.path

    def refresh(self) -> None:
        """Elapsed time and size on the button; a recording that failed on its own ends here."""
        recorder = self.recorder
        if recorder is None:
            return
        if not recorder.recording:
            self.stop()
            return
        seconds = int(time.time() - recorder.started)
        self.action.setText(f"■ Stop {seconds // 60}:{seconds % 60:02d} · {recorder.size / 1e6:.1f} MB")

    def _toggled(self, on: bool) -> None:
        if not on:
            path = self.stop()
            if path is not None:
                self.window.statusBar().showMessage(f"Recorded {path}", 6000)
            return
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self.window, "Record to", str(default_path(
            self.session.twin.name)), "MCAP recordings (*.mcap)")
        if not path or not self.start(Path(path)):
            self.action.blockSignals(True)
            self.action.setChecked(False)
            self.action.blockSignals(False)


def open_recording(window, path: Path, twin: Path | None = None) -> None:
    """Play the recording at ``path`` in ``window`` (a :class:`~viewer.qt.window.MainWindow`)
    on ``twin``, by default the twin it was recorded with (asked for if it is not here)."""
    try:
        source = ReplaySource(path)
    except RecordingReadError as exc:
        return window._open_failed("Cannot open recording", str(exc))
    twin = twin or (Path(source.info.twin) if source.info.twin else None)
    if twin is None or not twin.is_file():
        source.stop()
        picked, _ = QtWidgets.QFileDialog.getOpenFileName(window, "The twin to play the recording on", "",
                                                          "Twins (*.yaml *.yml)")
        return open_recording(window, path, Path(picked)) if picked else None
    window._next_source = source  # played on the twin the loader brings
    window.open_path(twin)


def open_recording_dialog(window) -> None:
    """File > Open recording."""
    path, _ = QtWidgets.QFileDialog.getOpenFileName(window, "Open recording", "", "MCAP recordings (*.mcap)")
    if path:
        open_recording(window, Path(path))

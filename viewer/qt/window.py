"""The main window: the 3D view, parts tree, part details and connection status."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets
from pyvistaqt import QtInteractor

from meshes import SUPPORTED_SUFFIXES
from viewer.live.mqtt import CredentialsError, SourceError, password_for
from viewer.qt.loading import TwinLoader
from viewer.qt.panels import PartDetails, PartsTree, SignalTable
from viewer.qt.topics import TopicBrowser
from viewer.scene import MULTI_SAMPLES
from viewer.session import Session
from viewer.twin.loader import Twin

FRAME_MS = 33  # UI timer: at most ~30 renders a second, whatever the message rate
PANEL_EVERY = 8  # refresh panels every 8th frame (~4 Hz): numbers a person can read
_STATE_COLOURS = {"live": "#2e9d4f", "connecting": "#c98a12", "reconnecting": "#c0392b", "failed": "#c0392b",
                  "stopped": "#777"}
VIEW_KEYS = {"iso": "0", "front": "1", "top": "7", "side": "3"}  # numeric keypad habits


class MainWindow(QtWidgets.QMainWindow):
    """A twin in a window, stepped by a UI timer.

    Parameters
    ----------
    twin : Twin
        What to show first.
    broker_url : str, optional
        Overrides the twin's broker.
    samples : dict of str to Path, optional
        Sample twins offered in the Samples menu (the demo).
    workers : list of viewer.live.worker.Worker, optional
        Background threads besides the session's (the demo's simulators): one that dies
        is restarted and shown in the banner.
    """

    def __init__(self, twin: Twin, broker_url: str | None = None, samples: dict[str, Path] | None = None,
                 workers=()):
        super().__init__()
        self.broker_url = broker_url
        self.workers = list(workers)
        self.session: Session | None = None
        self.selected: str | None = None
        self._frame = 0
        self._click_at = None
        self._passwords: dict[tuple, str] = {}
        self.setAcceptDrops(True)
        self.resize(1400, 880)

        self.plotter = QtInteractor(self, auto_update=False, multi_samples=MULTI_SAMPLES)
        self.banner = QtWidgets.QLabel()  # shown while the broker connection is down
        self.banner.setStyleSheet("background:#b3261e; color:white; padding:6px; font-weight:bold")
        self.banner.hide()
        central = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.plotter.interactor, 1)
        self.setCentralWidget(central)
        self.plotter.iren.add_observer("LeftButtonPressEvent", self._on_press)
        self.plotter.iren.add_observer("LeftButtonReleaseEvent", self._on_release)

        self.tree = PartsTree()
        self.tree.part_selected.connect(self.select)
        self.tree.visibility_changed.connect(self._on_visibility)
        self.details = PartDetails()
        self.signals = SignalTable()  # diagnostics of every signal of the twin
        self._dock("Parts", self.tree, QtCore.Qt.DockWidgetArea.LeftDockWidgetArea)
        selected = self._dock("Selected part", self.details, QtCore.Qt.DockWidgetArea.RightDockWidgetArea)
        signals = self._dock("Signals", self.signals, QtCore.Qt.DockWidgetArea.RightDockWidgetArea)
        self._signals_shown = False
        signals.visibilityChanged.connect(lambda shown: setattr(self, "_signals_shown", shown))
        self.topics = TopicBrowser()
        topics = self._dock("Topics", self.topics, QtCore.Qt.DockWidgetArea.RightDockWidgetArea)
        topics.visibilityChanged.connect(self.topics.set_active)
        # Tabs, so the 3D view keeps its room; the last one tabified is the one shown.
        self.tabifyDockWidget(signals, topics)
        self.tabifyDockWidget(topics, selected)

        self.connection = QtWidgets.QLabel()
        self.counts = QtWidgets.QLabel()
        self.statusBar().addWidget(self.connection)
        self.statusBar().addPermanentWidget(self.counts)
        self._build_actions(samples or {})
        self.loader = TwinLoader(self)  # File > Open, drops and samples load off the UI thread
        self.loader.loaded.connect(self.show_twin)
        self.loader.failed.connect(lambda title, text: QtWidgets.QMessageBox.warning(self, title, text))

        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self.tick)
        self.show_twin(twin)
        self.timer.start()

    # -- setting up -----------------------------------------------------------------

    def _dock(self, title: str, widget, area) -> QtWidgets.QDockWidget:
        dock = QtWidgets.QDockWidget(title, self)
        dock.setObjectName(title)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_actions(self, samples: dict[str, Path]) -> None:
        bar = self.addToolBar("View")
        bar.setObjectName("view-toolbar")
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&Open twin or mesh…", self.open_dialog, QtGui.QKeySequence.StandardKey.Open)
        if samples:
            sample_menu = file_menu.addMenu("Open &sample")
            for name, path in samples.items():
                self._action(sample_menu, name, lambda _checked=False, p=path: self.open_path(p))
        self._action(file_menu, "Save &screenshot…", self.screenshot_dialog, "Ctrl+P", bar)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QtGui.QKeySequence.StandardKey.Quit)
        view_menu = self.menuBar().addMenu("&View")
        self._action(view_menu, "&Reset view", self.reset_view, "R", bar)
        for name, key in VIEW_KEYS.items():
            self._action(view_menu, name.title(), lambda _checked=False, n=name: self.standard_view(n), key, bar)
        self._action(view_menu, "&Fit to part", self.fit_selected, "F", bar)

    def _action(self, menu, text, slot, shortcut=None, toolbar=None) -> QtGui.QAction:
        action = QtGui.QAction(text, self)
        action.triggered.connect(slot)
        if shortcut is not None:
            action.setShortcut(shortcut)
        menu.addAction(action)
        if toolbar is not None:
            toolbar.addAction(action)
        return action

    def show_twin(self, twin: Twin) -> bool:
        """Replace what is shown by ``twin`` and connect to its broker.

        The new session is built before the old one is closed: if it cannot be (a TLS
        file that is not PEM, say), the window says why and keeps what it showed.
        """
        try:
            password = password_for(twin.broker, lambda: self._ask_password(twin)) if twin.broker else None
            session = Session(twin, self.plotter, self.broker_url, password)
        except (SourceError, CredentialsError) as exc:
            if self.session is None:
                raise
            QtWidgets.QMessageBox.warning(self, "Cannot open twin", str(exc))
            return False
        if self.session is not None:
            self.session.close()
        self.selected = None
        self.session = session
        self.session.start()
        if self.session.source is not None:
            self.topics.watch(twin, self.session.source.url, password)
        else:
            self.topics.stop()
        self.tree.set_assembly(twin.assembly, {b.part for b in twin.bindings})
        self.details.show_part(None, [], {})
        self.signals.set_signals(list(twin.signals), twin.signals)
        self.setWindowTitle(f"{twin.name} — TwinView")
        self._refresh_status()
        self.plotter.render()
        return True

    def _ask_password(self, twin: Twin) -> str | None:
        """Ask once per broker and user; kept in memory only, never logged or written."""
        key = (self.broker_url or twin.broker.url, twin.broker.username)
        if key not in self._passwords:
            text, ok = QtWidgets.QInputDialog.getText(
                self, "Broker login", f"Password of {key[1]} on {key[0]}:", QtWidgets.QLineEdit.EchoMode.Password)
            if not ok or not text:
                return None  # asked again next time, not remembered as empty
            self._passwords[key] = text
        return self._passwords[key]

    # -- the frame ------------------------------------------------------------------

    def tick(self) -> None:
        """One UI frame: take new data, update the scene in place, render once."""
        session = self.session
        if session.tick():
            self.plotter.render()
        self._frame += 1
        if self._frame % PANEL_EVERY == 0:
            self._refresh_status()
            self.details.refresh(session.state)
            if self._signals_shown:
                self.signals.refresh(session.state)
            self.topics.refresh()

    def _refresh_status(self) -> None:
        status = self.session.status
        colour = _STATE_COLOURS.get(status.state, "#777")
        self.connection.setText(f"<span style='color:{colour}'>●</span> {status}")
        problems = list(self.session.problems)
        if status.state == "reconnecting":
            problems.append(f"No connection to the broker {status.url} ({status.detail}): retrying, attempt "
                            f"{max(status.attempts, 1)}. Values are drawn stale; nothing shown is live.")
        problems += filter(None, (worker.check() for worker in self.workers))
        self.banner.setText("\n".join(problems))
        self.banner.setVisible(bool(problems))
        signals = self.session.state.snapshot().values()
        with_data = sum(s.value is not None for s in signals)
        errors = sum(s.errors for s in signals)
        text = f"{with_data}/{len(signals)} signals with data · {self.session.received} messages"
        self.counts.setText(text + (f" · {errors} bad payloads" if errors else ""))

    # -- selection and views --------------------------------------------------------

    def select(self, name: str | None) -> None:
        """Select a part: outline it, show its signals, mark it in the tree."""
        self.selected = name
        scene = self.session.scene
        scene.parts.highlight(name)
        self.details.show_part(name, scene.bindings_of(name) if name else [], self.session.twin.signals)
        self.details.refresh(self.session.state)
        self.tree.select(name)
        self.plotter.render()

    def _on_press(self, *_) -> None:
        self._click_at = self.plotter.iren.get_event_position()

    def _on_release(self, *_) -> None:
        pos = self.plotter.iren.get_event_position()
        if self._click_at is not None and np.hypot(*np.subtract(pos, self._click_at)) <= 3:
            self.select(self.session.scene.parts.pick(*pos))  # a click, not an orbit drag
        self._click_at = None

    def _on_visibility(self, name: str, visible: bool) -> None:
        self.session.scene.parts.set_visible(name, visible)
        self.session.scene.parts.flush()
        self.plotter.render()

    def reset_view(self) -> None:
        """Back to the opening view: the whole machine, isometric."""
        self.standard_view("iso")

    def standard_view(self, name: str) -> None:
        """Look at the whole machine along a standard direction (iso, front, top, side)."""
        self.session.scene.view(name)
        self.plotter.render()

    def fit_selected(self) -> None:
        """Zoom to the selected part (the whole machine when none is)."""
        self.session.scene.fit(self.selected)
        self.plotter.render()

    # -- files ----------------------------------------------------------------------

    def open_path(self, path: Path) -> None:
        """Open a twin file or a bare mesh in the background (``loader`` says when it is done).

        The twin shown stays live meanwhile; a progress dialog with Cancel appears if it
        takes a while; a file that cannot be opened gives a message and changes nothing.
        """
        self.loader.start(path)

    def open_dialog(self) -> None:
        patterns = " ".join(f"*{s}" for s in SUPPORTED_SUFFIXES)
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Open twin or mesh", "", f"Twins and meshes (*.yaml *.yml {patterns})"
        )
        if path:
            self.open_path(Path(path))

    def screenshot_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save screenshot", "twinview.png", "PNG (*.png)")
        if path:
            self.plotter.screenshot(path)
            self.statusBar().showMessage(f"Saved {path}", 4000)

    def grab_window(self) -> QtGui.QImage:
        """The whole window as shown, 3D view included."""
        image = self.grab().toImage()
        view = self.plotter.screenshot(return_img=True)
        h, w, _ = view.shape
        qview = QtGui.QImage(np.ascontiguousarray(view).data, w, h, 3 * w, QtGui.QImage.Format.Format_RGB888)
        painter = QtGui.QPainter(image)
        view = self.plotter.interactor
        geometry = QtCore.QRect(view.mapTo(self, QtCore.QPoint(0, 0)), view.size())
        painter.drawImage(geometry, qview)
        painter.end()
        return image

    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if urls and Path(urls[0].toLocalFile()).suffix.lower() in (*SUPPORTED_SUFFIXES, ".yaml", ".yml"):
            event.acceptProposedAction()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:
        self.open_path(Path(event.mimeData().urls()[0].toLocalFile()))

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        self.loader.close()
        self.timer.stop()
        self.topics.stop()
        if self.session is not None:
            self.session.close()
        self.plotter.close()
        super().closeEvent(event)

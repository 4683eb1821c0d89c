"""The main window: the 3D view, parts tree, part details and connection status."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets
from pyvistaqt import QtInteractor

from meshes import SUPPORTED_SUFFIXES
from overlays.preview import Coarse, PreviewLayer
from viewer.live.mqtt import CredentialsError, MqttSource, SourceError, password_for
from viewer.qt.alarm_list import AlarmList
from viewer.qt.ar_view import ArControl
from viewer.qt.dialogs import ask_password, window_image
from viewer.qt.flight import CameraFlight
from viewer.qt import layout as window_layout
from viewer.qt.formatting import label_formats
from viewer.qt.loading import TwinLoader
from viewer.qt.menus import LAYERS, add_action, build_menus
from viewer.qt.panels import PartDetails, PartsTree, SignalTable
from viewer.qt.replay_bar import ReplayBar
from viewer.qt.simulator_bar import SimulatorBar
from viewer.qt.settings import settings
from viewer.qt.status import StatusBar
from viewer.qt.topics import TopicBrowser
from viewer.qt.trends import TrendDock
from viewer.qt.upcoming import UpcomingList
from viewer.qt.walkthrough import WalkthroughControl
from viewer.scene import MULTI_SAMPLES
from viewer.session import Session
from viewer.twin.loader import Twin

FRAME_MS = 33  # UI timer: at most ~30 renders a second, whatever the message rate
PANEL_EVERY = 8  # refresh panels every 8th frame (~4 Hz): numbers a person can read
CLOCK_EVERY = 30  # alarm durations and values move on every 30th frame (~1 s)


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
    simulators : list of viewer.live.simulator.Simulator, optional
        The demo's: a thread that dies is restarted and shown in the banner, and the
        simulator bar pauses them or sets their speed.
    """

    def __init__(self, twin: Twin, broker_url: str | None = None, samples: dict[str, Path] | None = None,
                 simulators=(), source=None, scenario=None):
        super().__init__()
        self.broker_url = broker_url
        self._scenario = scenario  # virtual faults on the first twin shown (a scenario names its signals)
        self.workers = [s.worker for s in simulators]
        self.session: Session | None = None
        self.selected: str | None = None
        self._frame = 0
        self._click_at = None
        self._passwords: dict[tuple, str] = {}
        self.setAcceptDrops(True)
        self.settings = settings()
        self.fit_to_screen()

        self.plotter = QtInteractor(self, auto_update=False, multi_samples=MULTI_SAMPLES)
        self.banner = QtWidgets.QLabel()  # shown while the broker connection is down
        self.banner.setStyleSheet("background:#b3261e; color:white; padding:6px; font-weight:bold")
        # Wrapped, and never asking for width: a long message must not push the docks aside.
        self.banner.setWordWrap(True)
        self.banner.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        self.banner.hide()
        central = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.plotter.interactor, 1)
        self.plotter.interactor.setMinimumSize(240, 160)  # docks give way before the 3D view vanishes
        self.setCentralWidget(central)
        self.plotter.iren.add_observer("LeftButtonPressEvent", self._on_press)
        self.plotter.iren.add_observer("LeftButtonReleaseEvent", self._on_release)

        self.tree = PartsTree()
        self.tree.part_selected.connect(self.select)
        self.tree.visibility_changed.connect(self._on_visibility)
        self.details = PartDetails()
        self.signals = SignalTable()  # diagnostics of every signal of the twin
        parts = self._dock("Parts", self.tree, QtCore.Qt.DockWidgetArea.LeftDockWidgetArea)
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
        self.alarm_list = AlarmList()
        self.alarm_list.part_activated.connect(self.fly_to)
        self.upcoming = UpcomingList()  # the alarm list's section of what the trends expect
        self.upcoming.part_activated.connect(self.fly_to)
        upcoming = QtWidgets.QGroupBox("Upcoming")
        upcoming.setToolTip("Limits the signals' trends will reach, soonest first")
        QtWidgets.QVBoxLayout(upcoming).addWidget(self.upcoming)
        alarms = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        alarms.addWidget(self.alarm_list)
        alarms.addWidget(upcoming)
        alarms.setStretchFactor(0, 1)
        alarms.setStretchFactor(1, 1)
        self.alarm_dock = self._dock("Alarms", alarms, QtCore.Qt.DockWidgetArea.BottomDockWidgetArea)
        self.trends = TrendDock()  # any signals, dragged or double-clicked from a signal table
        self.trends_dock = self._dock("Trends", self.trends, QtCore.Qt.DockWidgetArea.BottomDockWidgetArea)
        for table in (self.signals, self.details.table):
            table.trend_requested.connect(self.trend)
        self._details_dock = selected
        self.walkthroughs = WalkthroughControl(self)  # guided procedures, beside the part details
        self.walkthrough_dock = self._dock("Walkthrough", self.walkthroughs.panel,
                                           QtCore.Qt.DockWidgetArea.RightDockWidgetArea)
        self.tabifyDockWidget(selected, self.walkthrough_dock)
        self.walkthrough_dock.visibilityChanged.connect(
            lambda shown: None if shown else self.walkthroughs.leave_preview())
        selected.raise_()
        self.flight = CameraFlight(self.plotter, self)  # a click in the alarm list flies to the part

        self.status_bar = StatusBar()
        self.status_bar.alarms_clicked.connect(self.show_alarm_list)
        self.setStatusBar(self.status_bar)
        build_menus(self, samples or {})
        self.ar = ArControl(self)  # the camera's picture behind the twin, registered by its markers
        add_action(self, self.view_menu, "AR &camera…", self.ar.dialog, "Ctrl+Shift+A")
        add_action(self, self.view_menu, "&Walkthrough", lambda: (self.walkthrough_dock.show(),
                                                                   self.walkthrough_dock.raise_()), "Ctrl+Shift+W")
        self.condition_button = QtWidgets.QToolButton()
        self.condition_button.setDefaultAction(self.layer_actions["condition"])
        self.condition_button.setAutoRaise(True)
        self.condition_button.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.status_bar.addPermanentWidget(self.condition_button)
        self._preview: PreviewLayer | None = None  # a large model's, while it loads
        self.loader = TwinLoader(self)  # File > Open, drops and samples load off the UI thread
        self.loader.preview.connect(self._show_preview)
        self.loader.finished.connect(self._end_preview)
        self.loader.loaded.connect(self.show_twin)
        self.loader.failed.connect(self._open_failed)
        self._next_source = None  # a recording opened: played on the twin the loader brings
        self.loader.dialog.canceled.connect(self._end_preview)  # at once: the load may take a moment to stop

        self.addToolBar(QtCore.Qt.ToolBarArea.BottomToolBarArea, SimulatorBar(simulators, self))
        self.replay_bar = ReplayBar(self)  # shown while a recording plays
        self.replay_bar.seek_requested.connect(self.seek)
        self.addToolBar(QtCore.Qt.ToolBarArea.BottomToolBarArea, self.replay_bar)
        QtGui.QShortcut(QtGui.QKeySequence("Space"), self, self.replay_bar.toggle)

        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self.tick)
        self.show_twin(twin, source)
        window_layout.restore(self, self.settings, self.alarm_list.table.horizontalHeader(),
                       side_docks=(parts, selected), bottom_dock=self.alarm_dock)
        self.timer.start()

    # -- setting up -----------------------------------------------------------------

    def _dock(self, title: str, widget, area) -> QtWidgets.QDockWidget:
        dock = QtWidgets.QDockWidget(title, self)
        dock.setObjectName(title)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def show_twin(self, twin: Twin, source=None) -> bool:
        """Replace what is shown by ``twin`` and connect to its broker (or play ``source``,
        a :class:`~viewer.live.replay.ReplaySource`, instead).

        The new session is built before the old one is closed: if it cannot be (a TLS
        file that is not PEM, say), the window says why and keeps what it showed.
        """
        self._end_preview(render=False)
        source, self._next_source = source or self._next_source, None
        try:
            password = password_for(twin.broker, partial(ask_password, self, self.broker_url or twin.broker.url,
                                                         twin.broker.username, self._passwords)) \
                if twin.broker and source is None else None
            session = Session(twin, self.plotter, self.broker_url, password, source, self._scenario)
            self._scenario = None
        except (SourceError, CredentialsError) as exc:
            if self.session is None:
                raise
            self.plotter.render()  # what was shown, without the preview
            QtWidgets.QMessageBox.warning(self, "Cannot open twin", str(exc))
            return False
        if self.session is not None:
            self.walkthroughs.release()  # the step's view off the old parts, before they go
            self.ar.stop()
            self.session.close()
        self.plotter.setUpdatesEnabled(False)  # panels that come and go would each draw the new model
        try:
            self.selected = None
            self.session = session
            self.session.start()
            if isinstance(self.session.source, MqttSource):  # the broker's topics; not a recording's
                self.topics.watch(twin, self.session.source.url, password)
            else:
                self.topics.stop()
            self.replay_bar.set_source(self.session.source)
            self.recording.set_session(session)
            self.tree.set_assembly(twin.assembly, {b.part for b in twin.bindings})
            self.details.set_session(session)
            self.details.show_part(None, [], {})
            self.details.refresh()
            self._details_dock.setWindowTitle("Overview")
            self.signals.set_signals(list(twin.signals), twin.signals, label_formats(twin))
            self.alarm_list.set_session(session)
            self.upcoming.set_session(session)
            self.trends.set_session(session)
            self.walkthroughs.set_session(session)
            self._apply_layers()
            self.setWindowTitle(f"{twin.name} — TwinView")
            self._refresh_status()
            self._refresh_alarm_counts()
        finally:
            self.plotter.setUpdatesEnabled(True)
        self.plotter.render()  # once
        return True

    def _open_failed(self, title: str, text: str) -> None:
        self._end_preview()  # the twin as it was, before the message waits for the user
        if self._next_source is not None:  # its recording is not played
            self._next_source.stop()
            self._next_source = None
        QtWidgets.QMessageBox.warning(self, title, text)

    def _show_preview(self, model: Coarse) -> None:
        """Show a large model's coarse preview in place of the twin, whose view pauses
        meanwhile (selection, layers: they would draw over the preview)."""
        self._end_preview(render=False)
        self.session.scene.parts.highlight(None)
        for action in self.layer_actions.values():
            action.setEnabled(False)
        self._preview = PreviewLayer(self.plotter, model)
        self.statusBar().showMessage(f"Preview: {len(model.points) // 3:,} of the model's {model.triangles:,} "
                                     f"triangles; full detail on its way")
        self.plotter.render()

    def _end_preview(self, render: bool = True) -> None:
        """Take the preview away (if any): the twin shown before comes back, unless a new one replaces it."""
        if self._preview is not None:
            self._preview.close()
            self._preview = None
            self.statusBar().clearMessage()
            for action in self.layer_actions.values():
                action.setEnabled(True)
            self.layer_actions["condition"].setEnabled(bool(self.session.twin.bindings))
            self.session.scene.parts.highlight(self.selected)
            if render:
                self.plotter.render()

    # -- the frame ------------------------------------------------------------------

    def tick(self) -> None:
        """One UI frame: take new data, update the scene in place, render once."""
        session = self.session
        pictured = self.ar.tick()  # a new camera picture, and where the camera is
        # behind a new model's preview the twin's alarms and lists go on; its scene catches up after
        if session.tick(draw=self._preview is None) or pictured:
            self.plotter.render()
        if session.alarms_changed:  # only the rows of the alarms that changed
            self.alarm_list.refresh(session.alarms_changed)
            self._refresh_alarm_counts()
        self._frame += 1
        if self._frame % PANEL_EVERY == 0:
            self._refresh_status()
            self.details.refresh()
            if self._signals_shown:
                self.signals.refresh(session.state, session.clock())
            if self.trends.isVisible():
                self.trends.panel.refresh()
            self.replay_bar.set_marks(session.alarm_marks)
            self.replay_bar.refresh()
            self.recording.refresh()
            self.topics.refresh()
            self.walkthroughs.tick()
            if self.ar.running:
                self.statusBar().showMessage(self.ar.status)
        if self._frame % CLOCK_EVERY == 0:
            self.alarm_list.tick()
        if session.forecasts_changed or self._frame % CLOCK_EVERY == 0:  # new fits; times count down
            self.upcoming.refresh()

    def seek(self, t: float) -> None:
        """Show the replay as it was at ``t`` (the recording's time), and go on from there."""
        self.session.seek(t)
        self.alarm_list.set_session(self.session)  # rebuilt from the alarms as they were then
        self.upcoming.set_session(self.session)
        self.trends.panel.follow()
        self.tick()

    def _refresh_status(self) -> None:
        """The status bar and the banner of what is wrong."""
        status = self.session.status
        self.status_bar.show_session(self.session)
        problems = list(self.session.problems)
        if status.state == "reconnecting":
            problems.append(f"No connection to the broker {status.url} ({status.detail}): retrying, attempt "
                            f"{max(status.attempts, 1)}. Values are drawn stale; nothing shown is live.")
        problems += filter(None, (worker.check() for worker in self.workers))
        self.banner.setText("\n".join(problems))
        self.banner.setVisible(bool(problems))

    def _refresh_alarm_counts(self) -> None:
        self.status_bar.show_alarm_counts(self.session.alarms.book.counts())

    def alarm_counts(self) -> dict[str, str]:
        """The status bar's alarm counts as shown, keyed by severity name."""
        return self.status_bar.alarm_counts()

    def trend(self, names: list[str]) -> None:
        """Add the signals ``names`` to the trends dock and bring it to the front."""
        self.trends.panel.add_signals(names)
        self.trends_dock.show()
        self.trends_dock.raise_()

    def show_alarm_list(self) -> None:
        """Show the alarm list dock and put it in front."""
        self.alarm_dock.show()
        self.alarm_dock.raise_()
        self.alarm_list.table.setFocus()

    # -- layers -----------------------------------------------------------------------

    def set_layer(self, name: str, on: bool) -> None:
        """Show or hide a layer (see ``LAYERS``) and remember the choice."""
        action = self.layer_actions[name]
        if action.isChecked() != on:
            action.setChecked(on)  # from code, not the menu: keep menu and toolbar in step
        self.settings.setValue(f"layers/{name}", on)
        self._apply_layers([name])
        self.plotter.render()

    def _apply_layers(self, names=None) -> None:
        """Give the scene the layers as the actions say (all of them for a new scene)."""
        scene = self.session.scene
        for name in names or LAYERS:
            on = self.layer_actions[name].isChecked()
            if name == "condition":  # only a twin with bindings has data to tell apart
                scene.set_condition_view(on and bool(self.session.twin.bindings))
            else:
                scene.set_layer_visible(name, on, self.session.state.values())
        self.layer_actions["condition"].setEnabled(bool(self.session.twin.bindings))

    # -- selection and views --------------------------------------------------------

    def select(self, name: str | None) -> None:
        """Select a part: outline it, show its signals, mark it in the tree."""
        self.selected = name
        scene = self.session.scene
        scene.parts.highlight(name)
        self.details.show_part(name, scene.bindings_of(name) if name else [], self.session.twin.signals)
        self.details.refresh()
        self._details_dock.setWindowTitle("Selected part" if name else "Overview")
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
        self.session.scene.shown_parts_changed(self.session.state.values())
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
        self.flight.stop()
        self.session.scene.fit(self.selected)
        self.plotter.render()

    def fly_to(self, part: str) -> None:
        """Select ``part`` and move the camera smoothly until it frames it (as
        :meth:`fit_selected` does), keeping the direction it looks from."""
        self.select(part)
        self.flight.fly(lambda: self.session.scene.fit(part))

    def flying(self) -> bool:
        """Whether the camera is on its way to a part."""
        return self.flight.flying

    # -- window size and layout --------------------------------------------------------

    def fit_to_screen(self, available: QtCore.QRect | None = None) -> None:
        """Size the window to the screen it opens on (see :func:`viewer.qt.layout.fit_to_screen`)."""
        window_layout.fit_to_screen(self, available)

    def save_layout(self) -> None:
        """Remember the window's size, docks, toolbars and the alarm list's columns."""
        window_layout.save(self, self.settings, self.alarm_list.table.horizontalHeader())

    # -- files ----------------------------------------------------------------------

    def open_path(self, path: Path) -> None:
        """Open a twin file or a bare mesh in the background (``loader`` says when it is done).

        The twin shown stays live meanwhile; a progress dialog with Cancel appears if it
        takes a while; a file that cannot be opened gives a message and changes nothing.
        """
        if not self.walkthroughs.confirm_leave(f"{path.name} was opened instead"):
            if self._next_source is not None:  # a recording was to be played on it: not now
                self._next_source.stop()
                self._next_source = None
            return
        self._end_preview()  # of a load this one replaces
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
        return window_image(self, self.plotter)

    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if urls and Path(urls[0].toLocalFile()).suffix.lower() in (*SUPPORTED_SUFFIXES, ".yaml", ".yml"):
            event.acceptProposedAction()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:
        self.open_path(Path(event.mimeData().urls()[0].toLocalFile()))

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        # Trends and alarms share a tab group made once the window shows: Qt (6.11) leaves a
        # stray tab bar over the status bar when a second group is tabified before that.
        if self.trends_dock not in self.tabifiedDockWidgets(self.alarm_dock):
            self.tabifyDockWidget(self.trends_dock, self.alarm_dock)
            self.alarm_dock.raise_()  # the alarms in front

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        if not self.walkthroughs.confirm_leave("the window was closed"):
            event.ignore()
            return
        self.save_layout()
        self.flight.stop()
        self.loader.close()
        self.timer.stop()
        self.topics.stop()
        self.recording.stop()
        self.walkthroughs.close()
        self.ar.stop()
        if self.session is not None:
            self.session.close()
        self.plotter.close()
        super().closeEvent(event)

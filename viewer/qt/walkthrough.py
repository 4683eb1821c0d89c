"""Guided service walkthroughs in the window: the dock, the step's view, the report.

A :class:`WalkthroughControl` runs a :class:`~viewer.walkthrough.Walkthrough` on the
window's session: every panel refresh it gives the walkthrough the twin's values, each
step shown flies the camera to the step's view, outlines its parts, fades or hides the
rest and moves parts out (:class:`overlays.spotlight.Spotlight`), and a finished or
abandoned walkthrough is saved as an HTML and a PDF service report. Procedures are
edited here too, saved back into their YAML with its comments (:mod:`viewer.twin.procedure_edit`).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from overlays import camera as cameras
from overlays.spotlight import Spotlight
from viewer.qt.procedure_editor import ProcedureEditor
from viewer.qt.walkthrough_panel import WalkthroughPanel
from viewer.walkthrough import StepRefused, Walkthrough

SCREENSHOT_WIDTH = 960  # pixels: a report's pictures, enough to read labels, small enough to mail


class WalkthroughControl(QtCore.QObject):
    """The walkthrough dock of ``window`` (a :class:`~viewer.qt.window.MainWindow`)."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.panel = WalkthroughPanel()
        self.walkthrough: Walkthrough | None = None
        self.spotlight: Spotlight | None = None
        self.procedure_index = 0
        self._shown = -1  # the step the panel shows
        self._viewed = -1  # the step whose view the 3D view shows
        self._engaged = False  # the technician has used the dock: steps move the camera
        self._preview = 0  # the step shown while no walkthrough runs
        p = self.panel
        p.procedure_chosen.connect(self.choose)
        p.start_requested.connect(self.start_dialog)
        p.step_clicked.connect(self.go)
        p.done_requested.connect(self.complete)
        p.skip_requested.connect(self.skip_dialog)
        p.previous_requested.connect(lambda: self.go(self._index() - 1))
        p.next_requested.connect(lambda: self.go(self._index() + 1))
        p.finish_requested.connect(self.finish)
        p.abandon_requested.connect(self.abandon_dialog)
        p.report_requested.connect(self.report_dialog)
        self.editor = ProcedureEditor(self)  # the authoring actions, on the panel's toolbar

    # -- the twin ------------------------------------------------------------------------

    @property
    def session(self):
        return self.window.session

    @property
    def procedures(self) -> list:
        return self.session.twin.procedures if self.session else []

    @property
    def procedure(self):
        return self.procedures[self.procedure_index] if self.procedures else None

    def release(self) -> None:
        """Let go of the twin shown, before its session closes: the camera stops, the
        step's view is taken off the parts."""
        self.window.flight.cancel()
        if self.spotlight is not None:
            self.spotlight.close()
            self.spotlight = None

    def set_session(self, session) -> None:
        """A new twin: its procedures (a walkthrough still running on the old one is
        abandoned; :meth:`confirm_leave` offers its report first)."""
        self.release()
        if self.walkthrough is not None and self.walkthrough.running:
            self.walkthrough.abandon("the twin was closed")
        self.walkthrough = None
        self.spotlight = Spotlight(session.scene.parts)
        self.procedure_index, self._shown, self._viewed, self._engaged, self._preview = 0, -1, -1, False, 0
        self.refresh_procedures()

    def refresh_procedures(self, title: str | None = None) -> None:
        """Show the twin's procedures (after an edit: choose the one called ``title``)."""
        titles = [p.title for p in self.procedures]
        if title in titles:
            self.procedure_index = titles.index(title)
        self.procedure_index = min(self.procedure_index, max(len(titles) - 1, 0))
        self.panel.show_procedures(titles, self.procedure_index)
        self._shown = self._viewed = -1
        self.refresh(list_too=True)
        self.editor.refresh()

    def choose(self, index: int) -> None:
        """Preview procedure ``index``: its steps, the first one's view."""
        self.procedure_index = index
        self._shown = self._viewed = -1
        self.go(0)

    def shown(self) -> Walkthrough | None:
        """The walkthrough the dock shows: the one running, or the last one ended, if it
        is of the procedure chosen (as it was when it ran: an edit makes it a new one)."""
        w = self.walkthrough
        return w if w is not None and w.procedure is self.procedure else None

    def running(self) -> bool:
        return self.walkthrough is not None and self.walkthrough.running

    def confirm_leave(self, why: str) -> bool:
        """Before the twin is closed: a walkthrough running is abandoned (``why``), its
        report saved if the technician wants; False if they cancel."""
        if not self.running():
            return True
        answer = QtWidgets.QMessageBox.question(
            self.window, "Walkthrough running",
            f"The walkthrough of {self.walkthrough.procedure.title!r} is running. Abandon it and save its report?",
            QtWidgets.QMessageBox.StandardButton.Save | QtWidgets.QMessageBox.StandardButton.Discard
            | QtWidgets.QMessageBox.StandardButton.Cancel)
        if answer == QtWidgets.QMessageBox.StandardButton.Cancel:
            return False
        self.walkthrough.abandon(why)
        if answer == QtWidgets.QMessageBox.StandardButton.Save:
            self.report_dialog()
        return True

    def leave_preview(self) -> None:
        """The machine as it is, without a previewed step's view (the dock was closed)."""
        if self.running() or self.spotlight is None or not self._engaged:
            return
        self.window.flight.stop()
        self.spotlight.clear()
        self.session.scene.shown_parts_changed(self.session.state.values())
        self.window.plotter.render()
        self._engaged, self._viewed = False, -1

    # -- running -------------------------------------------------------------------------

    def start_dialog(self) -> None:
        store = self.window.settings
        name, ok = QtWidgets.QInputDialog.getText(self.window, "Start walkthrough", "Technician (for the report):",
                                                  text=str(store.value("walkthrough/technician", "")))
        if ok and name.strip():
            store.setValue("walkthrough/technician", name.strip())
            self.start(name.strip())

    def start(self, technician: str) -> Walkthrough:
        """Start the chosen procedure now, done by ``technician``."""
        self.walkthrough = Walkthrough.on_session(self.procedure, self.session, technician)
        self._shown, self._viewed, self._engaged = -1, -1, True
        self.editor.refresh()  # no editing while it runs
        self.tick()
        return self.walkthrough

    def tick(self) -> None:
        """Give the walkthrough the twin as it is now; redraw what changed (the window
        calls this with its panels, a few times a second)."""
        w = self.walkthrough
        if w is not None and w.running:
            self.refresh(list_too=w.follow(self.session))

    def go(self, index: int) -> None:
        """Show step ``index`` (during a walkthrough: up to the step to do)."""
        if self.procedure is None:
            return
        self._engaged = True
        if self.shown() is not None:
            self.walkthrough.go(index)
        else:
            self._preview = max(0, min(index, len(self.procedure.steps) - 1))
        self.refresh(list_too=True)

    def _index(self) -> int:
        w = self.shown()
        return w.index if w is not None else self._preview

    def complete(self) -> None:
        """Done: the step shown is completed, with a picture of the twin as it is, or the
        panel says why not."""
        self.tick()  # the values and the time of now, not of the last panel refresh
        w = self.walkthrough
        i, spec = w.index, w.step.spec
        try:
            w.complete(self.panel.measurement() if spec.measure else None,
                       self.panel.note.toPlainText() if spec.note else "")
        except StepRefused as exc:
            self.refresh(list_too=True)
            self.panel.message.setText(str(exc))
            return
        w.records[i].screenshot = self.screenshot()  # the view of the step done: the next is not drawn yet
        self.panel.message.clear()
        self.refresh(list_too=True)

    def skip_dialog(self) -> None:
        reason, ok = QtWidgets.QInputDialog.getText(self.window, "Skip step", "Why is this step skipped?")
        if ok:
            self.skip(reason)

    def skip(self, reason: str) -> None:
        self.tick()
        try:
            self.walkthrough.skip(reason)
        except StepRefused as exc:
            self.panel.message.setText(str(exc))
            return
        self.refresh(list_too=True)

    def finish(self) -> None:
        try:
            self.walkthrough.finish()
        except StepRefused as exc:
            self.panel.message.setText(str(exc))
            return
        self._ended()

    def abandon_dialog(self) -> None:
        reason, ok = QtWidgets.QInputDialog.getText(self.window, "Abandon walkthrough",
                                                    "Why is the walkthrough abandoned?")
        if ok:
            self.abandon(reason)

    def abandon(self, reason: str) -> None:
        try:
            self.walkthrough.abandon(reason)
        except StepRefused as exc:
            self.panel.message.setText(str(exc))
            return
        self._ended()

    def _ended(self) -> None:
        """The machine as it was before the walkthrough; the report saved."""
        self.window.flight.stop()
        if self.spotlight is not None:
            self.spotlight.clear()
            self.session.scene.shown_parts_changed(self.session.state.values())
            self.window.plotter.render()
        self._viewed = -1
        self._engaged = False
        self.editor.refresh()
        self.refresh(list_too=True)
        self.report_dialog()

    # -- the report -----------------------------------------------------------------------

    def report_dialog(self) -> None:
        w = self.walkthrough
        stamp = time.strftime("%Y-%m-%d %H%M", time.localtime(w.started))
        suggested = Path(str(self.window.settings.value("walkthrough/folder", Path.home()))) / \
            f"{w.asset} - {w.procedure.title} - {stamp}.html".replace("/", "-")
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self.window, "Save service report", str(suggested),
                                                        "Service report (*.html)")
        if not path:
            return
        try:
            html, pdf = self.save_report(Path(path))
        except OSError as exc:  # a read-only folder, a PDF open elsewhere: say so, keep the walkthrough
            QtWidgets.QMessageBox.warning(self.window, "Report not saved", f"Cannot write {path}: "
                                          f"{exc.strerror or exc}. Choose another place with Save report….")
            return
        self.window.settings.setValue("walkthrough/folder", str(html.parent))
        self.window.statusBar().showMessage(f"Saved the service report: {html} and {pdf.name}", 8000)

    def save_report(self, path: Path) -> tuple[Path, Path]:
        """Write the walkthrough's report as ``path`` (HTML) and beside it as PDF."""
        from viewer.qt.report_pdf import write_report_pdf
        from viewer.report import write_report_html

        html = write_report_html(self.walkthrough, path.with_suffix(".html"))
        pdf = path.with_suffix(".pdf")
        write_report_pdf(self.walkthrough, pdf)
        return html, pdf

    def screenshot(self) -> bytes:
        """The 3D view as PNG bytes, at most :data:`SCREENSHOT_WIDTH` wide."""
        view = np.ascontiguousarray(self.window.plotter.screenshot(return_img=True))
        h, w, _ = view.shape
        image = QtGui.QImage(view.data, w, h, 3 * w, QtGui.QImage.Format.Format_RGB888)
        if w > SCREENSHOT_WIDTH:
            image = image.scaledToWidth(SCREENSHOT_WIDTH, QtCore.Qt.TransformationMode.SmoothTransformation)
        data = QtCore.QByteArray()
        buffer = QtCore.QBuffer(data)
        buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
        image.save(buffer, "PNG")
        return bytes(data)

    # -- what is shown ----------------------------------------------------------------------

    def refresh(self, list_too: bool = False) -> None:
        """The panel, and the step's view when the step shown changed."""
        procedure, w, p = self.procedure, self.shown(), self.panel
        ended = self.walkthrough is not None and not self.walkthrough.running  # its report can be saved
        if procedure is None:
            p.show_steps([], None)
            p.title.setText("This twin has no procedures" if self.session else "")
            p.text.setText("A procedure is a YAML file listed under `procedures:` in the twin file "
                               "(see the README), or made here with **New…**.")
            p.condition.hide()
            p.show_buttons(False, False, True, True, ended)
            return
        steps = procedure.steps
        i = self._index()
        running = w is not None and w.running
        record = w.records[i] if w is not None else None
        if list_too or i != self._shown:
            if i == self._shown and running:  # a state changed: a refusal's reason is old news
                p.message.clear()
            p.show_steps([s.title for s in steps], w.records if w is not None else None, i)
        if i != self._shown:
            p.show_step(i + 1, len(steps), steps[i].spec, steps[i].images, record)
            self._shown = i
        if self._engaged and i != self._viewed:
            self._show_view(steps[i])
            self._viewed = i
        active = running and i == w.active
        p.show_condition(steps[i].spec, w.status if active else None, record)
        limit = min(w.active if running else len(steps) - 1, len(steps) - 1)
        p.show_buttons(running, active, i == 0, i >= limit, ended)

    def _show_view(self, step) -> None:
        """Fly to the step's view with its parts outlined, the rest out of the way and
        its parts moved out, all in one smooth move."""
        spot, spec, scene = self.spotlight, step.spec, self.session.scene
        if spot is None:
            return
        self.window.flight.stop()  # a flight on its way: its parts get where they were going first
        spot.show(spec.highlight, spec.isolate, spec.others)
        moves = {m.part: np.asarray(m.by, float) for m in step.moves}
        start = dict(spot.moves)

        def aim() -> None:  # the camera frames the parts where they are going
            spot.move(moves)
            self._aim(spec.camera)

        def along(share: float) -> None:
            spot.move(moves, share, start)
            if share >= 1.0:  # labels, badges and markers where the parts now are
                scene.shown_parts_changed(self.session.state.values())

        if spec.camera is None:
            along(1.0)
            self.window.plotter.render()
        else:
            self.window.flight.fly(aim, along=along)

    def _aim(self, camera) -> None:
        plotter, parts = self.window.plotter, self.session.scene.parts
        if camera.fit is not None:
            boxes = [b for b in (parts.bounds(name) for name in camera.fit) if b is not None]
            if boxes:
                cameras.frame(plotter, np.array([np.min([b[0] for b in boxes], axis=0),
                                                 np.max([b[1] for b in boxes], axis=0)]), camera.view)
            return
        cam = plotter.camera
        cam.position, cam.focal_point, cam.up = camera.position, camera.focal_point, camera.up
        cam.OrthogonalizeViewUp()
        plotter.renderer.ResetCameraClippingRange()

    def current_camera(self) -> dict:
        """The camera as a step records it (for authoring)."""
        cam = self.window.plotter.camera
        return {"position": list(cam.position), "focal_point": list(cam.focal_point), "up": list(cam.up)}

    def close(self) -> None:
        self.release()

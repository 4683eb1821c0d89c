"""Authoring procedures in the window: new procedure, a step from the current view, edit,
reorder, delete; each change saved back into its YAML file at once, comments and layout
kept (:class:`viewer.twin.procedure_edit.ProcedureDocument`), then the twin's
procedures reloaded through the same checks as on opening."""

from __future__ import annotations

from PySide6 import QtGui, QtWidgets
from ruamel.yaml.error import YAMLError

from viewer.twin.loader import load_twin
from viewer.twin.problems import TwinError
from viewer.twin.procedure_edit import ProcedureDocument


class ProcedureEditor:
    """The authoring actions on a :class:`~viewer.qt.walkthrough.WalkthroughControl`'s panel."""

    def __init__(self, control):
        self.control = control
        bar = control.panel.editing
        self.new = self._action(bar, "New…", self.new_dialog, "Create a procedure in a file beside the twin")
        self.add = self._action(bar, "Add step", self.add_dialog,
                                "Add a step after the one shown: the current camera, the selected part highlighted")
        self.edit = self._action(bar, "Edit…", self.edit_dialog, "Change the title and text of the step shown")
        self.up = self._action(bar, "↑", lambda: self.move(-1), "Move the step shown up")
        self.down = self._action(bar, "↓", lambda: self.move(1), "Move the step shown down")
        self.remove = self._action(bar, "Delete", self.remove_step, "Delete the step shown")

    @staticmethod
    def _action(bar, text, slot, tip) -> QtGui.QAction:
        action = bar.addAction(text)
        action.triggered.connect(slot)
        action.setToolTip(tip)
        return action

    def refresh(self) -> None:
        """Authoring needs a twin file and no walkthrough running."""
        control = self.control
        session = control.session
        twin_file = session is not None and session.twin.path.suffix.lower() in (".yaml", ".yml")
        running = control.walkthrough is not None and control.walkthrough.running
        self.new.setEnabled(twin_file and not running)
        has = twin_file and not running and control.procedure is not None
        for action in (self.add, self.edit, self.up, self.down, self.remove):
            action.setEnabled(has)

    # -- the actions ------------------------------------------------------------------------

    def new_dialog(self) -> None:
        title, ok = QtWidgets.QInputDialog.getText(self.control.window, "New procedure", "Title:")
        if ok and title.strip():
            self.apply(lambda: ProcedureDocument.create(self.control.session.twin.path, title.strip()), title.strip())

    def add_dialog(self) -> None:
        title, ok = QtWidgets.QInputDialog.getText(self.control.window, "Add step", "Title of the new step:")
        if ok and title.strip():
            self.add_step(title.strip())

    def add_step(self, title: str, text: str = "") -> None:
        """A step after the one shown, looking as the camera does now at the selected part."""
        control = self.control
        selected = control.window.selected
        at = control._index() + 1

        def change(doc):
            doc.add_step(title, text, camera=control.current_camera(), highlight=[selected] if selected else [],
                         index=at)
        self.edit_document(change, at)

    def edit_dialog(self) -> None:
        control = self.control
        step = control.procedure.steps[control._index()].spec
        dialog = QtWidgets.QDialog(control.window)
        dialog.setWindowTitle("Edit step")
        form = QtWidgets.QFormLayout(dialog)
        title = QtWidgets.QLineEdit(step.title)
        text = QtWidgets.QPlainTextEdit(step.text)
        text.setPlaceholderText("What to do, in Markdown: **bold**, lists, links")
        form.addRow("Title", title)
        form.addRow("Text", text)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Save
                                             | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(dialog.accept)
        buttons.rejected.connect(dialog.reject)
        form.addRow(buttons)
        if dialog.exec() == QtWidgets.QDialog.DialogCode.Accepted and title.text().strip():
            self.set_step(title.text().strip(), text.toPlainText())

    def set_step(self, title: str, text: str) -> None:
        """Give the step shown this title and text."""
        i = self.control._index()

        def change(doc):
            doc.set_title(i, title)
            doc.set_text(i, text)
        self.edit_document(change, i)

    def move(self, by: int) -> None:
        """Move the step shown ``by`` places (-1: up)."""
        i = self.control._index()
        to = i + by
        if 0 <= to < len(self.control.procedure.steps):
            self.edit_document(lambda doc: doc.move_step(i, to), to)

    def remove_step(self) -> None:
        control = self.control
        i = control._index()
        if len(control.procedure.steps) == 1:
            QtWidgets.QMessageBox.information(control.window, "Delete step", "A procedure keeps at least one step.")
            return
        self.edit_document(lambda doc: doc.remove_step(i), max(i - 1, 0))

    # -- saving ---------------------------------------------------------------------------

    def edit_document(self, change, show: int) -> None:
        """Apply ``change`` to the shown procedure's document, save it, reload, show step ``show``."""
        procedure = self.control.procedure

        def edited():
            doc = ProcedureDocument.open(procedure.source, procedure.at, twin_path=self.control.session.twin.path)
            change(doc)
            doc.save()
            return doc
        self.apply(edited, procedure.title, show)

    def apply(self, edit, title: str, show: int = 0) -> None:
        """Run ``edit`` (which saves), then reload the twin's procedures; a save the
        checks refuse leaves the file as it was and says why."""
        control = self.control
        try:
            doc = edit()
        except (TwinError, OSError, YAMLError) as exc:
            QtWidgets.QMessageBox.warning(control.window, "Procedure not saved", str(exc))
            return
        try:  # the file as saved, checked as on opening, against the parts on screen
            procedures = load_twin(control.session.twin.path, geometry=False).procedures
            problems = _view_problems(procedures, control.session.scene.parts)
        except (TwinError, OSError) as exc:
            problems = [str(exc)]
        if problems:
            QtWidgets.QMessageBox.warning(control.window, "Procedures not reloaded",
                                          f"{doc.path} was saved, but the twin's procedures cannot be shown "
                                          "until this is fixed:\n" + "\n".join(problems))
            return
        control.session.twin.procedures = procedures
        control.refresh_procedures(getattr(doc, "title", title))
        control.go(show)
        control.window.statusBar().showMessage(f"Saved {doc.path}", 5000)


def _view_problems(procedures, parts) -> list[str]:
    """What the window could not show of reloaded ``procedures`` on ``parts`` (the
    :class:`~overlays.parts.PartMeshes` on screen): parts it does not have, and parts to
    move that have no actor of their own until the twin is opened again."""
    problems = []
    for procedure in procedures:
        for step in procedure.steps:
            spec, where = step.spec, f"{procedure.source}:{step.line}"
            named = [*spec.highlight, *spec.isolate, *(spec.camera.fit or () if spec.camera else ()),
                     *(spec.condition.no_alarm or () if spec.condition else ())]
            problems += [f"{where}: unknown part {name!r}" for name in named if name not in parts.index]
            problems += [f"{where}: {m.part} moves: open the twin again to move it"
                         for m in step.moves if m.part not in parts.moving]
    return problems

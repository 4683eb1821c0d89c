"""The walkthrough dock's widgets: the procedure, its steps, the step to do and its buttons.

It only shows and asks; :class:`viewer.qt.walkthrough.WalkthroughControl` decides.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from viewer.walkthrough import ConditionStatus, StepRecord, StepState

#: How each state starts its row in the list of steps.
MARKS = {StepState.PENDING: "○", StepState.CURRENT: "▶", StepState.WAITING: "▶", StepState.DONE: "✓",
         StepState.SKIPPED: "⤼"}
#: Colours of the condition line: holds long enough, holds (counting), does not hold.
READY, HOLDING, WAITING = "#2e7d32", "#9a6b00", "#b3261e"
IMAGE_WIDTH = 300  # pixels: a step's pictures fit the dock


class WalkthroughPanel(QtWidgets.QWidget):
    """The dock's content. Buttons emit signals; the control calls the ``show_*`` methods."""

    start_requested = QtCore.Signal()
    step_clicked = QtCore.Signal(int)
    done_requested = QtCore.Signal()
    skip_requested = QtCore.Signal()
    previous_requested = QtCore.Signal()
    next_requested = QtCore.Signal()
    finish_requested = QtCore.Signal()
    abandon_requested = QtCore.Signal()
    report_requested = QtCore.Signal()
    procedure_chosen = QtCore.Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)  # a dock beside the 3D view: it must fit a small screen
        top = QtWidgets.QHBoxLayout()
        self.procedures = QtWidgets.QComboBox()
        self.procedures.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.procedures.currentIndexChanged.connect(self.procedure_chosen)
        self.start = QtWidgets.QPushButton("Start…")
        self.start.setToolTip("Start this procedure on the twin: you will be asked for your name, for the report")
        self.start.clicked.connect(self.start_requested)
        top.addWidget(self.procedures, 1)
        top.addWidget(self.start)
        layout.addLayout(top)
        self.editing = QtWidgets.QToolBar()  # the control adds the authoring actions
        self.editing.setIconSize(QtCore.QSize(16, 16))
        self.editing.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextOnly)
        layout.addWidget(self.editing)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setFormat("%v of %m steps")
        layout.addWidget(self.progress)
        self.steps = QtWidgets.QListWidget()
        self.steps.currentRowChanged.connect(self._on_row)
        self.steps.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.steps.setTextElideMode(QtCore.Qt.TextElideMode.ElideRight)
        self.steps.setMinimumHeight(40)
        layout.addWidget(self.steps)

        # The step: what it says and its pictures, scrolled when long, so that what it asks
        # for and its buttons stay in reach and the dock never makes the window taller.
        step = QtWidgets.QWidget()
        content = QtWidgets.QVBoxLayout(step)
        content.setContentsMargins(0, 0, 4, 0)
        self.title = QtWidgets.QLabel()
        self.title.setWordWrap(True)
        self.title.setStyleSheet("font-weight: bold; font-size: 12pt")
        content.addWidget(self.title)
        self.text = QtWidgets.QLabel()  # Markdown, as tall as it is
        self.text.setTextFormat(QtCore.Qt.TextFormat.MarkdownText)
        self.text.setWordWrap(True)
        self.text.setOpenExternalLinks(True)
        self.text.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextBrowserInteraction)
        content.addWidget(self.text)
        self.images = QtWidgets.QVBoxLayout()
        content.addLayout(self.images)
        self.condition = QtWidgets.QLabel()
        self.condition.setWordWrap(True)
        self.condition.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        content.addWidget(self.condition)
        form = QtWidgets.QFormLayout()
        self.measure = QtWidgets.QLineEdit()
        self.measure.setValidator(QtGui.QDoubleValidator(self.measure))
        self.measure_label = QtWidgets.QLabel()
        form.addRow(self.measure_label, self.measure)
        self.note = QtWidgets.QPlainTextEdit()
        self.note.setMaximumHeight(70)
        self.note.setMinimumHeight(36)
        self.note_label = QtWidgets.QLabel("Note")
        form.addRow(self.note_label, self.note)
        content.addStretch(1)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(step)
        scroll.setMinimumHeight(30)
        layout.addWidget(scroll, 1)
        layout.addLayout(form)  # what the step asks for stays in reach, with the buttons
        for widget in (self.measure, self.measure_label, self.note, self.note_label):
            widget.hide()  # until a step asks
        self.message = _Message()  # why a step was refused
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {WAITING}")
        self.message.clear()
        layout.addWidget(self.message)

        buttons = QtWidgets.QHBoxLayout()
        self.previous = self._button(buttons, "◀ Previous", self.previous_requested, "Alt+Left")
        self.skip = self._button(buttons, "Skip…", self.skip_requested)
        self.done = self._button(buttons, "Done ✓", self.done_requested, "Ctrl+Return")
        self.done.setDefault(True)
        self.next = self._button(buttons, "Next ▶", self.next_requested, "Alt+Right")
        layout.addLayout(buttons)
        ending = QtWidgets.QHBoxLayout()
        self.finish = self._button(ending, "Finish and report…", self.finish_requested)
        self.abandon = self._button(ending, "Abandon…", self.abandon_requested)
        self.report = self._button(ending, "Save report…", self.report_requested)
        layout.addLayout(ending)
        self.show_steps([], [])

    def _button(self, row, text: str, signal, shortcut: str | None = None) -> QtWidgets.QPushButton:
        button = QtWidgets.QPushButton(text)
        button.clicked.connect(signal)
        if shortcut:
            button.setShortcut(QtGui.QKeySequence(shortcut))
            button.setToolTip(f"{text} ({shortcut})")
        row.addWidget(button)
        return button

    def _on_row(self, row: int) -> None:
        if row >= 0 and not self.steps.signalsBlocked():
            self.step_clicked.emit(row)

    # -- shown by the control ------------------------------------------------------------

    def show_procedures(self, titles: list[str], current: int) -> None:
        self.procedures.blockSignals(True)
        self.procedures.clear()
        self.procedures.addItems(titles)
        self.procedures.setCurrentIndex(current)
        self.procedures.blockSignals(False)
        self.procedures.setEnabled(bool(titles))
        self.start.setEnabled(bool(titles))

    def show_steps(self, titles: list[str], records: list[StepRecord] | None, shown: int = 0) -> None:
        """The list of steps with their states (``records`` None: not started)."""
        self.steps.blockSignals(True)
        self.steps.clear()
        for i, title in enumerate(titles):
            state = records[i].state if records else None
            text = f"{MARKS[state] if state else '·'}  {i + 1}. {title}"
            if state is StepState.WAITING:
                text += "  — waiting"
            elif state is StepState.SKIPPED:
                text += f"  — skipped: {records[i].reason}"
            self.steps.addItem(text)
        self.steps.setCurrentRow(shown if titles else -1)
        self.steps.blockSignals(False)
        rows = self.steps.sizeHintForRow(0) * len(titles) if titles else 0  # no empty room under them
        self.steps.setMaximumHeight(max(60, min(180, rows + 2 * self.steps.frameWidth() + 4)))
        done = sum(r.state in (StepState.DONE, StepState.SKIPPED) for r in records) if records else 0
        self.progress.setRange(0, max(len(titles), 1))
        self.progress.setValue(done)
        self.progress.setVisible(records is not None)

    def show_step(self, number: int, total: int, spec, images, record: StepRecord | None) -> None:
        """The step's title, text, pictures and what it asks for (``record`` None: a preview)."""
        self.title.setText(f"Step {number} of {total}: {spec.title}")
        self.text.setText(spec.text or "")
        while self.images.count():
            self.images.takeAt(0).widget().deleteLater()
        for path in images:
            label = QtWidgets.QLabel()
            pixmap = QtGui.QPixmap(str(path))
            label.setPixmap(pixmap.scaledToWidth(min(IMAGE_WIDTH, pixmap.width()),
                                                 QtCore.Qt.TransformationMode.SmoothTransformation))
            label.setToolTip(path.name)
            self.images.addWidget(label)
        measure = spec.measure
        self.measure.setVisible(measure is not None)
        self.measure_label.setVisible(measure is not None)
        if measure is not None:
            unit = f" ({measure.unit})" if measure.unit else ""
            self.measure_label.setText(f"{measure.name.capitalize()}{unit}")
            accepted = f"accepted {measure.range[0]:g}–{measure.range[1]:g}" if measure.range else "a number"
            self.measure.setPlaceholderText(accepted)
            self.measure.setText("" if record is None or record.measurement is None else f"{record.measurement:g}")
        self.note.setVisible(spec.note is not None)
        self.note_label.setVisible(spec.note is not None)
        if spec.note is not None:
            self.note.setPlaceholderText(spec.note.prompt + ("" if spec.note.required else " (optional)"))
            self.note.setPlainText(record.note if record is not None else "")
        self.message.clear()

    def show_condition(self, spec, status: ConditionStatus | None, record: StepRecord | None) -> None:
        """The step's condition and how it stands (``status`` None: not the step to do)."""
        condition = spec.condition
        if condition is None:
            self.condition.hide()
            return
        wanted = " and ".join(filter(None, [condition.holds, condition.no_alarm and
                                            f"no alarm on {', '.join(condition.no_alarm)}"]))
        held = f" for {condition.for_:g} s" if condition.for_ else ""
        if status is None:
            reading = f"\nWhen done: {record.condition}" if record and record.condition else ""
            self.condition.setStyleSheet("")
            self.condition.setText(f"Condition: {wanted}{held}{reading}")
        else:
            if status.ready:
                colour, state = READY, "✓ Holds: the step can be completed"
            elif status.holds:
                colour, state = HOLDING, f"Holds for {status.held_for:.1f} of {status.needed:g} s"
            else:
                colour, state = WAITING, "Waiting: it does not hold"
            if record is not None and record.broken and not status.ready:
                state += f" (it stopped holding {record.broken}×)"
            self.condition.setStyleSheet(f"color: {colour}")
            self.condition.setText(f"Condition: {wanted}{held}\n{state}\n{status.text}")
        self.condition.show()

    def show_buttons(self, running: bool, can_act: bool, first: bool, last_reached: bool, ended: bool) -> None:
        """Which buttons work: ``can_act`` when the step shown is the one to do."""
        self.done.setEnabled(running and can_act)
        self.skip.setEnabled(running and can_act)
        self.previous.setEnabled(not first)
        self.next.setEnabled(not last_reached)
        self.finish.setEnabled(running)
        self.abandon.setEnabled(running)
        self.report.setEnabled(ended)
        self.start.setEnabled(not running and self.procedures.count() > 0)
        self.procedures.setEnabled(not running and self.procedures.count() > 0)
        for widget in (self.measure, self.note):
            widget.setReadOnly(not (running and can_act))

    def measurement(self) -> float | None:
        """The number typed in, or None."""
        value, ok = QtCore.QLocale().toDouble(self.measure.text())
        if not ok:
            try:
                return float(self.measure.text())
            except ValueError:
                return None
        return value


class _Message(QtWidgets.QLabel):
    """A label that takes no room while it has nothing to say."""

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setVisible(bool(text))

    def clear(self) -> None:
        self.setText("")

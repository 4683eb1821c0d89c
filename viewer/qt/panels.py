"""Side panels: the parts tree, the selected part's signals, the twin's summary."""

from __future__ import annotations

import html
import time

from PySide6 import QtCore, QtGui, QtWidgets

from meshes import Assembly
from overlays.palette import SEVERITY_RGB
from viewer.alarm_types import AlarmState, Severity
from viewer.qt.formatting import format_value, label_formats
from viewer.twin.units import pretty_unit
from viewer.qt.trends import MIME as TRENDS_MIME, TrendPanel
from viewer.state import TwinState
from viewer.twin.schema import BindingSpec

_PART_ROLE = QtCore.Qt.ItemDataRole.UserRole


class PartsTree(QtWidgets.QTreeWidget):
    """The assembly as a tree: tick boxes show and hide, clicking selects.

    Signals
    -------
    part_selected(str)
        The user picked a part in the tree.
    visibility_changed(str, bool)
        The user ticked or unticked a part.
    """

    part_selected = QtCore.Signal(str)
    visibility_changed = QtCore.Signal(str, bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setHeaderLabels(["Part"])
        self.setHeaderHidden(True)
        self._items: dict[str, QtWidgets.QTreeWidgetItem] = {}
        self.itemChanged.connect(self._on_item_changed)
        self.currentItemChanged.connect(self._on_current_changed)

    def set_assembly(self, assembly: Assembly, bound: set[str]) -> None:
        """Fill the tree; parts with bindings are shown in bold."""
        self.blockSignals(True)
        self.clear()
        self._items.clear()
        for part in assembly:
            parent = self._items.get(part.parent) if part.parent else None
            item = QtWidgets.QTreeWidgetItem(parent or self, [part.name])
            item.setData(0, _PART_ROLE, part.name)
            item.setFlags(item.flags() | QtCore.Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, QtCore.Qt.CheckState.Checked)
            item.setToolTip(0, part.source)
            if part.name in bound:
                font = item.font(0)
                font.setBold(True)
                item.setFont(0, font)
            self._items[part.name] = item
        self.expandToDepth(1)
        self.blockSignals(False)

    def select(self, name: str | None) -> None:
        """Show ``name`` as the current part without emitting ``part_selected``."""
        self.blockSignals(True)
        item = self._items.get(name) if name else None
        self.setCurrentItem(item)
        if item is not None:
            self.scrollToItem(item)
        self.blockSignals(False)

    def _on_item_changed(self, item, column):
        visible = item.checkState(0) == QtCore.Qt.CheckState.Checked
        self.blockSignals(True)
        stack = [item.child(i) for i in range(item.childCount())]
        while stack:  # children follow their parent's tick
            child = stack.pop()
            child.setCheckState(0, item.checkState(0))
            stack.extend(child.child(i) for i in range(child.childCount()))
        self.blockSignals(False)
        self.visibility_changed.emit(item.data(0, _PART_ROLE), visible)

    def _on_current_changed(self, current, previous):
        if current is not None:
            self.part_selected.emit(current.data(0, _PART_ROLE))


class SignalTable(QtWidgets.QTableWidget):
    """Live diagnostics of some signals: value, unit, quality, age, rate, errors.

    Signal names are the row headers, so they stay in view when the table scrolls
    sideways; long ones are elided in the middle (where names differ least) and shown
    whole in their tooltip.
    """

    COLUMNS = ["Value", "Unit", "Quality", "Age", "Rate", "Updates", "Errors", "Last error"]
    trend_requested = QtCore.Signal(list)  # signal names double-clicked: trend them
    NAME_WIDTH = (80, 220)  # the name column's narrowest and widest
    _QUALITY_COLOURS = {"live": "#2e9d4f", "stale": "#c98a12", "last known": "#7a7a2a", "offline": "#b3261e",
                        "no data": "#888888"}

    def __init__(self, parent=None):
        super().__init__(0, len(self.COLUMNS), parent)
        self.setHorizontalHeaderLabels(self.COLUMNS)
        self.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setTextElideMode(QtCore.Qt.TextElideMode.ElideMiddle)
        self.setWordWrap(False)
        names = self.verticalHeader()
        names.setTextElideMode(QtCore.Qt.TextElideMode.ElideMiddle)
        names.setDefaultAlignment(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter)
        names.setMinimumWidth(self.NAME_WIDTH[0])
        names.setMaximumWidth(self.NAME_WIDTH[1])
        names.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Fixed)
        names.setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Interactive)
        for col, width in enumerate((80, 50, 75, 55, 55, 65, 50, 200)):
            self.setColumnWidth(col, width)
        header.setStretchLastSection(True)
        self.setDragEnabled(True)  # rows drag onto a trend panel
        self.setDragDropMode(QtWidgets.QAbstractItemView.DragDropMode.DragOnly)
        self.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.cellDoubleClicked.connect(lambda row, _col: self.trend_requested.emit([self.names[row]]))
        names.sectionDoubleClicked.connect(lambda row: self.trend_requested.emit([self.names[row]]))
        self.names: list[str] = []
        self.formats: dict[str, str] = {}
        self._signals: dict = {}
        self._seen: dict[str, tuple[float, int]] = {}  # name -> (time, updates) for rates

    def mimeTypes(self) -> list[str]:
        return [TRENDS_MIME]

    def mimeData(self, items) -> QtCore.QMimeData:
        """The dragged rows' signal names, for a trend panel."""
        data = QtCore.QMimeData()
        rows = sorted({item.row() for item in items})
        data.setData(TRENDS_MIME, "\n".join(self.names[r] for r in rows).encode())
        return data

    def set_signals(self, names: list[str], signals: dict, formats: dict[str, str] | None = None) -> None:
        """Show ``names`` (``signals``: name -> Signal, for units and tooltips; ``formats``:
        name -> number format, e.g. its label's ``".1f"``)."""
        self.names = list(names)
        self.formats = dict(formats or {})
        self._signals = signals
        self._seen.clear()
        self.setRowCount(len(self.names))
        for row, name in enumerate(self.names):
            spec = signals[name].spec
            for col, text in enumerate(["", pretty_unit(spec.unit), *[""] * 6]):
                self.setItem(row, col, QtWidgets.QTableWidgetItem(text))
            where = _source(spec)
            header = QtWidgets.QTableWidgetItem(name)
            header.setToolTip("\n".join(filter(None, [name, spec.description, f"{where} {spec.field or ''}".strip()])))
            self.setVerticalHeaderItem(row, header)

    def refresh(self, state: TwinState, now: float | None = None) -> None:
        """Update the values shown (called a few times a second), ages counted to ``now``
        (default: the wall clock)."""
        now = time.time() if now is None else now
        for row, name in enumerate(self.names):
            s = state.signals[name]
            then, count = self._seen.get(name, (now, s.updates))
            rate = (s.updates - count) / (now - then) if now > then else 0.0
            if now - then >= 2.0 or name not in self._seen:
                self._seen[name] = (now, s.updates)
            quality = s.quality(now, state.link_since, state.link_up)
            value = "no data" if s.value is None else format_value(self._signals.get(name), s.value,
                                                                   self.formats.get(name, ""), with_unit=False)
            cells = [value, None, quality, f"{now - s.received:.1f} s" if s.received else "", f"{rate:.1f}/s",
                     str(s.updates), str(s.errors), s.last_error]
            for col, text in enumerate(cells):
                if text is not None:
                    item = self.item(row, col)
                    item.setText(text)
                    if col == len(cells) - 1:
                        item.setToolTip(text)
            self.item(row, 2).setForeground(QtGui.QColor(self._QUALITY_COLOURS.get(quality, "#888888")))
            grey = s.value is None or quality != "live"
            self.item(row, 0).setForeground(QtGui.QColor("#888888") if grey else self.palette().text().color())

    def values(self) -> dict[str, str]:
        """The value column as shown, keyed by signal name."""
        return self.column("Value")

    def column(self, title: str) -> dict[str, str]:
        """A column as shown, keyed by signal name."""
        col = self.COLUMNS.index(title)
        return {name: self.item(row, col).text() for row, name in enumerate(self.names)}


_KIND_TEXT = {"colour": "Colour by", "rotate": "Turns with", "translate": "Moves with", "spin": "Spins with",
              "label": "Label", "field": "Surface from"}


class TwinSummary(QtWidgets.QLabel):
    """What the right panel shows with nothing selected: connection, alarms, and the
    signals that have a problem."""

    MOST = 8  # rows of alarms or problems listed; the rest are counted

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.setAlignment(QtCore.Qt.AlignmentFlag.AlignTop | QtCore.Qt.AlignmentFlag.AlignLeft)
        self.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)

    def refresh(self, session) -> None:
        """Say how the twin of ``session`` is doing now."""
        now = session.clock()
        status = session.status
        colour = {"live": "#2e9d4f", "replay": "#2f6fb0", "connecting": "#c98a12"}.get(status.state, "#c0392b")
        out = [f"<p><b>Connection</b><br><span style='color:{colour}'>●</span> {html.escape(str(status))}</p>"]

        book = session.alarms.book
        counts = book.counts()
        listed = book.active()
        waiting = sum(a.state in (AlarmState.ACTIVE_UNACKED, AlarmState.RETURNED_UNACKED) for a in listed)
        parts = [f"<span style='color:{_rgb(s)}'><b>{n} {_plural(s, n)}</b></span>"
                 for s, n in sorted(counts.items(), reverse=True) if n]
        line = ", ".join(parts) + " active" if parts else "No alarm active"
        if waiting:
            line += f" · {waiting} to acknowledge"
        shelved = len(book.shelved())
        if shelved:
            line += f" · {shelved} shelved"
        rows = []
        formats = label_formats(session.twin)
        values = session.state.values()
        for alarm in listed[:self.MOST]:
            d = session.alarms.defs.get(alarm.signal)
            signal = session.twin.signals.get(d.signal if d else alarm.signal)
            name = (signal.spec.description or signal.name) if signal else alarm.signal
            value = format_value(signal, values.get(signal.name) if signal else None,
                                 formats.get(signal.name, "") if signal else "")
            where = f" on {', '.join(d.parts)}" if d and d.parts else ""
            rows.append(f"<span style='color:{_rgb(alarm.severity)}'>■</span> {html.escape(name)}: "
                        f"{html.escape(value)}{html.escape(where)}")
        if len(listed) > self.MOST:
            rows.append(f"… and {len(listed) - self.MOST} more in the alarm list")
        out.append("<p><b>Alarms</b><br>" + "<br>".join([line, *rows]) + "</p>")

        snapshot = session.state.snapshot()
        qualities = session.state.qualities(now)
        live = sum(q == "live" for q in qualities.values())
        problems = []
        for name, s in snapshot.items():
            quality = qualities[name]
            said = []
            if quality != "live":
                said.append(quality + (f" for {now - s.received:.0f} s" if quality == "stale" and s.received else ""))
            if s.errors:
                said.append(f"{s.errors} bad payload{'s' if s.errors != 1 else ''}")
            if said:
                problems.append(f"{html.escape(name)}: {html.escape(', '.join(said))}")
        text = f"{live} of {len(snapshot)} live" if snapshot else "No signals (a mesh without a twin)"
        shown = problems[:self.MOST] + ([f"… and {len(problems) - self.MOST} more"] if len(problems) > self.MOST else [])
        out.append("<p><b>Signals</b><br>" + "<br>".join([text, *shown]) + "</p>")
        out.append("<p style='color:#888'>Click a part, or a row of the alarm list, to see its signals.</p>")
        self.setText("".join(out))


def _rgb(severity) -> str:
    r, g, b = (int(c) for c in SEVERITY_RGB[int(severity)])
    return f"#{r:02x}{g:02x}{b:02x}"


def _plural(severity, n: int) -> str:
    word = str(Severity(int(severity)))
    return word if n == 1 or word == "info" else word + "s"


class PartDetails(QtWidgets.QWidget):
    """The selected part's bindings and the live values of its signals; with nothing
    selected, the twin's summary (:class:`TwinSummary`)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QtWidgets.QLabel("Click a part to see its signals")
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setPointSize(font.pointSize() + 2)
        font.setBold(True)
        self.title.setFont(font)
        self.bindings_label = QtWidgets.QLabel("")
        self.bindings_label.setWordWrap(True)
        self.table = SignalTable()
        self.trends = TrendPanel()  # the signals' recent past, limits and forecasts
        self.summary = TwinSummary()
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.bindings_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.trends, 3)
        layout.addWidget(self.summary, 1)
        self.part: str | None = None
        self.session = None
        self._bindings: list[BindingSpec] = []
        self._show(None)

    def set_session(self, session) -> None:
        """The session whose parts and summary are shown."""
        self.session = session

    def show_part(self, part: str | None, bindings: list[BindingSpec], signals: dict) -> None:
        """Show ``part`` and the signals its ``bindings`` use (``signals``: name -> Signal);
        None: the twin's summary."""
        self.part = part
        self._bindings = list(bindings)
        names: list[str] = []
        for b in bindings:
            used = b.signals
            names.extend(n for n in used if n not in names)
        formats = label_formats(self.session.twin) if self.session is not None else {}
        self.table.set_signals(names, signals, formats)
        self.trends.set_signals(self.session if part else None, names if part else [])
        self._show(part)

    def _show(self, part: str | None) -> None:
        self.title.setText(part or (f"{self.session.twin.name}" if self.session else "Click a part to see its signals"))
        for widget in (self.bindings_label, self.table, self.trends):
            widget.setVisible(part is not None)
        self.summary.setVisible(part is None)

    def refresh(self, state: TwinState | None = None) -> None:
        """Update what is shown from the session (``state``: another state to read)."""
        if self.session is None:
            return
        if self.part is None:
            self.summary.refresh(self.session)
            return
        self.bindings_label.setText("\n".join(self._binding_lines()) if self._bindings
                                    else "No live data bound to this part.")
        self.table.refresh(state or self.session.state, self.session.clock())
        self.trends.refresh()

    def _binding_lines(self) -> list[str]:
        """Each binding as it reads: what it does, with which signal, and a label's text now."""
        scene = self.session.scene
        texts = {id(b): t for (b, _), t in zip(scene.labels, scene.label_texts())}
        lines = []
        for b in self._bindings:
            what = _KIND_TEXT.get(b.kind, b.kind)
            on = f" ({b.part})" if b.part != self.part else ""
            if b.kind == "label":
                lines.append(f"{what}{on}: “{texts.get(id(b), '')}”")
            elif b.kind in ("colour", "field"):
                unit = pretty_unit(b.unit or self.session.twin.signals[b.signals[0]].unit)
                lines.append(f"{what}{on}: {', '.join(b.signals)} ({b.cmap}, {b.range[0]:g}–{b.range[1]:g}"
                             f"{f' {unit}' if unit else ''})")
            else:
                lines.append(f"{what}{on}: {b.signal}")
        return lines

    def values(self) -> dict[str, str]:
        """The value column as shown, keyed by signal name."""
        return self.table.values()


def _source(spec) -> str:
    """Where a signal comes from, in a tooltip: its topic, metric or model."""
    if spec.model is not None:
        state = next((f" ({k} {getattr(spec, k)} s)" for k in ("lag", "average", "rate") if getattr(spec, k)), "")
        return f"model: {spec.model}{' (integrated)' if spec.integrate else state}"
    if spec.sparkplug is not None:
        sp = spec.sparkplug
        return "spBv1.0 " + "/".join(p for p in (sp.group, sp.node, sp.device, sp.metric) if p)
    return spec.topic

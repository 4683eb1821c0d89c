"""Side panels: the parts tree and the selected part's signals."""

from __future__ import annotations

import time

from PySide6 import QtCore, QtGui, QtWidgets

from meshes import Assembly
from overlays.label_rule import LabelRule
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
    """Live diagnostics of some signals: value, unit, quality, age, rate, errors."""

    COLUMNS = ["Signal", "Value", "Unit", "Quality", "Age", "Rate", "Updates", "Errors", "Last error"]
    _QUALITY_COLOURS = {"live": "#2e9d4f", "stale": "#c98a12", "last known": "#7a7a2a", "offline": "#b3261e",
                        "no data": "#888888"}

    def __init__(self, parent=None):
        super().__init__(0, len(self.COLUMNS), parent)
        self.setHorizontalHeaderLabels(self.COLUMNS)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.names: list[str] = []
        self._seen: dict[str, tuple[float, int]] = {}  # name -> (time, updates) for rates

    def set_signals(self, names: list[str], signals: dict) -> None:
        """Show ``names`` (``signals``: name -> Signal, for units and tooltips)."""
        self.names = list(names)
        self._seen.clear()
        self.setRowCount(len(self.names))
        for row, name in enumerate(self.names):
            spec = signals[name].spec
            for col, text in enumerate([name, "", spec.unit, *[""] * 6]):
                self.setItem(row, col, QtWidgets.QTableWidgetItem(text))
            where = spec.topic if spec.sparkplug is None else "spBv1.0 " + "/".join(
                p for p in (spec.sparkplug.group, spec.sparkplug.node, spec.sparkplug.device, spec.sparkplug.metric) if p)
            self.item(row, 0).setToolTip(f"{spec.description}\n{where} {spec.field or ''}".strip())

    def refresh(self, state: TwinState) -> None:
        """Update the values shown (called a few times a second)."""
        now = time.time()
        for row, name in enumerate(self.names):
            s = state.signals[name]
            then, count = self._seen.get(name, (now, s.updates))
            rate = (s.updates - count) / (now - then) if now > then else 0.0
            if now - then >= 2.0 or name not in self._seen:
                self._seen[name] = (now, s.updates)
            quality = s.quality(now)
            cells = ["no data" if s.value is None else f"{s.value:.4g}", None, quality,
                     f"{now - s.received:.1f} s" if s.received else "", f"{rate:.1f}/s",
                     str(s.updates), str(s.errors), s.last_error]
            for col, text in enumerate(cells, start=1):
                if text is not None:
                    self.item(row, col).setText(text)
            self.item(row, 3).setForeground(QtGui.QColor(self._QUALITY_COLOURS.get(quality, "#888888")))
            grey = s.value is None or quality != "live"
            self.item(row, 1).setForeground(QtGui.QColor("#888888") if grey else self.palette().text().color())

    def values(self) -> dict[str, str]:
        """The value column as shown, keyed by signal name."""
        return {name: self.item(row, 1).text() for row, name in enumerate(self.names)}

    def column(self, title: str) -> dict[str, str]:
        """A column as shown, keyed by signal name."""
        col = self.COLUMNS.index(title)
        return {name: self.item(row, col).text() for row, name in enumerate(self.names)}


class PartDetails(QtWidgets.QWidget):
    """Name of the selected part and the live values of the signals bound to it."""

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
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.bindings_label)
        layout.addWidget(self.table, 1)
        self.part: str | None = None

    def show_part(self, part: str | None, bindings: list[BindingSpec], signals: dict) -> None:
        """Show ``part`` and the signals its ``bindings`` use (``signals``: name -> Signal)."""
        self.part = part
        self.title.setText(part or "Click a part to see its signals")
        self.bindings_label.setText(
            "\n".join(f"{b.kind} ← {b.signal or b.text}" for b in bindings) if bindings
            else ("No live data bound to this part." if part else "")
        )
        names: list[str] = []
        for b in bindings:
            used = [b.signal] if b.signal else sorted(LabelRule(b.text).names)
            names.extend(n for n in used if n not in names)
        self.table.set_signals(names, signals)

    def refresh(self, state: TwinState) -> None:
        """Update the values shown."""
        self.table.refresh(state)

    def values(self) -> dict[str, str]:
        """The value column as shown, keyed by signal name."""
        return self.table.values()

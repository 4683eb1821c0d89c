"""The alarm list: the alarms to act on, worst first, with acknowledge and shelve.

A table model over the session's alarm book, updated only for the alarms that changed
in a tick (:attr:`Session.alarms_changed`); a proxy filters by severity, state and a
search text and keeps the order (severity, then newest first). Actions go through the
session (acknowledge) or its book (shelve, unshelve, then :meth:`Session.refresh_alarms`),
so the list itself never changes a row: the next tick does.
"""

from __future__ import annotations

import functools
import getpass
import time

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from overlays.palette import SEVERITY_RGB
from viewer.alarm_types import Alarm, AlarmState, Severity
from viewer.qt.formatting import NO_VALUE, format_duration, format_number, format_time, format_value, label_formats
from viewer.twin.units import pretty_unit

COLUMNS = ["Severity", "Part", "Signal", "Value", "Limit", "Raised", "Duration", "State"]
_VALUE, _DURATION = COLUMNS.index("Value"), COLUMNS.index("Duration")
ID_ROLE = QtCore.Qt.ItemDataRole.UserRole
#: State filters: name -> which alarms show (shelved ones only where it says so).
STATE_FILTERS = {
    "Active or unacknowledged": lambda a: not a.shelved and a.state is not AlarmState.NORMAL,
    "Unacknowledged": lambda a: not a.shelved and a.state in (AlarmState.ACTIVE_UNACKED,
                                                              AlarmState.RETURNED_UNACKED),
    "Active": lambda a: not a.shelved and a.active,
    "Shelved": lambda a: a.shelved,
    "All, shelved too": lambda a: True,
}
SHELVE_MINUTES = (15, 30, 60, 120, 240, 480)
_LIMIT_MARKS = {"alarm_high": "▲", "warn_high": "▲", "alarm_low": "▼", "warn_low": "▼"}


@functools.cache
def severity_icon(severity: int) -> QtGui.QIcon:
    """The badge drawn on the machine for ``severity`` (1 info, 2 warning, 3 alarm), as an icon."""
    from overlays.badges import atlas  # the same images the 3D view draws

    sheet, cells = atlas()
    x, y, w, h = cells[("badge", int(severity), True)]
    pixels = np.ascontiguousarray(sheet[y:y + h, x:x + w])
    image = QtGui.QImage(pixels.data, w, h, 4 * w, QtGui.QImage.Format.Format_RGBA8888).copy()
    return QtGui.QIcon(QtGui.QPixmap.fromImage(image))


def severity_colour(severity: int) -> QtGui.QColor:
    """The severity's colour (as on the machine)."""
    return QtGui.QColor(*(int(c) for c in SEVERITY_RGB[int(severity)]))


class AlarmModel(QtCore.QAbstractTableModel):
    """One row per alarm that is not normal, or shelved; columns :data:`COLUMNS`."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.session = None
        self.rows: list[Alarm] = []
        self._row_of: dict[str, int] = {}
        self._formats: dict[str, str] = {}

    # -- filling ---------------------------------------------------------------------

    def set_session(self, session) -> None:
        """Show the alarms of ``session`` (all rows rebuilt: a new twin)."""
        self.beginResetModel()
        self.session = session
        self._formats = label_formats(session.twin)
        book = session.alarms.book
        self.rows = book.active() + book.shelved()
        self._row_of = {a.signal: i for i, a in enumerate(self.rows)}
        self.endResetModel()

    def now(self) -> float:
        """The time of the data: the session's clock (a replay's in a replay)."""
        return self.session.clock() if self.session is not None else time.time()

    def update(self, ids) -> None:
        """Bring the rows of alarms ``ids`` up to date: changed, added or removed."""
        if self.session is None:
            return
        book = self.session.alarms.book
        for id_ in ids:
            if id_ not in book.signals:
                continue
            alarm = book.get(id_)
            listed = alarm.state is not AlarmState.NORMAL or alarm.shelved
            row = self._row_of.get(id_)
            if row is not None and listed:
                self.rows[row] = alarm
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
            elif row is not None:
                self.beginRemoveRows(QtCore.QModelIndex(), row, row)
                del self.rows[row]
                self._row_of = {a.signal: i for i, a in enumerate(self.rows)}
                self.endRemoveRows()
            elif listed:
                self.beginInsertRows(QtCore.QModelIndex(), len(self.rows), len(self.rows))
                self._row_of[id_] = len(self.rows)
                self.rows.append(alarm)
                self.endInsertRows()

    def tick(self) -> None:
        """Repaint the columns that change with time alone (value, duration)."""
        if self.rows:
            last = len(self.rows) - 1
            self.dataChanged.emit(self.index(0, _VALUE), self.index(last, _VALUE))
            self.dataChanged.emit(self.index(0, _DURATION), self.index(last, _DURATION))

    # -- what a row says -------------------------------------------------------------

    def alarm(self, row: int) -> Alarm:
        """The alarm of ``row``."""
        return self.rows[row]

    def parts(self, alarm: Alarm) -> tuple[str, ...]:
        """The parts the alarm shows on."""
        d = self.session.alarms.defs.get(alarm.signal)
        return d.parts if d is not None else ()

    def _signal(self, alarm: Alarm):
        d = self.session.alarms.defs.get(alarm.signal)
        return self.session.twin.signals.get(d.signal if d is not None else alarm.signal)

    def text(self, alarm: Alarm, column: int, now: float) -> str:
        """What cell ``column`` of ``alarm``'s row shows."""
        name = COLUMNS[column]
        signal = self._signal(alarm)
        spec = self._formats.get(signal.name, "") if signal is not None else ""
        if name == "Severity":
            return str(alarm.severity).capitalize() if alarm.severity is not None else ""
        if name == "Part":
            return ", ".join(self.parts(alarm)) or NO_VALUE
        if name == "Signal":
            return (signal.spec.description or signal.name) if signal is not None else alarm.signal
        if name == "Value":
            value = self.session.state.values().get(signal.name) if signal is not None else alarm.value
            return format_value(signal, value, spec)
        if name == "Limit":
            return self._limit(alarm, signal, spec)
        if name == "Raised":
            return format_time(alarm.raised_at, now)
        if name == "Duration":
            return format_duration(alarm.duration(now))
        state = str(alarm.state)
        if alarm.shelved:
            state = f"shelved until {format_time(alarm.shelved_until, now)} ({state})"
        return state

    def _limit(self, alarm: Alarm, signal, spec: str) -> str:
        condition = alarm.condition
        if condition is None:
            return ""
        if condition.limit is not None:
            unit = pretty_unit(signal.unit) if signal is not None else ""
            number = format_number(condition.limit, spec)
            return f"{_LIMIT_MARKS.get(condition.name, '')} {number}{f' {unit}' if unit else ''}".strip()
        if condition.name in ("alarm_when", "warn_when"):
            return "= " + format_value(signal, alarm.value, spec, with_unit=False)
        return condition.name  # stale, offline: the quality itself

    def sort_key(self, alarm: Alarm, column: int):
        """What ``column`` sorts ``alarm`` by (severity: then time)."""
        name = COLUMNS[column]
        if name == "Severity":
            return (int(alarm.severity or 0), alarm.raised_at or 0.0)
        if name in ("Raised", "Duration"):
            return alarm.raised_at or 0.0
        return self.text(alarm, column, self.now()).lower()

    # -- QAbstractTableModel -----------------------------------------------------------

    def rowCount(self, parent=QtCore.QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QtCore.QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=QtCore.Qt.ItemDataRole.DisplayRole):
        if orientation == QtCore.Qt.Orientation.Horizontal and role == QtCore.Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index, role=QtCore.Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        alarm, column = self.rows[index.row()], index.column()
        Role = QtCore.Qt.ItemDataRole
        if role == Role.DisplayRole:
            return self.text(alarm, column, self.now())
        if role == ID_ROLE:
            return alarm.signal
        if role == Role.ToolTipRole:
            return self._tooltip(alarm)
        if column == 0 and alarm.severity is not None:
            if role == Role.DecorationRole:
                return severity_icon(alarm.severity)
            if role == Role.ForegroundRole:
                return severity_colour(alarm.severity)
        if role == Role.FontRole and alarm.state in (AlarmState.ACTIVE_UNACKED, AlarmState.RETURNED_UNACKED) \
                and not alarm.shelved:
            font = QtGui.QFont()
            font.setBold(True)  # waiting for someone: stands out
            return font
        if role == Role.ForegroundRole and (alarm.shelved or not alarm.active):
            return QtGui.QColor("#8a8a8a")  # returned or shelved: nothing to act on now
        return None

    def _tooltip(self, alarm: Alarm) -> str:
        lines = [f"{alarm.signal}: {alarm.condition.name if alarm.condition else ''}, {alarm.state}"]
        if alarm.acked_by:
            lines.append(f"acknowledged by {alarm.acked_by} at {format_time(alarm.acked_at)}")
        if alarm.shelved:
            lines.append(f"shelved by {alarm.shelved_by} until {format_time(alarm.shelved_until)}: "
                         f"{alarm.shelve_reason}")
        return "\n".join(lines)


class AlarmFilter(QtCore.QSortFilterProxyModel):
    """Which rows show (severities, a state filter, a search text) and in what order."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.severities = set(Severity)
        self.state_filter = next(iter(STATE_FILTERS))
        self.search = ""
        self.setDynamicSortFilter(True)

    def set_filter(self, severities=None, state: str | None = None, search: str | None = None) -> None:
        """Change what shows; None keeps a filter as it is."""
        self.beginFilterChange()
        if severities is not None:
            self.severities = set(severities)
        if state is not None:
            self.state_filter = state
        if search is not None:
            self.search = search.strip().lower()
        self.endFilterChange(QtCore.QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, row: int, parent) -> bool:
        model: AlarmModel = self.sourceModel()
        alarm = model.alarm(row)
        if alarm.severity not in self.severities or not STATE_FILTERS[self.state_filter](alarm):
            return False
        if not self.search:
            return True
        now = model.now()
        words = [alarm.signal, *(model.text(alarm, c, now) for c in range(len(COLUMNS)))]
        return any(self.search in w.lower() for w in words)

    def lessThan(self, left, right) -> bool:
        model: AlarmModel = self.sourceModel()
        column = left.column()
        return model.sort_key(model.alarm(left.row()), column) < model.sort_key(model.alarm(right.row()), column)


class ShelveDialog(QtWidgets.QDialog):
    """Ask for how long to shelve and why (a reason is required)."""

    def __init__(self, names: list[str], parent=None):
        super().__init__(parent)
        self.setWindowTitle("Shelve alarms")
        self.duration = QtWidgets.QComboBox()
        for minutes in SHELVE_MINUTES:
            self.duration.addItem(format_duration(minutes * 60).replace(" 00 s", "").replace(" 00 min", ""),
                                  minutes * 60)
        self.duration.setCurrentIndex(1)
        self.reason = QtWidgets.QLineEdit()
        self.reason.setPlaceholderText("e.g. sensor under maintenance, work order 4711")
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                             | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        self.ok = buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Shelve")
        self.ok.setEnabled(False)
        self.reason.textChanged.connect(lambda text: self.ok.setEnabled(bool(text.strip())))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QtWidgets.QFormLayout(self)
        shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        form.addRow(QtWidgets.QLabel(f"Silence {shown}. It comes back when the time is up."))
        form.addRow("For", self.duration)
        form.addRow("Reason", self.reason)
        form.addRow(buttons)

    @classmethod
    def ask(cls, names: list[str], parent=None) -> tuple[float, str] | None:
        """``(seconds, reason)``, or None if cancelled."""
        dialog = cls(names, parent)
        if dialog.exec() != QtWidgets.QDialog.DialogCode.Accepted:
            return None
        return float(dialog.duration.currentData()), dialog.reason.text().strip()


class AlarmList(QtWidgets.QWidget):
    """The alarm list dock's contents: filters, the table, and the actions.

    Signals
    -------
    part_activated(str)
        The user clicked a row: show this part (select it, fly to it).
    """

    part_activated = QtCore.Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.session = None
        self.model = AlarmModel(self)
        self.proxy = AlarmFilter(self)
        self.proxy.setSourceModel(self.model)

        self.severity_buttons: dict[Severity, QtWidgets.QToolButton] = {}
        filters = QtWidgets.QHBoxLayout()
        for severity in sorted(Severity, reverse=True):
            button = QtWidgets.QToolButton()
            button.setText(str(severity).capitalize())
            button.setIcon(severity_icon(severity))
            button.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setCheckable(True)
            button.setChecked(True)
            button.setToolTip(f"Show {severity} rows")
            button.toggled.connect(self._on_filter)
            self.severity_buttons[severity] = button
            filters.addWidget(button)
        self.state_box = QtWidgets.QComboBox()
        self.state_box.addItems(list(STATE_FILTERS))
        self.state_box.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.state_box.setMinimumContentsLength(20)
        self.state_box.setToolTip("Which alarms to list")
        self.state_box.currentTextChanged.connect(self._on_filter)
        self.search = QtWidgets.QLineEdit()
        self.search.setPlaceholderText("Search part, signal, state…")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(80)
        self.search.textChanged.connect(self._on_filter)
        filters.addWidget(self.state_box)
        filters.addWidget(self.search, 1)

        self.table = QtWidgets.QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, QtCore.Qt.SortOrder.DescendingOrder)  # worst first, then newest
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTextElideMode(QtCore.Qt.TextElideMode.ElideMiddle)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in zip(range(len(COLUMNS)), (95, 110, 230, 95, 110, 75, 80, 160)):
            self.table.setColumnWidth(column, width)
        self.table.clicked.connect(self._on_clicked)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._enable())

        self.ack_button = QtWidgets.QPushButton("Acknowledge")
        self.ack_button.setToolTip("Acknowledge the selected alarms (Ctrl+K)")
        self.ack_button.setShortcut("Ctrl+K")
        self.ack_all_button = QtWidgets.QPushButton("Acknowledge all")
        self.ack_all_button.setToolTip("Acknowledge every alarm the list shows (after its filters)")
        self.shelve_button = QtWidgets.QPushButton("Shelve…")
        self.shelve_button.setToolTip("Silence the selected alarms for a while, with a reason")
        self.unshelve_button = QtWidgets.QPushButton("Unshelve")
        self.ack_button.clicked.connect(lambda: self.acknowledge(self.selected_ids()))
        self.ack_all_button.clicked.connect(lambda: self.acknowledge(self.visible_ids()))
        self.shelve_button.clicked.connect(self._on_shelve)
        self.unshelve_button.clicked.connect(lambda: self.unshelve(self.selected_ids()))
        self.empty = QtWidgets.QLabel()
        self.empty.setStyleSheet("color:#888")
        actions = QtWidgets.QHBoxLayout()
        for button in (self.ack_button, self.ack_all_button, self.shelve_button, self.unshelve_button):
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(self.empty)

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        self._enable()

    # -- fed by the window -------------------------------------------------------------

    def set_session(self, session) -> None:
        """List the alarms of ``session`` (a new twin)."""
        self.session = session
        self.model.set_session(session)
        self._enable()

    def refresh(self, ids) -> None:
        """Update the rows of the alarms ``ids`` (those that changed in the last tick)."""
        self.model.update(ids)
        self._enable()

    def tick(self) -> None:
        """Values and durations move on (called about once a second)."""
        self.model.tick()

    # -- what the user does ------------------------------------------------------------

    def acknowledge(self, ids: list[str]) -> list[str]:
        """Acknowledge alarms ``ids``; their rows change at the next tick."""
        return self.session.acknowledge(ids) if ids and self.session is not None else []

    def shelve(self, ids: list[str], seconds: float, reason: str) -> None:
        """Shelve alarms ``ids`` for ``seconds`` with ``reason``, as the user logged in."""
        now, who = self.session.clock(), getpass.getuser()
        for id_ in ids:
            self.session.alarms.book.shelve(id_, seconds, reason, who, now)
        self.session.refresh_alarms(ids)

    def unshelve(self, ids: list[str]) -> list[str]:
        """Take alarms ``ids`` off the shelf; return those that were shelved."""
        now, who = self.session.clock(), getpass.getuser()
        done = [i for i in ids if self.session.alarms.book.unshelve(i, who, now)]
        self.session.refresh_alarms(done)
        return done

    def _on_shelve(self) -> None:
        ids = self.selected_ids()
        answer = ShelveDialog.ask(ids, self) if ids else None
        if answer is not None:
            self.shelve(ids, *answer)

    def _on_clicked(self, index) -> None:
        alarm = self.model.alarm(self.proxy.mapToSource(index).row())
        parts = self.model.parts(alarm)
        if parts:
            self.part_activated.emit(parts[0])

    def _on_filter(self, *_) -> None:
        self.proxy.set_filter([s for s, b in self.severity_buttons.items() if b.isChecked()],
                              self.state_box.currentText(), self.search.text())
        self._enable()

    def _enable(self) -> None:
        selected = [self.model.alarm(r) for r in self._selected_rows()]
        self.ack_button.setEnabled(any(a.state in (AlarmState.ACTIVE_UNACKED, AlarmState.RETURNED_UNACKED)
                                       for a in selected))
        self.ack_all_button.setEnabled(self.proxy.rowCount() > 0)
        self.shelve_button.setEnabled(bool(selected))
        self.unshelve_button.setEnabled(any(a.shelved for a in selected))
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.empty.setText("No alarms" if not total else f"{shown} of {total} shown" if shown < total else "")

    # -- reading the list --------------------------------------------------------------

    def _selected_rows(self) -> list[int]:
        return [self.proxy.mapToSource(i).row() for i in self.table.selectionModel().selectedRows()]

    def selected_ids(self) -> list[str]:
        """Ids of the selected rows."""
        return [self.model.alarm(r).signal for r in self._selected_rows()]

    def visible_ids(self) -> list[str]:
        """Ids of the rows shown (after the filters), top to bottom."""
        return [self.proxy.index(r, 0).data(ID_ROLE) for r in range(self.proxy.rowCount())]

    def rows(self) -> list[dict[str, str]]:
        """The rows shown, top to bottom, each as column title -> text (and ``id``)."""
        return [{"id": self.proxy.index(r, 0).data(ID_ROLE),
                 **{title: self.proxy.index(r, c).data() for c, title in enumerate(COLUMNS)}}
                for r in range(self.proxy.rowCount())]

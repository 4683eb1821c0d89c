"""The alarm list's "Upcoming" section: the limits the trends say will be reached,
soonest first (:mod:`viewer.predict`, kept fresh by the session)."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from overlays.label_rule import rate_text
from viewer.alarm_types import Severity
from viewer.predict import Crossing
from viewer.qt.alarm_list import severity_icon
from viewer.qt.formatting import format_number, format_value, label_formats
from viewer.twin.units import pretty_unit

COLUMNS = ["Expected", "Part", "Signal", "Value", "Limit", "Trend"]
_MARKS = {"high": "▲", "low": "▼"}


class UpcomingList(QtWidgets.QTableWidget):
    """A row per limit a signal's trend will reach, soonest first; its time counts down
    between fits.

    Signals
    -------
    part_activated(str)
        The user clicked a row: show this part.
    """

    part_activated = QtCore.Signal(str)

    def __init__(self, parent=None):
        super().__init__(0, len(COLUMNS), parent)
        self.session = None
        self._formats: dict[str, str] = {}
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.horizontalHeader().setStretchLastSection(True)
        for column, width in enumerate((170, 90, 160, 80, 80)):
            self.setColumnWidth(column, width)
        self.cellClicked.connect(self._on_clicked)

    def set_session(self, session) -> None:
        """Show what ``session``'s forecasts expect."""
        self.session = session
        self._formats = label_formats(session.twin) if session is not None else {}
        self.refresh()

    def refresh(self) -> None:
        """Rebuild the rows from the latest forecasts, times counted from now."""
        rows = []
        if self.session is not None:
            now = self.session.clock()
            forecasts = self.session.forecasts
            for name, forecast in forecasts.latest.items():
                for crossing in forecast.crossings:
                    left = forecasts.fitted[name] + crossing.eta - now
                    if left > 0:
                        rows.append((left, name, forecast, crossing))
        rows.sort(key=lambda row: row[0])
        self.setRowCount(len(rows))
        for r, (left, name, forecast, crossing) in enumerate(rows):
            for c, text in enumerate(self._texts(left, name, forecast, crossing)):
                item = QtWidgets.QTableWidgetItem(text)
                if c == 0:
                    severity = Severity.ALARM if crossing.limit.startswith("alarm") else Severity.WARNING
                    item.setIcon(severity_icon(severity))
                    item.setData(QtCore.Qt.ItemDataRole.UserRole, name)
                self.setItem(r, c, item)

    def _texts(self, left: float, name: str, forecast, crossing: Crossing) -> list[str]:
        signal = self.session.twin.signals[name]
        spec = self._formats.get(name, "")
        unit = pretty_unit(signal.unit)
        shift = left - crossing.eta  # the range moves with the time since the fit
        when = Crossing(crossing.limit, crossing.level, left, max(crossing.low + shift, 0.0),
                        crossing.high + shift).describe()
        defs = self.session.alarms.defs.get(name)
        limit = f"{_MARKS[crossing.limit.rsplit('_', 1)[1]]} {format_number(crossing.level, spec)} {unit}".strip()
        trend = f"{rate_text(forecast.rate * 60, unit)}, {forecast.model}"
        return [when, ", ".join(defs.parts) if defs else "", signal.spec.description or name,
                format_value(signal, self.session.state.values().get(name), spec), limit, trend]

    def _on_clicked(self, row: int, _column: int) -> None:
        defs = self.session.alarms.defs.get(self.item(row, 0).data(QtCore.Qt.ItemDataRole.UserRole))
        if defs and defs.parts:
            self.part_activated.emit(defs.parts[0])

"""Live trends: signals' recent history with each bucket's min-max range, their limits
as bands, and their forecasts drawn ahead of now (pyqtgraph).

Signals that share a unit share a plot (one y-axis per unit); the plots share one
time axis. They follow now until the user pans or zooms one, and again after *Follow
now*; a cursor under the mouse reads every curve's value at its time.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from overlays.palette import SEVERITY_RGB
from viewer.alarm_types import Severity
from viewer.qt.formatting import format_number, pretty_unit

SPAN_S = 600.0  # seconds of history shown behind now
AHEAD_S = 300.0  # seconds shown ahead of now, where forecasts are drawn
#: Curve colours, in the order signals are added to a plot: light on the dark plot, apart in hue.
COLOURS = ("#e8e8e8", "#4fc3f7", "#ff8a65", "#aed581", "#ba68c8", "#fff176", "#4db6ac", "#f06292")
_FORECAST = "#ffd24a"
_FAR = 1e12  # a limit band reaches this far (it never sets the view's range)
MIME = "application/x-twinview-signals"  # signal names, one per line, dragged onto a trend panel


class TrendPlot(pg.PlotWidget):
    """The trends of the signals of one unit.

    Parameters
    ----------
    unit : str
        Their unit, as shown (the y-axis label).
    """

    def __init__(self, unit: str, parent=None):
        super().__init__(parent, axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        self.unit = unit
        self.setMinimumHeight(130)
        self.setLabel("left", unit)
        self.setMenuEnabled(False)
        menu = self.getPlotItem().ctrlMenu  # pyqtgraph leaves it without a parent: it would outlive the plot
        menu.setParent(self, menu.windowFlags())
        self.legend = self.addLegend(offset=(8, 4), labelTextSize="8pt")
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._spreads: dict[str, pg.PlotDataItem] = {}
        self._forecasts: dict[str, pg.PlotDataItem] = {}
        self._etas: dict[str, pg.TextItem] = {}
        self._bands: set[tuple[str, float]] = set()
        self.now = pg.InfiniteLine(angle=90, pen=pg.mkPen("#888", style=QtCore.Qt.PenStyle.DotLine))
        self.addItem(self.now, ignoreBounds=True)
        self.cursor = pg.InfiniteLine(angle=90, pen=pg.mkPen("#bbb"))
        self.cursor.setVisible(False)
        self.addItem(self.cursor, ignoreBounds=True)

    def add(self, name: str, title: str, limits: dict[str, float]) -> None:
        """Add a signal's curve (titled in the legend) and the bands beyond its limits."""
        colour = COLOURS[len(self.curves) % len(COLOURS)]
        for limit, level in limits.items():  # amber beyond a warning limit, red beyond an alarm one
            if (limit, level) in self._bands:
                continue  # the same band for another signal of this plot
            self._bands.add((limit, level))
            severity = Severity.ALARM if limit.startswith("alarm") else Severity.WARNING
            far = _FAR if limit.endswith("_high") else -_FAR
            region = pg.LinearRegionItem((level, far), orientation="horizontal", movable=False,
                                         brush=(*SEVERITY_RGB[severity], 45), pen=pg.mkPen(SEVERITY_RGB[severity]))
            region.setZValue(-10)
            self.addItem(region, ignoreBounds=True)
        # each bucket's min-max range as a stroke: spikes kept by decimation stay visible (one
        # path of segments; a fill between two curves costs 20 times more to rebuild)
        self._spreads[name] = self.plot(pen=pg.mkPen((*pg.mkColor(colour).getRgb()[:3], 110), width=1),
                                        connect="pairs")
        curve = self.plot(pen=pg.mkPen(colour, width=1), name=title)  # thicker pens paint far slower in software
        curve.setClipToView(True)  # only what the view shows is drawn, peaks kept when thinned
        curve.setDownsampling(auto=True, method="peak")
        self.curves[name] = curve
        self._forecasts[name] = self.plot(pen=pg.mkPen(_FORECAST, width=2, style=QtCore.Qt.PenStyle.DashLine))
        self._etas[name] = pg.TextItem(color=_FORECAST, anchor=(1, 1))
        self.addItem(self._etas[name], ignoreBounds=True)

    def show_data(self, name: str, series, forecast, fitted_at: float | None, now: float) -> None:
        """Draw ``series`` (a :class:`~viewer.history.Series`) of ``name`` and ``forecast``
        (made at ``fitted_at``)."""
        self.curves[name].setData(series.t, series.value, skipFiniteCheck=True)  # history holds finite values
        wide = series.high > series.low
        self._spreads[name].setData(np.repeat(series.t[wide], 2), np.c_[series.low[wide], series.high[wide]].ravel(),
                                    skipFiniteCheck=True)
        self.now.setPos(now)
        if forecast is not None and forecast.ahead is not None and fitted_at is not None:
            self._forecasts[name].setData(fitted_at + forecast.ahead[:, 0], forecast.ahead[:, 1])
        else:
            self._forecasts[name].setData([], [])
        crossing = forecast.next if forecast is not None else None
        self._etas[name].setText(crossing.describe() if crossing is not None else "")
        if crossing is not None:  # beside the limit, on the side the value comes from: always in view
            self._etas[name].setAnchor((1, 0) if crossing.limit.endswith("_high") else (1, 1))
            self._etas[name].setPos(now + AHEAD_S, crossing.level)

    def eta(self, name: str) -> str:
        """What the forecast of ``name`` says on the plot (empty: nothing expected)."""
        return self._etas[name].toPlainText()

    def forecast_drawn(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The times and values of the forecast line of ``name``."""
        item = self._forecasts[name]
        return (np.zeros(0), np.zeros(0)) if item.xData is None else (item.xData, item.yData)

    def value_at(self, name: str, t: float) -> float | None:
        """The drawn value of ``name`` at time ``t`` (the sample before it), or None."""
        x, y = self.curves[name].xData, self.curves[name].yData
        if x is None or not len(x) or t < x[0]:
            return None
        return float(y[min(np.searchsorted(x, t, side="right") - 1, len(y) - 1)])


class TrendPanel(QtWidgets.QWidget):
    """The trends of a set of signals, one plot per unit.

    Attributes
    ----------
    plots : dict of str to TrendPlot
        Unit -> its plot.
    """

    changed = QtCore.Signal()  # the set of signals shown changed

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plots: dict[str, TrendPlot] = {}
        self.names: list[str] = []
        self._plot_of: dict[str, TrendPlot] = {}
        self.session = None
        self.following = True
        self.follow_button = QtWidgets.QPushButton("Follow now")
        self.follow_button.setToolTip("Scroll with the live data again")
        self.follow_button.clicked.connect(self.follow)
        self.follow_button.setVisible(False)
        self.readout = QtWidgets.QLabel()  # the values under the cursor
        self.readout.setStyleSheet("color:#555")
        self._column = QtWidgets.QVBoxLayout()
        self._column.setContentsMargins(0, 0, 0, 0)
        bottom = QtWidgets.QHBoxLayout()
        bottom.addWidget(self.readout, 1)
        bottom.addWidget(self.follow_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._column, 1)
        layout.addLayout(bottom)

    def set_signals(self, session, names: list[str]) -> None:
        """Show the trends of ``names`` (signals of ``session``'s twin; none: empty)."""
        for plot in self.plots.values():
            self._column.removeWidget(plot)
            plot.close()
            plot.deleteLater()
        self.plots, self._plot_of, self.session = {}, {}, session
        self.names = [n for n in dict.fromkeys(names) if session is not None and n in session.twin.signals]
        limits = {a.signal: a.limits for a in session.twin.alarms if a.id == a.signal} if session else {}
        for name in self.names:
            signal = session.twin.signals[name]
            unit = pretty_unit(signal.unit)
            if unit not in self.plots:
                plot = self.plots[unit] = TrendPlot(unit)
                if len(self.plots) > 1:
                    plot.setXLink(next(iter(self.plots.values())))  # one time axis
                plot.getViewBox().sigRangeChangedManually.connect(self._paused)
                plot.scene().sigMouseMoved.connect(lambda pos, p=plot: self._cursor(p, pos))
                plot.hideAxis("bottom")  # shown under the last plot only: each costs a repaint
                self._column.addWidget(plot)
            self.plots[unit].add(name, signal.spec.description or name, limits.get(name, {}))
            self._plot_of[name] = self.plots[unit]
        if self.plots:
            list(self.plots.values())[-1].showAxis("bottom")
        self.readout.clear()
        self.follow()
        self.changed.emit()

    def add_signals(self, names: list[str]) -> None:
        """Add ``names`` to the signals shown."""
        if self.session is not None:
            self.set_signals(self.session, self.names + list(names))

    def refresh(self, now: float | None = None) -> None:
        """Draw the latest history and forecasts (a few times a second)."""
        if self.session is None or not self.plots:
            return
        now = time.time() if now is None else now
        forecasts = self.session.forecasts
        for name, plot in self._plot_of.items():
            series = self.session.state.history(name, since=now - SPAN_S - AHEAD_S if self.following else None)
            plot.show_data(name, series, forecasts.latest.get(name), forecasts.fitted.get(name), now)
        if self.following:
            next(iter(self.plots.values())).setXRange(now - SPAN_S, now + AHEAD_S, padding=0)

    def follow(self) -> None:
        """Scroll with the live data again."""
        self.following = True
        self.follow_button.setVisible(False)
        for plot in self.plots.values():
            plot.enableAutoRange(axis="y")
        self.refresh()

    def _paused(self, *_) -> None:
        self.following = False
        self.follow_button.setVisible(True)

    def _cursor(self, plot: TrendPlot, pos) -> None:
        """The mouse moved over ``plot``: a line at its time on every plot, and the values there."""
        if not plot.sceneBoundingRect().contains(pos):
            return
        t = plot.getViewBox().mapSceneToView(pos).x()
        for p in self.plots.values():
            p.cursor.setPos(t)
            p.cursor.setVisible(True)
        self.readout.setText(self.readout_at(t))

    def readout_at(self, t: float) -> str:
        """``"14:03:07 · DE 71.2 °C · NDE 47.9 °C"``: every signal's value at time ``t``."""
        parts = [time.strftime("%H:%M:%S", time.localtime(t))]
        for name, plot in self._plot_of.items():
            value = plot.value_at(name, t)
            if value is not None:
                parts.append(f"{name} {format_number(value)}{f' {plot.unit}' if plot.unit else ''}")
        return " · ".join(parts)

    def values_shown(self, name: str) -> np.ndarray:
        """The values the trend of ``name`` draws now."""
        values = self._plot_of[name].curves[name].yData
        return np.zeros(0) if values is None else np.asarray(values)

    def plot_of(self, name: str) -> TrendPlot:
        """The plot that draws ``name``."""
        return self._plot_of[name]


class TrendDock(QtWidgets.QWidget):
    """A trend panel for any signals: drop them here (from a signal table), *Clear* empties it."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.panel = TrendPanel()
        self.hint = QtWidgets.QLabel("Drag signals here from a signal table (or double-click one) to trend them.")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color:#888")
        self.clear_button = clear = QtWidgets.QPushButton("Clear")
        clear.clicked.connect(lambda: self.panel.set_signals(self.panel.session, []))
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.hint)
        layout.addWidget(self.panel, 1)
        layout.addWidget(clear, 0, QtCore.Qt.AlignmentFlag.AlignRight)
        self.setAcceptDrops(True)
        self.panel.changed.connect(lambda: self.hint.setVisible(not self.panel.names))

    def set_session(self, session) -> None:
        """A new twin: no trends yet."""
        self.panel.set_signals(session, [])

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasFormat(MIME):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        names = bytes(event.mimeData().data(MIME)).decode().split("\n")
        self.panel.add_signals([n for n in names if n])
        event.acceptProposedAction()

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
from viewer.qt.formatting import format_number
from viewer.twin.units import pretty_unit

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
        self._spans: dict[str, tuple[float, float]] = {}  # lowest and highest value drawn, per signal
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
        # thicker pens paint far slower in software; no clipping or thinning to the view: a history is
        # at most some 1,200 points (viewer.history), and either would rework every curve as the view scrolls
        self.curves[name] = self.plot(pen=pg.mkPen(colour, width=1), name=title)
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
        ahead = forecast is not None and forecast.ahead is not None and fitted_at is not None
        if ahead:
            self._forecasts[name].setData(fitted_at + forecast.ahead[:, 0], forecast.ahead[:, 1])
        self._forecasts[name].setVisible(ahead)  # hidden, not emptied: an item shown costs every frame
        values = [series.low, series.high, forecast.ahead[:, 1] if ahead else ()]
        self._spans[name] = (min(map(np.min, filter(len, values)), default=np.nan),
                             max(map(np.max, filter(len, values)), default=np.nan))
        crossing = forecast.next if forecast is not None else None
        self._etas[name].setText(crossing.describe() if crossing is not None else "")
        if crossing is not None:  # beside the limit, on the side the value comes from: always in view
            self._etas[name].setAnchor((1, 0) if crossing.limit.endswith("_high") else (1, 1))
            self._etas[name].setPos(now + AHEAD_S, crossing.level)

    def fit_values(self) -> None:
        """Fit the value axis to what the curves and forecasts draw (5 % spare at each end),
        unless the user zoomed it: fitted here, as pyqtgraph's automatic range would measure
        every curve again at every scroll."""
        spans = np.array([span for span in self._spans.values() if np.isfinite(span).all()]).reshape(-1, 2)
        if len(spans):
            low, high = spans[:, 0].min(), spans[:, 1].max()
            pad = 0.05 * (high - low) or 0.5
            self.setYRange(low - pad, high + pad, padding=0)

    def move_now(self, now: float) -> None:
        """Keep the line at now, and the forecasts' texts at the right edge, as time goes on."""
        self.now.setPos(now)
        for text in self._etas.values():
            if text.toPlainText():
                text.setPos(now + AHEAD_S, text.pos().y())

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
        self._drawn: dict[str, tuple] = {}  # signal -> (newest sample, forecast made) when its curve was drawn
        self._scrolled = float("-inf")  # the now the view last scrolled to
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
        self.plots, self._plot_of, self.session, self._drawn = {}, {}, session, {}
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
        """Scroll to now and draw what is new, only as far as it shows: the view scrolls
        when now has moved a pixel on, and a curve is drawn again when its newest sample
        has, or its forecast is new (a curve's path costs the most to rebuild; a scroll
        makes pyqtgraph measure every curve again)."""
        if self.session is None or not self.plots:
            return
        now = self.session.clock() if now is None else now
        first = next(iter(self.plots.values()))
        pixel_s = first.getViewBox().viewPixelSize()[0]  # seconds a pixel of the time axis spans
        if not 0 <= now - self._scrolled < pixel_s:  # time has moved a pixel on
            self._scrolled = now
            if self.following:
                first.setXRange(now - SPAN_S, now + AHEAD_S, padding=0)
            for plot in self.plots.values():
                plot.move_now(now)
        forecasts, signals = self.session.forecasts, self.session.state.signals
        redrawn = set()
        for name, plot in self._plot_of.items():
            key = (signals[name].time, forecasts.fitted.get(name))  # the newest sample; when the forecast was made
            drawn = self._drawn.get(name)
            if drawn is not None and key[1] == drawn[1] and key[0] is not None and drawn[0] is not None \
                    and 0 <= key[0] - drawn[0] < pixel_s:
                continue
            self._drawn[name] = key
            series = self.session.state.history(name, since=now - SPAN_S - 60 if self.following else None)
            plot.show_data(name, series, forecasts.latest.get(name), forecasts.fitted.get(name), now)
            redrawn.add(plot)
        for plot in redrawn if self.following else ():
            plot.fit_values()

    def follow(self) -> None:
        """Scroll with the live data again."""
        self._drawn.clear()  # drawn from the whole history while paused: drawn again from the window
        self._scrolled = float("-inf")
        self.following = True
        self.follow_button.setVisible(False)
        self.refresh()

    def _paused(self, *_) -> None:
        if self.following:
            self._drawn.clear()  # the whole history, to pan back through
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

"""Compact live trends: a signal's recent history with its min/max band, its limits as
bands, and its forecast drawn ahead of now (pyqtgraph)."""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from overlays.palette import SEVERITY_RGB
from viewer.alarm_types import Severity
from viewer.qt.formatting import pretty_unit

SPAN_S = 600.0  # seconds of history shown behind now
AHEAD_S = 300.0  # seconds shown ahead of now, where the forecast is drawn
_LINE, _BAND = "#e8e8e8", (232, 232, 232, 50)
_FAR = 1e12  # a limit band reaches this far (it never sets the view's range)


def _band_colour(severity: Severity, alpha: int) -> tuple:
    return (*SEVERITY_RGB[severity], alpha)


class TrendPlot(pg.PlotWidget):
    """One signal's trend.

    Parameters
    ----------
    title : str
        What the signal is, with its unit.
    limits : dict of str to float
        The signal's limits (``warn_high``...), drawn as bands beyond them.
    """

    def __init__(self, title: str, limits: dict[str, float], parent=None):
        super().__init__(parent, axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        self.setMinimumHeight(130)
        self.setTitle(title, size="9pt")
        self.setMenuEnabled(False)
        menu = self.getPlotItem().ctrlMenu  # pyqtgraph leaves it without a parent: it would outlive the plot
        menu.setParent(self, menu.windowFlags())
        for name, level in limits.items():  # the band beyond each limit, amber then red
            severity = Severity.ALARM if name.startswith("alarm") else Severity.WARNING
            far = _FAR if name.endswith("_high") else -_FAR
            region = pg.LinearRegionItem((level, far), orientation="horizontal", movable=False,
                                         brush=_band_colour(severity, 45), pen=pg.mkPen(SEVERITY_RGB[severity]))
            region.setZValue(-10)
            self.addItem(region, ignoreBounds=True)
        # the min-max range of each bucket as a vertical stroke: spikes kept by decimation stay
        # visible (one path of segments; a fill between two curves costs 20 times more)
        self.spread = self.plot(pen=pg.mkPen(_BAND, width=3), connect="pairs")
        self.curve = self.plot(pen=pg.mkPen(_LINE, width=1.5))
        self.curve.setClipToView(True)  # only what the view shows is drawn, peaks kept when thinned
        self.curve.setDownsampling(auto=True, method="peak")
        self.forecast = self.plot(pen=pg.mkPen("#ffd24a", width=2, style=QtCore.Qt.PenStyle.DashLine))
        self.eta = pg.TextItem(color="#ffd24a", anchor=(1, 1))
        self.addItem(self.eta, ignoreBounds=True)
        self.now = pg.InfiniteLine(angle=90, pen=pg.mkPen("#888", style=QtCore.Qt.PenStyle.DotLine))
        self.addItem(self.now, ignoreBounds=True)

    def show_data(self, series, forecast, fitted_at: float | None, now: float) -> None:
        """Draw ``series`` (a :class:`~viewer.history.Series`) and ``forecast`` (made at ``fitted_at``)."""
        self.curve.setData(series.t, series.value, skipFiniteCheck=True)  # history holds finite values only
        wide = series.high > series.low
        self.spread.setData(np.repeat(series.t[wide], 2), np.c_[series.low[wide], series.high[wide]].ravel(),
                            skipFiniteCheck=True)
        self.now.setPos(now)
        crossing = forecast.next if forecast is not None else None
        if forecast is not None and forecast.ahead is not None and fitted_at is not None:
            self.forecast.setData(fitted_at + forecast.ahead[:, 0], forecast.ahead[:, 1])
        else:
            self.forecast.setData([], [])
        if crossing is not None:
            self.eta.setText(crossing.describe())
            self.eta.setPos(now + AHEAD_S, crossing.level)
        else:
            self.eta.setText("")


class TrendPanel(QtWidgets.QWidget):
    """The trends of a set of signals, one plot each, their time axes together: they
    follow now until the user pans or zooms one, and again after *Follow now*.

    Attributes
    ----------
    plots : dict of str to TrendPlot
        Signal name -> its plot.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plots: dict[str, TrendPlot] = {}
        self.following = True
        self.follow_button = QtWidgets.QPushButton("Follow now")
        self.follow_button.setToolTip("Scroll with the live data again")
        self.follow_button.clicked.connect(self.follow)
        self.follow_button.setVisible(False)
        self._column = QtWidgets.QVBoxLayout()
        self._column.setContentsMargins(0, 0, 0, 0)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._column)
        layout.addWidget(self.follow_button, 0, QtCore.Qt.AlignmentFlag.AlignRight)
        self._session = None

    def set_signals(self, session, names: list[str]) -> None:
        """Show the trends of ``names`` (signals of ``session``'s twin)."""
        for plot in self.plots.values():
            self._column.removeWidget(plot)
            plot.close()
            plot.deleteLater()
        self.plots, self._session = {}, session
        limits = {a.signal: a.limits for a in session.twin.alarms if a.id == a.signal} if session else {}
        first = None
        for name in names:
            signal = session.twin.signals[name]
            unit = pretty_unit(signal.unit)
            plot = TrendPlot(f"{signal.spec.description or name}{f' ({unit})' if unit else ''}", limits.get(name, {}))
            if first is None:
                first = plot
            else:
                plot.setXLink(first)  # one time axis
            plot.getViewBox().sigRangeChangedManually.connect(self._paused)
            plot.hideAxis("bottom")  # one time axis, under the last plot: each costs a repaint
            self.plots[name] = plot
            self._column.addWidget(plot)
        if self.plots:
            plot.showAxis("bottom")
        self.follow()

    def refresh(self, now: float | None = None) -> None:
        """Draw the latest history and forecasts (a few times a second)."""
        if self._session is None or not self.plots:
            return
        now = time.time() if now is None else now
        forecasts = self._session.forecasts
        for name, plot in self.plots.items():
            series = self._session.state.history(name, since=now - SPAN_S - AHEAD_S if self.following else None)
            plot.show_data(series, forecasts.latest.get(name), forecasts.fitted.get(name), now)
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

    def values_shown(self, name: str) -> np.ndarray:
        """The values the trend of ``name`` draws now."""
        values = self.plots[name].curve.yData
        return np.zeros(0) if values is None else np.asarray(values)

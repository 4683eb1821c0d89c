"""The main window's size and dock layout: fitted to its screen, remembered between runs."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

SIZE = (1400, 880)  # the window's size on a screen with room for it
SCREEN_SHARE = 0.85  # ... else this share of the screen's available area


def fit_to_screen(window: QtWidgets.QMainWindow, available: QtCore.QRect | None = None) -> None:
    """Size ``window`` to the screen it opens on: :data:`SIZE` where there is room, else
    :data:`SCREEN_SHARE` of the screen's available area; centred on it.

    Parameters
    ----------
    window : QMainWindow
        The window.
    available : QRect, optional
        The screen's area free of panels and docks (default: that of the screen the
        window is on).
    """
    if available is None:
        available = (window.screen() or QtGui.QGuiApplication.primaryScreen()).availableGeometry()
    width = min(SIZE[0], int(available.width() * SCREEN_SHARE))
    height = min(SIZE[1], int(available.height() * SCREEN_SHARE))
    window.resize(width, height)
    window.move(available.center() - QtCore.QPoint(width // 2, height // 2))


def restore(window: QtWidgets.QMainWindow, settings: QtCore.QSettings, header: QtWidgets.QHeaderView,
            side_docks, bottom_dock) -> None:
    """The window's size, docks, toolbars and the alarm list's columns (``header``) as
    the user left them (if they fit); on a first start the 3D view gets about half the
    width (``side_docks``: left, right) and three quarters of the height (``bottom_dock``)."""
    geometry = settings.value("window/geometry")
    if geometry is not None:
        window.restoreGeometry(geometry)
        screen = (window.screen() or QtGui.QGuiApplication.primaryScreen()).availableGeometry()
        if window.width() > screen.width() or window.height() > screen.height():
            fit_to_screen(window, screen)  # saved on a larger screen
    state = settings.value("window/state")
    if state is None or not window.restoreState(state):
        width, height = window.width(), window.height()
        window.resizeDocks(list(side_docks), [int(width * 0.18), int(width * 0.3)], QtCore.Qt.Orientation.Horizontal)
        window.resizeDocks([bottom_dock], [int(height * 0.25)], QtCore.Qt.Orientation.Vertical)
    saved = settings.value("alarms/header")
    if saved is not None:
        header.restoreState(saved)


def save(window: QtWidgets.QMainWindow, settings: QtCore.QSettings, header: QtWidgets.QHeaderView) -> None:
    """Remember what :func:`restore` restores."""
    settings.setValue("window/geometry", window.saveGeometry())
    settings.setValue("window/state", window.saveState())
    settings.setValue("alarms/header", header.saveState())
    settings.sync()

"""Small pieces of the main window: the broker password dialog, the window as an image."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets


def ask_password(parent, url: str, username: str, passwords: dict) -> str | None:
    """The password of ``username`` on the broker at ``url``: asked once, then taken from
    ``passwords`` (kept in memory only, never logged or written); None if not given."""
    key = (url, username)
    if key not in passwords:
        text, ok = QtWidgets.QInputDialog.getText(
            parent, "Broker login", f"Password of {username} on {url}:", QtWidgets.QLineEdit.EchoMode.Password)
        if not ok or not text:
            return None  # asked again next time, not remembered as empty
        passwords[key] = text
    return passwords[key]


def window_image(window, plotter) -> QtGui.QImage:
    """``window`` as shown, with the 3D view of ``plotter`` drawn in (a grab alone leaves it blank)."""
    image = window.grab().toImage()
    view = plotter.screenshot(return_img=True)
    h, w, _ = view.shape
    qview = QtGui.QImage(np.ascontiguousarray(view).data, w, h, 3 * w, QtGui.QImage.Format.Format_RGB888)
    painter = QtGui.QPainter(image)
    widget = plotter.interactor
    painter.drawImage(QtCore.QRect(widget.mapTo(window, QtCore.QPoint(0, 0)), widget.size()), qview)
    painter.end()
    return image

"""Small dialogs of the main window."""

from __future__ import annotations

from PySide6 import QtWidgets


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

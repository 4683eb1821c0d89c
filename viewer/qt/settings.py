"""Where the window keeps what the user chose (layers, dock layout, window size)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6 import QtCore

ORGANISATION = "TwinView"
APPLICATION = "TwinView"
#: A folder for the settings file instead of the user's (tests, kiosks, a second profile).
SETTINGS_ENV = "TWINVIEW_SETTINGS"


def settings() -> QtCore.QSettings:
    """The user's settings: an INI file under the user's config folder
    (``~/.config/TwinView/TwinView.ini``), or in ``$TWINVIEW_SETTINGS`` when set."""
    folder = os.environ.get(SETTINGS_ENV)
    if folder:
        return QtCore.QSettings(str(Path(folder) / f"{APPLICATION}.ini"), QtCore.QSettings.Format.IniFormat)
    return QtCore.QSettings(QtCore.QSettings.Format.IniFormat, QtCore.QSettings.Scope.UserScope,
                            ORGANISATION, APPLICATION)


def flag(store: QtCore.QSettings, key: str, default: bool) -> bool:
    """A yes/no setting (INI files give strings back)."""
    value = store.value(key, default)
    return value if isinstance(value, bool) else str(value).lower() in ("true", "1", "yes")

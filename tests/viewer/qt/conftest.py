"""Qt tests keep their settings in the test's folder, never the developer's."""

import pytest

from viewer.qt.settings import SETTINGS_ENV


@pytest.fixture(autouse=True)
def own_settings(tmp_path, monkeypatch):
    """Layers, dock layout and window size are read from and written to a file of the
    test (children such as ``twinview demo`` inherit it)."""
    folder = tmp_path / "settings"
    folder.mkdir()
    monkeypatch.setenv(SETTINGS_ENV, str(folder))
    return folder

"""Opening a large model in the window: a coarse preview first, the twin as it was after
a cancel or a failure, its alarms going on meanwhile; a real broker, real meshes."""

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from tests.conftest import make_test_machine
from tests.viewer.qt.test_window import _view, window  # noqa: F401 (a fixture)

@pytest.fixture
def held_preparation(monkeypatch):
    """Every model is large enough for a preview, and its full detail waits for ``release``."""
    import threading

    import viewer.qt.loading

    release = threading.Event()
    prepare = viewer.qt.loading.prepare_geometry
    monkeypatch.setattr(viewer.qt.loading, "PREVIEW_ABOVE", 0)
    monkeypatch.setattr(viewer.qt.loading, "prepare_geometry", lambda twin: (release.wait(30), prepare(twin)))
    yield release
    release.set()


def _green(image) -> int:
    """Pixels of the rig's arm green (40, 160, 60) or brighter or darker."""
    rgb = image[..., :3].astype(int)
    return int(np.count_nonzero((rgb[..., 1] > 1.6 * rgb[..., 0]) & (rgb[..., 1] > 1.6 * rgb[..., 2])))


def test_a_large_model_shows_a_coarse_preview_until_its_full_detail_replaces_it(window, tmp_path, qtbot,
                                                                               held_preparation):
    (tmp_path / "other").mkdir()
    rig = make_test_machine(tmp_path / "other")
    window.session.scene.parts.set_colour("arm", (255, 0, 255))  # the twin shown: a magenta arm
    window.session.scene.parts.flush()
    window.plotter.render()
    assert _green(_view(window)) == 0
    with qtbot.waitSignal(window.loader.preview, timeout=30000):
        window.open_path(rig)
    preview = _view(window)
    assert window.statusBar().currentMessage().startswith("Preview:")
    assert _green(preview) > 50  # the new model's green arm, from its file
    assert not np.any(np.all(np.abs(preview[..., :3].astype(int) - (255, 0, 255)) < 60, axis=-1))  # old twin hidden
    with qtbot.waitSignal(window.loader.loaded, timeout=30000):
        held_preparation.set()
    assert window.windowTitle().startswith("rig.glb") and window._preview is None
    assert window.statusBar().currentMessage() == ""


def test_cancelling_during_the_preview_brings_back_the_twin_as_it_was(window, tmp_path, qtbot, held_preparation):
    (tmp_path / "other").mkdir()
    window.plotter.render()
    before = _view(window).astype(int)
    old, position = window.session, window.plotter.camera.position
    with qtbot.waitSignal(window.loader.preview, timeout=30000):
        window.open_path(make_test_machine(tmp_path / "other"))
    assert np.abs(_view(window).astype(int) - before).mean() > 1
    with qtbot.waitSignal(window.loader.finished, timeout=10000):
        window.loader.cancel()
        held_preparation.set()
    assert window.session is old and window._preview is None
    assert window.plotter.camera.position == position
    window.plotter.render()
    assert np.abs(_view(window).astype(int) - before).mean() < 1


def test_behind_a_preview_the_twins_alarms_go_on_and_its_selection_waits(qtbot, tmp_path, mosquitto, publisher,
                                                                       held_preparation):
    from tests.viewer.qt.test_alarm_list import TWIN, open_window

    make_test_machine(tmp_path)
    (tmp_path / "alarms.twin.yaml").write_text(TWIN)
    win = open_window(qtbot, tmp_path / "alarms.twin.yaml", mosquitto)
    try:
        win.select("bearing")
        (tmp_path / "other").mkdir()
        with qtbot.waitSignal(win.loader.preview, timeout=30000):
            win.open_path(make_test_machine(tmp_path / "other"))
        assert win.session.scene.parts.selection.name is None  # no outline over the preview
        assert not any(a.isEnabled() for a in win.layer_actions.values())
        publisher.send("rig/bearing", {"temperature": 99})
        qtbot.waitUntil(lambda: [r["id"] for r in win.alarm_list.rows()] == ["temp"], timeout=5000)  # listed now
        assert "bearing" not in win.session.scene.alarm_looks  # not drawn behind the preview...
        with qtbot.waitSignal(win.loader.finished, timeout=10000):
            [cancel] = win.loader.dialog.findChildren(QtWidgets.QPushButton)
            win.loader.dialog.show()
            qtbot.mouseClick(cancel, QtCore.Qt.MouseButton.LeftButton)
            assert win._preview is None  # at once, before the load has stopped
            held_preparation.set()
        assert win.session.scene.parts.selection.name == "bearing"
        qtbot.waitUntil(lambda: "bearing" in win.session.scene.alarm_looks, timeout=3000)  # ...caught up after
    finally:
        win.close()


def test_a_load_that_fails_after_its_preview_shows_the_twin_before_saying_why(window, tmp_path, qtbot, monkeypatch):
    import viewer.qt.loading
    from meshes import MeshImportError

    monkeypatch.setattr(viewer.qt.loading, "PREVIEW_ABOVE", 0)

    def broken(twin):
        raise MeshImportError("rig.glb: broken on purpose")

    monkeypatch.setattr(viewer.qt.loading, "prepare_geometry", broken)
    shown = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "warning",
                        lambda parent, title, text: shown.append((title, text, window._preview is None)))
    (tmp_path / "other").mkdir()
    with qtbot.waitSignal(window.loader.finished, timeout=30000):
        window.open_path(make_test_machine(tmp_path / "other"))
    assert shown == [("Cannot open mesh", "rig.glb: broken on purpose", True)]

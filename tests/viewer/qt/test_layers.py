"""Layer toggles hide what they say on screen and are remembered; the window fits its
screen, keeps its layout, and the connection banner never squeezes the docks."""

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from tests.pixels import colour_at, pixel_of, same_hue
from tests.viewer.qt.test_alarm_list import alarm_twin, open_window  # noqa: F401 (a fixture)
from overlays.colormap import ColourRule

BEARING = (-0.36, -0.15, 0.44)  # on the bearing's front, clear of the badge's leader


@pytest.fixture
def window(qtbot, alarm_twin, mosquitto, publisher):  # noqa: F811
    win = open_window(qtbot, alarm_twin, mosquitto)
    win.session.scene.view("front")
    publisher.send("rig/bearing", {"temperature": 99})  # hot, an alarm: colour, label, badge, legend caret
    qtbot.waitUntil(lambda: win.session.scene.badges is not None, timeout=5000)
    win.session.acknowledge()  # a steady badge: no blinking halo between two frames
    qtbot.waitUntil(lambda: win.session.scene.alarm_looks.get("bearing", (0, False))[1], timeout=3000)
    yield win
    win.close()


def _view(win):
    win.plotter.render()
    return win.plotter.screenshot(return_img=True).astype(int)


def _box_rows_cols(box, height):
    """Screen box ``x0, y0, x1, y1`` (origin bottom left) as image slices."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    return slice(max(height - y1, 0), height - y0), slice(max(x0, 0), x1)


def _changed(before, after, rows=slice(None), cols=slice(None)) -> float:
    """Share of pixels in a region that changed visibly."""
    diff = np.abs(before[rows, cols] - after[rows, cols]).max(axis=2)
    return float((diff > 30).mean()) if diff.size else 0.0


def _where(win, layer):
    """Where ``layer`` draws in the view: a screen box."""
    scene = win.session.scene
    if layer == "labels":
        return scene.label_layer.boxes[0]
    if layer == "legends":
        return scene.legends.boxes[0]
    x, y = scene.badges.centres[0]
    return (x - 10, y - 10, x + 10, y + 10)


@pytest.mark.parametrize("layer", ["labels", "badges", "legends"])
def test_hiding_a_layer_takes_it_off_the_screen_and_showing_it_brings_it_back(window, layer):
    before = _view(window)
    rows, cols = _box_rows_cols(_where(window, layer), before.shape[0])
    window.layer_actions[layer].trigger()  # the menu item / toolbar button
    assert not window.layer_actions[layer].isChecked()
    hidden = _view(window)
    assert _changed(before, hidden, rows, cols) > 0.05  # text and icons: a good share of the box
    window.layer_actions[layer].trigger()
    assert _changed(before, _view(window), rows, cols) < 0.01


def test_hiding_data_colours_draws_the_bound_part_as_if_unbound(window):
    at = pixel_of(window.plotter, BEARING)
    hot = ColourRule("inferno", 20, 100).rgb(99)
    assert same_hue(colour_at(_view(window), at), hot)
    window.layer_actions["colours"].trigger()
    shown = colour_at(_view(window), at)
    assert not same_hue(shown, hot)
    assert np.ptp(shown) < 12  # the condition view's neutral grey (with the alarm's tint withheld)
    window.layer_actions["colours"].trigger()
    assert same_hue(colour_at(_view(window), at), hot)


def test_layer_choices_persist_into_the_next_window(window, qtbot, alarm_twin, mosquitto, own_settings):  # noqa: F811
    window.layer_actions["labels"].trigger()
    window.layer_actions["condition"].trigger()
    window.close()
    assert (own_settings / "TwinView.ini").exists()  # the test's own settings, not the developer's
    again = open_window(qtbot, alarm_twin, mosquitto)
    try:
        assert not again.layer_actions["labels"].isChecked()
        assert not again.session.scene.layer_visible("labels")
        assert not again.session.scene.label_layer.actor.GetVisibility()
        assert not again.session.scene.condition_view
        assert again.layer_actions["badges"].isChecked() and again.session.scene.layer_visible("badges")
    finally:
        again.close()


def test_the_window_fits_a_1280x720_screen(window):
    window.fit_to_screen(QtCore.QRect(0, 0, 1280, 720))
    assert (window.width(), window.height()) == (int(1280 * 0.85), int(720 * 0.85))
    window.fit_to_screen(QtCore.QRect(0, 0, 2560, 1440))
    assert (window.width(), window.height()) == (1400, 880)  # capped on a large screen
    screen = window.screen().availableGeometry()  # the test's own screen
    window.fit_to_screen()
    assert window.width() <= screen.width() and window.height() <= screen.height()


def test_size_and_dock_layout_persist_into_the_next_window(window, qtbot, alarm_twin, mosquitto):  # noqa: F811
    window.resize(720, 540)
    window.alarm_dock.hide()
    qtbot.waitUntil(lambda: window.width() == 720)
    window.close()
    again = open_window(qtbot, alarm_twin, mosquitto)
    try:
        assert (again.width(), again.height()) == (720, 540)
        assert not again.alarm_dock.isVisible()
    finally:
        again.close()


def test_a_long_banner_never_squeezes_the_docks(window, qtbot):
    docks = window.findChildren(QtWidgets.QDockWidget)
    widths = {d.objectName(): d.width() for d in docks if d.isVisible()}
    window.banner.setText("No connection to the broker, retrying. " * 40)
    window.banner.show()
    qtbot.wait(50)
    QtWidgets.QApplication.processEvents()
    assert {d.objectName(): d.width() for d in docks if d.isVisible()} == widths
    assert window.banner.width() <= window.centralWidget().width()


def test_signal_and_topic_names_stay_in_view_elided_in_the_middle_with_tooltips(window):
    names = window.signals.verticalHeader()  # row headers: they do not scroll sideways
    assert names.textElideMode() == QtCore.Qt.TextElideMode.ElideMiddle
    first = window.signals.verticalHeaderItem(0)
    assert first.text() == "temp" and "rig/bearing" in first.toolTip()
    assert window.signals.horizontalHeader().sectionResizeMode(0) == QtWidgets.QHeaderView.ResizeMode.Interactive
    tree = window.topics.tree
    assert tree.textElideMode() == QtCore.Qt.TextElideMode.ElideMiddle
    assert tree.header().visualIndex(1) == len(window.topics.COLUMNS) - 1  # the payload last, taking the rest
    assert tree.horizontalScrollBarPolicy() == QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff

"""What the trends expect, in the window fed by a real broker: the alarm list's Upcoming
section and the label of the part."""

import re
import time

import numpy as np
import pytest

from tests.conftest import make_test_machine
from tests.viewer.qt.test_alarm_list import TWIN, open_window


@pytest.fixture
def window(qtbot, tmp_path, mosquitto):
    make_test_machine(tmp_path)
    twin = tmp_path / "drift.twin.yaml"  # the sample's time in the payload: a history arrives in seconds
    twin.write_text(TWIN.replace("    field: temperature\n", "    field: temperature\n    time_field: t\n"))
    win = open_window(qtbot, twin, mosquitto)
    yield win
    win.close()


def _publish_drift(publisher):
    """20 minutes of a bearing warming 0.5 °C/min, 70 °C now: warning (85) in 30 min, alarm (95) in 50."""
    now, noise = time.time(), np.random.default_rng(4).normal(0, 0.2, 41)
    for i, ago in enumerate(range(1200, -1, -30)):
        publisher.send("rig/bearing", {"temperature": 70 - 0.5 * ago / 60 + noise[i], "t": now - ago})
        time.sleep(0.04)  # each is taken (a newer payload of a topic replaces one not yet read)


def _row(win, r):
    return [win.upcoming.item(r, c).text() for c in range(win.upcoming.columnCount())]


def test_the_upcoming_section_lists_the_limits_a_trend_will_reach_soonest_first(window, publisher, qtbot):
    assert window.upcoming.rowCount() == 0
    _publish_drift(publisher)
    qtbot.waitUntil(lambda: window.upcoming.rowCount() == 2, timeout=15000)
    warning, alarm = _row(window, 0), _row(window, 1)
    assert warning[0].startswith("warning in ~") and alarm[0].startswith("alarm in ~")
    assert 27 <= float(warning[0].split("~")[1].split()[0]) <= 33  # minutes
    assert 45 <= float(alarm[0].split("~")[1].split()[0]) <= 55
    assert warning[1:3] == ["bearing", "Bearing temperature"] and 69 < float(warning[3].split()[0]) < 71
    assert warning[4:] == ["▲ 85.0 °C", "↑0.5 °C/min, linear"] and alarm[4] == "▲ 95.0 °C"  # as the alarm list writes limits
    with qtbot.waitSignal(window.upcoming.part_activated) as clicked:
        window.upcoming.cellClicked.emit(1, 0)
    assert clicked.args == ["bearing"]


def test_the_parts_label_shows_its_rate_and_the_limit_it_will_reach(window, publisher, qtbot):
    _publish_drift(publisher)
    qtbot.waitUntil(lambda: "warning in ~" in window.session.scene.label_texts()[0], timeout=15000)
    text = window.session.scene.label_texts()[0]
    assert re.search(r"↑0\.5 °C/min · warning in ~\d+ min$", text), text  # the range is in the lists
    minutes = int(re.search(r"~(\d+) min", text).group(1))
    window.session.forecasts.fitted["temp"] -= 600  # ten minutes on, before the next fit
    scene = window.session.scene
    scene.sync(window.session.state.values(), {"temp"}, dt=1.0, force=True)
    assert f"warning in ~{minutes - 10} min" in scene.label_texts()[0] or \
        f"warning in ~{minutes - 11} min" in scene.label_texts()[0], scene.label_texts()[0]  # it counts down


def test_selecting_a_part_shows_the_trend_of_its_signals_with_limits_and_forecast(window, publisher, qtbot):
    window.select("bearing")
    trends = window.details.trends
    assert trends.names == ["temp"] and list(trends.plots) == ["°C"]
    plot = trends.plot_of("temp")
    qtbot.waitUntil(plot.isVisible, timeout=5000)
    before = plot.grab().toImage()
    _publish_drift(publisher)
    qtbot.waitUntil(lambda: len(trends.values_shown("temp")) >= 20, timeout=10000)
    assert trends.values_shown("temp").max() == pytest.approx(70, abs=1)  # the values published, up to now
    qtbot.waitUntil(lambda: plot.eta("temp").startswith("warning in ~"), timeout=15000)
    ahead, _ = plot.forecast_drawn("temp")
    assert ahead.min() == pytest.approx(time.time(), abs=10) and ahead.max() > time.time() + 1500  # drawn ahead
    levels = sorted(item.getRegion()[0] for item in plot.items() if type(item).__name__ == "LinearRegionItem")
    assert levels == [85, 95]  # the limits, as bands
    after = plot.grab().toImage()
    assert after != before  # pixels of the trend changed as values arrived
    then = time.time() - 300
    assert re.fullmatch(r"\d\d:\d\d:\d\d · temp 6[78]\.\d+ °C", trends.readout_at(then)), trends.readout_at(then)

    plot.getViewBox().sigRangeChangedManually.emit([True, False])  # the user pans
    assert not trends.following and trends.follow_button.isVisibleTo(trends)
    trends.follow_button.click()
    assert trends.following


def test_signals_dropped_or_double_clicked_onto_the_trends_dock_share_a_plot_per_unit(window, publisher, qtbot):
    from PySide6 import QtCore, QtGui

    from viewer.qt.trends import MIME

    table = window.signals
    table.selectRow(table.names.index("temp"))
    data = table.mimeData([table.item(table.names.index("temp"), 0)])  # what a drag of the row carries
    assert bytes(data.data(MIME)).decode() == "temp"
    drop = QtGui.QDropEvent(QtCore.QPointF(10, 10), QtCore.Qt.DropAction.CopyAction, data,
                            QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.KeyboardModifier.NoModifier)
    window.trends.dropEvent(drop)
    table.trend_requested.emit(["angle"])  # a double-click
    panel = window.trends.panel
    assert panel.names == ["temp", "angle"] and list(panel.plots) == ["°C", "deg"]
    assert window.trends_dock.isVisible()
    _publish_drift(publisher)
    publisher.send("rig/arm/angle", "12")
    qtbot.waitUntil(lambda: len(panel.values_shown("temp")) >= 20 and len(panel.values_shown("angle")) == 1,
                    timeout=10000)
    window.trends.clear_button.click()
    assert panel.plots == {} and window.trends.hint.isVisibleTo(window.trends)

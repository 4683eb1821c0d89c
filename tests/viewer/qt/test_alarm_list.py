"""The alarm list, the status bar's alarm counts, and flying to a part in alarm, on a real
window fed by a real broker."""

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from tests.conftest import make_test_machine
from viewer.alarm_types import AlarmState
from viewer.qt.alarm_list import ShelveDialog
from viewer.qt.window import MainWindow
from viewer.twin.loader import load_twin

TWIN = """\
twin: Alarm rig
broker: mqtt://127.0.0.1:1
parts:
  - {name: rig, mesh: rig.glb}
  - {name: arm, axis: [0, 1, 0]}
signals:
  temp:
    topic: rig/bearing
    field: temperature
    unit: degC
    description: Bearing temperature
    limits: {warn_high: 85, alarm_high: 95, deadband: 2}
  state:
    topic: rig/state
    map: {STOPPED: 0, RUNNING: 1, FAULT: 2}
    limits: {alarm_when: FAULT, warn_when: [STOPPED]}
  angle: {topic: rig/arm/angle, unit: deg, limits: {warn_high: 30}}
bindings:
  - {colour: bearing, signal: temp, cmap: inferno, range: [20, 100]}
  - {label: bearing, text: "T {temp:.1f} °C"}
  - {label: base, text: "{state}"}
  - {rotate: arm, signal: angle}
  - {label: tip, text: "{angle:.0f}°"}
"""


@pytest.fixture
def alarm_twin(tmp_path):
    make_test_machine(tmp_path)
    path = tmp_path / "alarms.twin.yaml"
    path.write_text(TWIN)
    return path


def open_window(qtbot, twin_path, url):
    win = MainWindow(load_twin(twin_path), broker_url=url)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: win.session.status.state == "live", timeout=10000)
    return win


@pytest.fixture
def window(qtbot, alarm_twin, mosquitto):
    win = open_window(qtbot, alarm_twin, mosquitto)
    yield win
    win.close()


def _ids(win):
    return [row["id"] for row in win.alarm_list.rows()]


def test_a_value_over_its_limit_adds_a_row_with_value_limit_and_state(window, publisher, qtbot):
    assert window.alarm_list.rows() == []
    publisher.send("rig/bearing", {"temperature": 97.25})
    qtbot.waitUntil(lambda: _ids(window) == ["temp"], timeout=5000)
    row = window.alarm_list.rows()[0]
    assert row["Severity"] == "Alarm"
    assert row["Part"] == "bearing"
    assert row["Signal"] == "Bearing temperature"
    assert row["Value"] == "97.2 °C"  # the label's precision and the unit as people write it
    assert row["Limit"] == "▲ 95.0 °C"
    assert row["State"] == "active unacknowledged"
    assert row["Duration"].endswith(" s") and row["Raised"].count(":") == 2


def test_rows_are_sorted_by_severity_then_newest_first(window, publisher, qtbot):
    publisher.send("rig/arm/angle", "40")  # a warning
    qtbot.waitUntil(lambda: _ids(window) == ["angle"], timeout=5000)
    publisher.send("rig/state", "STOPPED")  # a warning, newer
    qtbot.waitUntil(lambda: len(_ids(window)) == 2, timeout=5000)
    publisher.send("rig/bearing", {"temperature": 99})  # an alarm, newest
    qtbot.waitUntil(lambda: len(_ids(window)) == 3, timeout=5000)
    assert _ids(window) == ["temp", "state", "angle"]
    assert [r["Severity"] for r in window.alarm_list.rows()] == ["Alarm", "Warning", "Warning"]
    assert window.alarm_list.rows()[1]["Limit"] == "= STOPPED"


def test_acknowledging_a_row_changes_its_state_and_the_returned_alarm_leaves(window, publisher, qtbot):
    publisher.send("rig/bearing", {"temperature": 99})
    qtbot.waitUntil(lambda: _ids(window) == ["temp"], timeout=5000)
    window.alarm_list.table.selectRow(0)
    assert window.alarm_list.ack_button.isEnabled()
    qtbot.mouseClick(window.alarm_list.ack_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.alarm_list.rows()[0]["State"] == "active acknowledged", timeout=3000)
    assert window.session.alarms.book.get("temp").acked_by
    publisher.send("rig/bearing", {"temperature": 50})  # acknowledged and back: normal, off the list
    qtbot.waitUntil(lambda: _ids(window) == [], timeout=5000)


def test_filters_and_search_narrow_the_rows_and_acknowledge_all_takes_only_those(window, publisher, qtbot):
    publisher.send("rig/arm/angle", "40")
    publisher.send("rig/bearing", {"temperature": 99})
    qtbot.waitUntil(lambda: len(_ids(window)) == 2, timeout=5000)
    window.alarm_list.severity_buttons[next(s for s in window.alarm_list.severity_buttons if s.name == "ALARM")]\
        .setChecked(False)
    assert _ids(window) == ["angle"]
    window.alarm_list.severity_buttons[next(s for s in window.alarm_list.severity_buttons if s.name == "ALARM")]\
        .setChecked(True)
    window.alarm_list.search.setText("bearing")
    assert _ids(window) == ["temp"]
    qtbot.mouseClick(window.alarm_list.ack_all_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.alarms.book.get("temp").state == AlarmState.ACTIVE_ACKED, timeout=3000)
    assert window.session.alarms.book.get("angle").state == AlarmState.ACTIVE_UNACKED  # not shown: untouched
    window.alarm_list.search.clear()
    window.alarm_list.state_box.setCurrentText("Unacknowledged")
    qtbot.waitUntil(lambda: _ids(window) == ["angle"], timeout=3000)


def test_shelving_hides_a_row_until_unshelved(window, publisher, qtbot, monkeypatch):
    publisher.send("rig/bearing", {"temperature": 99})
    qtbot.waitUntil(lambda: _ids(window) == ["temp"], timeout=5000)
    window.alarm_list.table.selectRow(0)
    # The dialog is the one thing a test cannot click: answer it as a technician would.
    monkeypatch.setattr(ShelveDialog, "ask", classmethod(lambda cls, names, parent=None: (600.0, "sensor swap")))
    qtbot.mouseClick(window.alarm_list.shelve_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _ids(window) == [], timeout=3000)
    assert window.alarm_counts()["alarm"] == "0 alarms"  # a shelved alarm is not counted
    window.alarm_list.state_box.setCurrentText("Shelved")
    assert _ids(window) == ["temp"]
    assert window.alarm_list.rows()[0]["State"].startswith("shelved until")
    window.alarm_list.table.selectRow(0)
    qtbot.mouseClick(window.alarm_list.unshelve_button, QtCore.Qt.MouseButton.LeftButton)
    window.alarm_list.state_box.setCurrentText("Active or unacknowledged")
    qtbot.waitUntil(lambda: _ids(window) == ["temp"], timeout=3000)


def test_the_shelve_dialog_needs_a_reason(qtbot):
    dialog = ShelveDialog(["temp"])
    qtbot.addWidget(dialog)
    assert not dialog.ok.isEnabled()
    dialog.reason.setText("maintenance")
    assert dialog.ok.isEnabled()
    assert dialog.duration.currentData() == 1800


def test_clicking_a_row_selects_the_part_and_flies_the_camera_to_it(window, publisher, qtbot):
    window.reset_view()
    publisher.send("rig/arm/angle", "40")
    qtbot.waitUntil(lambda: _ids(window) == ["angle"], timeout=5000)
    start = np.array(window.plotter.camera.focal_point)
    table = window.alarm_list.table
    rect = table.visualRect(table.model().index(0, 2))
    qtbot.mouseClick(table.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.selected == "arm"
    assert window.flying()
    qtbot.waitUntil(lambda: not np.allclose(window.plotter.camera.focal_point, start), timeout=3000)
    midway, still_flying = np.array(window.plotter.camera.focal_point), window.flying()
    qtbot.waitUntil(lambda: not window.flying(), timeout=3000)
    end = np.array(window.plotter.camera.focal_point)
    assert still_flying and not np.allclose(midway, end)  # smooth: it passed in between, however slow the frames
    lo, hi = window.session.scene.parts.bounds("arm")
    assert np.all(end >= lo - 1e-6) and np.all(end <= hi + 1e-6)
    distance = window.plotter.camera.distance
    window.fit_selected()  # framed as Fit to part frames it
    assert np.isclose(window.plotter.camera.distance, distance)
    assert window.details.title.text() == "arm"


def test_the_status_bar_counts_active_alarms_per_severity_and_opens_the_list(window, publisher, qtbot):
    counts = window.alarm_counts()
    assert counts == {"alarm": "0 alarms", "warning": "0 warnings", "info": "0 info"}
    publisher.send("rig/arm/angle", "40")
    publisher.send("rig/state", "STOPPED")
    publisher.send("rig/bearing", {"temperature": 99})
    qtbot.waitUntil(lambda: window.alarm_counts() == {"alarm": "1 alarm", "warning": "2 warnings",
                                                      "info": "0 info"}, timeout=5000)
    window.alarm_dock.hide()
    qtbot.mouseClick(next(iter(window.status_bar.severity_counts.values())), QtCore.Qt.MouseButton.LeftButton)
    assert window.alarm_dock.isVisible()


def test_with_nothing_selected_the_panel_sums_up_the_twin(window, publisher, qtbot):
    publisher.send("rig/bearing", {"temperature": 99})
    qtbot.waitUntil(lambda: "1 alarm" in window.details.summary.text(), timeout=5000)
    text = window.details.summary.text()
    assert "live" in text and "Bearing temperature: 99.0 °C on bearing" in text
    assert "state: no data" in text  # a signal with a problem is named
    assert window.details.summary.isVisible() and not window.details.table.isVisible()
    window.select("bearing")
    assert not window.details.summary.isVisible()
    qtbot.waitUntil(lambda: "“T 99.0 °C ▲95”" in window.details.bindings_label.text()
                    or "“T 99.0 °C" in window.details.bindings_label.text(), timeout=3000)
    assert "{temp" not in window.details.bindings_label.text()  # never the raw template
    assert window.details.values() == {"temp": "99.0"}

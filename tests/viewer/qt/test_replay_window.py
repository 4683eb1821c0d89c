"""A recording played in the window: the same scene, alarms and panels as live data,
on the recording's clock, with the replay bar to pause it and change its speed."""

import time

import pytest

from overlays.colormap import ColourRule
from tests.conftest import make_test_machine
from viewer.live.ingest import Ingest
from viewer.live.recorder import Recorder
from viewer.live.replay import ReplaySource
from viewer.qt.window import MainWindow
from viewer.twin.loader import load_twin

TWIN = """\
twin: Replayed rig
broker: mqtt://127.0.0.1:1
parts:
  - {name: rig, mesh: rig.glb}
signals:
  temp: {topic: rig/bearing, field: temperature, unit: °C, limits: {warn_high: 80, alarm_high: 95}}
bindings:
  - {colour: bearing, signal: temp, cmap: inferno, range: [20, 100]}
  - {label: bearing, text: "T {temp:.1f} °C"}
"""


def test_a_recording_plays_through_the_window_as_live_data_would(qtbot, tmp_path):
    make_test_machine(tmp_path)
    (tmp_path / "rig.twin.yaml").write_text(TWIN)
    twin = load_twin(tmp_path / "rig.twin.yaml")
    t0 = time.time() - 86_400  # last night
    recorder = Recorder(tmp_path / "night.mcap", "mqtt://plant:1883", Ingest(twin.signals).subscriptions, twin.path)
    for i in range(40):  # a bearing heating from 40 to 99 °C over 40 s
        recorder.add([("rig/bearing", b'{"temperature": %.1f}' % (40 + i * 1.5), False)], t0 + i)
    recorder.stop()

    source = ReplaySource(tmp_path / "night.mcap", speed=10.0)
    win = MainWindow(twin, source=source)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    try:
        bar = win.replay_bar
        assert bar.isVisible() and win.session.clock == source.now
        qtbot.waitUntil(lambda: win.session.state.values()["temp"] is not None, timeout=5000)
        bar.toggle()  # pause
        assert source.paused and bar.play_button.text() == "▶ Play"
        qtbot.waitUntil(lambda: source.pending() == 0)  # what was released before the pause, taken
        qtbot.wait(50)
        held = win.session.state.values()["temp"]
        qtbot.wait(300)
        assert win.session.state.values()["temp"] == held  # nothing arrives while paused
        assert "into the recording, paused" in bar.where.text()
        assert bar.where.text().startswith(time.strftime("%Y-%m-%d", time.localtime(source.now())))
        bar.speed.setCurrentIndex(bar.speed.findText("20x"))
        assert source.speed == 20.0
        bar.toggle()
        qtbot.waitUntil(lambda: source.ended and win.session.state.values()["temp"] == 98.5, timeout=8000)
        qtbot.waitUntil(lambda: [r["State"] for r in win.alarm_list.rows()] == ["active unacknowledged"],
                        timeout=5000)
        # raised when the warning limit was crossed last night (at 27 s), as the recording's clock says:
        # the frame that sees it comes within a frame's time (times the speed) of it
        assert win.alarm_list.rows()[0]["Raised"] in {time.strftime("%H:%M:%S", time.localtime(t0 + s))
                                                      for s in (27, 28)}, win.alarm_list.rows()
        assert win.session.state.qualities(source.now())["temp"] == "live"  # a day old, but live then
        assert str(win.session.status).startswith("replay · recording night.mcap")
        qtbot.waitUntil(lambda: win.session.scene.label_texts()[0].startswith("T 98.5 °C ▲95"), timeout=3000)
        assert win.session.scene.parts.colour_of("bearing").tolist() == ColourRule("inferno", 20, 100).rgb(98.5).tolist()
        bar.refresh()
        assert bar.timeline.value() == 1000  # at the end of the timeline

        bar.timeline.setValue(250)  # dragged back to a quarter: 40 °C + 1.5 °C a second for 9.75 s
        bar.timeline.sliderReleased.emit()
        assert win.session.state.values()["temp"] == 53.5 and source.now() == t0 + 9.75
        assert win.alarm_list.rows() == []  # no alarm yet, then; paused there (it had ended)
        assert bar.where.text().startswith(time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t0 + 9.75)))
        assert "0:00:09 into the recording" in bar.where.text()
        assert source.paused
        qtbot.waitUntil(lambda: win.session.scene.label_texts()[0] == "T 53.5 °C", timeout=3000)  # drawn as it was

        # where the alarm rose is marked on the timeline (found for the whole recording as it opened);
        # the bar goes there (a second before)
        assert [round(t - t0) for t, _ in bar.marks] == [27] and bar.timeline.marks[0][1] == 3  # its worst
        bar.go_to_next_alarm()
        assert source.now() == pytest.approx(bar.marks[0][0] - 1.0)
        bar.timeline.repaint()  # the mark is drawn: red pixels at the top of the slider
        shot = bar.timeline.grab().toImage()
        x = round(7 + bar.timeline.marks[0][0] * (bar.timeline.width() - 14))
        assert shot.pixelColor(x, 2).red() > 200 and shot.pixelColor(x, 2).blue() < 80

        bar.set_end("B")  # the loop ends a second before the alarm, and starts 10 s before that
        bar._seek(source.now() - 10)
        bar.set_end("A")
        assert bar.end_buttons["A"].text() == "A " + time.strftime("%H:%M:%S", time.localtime(bar.ends["A"]))
        bar.loop.setChecked(True)
        assert bar.loop_range == (pytest.approx(bar.marks[0][0] - 11), pytest.approx(bar.marks[0][0] - 1))
        bar.toggle()  # play, at 20x: past B within a second
        seen = []
        for _ in range(25):
            qtbot.wait(100)
            bar.refresh()
            seen.append(source.now())
        assert max(seen) < bar.loop_range[1] + 0.2 * 20 and min(seen[5:]) < bar.loop_range[0] + 0.2 * 20  # A to B, again
    finally:
        win.close()


def test_the_record_button_records_what_the_window_receives_and_a_recording_opens_from_the_file_menu(
        qtbot, tmp_path, mosquitto, publisher):
    from tests.viewer.qt.test_alarm_list import open_window
    from viewer.live.replay import read_recording

    make_test_machine(tmp_path)
    (tmp_path / "rig.twin.yaml").write_text(TWIN)
    win = open_window(qtbot, tmp_path / "rig.twin.yaml", mosquitto)
    try:
        control = win.recording
        assert control.action.isEnabled() and control.action.text() == "● Record"
        assert control.start(tmp_path / "shift.mcap")
        for i in range(20):
            publisher.send("rig/bearing", {"temperature": 50 + i})
        qtbot.waitUntil(lambda: win.session.state.values()["temp"] == 69, timeout=5000)
        qtbot.waitUntil(lambda: control.action.text().startswith("■ Stop 0:0"), timeout=3000)
        assert control.stop() == tmp_path / "shift.mcap" and control.action.text() == "● Record"
        info, messages = read_recording(tmp_path / "shift.mcap")
        assert [m.payload for m in messages][-20:] == [b'{"temperature": %d}' % (50 + i) for i in range(20)]
        assert info.complete and info.twin == str((tmp_path / "rig.twin.yaml").resolve())

        from viewer.qt.recording import open_recording
        open_recording(win, tmp_path / "shift.mcap")  # File > Open recording, without its dialog
        qtbot.waitUntil(lambda: win.session.status.state == "replay", timeout=10000)
        assert win.replay_bar.isVisible() and not win.recording.action.isEnabled()  # a replay is not recorded again
        qtbot.waitUntil(lambda: win.session.state.values()["temp"] == 69, timeout=10000)
    finally:
        win.close()

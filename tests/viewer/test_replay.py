"""Replay: a recording played back through the live path, on the recording's clock."""

import json
import subprocess
import sys
import time

import pytest
from mcap.writer import Writer

from tests.conftest import make_test_machine, wait_until
from tests.viewer.test_record import TWIN
from viewer.live.feed import LiveFeed
from viewer.live.ingest import Ingest
from viewer.live.recorder import Recorder
from viewer.live.replay import ReplaySource
from viewer.state import TwinState
from viewer.twin.loader import load_twin


@pytest.fixture
def twin(tmp_path):
    make_test_machine(tmp_path)
    (tmp_path / "rig.twin.yaml").write_text(TWIN)
    return load_twin(tmp_path / "rig.twin.yaml", geometry=False)


def _synthetic(path, twin, messages):
    """A recording of ``messages`` ((topic, payload, time)), written by the recorder itself."""
    recorder = Recorder(path, "mqtt://plant:1883", Ingest(twin.signals).subscriptions, twin.path)
    for topic, payload, t in messages:
        recorder.add([(topic, payload, False)], t)
    recorder.stop()
    return path


class _Applied:
    """The live path on a replay: feed -> state, every update kept in order."""

    def __init__(self, twin, source):
        self.source, self.state = source, TwinState.for_twin(twin)
        self.feed = LiveFeed(source, Ingest(twin.signals), self.state)
        self.updates = []
        step = self.feed.step
        self.feed.step = lambda: self._keep(step())

    def _keep(self, decoded):
        self.updates += decoded.updates
        return decoded

    def __enter__(self):
        self.feed.start()
        return self

    def __exit__(self, *exc):
        self.feed.stop()


def test_a_replay_applies_what_was_recorded_in_order_and_at_its_pace(twin, tmp_path, mosquitto, publisher):
    output = tmp_path / "session.mcap"
    proc = subprocess.Popen([sys.executable, "-m", "viewer.cli", "record", str(twin.path), "-o", str(output),
                             "--broker", mosquitto, "--duration", "5"], stderr=subprocess.PIPE, text=True)
    wait_until(lambda: output.exists() and output.stat().st_size > 0, timeout=15)
    time.sleep(1.5)  # subscribed
    for i in range(60):  # 3 s of a bearing warming and an arm moving
        publisher.client.publish("rig/bearing", json.dumps({"temperature": 40 + i}), qos=0)
        publisher.client.publish("rig/arm/angle", str(i * 1.5), qos=0)
        time.sleep(0.05)
    proc.communicate(timeout=20)
    assert proc.returncode == 0

    source = ReplaySource(output)
    with _Applied(twin, source) as run:
        started = time.monotonic()
        wait_until(lambda: source.ended and not source.pending(), timeout=20)
        took = time.monotonic() - started
    assert source.superseded == 0  # at 1x every message is taken before the next of its topic
    temps = [u.value for u in run.updates if u.signal == "temp"]
    angles = [u.value for u in run.updates if u.signal == "angle"]
    assert temps == [40.0 + i for i in range(60)] and angles == [i * 1.5 for i in range(60)]
    order = [(u.signal, u.value) for u in run.updates]
    assert order == [pair for i in range(60) for pair in (("temp", 40.0 + i), ("angle", i * 1.5))]
    times = [u.time for u in run.updates]
    span = times[-1] - times[0]
    assert 2.8 < span < 3.6  # the recorded times: when the messages arrived then
    assert abs(took - span) < 0.5, (took, span)  # played at the pace they came, within half a second


def test_the_clock_runs_at_the_replay_speed_stops_when_paused_and_at_the_end(twin, tmp_path):
    t0 = 1_700_000_000.0
    path = _synthetic(tmp_path / "s.mcap", twin, [("rig/bearing", b'{"temperature": %d}' % i, t0 + i) for i in range(30)])
    source = ReplaySource(path, speed=20.0)
    assert source.now() == t0 and source.status.detail == "20x" and str(source.status) == "replay · recording s.mcap · 20x"
    with _Applied(twin, source) as run:
        time.sleep(0.5)
        assert t0 + 7 < source.now() < t0 + 14  # ten recorded seconds in half a second
        source.pause()
        paused = source.now()
        time.sleep(0.2)
        assert source.now() == paused and source.status.detail == "paused"
        count = len(run.updates)
        time.sleep(0.1)
        assert len(run.updates) == count  # nothing arrives while paused
        source.set_speed(float("inf"))
        source.play()
        wait_until(lambda: source.ended, timeout=5)
    assert source.now() == t0 + 29 and source.status.detail == "ended"
    state = run.state
    assert state.values()["temp"] == 29.0
    assert state.qualities(source.now())["temp"] == "live"  # in the recording's time it just arrived
    assert state.qualities(source.now() + 31)["temp"] == "stale"  # 30 s later, by the recording's clock


def test_a_recording_made_by_another_tool_replays_when_its_topics_match(twin, tmp_path):
    path = tmp_path / "foreign.mcap"
    with open(path, "wb") as f:
        writer = Writer(f)
        writer.start(profile="", library="someone else")
        channel = writer.register_channel("rig/bearing", "json", 0)
        other = writer.register_channel("/camera/info", "json", 0)
        for i in range(5):
            writer.add_message(channel, int((1.7e9 + i) * 1e9), json.dumps({"temperature": 50 + i}).encode(),
                               int((1.7e9 + i) * 1e9))
            writer.add_message(other, int((1.7e9 + i) * 1e9), b"{}", int((1.7e9 + i) * 1e9))
        writer.finish()
    source = ReplaySource(path, speed=float("inf"))
    with _Applied(twin, source) as run:
        wait_until(lambda: source.ended and not source.pending(), timeout=5)
    assert [u.value for u in run.updates] == [50.0, 51.0, 52.0, 53.0, 54.0]
    assert source.info.complete and source.info.twin_text is None and not source.info.problem


def test_a_replay_never_publishes(twin, tmp_path, mosquitto, publisher):
    source = ReplaySource(_synthetic(tmp_path / "s.mcap", twin, [("rig/bearing", b"{}", 1.7e9)]))
    received = []
    publisher.client.subscribe("#")
    publisher.client.on_message = lambda client, userdata, message: received.append(message.topic)
    source.publish("rig/bearing", b"x")  # what a Sparkplug rebirth request would do
    time.sleep(0.3)
    source.stop()
    assert received == [] and source.status.up and source.url == "recording s.mcap"


def test_seeking_back_gives_the_state_that_playing_up_to_that_time_gives(twin, tmp_path):
    """Played to the end, back to 150 s (from the snapshot of 120 s, not from the start),
    on to 250 s: values, qualities, history and alarms as a replay played straight to 250 s."""
    import pyvista as pv

    from viewer.session import Session

    t0 = 1_700_000_000.0

    def messages(until):
        return [(topic, payload, t0 + i) for i in range(until)
                for topic, payload in (("rig/bearing", b'{"temperature": %.1f}' % (40 + 0.2 * i)),
                                       ("rig/arm/angle", b"%d" % i))]

    whole = _synthetic(tmp_path / "s.mcap", twin, messages(400))
    part = _synthetic(tmp_path / "p.mcap", twin, messages(251))  # the same, up to 250 s

    def play_to_the_end(recording):
        plotter = pv.Plotter(off_screen=True, window_size=(200, 150))
        s = Session(twin, plotter, source=ReplaySource(recording, speed=float("inf")))
        s.start()
        while not s.source.ended or s.source.pending():
            s.tick()
            time.sleep(0.005)
        s.tick()
        return plotter, s

    def state_of(s):
        history = s.state.history("temp")
        alarms = {a.signal: (str(a.state), a.raised_at) for a in s.alarms.book.active()}
        return dict(s.state.values()), s.state.qualities(t0 + 250), list(history.t), list(history.value), alarms

    plotter, seeker = play_to_the_end(whole)
    try:
        times = [at - t0 for at, _ in seeker._snapshots]
        assert times[0] < 0 and len(times) >= 5 and all(60 <= b - a < 63 for a, b in zip(times[1:], times[2:]))
        seeker.source.pause()
        seeker.seek(t0 + 150)
        assert seeker.state.values()["temp"] == pytest.approx(40 + 0.2 * 150)
        seeker.seek(t0 + 250)  # forward again, from where it was
        seeker.tick()
        sought = state_of(seeker)
    finally:
        seeker.close()
        plotter.close()
    plotter, player = play_to_the_end(part)  # played straight through the live path
    try:
        played = state_of(player)
    finally:
        player.close()
        plotter.close()
    assert sought == played
    assert sought[0]["temp"] == pytest.approx(90.0) and sought[0]["angle"] == 250


def test_the_alarms_of_a_whole_recording_are_marked_as_soon_as_it_opens(twin, tmp_path):
    import pyvista as pv

    from viewer.session import Session

    (tmp_path / "rig.twin.yaml").write_text(TWIN.replace("field: temperature, unit: °C}",
                                                         "field: temperature, unit: °C, limits: {warn_high: 80}}"))
    limited = load_twin(tmp_path / "rig.twin.yaml", geometry=False)
    t0 = 1_700_000_000.0
    path = _synthetic(tmp_path / "s.mcap", limited, [("rig/bearing", b'{"temperature": %d}' % (60 + i), t0 + 10 * i)
                                                     for i in range(40)])
    plotter = pv.Plotter(off_screen=True, window_size=(200, 150))
    session = Session(limited, plotter, source=ReplaySource(path, speed=1.0))
    try:
        session.start()
        wait_until(lambda: (session.tick() or True) and session.alarm_marks, timeout=5)
        assert session.source.now() < t0 + 10  # nothing of the alarm played yet
        assert [(id_, round(t - t0), severity) for (id_, t), severity in session.alarm_marks.items()] == [
            ("temp", 210, 2)]  # 81 °C at 210 s
    finally:
        session.close()
        plotter.close()

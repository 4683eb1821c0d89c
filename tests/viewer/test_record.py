"""Recording: a real broker's messages into MCAP, read back by the standard reader and
ours, a recorder killed mid-stream, a path that cannot be written."""

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
from mcap.reader import make_reader

from tests.conftest import make_test_machine, wait_until
from viewer.live.replay import RecordingReadError, read_recording

TWIN = """\
twin: Recorded rig
broker: mqtt://127.0.0.1:1
parts:
  - {name: rig, mesh: rig.glb}
signals:
  temp: {topic: rig/bearing, field: temperature, unit: °C}
  angle: {topic: rig/arm/angle, unit: deg}
  state: {topic: rig/state, map: {STOPPED: 0, RUNNING: 1}}
"""


@pytest.fixture
def twin(tmp_path):
    make_test_machine(tmp_path)
    (tmp_path / "rig.twin.yaml").write_text(TWIN)
    return tmp_path / "rig.twin.yaml"


def _record(twin, output, broker, *extra):
    return subprocess.Popen([sys.executable, "-m", "viewer.cli", "record", str(twin), "-o", str(output),
                             "--broker", broker, *extra], stderr=subprocess.PIPE, text=True)


def _wait_subscribed(publisher, output):
    """Until the recorder hears a probe (it subscribed): the probe is the first message."""
    def heard():
        publisher.send("rig/state", "STOPPED")
        time.sleep(0.15)
        return output.exists() and output.stat().st_size > 2000  # header, metadata, twin, a chunk
    wait_until(heard, timeout=15)


def test_a_recording_holds_every_message_in_order_and_opens_in_the_standard_reader(twin, tmp_path, mosquitto,
                                                                                   publisher):
    publisher.send("rig/arm/angle", "12.5", retain=True)  # a retained one: recorded as such
    output = tmp_path / "session.mcap"
    proc = _record(twin, output, mosquitto, "--duration", "6")
    _wait_subscribed(publisher, output)
    sent = [("rig/bearing", json.dumps({"temperature": 40 + i / 10}).encode()) for i in range(300)]
    sent += [("rig/state", b"RUNNING"), ("rig/bearing", b"not json")]
    for topic, payload in sent:
        publisher.client.publish(topic, payload, qos=0)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "messages" in err and "MB" in err  # the progress line

    info, messages = read_recording(output)
    messages = list(messages)
    assert info.complete and not info.problem
    assert info.broker == mosquitto and info.twin == str(twin.resolve()) and info.twin_text == TWIN.encode()
    assert messages[0][:2] == ("rig/arm/angle", b"12.5") and messages[0].retained  # sent to us on subscribing
    received = [(m.topic, m.payload) for m in messages if m.topic != "rig/state" or m.payload != b"STOPPED"][1:]
    assert received == sent  # every message, in order: none superseded, nothing decoded
    times = [m.time for m in messages]
    assert times == sorted(times) and time.time() - 30 < times[0] < times[-1] < time.time()

    with open(output, "rb") as f:  # the standard reader
        reader = make_reader(f)
        summary = reader.get_summary()
        assert summary.statistics.message_count == len(messages)
        topics = {(c.topic, c.metadata["retain"], c.message_encoding) for c in summary.channels.values()}
        assert {("rig/bearing", "false", "json"), ("rig/arm/angle", "true", "json"), ("rig/state", "false", "raw")} <= topics
        assert [m.data for _, _, m in reader.iter_messages(topics=["rig/bearing"])][-1] == b"not json"


def test_a_recorder_killed_mid_stream_loses_at_most_the_last_second(twin, tmp_path, mosquitto, publisher):
    rng = random.Random(11)
    for attempt in range(3):
        output = tmp_path / f"killed{attempt}.mcap"
        proc = _record(twin, output, mosquitto)
        _wait_subscribed(publisher, output)
        sent_at = {}
        end = time.monotonic() + rng.uniform(0.6, 2.0)  # killed at a random moment of a fast stream
        i = 0
        while time.monotonic() < end:
            payload = json.dumps({"temperature": i}).encode()
            publisher.client.publish("rig/bearing", payload, qos=0)
            sent_at[payload] = time.time()
            i += 1
            time.sleep(0.002)
        killed = time.time()
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=10)
        info, messages = read_recording(output)
        got = [m.payload for m in messages if m.topic == "rig/bearing"]
        assert not info.complete  # no summary: it was killed
        assert got == list(sent_at)[:len(got)]  # what is there is whole and in order
        lost = [p for p in list(sent_at)[len(got):]]
        assert all(sent_at[p] > killed - 1.2 for p in lost), (attempt, len(got), len(sent_at))


def test_a_path_that_cannot_be_written_is_a_clear_error(twin, tmp_path, mosquitto):
    (tmp_path / "a_file").write_text("")
    result = subprocess.run([sys.executable, "-m", "viewer.cli", "record", str(twin), "-o",
                             str(tmp_path / "a_file" / "x.mcap"), "--broker", mosquitto, "--duration", "1"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: cannot write {tmp_path / 'a_file' / 'x.mcap'}"), result.stderr


def test_a_file_that_is_no_recording_says_so(tmp_path):
    (tmp_path / "notes.mcap").write_text("not a recording at all")
    with pytest.raises(RecordingReadError, match="is not an MCAP recording"):
        read_recording(tmp_path / "notes.mcap")


def test_a_trainer_s_scenario_travels_with_the_recording(twin, tmp_path, mosquitto):
    from viewer.live.recorder import Recorder
    from viewer.twin.loader import load_twin
    from viewer.twin.scenario import load_scenario

    (tmp_path / "hot.yaml").write_text("scenario: Hot bearing\nfaults:\n  - {signal: temp, ramp: 2}\n")
    recorder = Recorder(tmp_path / "training.mcap", mosquitto, {"rig/#": 0}, twin, tmp_path / "hot.yaml")
    recorder.add([("rig/bearing", b'{"temperature": 50}', False)], time.time())
    recorder.stop()
    info, messages = read_recording(tmp_path / "training.mcap")
    assert [m.payload for m in messages] == [b'{"temperature": 50}']
    name, text = info.scenario
    scenario = load_scenario(f"training.mcap:{name}", load_twin(twin, geometry=False).signals, text.decode())
    assert scenario.name == "Hot bearing" and scenario.spec.faults[0].ramp == 2

    (tmp_path / "bad.yaml").write_text("scenario: Bad\nfaults:\n  - {signal: tmep, ramp: 2}\n")
    result = subprocess.run([sys.executable, "-m", "viewer.cli", "record", str(twin), "-o", str(tmp_path / "x.mcap"),
                             "--broker", mosquitto, "--duration", "1", "--scenario", str(tmp_path / "bad.yaml")],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1 and f"{tmp_path / 'bad.yaml'}:3: unknown signal 'tmep'" in result.stderr
    assert not (tmp_path / "x.mcap").exists()  # nothing recorded with a scenario that cannot apply


def test_a_full_disk_is_a_clear_error_at_the_start_and_stops_a_recording_later(twin, tmp_path, monkeypatch):
    import errno

    import viewer.live.recorder as recorder_module
    from viewer.live.recorder import Recorder, RecordingError

    with pytest.raises(RecordingError, match="cannot write /dev/full: No space left on device"):
        Recorder("/dev/full", "mqtt://plant:1883", {}, twin)  # a real device that is always full

    recorder = Recorder(tmp_path / "r.mcap", "mqtt://plant:1883", {}, twin).start()

    def full(fd):  # the disk fills up during the recording
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(recorder_module.os, "fsync", full)
    recorder.add([("rig/bearing", b"{}", False)], time.time())
    wait_until(lambda: not recorder.recording, timeout=5)
    assert recorder.error == "recording stopped: No space left on device"
    recorder.stop()  # nothing more to do, and no exception

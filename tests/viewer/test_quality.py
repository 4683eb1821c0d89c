"""Signal quality against a real broker: live, stale, last known, offline."""

import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import pyvista as pv

from overlays.colormap import ColourRule, untrusted
from tests.conftest import Publisher, make_test_machine, start_mosquitto, wait_until
from viewer.session import Session
from viewer.twin.loader import load_twin

TWIN = """\
twin: Quality rig
stale_after: 0.6
parts:
  - {name: rig, mesh: rig.glb}
signals:
  temp:
    topic: rig/bearing
    field: temperature
    unit: degC
    availability: {topic: rig/status, online: up, offline: down}
bindings:
  - {colour: bearing, signal: temp, cmap: inferno, range: [20, 100]}
  - {label: bearing, text: "T {temp:.1f} degC"}
"""

DEVICE = """\
import sys, time
import paho.mqtt.client as mqtt
host, port = sys.argv[1], int(sys.argv[2])
c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="device")
c.will_set("rig/status", "down", qos=1, retain=True)
c.connect(host, port, keepalive=1)
c.loop_start()
c.publish("rig/status", "up", qos=1, retain=True).wait_for_publish()
c.publish("rig/bearing", '{"temperature": 60}', qos=1).wait_for_publish()
print("ready", flush=True)
while True:
    c.publish("rig/bearing", '{"temperature": 60}')
    time.sleep(0.1)
"""


@pytest.fixture
def session(tmp_path, mosquitto):
    make_test_machine(tmp_path)
    (tmp_path / "q.twin.yaml").write_text(TWIN)
    plotter = pv.Plotter(off_screen=True, window_size=(300, 200))
    s = Session(load_twin(tmp_path / "q.twin.yaml"), plotter, mosquitto)
    yield s
    s.close()
    plotter.close()


def _quality(session):
    """The quality the scene draws, after a UI frame."""
    session.tick()
    return session.scene.qualities.get("temp")


def _labels(session):
    session.tick()
    return session.scene.label_texts()


def test_a_value_that_stops_arriving_turns_stale_and_is_drawn_washed_out(session, publisher):
    session.start()
    wait_until(lambda: session.status.state == "live")
    publisher.send("rig/bearing", {"temperature": 100})
    wait_until(lambda: _quality(session) == "live", step=None)
    hot = ColourRule("inferno", 20, 100).rgb(100)
    assert session.scene.parts.colour_of("bearing").tolist() == hot.tolist()
    wait_until(lambda: _quality(session) == "stale", timeout=3)
    assert session.scene.parts.colour_of("bearing").tolist() == untrusted(hot, "stale").tolist()
    wait_until(lambda: _labels(session) == ["T 100.0 degC ⚠ stale"])


def test_a_retained_value_shows_as_last_known_until_a_live_one_arrives(session, publisher):
    publisher.send("rig/bearing", {"temperature": 40}, retain=True)
    session.start()
    wait_until(lambda: _quality(session) == "last known")
    assert session.state.values()["temp"] == 40.0
    publisher.send("rig/bearing", {"temperature": 41})
    wait_until(lambda: _quality(session) == "live")


def test_a_killed_device_goes_offline_through_its_last_will(session, mosquitto, tmp_path):
    session.start()
    host, port = mosquitto.removeprefix("mqtt://").split(":")
    script = tmp_path / "device.py"
    script.write_text(textwrap.dedent(DEVICE))
    device = subprocess.Popen([sys.executable, str(script), host, port], stdout=subprocess.PIPE, text=True)
    try:
        assert device.stdout.readline().strip() == "ready"
        wait_until(lambda: _quality(session) == "live")
        device.kill()  # kill -9: no clean disconnect, the broker publishes the will
        device.wait()
        wait_until(lambda: _quality(session) == "offline", timeout=6)
        wait_until(lambda: _labels(session)[0].endswith("⚠ offline"))
        assert np.asarray(session.scene.parts.colour_of("bearing")).max() < 110  # dark, not a map colour
    finally:
        device.kill()
        device.wait()
        device.stdout.close()


def test_watch_prints_updates_and_quality_changes_as_json_lines(tmp_path, mosquitto, publisher):
    import json

    make_test_machine(tmp_path)
    (tmp_path / "q.twin.yaml").write_text(TWIN)
    proc = subprocess.Popen([sys.executable, "-m", "viewer.cli", "watch", str(tmp_path / "q.twin.yaml"),
                             "--broker", mosquitto, "--json", "--seconds", "3"],
                            stdout=subprocess.PIPE, text=True)
    lines = []
    with proc:
        while not any(line.get("connection", "").startswith("live") for line in lines):
            lines.append(json.loads(proc.stdout.readline()))
        publisher.send("rig/bearing", {"temperature": 55.5})
        time.sleep(0.3)  # the newest payload per topic wins: give each its own step
        publisher.send("rig/bearing", "{not json")
        lines += [json.loads(line) for line in proc.stdout]
    [update] = [line for line in lines if "value" in line]
    assert (update["signal"], update["value"], update["unit"], update["quality"]) == ("temp", 55.5, "degC", "live")
    assert any(line.get("error", "").startswith("not JSON") for line in lines)
    assert any(line.get("quality") == "stale" for line in lines)  # stale_after is 0.6 s


def test_watch_can_speak_mqtt5_when_told_on_the_command_line(tmp_path):
    from viewer.live.broker import free_port, mosquitto_path, wait_for_port

    make_test_machine(tmp_path)
    (tmp_path / "q.twin.yaml").write_text(TWIN)
    port, log = free_port(), tmp_path / "broker.log"
    (tmp_path / "m.conf").write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n"
                                     f"log_dest file {log}\nlog_type all\nuser {__import__('getpass').getuser()}\n")
    broker = subprocess.Popen([mosquitto_path(), "-c", str(tmp_path / "m.conf")])
    try:
        wait_for_port(port, process=broker)
        subprocess.run([sys.executable, "-m", "viewer.cli", "watch", str(tmp_path / "q.twin.yaml"),
                        "--broker", f"mqtt://127.0.0.1:{port}", "--mqtt", "5", "--seconds", "1"],
                       capture_output=True, timeout=30, check=True)
    finally:
        broker.terminate()
        broker.wait()
    assert "(p5," in log.read_text()  # Mosquitto logs the protocol of each new client


def test_a_lost_broker_makes_every_value_untrusted_at_once(rig_twin, tmp_path):
    url, broker = start_mosquitto(tmp_path)
    plotter = pv.Plotter(off_screen=True, window_size=(300, 200))
    session = Session(load_twin(rig_twin), plotter, url)  # the rig's default stale_after: 30 s
    session.start()
    publisher = Publisher(url)
    try:
        wait_until(lambda: session.status.state == "live")  # subscribed: the value below is not lost
        publisher.send("rig/bearing", {"temperature": 60})
        wait_until(lambda: _quality(session) == "live")
        publisher.close()
        broker.kill()  # kill -9
        broker.wait()
        wait_until(lambda: _quality(session) == "stale", timeout=3)  # not after 30 s
        wait_until(lambda: _labels(session) == ["T 60.0 degC ⚠ stale"], timeout=2)
    finally:
        publisher.close()
        broker.kill()
        broker.wait()
        session.close()
        plotter.close()


def test_signals_go_stale_after_30_s_by_default_and_never_only_when_told(tmp_path):
    make_test_machine(tmp_path)
    twin = TWIN.replace("stale_after: 0.6\n", "").replace("    unit: degC\n", "    unit: degC\n    stale_after: never\n")
    (tmp_path / "q.twin.yaml").write_text(twin.replace("bindings:", "  other: {topic: rig/other}\nbindings:"))
    signals = load_twin(tmp_path / "q.twin.yaml").signals
    assert signals["other"].stale_after == 30.0
    assert signals["temp"].stale_after is None


def test_watch_reads_no_mesh_and_loads_no_3d_library(tmp_path, mosquitto):
    (tmp_path / "rig.glb").write_bytes(b"glTF not really")  # would fail to load, were it read
    (tmp_path / "q.twin.yaml").write_text(TWIN)
    code = ("import sys\nfrom viewer.cli import main\n"
            f"assert main(['watch', {str(tmp_path / 'q.twin.yaml')!r}, '--broker', {mosquitto!r}, '--seconds', '0.5']) == 0\n"
            "loaded = sorted(m for m in ('vtk', 'vtkmodules', 'pyvista', 'PySide6') if m in sys.modules)\n"
            "assert not loaded, loaded\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "connection=live" in result.stdout

"""Shared fixtures: a real Mosquitto broker, a publisher, and a small test machine."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
import psutil
import pytest
import trimesh

from overlays.labels import OPEN_LAYERS
from overlays.ontop import OPEN_TOP_LAYERS
from viewer.live.broker import free_port, mosquitto_path, wait_for_port
from viewer.qt.settings import SETTINGS_ENV


def _leftovers(threads_before: set, children_before: set, layers_before: set) -> list[str]:
    """What a test started and did not end: threads, child processes, label and top layers
    (with their render observers), top-level Qt widgets."""
    gc.collect()
    found = [f"thread {t.name}" for t in threading.enumerate() if t not in threads_before and t.is_alive()]
    for child in psutil.Process().children(recursive=True):
        try:
            if child.pid not in children_before and child.status() != psutil.STATUS_ZOMBIE:
                found.append(f"process {child.pid} {' '.join(child.cmdline()[:3])}")
        except psutil.NoSuchProcess:
            pass
    found += [f"layer {layer!r} (not closed)" for layer in (*OPEN_LAYERS, *OPEN_TOP_LAYERS)
              if id(layer) not in layers_before]
    if "PySide6" in sys.modules:
        from PySide6 import QtCore, QtWidgets

        if QtWidgets.QApplication.instance() is not None:
            QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
            found += [f"widget {w!r}" for w in QtWidgets.QApplication.topLevelWidgets()]
    return found


@pytest.fixture(autouse=True)
def nothing_left_behind():
    """Fail a test that leaks threads, processes, label layers or windows: everything that
    starts something has a close() that undoes it."""
    threads_before = set(threading.enumerate())
    children_before = {p.pid for p in psutil.Process().children(recursive=True)}
    layers_before = {id(layer) for layer in (*OPEN_LAYERS, *OPEN_TOP_LAYERS)}  # one leak fails one test
    yield
    deadline = time.monotonic() + 5  # threads that are ending (paho's, joined on a helper) get a moment
    while (found := _leftovers(threads_before, children_before, layers_before)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not found, f"left behind: {found}"


@pytest.fixture(autouse=True, scope="session")
def mesh_cache(tmp_path_factory):
    """Processed meshes are cached in a folder of the test run, never the user's."""
    folder = tmp_path_factory.mktemp("mesh-cache")
    os.environ["TWINVIEW_CACHE"] = str(folder)
    yield folder


@pytest.fixture(autouse=True)
def own_settings(tmp_path_factory, monkeypatch):
    """Layers, dock layout and window size are read from and written to a file of the
    test, never the user's (children such as ``twinview demo`` inherit it)."""
    folder = tmp_path_factory.mktemp("settings")  # beside the test's tmp_path, which stays its own
    monkeypatch.setenv(SETTINGS_ENV, str(folder))
    return folder


def start_mosquitto(folder: Path) -> tuple[str, subprocess.Popen]:
    """Start Mosquitto on a free loopback port; its URL and process."""
    port = free_port()
    conf = folder / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    proc = subprocess.Popen([mosquitto_path(), "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, process=proc)
    return f"mqtt://127.0.0.1:{port}", proc


@pytest.fixture
def mosquitto(tmp_path):
    """A Mosquitto broker on a free loopback port; yields its URL."""
    url, proc = start_mosquitto(tmp_path)
    yield url
    proc.terminate()
    proc.wait(timeout=5)


class Publisher:
    """A separate paho client, as a plant device would be."""

    def __init__(self, url: str):
        host, port = url.removeprefix("mqtt://").split(":")
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-publisher")
        self.client.connect(host, int(port))
        self.client.loop_start()

    def send(self, topic: str, payload, retain: bool = False) -> None:
        if isinstance(payload, (dict, list)):
            payload = json.dumps(payload)
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def publisher(mosquitto):
    pub = Publisher(mosquitto)
    yield pub
    pub.close()


def _box(extents, center, rgb):
    """A box drawn in the display colour ``rgb``: glTF stores colours as linear light."""
    mesh = trimesh.creation.box(extents=extents)
    mesh.apply_translation(center)
    linear = trimesh.visual.color.srgb_to_linear(np.asarray(rgb) / 255.0)
    mesh.visual.face_colors = [*np.round(linear * 255).astype(np.uint8), 255]
    return mesh


def make_test_machine(folder: Path) -> Path:
    """A GLB with a base, a bearing, and an arm on a hinge at (0.5, 0, 0.2), axis Y.

    Node tree: rig -> base, bearing, arm (origin at the hinge) -> tip.
    """
    scene = trimesh.Scene()
    scene.graph.update(frame_to="rig", frame_from=scene.graph.base_frame)
    scene.add_geometry(_box((1.0, 0.6, 0.2), (0, 0, 0.1), (90, 90, 95)), node_name="base",
                       geom_name="base", parent_node_name="rig")
    scene.add_geometry(_box((0.3, 0.3, 0.3), (-0.25, 0, 0.35), (200, 200, 200)), node_name="bearing",
                       geom_name="bearing", parent_node_name="rig")
    hinge = np.eye(4)
    hinge[:3, 3] = (0.3, 0, 0.2)
    scene.add_geometry(_box((0.08, 0.08, 0.6), (0, 0, 0.3), (40, 160, 60)), node_name="arm",
                       geom_name="arm", parent_node_name="rig", transform=hinge)
    tip = np.eye(4)
    tip[:3, 3] = (0, 0, 0.6)
    scene.add_geometry(_box((0.16, 0.16, 0.1), (0, 0, 0.05), (40, 60, 200)), node_name="tip",
                       geom_name="tip", parent_node_name="arm", transform=tip)
    path = folder / "rig.glb"
    scene.export(path)
    return path


def as_gltf(glb: Path) -> Path:
    """The same machine as a .gltf with its .bin files beside ``glb``: a file the child
    importer reads (a plain GLB is read in the viewer's process)."""
    for name, data in trimesh.load(glb, force="scene").export(file_type="gltf").items():
        (glb.parent / (f"{glb.stem}.gltf" if name.endswith(".gltf") else name)).write_bytes(data)
    return glb.with_suffix(".gltf")


TEST_TWIN = """\
twin: Test rig
broker: mqtt://127.0.0.1:1
parts:
  - {name: rig, mesh: rig.glb}
  - {name: arm, axis: [0, 1, 0]}
signals:
  temp: {topic: rig/bearing, field: temperature, unit: degC}
  angle: {topic: rig/arm/angle, unit: deg}
bindings:
  - {colour: bearing, signal: temp, cmap: inferno, range: [20, 100]}
  - {rotate: arm, signal: angle}
  - {label: bearing, text: "T {temp:.1f} degC"}
"""


@pytest.fixture
def rig_twin(tmp_path) -> Path:
    """A twin file for the test machine, next to its GLB."""
    make_test_machine(tmp_path)
    path = tmp_path / "rig.twin.yaml"
    path.write_text(textwrap.dedent(TEST_TWIN))
    return path


def wait_until(predicate, timeout: float = 10.0, step=None):
    """Poll ``predicate`` (calling ``step`` between polls) until true or time out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if step is not None:
            step()
        if predicate():
            return True
        time.sleep(0.02)
    raise AssertionError("condition not met in time")

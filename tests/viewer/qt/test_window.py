"""The main window on a real (virtual) display, fed by a real broker."""

import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from PySide6 import QtCore, QtGui, QtWidgets

from overlays.colormap import ColourRule
from tests.conftest import as_gltf, make_test_machine
from tests.pixels import colour_at, pixel_of, same_hue
from viewer.qt.window import MainWindow
from viewer.twin.loader import load_twin

BEARING = (-0.25, -0.15, 0.35)


@pytest.fixture
def window(qtbot, rig_twin, mosquitto):
    win = MainWindow(load_twin(rig_twin), broker_url=mosquitto)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.session.scene.view("front")
    qtbot.waitUntil(lambda: win.session.status.state == "live", timeout=10000)
    yield win
    win.close()


def _view(win):
    return win.plotter.screenshot(return_img=True)


def test_live_temperature_recolours_the_part_on_screen(window, publisher, qtbot):
    at = pixel_of(window.plotter, BEARING)
    hot = ColourRule("inferno", 20, 100).rgb(100)
    assert not same_hue(colour_at(_view(window), at), hot)
    publisher.send("rig/bearing", {"temperature": 130})
    qtbot.waitUntil(lambda: same_hue(colour_at(_view(window), at), hot), timeout=5000)
    qtbot.waitUntil(lambda: window.session.scene.label_texts() == ["T 130.0 degC"], timeout=2000)


def test_status_bar_shows_the_connection_and_counts(window, publisher, qtbot):
    publisher.send("rig/arm/angle", "10")
    qtbot.waitUntil(lambda: "1/2 signals with data" in window.status_bar.counts.text(), timeout=5000)
    assert f"live · {window.session.source.url}" in window.status_bar.connection.text()


def test_clicking_a_part_selects_it_and_shows_its_signals(window, publisher, qtbot):
    publisher.send("rig/bearing", {"temperature": 55.5})
    qtbot.waitUntil(lambda: window.session.state.signals["temp"].value == 55.5, timeout=5000)
    row, col = pixel_of(window.plotter, BEARING)
    ratio = window.plotter.interactor.devicePixelRatioF()
    pos = QtCore.QPoint(int(col / ratio), int(row / ratio))
    qtbot.mouseClick(window.plotter.interactor, QtCore.Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: window.selected == "bearing", timeout=3000)
    assert window.details.title.text() == "bearing"
    assert window.details.values() == {"temp": "55.5"}
    assert window.tree.currentItem().text(0) == "bearing"


def test_unticking_a_part_in_the_tree_hides_it(window, qtbot):
    at = pixel_of(window.plotter, BEARING)
    before = colour_at(_view(window), at)
    item = window.tree._items["bearing"]
    item.setCheckState(0, QtCore.Qt.CheckState.Unchecked)
    assert not window.session.scene.parts.is_visible("bearing")
    assert not np.allclose(colour_at(_view(window), at), before, atol=10)


def test_selecting_in_the_tree_and_fitting_zooms_to_the_part(window, qtbot):
    window.tree.setCurrentItem(window.tree._items["tip"])
    assert window.selected == "tip"
    distance = window.plotter.camera.distance
    window.fit_selected()
    assert window.plotter.camera.distance < distance / 2
    window.reset_view()
    assert window.plotter.camera.distance > distance / 2


def test_standard_views_look_along_their_axes_and_reset_returns_to_the_start(window, qtbot):
    window.reset_view()
    start = np.array(window.plotter.camera_position.to_list())
    actions = {a.text(): a for a in window.findChildren(QtGui.QAction)}
    for name, direction in {"Front": (0, -1, 0), "Top": (0, 0, 1), "Side": (1, 0, 0)}.items():
        actions[name].trigger()  # what the toolbar and the keypad shortcuts do
        cam = window.plotter.camera
        looking_from = np.subtract(cam.position, cam.focal_point)
        assert np.allclose(looking_from / np.linalg.norm(looking_from), direction, atol=1e-6)
    actions["&Reset view"].trigger()
    assert np.allclose(window.plotter.camera_position.to_list(), start)


def test_screenshot_of_the_whole_window(window, tmp_path):
    path = tmp_path / "window.png"
    window.grab_window().save(str(path))
    image = np.asarray(Image.open(path))
    assert image.shape[0] >= 400 and image.shape[1] >= 600
    view = QtCore.QRect(window.plotter.interactor.mapTo(window, QtCore.QPoint(0, 0)),
                        window.plotter.interactor.size())
    drawn = image[view.top():view.bottom(), view.left():view.right(), :3]
    expected = _view(window)[:drawn.shape[0], :drawn.shape[1]].astype(int)
    assert np.abs(drawn.astype(int) - expected).mean() < 4  # the 3D view is in it


def test_dropping_a_mesh_file_shows_it_without_a_twin(window, tmp_path, qtbot):
    mesh = make_test_machine(tmp_path / "")
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(mesh))])
    event = QtGui.QDropEvent(QtCore.QPointF(50, 50), QtCore.Qt.DropAction.CopyAction, mime,
                             QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.loader.loaded, timeout=30000):
        window.dropEvent(event)
    assert window.windowTitle().startswith("rig.glb")
    assert set(window.tree._items) == {"rig", "arm", "bearing", "base", "tip"}
    assert window.session.status.state == "no live data"


def test_an_opened_model_is_merged_and_given_normals_off_the_ui_thread(window, tmp_path, qtbot, monkeypatch):
    import threading

    import overlays.geometry

    on_ui_thread = []
    processed = overlays.geometry._processed

    def watched(*args, **kwargs):
        on_ui_thread.append(threading.current_thread() is threading.main_thread())
        return processed(*args, **kwargs)

    monkeypatch.setattr(overlays.geometry, "_processed", watched)
    with qtbot.waitSignal(window.loader.loaded, timeout=30000):
        window.open_path(make_test_machine(tmp_path / ""))
    assert on_ui_thread == [False]  # one group, prepared by the loader; showing it made none
    assert window.windowTitle().startswith("rig.glb")


def test_demo_samples_do_not_evict_each_other_on_the_broker(tmp_path):
    from tests.conftest import wait_until
    from viewer.live.broker import EmbeddedBroker
    from viewer.live.simulator import Simulator
    from viewer.samples import SAMPLES

    with EmbeddedBroker() as broker:
        sims = [Simulator(broker.url, load_twin(p).spec.simulate).start() for p in SAMPLES.values()]
        try:
            wait_until(lambda: all(s._client.is_connected() for s in sims))
            for _ in range(20):  # with one client id they took turns, each connected half the time
                assert all(s._client.is_connected() for s in sims)
                QtCore.QThread.msleep(100)
        finally:
            for sim in sims:
                sim.stop()


def test_a_lost_broker_shows_a_banner_and_values_flow_again_after_it_returns(qtbot, rig_twin, tmp_path):
    from tests.conftest import Publisher
    from viewer.live.broker import free_port, mosquitto_path, wait_for_port

    port = free_port()
    conf = tmp_path / "m.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n")

    def broker():
        proc = subprocess.Popen([mosquitto_path(), "-c", str(conf)], stderr=subprocess.DEVNULL)
        wait_for_port(port, process=proc)
        return proc

    proc = broker()
    win = MainWindow(load_twin(rig_twin), broker_url=f"mqtt://127.0.0.1:{port}")
    qtbot.addWidget(win)
    win.show()
    try:
        qtbot.waitUntil(lambda: win.session.status.state == "live", timeout=10000)
        assert not win.banner.isVisible()
        proc.terminate()
        proc.wait()
        qtbot.waitUntil(win.banner.isVisible, timeout=5000)  # the UI keeps running: timers fire
        assert "No connection to the broker" in win.banner.text()
        proc = broker()
        qtbot.waitUntil(lambda: not win.banner.isVisible(), timeout=10000)
        win.findChild(QtWidgets.QDockWidget, "Signals").raise_()  # refreshed only while shown
        pub = Publisher(f"mqtt://127.0.0.1:{port}")
        pub.send("rig/bearing", {"temperature": 77})
        pub.send("rig/arm/angle", "not a number")
        pub.close()
        qtbot.waitUntil(lambda: win.signals.values().get("temp") == "77.0", timeout=5000)
        qtbot.waitUntil(lambda: win.signals.column("Errors").get("angle") == "1", timeout=5000)
        assert win.signals.column("Last error")["angle"] == "not a number: 'not a number'"
    finally:
        win.close()
        proc.terminate()
        proc.wait()


def test_the_topic_browser_shows_the_tree_of_topics_under_the_twins_prefixes(window, publisher, qtbot):
    qtbot.waitUntil(lambda: window.topics.catalog is None)  # not shown yet: no wider subscription
    window.findChild(QtWidgets.QDockWidget, "Topics").raise_()
    qtbot.waitUntil(lambda: window.topics.catalog is not None and window.topics.catalog.status.state == "live")
    publisher.send("rig/bearing", {"temperature": 42})
    publisher.send("rig/extra/unbound", "hello", retain=True)
    publisher.send("elsewhere/x", "not shown")
    qtbot.waitUntil(lambda: window.topics.shown().get("rig/extra/unbound") == "hello", timeout=5000)
    shown = window.topics.shown()
    assert shown["rig/bearing"] == '{"temperature": 42}'
    assert "elsewhere/x" not in window.topics._items  # outside the twin's prefixes
    assert window.topics.filter.text() == "rig/#"
    window.topics.filter.setText("rig/extra/# elsewhere/#")
    window.topics.filter.returnPressed.emit()  # a new subscription: the broker replays retained copies
    qtbot.waitUntil(lambda: window.topics.shown().get("rig/extra/unbound") == "hello (retained)", timeout=5000)
    publisher.send("elsewhere/x", "now shown")
    qtbot.waitUntil(lambda: window.topics.shown().get("elsewhere/x") == "now shown", timeout=5000)


def test_the_topic_browser_decodes_sparkplug_into_a_tree_of_metrics(window, publisher, qtbot):
    from tests.viewer.test_sparkplug import GROUP, NODE, EdgeNode

    window.topics.filter.setText("spBv1.0/#")
    window.findChild(QtWidgets.QDockWidget, "Topics").raise_()
    qtbot.waitUntil(lambda: window.topics.catalog is not None and window.topics.catalog.status.state == "live")
    edge = EdgeNode()
    for message in (edge.nbirth(), edge.dbirth("press"), edge.ddata("press", alias=10, value=3.25)):
        publisher.send(*message)
    path = f"Sparkplug metrics/{GROUP}/{NODE}/press/speed"
    qtbot.waitUntil(lambda: window.topics.shown().get(path) == "3.25", timeout=5000)
    assert window.topics.shown()[f"Sparkplug metrics/{GROUP}/{NODE}/temperature"] == "21.5"
    assert window.topics.shown()[f"spBv1.0/{GROUP}/DDATA/{NODE}/press"].startswith("Sparkplug payload")


def test_browsing_topics_never_takes_the_twins_client_id_or_asks_for_rebirths(qtbot, rig_twin, mosquitto, publisher):
    from tests.viewer.test_sparkplug import GROUP, NODE, EdgeNode

    rig_twin.write_text(rig_twin.read_text().replace(
        "broker: mqtt://127.0.0.1:1", "broker: {url: mqtt://127.0.0.1:1, client_id: rig-viewer}"))
    win = MainWindow(load_twin(rig_twin), broker_url=mosquitto)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    try:
        win.topics.filter.setText("rig/# spBv1.0/#")
        win.findChild(QtWidgets.QDockWidget, "Topics").raise_()
        qtbot.waitUntil(lambda: win.topics.catalog is not None and win.topics.catalog.status.state == "live")
        assert win.session.source._client._client_id == b"rig-viewer"
        publisher.send(*EdgeNode().ddata("press", alias=10, value=4.5), retain=True)  # born before we looked
        qtbot.waitUntil(lambda: win.topics.shown().get(f"Sparkplug metrics/{GROUP}/{NODE}/press/alias 10") == "4.5")
        for _ in range(10):  # with one client id the broker would keep dropping one of the two
            assert win.session.status.state == "live" and win.topics.catalog.status.state == "live"
            qtbot.wait(100)
    finally:
        win.close()


def test_a_missing_password_is_asked_for_once_and_never_written(qtbot, rig_twin, tmp_path, monkeypatch):
    import shutil

    from viewer.live.broker import free_port, mosquitto_path, wait_for_port

    passwd, port = tmp_path / "passwd", free_port()
    passwd.write_text("")
    subprocess.run([shutil.which("mosquitto_passwd"), "-b", str(passwd), "tech", "s3cret"], check=True)
    (tmp_path / "m.conf").write_text(f"listener {port} 127.0.0.1\nallow_anonymous false\n"
                                     f"password_file {passwd}\nuser {__import__('getpass').getuser()}\n")
    broker = subprocess.Popen([mosquitto_path(), "-c", str(tmp_path / "m.conf")], stderr=subprocess.DEVNULL)
    wait_for_port(port, process=broker)
    rig_twin.write_text(rig_twin.read_text().replace(
        "broker: mqtt://127.0.0.1:1", "broker: {url: mqtt://127.0.0.1:1, username: tech, "
        "password_env: NOT_SET_IN_THIS_TEST, allow_plain_login: true}"))
    asked = []
    monkeypatch.delenv("NOT_SET_IN_THIS_TEST", raising=False)
    # The dialog itself is the one thing a test cannot click: answer it like a technician.
    monkeypatch.setattr(QtWidgets.QInputDialog, "getText", lambda *a, **k: asked.append(a) or ("s3cret", True))
    twin = load_twin(rig_twin)
    win = MainWindow(twin, broker_url=f"mqtt://127.0.0.1:{port}")
    qtbot.addWidget(win)
    try:
        qtbot.waitUntil(lambda: win.session.status.state == "live", timeout=10000)
        win.show_twin(twin)  # reopening does not ask again
        qtbot.waitUntil(lambda: win.session.status.state == "live", timeout=10000)
        assert len(asked) == 1
        assert "s3cret" not in rig_twin.read_text()
    finally:
        win.close()
        broker.terminate()
        broker.wait()


def test_reopening_twins_leaves_exactly_one_scene_in_the_view(window, rig_twin, qtbot):
    from overlays.labels import OPEN_LAYERS

    renderer = window.plotter.renderer
    actors, props2d = len(renderer.actors), renderer.GetViewProps().GetNumberOfItems()
    for _ in range(3):
        with qtbot.waitSignal(window.loader.loaded, timeout=30000):
            window.open_path(rig_twin)
    assert len(OPEN_LAYERS) == 1  # the label layer (and its render observer) of the scene shown
    assert (len(renderer.actors), renderer.GetViewProps().GetNumberOfItems()) == (actors, props2d)
    qtbot.waitUntil(lambda: window.session.status.state == "live", timeout=10000)


def test_a_twin_whose_tls_file_is_not_pem_is_refused_and_the_view_kept(window, rig_twin, qtbot, monkeypatch):
    (rig_twin.parent / "ca.pem").write_text("this is not a certificate\n")
    bad = rig_twin.parent / "tls.twin.yaml"
    bad.write_text(rig_twin.read_text().replace("broker: mqtt://127.0.0.1:1", "broker: {url: 'mqtts://127.0.0.1:1', tls: {ca: ca.pem}}")
                   .replace("twin: Test rig", "twin: TLS rig"))
    shown = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "warning", lambda parent, title, text: shown.append(text))
    old = window.session
    with qtbot.waitSignal(window.loader.finished, timeout=30000):
        window.open_path(bad)
    assert window.session is old and old.status.state == "live"  # still connected, still drawn
    assert window.windowTitle().startswith("Test rig")
    assert "ca.pem" in shown[0]


def test_a_dead_live_feed_is_shown_in_a_banner_and_restarted(window, publisher, qtbot, monkeypatch):
    decode = window.session.ingest.decode

    def dies(*args, **kwargs):
        monkeypatch.setattr(window.session.ingest, "decode", decode)
        raise SystemExit("decoder bug")  # escapes every handler a step has

    monkeypatch.setattr(window.session.ingest, "decode", dies)
    qtbot.waitUntil(window.banner.isVisible, timeout=5000)
    assert "live feed stopped (SystemExit: decoder bug) and was restarted" in window.banner.text()
    publisher.send("rig/bearing", {"temperature": 55.5})
    qtbot.waitUntil(lambda: window.session.state.values()["temp"] == 55.5, timeout=5000)


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_the_demos_broker_ends_with_the_demo_however_it_ends(tmp_path, how):
    import psutil

    from tests.conftest import wait_until

    demo = subprocess.Popen([sys.executable, "-m", "viewer.cli", "demo"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        def broker():
            found = [p for p in psutil.Process(demo.pid).children(recursive=True) if "mosquitto" in p.name()]
            return found[0] if found else None

        wait_until(lambda: broker() is not None, timeout=60)
        mosquitto = broker()
        wait_until(lambda: any(c.laddr.port for c in mosquitto.net_connections()), timeout=30)
        demo.send_signal(how)
        demo.wait(timeout=30)
        assert psutil.wait_procs([mosquitto], timeout=10)[1] == []  # nothing still alive
    finally:
        demo.kill()
        demo.wait()
        demo.stderr.close()


def _importer():
    import psutil

    found = [p for p in psutil.Process().children() if "meshes.import_worker" in " ".join(p.cmdline())]
    return found[0] if found else None


def test_a_slow_open_shows_progress_keeps_the_view_live_and_can_be_cancelled(window, tmp_path, publisher, qtbot,
                                                                           monkeypatch):
    from tests.meshes.step_writer import write_step_boxes

    monkeypatch.setenv("TWINVIEW_CACHE", "off")
    step = write_step_boxes(tmp_path / "block.step", [("block", (0, 0, 0), (10, 20, 30))])
    old = window.session
    window.open_path(step)
    qtbot.waitUntil(lambda: _importer() is not None, timeout=5000)
    importer = _importer()
    importer.suspend()  # a slow import, however fast this machine is
    qtbot.waitUntil(window.loader.dialog.isVisible, timeout=5000)
    assert window.loader.dialog.labelText().startswith("Opening block.step")
    publisher.send("rig/bearing", {"temperature": 42.5})  # the twin shown stays live meanwhile
    qtbot.waitUntil(lambda: window.session.state.values()["temp"] == 42.5, timeout=5000)
    with qtbot.waitSignal(window.loader.finished, timeout=10000):
        [cancel] = window.loader.dialog.findChildren(QtWidgets.QPushButton)
        qtbot.mouseClick(cancel, QtCore.Qt.MouseButton.LeftButton)
    assert not window.loader.dialog.isVisible()
    assert window.session is old and window.windowTitle().startswith("Test rig")
    assert not importer.is_running()


def test_no_progress_dialog_shows_itself_without_a_slow_open(window, rig_twin, qtbot):
    """Qt's progress dialog starts a timer of its own (4 s) when it is made: it must not
    pop up over a window that is not opening anything, nor after a quick open."""
    qtbot.wait(4500)
    assert not window.loader.dialog.isVisible()
    with qtbot.waitSignal(window.loader.loaded, timeout=30000):
        window.open_path(rig_twin)
    qtbot.wait(4500)
    assert not window.loader.dialog.isVisible()


def test_an_importer_crash_is_a_message_and_the_window_keeps_running(window, tmp_path, qtbot, monkeypatch):
    from tests.conftest import wait_until

    monkeypatch.setenv("TWINVIEW_CACHE", "off")
    shown = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "warning", lambda parent, title, text: shown.append((title, text)))
    (tmp_path / "other").mkdir()
    gltf = as_gltf(make_test_machine(tmp_path / "other"))  # a GLB would be read without a child
    window.open_path(gltf)
    wait_until(lambda: _importer() is not None, timeout=10, step=QtWidgets.QApplication.processEvents)
    with qtbot.waitSignal(window.loader.finished, timeout=10000):
        _importer().send_signal(signal.SIGSEGV)  # as OpenCASCADE might on a damaged file
    assert shown[0][0] == "Cannot open mesh"
    assert "rig.gltf: the importer crashed (SIGSEGV)" in shown[0][1]
    assert window.windowTitle().startswith("Test rig") and window.session.status.state == "live"

"""Walkthroughs in the window: each step's view on screen, completion with the broker's
values, the service report, and procedures edited and saved from the dock."""

import base64
import textwrap

import lxml.html
import numpy as np
import pypdf
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from tests.conftest import TEST_TWIN, make_test_machine
from tests.pixels import colour_at, pixel_of
from viewer.qt.window import MainWindow
from viewer.twin.loader import load_twin
from viewer.walkthrough import StepState

ARM = (0.3, 0.0, 0.5)
BEARING = (-0.25, -0.15, 0.35)
BASE = (-0.4, -0.3, 0.1)
TIP = (0.3, 0.0, 0.85)
BACKGROUND_MAX = 90  # the scene's dark gradient: no channel brighter than this
OUTLINE = (0, 230, 255)

PROCEDURE = """\
# Arm service: a comment that must survive editing
procedure: Arm service
steps:
  - title: Look at the arm
    camera: {position: [0.3, -3.0, 0.5], focal_point: [0.3, 0, 0.5], up: [0, 0, 1]}
    highlight: [arm]
    isolate: [arm]
    others: hide
  - title: Lift the tip off
    camera: {fit: [arm], view: front}
    move: [{part: tip, by: [0, 0, 0.3]}]   # straight up
  - title: Bearing cool
    highlight: [bearing]
    condition: {holds: "temp < 40", for: 0.5}
  - title: Measure the play
    measure: {name: play, unit: mm, range: [0, 0.1]}
"""


@pytest.fixture
def window(qtbot, tmp_path, mosquitto, monkeypatch):
    # closed with a walkthrough running, the window asks what to do with it: here, drop it
    discard = QtWidgets.QMessageBox.StandardButton.Discard
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", lambda *a, **k: discard)
    make_test_machine(tmp_path)
    (tmp_path / "arm.yaml").write_text(PROCEDURE)
    (tmp_path / "rig.twin.yaml").write_text(textwrap.dedent(TEST_TWIN) + "procedures: [arm.yaml]   # beside the twin\n")
    win = MainWindow(load_twin(tmp_path / "rig.twin.yaml"), broker_url=mosquitto)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: win.session.status.state == "live", timeout=10000)
    win.walkthrough_dock.show()
    win.walkthrough_dock.raise_()
    yield win
    win.close()


def _view(win):
    return win.plotter.screenshot(return_img=True)


def _landed(win, qtbot):
    qtbot.waitUntil(lambda: not win.flying(), timeout=3000)
    qtbot.wait(50)


def _is_background(colour) -> bool:
    return max(colour) <= BACKGROUND_MAX


def test_a_step_flies_to_its_camera_outlines_its_part_and_hides_the_others(window, qtbot):
    control = window.walkthroughs
    before = _view(window)
    control.start("A. Tech")
    _landed(window, qtbot)
    camera = window.plotter.camera
    assert np.allclose(camera.position, (0.3, -3.0, 0.5), atol=1e-6)
    assert np.allclose(camera.focal_point, (0.3, 0, 0.5), atol=1e-6)
    image = _view(window)
    assert not np.array_equal(image, before)
    assert not _is_background(colour_at(image, pixel_of(window.plotter, ARM)))  # the arm is drawn
    assert _is_background(colour_at(image, pixel_of(window.plotter, BEARING)))  # hidden: not drawn
    assert _is_background(colour_at(image, pixel_of(window.plotter, BASE)))
    outline = np.all(np.abs(image[..., :3].astype(int) - OUTLINE) <= 40, axis=-1)
    assert outline.sum() > 100  # the arm's outline, in the selection colour
    assert window.session.scene.label_texts() == [""]  # the hidden bearing's label went with it


def test_a_step_moves_its_part_out_and_the_end_puts_everything_back(window, qtbot):
    control = window.walkthroughs
    control.start("A. Tech")
    control.complete()  # a step with nothing to wait for
    _landed(window, qtbot)
    assert control.walkthrough.index == 1
    lifted = np.add(TIP, (0, 0, 0.3))
    image = _view(window)
    assert not _is_background(colour_at(image, pixel_of(window.plotter, lifted)))  # the tip, lifted
    assert _is_background(colour_at(image, pixel_of(window.plotter, TIP)))  # not where it was
    assert window.session.scene.parts.is_visible("bearing")  # this step hides nothing
    control.report_dialog = lambda: None  # the report is another test's
    control.abandon("test over")
    image = _view(window)
    assert _is_background(colour_at(image, pixel_of(window.plotter, lifted)))
    assert not _is_background(colour_at(image, pixel_of(window.plotter, TIP)))  # back on the arm


def test_the_dock_completes_a_step_when_the_broker_s_values_hold_and_reports_it(window, qtbot, publisher,
                                                                                  tmp_path):
    control = window.walkthroughs
    w = control.start("A. Tech")
    control.complete()
    control.complete()
    publisher.send("rig/bearing", {"temperature": 75})
    qtbot.waitUntil(lambda: "temp = 75" in control.panel.condition.text(), timeout=5000)
    assert w.records[2].state is StepState.WAITING and "Waiting" in control.panel.condition.text()
    control.complete()
    assert "does not hold" in control.panel.message.text() and w.records[2].refused == 1
    publisher.send("rig/bearing", {"temperature": 31})
    qtbot.waitUntil(lambda: w.status.ready, timeout=5000)
    qtbot.waitUntil(lambda: "Holds: the step can be completed" in control.panel.condition.text(), timeout=2000)
    control.complete()
    assert w.records[2].state is StepState.DONE and w.records[2].values["temp"][0] == 31
    control.panel.measure.setText("0.04")
    control.complete()
    w.finish()
    html, pdf = control.save_report(tmp_path / "service.html")
    page = lxml.html.fromstring(html.read_text())
    shots = [base64.b64decode(src.split(",", 1)[1]) for src in page.xpath("//img/@src")]
    assert len(shots) == 4 and all(s.startswith(b"\x89PNG") for s in shots)
    picture = QtGui.QImage.fromData(shots[2])
    assert picture.width() == min(window.plotter.interactor.width(), 960)  # the 3D view at that step
    assert len(pypdf.PdfReader(pdf).pages) >= 5
    assert "0.04 mm" in page.text_content()


def test_a_step_made_from_the_view_is_saved_with_the_file_s_comments_and_reloaded(window, qtbot, tmp_path):
    control = window.walkthroughs
    window.select("bearing")
    window.standard_view("side")
    control.editor.add_step("Check the bearing from the side")
    procedure = window.session.twin.procedures[0]
    assert [s.title for s in procedure.steps][:2] == ["Look at the arm", "Check the bearing from the side"]
    step = procedure.steps[1].spec
    assert step.highlight == ["bearing"]
    assert np.allclose(step.camera.position, window.plotter.camera.position, atol=1e-3)
    control.editor.move(1)  # the step shown (the new one) one down
    control.editor.set_step("Check the bearing", "Look for **grease** on the housing.")
    text = (tmp_path / "arm.yaml").read_text()
    assert text.startswith("# Arm service: a comment that must survive editing\n")
    assert "move: [{part: tip, by: [0, 0, 0.3]}]   # straight up" in text
    titles = [s.title for s in load_twin(tmp_path / "rig.twin.yaml").procedures[0].steps]
    assert titles == ["Look at the arm", "Lift the tip off", "Check the bearing", "Bearing cool", "Measure the play"]
    assert control.panel.steps.item(2).text().endswith("3. Check the bearing")
    assert control.panel.text.text() == "Look for **grease** on the housing."


def test_a_twin_without_procedures_says_how_to_make_one(qtbot, rig_twin):
    win = MainWindow(load_twin(rig_twin), broker_url="mqtt://127.0.0.1:1")
    qtbot.addWidget(win)
    try:
        panel = win.walkthroughs.panel
        assert panel.title.text() == "This twin has no procedures"
        assert not panel.start.isEnabled() and win.walkthroughs.editor.new.isEnabled()
    finally:
        win.close()


def test_a_done_step_can_be_looked_at_again_but_not_redone(window, qtbot):
    control = window.walkthroughs
    control.start("A. Tech")
    control.complete()
    assert control.panel.previous.isEnabled() and not control.panel.next.isEnabled()  # not past the step to do
    qtbot.mouseClick(control.panel.previous, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: control.walkthrough.index == 0, timeout=2000)
    assert control.panel.title.text() == "Step 1 of 4: Look at the arm"
    assert not control.panel.done.isEnabled() and control.panel.next.isEnabled()


def test_a_previewed_step_is_taken_off_the_machine_when_the_dock_closes(window, qtbot):
    control = window.walkthroughs
    control.go(0)  # no walkthrough: a preview of the first step, which hides the bearing
    _landed(window, qtbot)
    assert not window.session.scene.parts.is_visible("bearing")
    window.walkthrough_dock.close()
    qtbot.waitUntil(lambda: window.session.scene.parts.is_visible("bearing"), timeout=2000)
    assert window.session.scene.label_texts() != [""]  # its label is back


def test_the_next_step_during_a_flight_leaves_no_part_moved_after_the_end(window, qtbot):
    control = window.walkthroughs
    control.start("A. Tech")
    control.complete()  # to the step that lifts the tip, flying
    control.go(0)  # back at once, while the flight is on its way
    _landed(window, qtbot)
    control.report_dialog = lambda: None
    control.abandon("test over")
    assert np.allclose(window.session.scene.parts.world_transforms()["tip"],
                       window.session.twin.assembly.world_transforms()["tip"])


def test_opening_another_twin_during_a_walkthrough_offers_its_report(window, qtbot, tmp_path, monkeypatch,
                                                                     rig_twin):
    control = window.walkthroughs
    control.start("A. Tech")
    control.complete()
    monkeypatch.setattr(QtWidgets.QMessageBox, "question",
                        lambda *a, **k: QtWidgets.QMessageBox.StandardButton.Save)
    report = tmp_path / "reports" / "arm.html"
    report.parent.mkdir()
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a, **k: (str(report), ""))
    with qtbot.waitSignal(window.loader.loaded, timeout=30000):
        window.open_path(rig_twin)
    assert report.is_file() and report.with_suffix(".pdf").is_file()
    assert "abandoned" in report.read_text() and "rig.twin.yaml was opened instead" in report.read_text()
    assert control.walkthrough is None and window.session.twin.procedures == []

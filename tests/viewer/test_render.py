"""What the user sees, offscreen: the scene and `twinview render` on real frames."""

import re

import numpy as np
import pytest
import pyvista as pv
from PIL import Image

from meshes.transforms import rotation, translation
from overlays.colormap import NO_DATA_RGB, ColourRule
from tests.pixels import colour_at, near, pixel_of, same_hue
from viewer.cli import main
from viewer.scene import LABEL_PERIOD_S, Scene
from viewer.twin.loader import TwinError, load_twin

BEARING = (-0.25, -0.15, 0.35)  # front face centre of the test rig's bearing


@pytest.fixture
def scene(rig_twin):
    plotter = pv.Plotter(off_screen=True, window_size=(500, 400))
    scene = Scene(plotter, load_twin(rig_twin))
    scene.view("front")
    yield scene
    scene.close()
    plotter.close()


def _shot(scene):
    scene.plotter.render()
    return scene.plotter.screenshot(return_img=True)


def test_a_signal_without_data_is_grey_and_its_label_shows_no_value(scene):
    at = pixel_of(scene.plotter, BEARING)
    lit = colour_at(_shot(scene), at)
    assert abs(lit[0] - lit[1]) < 8 and abs(lit[1] - lit[2]) < 8  # grey, not a map colour
    assert scene.parts.colour_of("bearing").tolist() == NO_DATA_RGB.tolist()
    assert scene.label_texts() == ["T — degC"]


def test_a_hot_value_turns_the_part_to_the_maps_hot_end(scene):
    scene.sync({"temp": 150.0, "angle": None}, {"temp"}, dt=LABEL_PERIOD_S)
    hot = ColourRule("inferno", 20, 100).rgb(100)
    assert same_hue(colour_at(_shot(scene), pixel_of(scene.plotter, BEARING)), hot)
    assert scene.label_texts() == ["T 150.0 degC"]


def test_label_texts_change_at_most_ten_times_a_second(scene):
    values = {"temp": 50.0, "angle": None}
    scene.sync(values, {"temp"}, dt=LABEL_PERIOD_S)
    assert scene.label_texts() == ["T 50.0 degC"]
    values["temp"] = 51.0
    scene.sync(values, {"temp"}, dt=0.03)
    assert scene.label_texts() == ["T 50.0 degC"]  # too soon
    scene.sync(values, set(), dt=LABEL_PERIOD_S)  # no new data, but the text was owed
    assert scene.label_texts() == ["T 51.0 degC"]


def test_labels_are_drawn_on_screen(scene):
    before = _shot(scene)
    scene.sync({"temp": 88.0, "angle": None}, {"temp"}, dt=LABEL_PERIOD_S)
    after = _shot(scene)
    row, col = pixel_of(scene.plotter, (-0.25, 0, 0.5))  # label anchor: top of the bearing
    window = (slice(row - 35, row), slice(col - 50, col + 50))  # the box sits centred above
    assert np.abs(after[window].astype(int) - before[window].astype(int)).sum() > 2000


def test_render_command_draws_live_values(rig_twin, mosquitto, publisher, tmp_path):
    out = tmp_path / "shot.png"
    import threading

    done = threading.Event()

    def publish():
        while not done.is_set():  # like a device: publish periodically
            publisher.send("rig/bearing", {"temperature": 120})
            publisher.send("rig/arm/angle", "60")
            done.wait(0.2)

    thread = threading.Thread(target=publish)
    thread.start()
    try:
        assert main(["render", str(rig_twin), "-o", str(out), "--seconds", "1.5",
                     "--broker", mosquitto, "--size", "500x400"]) == 0
    finally:
        done.set()
        thread.join()
    image = np.asarray(Image.open(out))[..., :3]
    assert image.shape == (400, 500, 3)
    yellowish = (image[..., 0] > 200) & (image[..., 1] > 180) & (image[..., 2] < 200)
    assert yellowish.sum() > 500  # the bearing at inferno's hot end


def test_render_says_in_its_exit_status_when_not_every_signal_was_live(rig_twin, mosquitto, publisher,
                                                                        tmp_path, capsys):
    publisher.send("rig/bearing", {"temperature": 50}, retain=True)  # a retained copy: last known
    assert main(["render", str(rig_twin), "-o", str(tmp_path / "x.png"), "--seconds", "0.5",
                 "--broker", mosquitto, "--size", "200x150"]) == 4
    err = capsys.readouterr().err
    assert "not live: temp (last known)" in err and "not live: angle (no data)" in err


def test_render_for_no_time_never_says_live_and_unreachable_at_once(rig_twin, mosquitto, tmp_path, capsys):
    code = main(["render", str(rig_twin), "-o", str(tmp_path / "x.png"), "--seconds", "0",
                 "--broker", mosquitto, "--size", "200x150"])
    err = capsys.readouterr().err
    assert ("broker not reachable" in err) == (code == 3)
    assert not ("broker not reachable" in err and f"(live · {mosquitto})" in err)


def test_render_without_a_broker_still_draws_the_machine(rig_twin, tmp_path, capsys):
    out = tmp_path / "shot.png"
    assert main(["render", str(rig_twin), "-o", str(out), "--seconds", "0.3", "--size", "400x300"]) == 3
    assert "broker not reachable" in capsys.readouterr().err
    image = np.asarray(Image.open(out))[..., :3].astype(int)
    background = image[5, -5]
    differs = np.abs(image - background).sum(axis=2) > 60
    assert differs.sum() > 0.05 * differs.size  # the machine is drawn


def test_rotating_a_part_moves_its_silhouette(scene):
    scene.set_condition_view(False)  # the arm in its file colour (green) shows where it is
    tip = pixel_of(scene.plotter, (0.3, -0.08, 0.85))
    before = _shot(scene)
    arm_mid = pixel_of(scene.plotter, (0.3 + 0.3 * 0.7071, -0.045, 0.2 + 0.3 * 0.7071))
    assert not same_hue(colour_at(before, arm_mid), (40, 160, 60))
    scene.sync({"temp": None, "angle": 45.0}, {"angle"}, dt=0.03)
    after = _shot(scene)
    assert not near(colour_at(after, tip), colour_at(before, tip), tol=30)  # the tip left
    assert same_hue(colour_at(after, arm_mid), (40, 160, 60), tol=40)  # the arm is here now


def test_bindings_and_labels_can_show_a_signal_in_another_unit(rig_twin):
    text = rig_twin.read_text().replace(
        "cmap: inferno, range: [20, 100]}", "cmap: inferno, range: [68, 212], unit: degF}").replace(
        'text: "T {temp:.1f} degC"}', 'text: "T {temp:.1f} °F", units: {temp: degF}}')
    rig_twin.write_text(text)
    plotter = pv.Plotter(off_screen=True, window_size=(200, 150))
    scene = Scene(plotter, load_twin(rig_twin))
    scene.sync({"temp": 100.0, "angle": None}, {"temp"}, dt=LABEL_PERIOD_S)  # 100 degC = 212 degF
    assert scene.label_texts() == ["T 212.0 °F"]
    assert scene.parts.colour_of("bearing").tolist() == ColourRule("inferno", 68, 212).rgb(212).tolist()
    plotter.close()


def test_a_label_riding_on_a_moving_part_does_not_hold_the_part_back(rig_twin):
    # Regression: the label pass asked for world matrices before the actors got theirs,
    # and the moving part stayed drawn at rest while its label moved.
    rig_twin.write_text(rig_twin.read_text() + '  - {label: arm, text: "arm {angle:.0f}"}\n')
    plotter = pv.Plotter(off_screen=True, window_size=(500, 400))
    scene = Scene(plotter, load_twin(rig_twin))
    scene.set_condition_view(False)
    scene.view("front")
    arm_mid = pixel_of(plotter, (0.3 + 0.3 * 0.7071, -0.045, 0.2 + 0.3 * 0.7071))
    scene.sync({"temp": None, "angle": 45.0}, {"angle"}, dt=LABEL_PERIOD_S)
    plotter.render()
    assert same_hue(colour_at(plotter.screenshot(return_img=True), arm_mid), (40, 160, 60), tol=40)
    assert scene.label_texts()[1] == "arm 45"
    plotter.close()


def test_an_angle_in_radians_turns_the_part_by_that_angle(rig_twin):
    # 0.785398 rad is 45 degrees: the arm must stand where 45 degrees puts it, on screen too.
    rig_twin.write_text(rig_twin.read_text().replace("angle: {topic: rig/arm/angle, unit: deg}",
                                                     "angle: {topic: rig/arm/angle, unit: rad}"))
    plotter = pv.Plotter(off_screen=True, window_size=(500, 400))
    scene = Scene(plotter, load_twin(rig_twin))
    scene.set_condition_view(False)
    scene.view("front")
    arm_mid = pixel_of(plotter, (0.3 + 0.3 * 0.7071, -0.045, 0.2 + 0.3 * 0.7071))
    scene.sync({"temp": None, "angle": np.pi / 4}, {"angle"}, dt=0.03)
    assert np.allclose(scene.parts.joints["arm"], rotation(45.0, (0, 1, 0)))
    plotter.render()
    assert same_hue(colour_at(plotter.screenshot(return_img=True), arm_mid), (40, 160, 60), tol=40)
    plotter.close()


@pytest.mark.parametrize("kind, unit, value, expected", [
    ("translate", "mm", 250.0, translation((0, 0.25, 0))),
    ("translate", "in", 10.0, translation((0, 0.254, 0))),
    ("rotate", "turn", 0.25, rotation(90.0, (0, 1, 0))),
    ("rotate", "%", 50.0, rotation(50.0, (0, 1, 0))),  # a plain number: scale says what it means
])
def test_motion_bindings_convert_the_signals_unit(rig_twin, kind, unit, value, expected):
    rig_twin.write_text(rig_twin.read_text().replace("unit: deg}", f"unit: '{unit}'}}").replace(
        "{rotate: arm, signal: angle}", f"{{{kind}: arm, signal: angle}}"))
    plotter = pv.Plotter(off_screen=True, window_size=(100, 100))
    scene = Scene(plotter, load_twin(rig_twin))
    scene.sync({"temp": None, "angle": value}, {"angle"}, dt=0.03)
    assert np.allclose(scene.parts.joints["arm"], expected)
    plotter.close()


def test_a_spin_in_hertz_turns_sixty_times_a_minute_per_hertz(rig_twin):
    rig_twin.write_text(rig_twin.read_text().replace("unit: deg}", "unit: Hz}").replace(
        "{rotate: arm, signal: angle}", "{spin: arm, signal: angle}"))
    plotter = pv.Plotter(off_screen=True, window_size=(100, 100))
    scene = Scene(plotter, load_twin(rig_twin))
    scene.sync({"temp": None, "angle": 0.5}, {"angle"}, dt=0.5)  # 0.5 rev/s for 0.5 s: a quarter turn
    assert np.allclose(scene.parts.joints["arm"], rotation(90.0, (0, 1, 0)))
    plotter.close()


@pytest.mark.parametrize("change, message", [
    (("unit: deg}", "unit: degC}"), "a rotate binding needs an angle (deg, rad, turn) or a plain number, not 'degC'"),
    (("{rotate: arm, signal: angle}", "{translate: arm, signal: angle}"), "a translate binding needs a length"),
    (("{rotate: arm, signal: angle}", "{rotate: arm, signal: angle, unit: rad}"), "remove 'unit'"),
])
def test_a_motion_driven_by_the_wrong_kind_of_unit_is_a_load_error(rig_twin, change, message):
    rig_twin.write_text(rig_twin.read_text().replace(*change))
    with pytest.raises(TwinError, match=re.escape(message)):
        load_twin(rig_twin)


def test_a_label_of_two_signals_says_whose_limit_comes_next():
    import pyvista as pv

    from viewer.predict import Crossing, Forecast
    from viewer.samples import SAMPLES
    from viewer.scene import Scene
    from viewer.state import TwinForecasts
    from viewer.twin.loader import load_twin

    twin = load_twin(SAMPLES["pump"])
    plotter = pv.Plotter(off_screen=True, window_size=(400, 300))
    try:
        scene = Scene(plotter, twin)
        scene.forecasts = forecasts = TwinForecasts(twin.alarms)
        now = __import__("time").time()
        forecasts.latest.update({"motor_speed": Forecast("linear", 0.5, [Crossing("alarm_high", 1560, 180, 160, 200)]),
                                 "motor_current": Forecast("linear", 0.01, [Crossing("warn_high", 58, 300, 270, 330)])})
        forecasts.fitted.update({"motor_speed": now, "motor_current": now})
        [motor] = [i for i, (b, _) in enumerate(scene.labels) if b.part == "motor" and b.at is None]  # not a sensor's
        text = scene._label_text(motor, {"motor_speed": 1480.0, "motor_current": 54.0})
        assert text.endswith("· Current warning in ~5.0 min · Speed alarm in ~3.0 min") or \
            text.endswith("· Speed alarm in ~3.0 min · Current warning in ~5.0 min"), text
        scene.close()
    finally:
        plotter.close()

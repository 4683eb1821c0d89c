"""Surface fields: a part coloured from point sensors, on real frames."""

import numpy as np
import pytest
import pyvista as pv
import trimesh

from overlays.colormap import NO_DATA_RGB, ColourRule
from overlays.field import SurfaceField
from tests.pixels import colour_at, near, pixel_of, same_hue
from viewer.scene import Scene
from viewer.twin.loader import TwinError, load_twin

TWIN = """\
twin: Plate
parts:
  - {name: plate, mesh: plate.stl}
signals:
  cold: {topic: plate/cold, unit: °C}
  hot: {topic: plate/hot, unit: °C}
bindings:
  - field: plate
    range: [0, 100]
    cmap: coolwarm
    sensors:
      - {signal: cold, at: [-0.45, -0.05, 0]}
      - {signal: hot, at: [0.45, -0.05, 0]}
"""


def test_at_a_sensor_the_surface_takes_its_value_and_between_sensors_lies_between_them():
    rng = np.random.default_rng(4)
    points = rng.uniform(-1, 1, (5000, 3))
    sensors = rng.uniform(-1, 1, (6, 3))
    points[:6] = sensors  # six points sit exactly on the sensors
    readings = np.array([20.0, 35.0, 50.0, 65.0, 80.0, 95.0])
    values = SurfaceField(points, sensors).values(readings)
    assert values[:6] == pytest.approx(readings, abs=1e-3)
    assert values.min() >= 20.0 - 1e-3 and values.max() <= 95.0 + 1e-3  # never beyond what was measured
    assert len(np.unique(np.round(values, 1))) > 100  # a field, not six patches


def test_a_sensor_that_does_not_count_drops_out_and_the_others_fill_in():
    points = np.array([[0.0, 0, 0], [0.5, 0, 0], [1.0, 0, 0]])
    field = SurfaceField(points, np.array([[0.0, 0, 0], [1.0, 0, 0]]))
    assert field.values(np.array([10.0, 30.0])) == pytest.approx([10.0, 20.0, 30.0], abs=1e-3)
    assert field.values(np.array([10.0, np.nan])) == pytest.approx([10.0, 10.0, 10.0])  # the stale one is gone
    assert np.isnan(field.values(np.array([np.nan, np.nan]))).all()  # none: nothing known
    assert field.values(np.array([10.0, 30.0])) == pytest.approx([10.0, 20.0, 30.0], abs=1e-3)  # and back


@pytest.fixture
def plate_scene(tmp_path):
    plate = trimesh.creation.box((1.0, 0.1, 0.2))
    plate = trimesh.Trimesh(*trimesh.remesh.subdivide_to_size(plate.vertices, plate.faces, 0.02))
    plate.export(tmp_path / "plate.stl")
    (tmp_path / "plate.twin.yaml").write_text(TWIN)
    plotter = pv.Plotter(off_screen=True, window_size=(600, 300))
    scene = Scene(plotter, load_twin(tmp_path / "plate.twin.yaml"))
    scene.set_layer_visible("labels", False)
    scene.set_layer_visible("legends", False)
    scene.view("front")
    yield scene
    scene.close()
    plotter.close()


def _shot(scene):
    scene.plotter.render()
    return scene.plotter.screenshot(return_img=True)


def test_the_part_is_coloured_from_its_sensors_and_a_stale_one_drops_out(plate_scene):
    scene, rule = plate_scene, ColourRule("coolwarm", 0, 100)
    at = {x: pixel_of(scene.plotter, (x, -0.05, 0.0)) for x in (-0.38, 0.0, 0.38)}  # the front face
    scene.sync({"cold": 10.0, "hot": 90.0}, {"cold", "hot"}, dt=0.0, qualities={"cold": "live", "hot": "live"})
    image = _shot(scene)
    cold, middle, hot = (colour_at(image, at[x]) for x in (-0.38, 0.0, 0.38))
    assert same_hue(cold, rule.rgb(12)) and same_hue(hot, rule.rgb(88)), (cold, hot)
    assert same_hue(middle, rule.rgb(50), tol=45), middle  # half way: the map's middle (a light grey)
    assert cold[2] > middle[2] > hot[2] and hot[0] > cold[0]  # blue falls along the plate, red rises
    marker = pixel_of(scene.plotter, (0.45, -0.05, 0.0))
    assert near(colour_at(image, marker, radius=1), rule.rgb(90), tol=40)  # the sensor's marker, in its colour

    scene.sync({"cold": 10.0, "hot": 90.0}, {"hot"}, dt=0.0, qualities={"cold": "live", "hot": "stale"})
    image = _shot(scene)
    assert same_hue(colour_at(image, at[0.38]), rule.rgb(10)), colour_at(image, at[0.38])  # the cold one alone
    assert near(colour_at(image, marker, radius=1), (150, 150, 150), tol=40)  # its marker greyed

    scene.sync({"cold": None, "hot": None}, {"cold", "hot"}, dt=0.0, qualities={"cold": "no data", "hot": "no data"})
    assert same_hue(colour_at(_shot(scene), at[0.0]), NO_DATA_RGB, tol=20)


def test_hiding_the_data_colours_hides_the_field_and_its_markers(plate_scene):
    scene = plate_scene
    values = {"cold": 10.0, "hot": 90.0}
    scene.sync(values, set(values), dt=0.0, qualities={"cold": "live", "hot": "live"})
    at = pixel_of(scene.plotter, (0.4, -0.05, 0.0))
    hot = colour_at(_shot(scene), at)
    scene.set_layer_visible("colours", False)
    plain = colour_at(_shot(scene), at)
    assert abs(plain[0] - plain[2]) < 12 and not near(plain, hot, tol=30)  # the part's own grey
    scene.set_layer_visible("colours", True, values)
    assert near(colour_at(_shot(scene), at), hot, tol=6)


def test_sensors_show_their_values_in_labels_at_their_places(plate_scene):
    scene = plate_scene
    scene.sync({"cold": 10.0, "hot": 90.0}, {"cold", "hot"}, dt=1.0, qualities={"cold": "live", "hot": "live"})
    assert scene.label_texts() == ["10.0 °C", "90.0 °C"]


@pytest.mark.parametrize("old, new, line, message", [
    ("  hot: {topic: plate/hot, unit: °C}", "  hot: {topic: plate/hot, unit: °F}", 11,
     "a field's sensors must be in one unit (cold in °C, hot in °F): give the binding a unit"),
    ("{signal: hot, at", "{signal: hott, at", 13, "unknown signal 'hott' (did you mean 'hot'?)"),
    ("    cmap: coolwarm\n", "    cmap: coolwarm\n    unit: bar\n", 14, "cannot convert '°C' to 'bar'"),
    ("    range: [0, 100]\n", "", 8, "a field binding needs range"),
])
def test_a_field_s_mistakes_are_load_errors_at_their_lines(tmp_path, old, new, line, message):
    trimesh.creation.box((1.0, 0.1, 0.2)).export(tmp_path / "plate.stl")
    (tmp_path / "plate.twin.yaml").write_text(TWIN.replace(old, new))
    with pytest.raises(TwinError) as err:
        load_twin(tmp_path / "plate.twin.yaml")
    assert any(p.line == line and message in p.message for p in err.value.problems), err.value


def test_a_field_in_another_unit_converts_every_sensor(tmp_path):
    trimesh.creation.box((1.0, 0.1, 0.2)).export(tmp_path / "plate.stl")
    (tmp_path / "plate.twin.yaml").write_text(TWIN.replace("    cmap: coolwarm\n", "    cmap: coolwarm\n    unit: degF\n"))
    twin = load_twin(tmp_path / "plate.twin.yaml")
    field = twin.bindings[0]
    assert twin.converted(0, "hot", 100.0) == pytest.approx(212.0)
    labels = [b for b in twin.bindings if b.kind == "label"]
    assert [b.text for b in labels] == ["{cold:.1f} °F", "{hot:.1f} °F"] and labels[1].at == field.sensors[1].at
    assert twin.converted(2, "hot", 100.0) == pytest.approx(212.0)  # the sensor's label converts as the field does

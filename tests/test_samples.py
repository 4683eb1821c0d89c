"""The sample machines: rebuilt by their script, and their twins move as machines do."""

import importlib.util

import numpy as np
import pytest
import pyvista as pv

from meshes import load_assembly
from viewer.samples import RESOURCES, SAMPLES
from viewer.scene import Scene
from viewer.twin.loader import load_twin


def _build_samples():
    spec = importlib.util.spec_from_file_location("build_samples", RESOURCES / "machines" / "build_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("builder, committed", [
    ("build_pump", "pump/pump_skid.glb"), ("build_robot", "robot/robot_cell.glb"),
])
def test_the_script_rebuilds_the_committed_samples(builder, committed, tmp_path):
    out = tmp_path / "rebuilt.glb"
    getattr(_build_samples(), builder)(str(out))
    fresh = load_assembly(out, name="m")
    shipped = load_assembly(RESOURCES / "machines" / committed, name="m")
    assert fresh.units == shipped.units == "meters (from file)"
    assert [(p.name, p.parent) for p in fresh] == [(p.name, p.parent) for p in shipped]
    assert fresh.n_triangles == shipped.n_triangles
    assert np.allclose(fresh.bounds(), shipped.bounds())


@pytest.fixture
def scene_of():
    plotters = []

    def make(name):
        plotters.append(pv.Plotter(off_screen=True, window_size=(300, 200)))
        return Scene(plotters[-1], load_twin(SAMPLES[name]))
    yield make
    for plotter in plotters:
        plotter.close()


def test_robot_children_follow_their_parents(scene_of):
    scene = scene_of("robot")
    rest = scene.parts.world_transforms()
    zero = {f"j{i}": 0.0 for i in range(1, 6)}
    scene.sync({**zero, "j1": 90.0}, {"j1"}, dt=0.03)  # turn the base only
    moved = scene.parts.world_transforms()
    for link in ("upper_arm", "forearm", "wrist", "gripper"):
        x, y, _ = rest[link][:3, 3]
        assert np.allclose(moved[link][:3, 3][:2], [-y, x], atol=1e-9), link  # 90 deg about Z
    scene.sync({**zero, "j1": 90.0, "j2": 30.0}, {"j2"}, dt=0.03)  # then the shoulder
    again = scene.parts.world_transforms()
    assert np.allclose(again["turret"], moved["turret"])  # the parent does not follow the child
    assert not np.allclose(again["gripper"], moved["gripper"])


def test_pump_shaft_spins_with_its_impeller_and_valves_travel(scene_of):
    scene = scene_of("pump")
    values = {name: None for name in scene.twin.signals}
    values.update(motor_speed=1500.0, discharge_valve=50.0)
    scene.sync(values, {"motor_speed", "discharge_valve"}, dt=0.01)  # 1500 rpm for 10 ms = 90 deg
    world = scene.parts.world_transforms()
    shaft, impeller = world["shaft"], world["impeller"]
    assert np.allclose(shaft[:3, :3] @ [0, 1, 0], [0, 0, 1], atol=1e-9)  # turned 90 deg about +X
    assert np.allclose(impeller[:3, :3], shaft[:3, :3])  # the impeller rides on the shaft
    rest = scene.twin.assembly.world_transforms()
    rise = world["discharge_valve_stem"][2, 3] - rest["discharge_valve_stem"][2, 3]
    assert rise == pytest.approx(50 * 0.0006)  # 50 % of a 60 mm stroke
    scene.sync(values, set(), dt=0.01)  # no new data, but the shaft keeps turning
    assert not np.allclose(scene.parts.world_transforms()["shaft"], shaft)


def test_vectorised_colouring_matches_the_rule_part_by_part(scene_of):
    scene = scene_of("pump")
    values = {name: None for name in scene.twin.signals}
    values.update(bearing_de_temp=97.0, bearing_nde_temp=41.0, vibration=float("nan"))
    scene.sync(values, set(values), dt=0.03)
    for binding, rule in scene.colours:
        expected = rule.rgb(values[binding.signal])
        assert scene.parts.colour_of(binding.part).tolist() == expected.tolist(), binding.part


def test_a_label_sits_on_its_own_part_not_on_the_parts_riding_on_it(scene_of):
    scene = scene_of("robot")
    [i] = [i for i, (b, _) in enumerate(scene.labels) if b.part == "upper_arm"]
    rest = scene.twin.assembly.world_transforms()
    anchor = (rest["upper_arm"] @ scene._anchors[i])[:3]
    lo, hi = scene.parts.bounds("upper_arm", own=True)
    assert np.all(anchor[:2] >= lo[:2]) and np.all(anchor[:2] <= hi[:2]) and anchor[2] == pytest.approx(hi[2])

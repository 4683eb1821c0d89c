"""The condition look on rendered frames: neutral parts, alarm tints, badges, x-ray."""

import shutil
import textwrap
from pathlib import Path

import numpy as np
import pytest
import pyvista as pv
import trimesh

from overlays import palette
from overlays.colormap import ColourRule
from tests.conftest import _box
from tests.pixels import colour_at, pixel_of
from viewer.scene import Scene
from viewer.twin.loader import load_twin

PUMP = "resources/machines/pump"


def _frame(plotter) -> np.ndarray:
    plotter.render()
    return plotter.screenshot(return_img=True)[..., :3].astype(int)


def _pump_without_labels(tmp_path):
    """The demo pump (its colour bindings kept, its labels taken out: they cover parts)."""
    shutil.copy(f"{PUMP}/pump_skid.glb", tmp_path)
    shutil.copytree(f"{PUMP}/procedures", tmp_path / "procedures", dirs_exist_ok=True)
    lines = Path(PUMP, "pump.twin.yaml").read_text().splitlines()
    (tmp_path / "pump.twin.yaml").write_text("\n".join(l for l in lines if "{label:" not in l) + "\n")
    return load_twin(tmp_path / "pump.twin.yaml")


def _unbound_pixels(scene) -> np.ndarray:
    """Colours of the frame's pixels drawn by parts that no colour binding colours."""
    bound = [b.part for b, _ in scene.colours]
    everything = [p.name for p in scene.twin.assembly if p.parent is None]
    for part in bound:
        scene.parts.set_visible(part, False)
    scene.parts.flush()
    unbound = _frame(scene.plotter)
    for part in everything:
        scene.parts.set_visible(part, False)
    scene.parts.flush()
    empty = _frame(scene.plotter)
    for part in everything:
        scene.parts.set_visible(part, True)
    scene.parts.flush()
    drawn = np.abs(unbound - empty).sum(axis=2) > 12
    return unbound[drawn]


def test_in_the_condition_view_no_unbound_part_looks_like_a_data_colour(tmp_path):
    twin = _pump_without_labels(tmp_path)
    plotter = pv.Plotter(off_screen=True, window_size=(640, 400))
    scene = Scene(plotter, twin)
    try:
        maps = np.concatenate([rule.table for _, rule in scene.colours])
        assert scene.condition_view  # the default for a twin with bindings
        pixels = _unbound_pixels(scene)
        assert len(pixels) > 0.1 * 640 * 400  # most of the machine carries no colour binding
        gaps = palette.distance(np.unique(pixels, axis=0), maps)
        assert np.percentile(gaps, 1) >= 10, np.percentile(gaps, [0, 1, 5])  # ΔE: clearly another colour
        # The CAD's own colours (the toggle back) do look like data: the painted frame is
        # inferno's yellow, the motor a map's green. That is what the view is for.
        scene.set_condition_view(False)
        cad = palette.distance(np.unique(_unbound_pixels(scene), axis=0), maps)
        assert (cad < 10).mean() > 0.05, np.percentile(cad, [1, 5, 25])
    finally:
        scene.close()
        plotter.close()


def test_the_selection_colour_keeps_away_from_every_map_and_severity():
    severities = np.array(list(palette.SEVERITY_RGB.values()))
    for cmaps in (["inferno"], ["RdYlGn_r", "inferno"], ["jet"], ["turbo", "viridis"], ["coolwarm"]):
        maps = np.concatenate([ColourRule(c, 0, 1).table for c in cmaps])
        chosen = palette.selection_colour(maps, severities)
        assert palette.distance([chosen], np.r_[maps, severities])[0] >= palette.FAR, cmaps
    cyan = palette.SELECTION_CANDIDATES[0]
    assert not np.array_equal(palette.selection_colour(ColourRule("jet", 0, 1).table, severities), cyan)


def _wall_and_pump(folder):
    """A small 'pump' box, and a wall that hides it from the front (camera at -y)."""
    scene = trimesh.Scene()
    scene.add_geometry(_box((0.6, 0.6, 0.6), (0, 0, 0.3), (200, 120, 40)), node_name="pump", geom_name="pump")
    scene.add_geometry(_box((2.0, 0.05, 1.5), (0, -1.0, 0.5), (150, 150, 150)), node_name="wall", geom_name="wall")
    scene.add_geometry(_box((0.4, 0.4, 0.4), (1.6, 0, 0.2), (90, 90, 200)), node_name="motor", geom_name="motor")
    scene.export(folder / "site.glb")
    (folder / "site.twin.yaml").write_text(textwrap.dedent("""\
        twin: Site
        parts:
          - {name: site, mesh: site.glb}
        signals:
          t: {topic: site/t, unit: degC, limits: {warn_high: 80, alarm_high: 90}}
        bindings:
          - {colour: pump, signal: t, cmap: inferno, range: [20, 100]}
        """))
    return load_twin(folder / "site.twin.yaml")


@pytest.fixture
def site(tmp_path):
    plotter = pv.Plotter(off_screen=True, window_size=(640, 400))
    plotter.enable_parallel_projection()
    scene = Scene(plotter, _wall_and_pump(tmp_path))
    scene.set_blinking(False)
    plotter.camera.focal_point, plotter.camera.position, plotter.camera.up = (0.5, 0, 0.4), (0.5, -6, 0.4), (0, 0, 1)
    plotter.camera.parallel_scale = 1.2
    yield scene
    scene.close()
    plotter.close()


def _severity_pixels(image, severity, tol=40) -> np.ndarray:
    return np.abs(image - palette.SEVERITY_RGB[severity].astype(int)).sum(axis=2) < tol


def test_a_part_in_alarm_is_tinted_unless_data_colours_it(site):
    site.parts.set_visible("wall", False)
    site.parts.flush()
    motor, pump = pixel_of(site.plotter, (1.6, -0.2, 0.2)), pixel_of(site.plotter, (0, -0.3, 0.3))
    image = _frame(site.plotter)
    before = colour_at(image, motor), colour_at(image, pump)
    site.set_alarms({"motor": (3, False, True), "pump": (3, False, True)})
    image = _frame(site.plotter)
    red = palette.SEVERITY_RGB[3].astype(float)
    assert np.linalg.norm(colour_at(image, motor) - red) < np.linalg.norm(before[0] - red) - 60  # much redder
    assert np.allclose(colour_at(image, pump), before[1], atol=3)  # the data colour is never tinted
    site.set_alarms({"motor": None, "pump": None})
    assert np.allclose(colour_at(_frame(site.plotter), motor), before[0], atol=3)  # back as it was


def test_a_badge_shows_beside_its_part_and_says_when_the_part_is_hidden(site):
    site.set_alarms({"pump": (3, False, True)})
    image = _frame(site.plotter)
    assert site.badges.hidden.tolist() == [True]  # the wall covers the pump
    rows, cols = np.nonzero(_severity_pixels(image, 3))
    assert len(rows) > 200  # the red badge is drawn over the wall
    centre = site.badges.centres[0]
    assert abs(cols.mean() - centre[0]) < 30 and abs((image.shape[0] - rows.mean()) - centre[1]) < 40
    white = (image.min(axis=2) > 235).sum()  # the "!" and the dashed white ring: "behind"

    site.parts.set_visible("wall", False)
    site.parts.flush()
    image = _frame(site.plotter)
    assert site.badges.hidden.tolist() == [False]
    assert (image.min(axis=2) > 235).sum() < white - 50  # no ring: the pump is in view
    assert _severity_pixels(image, 3).sum() > 200


def test_an_acknowledged_badge_is_outlined_not_filled(site):
    site.set_alarms({"pump": (3, False, True)})
    unacked = _severity_pixels(_frame(site.plotter), 3).sum()
    site.set_alarms({"pump": (3, True, True)})
    acked = _severity_pixels(_frame(site.plotter), 3).sum()
    assert 0 < acked < 0.8 * unacked  # the halo gone, the square hollow


def test_a_selected_part_behind_another_is_seen_through(site):
    pump = pixel_of(site.plotter, (0, 0, 0.3))
    wall = colour_at(_frame(site.plotter), pump)
    site.parts.highlight("pump")
    seen = colour_at(_frame(site.plotter), pump)
    chosen = site.parts.selection.rgb.astype(float)
    assert site.parts.selection.hidden
    assert np.linalg.norm(seen - chosen) < np.linalg.norm(wall - chosen) - 40  # the ghost shows
    site.parts.set_visible("wall", False)
    site.parts.flush()
    _frame(site.plotter)
    assert not site.parts.selection.hidden  # in view: no ghost over its data colour
    site.parts.highlight(None)

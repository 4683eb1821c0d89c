"""PartMeshes on real rendered frames: recolour, move, hide and pick parts in place."""

import numpy as np
import pytest
import pyvista as pv

from meshes import load_assembly, rotation
from overlays.parts import PartMeshes
from tests.pixels import colour_at, near, pixel_of
from tests.conftest import make_test_machine


@pytest.fixture
def view(tmp_path):
    assembly = load_assembly(make_test_machine(tmp_path), name="rig")
    plotter = pv.Plotter(off_screen=True, window_size=(400, 300))
    parts = PartMeshes(plotter, assembly, moving={"arm"})
    plotter.view_xz()  # looking along +Y at the rig's front
    plotter.reset_camera()
    yield plotter, parts
    plotter.close()


def _shot(plotter):
    plotter.render()
    return plotter.screenshot(return_img=True)


def test_static_parts_share_one_actor_and_moving_parts_get_their_own(view):
    _, parts = view
    roots = sorted(str(g.root) for g in parts.groups)
    assert roots == ["None", "arm"]  # tip rides in arm's group


def test_recolouring_a_part_changes_its_pixels_and_only_its_pixels(view):
    plotter, parts = view
    bearing, base = pixel_of(plotter, (-0.25, -0.15, 0.35)), pixel_of(plotter, (0.0, -0.3, 0.1))
    before = _shot(plotter)
    parts.set_colour("bearing", (255, 0, 0))
    parts.flush()
    after = _shot(plotter)
    assert near(colour_at(after, bearing), (255, 0, 0), tol=90)
    assert np.allclose(colour_at(after, base), colour_at(before, base), atol=3)
    parts.set_colour("bearing", None)  # back to the file's colour
    parts.flush()
    assert np.allclose(colour_at(_shot(plotter), bearing), colour_at(before, bearing), atol=3)


def test_new_data_colours_leave_the_other_parts_and_the_alarm_tint_as_they_were(view):
    plotter, parts = view
    bearing, base = pixel_of(plotter, (-0.25, -0.15, 0.35)), pixel_of(plotter, (0.0, -0.3, 0.1))
    before = _shot(plotter)
    parts.set_colour("bearing", (255, 0, 0))
    base_idx = parts.own_geometry("base")
    parts.set_tints(base_idx, (0, 0, 255), 1.0)  # base in alarm, drawn all blue
    parts.flush()
    for rgb in ((0, 255, 0), (255, 0, 0)):  # new data colours: only the bearing's points are rewritten
        parts.set_colour("bearing", rgb)
        parts.flush()
        shot = _shot(plotter)
        assert near(colour_at(shot, bearing), rgb, tol=90)
        assert near(colour_at(shot, base), (0, 0, 255), tol=90)
    parts.set_tints(base_idx, 0, 0.0)
    parts.set_tints(parts.own_geometry("bearing"), (0, 0, 255), 1.0)  # a tint shows over a data colour too
    parts.flush()
    shot = _shot(plotter)
    assert near(colour_at(shot, bearing), (0, 0, 255), tol=90)
    assert np.allclose(colour_at(shot, base), colour_at(before, base), atol=3)


def test_joint_moves_the_part_and_its_children(view):
    plotter, parts = view
    tip_rest = pixel_of(plotter, (0.3, -0.08, 0.85))
    before = _shot(plotter)
    parts.set_joint("arm", rotation(90, (0, 1, 0)))  # arm folds flat along +X
    parts.flush()
    world = parts.world_transforms()
    assert np.allclose(world["tip"][:3, 3], [0.3 + 0.6, 0, 0.2], atol=1e-9)
    after = _shot(plotter)
    assert not np.allclose(colour_at(after, tip_rest), colour_at(before, tip_rest), atol=10)
    assert near(colour_at(after, pixel_of(plotter, (0.95, -0.08, 0.2))), (40, 60, 200), tol=110)


def test_hiding_a_part_reveals_what_is_behind(view):
    plotter, parts = view
    at = pixel_of(plotter, (-0.25, -0.15, 0.35))
    before = colour_at(_shot(plotter), at)
    parts.set_visible("bearing", False)
    parts.flush()
    hidden = colour_at(_shot(plotter), at)
    assert not np.allclose(hidden, before, atol=10)
    assert not parts.is_visible("bearing")


def test_picking_a_pixel_names_the_part_under_it(view):
    plotter, parts = view
    _shot(plotter)
    row, col = pixel_of(plotter, (-0.25, -0.15, 0.35))
    assert parts.pick(col, plotter.window_size[1] - 1 - row) == "bearing"
    assert parts.pick(2, 2) is None


def test_group_parts_colour_their_children(view):
    _, parts = view
    parts.set_colour("rig", (0, 255, 0))
    assert tuple(parts.colour_of("base")) == (0, 255, 0)
    parts.set_colour("arm", (255, 0, 0))  # a part with geometry colours itself only
    assert tuple(parts.colour_of("tip")) == (0, 255, 0)


def test_the_files_normals_shade_the_part_turned_with_it(tmp_path):
    """A square facing the camera, lit from the camera: bright with the file's normals
    facing the light, dark with normals the file turns away (computed ones would be bright)."""
    from meshes.gltf import read_glb
    from tests.meshes.test_gltf import Glb

    square_v, square_f = [[-1, -1, 0], [1, -1, 0], [1, 1, 0], [-1, 1, 0]], [[0, 1, 2], [0, 2, 3]]
    brightness = {}
    for case, normals in {"facing": [0, 0, 1], "turned": [1, 0, 0], "none": None}.items():
        glb = Glb()
        # The node turns the square a quarter about y; its normals turn with it.
        quarter = [0, np.sin(np.pi / 4), 0, np.cos(np.pi / 4)]
        glb.node("square", rotation=quarter, mesh=glb.mesh(square_v, square_f, factor=[1, 1, 1, 1],
                                                            normals=None if normals is None else [normals] * 4))
        assembly = read_glb(glb.write(tmp_path / f"{case}.glb"))
        plotter = pv.Plotter(off_screen=True, window_size=(200, 200))
        try:
            PartMeshes(plotter, assembly)
            plotter.camera.position, plotter.camera.focal_point, plotter.camera.up = (5, 0, 0), (0, 0, 0), (0, 0, 1)
            plotter.reset_camera()
            brightness[case] = _shot(plotter)[90:110, 90:110, :3].mean()
        finally:
            plotter.close()
    assert brightness["facing"] > 150 and brightness["none"] > 150
    assert brightness["turned"] < 0.5 * brightness["facing"]

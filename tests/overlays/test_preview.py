"""The coarse preview of a large model: its shape, place and colours in few triangles,
drawn in place of what the view showed and taken away without a trace."""

import numpy as np
import pytest
import pyvista as pv
import trimesh

from meshes import load_assembly
from overlays.preview import PreviewLayer, coarse
from tests.pixels import colour_at, near, pixel_of

RED, BLUE = (220, 40, 30), (30, 60, 220)
OFFSET = np.array([3.0, 0.0, 0.0])  # the box's node puts it here


def _coloured(mesh, rgb):
    linear = trimesh.visual.color.srgb_to_linear(np.asarray(rgb) / 255.0)  # glTF colours are linear
    mesh.visual.face_colors = [*np.round(linear * 255).astype(np.uint8), 255]
    return mesh


@pytest.fixture
def model(tmp_path):
    """A finely tessellated red sphere at the origin and a blue box moved by its node."""
    scene = trimesh.Scene()
    scene.add_geometry(_coloured(trimesh.creation.icosphere(subdivisions=6, radius=1.0), RED),
                       node_name="ball", geom_name="ball")
    place = np.eye(4)
    place[:3, 3] = OFFSET
    scene.add_geometry(_coloured(trimesh.creation.box(extents=(1, 1, 1)), BLUE), node_name="box",
                       geom_name="box", transform=place)
    scene.export(tmp_path / "model.glb")
    return load_assembly(tmp_path / "model.glb", name="model")


def test_the_preview_keeps_the_shape_in_far_fewer_triangles(model):
    preview = coarse(model, cells=60)
    triangles = len(preview.points) // 3
    assert preview.triangles == model.n_triangles == 81_932
    assert 500 < triangles < model.n_triangles / 10
    cell = 4.0 / 60  # the model is 4 long: a grid cell
    ball = preview.points[preview.points[:, 0] < 1.5]
    radius = np.linalg.norm(ball, axis=1)
    assert np.all(np.abs(radius - 1.0) < cell)  # every corner near the sphere's surface...
    assert np.all(np.abs(ball.min(axis=0) + 1) < cell) and np.all(np.abs(ball.max(axis=0) - 1) < cell)  # ...all round
    corners = preview.points.reshape(-1, 3, 3)
    assert np.all(np.linalg.norm(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1) > 0)


def test_the_preview_is_in_world_coordinates_with_the_files_colours(model):
    preview = coarse(model, cells=60)
    box = preview.points[:, 0] > 1.5
    assert np.allclose(preview.points[box].min(axis=0), OFFSET - 0.5, atol=0.05)
    assert np.allclose(preview.points[box].max(axis=0), OFFSET + 0.5, atol=0.05)
    assert np.all(np.abs(preview.rgb[box].astype(int) - BLUE) <= 3)  # 8-bit linear light loses a little in the darks
    assert np.all(np.abs(preview.rgb[~box].astype(int) - RED) <= 3)


def test_a_model_without_triangles_has_no_preview():
    from meshes import Assembly

    assert coarse(Assembly()) is None


def test_the_preview_replaces_the_view_and_closing_it_restores_view_and_camera(model):
    plotter = pv.Plotter(off_screen=True, window_size=(400, 300))
    try:
        plotter.add_mesh(pv.Sphere(radius=5, center=(0, 0, 10)), color=(40, 200, 60), name="shown")
        plotter.view_xz()
        plotter.reset_camera()
        before = plotter.screenshot(return_img=True).copy()
        position = plotter.camera.position

        layer = PreviewLayer(plotter, coarse(model, cells=60))
        plotter.render()
        image = plotter.screenshot(return_img=True)
        assert not np.any(np.all(np.abs(image[..., :3].astype(int) - (40, 200, 60)) < 40, axis=-1))  # hidden
        ball, box = pixel_of(plotter, (0, -1, 0)), pixel_of(plotter, OFFSET + (0, -0.5, 0))  # centres, as seen
        assert near(colour_at(image, ball) / colour_at(image, ball).max() * 255, (255, 46, 35), 60)
        assert near(colour_at(image, box) / colour_at(image, box).max() * 255, (35, 70, 255), 60)

        layer.close()
        plotter.render()
        assert plotter.camera.position == position
        assert np.abs(plotter.screenshot(return_img=True).astype(int) - before).mean() < 1
        assert len(plotter.renderer.actors) == 1
    finally:
        plotter.close()

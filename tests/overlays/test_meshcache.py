"""The mesh cache: a hit draws exactly what a fresh build draws; any change misses."""

import numpy as np
import pyvista as pv

from meshes import load_assembly
from overlays import meshcache
from overlays.parts import PartMeshes
from tests.conftest import make_test_machine


def _draw(assembly):
    plotter = pv.Plotter(off_screen=True, window_size=(300, 200))
    parts = PartMeshes(plotter, assembly, moving={"arm"})
    plotter.view_isometric()
    plotter.render()
    image = plotter.screenshot(return_img=True)
    arrays = [(np.array(g.mesh.points), np.array(g.mesh.point_data["Normals"])) for g in parts.groups]
    plotter.close()
    return image, arrays


def test_a_cached_build_draws_exactly_what_a_fresh_build_draws(tmp_path, monkeypatch):
    assembly = load_assembly(make_test_machine(tmp_path), name="rig")
    monkeypatch.setenv("TWINVIEW_CACHE", "off")
    fresh_image, fresh = _draw(assembly)
    monkeypatch.setenv("TWINVIEW_CACHE", str(tmp_path / "cache"))
    _draw(assembly)  # fills the cache
    assert len(list((tmp_path / "cache").iterdir())) == 2  # the static group and the arm's
    cached_image, cached = _draw(assembly)
    assert np.array_equal(cached_image, fresh_image)
    for (p1, n1), (p2, n2) in zip(fresh, cached):
        assert np.array_equal(p1, p2) and np.array_equal(n1, n2)


def test_any_change_in_the_inputs_is_another_entry():
    arrays = {"points": np.zeros((3, 3), np.float32), "faces": np.array([[0, 1, 2]], np.int32)}
    moved = {**arrays, "points": arrays["points"] + np.float32(1e-6)}
    assert meshcache.key(arrays) == meshcache.key({k: v.copy() for k, v in arrays.items()})
    assert meshcache.key(arrays) != meshcache.key(moved)
    assert meshcache.key(arrays) != meshcache.key(arrays, options="feature_angle=10")


def test_a_damaged_entry_is_a_miss(tmp_path, monkeypatch):
    monkeypatch.setenv("TWINVIEW_CACHE", str(tmp_path))
    meshcache.save("abc", {"points": np.zeros((2, 3), np.float32)})
    (tmp_path / "abc" / "points.npy").write_bytes(b"not numpy")
    assert meshcache.load("abc") is None

"""The mesh cache: a hit draws exactly what a fresh build draws; any change misses; it stays
within its size, dropping what was used longest ago."""

import numpy as np
import pyvista as pv

import os

from meshes import cache, load_assembly
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
    assert cache.key(arrays) == cache.key({k: v.copy() for k, v in arrays.items()})
    assert cache.key(arrays) != cache.key(moved)
    assert cache.key(arrays) != cache.key(arrays, options="feature_angle=10")


def test_a_damaged_entry_is_a_miss(tmp_path, monkeypatch):
    monkeypatch.setenv("TWINVIEW_CACHE", str(tmp_path))
    cache.save("abc", {"points": np.zeros((2, 3), np.float32)})
    (tmp_path / "abc" / "points.npy").write_bytes(b"not numpy")
    assert cache.load("abc", ["points"]) is None


def test_an_entry_missing_a_file_is_a_miss(tmp_path, monkeypatch):
    monkeypatch.setenv("TWINVIEW_CACHE", str(tmp_path))
    cache.save("abc", {"points": np.zeros((2, 3), np.float32), "faces": np.zeros((1, 3), np.int32)})
    (tmp_path / "abc" / "faces.npy").unlink()
    assert cache.load("abc", ["points", "faces"]) is None
    assert cache.load("abc", ["points"])["points"].shape == (2, 3)


def test_the_cache_drops_the_least_recently_used_entries_beyond_its_size(tmp_path, monkeypatch):
    monkeypatch.setenv("TWINVIEW_CACHE", str(tmp_path))
    for age, name in enumerate(["old", "used", "new"]):
        cache.save(name, {"a": np.zeros(1 << 20, np.uint8)})
        os.utime(tmp_path / name, (1000 + age, 1000 + age))
    monkeypatch.setenv("TWINVIEW_CACHE_MAX", "2500K")  # room for two entries of 1 MB
    assert cache.load("old", ["a"]) is not None  # now the most recently used
    cache.save("newest", {"a": np.zeros(1 << 20, np.uint8)})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["newest", "old"]


def test_sizes_read_as_people_write_them():
    assert cache.parse_size("4G") == 4 << 30
    assert cache.parse_size("500M") == 500 << 20
    assert cache.parse_size("1.5k") == 1536
    assert cache.parse_size("1048576") == 1 << 20

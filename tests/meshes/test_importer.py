"""Mesh import: every format from a real file, names and hierarchy, colours, units, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import trimesh

from meshes import SUPPORTED_SUFFIXES, MeshImportError, load_assembly, rotation, translation
from tests.meshes.step_writer import write_step_boxes

EXTENTS = (0.1, 0.2, 0.3)  # metres


# ---------------------------------------------------------------- test files


def save(obj, path):
    """Write a trimesh mesh or scene to ``path`` with the exporter for its suffix."""
    if path.suffix == ".gltf":
        # Given a path, trimesh leaves the .gltf file handle open (a ResourceWarning):
        # take the files as bytes and write them here instead.
        for name, data in obj.export(file_type="gltf").items():
            (path.parent / (path.name if name == "model.gltf" else name)).write_bytes(data)
    else:
        obj.export(path)
    return path


def box_file(tmp_path, suffix, extents=EXTENTS):
    """A file in the format of ``suffix`` holding one box ``extents`` metres in size."""
    path = tmp_path / f"box{suffix}"
    if suffix in (".step", ".stp"):
        half = np.asarray(extents) * 1000 / 2
        return write_step_boxes(path, [("block", -half, half)], units="mm")
    mesh = trimesh.creation.box(extents=extents)
    if suffix == ".3mf":  # trimesh's 3MF files always declare millimetres
        mesh.apply_scale(1000)
    return save(mesh, path)


def box(extents, center=(0, 0, 0), rgb=None):
    mesh = trimesh.creation.box(extents=extents)
    mesh.apply_translation(center)
    if rgb is not None:
        mesh.visual.face_colors = [*rgb, 255]
    return mesh


def rig_scene():
    """rig (no geometry) -> base, arm (hinged, tilted 30 deg) -> tip."""
    scene = trimesh.Scene()
    scene.graph.update(frame_to="rig", frame_from=scene.graph.base_frame)
    scene.add_geometry(box((1.0, 0.6, 0.2)), node_name="base", geom_name="base",
                       parent_node_name="rig")
    scene.add_geometry(box((0.1, 0.1, 0.6), (0, 0, 0.3)), node_name="arm", geom_name="arm",
                       parent_node_name="rig", transform=RIG_LOCAL["arm"])
    scene.add_geometry(box((0.2, 0.2, 0.1)), node_name="tip", geom_name="tip",
                       parent_node_name="arm", transform=RIG_LOCAL["tip"])
    return scene


RIG_LOCAL = {
    "base": np.eye(4),
    "arm": translation((0.3, 0.0, 0.2)) @ rotation(30, (0, 1, 0)),
    "tip": translation((0.0, 0.0, 0.6)),
}


def size(assembly):
    lo, hi = assembly.bounds()
    return hi - lo


# ---------------------------------------------------------------- formats


@pytest.mark.parametrize("suffix", SUPPORTED_SUFFIXES)
def test_every_supported_format_loads_a_box_in_metres(tmp_path, suffix):
    assembly = load_assembly(box_file(tmp_path, suffix), name="thing")
    assert assembly.children(None) == ["thing"]
    (solid,) = [part for part in assembly if part.has_geometry]  # STEP: thing -> block
    assert len(solid.faces) == 12
    assert solid.colors.shape == (len(solid.vertices), 3)
    np.testing.assert_allclose(size(assembly), EXTENTS, atol=1e-6)


def test_name_defaults_to_the_file_stem(tmp_path):
    assert list(load_assembly(box_file(tmp_path, ".stl")).parts) == ["box"]


# ---------------------------------------------------------------- hierarchy


def test_glb_assembly_keeps_node_names_parents_and_local_transforms(tmp_path):
    assembly = load_assembly(save(rig_scene(), tmp_path / "rig.glb"), name="rig")
    parents = {p.name: p.parent for p in assembly}
    assert parents == {"rig": None, "base": "rig", "arm": "rig", "tip": "arm"}
    order = list(assembly.parts)
    assert all(order.index(parents[n]) < order.index(n) for n in order if parents[n])
    assert not assembly["rig"].has_geometry
    for name, local in RIG_LOCAL.items():
        np.testing.assert_allclose(assembly[name].local, local, atol=1e-6)
    np.testing.assert_allclose(np.ptp(assembly["arm"].vertices, axis=0), (0.1, 0.1, 0.6), atol=1e-6)


def test_a_single_top_node_becomes_one_part_named_name(tmp_path):
    assembly = load_assembly(save(rig_scene(), tmp_path / "rig.glb"), name="machine")
    assert assembly.children(None) == ["machine"]
    assert "rig" not in assembly
    assert sorted(assembly.children("machine")) == ["arm", "base"]


def test_several_top_nodes_become_children_of_a_group_named_name(tmp_path):
    scene = trimesh.Scene()
    scene.add_geometry(box((1, 1, 1)), node_name="left", geom_name="left")
    scene.add_geometry(box((1, 1, 1)), node_name="right", geom_name="right",
                       transform=translation((2, 0, 0)))
    assembly = load_assembly(save(scene, tmp_path / "pair.glb"), name="pair")
    assert assembly.children(None) == ["pair"]
    assert not assembly["pair"].has_geometry
    assert sorted(assembly.children("pair")) == ["left", "right"]
    np.testing.assert_allclose(assembly["right"].local, translation((2, 0, 0)), atol=1e-9)


def test_joint_on_a_parent_moves_its_children(tmp_path):
    assembly = load_assembly(save(rig_scene(), tmp_path / "rig.glb"), name="rig")
    swing = rotation(90, (0, 0, 1))
    rest, moved = assembly.world_transforms(), assembly.world_transforms({"arm": swing})
    np.testing.assert_allclose(moved["arm"], rest["arm"] @ swing, atol=1e-9)
    np.testing.assert_allclose(moved["tip"], rest["arm"] @ swing @ RIG_LOCAL["tip"], atol=1e-9)
    assert not np.allclose(moved["tip"], rest["tip"])
    np.testing.assert_allclose(moved["base"], rest["base"])  # a sibling stays put


# ---------------------------------------------------------------- colours


def test_glb_material_colour_is_kept(tmp_path):
    mesh = box((1, 1, 1))
    material = trimesh.visual.material.PBRMaterial(baseColorFactor=[200, 40, 10, 255])
    mesh.visual = trimesh.visual.TextureVisuals(material=material)
    part = load_assembly(save(mesh, tmp_path / "red.glb"))["red"]
    assert (part.colors == (200, 40, 10)).all()


@pytest.mark.parametrize("base", [None, (255, 128, 255)])
def test_glb_vertex_colours_are_kept_times_the_material_colour(tmp_path, base):
    mesh = box((1, 1, 1))
    rgb = np.column_stack([np.arange(8) * 30, np.full(8, 100), 255 - np.arange(8) * 30])
    rgba = np.column_stack([rgb, np.full(8, 255)]).astype(np.uint8)
    if base is None:
        mesh.visual.vertex_colors = rgba
        expected = rgb
    else:  # glTF: COLOR_0 multiplies the material's base colour
        material = trimesh.visual.material.PBRMaterial(baseColorFactor=[*base, 255])
        mesh.visual = trimesh.visual.TextureVisuals(material=material)
        mesh.visual.vertex_attributes["color"] = rgba
        expected = (rgb * np.array(base) / 255).astype(np.uint8)
    path = save(mesh, tmp_path / "painted.glb")
    data = path.read_bytes()
    gltf = json.loads(data[20:20 + int.from_bytes(data[12:16], "little")])  # the JSON chunk
    assert "COLOR_0" in gltf["meshes"][0]["primitives"][0]["attributes"]

    part = load_assembly(path)["painted"]
    for vertex, colour in zip(mesh.vertices, expected):
        at_vertex = np.all(np.isclose(part.vertices, vertex), axis=1)
        assert at_vertex.any() and (part.colors[at_vertex] == colour).all()


# ---------------------------------------------------------------- units


def test_a_large_stl_is_guessed_to_be_millimetres(tmp_path):
    assembly = load_assembly(box_file(tmp_path, ".stl", extents=(100, 40, 10)))
    np.testing.assert_allclose(size(assembly), (0.1, 0.04, 0.01), atol=1e-9)
    assert assembly.units == "mm (guessed from size)"


def test_a_small_stl_is_guessed_to_be_metres(tmp_path):
    assembly = load_assembly(box_file(tmp_path, ".stl", extents=(2, 1, 1)))
    np.testing.assert_allclose(size(assembly), (2, 1, 1), atol=1e-9)
    assert assembly.units == "m (guessed from size)"


@pytest.mark.parametrize("suffix", [".stl", ".glb"])
def test_declared_units_override_guess_and_file(tmp_path, suffix):
    assembly = load_assembly(box_file(tmp_path, suffix, extents=(10, 5, 5)), units="mm")
    np.testing.assert_allclose(size(assembly), (0.01, 0.005, 0.005), atol=1e-9)
    assert assembly.units == "mm (declared)"


def test_glb_says_metres_so_a_large_model_is_not_shrunk(tmp_path):
    assembly = load_assembly(box_file(tmp_path, ".glb", extents=(50, 1, 1)))
    np.testing.assert_allclose(size(assembly), (50, 1, 1), atol=1e-6)
    assert assembly.units == "meters (from file)"


def test_translations_are_scaled_with_the_geometry(tmp_path):
    scene = trimesh.Scene()
    scene.add_geometry(box((100, 100, 100)), node_name="a", geom_name="a")
    scene.add_geometry(box((100, 100, 100)), node_name="b", geom_name="b",
                       transform=translation((500, 0, 0)))
    assembly = load_assembly(save(scene, tmp_path / "parts.glb"), units="mm")
    np.testing.assert_allclose(assembly["b"].local[:3, 3], (0.5, 0, 0), atol=1e-9)
    np.testing.assert_allclose(size(assembly), (0.6, 0.1, 0.1), atol=1e-9)


# ---------------------------------------------------------------- STEP


def test_step_assembly_keeps_box_names_and_converts_millimetres(tmp_path):
    path = write_step_boxes(tmp_path / "fixture.step", [
        ("base", (0, 0, 0), (400, 300, 20), (200, 30, 30)),
        ("column", (50, 60, 20), (100, 110, 520), (30, 30, 200)),
    ], units="mm", assembly="stand")
    assembly = load_assembly(path, name="stand")
    assert sorted(assembly.parts) == ["base", "column", "stand"]
    assert assembly["base"].parent == assembly["column"].parent == "stand"
    assert assembly.n_triangles == 24
    np.testing.assert_allclose(np.ptp(assembly["column"].vertices, axis=0), (0.05, 0.05, 0.5), atol=1e-6)
    np.testing.assert_allclose(assembly["column"].local[:3, 3], (0.05, 0.06, 0.02), atol=1e-6)
    np.testing.assert_allclose(assembly.bounds(), [(0, 0, 0), (0.4, 0.3, 0.52)], atol=1e-6)
    assert assembly.units == "meters (from file)"  # OpenCASCADE converts to metres
    red, blue = assembly["base"].colors[0], assembly["column"].colors[0]
    assert red[0] > 100 > max(red[1:]) and blue[2] > 100 > max(blue[:2])


def test_a_node_named_like_the_file_still_loads(tmp_path):
    path = write_step_boxes(tmp_path / "block.step", [("block", (0, 0, 0), (10, 10, 10))])
    assembly = load_assembly(path)
    assert assembly.children(None) == ["block"]
    assert assembly.n_triangles == 12


# ---------------------------------------------------------------- errors


def test_a_missing_file_is_an_import_error(tmp_path):
    with pytest.raises(MeshImportError, match="not found"):
        load_assembly(tmp_path / "nowhere.stl")


def test_an_unsupported_suffix_is_an_import_error(tmp_path):
    path = tmp_path / "drawing.dwg"
    path.write_bytes(b"AC1032")
    with pytest.raises(MeshImportError, match=r"drawing\.dwg: unsupported mesh format '\.dwg'"):
        load_assembly(path)


@pytest.mark.parametrize("suffix", [".stl", ".glb"])
@pytest.mark.parametrize("garbage", [b"", b"this is not a mesh\n", bytes(range(256)) * 4])
def test_garbage_bytes_are_an_import_error(tmp_path, suffix, garbage):
    path = tmp_path / f"broken{suffix}"
    path.write_bytes(garbage)
    with pytest.raises(MeshImportError, match=rf"^broken\{suffix}: "):
        load_assembly(path)


def test_a_child_named_like_the_group_is_a_clear_error(tmp_path):
    scene = trimesh.Scene()
    scene.add_geometry(trimesh.creation.box(), node_name="base", geom_name="base")
    scene.add_geometry(trimesh.creation.box(), node_name="lid", geom_name="lid")
    path = tmp_path / "base.glb"
    path.write_bytes(scene.export(file_type="glb"))
    with pytest.raises(MeshImportError, match="same name as the part 'base'"):
        load_assembly(path)


def test_unknown_units_are_an_import_error(tmp_path):
    path = tmp_path / "box.stl"
    path.write_bytes(trimesh.creation.box().export(file_type="stl"))
    with pytest.raises(MeshImportError, match="unknown units 'furlong'"):
        load_assembly(path, units="furlong")

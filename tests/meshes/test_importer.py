"""Mesh import: every format from a real file, names and hierarchy, colours, units, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import trimesh

from meshes import SUPPORTED_SUFFIXES, MeshImportError, load_assembly, rotation, translation
from tests.meshes.glb_writer import CUBE_VERTICES, cube, linear_to_srgb, srgb_to_linear, write_glb
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


# glTF keeps colours in linear light, VTK draws part colours as display (sRGB)
# values: the importer converts. sRGB 221, 82, 40 is linear 0.723, 0.084, 0.021,
# which drawn as it is shows as 184, 22, 5. The dark colour checks the exact factor
# is used: as trimesh keeps it (round(linear x 255)), sRGB 8 would come back as 13.
DECLARED = [(221, 82, 40), (59, 97, 180), (8, 5, 30)]


def srgb8(linear) -> np.ndarray:
    """Linear light 0..1 -> sRGB 0..255 as the importer should draw it."""
    return np.round(linear_to_srgb(np.asarray(linear, float)) * 255)


@pytest.mark.parametrize("rgb", DECLARED)
def test_glb_base_colour_factor_is_linear_and_drawn_as_its_srgb_colour(tmp_path, rgb):
    factor = [*srgb_to_linear(np.array(rgb) / 255), 1.0]
    path = write_glb(tmp_path / "part.glb", *cube(base_color=factor, material_name="paint"))
    colours = load_assembly(path)["part"].colors
    assert len(colours) == 8
    np.testing.assert_allclose(colours, np.tile(rgb, (8, 1)), atol=2)


def test_an_unlit_part_renders_in_the_files_declared_colour(tmp_path):
    """End to end: the pixel VTK draws for a flat, unlit part is the file's colour."""
    pv = pytest.importorskip("pyvista")
    rgb = DECLARED[0]
    path = write_glb(tmp_path / "part.glb", *cube(base_color=[*srgb_to_linear(np.array(rgb) / 255), 1]))
    part = load_assembly(path)["part"]
    mesh = pv.PolyData(part.vertices, np.column_stack([np.full(len(part.faces), 3), part.faces]).ravel())
    mesh.point_data["rgb"] = part.colors
    plotter = pv.Plotter(off_screen=True, window_size=(120, 120))
    try:
        plotter.add_mesh(mesh, scalars="rgb", rgb=True, lighting=False)
        plotter.view_xy()
        plotter.reset_camera()
        image = plotter.screenshot(return_img=True)
    finally:
        plotter.close()
    np.testing.assert_allclose(image[60, 60, :3], rgb, atol=2)


@pytest.mark.parametrize("encoding", [np.uint8, np.uint16, np.float32])
@pytest.mark.parametrize("base", [None, (1.0, 0.5, 0.25)])
def test_glb_vertex_colours_are_linear_and_multiply_the_base_colour(tmp_path, encoding, base):
    linear = np.column_stack([np.arange(8) / 7, np.full(8, 0.2), 1 - np.arange(8) / 7])
    color0 = linear.astype(np.float32) if encoding is np.float32 else \
        np.round(linear * np.iinfo(encoding).max).astype(encoding)
    gltf, binary = cube(color0=color0, base_color=None if base is None else [*base, 1.0])
    part = load_assembly(write_glb(tmp_path / "painted.glb", gltf, binary))["painted"]
    expected = srgb8(linear * (1 if base is None else np.array(base)))
    for vertex, colour in zip(CUBE_VERTICES, expected):
        at_vertex = np.all(np.isclose(part.vertices, vertex), axis=1)
        assert at_vertex.any()
        np.testing.assert_allclose(part.colors[at_vertex], np.tile(colour, (at_vertex.sum(), 1)), atol=2)


def test_trimesh_written_glb_colours_are_read_as_linear(tmp_path):
    """trimesh writes vertex colours raw into COLOR_0 (linear by the glTF spec)."""
    mesh = box((1, 1, 1))
    rgb = np.column_stack([np.arange(8) * 30, np.full(8, 100), 255 - np.arange(8) * 30])
    mesh.visual = trimesh.visual.TextureVisuals(
        material=trimesh.visual.material.PBRMaterial(baseColorFactor=[255, 128, 255, 255]))
    mesh.visual.vertex_attributes["color"] = np.column_stack([rgb, np.full(8, 255)]).astype(np.uint8)
    path = save(mesh, tmp_path / "painted.glb")
    data = path.read_bytes()
    gltf = json.loads(data[20:20 + int.from_bytes(data[12:16], "little")])  # the JSON chunk
    assert "COLOR_0" in gltf["meshes"][0]["primitives"][0]["attributes"]

    part = load_assembly(path)["painted"]
    expected = srgb8(rgb / 255 * np.array([255, 128, 255]) / 255)
    for vertex, colour in zip(mesh.vertices, expected):
        at_vertex = np.all(np.isclose(part.vertices, vertex), axis=1)
        assert at_vertex.any()
        np.testing.assert_allclose(part.colors[at_vertex], np.tile(colour, (at_vertex.sum(), 1)), atol=1)


@pytest.mark.parametrize("factor", [(1.0, 1.0, 1.0), (1.0, 0.5, 1.0)])
def test_glb_texture_is_srgb_and_multiplied_by_the_factor_in_linear_light(tmp_path, factor):
    image = pytest.importorskip("PIL.Image").new("RGB", (4, 4), (200, 100, 50))
    mesh = box((1, 1, 1))
    mesh.visual = trimesh.visual.TextureVisuals(
        uv=np.full((len(mesh.vertices), 2), 0.5),
        material=trimesh.visual.material.PBRMaterial(baseColorTexture=image,
                                                     baseColorFactor=[*factor, 1.0]))
    part = load_assembly(save(mesh, tmp_path / "skin.glb"))["skin"]
    expected = srgb8(srgb_to_linear(np.array([200, 100, 50]) / 255) * factor)
    np.testing.assert_allclose(part.colors, np.tile(expected, (len(part.colors), 1)), atol=1)
    if factor == (1.0, 1.0, 1.0):
        assert (part.colors == (200, 100, 50)).all()  # a texture's colours are display colours


@pytest.mark.parametrize("suffix", [".ply", ".obj", ".dae"])
def test_display_colour_formats_keep_their_colours(tmp_path, suffix):
    """PLY vertex colours, OBJ/MTL Kd and COLLADA colours are sRGB: kept as they are."""
    mesh = box((1, 1, 1), rgb=(200, 100, 50))
    if suffix == ".obj":  # as a material: Kd
        mesh.visual = trimesh.visual.TextureVisuals(
            material=trimesh.visual.material.SimpleMaterial(diffuse=[200, 100, 50, 255]))
    part = load_assembly(save(mesh, tmp_path / f"part{suffix}"))["part"]
    assert (part.colors == (200, 100, 50)).all()


def test_step_part_colours_are_the_declared_srgb_colours(tmp_path):
    """STEP colours are sRGB; cascadio hands them over as a GLB in linear light."""
    names = ["red", "blue", "dark"]
    path = write_step_boxes(tmp_path / "painted.step", [
        (name, (40 * i, 0, 0), (40 * i + 30, 30, 30), rgb)
        for i, (name, rgb) in enumerate(zip(names, DECLARED))
    ], units="mm", assembly="painted")
    declared = [np.round(np.array(c, float) * 255) for c in _step_colours(path)]
    assert [tuple(c) for c in declared] == DECLARED  # what the file says, read from its text
    assembly = load_assembly(path)
    for name, rgb in zip(names, declared):
        colours = assembly[name].colors
        np.testing.assert_allclose(colours, np.tile(rgb, (len(colours), 1)), atol=2, err_msg=name)


def _step_colours(path):
    """The COLOUR_RGB entities of a STEP file, in file order, as 0..1 floats."""
    import re

    found = re.findall(r"COLOUR_RGB\(\s*'[^']*'\s*,([^,]+),([^,]+),([^)]+)\)", path.read_text())
    return [tuple(float(v) for v in rgb) for rgb in found]


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


@pytest.mark.parametrize("suffix", SUPPORTED_SUFFIXES)
@pytest.mark.parametrize("garbage", [b"", b"this is not a mesh\n", bytes(range(256)) * 4])
def test_garbage_bytes_are_an_import_error_that_says_what_is_wrong(tmp_path, suffix, garbage):
    path = tmp_path / f"broken{suffix}"
    path.write_bytes(garbage)
    with pytest.raises(MeshImportError, match=rf"^broken\{suffix}: ") as caught:
        load_assembly(path)
    reason = str(caught.value).split(": ", 1)[1]
    assert len(reason.split()) >= 4, reason  # words, not a bare exception text
    assert "converted.glb" not in reason and "Errno" not in reason, reason


def test_an_empty_file_says_it_is_empty(tmp_path):
    path = tmp_path / "nothing.glb"
    path.touch()
    with pytest.raises(MeshImportError, match=r"^nothing\.glb: the file is empty \(0 bytes\)$"):
        load_assembly(path)


def good_glb() -> bytes:
    return trimesh.creation.box().export(file_type="glb")


@pytest.mark.parametrize("keep", [8, 16, 30, 0.5, -4])
def test_a_truncated_glb_says_it_is_truncated(tmp_path, keep):
    data = good_glb()
    cut = int(len(data) * keep) if isinstance(keep, float) else keep if keep > 0 else len(data) + keep
    path = tmp_path / "cut.glb"
    path.write_bytes(data[:cut])
    with pytest.raises(MeshImportError, match=rf"^cut\.glb: the file is truncated: .*{cut}"):
        load_assembly(path)


@pytest.mark.parametrize("stride", [None, 12])
def test_a_glb_accessor_asking_for_more_than_the_file_holds_says_so(tmp_path, stride):
    """trimesh says nothing ("cannot read mesh: ") or "cannot reshape array ..." here."""
    gltf, binary = cube()
    gltf["accessors"][1]["count"] = 10**9  # the positions
    if stride:
        gltf["bufferViews"][1]["byteStride"] = stride
    path = write_glb(tmp_path / "huge.glb", gltf, binary)
    with pytest.raises(MeshImportError, match=r"^huge\.glb: the file is damaged or truncated: "
                                              r"accessor 1 asks for 12,000,000,000 bytes"):
        load_assembly(path)


def test_a_glb_buffer_view_past_its_buffer_says_so(tmp_path):
    gltf, binary = cube()
    gltf["bufferViews"][0]["byteOffset"] = 10_000
    path = write_glb(tmp_path / "bent.glb", gltf, binary)
    with pytest.raises(MeshImportError, match=r"^bent\.glb: the file is damaged or truncated: buffer view 0"):
        load_assembly(path)


@pytest.mark.parametrize("content, reason", [
    (bytes(range(256)) * 8, r"it does not begin with 'ISO-10303-21'"),
    (b"Meeting notes\nnothing to see here\n", r"it does not begin with 'ISO-10303-21'"),
    ("stl", r"it is an STL file"),
    ("half", r"it is truncated: it does not end with 'END-ISO-10303-21;'"),
])
def test_a_file_that_is_not_step_says_opencascade_cannot_read_it(tmp_path, content, reason):
    """cascadio fails silently, and trimesh then misses its temporary converted.glb."""
    if content == "stl":
        content = trimesh.creation.box().export(file_type="stl")
    elif content == "half":
        whole = write_step_boxes(tmp_path / "whole.step", [("block", (0, 0, 0), (10, 10, 10))]).read_bytes()
        content = whole[:len(whole) // 2]
    path = tmp_path / "part.step"
    path.write_bytes(content)
    with pytest.raises(MeshImportError) as caught:
        load_assembly(path)
    assert str(caught.value).startswith("part.step: not a STEP file OpenCASCADE can read (")
    assert reason in str(caught.value) and str(caught.value).endswith(")")


@pytest.mark.parametrize("content, named, message", [
    ("stl", "part.glb", "this is an STL file named .glb; rename it to .stl"),
    ("stl_ascii", "part.glb", "this is an STL file named .glb; rename it to .stl"),
    ("glb", "part.stl", "this is a GLB file named .stl; rename it to .glb"),
    ("ply", "part.obj", "this is a PLY file named .obj; rename it to .ply"),
])
def test_a_file_with_the_wrong_suffix_says_what_it_is(tmp_path, content, named, message):
    data = trimesh.creation.box().export(file_type=content)
    path = tmp_path / named
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    with pytest.raises(MeshImportError) as caught:
        load_assembly(path)
    assert str(caught.value) == f"{named}: {message}"


@pytest.mark.parametrize("error, words", [
    (AssertionError(), "the file is damaged: the reader's consistency check failed (AssertionError)"),
    (ValueError("cannot reshape array of size 36 into shape (1000000000,1)"),
     "the file is damaged or truncated: an accessor asks for more data than the file holds"),
    (MemoryError(), "the file asks for more memory than is free"),
    (KeyError(7), "the file is damaged: it refers to an entry it does not hold (KeyError: 7)"),
    (RuntimeError(""), "(RuntimeError)"),
])
def test_a_reader_error_without_a_clear_text_is_named_and_explained(tmp_path, monkeypatch, error, words):
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(trimesh, "load", fail)
    path = tmp_path / "box.stl"
    path.write_bytes(b"solid box\nendsolid box\n")
    with pytest.raises(MeshImportError) as caught:
        load_assembly(path)
    assert str(caught.value).startswith("box.stl: ") and words in str(caught.value)


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

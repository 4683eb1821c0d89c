"""The in-process GLB reader makes of a file exactly what the general importer makes of it,
maps the file's arrays instead of copying them, and leaves every file outside its subset
to the general importer."""

import json
import struct

import numpy as np
import pytest

from meshes.gltf import read_glb
from meshes.importer import load_assembly
from meshes.isolated import import_assembly
from tests.conftest import make_test_machine

SAMPLES = ["resources/machines/pump/pump_skid.glb", "resources/machines/robot/robot_cell.glb"]


def assert_same(native, general) -> None:
    assert native is not None
    assert list(native.parts) == list(general.parts)
    assert native.units == general.units
    for a, b in zip(native, general):
        assert (a.parent, a.source) == (b.parent, b.source)
        np.testing.assert_allclose(a.local, b.local, atol=1e-12)
        for kind in ("vertices", "faces", "colors"):
            got, want = getattr(a, kind), getattr(b, kind)
            assert got.dtype == want.dtype, (a.name, kind)
            np.testing.assert_array_equal(got, want, err_msg=f"{a.name} {kind}")


class Glb:
    """A GLB written by hand, so that each test can hold exactly the feature it checks."""

    def __init__(self):
        self.header = {"asset": {"version": "2.0"}, "scene": 0, "scenes": [{"nodes": []}], "nodes": [],
                       "meshes": [], "accessors": [], "bufferViews": [], "materials": []}
        self.blob = bytearray()

    def accessor(self, array, kind, component, normalized=False, stride=None) -> int:
        array = np.ascontiguousarray(array)
        raw = array.tobytes()
        if stride:  # interleave with padding after every item
            item = array.itemsize * (array.shape[1] if array.ndim > 1 else 1)
            raw = b"".join(raw[i:i + item] + bytes(stride - item) for i in range(0, len(raw), item))
        self.blob += bytes(-len(self.blob) % 4)
        view = {"buffer": 0, "byteOffset": len(self.blob), "byteLength": len(raw)}
        if stride:
            view["byteStride"] = stride
        self.blob += raw
        self.header["bufferViews"].append(view)
        accessor = {"bufferView": len(self.header["bufferViews"]) - 1, "componentType": component,
                    "count": len(array), "type": kind}
        if normalized:
            accessor["normalized"] = True
        self.header["accessors"].append(accessor)
        return len(self.header["accessors"]) - 1

    def mesh(self, vertices, faces=None, index_type=np.uint32, colour0=None, factor=None, stride=None,
             normals=None) -> int:
        attributes = {"POSITION": self.accessor(np.asarray(vertices, np.float32), "VEC3", 5126, stride=stride)}
        if normals is not None:
            attributes["NORMAL"] = self.accessor(np.asarray(normals, np.float32), "VEC3", 5126)
        primitive = {"attributes": attributes, "mode": 4}
        if faces is not None:
            component = {np.uint8: 5121, np.uint16: 5123, np.uint32: 5125}[index_type]
            primitive["indices"] = self.accessor(np.asarray(faces, index_type).ravel(), "SCALAR", component)
        if colour0 is not None:
            colour0 = np.asarray(colour0)
            component = {np.dtype(np.float32): 5126, np.dtype(np.uint8): 5121, np.dtype(np.uint16): 5123}[colour0.dtype]
            attributes["COLOR_0"] = self.accessor(colour0, f"VEC{colour0.shape[1]}", component,
                                                  normalized=component != 5126)
        if factor is not None:
            self.header["materials"].append({"pbrMetallicRoughness": {"baseColorFactor": factor}})
            primitive["material"] = len(self.header["materials"]) - 1
        self.header["meshes"].append({"primitives": [primitive]})
        return len(self.header["meshes"]) - 1

    def node(self, name, parent=None, **fields) -> int:
        self.header["nodes"].append({"name": name, **fields})
        index = len(self.header["nodes"]) - 1
        if parent is None:
            self.header["scenes"][0]["nodes"].append(index)
        else:
            self.header["nodes"][parent].setdefault("children", []).append(index)
        return index

    def write(self, path):
        self.header["buffers"] = [{"byteLength": len(self.blob)}]
        if not self.header["materials"]:
            del self.header["materials"]
        text = json.dumps(self.header).encode()
        text += b" " * (-len(text) % 4)
        blob = bytes(self.blob) + bytes(-len(self.blob) % 4)
        body = struct.pack("<I4s", len(text), b"JSON") + text + struct.pack("<I4s", len(blob), b"BIN\0") + blob
        path.write_bytes(struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body)
        return path


CUBE_V = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]], float)
CUBE_F = np.array([[0, 2, 1], [0, 3, 2], [4, 5, 6], [4, 6, 7], [0, 1, 5], [0, 5, 4],
                   [2, 3, 7], [2, 7, 6], [1, 2, 6], [1, 6, 5], [0, 4, 7], [0, 7, 3]])


def every_feature(tmp_path):
    """Nodes with matrix and TRS placements under groups, indices of every width, no
    indices, interleaved positions, COLOR_0 as floats, bytes and shorts, with and without
    a material, materials without a factor."""
    glb = Glb()
    rng = np.random.default_rng(1)
    top = glb.node("machine", translation=[1, 2, 3])
    arm = glb.node("arm", top, rotation=[0.2, 0.3, 0.1, 0.927], scale=[1, 2, 0.5],
                   mesh=glb.mesh(CUBE_V, CUBE_F, np.uint16, factor=[0.8, 0.2, 0.05, 1]))
    turned = np.array([[0, -1, 0, 0.5], [1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    glb.node("tool", arm, matrix=list(turned.T.ravel()),  # glTF matrices are column-major
             mesh=glb.mesh(CUBE_V * 0.1, CUBE_F, np.uint8, colour0=rng.random((8, 4)).astype(np.float32)))
    glb.node("panel", top, mesh=glb.mesh(CUBE_V, CUBE_F, colour0=rng.integers(0, 255, (8, 3), dtype=np.uint8),
                                         factor=[0.5, 0.5, 1, 1]))
    glb.node("gauge", top, mesh=glb.mesh(CUBE_V[CUBE_F.ravel()], None,
                                         colour0=rng.integers(0, 65535, (36, 4), dtype=np.uint16)))
    glb.node("frame", top, mesh=glb.mesh(CUBE_V + 5, CUBE_F, stride=16))
    glb.header["materials"].append({"name": "bare"})
    glb.node("cover", top, mesh=glb.mesh(CUBE_V - 5, CUBE_F))
    glb.header["meshes"][-1]["primitives"][0]["material"] = len(glb.header["materials"]) - 1
    glb.node("empty", top)
    return glb.write(tmp_path / "every.glb")


@pytest.mark.parametrize("sample", SAMPLES)
def test_the_sample_machines_read_as_the_general_importer_reads_them(sample):
    assert_same(read_glb(sample, "m"), load_assembly(sample, "m"))


def test_every_feature_of_the_subset_reads_as_the_general_importer_reads_it(tmp_path):
    path = every_feature(tmp_path)
    assert_same(read_glb(path), load_assembly(path))
    assert_same(read_glb(path, units="mm"), load_assembly(path, units="mm"))
    assert_same(read_glb(make_test_machine(tmp_path), "rig"), load_assembly(tmp_path / "rig.glb", "rig"))


def test_positions_and_indices_map_the_file_without_a_copy(tmp_path):
    part = read_glb(every_feature(tmp_path))["panel"]
    for array in (part.vertices, part.faces):
        base = array
        while not isinstance(base, np.memmap) and base.base is not None:
            base = base.base
        assert isinstance(base, np.memmap)
    part.vertices[0] = 9  # copy-on-write: the file stays as it was
    assert read_glb(tmp_path / "every.glb")["panel"].vertices[0, 0] == 0


def _with(tmp_path, change):
    glb = Glb()
    glb.node("a", mesh=glb.mesh(CUBE_V, CUBE_F))
    glb.node("b", 0, mesh=glb.mesh(CUBE_V, CUBE_F))
    change(glb)
    return glb.write(tmp_path / "case.glb")


OUTSIDE = {
    "a texture": lambda g: g.header["materials"].append(
        {"pbrMetallicRoughness": {"baseColorTexture": {"index": 0}}}) or g.header["meshes"][0]["primitives"][0]
    .update(material=0),
    "two primitives": lambda g: g.header["meshes"][0]["primitives"].append(g.header["meshes"][1]["primitives"][0]),
    "compressed data": lambda g: g.header.update(extensionsRequired=["KHR_draco_mesh_compression"]),
    "a node without a name": lambda g: g.header["nodes"][1].pop("name"),
    "two nodes of one name": lambda g: g.header["nodes"][1].update(name="a"),
    "a camera": lambda g: g.header["nodes"][1].update(camera=0),
    "a cycle": lambda g: g.header["nodes"][1].update(children=[0]),
    "lines": lambda g: g.header["meshes"][1]["primitives"][0].update(mode=1),
    # Layouts a strided view would read outside the file with:
    "a negative stride": lambda g: g.header["bufferViews"][0].update(byteStride=-12),
    "overlapping rows": lambda g: g.header["bufferViews"][0].update(byteStride=4),
    "a negative offset": lambda g: g.header["accessors"][0].update(byteOffset=-4096),
    "a negative count": lambda g: g.header["accessors"][0].update(count=-5),
}


@pytest.mark.parametrize("case", OUTSIDE)
def test_files_outside_the_subset_go_to_the_general_importer(tmp_path, case):
    assert read_glb(_with(tmp_path, OUTSIDE[case])) is None


def test_an_index_past_the_vertices_is_a_clear_error_from_either_reader(tmp_path):
    """Handed on, it made the renderer read past the vertices and crash (SIGSEGV)."""
    from meshes.formats import MeshImportError

    glb = Glb()
    glb.node("a", mesh=glb.mesh(CUBE_V, np.r_[CUBE_F[:-1], [[0, 1, 100_000_000]]]))
    path = glb.write(tmp_path / "bad.glb")
    message = r"bad.glb: the file is damaged: node 'a' has triangles that refer to vertex 100000000, but only 8"
    with pytest.raises(MeshImportError, match=message):
        read_glb(path)
    with pytest.raises(MeshImportError, match=message):
        load_assembly(path)
    obj = tmp_path / "bad.obj"  # a format only the child reads
    obj.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n")
    with pytest.raises(MeshImportError):
        import_assembly(obj)


def test_a_damaged_glb_gives_the_general_importers_message(tmp_path):
    path = _with(tmp_path, lambda g: None)
    path.write_bytes(path.read_bytes()[:-40])
    from meshes.formats import MeshImportError

    with pytest.raises(MeshImportError) as native:
        read_glb(path)
    with pytest.raises(MeshImportError) as general:
        load_assembly(path)
    assert str(native.value) == str(general.value)


def test_the_viewer_reads_a_plain_glb_without_starting_an_importer(tmp_path, monkeypatch):
    import subprocess

    def no_child(*args, **kwargs):
        raise AssertionError("a child was started")

    monkeypatch.setattr(subprocess, "Popen", no_child)
    monkeypatch.setenv("TWINVIEW_CACHE", "off")
    assert_same(import_assembly(SAMPLES[0], "pump"), load_assembly(SAMPLES[0], "pump"))


def test_normals_in_the_file_are_handed_on_and_their_absence_leaves_them_to_the_viewer(tmp_path):
    glb = Glb()
    up = np.tile([0, 0, 1.0], (8, 1))
    glb.node("with", mesh=glb.mesh(CUBE_V, CUBE_F, normals=up))
    glb.node("without", mesh=glb.mesh(CUBE_V, CUBE_F))
    assembly = read_glb(glb.write(tmp_path / "n.glb"))
    np.testing.assert_array_equal(assembly["with"].normals, up)
    assert assembly["without"].normals is None


@pytest.mark.parametrize("shape", ["deep", "wide"])
def test_a_node_tree_beyond_any_machine_is_refused_quickly(tmp_path, shape, monkeypatch):
    import meshes.assembly
    from meshes.formats import MeshImportError

    monkeypatch.setattr(meshes.assembly, "MAX_PARTS", 500)  # the real limit, made small to stay quick
    glb = Glb()
    glb.node("n0", mesh=glb.mesh(CUBE_V, CUBE_F))
    for i in range(1, 600):
        glb.node(f"n{i}", i - 1 if shape == "deep" else 0)
    with pytest.raises(MeshImportError, match="more than 500 nodes or nesting deeper than 256 levels"):
        read_glb(glb.write(tmp_path / "tree.glb"))

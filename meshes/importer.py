"""Import CAD and mesh files through trimesh into an :class:`~meshes.Assembly`.

Every format trimesh reads as a scene keeps its node names and hierarchy: each node
becomes a part. A file with a single top node becomes one part named after the
caller's ``name``; otherwise ``name`` is a group whose children are the file's top
nodes.

Part colours are display (sRGB) values, as VTK draws them: glTF's linear colours
(and STEP's, which arrive as a GLB through cascadio) are converted. A file that
cannot be read raises MeshImportError saying, in plain words, what is wrong with it.
"""

from __future__ import annotations

import io
import json
import struct
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import trimesh
from trimesh.visual.color import srgb_to_linear

from meshes.assembly import Assembly, assemble
from meshes.checks import DAMAGED, FORMATS, Unreadable, gltf_header, misnamed, sniff, with_article
from meshes.formats import DEFAULT_COLOR, SUPPORTED_SUFFIXES, UNITS, VERSION, MeshImportError  # noqa: F401 (re-exported)
from meshes.gltf import linear_to_srgb8, read_glb


#: Formats whose colours are linear light (glTF's baseColorFactor and COLOR_0; STEP
#: arrives as a GLB written by OpenCASCADE through cascadio). The others' colours
#: (OBJ/MTL Kd, PLY/STL/OFF/3MF vertex and face colours, COLLADA) are display (sRGB)
#: values, as are glTF textures; VTK draws the part colours as display values.
LINEAR_SUFFIXES = (".glb", ".gltf", ".step", ".stp")

#: Format names, for messages.
# taken to be in millimetres: no machine part spans 20 m, many span 20 mm.
_GUESS_MM_ABOVE = 20.0



def load_assembly(path, name: str | None = None, units: str | None = None) -> Assembly:
    """Load a mesh or CAD file as an assembly of named parts.

    Parameters
    ----------
    path : str or Path
        File to load; its suffix selects the format (see ``SUPPORTED_SUFFIXES``).
    name : str, optional
        Name of the top part; defaults to the file's stem.
    units : {'m', 'mm', 'cm', 'in', 'ft'}, optional
        Length unit of the file. When omitted, the unit the file declares is used,
        else it is guessed from the size (larger than 20 units across: mm).

    Returns
    -------
    Assembly
        Geometry in metres, parents before children. ``assembly.units`` records
        the unit used and how it was decided.

    Raises
    ------
    MeshImportError
        If the file is missing, unsupported or unreadable.
    """
    path = Path(path)
    name = name or path.stem
    if units is not None and units not in UNITS:
        raise MeshImportError(f"{path.name}: unknown units {units!r} (use one of {', '.join(UNITS)})")
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise MeshImportError(
            f"{path.name}: unsupported mesh format {path.suffix!r} "
            f"(supported: {', '.join(SUPPORTED_SUFFIXES)})"
        )
    if not path.is_file():
        raise MeshImportError(f"{path}: mesh file not found")
    read = _read(path, name, units)
    if isinstance(read, Assembly):  # STEP through OpenCASCADE's GLB, read as it is (its normals kept)
        return read
    scene, header = read
    if not any(isinstance(g, trimesh.Trimesh) and len(g.faces) for g in scene.geometry.values()):
        unknown = "" if sniff(path) else f" (is it really {with_article(FORMATS[path.suffix.lower()])} file?)"
        raise MeshImportError(f"{path.name}: {misnamed(path) or 'the file holds no triangles' + unknown}")

    scale, how = _scale(scene, units)
    linear = path.suffix.lower() in LINEAR_SUFFIXES
    assembly = _assembly_from_scene(scene, name, scale, path.name, linear, header)
    assembly.units = how
    return assembly


# ---------------------------------------------------------------- reading, and why not


def _read(path: Path, name: str, units: str | None) -> tuple[trimesh.Scene, dict | None] | Assembly:
    """The file as a trimesh scene, and its glTF description when it has one (GLB,
    glTF, STEP through cascadio); or, for a STEP file whose GLB is of the common kind,
    its assembly. Raises MeshImportError saying what is wrong."""
    try:
        if path.stat().st_size == 0:
            raise Unreadable("the file is empty (0 bytes)")
        if path.suffix.lower() in (".step", ".stp"):
            return _read_step(path, name, units)
        if path.suffix.lower() in (".glb", ".gltf"):
            header = gltf_header(path)
            return _load_gltf(path, header), header
        return trimesh.load(str(path), force="scene"), None
    except MeshImportError:
        raise
    except Exception as exc:  # trimesh raises many kinds; the user needs one clear message
        reason = str(exc) if isinstance(exc, Unreadable) else misnamed(path) or _explain(exc)
        raise MeshImportError(f"{path.name}: {reason}") from exc


def _read_step(path: Path, name: str, units: str | None) -> tuple[trimesh.Scene, dict] | Assembly:
    """STEP through OpenCASCADE (cascadio) to a GLB, as trimesh does, but checking
    that the conversion worked: cascadio reports failure only in its return code. The
    GLB is read as it is where it can be (see :mod:`meshes.gltf`), keeping the normals
    OpenCASCADE computed from the exact surfaces."""
    try:
        import cascadio
    except ImportError as exc:
        raise Unreadable("reading STEP needs the cascadio package (pip install cascadio)") from exc
    with tempfile.TemporaryDirectory(prefix="twinview-step-") as folder:
        glb = Path(folder) / "converted.glb"
        status = cascadio.step_to_glb(str(path), str(glb), merge_primitives=True)
        if status != 0 or not glb.is_file() or glb.stat().st_size == 0:
            raise Unreadable(f"not a STEP file OpenCASCADE can read ({_why_not_step(path)})")
        # The arrays map the GLB, which stays readable after its folder is removed.
        assembly = read_glb(glb, name, units, label=path.name)
        if assembly is not None:
            return assembly
        header = gltf_header(glb)
        return _load_gltf(glb, header, merge_primitives=True), header


def _load_gltf(path: Path, header: dict, **kwargs) -> trimesh.Scene:
    """trimesh's glTF reader, with every primitive that has COLOR_0 but no material
    given an empty one: trimesh keeps COLOR_0 as the file holds it only beside a
    material (alone, it turns it into uint8: floats rounded, normalized uint16 wrapped)."""
    bare = [primitive for mesh in header.get("meshes", []) for primitive in mesh.get("primitives", [])
            if "COLOR_0" in primitive.get("attributes", {}) and "material" not in primitive]
    if not bare:
        return trimesh.load(str(path), force="scene", **kwargs)
    materials = header.setdefault("materials", [])
    for primitive in bare:
        primitive["material"] = len(materials)
    materials.append({})  # no factor: white, so COLOR_0 alone gives the colour
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 4)
    if path.suffix.lower() == ".gltf":
        resolver = trimesh.resolvers.FilePathResolver(path)
        return trimesh.load(io.BytesIO(text), file_type="gltf", force="scene", resolver=resolver, **kwargs)
    with open(path, "rb") as f:
        f.seek(12)
        f.seek(20 + struct.unpack("<I", f.read(4))[0])
        body = struct.pack("<I4s", len(text), b"JSON") + text + f.read()
    glb = struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body
    return trimesh.load(io.BytesIO(glb), file_type="glb", force="scene", **kwargs)


def _why_not_step(path: Path) -> str:
    other = sniff(path)
    if other not in (None, "STEP"):
        return f"it is {with_article(other)} file"
    if other is None:
        return "it does not begin with 'ISO-10303-21'"
    with open(path, "rb") as f:
        f.seek(max(0, path.stat().st_size - 1024))
        if b"END-ISO-10303-21" not in f.read():
            return "it is truncated: it does not end with 'END-ISO-10303-21;'"
    return "its data is damaged or holds no shapes"


def _explain(exc: Exception) -> str:
    """What a reader's exception means, in plain words (its text is often empty or cryptic)."""
    text = " ".join(str(exc).split())
    kind = type(exc).__name__
    if isinstance(exc, MemoryError):
        return "the file asks for more memory than is free: it is damaged, or far too large"
    if isinstance(exc, zipfile.BadZipFile):
        return f"{DAMAGED}: 3MF files are ZIP archives and this is not a complete one"
    if isinstance(exc, UnicodeDecodeError):
        return "the file is damaged: it holds bytes that are not text where text belongs"
    if isinstance(exc, FileNotFoundError):
        return f"it needs the file {Path(exc.filename or text).name!r}, which is missing"
    if isinstance(exc, OSError) and exc.strerror:
        return f"cannot open it: {exc.strerror}"
    if isinstance(exc, (struct.error, EOFError)) or "unpack" in text or "buffer is smaller" in text:
        return f"{DAMAGED}: it ends before the data it announces"
    if "reshape" in text:
        return f"{DAMAGED}: an accessor asks for more data than the file holds"
    if isinstance(exc, (IndexError, KeyError)):
        return f"the file is damaged: it refers to an entry it does not hold ({kind}: {text})"
    if isinstance(exc, AssertionError) or not text:
        detail = f"{kind}: {text}" if text else kind
        return f"the file is damaged: the reader's consistency check failed ({detail})"
    return f"cannot read mesh: {text}"


def _scale(scene: trimesh.Scene, units: str | None) -> tuple[float, str]:
    """Metres per file unit, and a note of how it was decided."""
    if units is not None:
        return UNITS[units], f"{units} (declared)"
    if scene.units:
        try:
            return trimesh.units.unit_conversion(scene.units, "meters"), f"{scene.units} (from file)"
        except Exception:  # an unknown unit string in the file: fall through to a guess
            pass
    if float(np.max(scene.extents)) > _GUESS_MM_ABOVE:
        return 1e-3, "mm (guessed from size)"
    return 1.0, "m (guessed from size)"


def _assembly_from_scene(scene: trimesh.Scene, name: str, scale: float, label: str,
                         linear: bool = False, header: dict | None = None) -> Assembly:
    factors = _exact_factors(header)
    graph = scene.graph
    children: dict[str, list[tuple[str, np.ndarray, object]]] = {}
    for parent, child, data in graph.to_edgelist():
        children.setdefault(parent, []).append((child, data.get("matrix", np.eye(4)), data.get("geometry")))
    if header is not None:  # glTF: children in the file's order (trimesh's graph reverses them)
        order = {node.get("name"): i for i, node in enumerate(header.get("nodes", [])) if isinstance(node, dict)}
        for nodes in children.values():
            nodes.sort(key=lambda child: order.get(child[0], len(order)))

    def geometry(key):
        geom = scene.geometry.get(key)
        if not isinstance(geom, trimesh.Trimesh) or not len(geom.faces):
            return None
        # float32 and int32, as VTK draws them: half the memory of trimesh's arrays
        return ((np.asarray(geom.vertices) * scale).astype(np.float32), np.asarray(geom.faces, dtype=np.int32),
                _vertex_colors(geom, linear, factors))

    return assemble(children, graph.base_frame, geometry, name, scale, label)


def _vertex_colors(mesh: trimesh.Trimesh, linear: bool = False, factors: dict | None = None) -> np.ndarray:
    """Per-vertex display (sRGB) RGB from the file's vertex colours, face colours,
    material and texture. ``linear``: the file's colours are linear light (glTF), so
    the colour is baseColorFactor x COLOR_0 x texture (itself sRGB), multiplied in
    linear light and then encoded as sRGB."""
    n = len(mesh.vertices)
    visual = mesh.visual
    try:
        if visual.kind == "texture":
            material = getattr(visual, "material", None)
            image = getattr(material, "image", None) or getattr(material, "baseColorTexture", None)
            texture = None
            if image is not None and visual.uv is not None and len(visual.uv) == n:
                texture = np.asarray(visual.to_color().vertex_colors)[:, :3]  # sampled, sRGB
            if not linear:
                if texture is not None:
                    return texture.astype(np.uint8)
                base = _material_color(material)
                return np.tile(DEFAULT_COLOR if base is None else _to_uint8(base), (n, 1))
            factor = _material_color(material, factors, linear=True)
            color0 = visual.vertex_attributes.get("color")
            color0 = None if color0 is None or len(color0) != n else _to_float(color0)[:, :3]
            if factor is None and color0 is None and texture is None:
                return np.tile(DEFAULT_COLOR, (n, 1))
            rgb = np.ones((n, 3)) * (1.0 if factor is None else factor)
            if color0 is not None:
                rgb *= color0
            if texture is not None:
                rgb *= srgb_to_linear(texture / 255.0)
            return linear_to_srgb8(np.clip(rgb, 0.0, 1.0))
        if visual.kind in ("vertex", "face"):
            rgb = np.asarray(visual.vertex_colors)[:, :3]
            if len(rgb) == n:
                return linear_to_srgb8(rgb / 255.0) if linear else rgb.astype(np.uint8)
    except MemoryError:  # not the material's fault: the caller needs to know
        raise
    except Exception:  # a broken material must not lose the geometry
        pass
    return np.tile(DEFAULT_COLOR, (n, 1))


def _material_color(material, factors: dict | None = None, linear: bool = False) -> np.ndarray | None:
    """The material's RGB as floats 0..1 in the file's colour space, or None.

    trimesh keeps a glTF baseColorFactor as uint8 (round(linear x 255)), which loses
    the dark sRGB shades (sRGB 7..10 all become 13): ``factors`` maps (material name,
    uint8 RGBA) to the file's exact float factor, where that is unambiguous. glTF
    (``linear``) has no colour but the factor: none means white, not trimesh's grey."""
    for attr in ("baseColorFactor",) if linear else ("baseColorFactor", "main_color", "diffuse"):
        value = getattr(material, attr, None)
        if value is not None:
            rgba = np.asarray(value).ravel()
            if factors and rgba.dtype == np.uint8 and len(rgba) == 4:
                exact = factors.get((getattr(material, "name", None), tuple(int(c) for c in rgba)))
                if exact is not None:
                    return exact[:3]
            return _to_float(rgba)[:3]
    return None


def _exact_factors(header: dict | None) -> dict:
    """(name, uint8 RGBA as trimesh stores it) -> the exact float baseColorFactor of
    each of the glTF's materials; keys that two different factors share are left out."""
    found: dict = {}
    for material in (header or {}).get("materials", []):
        if not isinstance(material, dict):
            continue
        try:
            factor = np.asarray(material["pbrMetallicRoughness"]["baseColorFactor"], dtype=float)
            if factor.shape != (4,) or not np.isfinite(factor).all():
                continue
        except (KeyError, TypeError, ValueError):
            continue
        key = (material.get("name"), tuple(int(c) for c in np.round(np.clip(factor, 0, 1) * 255)))
        found[key] = factor if key not in found or np.array_equal(found[key], factor) else None
    return {key: factor for key, factor in found.items() if factor is not None}


def _to_float(colors) -> np.ndarray:
    """Colours as floats 0..1: integer arrays are scaled by their type's maximum."""
    colors = np.asarray(colors)
    if colors.dtype.kind in "iu":
        return colors.astype(float) / np.iinfo(colors.dtype).max
    return colors.astype(float)


def _to_uint8(rgb) -> np.ndarray:
    return np.round(np.clip(np.asarray(rgb, dtype=float), 0.0, 1.0) * 255).astype(np.uint8)

"""Geometry in: CAD files become an :class:`Assembly` of named :class:`Part` objects.

This layer knows numpy and trimesh only: which parts there are, their shape, their
parent, and where each part's frame (its pivot) sits. It knows nothing of signals,
VTK or Qt.
"""

from meshes.assembly import Assembly, Part
from meshes.formats import SUPPORTED_SUFFIXES, MeshImportError
from meshes.transforms import rotation, translation


def __getattr__(name):
    # The importer loads trimesh (0.4 s): only code that imports files in this process
    # pays for it; the window and the command line import in a child (meshes.isolated).
    if name == "load_assembly":
        from meshes.importer import load_assembly

        return load_assembly
    raise AttributeError(f"module 'meshes' has no attribute {name!r}")

__all__ = [
    "Assembly",
    "Part",
    "SUPPORTED_SUFFIXES",
    "MeshImportError",
    "load_assembly",
    "rotation",
    "translation",
]
